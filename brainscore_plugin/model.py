"""A converted tnn zoo model as a Brain-Score model, on Keras' PyTorch backend.

`get_model(identifier)` loads `<identifier>.keras` (written by `tnn-convert`,
see README.md) from this folder, or the file named by the environment
variable `TNN_BRAINSCORE_MODEL`; re-presents it with the neural
presentation (26 steps of 10 ms, image off after 100 ms); and wraps it in
`tnn.brainscore.TNNBrainModel` with the region -> node commitments of
`region_layer_map/<identifier>.json` (Brain-Score's file convention).
Edit the settings below for another model.
"""

import json
import os

# Keras reads its backend when it is first imported: choose PyTorch first.
os.environ.setdefault("KERAS_BACKEND", "torch")

IDENTIFIER = "tnn_rgc_intermediate"
HERE = os.path.dirname(os.path.abspath(__file__))
VISUAL_DEGREES = 8          # the visual angle the model's input spans
PRESENTATION = {"times": 26, "image_off": 10}   # tnn's "neural" preset
FEATURES = {"reduction": "projection", "dims": 1024, "seed": 0}
BIBTEX = """@inproceedings{nayebi2018task,
  title={Task-Driven Convolutional Recurrent Models of the Visual System},
  author={Nayebi, Aran and Bear, Daniel and Kubilius, Jonas and Kar, Kohitij
          and Ganguli, Surya and Sussillo, David and DiCarlo, James J and
          Yamins, Daniel L},
  booktitle={Advances in Neural Information Processing Systems},
  year={2018}}"""


def model_path(identifier):
    return os.environ.get("TNN_BRAINSCORE_MODEL",
                          os.path.join(HERE, f"{identifier}.keras"))


def region_layers(identifier):
    path = os.path.join(HERE, "region_layer_map", f"{identifier}.json")
    with open(path) as handle:
        return json.load(handle)


def load_graph(path):
    """The TNNGraph in `path`, rebuilt with PRESENTATION."""
    import keras

    import tnn

    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist; convert a "
                         "checkpoint with tnn-convert (README.md).")
    saved = keras.saving.load_model(path, compile=False)
    if not isinstance(saved, tnn.TNNGraph):
        raise ValueError(f"{path!r} holds a {type(saved).__name__}, not a "
                         "tnn.TNNGraph.")
    config = dict(saved.get_config(), **PRESENTATION)
    graph = tnn.TNNGraph.from_config(config)
    graph.set_weights(saved.get_weights())
    return graph


def get_model(identifier):
    assert identifier == IDENTIFIER, identifier
    from tnn.brainscore import make_brain_model

    return make_brain_model(
        load_graph(model_path(identifier)), identifier=identifier,
        region_layers=region_layers(identifier),
        visual_degrees=VISUAL_DEGREES, **FEATURES)


def get_bibtex(identifier):
    return BIBTEX
