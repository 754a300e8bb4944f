"""The model zoo's convolutional GRU."""

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells.base import RecurrentCell, conv2d
from tnn.cells.layer_norm import TNNLayerNorm


@tnn_export
class ConvGRUCell(RecurrentCell):
    """Conv GRU of the model zoo (`gru_*`; TNN_REFERENCE §3.3):

        [r~, u~] = W_g * [x_t, h_{t-1}] + b_g      (split: r first, u second)
        r = sigmoid(LN(r~) + forget_bias),  u = sigmoid(LN(u~))
        c = tanh(LN(W_c * [x_t, r * h_{t-1}] + b_c))
        h_t = u * h_{t-1} + (1 - u) * c            (output = state)

    The LNs (TNN layer norm, TF1 scopes `gates/r_pre`, `gates/u_pre`,
    `candidates/c_pre`) are applied only with `layer_norm=True`.
    `forget_bias` is a runtime constant added to the reset-gate
    pre-activation, as in the zoo. Kernels act on the channel concatenation
    (input channels first, then the state), TF1 scopes
    `ConvGRUCell/gates/{weights,bias}` (out 2F) and
    `ConvGRUCell/candidates/{weights,bias}` (out F). Gating, no bypass.

    Args:
        filters: state/output channels (the original's `out_depth`).
        kernel_size: int or pair, stride-1 SAME convolutions.
        forget_bias: constant added to the reset-gate pre-activation.
        layer_norm: TNN layer norm on r~, u~ and the candidate.
        gate_bias_initializer: initializer of the gate bias (constant 1.0,
            the zoo's default when no bias initializer is given).
        bias_initializer: initializer of the candidate bias (0 in the zoo).
        kernel_initializer: kernel initializer (TF1 names allowed).
        weight_decay: TF1-convention L2 on the kernels (None/0: none).
        bias_weight_decay: TF1-convention L2 on the biases (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size=3, forget_bias=1.0,
                 layer_norm=False, gate_bias_initializer=1.0,
                 bias_initializer=0.0, kernel_initializer="variance_scaling",
                 weight_decay=None, bias_weight_decay=None, **kwargs):
        utils.check_positive_int(filters, "filters")
        kernel_size = utils.as_pair(kernel_size, "kernel_size")
        if isinstance(forget_bias, bool) or not isinstance(
                forget_bias, (int, float)):
            raise ValueError(
                f"forget_bias must be a number, got {forget_bias!r}.")
        if not isinstance(layer_norm, bool):
            raise ValueError(
                f"layer_norm must be True or False, got {layer_norm!r}.")
        utils.get_initializer(gate_bias_initializer)
        utils.get_initializer(bias_initializer)
        utils.get_initializer(kernel_initializer)
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
        self.gate_bias_initializer = gate_bias_initializer
        self.bias_initializer = bias_initializer
        self.kernel_initializer = kernel_initializer
        self.weight_decay = weight_decay
        self.bias_weight_decay = bias_weight_decay
        if layer_norm:
            self.r_norm = TNNLayerNorm(name="r_pre_norm")
            self.u_norm = TNNLayerNorm(name="u_pre_norm")
            self.c_norm = TNNLayerNorm(name="c_pre_norm")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        in_channels = input_shape[-1] + self.filters
        kernel_reg = utils.tf1_l2(self.weight_decay)
        bias_reg = utils.tf1_l2(self.bias_weight_decay)
        self.gates_kernel = self._add_kernel(
            "gates_kernel", self.kernel_size, in_channels, 2 * self.filters,
            self.kernel_initializer, kernel_reg)
        self.gates_bias = self._add_bias(
            "gates_bias", 2 * self.filters, self.gate_bias_initializer,
            bias_reg)
        self.candidates_kernel = self._add_kernel(
            "candidates_kernel", self.kernel_size, in_channels, self.filters,
            self.kernel_initializer, kernel_reg)
        self.candidates_bias = self._add_bias(
            "candidates_bias", self.filters, self.bias_initializer, bias_reg)
        if self.layer_norm:
            shape = tuple(input_shape[:3]) + (self.filters,)
            for norm in (self.r_norm, self.u_norm, self.c_norm):
                norm.build(shape)
        super().build(input_shape)

    def state_shapes(self, input_shape):
        """[(H, W, filters)]: the state `h` (input_shape NHWC or HWC)."""
        return [tuple(input_shape[-3:-1]) + (self.filters,)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)

    def call(self, inputs, states, training=None):
        h = states[0]
        gates = conv2d(ops.concatenate([inputs, h], axis=-1),
                       self.gates_kernel, self.gates_bias)
        r_pre, u_pre = ops.split(gates, 2, axis=-1)
        if self.layer_norm:
            r_pre = self.r_norm(r_pre)
            u_pre = self.u_norm(u_pre)
        r = ops.sigmoid(r_pre + self.forget_bias)
        u = ops.sigmoid(u_pre)
        c_pre = conv2d(ops.concatenate([inputs, r * h], axis=-1),
                       self.candidates_kernel, self.candidates_bias)
        if self.layer_norm:
            c_pre = self.c_norm(c_pre)
        c = ops.tanh(c_pre)
        new_h = u * h + (1.0 - u) * c
        return new_h, [new_h]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        names = {"gates_kernel": "ConvGRUCell/gates/weights",
                 "gates_bias": "ConvGRUCell/gates/bias",
                 "candidates_kernel": "ConvGRUCell/candidates/weights",
                 "candidates_bias": "ConvGRUCell/candidates/bias"}
        if self.layer_norm:
            for layer, scope in (("r_pre_norm", "gates/r_pre"),
                                 ("u_pre_norm", "gates/u_pre"),
                                 ("c_pre_norm", "candidates/c_pre")):
                for param in ("gamma", "beta"):
                    names[f"{layer}/{param}"] = (
                        f"ConvGRUCell/{scope}/{param}")
        return names

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters, kernel_size=self.kernel_size,
            forget_bias=self.forget_bias, layer_norm=self.layer_norm,
            gate_bias_initializer=keras.saving.serialize_keras_object(
                self.gate_bias_initializer),
            bias_initializer=keras.saving.serialize_keras_object(
                self.bias_initializer),
            kernel_initializer=keras.saving.serialize_keras_object(
                self.kernel_initializer),
            weight_decay=self.weight_decay,
            bias_weight_decay=self.bias_weight_decay)
        return config
