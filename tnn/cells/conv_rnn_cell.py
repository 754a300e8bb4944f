"""The vanilla convolutional RNN (zoo `simplernn`, tnn `ConvBasicCell`)."""

from tnn import utils
from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.base import conv2d
from tnn.cells.conv_cell import ConvCell
from tnn.cells.layer_norm import TNNLayerNorm

_VARIANTS = ("zoo", "tnn")
_DEFAULT_ACTIVATION = {"zoo": "elu", "tnn": "tanh"}


@tnn_export
class ConvRNNCell(ConvCell):
    """Vanilla conv RNN without gating or bypass (TNN_REFERENCE §3.2).

    variant="zoo" is the model zoo's `ConvNormBasicCell` (`simplernn_*`):

        h_t = act(LN(W_i * x_t + b_i + W_s * h_{t-1} + b_s))

    with separate input and state convolutions (TF1 scopes
    `ConvNormBasicCell/i` and `ConvNormBasicCell/s`) and the TNN layer norm
    only if `layer_norm=True` (scope `ConvNormBasicCell/layer_norm`).

    variant="tnn" is the tnn library's `ConvBasicCell`:

        h_t = act(W * [x_t, h_{t-1}] + b)

    with one kernel on the channel concatenation (input channels first),
    TF1 scope `ConvBasicCell/{weights,bias}`; it has no layer norm.

    Output = state = `h_t` with `filters` channels (may differ from the
    input's). The zoo uses L2 1e-4 on kernels and biases
    (`weight_decay=bias_weight_decay=1e-4`).

    Args:
        filters: state/output channels (the original's `out_depth`).
        kernel_size: int or pair, stride-1 SAME convolutions.
        variant: "zoo" (ConvNormBasicCell) or "tnn" (ConvBasicCell).
        activation: activation name; None picks the variant's default
            ("elu" for zoo, "tanh" for tnn).
        layer_norm: TNN layer norm before the activation (zoo only).
        kernel_initializer: kernel initializer (TF1 names allowed).
        bias_initializer: bias initializer (a number means a constant).
        weight_decay: TF1-convention L2 on the kernels (None/0: none).
        bias_weight_decay: TF1-convention L2 on the biases (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size=3, variant="zoo", activation=None,
                 layer_norm=False, kernel_initializer="variance_scaling",
                 bias_initializer=0.0, weight_decay=None,
                 bias_weight_decay=None, **kwargs):
        utils.check_choice(variant, "variant", _VARIANTS)
        checks.activation_name(activation, "activation")
        checks.boolean(layer_norm, "layer_norm")
        if layer_norm and variant == "tnn":
            raise ValueError(
                "layer_norm=True needs variant='zoo' (the tnn ConvBasicCell "
                "has no layer norm); set variant='zoo' or layer_norm=False.")
        super().__init__(filters, kernel_size, kernel_initializer,
                         bias_initializer, weight_decay, bias_weight_decay,
                         **kwargs)
        self.variant = variant
        self.activation = activation
        self.layer_norm = layer_norm
        self._activation_fn = utils.get_activation(
            activation or _DEFAULT_ACTIVATION[variant])
        self.norm = TNNLayerNorm(name="layer_norm") if layer_norm else None

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        channels, filters = input_shape[-1], self.filters
        if self.variant == "tnn":
            self.kernel, self.bias = self._add_conv("", channels + filters,
                                                    filters)
        else:
            self.input_kernel, self.input_bias = self._add_conv(
                "input_", channels, filters)
            self.state_kernel, self.state_bias = self._add_conv(
                "state_", filters, filters)
        if self.norm is not None:
            self.norm.build(tuple(input_shape[:3]) + (filters,))
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h = states[0]
        if self.variant == "tnn":
            pre = self._gates(inputs, h, self.kernel, self.bias, 1)
        else:
            pre = (conv2d(inputs, self.input_kernel, self.input_bias)
                   + conv2d(h, self.state_kernel, self.state_bias))
        if self.norm is not None:
            pre = self.norm(pre)
        new_h = self._activation_fn(pre)
        return new_h, [new_h]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        if self.variant == "tnn":
            return {"kernel": "ConvBasicCell/weights",
                    "bias": "ConvBasicCell/bias"}
        names = {"input_kernel": "ConvNormBasicCell/i/weights",
                 "input_bias": "ConvNormBasicCell/i/bias",
                 "state_kernel": "ConvNormBasicCell/s/weights",
                 "state_bias": "ConvNormBasicCell/s/bias"}
        if self.layer_norm:
            names.update({
                "layer_norm/gamma": "ConvNormBasicCell/layer_norm/gamma",
                "layer_norm/beta": "ConvNormBasicCell/layer_norm/beta"})
        return names
