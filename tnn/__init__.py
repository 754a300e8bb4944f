"""tnn: convolutional recurrent neural networks of the ventral stream.

    import tnn
    model = tnn.create_model("rgc_shallow", input_shape=(128, 128, 3))
    logits = model(images)          # [B, T, 1000]: the readout at every step
    feats = model.unroll(images, nodes=["conv3", "conv5"])
"""

from tnn import _tf_guard

_tf_guard.apply_default_guard()

from tnn import cells  # noqa: E402
from tnn.cells import register_cell  # noqa: E402
from tnn.graphs import GraphSpec, NodeSpec, TNNGraph  # noqa: E402
from tnn.zoo.registry import (  # noqa: E402
    create_model, list_models, model_spec, register_model)

__version__ = "0.1.0"

__all__ = ["cells", "GraphSpec", "NodeSpec", "TNNGraph", "create_model",
           "list_models", "model_spec", "register_cell", "register_model"]
