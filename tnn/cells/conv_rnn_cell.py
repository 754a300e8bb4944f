"""The vanilla convolutional RNN (zoo `simplernn`, tnn `ConvBasicCell`)."""

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells.base import RecurrentCell, conv2d
from tnn.cells.layer_norm import TNNLayerNorm

_VARIANTS = ("zoo", "tnn")
_DEFAULT_ACTIVATION = {"zoo": "elu", "tnn": "tanh"}


@tnn_export
class ConvRNNCell(RecurrentCell):
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
        utils.check_positive_int(filters, "filters")
        kernel_size = utils.as_pair(kernel_size, "kernel_size")
        utils.check_choice(variant, "variant", _VARIANTS)
        if activation is not None and not isinstance(activation, str):
            raise ValueError(
                f"activation must be an activation name or None, got "
                f"{activation!r}.")
        utils.get_activation(activation)
        if not isinstance(layer_norm, bool):
            raise ValueError(
                f"layer_norm must be True or False, got {layer_norm!r}.")
        if layer_norm and variant == "tnn":
            raise ValueError(
                "layer_norm=True needs variant='zoo' (the tnn ConvBasicCell "
                "has no layer norm); set variant='zoo' or layer_norm=False.")
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
        self.variant = variant
        self.activation = activation
        self.layer_norm = layer_norm
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.weight_decay = weight_decay
        self.bias_weight_decay = bias_weight_decay
        self._activation_fn = utils.get_activation(
            activation or _DEFAULT_ACTIVATION[variant])
        self.norm = TNNLayerNorm(name="layer_norm") if layer_norm else None

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        channels = input_shape[-1]
        kernel_reg = utils.tf1_l2(self.weight_decay)
        bias_reg = utils.tf1_l2(self.bias_weight_decay)
        if self.variant == "tnn":
            self.kernel = self._add_kernel(
                "kernel", self.kernel_size, channels + self.filters,
                self.filters, self.kernel_initializer, kernel_reg)
            self.bias = self._add_bias(
                "bias", self.filters, self.bias_initializer, bias_reg)
        else:
            self.input_kernel = self._add_kernel(
                "input_kernel", self.kernel_size, channels, self.filters,
                self.kernel_initializer, kernel_reg)
            self.input_bias = self._add_bias(
                "input_bias", self.filters, self.bias_initializer, bias_reg)
            self.state_kernel = self._add_kernel(
                "state_kernel", self.kernel_size, self.filters, self.filters,
                self.kernel_initializer, kernel_reg)
            self.state_bias = self._add_bias(
                "state_bias", self.filters, self.bias_initializer, bias_reg)
        if self.norm is not None:
            self.norm.build(tuple(input_shape[:3]) + (self.filters,))
        super().build(input_shape)

    def state_shapes(self, input_shape):
        """[(H, W, filters)]: the state `h` (input_shape NHWC or HWC)."""
        return [tuple(input_shape[-3:-1]) + (self.filters,)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)

    def call(self, inputs, states, training=None):
        h = states[0]
        if self.variant == "tnn":
            pre = conv2d(ops.concatenate([inputs, h], axis=-1), self.kernel,
                         self.bias)
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

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            variant=self.variant, activation=self.activation,
            layer_norm=self.layer_norm,
            kernel_initializer=keras.saving.serialize_keras_object(
                self.kernel_initializer),
            bias_initializer=keras.saving.serialize_keras_object(
                self.bias_initializer),
            weight_decay=self.weight_decay,
            bias_weight_decay=self.bias_weight_decay)
        return config
