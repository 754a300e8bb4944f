"""The layer norm of the original TNN cells (tf.contrib.layers.layer_norm)."""

import keras
from keras import ops

from tnn.api import tnn_export


@tnn_export
class TNNLayerNorm(keras.layers.Layer):
    """Layer norm over H, W and C jointly, with a per-channel gain and shift.

    Per example, `y = (x - mean) / sqrt(var + epsilon) * gamma + beta` where
    mean and variance are taken over all of H, W, C, and `gamma`, `beta` have
    shape `[C]`. This is TF1's `tf.contrib.layers.layer_norm` with its
    defaults (epsilon 1e-12); Keras' `LayerNormalization(axis=[1, 2, 3])`
    would instead learn `[H, W, C]` parameters.

    The statistics are those of `x - x[0]` (each example shifted by its
    first element), the same function in exact arithmetic: an input that is
    constant over H, W, C then has exactly zero deviations and variance and
    gives exactly `beta`, in every execution mode. Without the shift the
    float32 round-off of the mean of a constant (e.g. the gate
    pre-activations of a fresh cell before the image arrives: zero input
    plus a constant bias) is multiplied by `rsqrt(epsilon) = 1e6` and
    depends on the order of summation (eager, graph and XLA differed by
    O(1)); the shift also keeps nearly-constant inputs well conditioned.

    Args:
        epsilon: variance epsilon (1e-12 as in TF1 contrib).
        gain_init: initial value of gamma.
        shift_init: initial value of beta.
    """

    def __init__(self, epsilon=1e-12, gain_init=1.0, shift_init=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if float(epsilon) < 0:
            raise ValueError(f"epsilon must be >= 0, got {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.gain_init = float(gain_init)
        self.shift_init = float(shift_init)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"TNNLayerNorm '{self.name}' needs a known "
                             f"channel count, got {tuple(input_shape)}.")
        self.gamma = self.add_weight(
            name="gamma", shape=(channels,),
            initializer=keras.initializers.Constant(self.gain_init))
        self.beta = self.add_weight(
            name="beta", shape=(channels,),
            initializer=keras.initializers.Constant(self.shift_init))

    def call(self, x):
        # Statistics in float32 (epsilon 1e-12 underflows in float16).
        dtype = x.dtype
        x = ops.cast(x, "float32")
        axes = tuple(range(1, len(x.shape)))
        # Shift by each example's first element: exact zeros for a constant.
        first = x[(slice(None),) + (slice(0, 1),) * len(axes)]
        shifted = x - first
        centred = shifted - ops.mean(shifted, axis=axes, keepdims=True)
        var = ops.mean(ops.square(centred), axis=axes, keepdims=True)
        y = centred * ops.rsqrt(var + self.epsilon)
        y = y * ops.cast(self.gamma, "float32") + ops.cast(self.beta,
                                                           "float32")
        return ops.cast(y, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, gain_init=self.gain_init,
                      shift_init=self.shift_init)
        return config
