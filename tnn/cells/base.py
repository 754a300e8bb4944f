"""Shared base of the tnn recurrent cells.

A cell is a `keras.layers.Layer` that advances one time step of a local
recurrent circuit on NHWC feature maps:

    output, new_states = cell(inputs, states, training=None)

`states` is a list of tensors (see `state_shapes`); the zero state comes
from `get_initial_state`. Cells know nothing about graphs or time: the node
(`tnn.graphs.node`) feeds them and the unroller (`tnn.graphs.unroll`) owns
the time loop.

Cells that need more than the pre-memory output declare it:
    accepts_residual: `call(..., residual=u)` receives the node's
        feed-forward harbor input `u` (the input of the pre-memory conv).
    accepts_feedback: `call(..., feedback=fb)` receives the concatenated,
        resized non-feed-forward harbor inputs (None when there are none).
"""

import functools
import inspect

import keras
from keras import ops

from tnn import utils


class RecurrentCell(keras.layers.Layer):
    """Base class: state bookkeeping and convolution helpers.

    Subclasses implement `build`, `state_shapes`, `compute_output_shape` and
    `call`. Weights are created in `build` from the input shape
    `(batch, H, W, C)`.
    """

    accepts_residual = False
    accepts_feedback = False

    def state_shapes(self, input_shape):
        """Per-example shapes (no batch axis) of the state tensors.

        Every cell defines its own; a subclass that forgets gets this
        interface error rather than a silent stateless cell.
        """
        raise TypeError(f"{type(self).__name__} subclasses RecurrentCell "
                        f"but does not define state_shapes(input_shape).")

    @property
    def state_size(self):
        """State shapes once built (Keras RNN-cell convention)."""
        if not self.built:
            raise ValueError(f"{self.name}: state_size is known only after "
                             f"build().")
        return self.state_shapes(self._built_input_shape)

    def build(self, input_shape):
        self._built_input_shape = tuple(input_shape)
        super().build(input_shape)

    def get_config(self):
        """The layer config plus every `__init__` argument of the cell.

        Cells store each constructor argument under its own name (keras-hub's
        "ideal layer"); initializer objects are serialized. A cell that
        stores its arguments otherwise overrides this.
        """
        config = super().get_config()
        config.update(init_args_config(self))
        return config

    def get_initial_state(self, batch_size, input_shape=None):
        """Zero states for `batch_size` examples."""
        shape = input_shape or getattr(self, "_built_input_shape", None)
        if shape is None:
            raise ValueError(f"{self.name}: pass input_shape or build the "
                             f"cell before asking for its initial state.")
        return [ops.zeros((batch_size,) + tuple(s), dtype=self.compute_dtype)
                for s in self.state_shapes(shape)]

    # --- helpers for subclasses -------------------------------------------

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects NHWC inputs "
                f"(rank 4), got shape {tuple(input_shape)}.")
        if input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the channel count of "
                f"its input must be known, got shape {tuple(input_shape)}.")
        return input_shape

    def _add_kernel(self, name, kernel_size, in_channels, out_channels,
                    initializer, regularizer=None):
        kh, kw = kernel_size
        return self.add_weight(
            name=name, shape=(kh, kw, int(in_channels), int(out_channels)),
            initializer=utils.get_initializer(initializer),
            regularizer=regularizer)

    def _add_bias(self, name, channels, initializer=0.0, regularizer=None):
        return self.add_weight(
            name=name, shape=(int(channels),),
            initializer=utils.get_initializer(initializer),
            regularizer=regularizer)


def conv2d(x, kernel, bias=None):
    """Stride-1 SAME convolution (TF padding: extra pad bottom/right)."""
    y = ops.conv(x, kernel, strides=1, padding="same",
                 data_format="channels_last")
    if bias is not None:
        y = y + bias
    return y


def shifted_depthwise_conv2d(x, kernel):
    """Stride-1 SAME depthwise convolution (depth multiplier 1) as a sum of
    k×k shifted, per-channel scaled copies of `x` (TF padding).

    The same function as `ops.depthwise_conv`, which XLA:CPU runs slowly
    (a 7×7 depthwise convolution of [8, 36, 36, 64]: 110 ms forward vs 6 ms
    for this sum, 268 vs 125 ms forward + gradient; benchmarks/RESULTS.md,
    "Backends").
    """
    kh, kw = int(kernel.shape[0]), int(kernel.shape[1])
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = ops.pad(x, [(0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                         (0, 0)])
    height, width = x.shape[1], x.shape[2]
    out = None
    for i in range(kh):
        for j in range(kw):
            term = padded[:, i:i + height, j:j + width, :] * kernel[i, j, :, 0]
            out = term if out is None else out + term
    return out


@functools.lru_cache(maxsize=None)
def _xla_cpu():
    if keras.backend.backend() != "jax":
        return False
    import jax
    return jax.default_backend() == "cpu"


def depthwise_conv2d(x, kernel):
    """Stride-1 SAME depthwise convolution; on JAX's CPU backend in float32
    with depth multiplier 1 as `shifted_depthwise_conv2d` (bfloat16 keeps
    the convolution, which accumulates in float32)."""
    if (int(kernel.shape[-1]) == 1 and x.shape[1] is not None
            and x.shape[2] is not None
            and keras.backend.standardize_dtype(x.dtype) == "float32"
            and _xla_cpu()):
        return shifted_depthwise_conv2d(x, kernel)
    return ops.depthwise_conv(x, kernel, strides=1, padding="same",
                              data_format="channels_last")


def depthwise_separable_conv2d(x, depthwise_kernel, pointwise_kernel,
                               bias=None):
    """Depthwise k×k then pointwise 1×1 convolution (+ bias), stride 1 SAME."""
    y = depthwise_conv2d(x, depthwise_kernel)
    y = ops.conv(y, pointwise_kernel, strides=1, padding="same",
                 data_format="channels_last")
    if bias is not None:
        y = y + bias
    return y


# --- configs ----------------------------------------------------------------

def init_args_config(layer):
    """{argument: attribute} for every `__init__` argument of `layer`.

    Initializer objects (and functions) are serialized with Keras.
    """
    params = inspect.signature(type(layer).__init__).parameters
    config = {}
    for key, param in params.items():
        if key == "self" or param.kind in (param.VAR_KEYWORD,
                                           param.VAR_POSITIONAL):
            continue
        if not hasattr(layer, key):
            raise TypeError(
                f"{type(layer).__name__}.get_config: the __init__ argument "
                f"{key!r} is not stored as self.{key}; store every argument "
                f"under its own name or override get_config().")
        value = getattr(layer, key)
        if isinstance(value, keras.initializers.Initializer) or (
                callable(value) and not isinstance(value, type)):
            value = keras.saving.serialize_keras_object(value)
        config[key] = value
    return config
