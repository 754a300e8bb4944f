"""The convolutional update-gate RNN (UGRNN) of tnn and the model zoo."""

from keras import ops

from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.conv_cell import ConvCell


@tnn_export
class ConvUGRNNCell(ConvCell):
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
        forget_bias = checks.number(forget_bias, "forget_bias")
        if layer_norm is not False:
            raise ValueError(
                f"ConvUGRNNCell has no layer norm (the original's UGRNN layer "
                f"norm is broken and unused by the zoo); got layer_norm="
                f"{layer_norm!r}, use layer_norm=False.")
        super().__init__(filters, kernel_size, kernel_initializer,
                         bias_initializer, weight_decay, bias_weight_decay,
                         **kwargs)
        self.forget_bias = forget_bias
        self.layer_norm = layer_norm

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel, self.bias = self._add_conv(
            "", input_shape[-1] + self.filters, 2 * self.filters)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h = states[0]
        g_pre, c_pre = self._gates(inputs, h, self.kernel, self.bias, 2)
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
