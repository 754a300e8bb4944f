"""Saved models for the entry points: a `TNNGraph` in a `.keras` file.

`python -m training.convert_tf1` (a converted zoo checkpoint) and
`model.save("x.keras")` write a whole `TNNGraph` (architecture, weights,
presentation); a converted decoder model (`_tmaxconf`, `_dthresh`) also
writes `x.decoder.keras`, a `keras.Sequential` over the logits `[B, T, K]`.
`training.evaluate --model_file` and `training.fit_neural --weights` read
them here. A `.weights.h5` file holds only weights: it needs the
architecture built first (`--model`).
"""

import os

import keras

import tnn  # noqa: F401  (registers the layers and cells to deserialize)
from tnn.graphs.tnn_graph import TNNGraph
from tnn.zoo import registry
from tnn.zoo.presets import PRESENTATIONS

MODEL_SUFFIX = ".keras"
DECODER_SUFFIX = ".decoder.keras"


def is_model_file(path):
    """True for a `.keras` file name (not a `.weights.h5` one)."""
    return path is not None and os.fspath(path).endswith(MODEL_SUFFIX)


def decoder_file(path):
    """`x.decoder.keras` next to `x.keras` if it exists, else None."""
    path = os.fspath(path)
    candidate = path[:-len(MODEL_SUFFIX)] + DECODER_SUFFIX
    if path.endswith(DECODER_SUFFIX) or not os.path.isfile(candidate):
        return None
    return candidate


def _load(path, flag):
    path = os.fspath(path)
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(f"{flag} {path!r} is not a .keras model file; "
                         f"write one with `python -m training.convert_tf1` "
                         f"or model.save('x.keras').")
    if not os.path.isfile(path):
        raise ValueError(f"{flag} {path!r} does not exist.")
    try:
        return keras.saving.load_model(path, compile=False)
    except (ValueError, TypeError, KeyError, OSError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{flag} {path!r} cannot be loaded ({first}); is it "
                         f"a .keras file written by keras 3?") from None


def load_model_file(path, flag="--model_file", **overrides):
    """The `TNNGraph` saved in a `.keras` file.

    Args:
        path: the `.keras` file.
        flag: how the caller names the path (error messages).
        **overrides: `TNNGraph` arguments to change (`times`, `image_off`,
            `input_shape`): the model is rebuilt with them and the same
            weights.
    """
    saved = _load(path, flag)
    if not isinstance(saved, TNNGraph):
        raise ValueError(f"{flag} {os.fspath(path)!r} holds a "
                         f"{type(saved).__name__}, not a tnn.TNNGraph; pass "
                         f"a model saved from tnn (its decoder goes to "
                         f"--decoder_file).")
    if not overrides:
        return saved
    config = saved.get_config()
    config.update(overrides)
    model = TNNGraph.from_config(config)
    try:
        model.set_weights(saved.get_weights())
    except ValueError as err:
        first = str(err).strip().splitlines()[0]
        raise ValueError(
            f"the weights of {flag} {os.fspath(path)!r} do not fit "
            f"{overrides} ({first}); keep the saved input_shape "
            f"{tuple(saved.graph_input_shape)}.") from None
    return model


def load_decoder_file(path, model, flag="--decoder_file"):
    """A decoder model over `model`'s logits `[B, T, K]`, checked."""
    decoder = _load(path, flag)
    if isinstance(decoder, TNNGraph):
        raise ValueError(f"{flag} {os.fspath(path)!r} holds a TNNGraph, not "
                         f"a decoder; pass the <model>.decoder.keras file.")
    expected = (model.times,) + tuple(model.output_shapes[model.spec.output])
    got = tuple(decoder.inputs[0].shape[1:]) if getattr(
        decoder, "inputs", None) else None
    if got is not None and got != expected:
        raise ValueError(f"{flag} {os.fspath(path)!r} reads logits of shape "
                         f"{got}, but the model gives {expected} [T, K]; "
                         f"pass the decoder converted with this model.")
    return decoder


def check_model_flags(model, image_size):
    """Checks `--model` and `--image_size` of `training.fit_neural`."""
    if image_size is not None and (isinstance(image_size, bool) or not
                                   isinstance(image_size, int) or
                                   image_size < 1):
        raise ValueError(f"--image_size must be a positive int, got "
                         f"{image_size!r}.")
    if model and model not in registry.list_models():
        raise ValueError(f"--model {model!r} is not a registered model; use "
                         f"one of {registry.list_models()}.")


def neural_model(path, image_size=None, flag="--weights"):
    """The model of a `.keras` file with the neural presentation (26 steps,
    image off at 10), at its saved size or `image_size`."""
    size = {} if image_size is None else {
        "input_shape": (image_size, image_size, 3)}
    return load_model_file(path, flag, **PRESENTATIONS["neural"], **size)


def load_weights_into(model, path, flag="--weights"):
    """Copies the weights of the model in a `.keras` file into `model`.

    By order and shape, not by layer name: Keras' `load_weights` of a
    `.keras` file matches auto-generated layer names, which differ between
    two builds of one architecture in a process. Returns `model`.
    """
    saved = _load(path, flag)
    source, target = saved.get_weights(), model.get_weights()
    if len(source) != len(target) or any(
            a.shape != b.shape for a, b in zip(source, target)):
        shape = getattr(saved, "graph_input_shape", None)
        raise ValueError(
            f"weights {os.fspath(path)!r} do not fit model {model.name!r} "
            f"(the file holds {saved.name!r} for inputs {shape}); build the "
            f"architecture they were saved from, at that size, or pass the "
            f".keras file alone.")
    model.set_weights(source)
    return model
