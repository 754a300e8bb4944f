"""Decoder registry: `get_decoder(name, **kwargs)` and `list_decoders()`."""

from tnn.readouts.base import TemporalDecoder
from tnn.readouts.confidence_weighted import ConfidenceWeightedDecoder
from tnn.readouts.conv1d import Conv1DDecoder
from tnn.readouts.last import LastDecoder
from tnn.readouts.learned_weights import LearnedWeightsDecoder
from tnn.readouts.max_confidence import MaxConfidenceDecoder
from tnn.readouts.mlp import MLPDecoder
from tnn.readouts.threshold import ThresholdDecoder
from tnn.readouts.time_max import TimeMaxDecoder
from tnn.readouts.uniform import UniformDecoder
from tnn.readouts.weighted_average import WeightedAverageDecoder

# name -> (class, preset kwargs). Names follow §6 (`convrnns` decoders.py).
_DECODERS = {
    "last": (LastDecoder, {}),
    "average": (UniformDecoder, {"reduction": "mean"}),
    "sum": (UniformDecoder, {"reduction": "sum"}),
    "w_avg": (WeightedAverageDecoder, {}),
    "w_avg_t": (LearnedWeightsDecoder, {}),
    "w_time_avg": (ConfidenceWeightedDecoder, {}),
    "max_conf": (MaxConfidenceDecoder, {}),
    "time_max": (TimeMaxDecoder, {}),
    "threshold": (ThresholdDecoder, {}),
    "mlp": (MLPDecoder, {}),
    "conv1d": (Conv1DDecoder, {}),
}

# Original / zoo spellings. The zoo's `tmaxconf` is `max_conf` built with
# `trainable=True` (convrnns `loader.MODEL_TO_KWARGS`): its β
# (`normalize/softmax_beta`) is trainable and starts at
# `tf.initializers.random_uniform`, U[0, 1) (convrnns `decoders.softmax`);
# `dthresh` is `thresh` with everything fixed.
_ALIASES = {
    "simple": ("last", {}),
    "simple_linear": ("last", {"normalization": "linear"}),
    "simple_soft": ("last", {"normalization": "softmax"}),
    "mean": ("average", {}),
    "uniform": ("average", {}),
    "tmaxconf": ("max_conf", {"trainable_beta": True}),
    "thresh": ("threshold", {}),
    "dthresh": ("threshold", {}),
}

# Decoders whose output depends on learned weights (not just β scalars).
LEARNED = ("w_avg_t", "mlp", "conv1d")


def list_decoders(include_aliases=False):
    """Sorted decoder names (optionally with the original's aliases)."""
    names = list(_DECODERS)
    if include_aliases:
        names += list(_ALIASES)
    return sorted(names)


def resolve_decoder_name(name):
    """Canonical name and preset kwargs of a name or alias."""
    if not isinstance(name, str):
        raise ValueError(f"A decoder name must be a string, got {name!r}.")
    key = name.strip().lower()
    preset = {}
    if key in _ALIASES:
        key, preset = _ALIASES[key]
    if key not in _DECODERS:
        raise ValueError(
            f"Unknown decoder {name!r}; available decoders: "
            f"{', '.join(list_decoders())} (aliases: "
            f"{', '.join(sorted(_ALIASES))}).")
    cls, base = _DECODERS[key]
    return key, cls, {**base, **preset}


def get_decoder(name, /, **kwargs):
    """Builds a temporal decoder layer.

    Args:
        name: a name from `list_decoders(include_aliases=True)`, or a
            `TemporalDecoder` instance (returned as is; no kwargs then).
        **kwargs: constructor arguments (window `start`/`end`, `beta`,
            `hidden_units`, layer `name`, ...), overriding the presets.

    Returns:
        A `TemporalDecoder` mapping logits `[B, T, K]` to `[B, K]`.
    """
    if isinstance(name, TemporalDecoder):
        if kwargs:
            raise ValueError(f"get_decoder got a decoder instance and extra "
                             f"arguments {sorted(kwargs)}; configure the "
                             f"instance directly instead.")
        return name
    _, cls, preset = resolve_decoder_name(name)
    return cls(**{**preset, **kwargs})
