"""Brain-Score plugin: a converted tnn zoo model (template).

Copy this folder to `brainscore_vision/models/<name>/`, rename the
identifier below (here and in model.py) and put the model file next to
model.py (README.md, "Score a converted zoo model").
"""

from brainscore_vision import model_registry

from .model import get_model

model_registry['tnn_rgc_intermediate'] = lambda: get_model(
    'tnn_rgc_intermediate')
