"""The convolutional IntersectionRNN of tnn and the model zoo."""

from keras import ops

from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.conv_cell import ConvCell


@tnn_export
class ConvIntersectionRNNCell(ConvCell):
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
        forget_bias = checks.number(forget_bias, "forget_bias")
        super().__init__(filters, kernel_size, kernel_initializer,
                         bias_initializer, weight_decay, bias_weight_decay,
                         **kwargs)
        self.forget_bias = forget_bias

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        if input_shape[-1] != self.filters:
            raise ValueError(
                f"ConvIntersectionRNNCell '{self.name}' needs inputs with "
                f"filters={self.filters} channels (its input is gated into "
                f"the output), got input shape {tuple(input_shape)}; set "
                f"filters={input_shape[-1]} or change the pre-memory conv.")
        self.kernel, self.bias = self._add_conv("", 2 * self.filters,
                                                4 * self.filters)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h = states[0]
        gh_pre, h_pre, gy_pre, y_pre = self._gates(inputs, h, self.kernel,
                                                   self.bias, 4)
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
