"""Small shared helpers: initializers, TF1-style weight decay, activations.

Everything string-valued goes through an explicit table that passes
callables and Keras objects through unchanged.
"""

import keras

# TF1's `tf.variance_scaling_initializer()` defaults (scale 1, fan_in,
# truncated normal); "xavier" is TF1's `xavier_initializer` (glorot uniform).
_INITIALIZERS = {
    "variance_scaling": lambda **kw: keras.initializers.VarianceScaling(
        **{"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
           **kw}),
    "xavier": lambda **kw: keras.initializers.GlorotUniform(**kw),
    "glorot_uniform": lambda **kw: keras.initializers.GlorotUniform(**kw),
    "zeros": lambda **kw: keras.initializers.Zeros(),
    "ones": lambda **kw: keras.initializers.Ones(),
    "random_normal": lambda **kw: keras.initializers.RandomNormal(**kw),
    "truncated_normal": lambda **kw: keras.initializers.TruncatedNormal(**kw),
    "random_uniform": lambda **kw: keras.initializers.RandomUniform(**kw),
    "he_normal": lambda **kw: keras.initializers.HeNormal(**kw),
    "orthogonal": lambda **kw: keras.initializers.Orthogonal(**kw),
}


def get_initializer(init, **kwargs):
    """Returns a Keras initializer.

    Args:
        init: an initializer object (copied), a serialized initializer dict,
            a name in
            the table above (TF1 names included), a number (constant), or None
            (zeros).
        **kwargs: keyword arguments for a named initializer (e.g. `stddev`).
    """
    if init is None:
        return keras.initializers.Zeros()
    if isinstance(init, keras.initializers.Initializer):
        # A fresh copy: Keras draws the same values each time one unseeded
        # initializer object is reused, which would tie weights together.
        return keras.initializers.deserialize(
            keras.initializers.serialize(init))
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return keras.initializers.Constant(float(init))
    if isinstance(init, dict):
        return keras.initializers.deserialize(init)
    if isinstance(init, str):
        if init in _INITIALIZERS:
            return _INITIALIZERS[init](**kwargs)
        try:
            return keras.initializers.get(init)
        except ValueError:
            raise ValueError(
                f"Unknown initializer {init!r}; use one of "
                f"{sorted(_INITIALIZERS)} or any Keras initializer name."
            ) from None
    if callable(init):
        return init
    raise ValueError(f"Cannot interpret initializer {init!r}.")


def tf1_l2(weight_decay):
    """Keras L2 regularizer equal to TF1's `l2_regularizer(weight_decay)`.

    TF1 adds `s * sum(w**2) / 2`; Keras `L2(l)` adds `l * sum(w**2)`, so
    `l = s / 2`. Returns None for a zero or missing weight decay.
    """
    if weight_decay is None or float(weight_decay) == 0.0:
        return None
    if float(weight_decay) < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}.")
    return keras.regularizers.L2(float(weight_decay) / 2.0)


_ACTIVATIONS = ("linear", "identity", "relu", "elu", "tanh", "sigmoid",
                "swish", "silu", "gelu", "softplus", "relu6", "selu")


def get_activation(activation):
    """Resolves an activation name (or callable, or None = identity)."""
    if activation is None or activation in ("linear", "identity"):
        return keras.activations.linear
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in _ACTIVATIONS:
        return keras.activations.get(activation)
    raise ValueError(
        f"Unknown activation {activation!r}; use one of {_ACTIVATIONS} or a "
        f"callable."
    )


def as_pair(value, name):
    """Normalizes an int or a length-2 sequence to a tuple of two ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    else:
        try:
            pair = tuple(int(v) for v in value)
        except TypeError:
            raise ValueError(f"{name} must be an int or a pair of ints, "
                             f"got {value!r}.") from None
    if len(pair) != 2 or min(pair) < 1:
        raise ValueError(f"{name} must be positive (an int or a pair), "
                         f"got {value!r}.")
    return pair


def check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, "
                         f"got {value!r}.")
    return value


# Image normalisation (reference §5.1): ImageNet mean / std per channel.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# For single-channel images: the averages of the ImageNet constants.
GRAYSCALE_MEAN = (sum(IMAGENET_MEAN) / 3.0,)
GRAYSCALE_STD = (sum(IMAGENET_STD) / 3.0,)


def normalization_constants(channels, mean=None, std=None):
    """Checked per-channel `(mean, std)` tuples for `channels`-channel images.

    Args:
        channels: 1 or 3.
        mean, std: per-channel constants (length C, or 1 to broadcast);
            None: `IMAGENET_MEAN` / `IMAGENET_STD` for 3 channels,
            `GRAYSCALE_MEAN` / `GRAYSCALE_STD` for 1 channel.
    """
    if mean is None:
        mean = IMAGENET_MEAN if channels == 3 else GRAYSCALE_MEAN
    if std is None:
        std = IMAGENET_STD if channels == 3 else GRAYSCALE_STD
    mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
    for values, label in ((mean, "mean"), (std, "std")):
        if len(values) not in (1, channels):
            raise ValueError(
                f"{label} must have 1 or {channels} entries for "
                f"{channels}-channel images, got {values!r}.")
    if min(std) <= 0:
        raise ValueError(f"std must be positive, got {std!r}.")
    return mean, std
