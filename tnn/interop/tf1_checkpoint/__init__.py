"""TF1 checkpoint → Keras weights for the convrnns zoo models (reference §8).

    from tnn.interop.tf1_checkpoint import from_tf1_checkpoint
    model = from_tf1_checkpoint("ckpts/rgc_shallow/model.ckpt", "rgc_shallow")

Command line: `python -m training.convert_tf1 --ckpt PREFIX --model NAME
--out model.keras`.
"""

from tnn.interop.tf1_checkpoint.checkpoint import (
    CheckpointMismatchError, from_tf1_checkpoint, load_tf1_weights)
from tnn.interop.tf1_checkpoint.names import (
    UnmappedWeightError, VariableMap, variable_map)
from tnn.zoo.released import make_decoder, split_model_name

__all__ = ["from_tf1_checkpoint", "load_tf1_weights", "variable_map",
           "VariableMap", "CheckpointMismatchError", "UnmappedWeightError",
           "make_decoder", "split_model_name"]
