"""The convolutional update-gate RNN (UGRNN) of tnn and the model zoo."""

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells.base import RecurrentCell, conv2d


@tnn_export
class ConvUGRNNCell(RecurrentCell):
    """Conv UGRNN with a single update gate (TNN_REFERENCE §3.5):

        [g~, c~] = W * [x_t, h_{t-1}] + b          (out 2F: g first, c second)
        c = tanh(c~),  g = sigmoid(g~ + forget_bias)
        h_t = g * h_{t-1} + (1 - g) * c            (output = state)

    TF1 names (relative to `tnn_model/<node>/`): `ConvUGRNNCell/weights`
    `[kh, kw, C + F, 2F]` (in-channels: input first, then `h`) and
    `ConvUGRNNCell/bias`. Gating, no bypass.

    Deviation: the original's `layer_norm=True` path references an
    undefined variable and cannot run; no zoo model uses it. This cell has
    no layer norm and rejects `layer_norm=True`.

    Args:
        filters: state/output channels (the original's `out_depth`).
        kernel_size: int or pair, stride-1 SAME convolution.
        forget_bias: constant added to the update-gate pre-activation.
        layer_norm: must be False (kept so original configs fail clearly).
        kernel_initializer: kernel initializer (TF1 names allowed).
        bias_initializer: bias initializer (a number means a constant).
        weight_decay: TF1-convention L2 on the kernel (None/0: none).
        bias_weight_decay: TF1-convention L2 on the bias (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size=3, forget_bias=1.0,
                 layer_norm=False, kernel_initializer="variance_scaling",
                 bias_initializer=0.0, weight_decay=None,
                 bias_weight_decay=None, **kwargs):
        utils.check_positive_int(filters, "filters")
        kernel_size = utils.as_pair(kernel_size, "kernel_size")
        if isinstance(forget_bias, bool) or not isinstance(
                forget_bias, (int, float)):
            raise ValueError(
                f"forget_bias must be a number, got {forget_bias!r}.")
        if layer_norm is not False:
            raise ValueError(
                f"ConvUGRNNCell has no layer norm (the original's UGRNN layer "
                f"norm is broken and unused by the zoo); got layer_norm="
                f"{layer_norm!r}, use layer_norm=False.")
        utils.get_initializer(kernel_initializer)
        utils.get_initializer(bias_initializer)
        for name, value in (("weight_decay", weight_decay),
                            ("bias_weight_decay", bias_weight_decay)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, float)) or value < 0):
                raise ValueError(f"{name} must be a number >= 0 or None, got "
                                 f"{value!r}.")
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.forget_bias = float(forget_bias)
        self.layer_norm = layer_norm
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.weight_decay = weight_decay
        self.bias_weight_decay = bias_weight_decay

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self._add_kernel(
            "kernel", self.kernel_size, input_shape[-1] + self.filters,
            2 * self.filters, self.kernel_initializer,
            utils.tf1_l2(self.weight_decay))
        self.bias = self._add_bias(
            "bias", 2 * self.filters, self.bias_initializer,
            utils.tf1_l2(self.bias_weight_decay))
        super().build(input_shape)

    def state_shapes(self, input_shape):
        """[(H, W, filters)]: the state `h` (input_shape NHWC or HWC)."""
        return [tuple(input_shape[-3:-1]) + (self.filters,)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)

    def call(self, inputs, states, training=None):
        h = states[0]
        z = conv2d(ops.concatenate([inputs, h], axis=-1), self.kernel,
                   self.bias)
        g_pre, c_pre = ops.split(z, 2, axis=-1)
        c = ops.tanh(c_pre)
        g = ops.sigmoid(g_pre + self.forget_bias)
        new_h = g * h + (1.0 - g) * c
        return new_h, [new_h]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        return {"kernel": "ConvUGRNNCell/weights",
                "bias": "ConvUGRNNCell/bias"}

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            forget_bias=self.forget_bias, layer_norm=self.layer_norm,
            kernel_initializer=keras.saving.serialize_keras_object(
                self.kernel_initializer),
            bias_initializer=keras.saving.serialize_keras_object(
                self.bias_initializer),
            weight_decay=self.weight_decay,
            bias_weight_decay=self.bias_weight_decay)
        return config
