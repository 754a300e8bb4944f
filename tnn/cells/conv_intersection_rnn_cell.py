"""The convolutional IntersectionRNN of tnn and the model zoo."""

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells.base import RecurrentCell, conv2d


@tnn_export
class ConvIntersectionRNNCell(RecurrentCell):
    """Conv IntersectionRNN (TNN_REFERENCE §3.6):

        [gh~, h~, gy~, y~] = W * [x_t, h_{t-1}] + b     (out 4F, this order)
        gh = sigmoid(gh~ + forget_bias),  gy = sigmoid(gy~ + forget_bias)
        h_t = gh * h_{t-1} + (1 - gh) * tanh(h~)       (state, "through time")
        y_t = gy * x_t + (1 - gy) * relu(y~)           (output, "through depth")

    The output `y_t` differs from the state `h_t`. The input must have
    `filters` channels (the input is gated into the output). At t=0 with
    zero kernels the output is `sigmoid(forget_bias) * x` (bypass).

    TF1 names (relative to `tnn_model/<node>/`):
    `ConvIntersectionRNNCell/weights` `[kh, kw, 2F, 4F]` (in-channels: input
    first, then `h`) and `ConvIntersectionRNNCell/bias`.

    Args:
        filters: state/output channels (the original's `out_depth`); must
            equal the input's channel count.
        kernel_size: int or pair, stride-1 SAME convolution.
        forget_bias: constant added to both gate pre-activations.
        kernel_initializer: kernel initializer (TF1 names allowed).
        bias_initializer: bias initializer (a number means a constant).
        weight_decay: TF1-convention L2 on the kernel (None/0: none).
        bias_weight_decay: TF1-convention L2 on the bias (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size=3, forget_bias=1.0,
                 kernel_initializer="variance_scaling", bias_initializer=0.0,
                 weight_decay=None, bias_weight_decay=None, **kwargs):
        utils.check_positive_int(filters, "filters")
        kernel_size = utils.as_pair(kernel_size, "kernel_size")
        if isinstance(forget_bias, bool) or not isinstance(
                forget_bias, (int, float)):
            raise ValueError(
                f"forget_bias must be a number, got {forget_bias!r}.")
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
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.weight_decay = weight_decay
        self.bias_weight_decay = bias_weight_decay

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        if input_shape[-1] != self.filters:
            raise ValueError(
                f"ConvIntersectionRNNCell '{self.name}' needs inputs with "
                f"filters={self.filters} channels (its input is gated into "
                f"the output), got input shape {tuple(input_shape)}; set "
                f"filters={input_shape[-1]} or change the pre-memory conv.")
        self.kernel = self._add_kernel(
            "kernel", self.kernel_size, 2 * self.filters, 4 * self.filters,
            self.kernel_initializer, utils.tf1_l2(self.weight_decay))
        self.bias = self._add_bias(
            "bias", 4 * self.filters, self.bias_initializer,
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
        gh_pre, h_pre, gy_pre, y_pre = ops.split(z, 4, axis=-1)
        gh = ops.sigmoid(gh_pre + self.forget_bias)
        gy = ops.sigmoid(gy_pre + self.forget_bias)
        new_h = gh * h + (1.0 - gh) * ops.tanh(h_pre)
        y = gy * inputs + (1.0 - gy) * ops.relu(y_pre)
        return y, [new_h]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        return {"kernel": "ConvIntersectionRNNCell/weights",
                "bias": "ConvIntersectionRNNCell/bias"}

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            forget_bias=self.forget_bias,
            kernel_initializer=keras.saving.serialize_keras_object(
                self.kernel_initializer),
            bias_initializer=keras.saving.serialize_keras_object(
                self.bias_initializer),
            weight_decay=self.weight_decay,
            bias_weight_decay=self.bias_weight_decay)
        return config
