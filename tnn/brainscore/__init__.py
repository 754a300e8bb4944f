"""Brain-Score adapter: any TNNGraph as a Brain-Score `BrainModel`.

    from tnn.brainscore import TNNBrainModel
    brain_model = TNNBrainModel(model, region_layers={"IT": "conv5"},
                                visual_degrees=8)

- `adapter`: `TNNBrainModel` (recordings, behaviour, commitments) and
  `make_brain_model` (the same, as a `brainscore_vision` BrainModel);
- `timing`: time bins in ms -> model steps (10 ms per step, onset,
  latency, extension of the presentation);
- `placement`: visual degrees -> pixels with gray padding, image files;
- `readout`: the logistic-regression behavioural readout;
- `commitment`: region -> node from `tnn.neural.layer_sweep` on the
  user's data;
- `assemblies`: numpy -> Brain-Score assemblies (the only module that
  needs Brain-Score, imported when called: `pip install 'tnn[brainscore]'`).

The Brain-Score plugin template is `brainscore_plugin/` in the repository.
"""

from tnn.brainscore.adapter import Recording
from tnn.brainscore.adapter import TNNBrainModel
from tnn.brainscore.adapter import make_brain_model
from tnn.brainscore.commitment import commit_regions
from tnn.brainscore.placement import place_on_screen
from tnn.brainscore.placement import read_image
from tnn.brainscore.readout import LogisticReadout
from tnn.brainscore.readout import StepReadout
from tnn.brainscore.timing import PresentationExtendedWarning
from tnn.brainscore.timing import time_bin_weights

__all__ = [
    "LogisticReadout", "PresentationExtendedWarning", "Recording",
    "StepReadout", "TNNBrainModel", "commit_regions", "make_brain_model",
    "place_on_screen", "read_image", "time_bin_weights",
]
