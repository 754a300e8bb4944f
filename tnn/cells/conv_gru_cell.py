"""The model zoo's convolutional GRU."""

from keras import ops

from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.conv_cell import ConvCell
from tnn.cells.layer_norm import TNNLayerNorm


@tnn_export
class ConvGRUCell(ConvCell):
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
        forget_bias = checks.number(forget_bias, "forget_bias")
        checks.boolean(layer_norm, "layer_norm")
        checks.initializer(gate_bias_initializer)
        super().__init__(filters, kernel_size, kernel_initializer,
                         bias_initializer, weight_decay, bias_weight_decay,
                         **kwargs)
        self.forget_bias = forget_bias
        self.layer_norm = layer_norm
        self.gate_bias_initializer = gate_bias_initializer
        if layer_norm:
            self.r_norm = TNNLayerNorm(name="r_pre_norm")
            self.u_norm = TNNLayerNorm(name="u_pre_norm")
            self.c_norm = TNNLayerNorm(name="c_pre_norm")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        in_channels = input_shape[-1] + self.filters
        self.gates_kernel, self.gates_bias = self._add_conv(
            "gates_", in_channels, 2 * self.filters,
            self.gate_bias_initializer)
        self.candidates_kernel, self.candidates_bias = self._add_conv(
            "candidates_", in_channels, self.filters)
        if self.layer_norm:
            shape = tuple(input_shape[:3]) + (self.filters,)
            for norm in (self.r_norm, self.u_norm, self.c_norm):
                norm.build(shape)
        super().build(input_shape)

    def call(self, inputs, states, training=None):
        h = states[0]
        r_pre, u_pre = self._gates(inputs, h, self.gates_kernel,
                                   self.gates_bias, 2)
        if self.layer_norm:
            r_pre = self.r_norm(r_pre)
            u_pre = self.u_norm(u_pre)
        r = ops.sigmoid(r_pre + self.forget_bias)
        u = ops.sigmoid(u_pre)
        c_pre = self._gates(inputs, r * h, self.candidates_kernel,
                            self.candidates_bias, 1)
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
