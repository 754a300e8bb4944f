"""The general Reciprocal Gated Cell (tnn `reciprocalgaternn.py`, zoo
`cells.py`; the cell of `rgc_shallow`)."""

from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.base import conv2d, depthwise_separable_conv2d
from tnn.cells.layer_norm import TNNLayerNorm
from tnn.cells.reciprocal_base import ReciprocalGateBase

FEEDBACK_ENTRIES = ("out", "cell", "input")


@tnn_export
class ReciprocalGatedCell(ReciprocalGateBase):
    """Reciprocal Gated Cell: a memory `c` and an output `h` gating each other.

    With `x` the pre-memory output, `u` the residual (the node's feed-forward
    harbor input), `fb` the feedback, `F_tau(z) = tau_offset + tau_multiplier
    * f_tau(z)`, `F_g(z) = gate_offset + gate_multiplier * f_g(z)` and `*` a
    stride-1 SAME convolution:

        x   = input_activation(x [+ fb_act(W_fi * fb)])          # "input"
        a   = [W_xc * x] [+ W_uc * u] [+ fb_act(fb + W_fc * fb)]  # "cell"
        c_t = cell_act(F_tau(W_cc * c_{t-1}) c_{t-1} + F_g(W_hc * h_{t-1}) a)
        m   = x or W_xh * x [+ W_gh * c_{t-1}] [+ R(u)] [+ fb_act(W_fh * fb)]
        g   = W_ch * c_{t-1} (0 with cell_to_out) [+ W_uh * u]
        h_t = out_act(F_tau(W_hh * h_{t-1}) h_{t-1} + F_g(g) m)

    State `[c, h]`, output `h`. `R(u)` is `u` if the channel counts match,
    else a bias-free 1×1 conv (xavier, no decay); with `residual_resized`
    (a residual resized from another H×W by the graph) always the conv, as
    the original `residual_add` (cell_residual / residual_to_out_gate then
    raise: the original cannot add them either). Layer norm (optional)
    acts on `c_t` / `h_t` before the activations.

    Faithful to the original, including its bugs:
    - Plain convs are **bias-free** (the original `_conv` creates its bias
      under an always-false condition): `tau_bias` and `gate_bias` are
      accepted for config compatibility but unused; a plain `input_to_out`
      conv creates `input_to_out_bias` but never adds it (non-trainable).
      Separable convs add a bias (xavier init; zeros for `input_to_out`).
    - Feedback entering the cell adds `fb + conv(fb)`, so it needs
      `feedback_channels == cell_depth`.
    - Kernels larger than the map are clipped to the map size.
    Not supported: batch norm and annealed recurrent dropout (they raise);
    `ds_repeat`, `cell_tau_filter_size`, `gate_filter_size=0`.

    Args:
        filters: output channels (`out_depth`); must equal the input channels
            (the one required argument: `ReciprocalGatedCell(filters=64)`
            is a working cell).
        cell_depth: channels of the memory `c` (default `filters`, as in
            rgc_shallow).
        tau_filter_size, gate_filter_size, ff_filter_size,
        in_out_filter_size, feedback_filter_size: kernel sizes of the self
            (tau) convs, the reciprocal gate convs, the convs of `x` and `u`
            into the memory, the `input_to_out` conv and the feedback conv.
        feedback_entry: "out", "cell" or "input".
        tau_depth_separable, gate_depth_separable, ff_depth_separable,
        feedback_depth_separable, in_out_depth_separable: depthwise k×k +
            pointwise 1×1 + bias instead of a plain conv.
        tau_nonlinearity, gate_nonlinearity: "sigmoid" or "tanh".
        tau_offset, tau_multiplier, gate_offset, gate_multiplier: see above.
        tau_bias, gate_bias: unused (bias bug).
        input_activation, feedback_activation, cell_activation,
        out_activation: activation names (None = identity).
        input_to_cell, cell_residual, input_to_out, cell_to_out,
        out_residual, residual_to_out_gate: the optional terms above (the
            memory needs input_to_cell or cell_residual; input_to_cell
            defaults to True unless cell_residual is set, the drive of
            rgc_shallow's cells).
        layer_norm, norm_gain, norm_shift: layer norm, initial gamma / beta.
        kernel_initializer, kernel_initializer_kwargs: TF1 names accepted.
        weight_decay: TF1 L2 weight decay on the kernels.
        residual_channels, feedback_channels: channels of `u` and `fb`.
        recurrent_keep_prob, batch_norm, batch_norm_cell_out: only 1.0,
            False, False are supported.
    """

    def __init__(self, filters, cell_depth=None, tau_filter_size=3,
                 gate_filter_size=3, ff_filter_size=3, in_out_filter_size=3,
                 feedback_filter_size=3, feedback_entry="out",
                 tau_depth_separable=False, gate_depth_separable=False,
                 ff_depth_separable=False, feedback_depth_separable=False,
                 in_out_depth_separable=False, tau_nonlinearity="tanh",
                 gate_nonlinearity="tanh", tau_offset=1.0,
                 tau_multiplier=-1.0, gate_offset=1.0, gate_multiplier=-1.0,
                 tau_bias=0.0, gate_bias=0.0, input_activation=None,
                 feedback_activation=None, cell_activation="elu",
                 out_activation="elu", input_to_cell=None,
                 cell_residual=False, input_to_out=False, cell_to_out=False,
                 out_residual=False, residual_to_out_gate=False,
                 layer_norm=False, norm_gain=1.0, norm_shift=0.0,
                 kernel_initializer="xavier", kernel_initializer_kwargs=None,
                 weight_decay=None, residual_channels=None,
                 feedback_channels=None, recurrent_keep_prob=1.0,
                 batch_norm=False, batch_norm_cell_out=False, **kwargs):
        utils.check_choice(feedback_entry, "feedback_entry", FEEDBACK_ENTRIES)
        if cell_depth is None:
            cell_depth = filters
        if input_to_cell is None:  # the drive of rgc_shallow's cells
            input_to_cell = not cell_residual
        if not (input_to_cell or cell_residual):
            raise ValueError("The memory needs a drive: set "
                             "input_to_cell=True and/or cell_residual=True.")
        if (float(recurrent_keep_prob) != 1.0 or batch_norm
                or batch_norm_cell_out):
            raise ValueError(
                "ReciprocalGatedCell supports neither batch norm nor the "
                "annealed recurrent dropout (no zoo model uses them); keep "
                "recurrent_keep_prob=1.0, batch_norm=batch_norm_cell_out="
                "False.")
        checks.initializer(kernel_initializer,
                           **(kernel_initializer_kwargs or {}))
        super().__init__(
            filters, cell_depth, tau_filter_size, gate_filter_size,
            ff_filter_size, in_out_filter_size, feedback_filter_size,
            tau_offset, tau_multiplier, gate_offset, gate_multiplier,
            tau_nonlinearity, gate_nonlinearity, input_activation,
            feedback_activation, cell_activation, out_activation,
            weight_decay, residual_channels, feedback_channels, **kwargs)
        self.feedback_entry = feedback_entry
        for name, value in (
                ("tau_depth_separable", tau_depth_separable),
                ("gate_depth_separable", gate_depth_separable),
                ("ff_depth_separable", ff_depth_separable),
                ("feedback_depth_separable", feedback_depth_separable),
                ("in_out_depth_separable", in_out_depth_separable),
                ("input_to_cell", input_to_cell),
                ("cell_residual", cell_residual),
                ("input_to_out", input_to_out), ("cell_to_out", cell_to_out),
                ("out_residual", out_residual),
                ("residual_to_out_gate", residual_to_out_gate),
                ("layer_norm", layer_norm), ("batch_norm", batch_norm),
                ("batch_norm_cell_out", batch_norm_cell_out)):
            setattr(self, name, bool(value))
        self.tau_bias, self.gate_bias = float(tau_bias), float(gate_bias)
        self.norm_gain, self.norm_shift = float(norm_gain), float(norm_shift)
        self.kernel_initializer = kernel_initializer
        self.kernel_initializer_kwargs = dict(kernel_initializer_kwargs or {})
        self.recurrent_keep_prob = float(recurrent_keep_prob)
        self.uses_residual = (self.cell_residual or self.out_residual
                              or self.residual_to_out_gate)

    def _kernel_init(self):
        return utils.get_initializer(self.kernel_initializer,
                                     **self.kernel_initializer_kwargs)

    def _make_op(self, scope, in_ch, out_ch, kind, bias_init=None):
        """Creates the weights of the original `_conv` / `_ds_conv`; `kind`
        ("tau", "gate", "ff", "feedback", "in_out") picks the kernel size
        and the `*_depth_separable` switch."""
        size = getattr(self, f"{kind}_filter_size")
        reg = utils.tf1_l2(self.weight_decay)
        if getattr(self, f"{kind}_depth_separable"):
            self._ops[scope] = self._separable(
                scope, in_ch, out_ch, size, self._kernel_init, reg,
                lambda: utils.get_initializer(bias_init or "xavier"))
            return
        kh, kw = self._clip(size)
        self._ops[scope] = [self._tf1_weight(
            f"{scope}/weights", (kh, kw, in_ch, out_ch), self._kernel_init(),
            reg)]

    def _apply(self, scope, x):
        weights = self._ops[scope]
        if len(weights) == 1:
            return conv2d(x, weights[0])
        return depthwise_separable_conv2d(x, *weights)

    def _layer_norm(self, scope, shape):
        name = f"{scope}_layer_norm"
        tf1 = f"{self.TF1_SCOPE}/{scope}/{name}"
        for var in ("gamma", "beta"):
            self._tf1_names[f"{name}/{var}"] = f"{tf1}/{var}"
        norm = TNNLayerNorm(gain_init=self.norm_gain,
                            shift_init=self.norm_shift, name=name)
        norm.build(shape)
        return norm

    def build(self, input_shape):
        batch, height, width, channels = self._check_input_shape(input_shape)
        res, fb = self.residual_channels, self.feedback_channels
        entry = self.feedback_entry if fb is not None else None
        problem = None
        if channels != self.filters:
            problem = (f"the input has {channels} channels but filters="
                       f"{self.filters} (x is added to the output drive)")
        elif self.uses_residual and res is None:
            problem = ("cell_residual / out_residual / residual_to_out_gate "
                       "need residual_channels=<int>")
        elif self.residual_resized and (self.cell_residual
                                        or self.residual_to_out_gate):
            problem = ("the residual comes from another H×W "
                       "(residual_resized=True), but cell_residual / "
                       "residual_to_out_gate convolve it at its own size "
                       "and add it to maps of the input's size, which the "
                       "original cannot do either (its sum fails): use "
                       "out_residual alone (resized, then projected, as "
                       "the original residual_add), or keep the size in "
                       "the pre-memory (move strides / pools after the "
                       "cell)")
        elif entry == "cell" and fb != self.cell_depth:
            problem = (f"feedback_entry='cell' adds fb to conv(fb) as the "
                       f"original does, so feedback_channels ({fb}) must "
                       f"equal cell_depth ({self.cell_depth})")
        if problem:
            raise ValueError(f"ReciprocalGatedCell '{self.name}': {problem}.")
        self._hw, self._ops, self._tf1_names = (height, width), {}, {}
        depth, filters = self.cell_depth, self.filters
        if entry == "input":
            self._make_op("input/feedback", fb, channels, "feedback")
        if self.cell_residual:
            self._make_op("cell/res_to_cell", res, depth, "ff")
        if self.input_to_cell:
            self._make_op("cell/input_to_cell", channels, depth, "ff")
        if entry == "cell":
            self._make_op("cell/feedback", fb, depth, "feedback")
        self._make_op("cell/tau", depth, depth, "tau")
        self._make_op("cell/gate", filters, depth, "gate")
        if self.layer_norm:
            self.cell_norm = self._layer_norm("cell",
                                              (batch, height, width, depth))
        if self.input_to_out and self.in_out_depth_separable:
            self._make_op("out/input_to_out", channels, filters, "in_out",
                          bias_init="zeros")
        elif self.input_to_out:
            # Not clipped; the bias is never added (original): non-trainable.
            self._ops["out/input_to_out"] = [self._tf1_weight(
                "out/input_to_out_weights",
                self.in_out_filter_size + (filters, filters),
                self._kernel_init(), utils.tf1_l2(self.weight_decay))]
            self.input_to_out_bias = self._tf1_weight(
                "out/input_to_out_bias", (filters,),
                utils.get_initializer("zeros"))
            self.input_to_out_bias.trainable = False
        if self.cell_to_out:
            self._make_op("out/gate", depth, filters, "gate")
        self.residual_kernel = None
        # As the original residual_add: a 1×1 projection when the channels
        # differ and, after a resize, always.
        if self.out_residual and (res != filters or self.residual_resized):
            self.residual_kernel = self._tf1_weight(
                "out/res_add/residual_add_weights", (1, 1, res, filters),
                utils.get_initializer("xavier"))
        if entry == "out":
            self._make_op("out/feedback", fb, filters, "feedback")
        self._make_op("out/tau", filters, filters, "tau")
        if not self.cell_to_out:
            self._make_op("out/gate", depth, filters, "gate")
        if self.residual_to_out_gate:
            self._make_op("out/residual_to_out_gate", res, filters, "gate")
        if self.layer_norm:
            self.out_norm = self._layer_norm("out",
                                             (batch, height, width, filters))
        super().build(input_shape)

    def call(self, inputs, states, training=None, residual=None,
             feedback=None):
        self._check_side_inputs(inputs, residual, feedback,
                                self.uses_residual)
        fb_act = utils.get_activation(self.feedback_activation)
        c_prev, h_prev = states
        entry = self.feedback_entry if feedback is not None else None
        x = inputs
        if entry == "input":
            x = x + fb_act(self._apply("input/feedback", feedback))
        x = utils.get_activation(self.input_activation)(x)
        drive = 0.0
        if self.cell_residual:
            drive = drive + self._apply("cell/res_to_cell", residual)
        if self.input_to_cell:
            drive = drive + self._apply("cell/input_to_cell", x)
        if entry == "cell":
            drive = drive + fb_act(
                feedback + self._apply("cell/feedback", feedback))
        cell = self._gated(c_prev, self._apply("cell/tau", c_prev),
                           self._apply("cell/gate", h_prev), drive)
        if self.layer_norm:
            cell = self.cell_norm(cell)
        cell = utils.get_activation(self.cell_activation)(cell)
        out_in = (self._apply("out/input_to_out", x) if self.input_to_out
                  else x)
        gate = ops.zeros_like(out_in)
        if self.cell_to_out:
            out_in = out_in + self._apply("out/gate", c_prev)
        else:
            gate = self._apply("out/gate", c_prev)
        if self.out_residual:
            out_in = out_in + (residual if self.residual_kernel is None
                               else conv2d(residual, self.residual_kernel))
        if entry == "out":
            out_in = out_in + fb_act(self._apply("out/feedback", feedback))
        if self.residual_to_out_gate:
            gate = gate + self._apply("out/residual_to_out_gate", residual)
        out = self._gated(h_prev, self._apply("out/tau", h_prev), gate,
                          out_in)
        if self.layer_norm:
            out = self.out_norm(out)
        out = utils.get_activation(self.out_activation)(out)
        return out, [cell, out]
