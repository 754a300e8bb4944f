"""Shared helpers of the original-JSON importer (`tnn.interop.tnn_json`).

Argument checking against the original functions' signatures and the
translation of TF1 argument conventions (`ksize`, 4-element `strides`,
`model_tool.initializer(kind, **kwargs)`) into plain layer-spec values.
"""

import numbers

from tnn.graphs.spec import GraphSpecError


class TNNJSONError(GraphSpecError):
    """An original tnn / convrnns JSON graph that cannot be imported."""


def fail(where, message):
    """Raises `TNNJSONError` with the location prefixed."""
    raise TNNJSONError(f"{where}: {message}")


def check_kwargs(kwargs, defaults, where, fixed=None, required=()):
    """Merges `kwargs` into the original function's defaults.

    Args:
        kwargs: the JSON kwargs (without "function").
        defaults: {argument: default} of the original function.
        where: location for messages.
        fixed: {argument: allowed values}: arguments the original accepts
            but this importer supports only with these values.
        required: arguments without a default.

    Returns:
        dict of every argument in `defaults` (and `required`).
    """
    fixed = fixed or {}
    known = set(defaults) | set(fixed) | set(required)
    unknown = sorted(set(kwargs) - known)
    if unknown:
        fail(where, f"unknown argument(s) {unknown}; the original accepts "
                    f"{sorted(known)}.")
    missing = [k for k in required if k not in kwargs]
    if missing:
        fail(where, f"missing required argument(s) {missing}.")
    for key, allowed in fixed.items():
        if key in kwargs and kwargs[key] not in allowed:
            fail(where, f"{key}={kwargs[key]!r} is not supported; this "
                        f"importer supports {key} in {list(allowed)} only.")
    merged = dict(defaults)
    merged.update({k: v for k, v in kwargs.items() if k in known})
    return merged


def positive_int(value, where, what):
    """An int >= 1 (floats with an integral value, as TF1 configs store
    them, are accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            int(value) != value or value < 1):
        fail(where, f"{what} must be a positive integer, got {value!r}.")
    return int(value)


def nonnegative_int(value, where, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            int(value) != value or value < 0):
        fail(where, f"{what} must be an integer >= 0, got {value!r}.")
    return int(value)


def number(value, where, what, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(where, f"{what} must be a number, got {value!r}.")
    return float(value)


def boolean(value, where, what):
    if not isinstance(value, bool):
        fail(where, f"{what} must be true or false, got {value!r}.")
    return value


def ksize(value, where, what="ksize"):
    """The original `ksize`: an int/float n → (n, n), or a pair; returns an
    int when square (as the zoo tables write it)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            fail(where, f"{what} must be an int or [height, width], got "
                        f"{value!r}.")
        pair = tuple(positive_int(v, where, what) for v in value)
    else:
        pair = (positive_int(value, where, what),) * 2
    return pair[0] if pair[0] == pair[1] else list(pair)


def window4(value, where, what):
    """TF1 4-element `ksize`/`strides` `[1, h, w, 1]` (or an int) → an int
    when square, else [h, w]."""
    if isinstance(value, (list, tuple)):
        if len(value) != 4 or value[0] != 1 or value[3] != 1:
            fail(where, f"{what} must be [1, h, w, 1] (NHWC), got {value!r}.")
        return ksize(list(value[1:3]), where, what)
    return ksize(value, where, what)


def padding(value, where):
    if not isinstance(value, str) or value.upper() not in ("SAME", "VALID"):
        fail(where, f"padding must be 'SAME' or 'VALID', got {value!r}.")
    return value.lower()


# tf.nn activation names the importer maps onto Keras activations.
ACTIVATIONS = ("elu", "relu", "relu6", "selu", "softplus", "sigmoid", "tanh",
               "swish", "identity")


def activation(value, where, what="activation"):
    """An activation name of `tf.nn` (or None, linear)."""
    if value is None:
        return None
    if value not in ACTIVATIONS:
        fail(where, f"{what}={value!r} is not supported; use one of "
                    f"{list(ACTIVATIONS)} or null.")
    return None if value == "identity" else value


def _variance_scaling(where, scale=1.0, mode="FAN_IN", distribution="normal",
                      seed=None, dtype=None):
    modes = {"fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "fan_avg"}
    dists = {"normal": "truncated_normal",
             "truncated_normal": "truncated_normal",
             "untruncated_normal": "untruncated_normal",
             "uniform": "uniform"}
    mode_key = str(mode).lower()
    if mode_key not in modes or distribution not in dists:
        fail(where, f"variance_scaling mode={mode!r} / distribution="
                    f"{distribution!r} are not supported.")
    return {"class_name": "VarianceScaling",
            "config": {"scale": number(scale, where, "scale"),
                       "mode": modes[mode_key],
                       "distribution": dists[distribution]}}


def _xavier(where, uniform=True, seed=None, dtype=None):
    if uniform:
        return {"class_name": "GlorotUniform", "config": {}}
    return {"class_name": "VarianceScaling",
            "config": {"scale": 1.0, "mode": "fan_avg",
                       "distribution": "truncated_normal"}}


def _normal_init(where, mean=0.0, stddev=1.0, seed=None, dtype=None):
    return {"mean": number(mean, where, "mean"),
            "stddev": number(stddev, where, "stddev")}


# `model_tool.initializer(kind, **kwargs)`: "xavier", "normal" (the
# EfficientNet fan-out normal) or `tf.<kind>_initializer`. Seeds are dropped:
# in TF1 equal seeds give equal draws for equal shapes, which would tie
# weights together here; seed Keras globally instead.
_INITIALIZERS = {
    "xavier": _xavier,
    "normal": lambda where: {
        "class_name": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_out",
                   "distribution": "untruncated_normal"}},
    "variance_scaling": _variance_scaling,
    "glorot_uniform": lambda where, seed=None, dtype=None: {
        "class_name": "GlorotUniform", "config": {}},
    "glorot_normal": lambda where, seed=None, dtype=None: {
        "class_name": "GlorotNormal", "config": {}},
    "random_normal": lambda where, **kw: {
        "class_name": "RandomNormal", "config": _normal_init(where, **kw)},
    "truncated_normal": lambda where, **kw: {
        "class_name": "TruncatedNormal", "config": _normal_init(where, **kw)},
    "random_uniform": lambda where, minval=0.0, maxval=None, seed=None,
    dtype=None: {
        "class_name": "RandomUniform",
        "config": {"minval": number(minval, where, "minval"),
                   "maxval": number(1.0 if maxval is None else maxval,
                                    where, "maxval")}},
    "constant": lambda where, value=0.0, dtype=None, verify_shape=None: {
        "class_name": "Constant",
        "config": {"value": number(value, where, "value")}},
    "zeros": lambda where, dtype=None: {"class_name": "Zeros", "config": {}},
    "ones": lambda where, dtype=None: {"class_name": "Ones", "config": {}},
    "orthogonal": lambda where, gain=1.0, seed=None, dtype=None: {
        "class_name": "Orthogonal",
        "config": {"gain": number(gain, where, "gain")}},
}


def initializer(kind, kwargs, where, what="kernel_init"):
    """`model_tool.initializer(kind, **kwargs)` as a serialized Keras
    initializer dict."""
    if kind not in _INITIALIZERS:
        fail(where, f"{what}={kind!r} is not supported; use one of "
                    f"{sorted(_INITIALIZERS)}.")
    kwargs = dict(kwargs or {})
    try:
        return _INITIALIZERS[kind](where, **kwargs)
    except TypeError:
        fail(where, f"bad {what} arguments {kwargs!r} for {kind!r}.")


def weight_decay(value, where, what="weight_decay"):
    """A weight decay: a number, with 0 and None meaning none (None)."""
    value = number(value, where, what, allow_none=True)
    return None if not value else value
