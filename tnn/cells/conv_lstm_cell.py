"""The convolutional LSTM of tnn and the model zoo."""

from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.conv_cell import ConvCell
from tnn.cells.layer_norm import TNNLayerNorm

# Out-channel split order of the kernel and the TF1 scopes of their LNs.
_GATES = ("input", "transform", "forget", "output")


@tnn_export
class ConvLSTMCell(ConvCell):
    """Conv LSTM, identical in tnn and the zoo (TNN_REFERENCE §3.4):

        [i, j, f, o] = W * [x_t, h_{t-1}] + b      (one conv, out 4F)
        (layer_norm: i, j, f, o each go through their own TNN layer norm)
        c_t = c_{t-1} * sigmoid(f + forget_bias [+ w_f * c_{t-1}])
              + sigmoid(i [+ w_i * c_{t-1}]) * act(j)
        (layer_norm: c_t = LN(c_t); the normalised c_t is stored)
        h_t = act(c_t) * sigmoid(o [+ w_o * c_{t-1}])   (output = h_t)

    The state is ONE tensor, the channel concatenation `[c, h]` with 2F
    channels (the original's `state_is_tuple=False`). Peepholes are
    spatially varying `[H, W, F]` weights (H, W from the build shape) and
    the output-gate peephole reads the previous cell `c_{t-1}`, unlike TF's
    standard LSTM. `forget_bias` is a runtime constant, not a variable.

    TF1 names (relative to `tnn_model/<node>/`): `ConvLSTMCell/weights`
    `[kh, kw, C + F, 4F]` (in-channels: input first, then `h`), `.../bias`,
    `.../{input,transform,forget,output,state}/{gamma,beta}` and
    `.../peepholes/{w_f_diag,w_i_diag,w_o_diag}`.

    The zoo's `lstm_shallow` settings (per layer kernel 2/3/4, filters
    128/256/256, forget_bias 1.3561755/0.9779629/0.9249280, constant bias
    init, `VarianceScaling(scale=...)` kernel init, L2 on the kernel) map to
    `kernel_size`, `filters`, `forget_bias`, `bias_initializer`,
    `kernel_initializer` and `weight_decay`.

    Args:
        filters: cell/output channels (the original's `out_depth`).
        kernel_size: int or pair, stride-1 SAME convolution.
        forget_bias: constant added to the forget-gate pre-activation.
        use_peepholes: add the spatial peephole terms.
        layer_norm: TNN layer norm on each gate and on the new cell.
        activation: activation of the transform `j` and of `c` in `h`.
        kernel_initializer: kernel initializer (TF1 names allowed).
        bias_initializer: bias initializer (a number means a constant).
        peephole_initializer: peephole initializer. The reference does not
            fix it; the default "xavier" is TF1's `get_variable` default.
        weight_decay: TF1-convention L2 on the kernel (None/0: none).
        bias_weight_decay: TF1-convention L2 on the bias (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size=3, forget_bias=1.0,
                 use_peepholes=False, layer_norm=False, activation="tanh",
                 kernel_initializer="variance_scaling", bias_initializer=0.0,
                 peephole_initializer="xavier", weight_decay=None,
                 bias_weight_decay=None, **kwargs):
        forget_bias = checks.number(forget_bias, "forget_bias")
        checks.boolean(use_peepholes, "use_peepholes")
        checks.boolean(layer_norm, "layer_norm")
        checks.activation_name(activation, "activation", allow_none=False)
        checks.initializer(peephole_initializer)
        super().__init__(filters, kernel_size, kernel_initializer,
                         bias_initializer, weight_decay, bias_weight_decay,
                         **kwargs)
        self.forget_bias = forget_bias
        self.use_peepholes = use_peepholes
        self.layer_norm = layer_norm
        self.activation = activation
        self.peephole_initializer = peephole_initializer
        self._activation_fn = utils.get_activation(activation)
        if layer_norm:
            self.gate_norms = [TNNLayerNorm(name=f"{gate}_norm")
                               for gate in _GATES]
            self.state_norm = TNNLayerNorm(name="state_norm")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        f = self.filters
        self.kernel, self.bias = self._add_conv("", input_shape[-1] + f,
                                                4 * f)
        if self.use_peepholes:
            height, width = input_shape[1], input_shape[2]
            if height is None or width is None:
                raise ValueError(
                    f"ConvLSTMCell '{self.name}' with use_peepholes=True "
                    f"needs a known height and width (its peepholes are "
                    f"[H, W, filters]), got input shape "
                    f"{tuple(input_shape)}.")
            init = utils.get_initializer(self.peephole_initializer)
            self.w_f_diag, self.w_i_diag, self.w_o_diag = (
                self.add_weight(name=name, shape=(height, width, f),
                                initializer=init)
                for name in ("w_f_diag", "w_i_diag", "w_o_diag"))
        if self.layer_norm:
            shape = tuple(input_shape[:3]) + (f,)
            for norm in [*self.gate_norms, self.state_norm]:
                norm.build(shape)
        super().build(input_shape)

    def state_shapes(self, input_shape):
        """[(H, W, 2 * filters)]: the state `[c, h]`, c first (NHWC or HWC)."""
        return [tuple(input_shape[-3:-1]) + (2 * self.filters,)]

    def call(self, inputs, states, training=None):
        built_hw = tuple(self._built_input_shape[1:3])
        if self.use_peepholes and tuple(inputs.shape[1:3]) != built_hw:
            raise ValueError(
                f"ConvLSTMCell '{self.name}' was built for {built_hw} maps "
                f"(spatial peepholes) but got input shape "
                f"{tuple(inputs.shape)}; build a cell for this size.")
        c_prev, h_prev = ops.split(states[0], 2, axis=-1)
        i, j, f, o = self._gates(inputs, h_prev, self.kernel, self.bias, 4)
        if self.layer_norm:
            i, j, f, o = (norm(g) for norm, g in
                          zip(self.gate_norms, (i, j, f, o)))
        f = f + self.forget_bias
        if self.use_peepholes:
            f = f + self.w_f_diag * c_prev
            i = i + self.w_i_diag * c_prev
            o = o + self.w_o_diag * c_prev
        c = c_prev * ops.sigmoid(f) + ops.sigmoid(i) * self._activation_fn(j)
        if self.layer_norm:
            c = self.state_norm(c)
        h = self._activation_fn(c) * ops.sigmoid(o)
        return h, [ops.concatenate([c, h], axis=-1)]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        names = {"kernel": "ConvLSTMCell/weights", "bias": "ConvLSTMCell/bias"}
        if self.use_peepholes:
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                names[name] = f"ConvLSTMCell/peepholes/{name}"
        if self.layer_norm:
            for scope in (*_GATES, "state"):
                for param in ("gamma", "beta"):
                    names[f"{scope}_norm/{param}"] = (
                        f"ConvLSTMCell/{scope}/{param}")
        return names
