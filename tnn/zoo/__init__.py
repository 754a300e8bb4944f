"""The convrnns model zoo: the one owner of its knowledge, as data tables.

- `shallow`, `intermediate`, `layers`: the 14 architectures (§4), with the
  zoo's cell settings (`shallow.RGC_SETTINGS`, `shallow.LSTM_NPZ_CELLS`,
  `intermediate.MEDIAN_RGC_CONFIG`, ...);
- `registry`: `create_model`, `list_models`, `model_spec`,
  `register_model`;
- `presets`: the presentation presets ("default", "neural", "constant");
- `released`: the 20 released checkpoints and their decoder suffixes;
- `small_models`: small ConvRNNs and feedforward controls for the demo.
"""

from tnn.zoo.intermediate import intermediate_spec, rgc_intermediate_spec
from tnn.zoo.shallow import shallow_spec

__all__ = ["shallow_spec", "intermediate_spec", "rgc_intermediate_spec"]
