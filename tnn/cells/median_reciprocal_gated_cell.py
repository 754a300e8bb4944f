"""The "median" Reciprocal Gated Cell of `rgc_intermediate` (zoo
`median_rgcell.py` with `configs/median_rgcell_cfg.py`)."""

from tnn import utils
from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.base import conv2d, depthwise_separable_conv2d
from tnn.cells.reciprocal_base import ReciprocalGateBase

# The median of the hyperparameter search (`median_rgcell_cfg.py`).
MEDIAN_TAU = 0.9219348064291611
MEDIAN_GATE = 0.7006566684988862
MEDIAN_KERNEL_SCALE = 0.6393378386273998
MEDIAN_WEIGHT_DECAY = 0.0002033999204146308


def _zeros():
    return utils.get_initializer("zeros")


@tnn_export
class MedianReciprocalGatedCell(ReciprocalGateBase):
    """The reciprocal gated cell of the 11-layer zoo model `rgc_intermediate`.

    A separate implementation of the Reciprocal Gated Cell with its own
    variable names. With `x` the pre-memory output (the pre-memory conv has
    no activation; this cell applies `input_activation`), `u` the residual
    (the node's feed-forward harbor input), `fb` the concatenated, resized
    feedback, `DS(.)` a depthwise k×k conv, a pointwise 1×1 conv and a bias,
    `F_tau(z) = tau_offset + tau_multiplier * f_tau(z)`, `F_g(z) =
    gate_offset + gate_multiplier * f_g(z)` and `*` a stride-1 SAME conv:

        x̃   = input_activation(x)
        a   = W_xc * x̃ + b_xc                                  (ff 2×2)
        c_t = cell_act(F_tau(DS_cc(c_{t-1})) c_{t-1} + F_g(DS_hc(h_{t-1})) a)
        m   = W_xh * x̃ + b_xh [+ R(u)] [+ fb_act(W_fb * fb + b_fb)]
        h_t = out_act(F_tau(DS_hh(h_{t-1})) h_{t-1} + F_g(DS_ch(c_{t-1})) m)

    State `[c, h]`, output `h`. The gate on `h` uses the *previous* memory
    `c_{t-1}`. `R(u)` (with `out_residual`) is `u` when the channel counts
    match, else a bias-free 1×1 projection (xavier-initialized, no weight
    decay, as the original `residual_add`; always the projection with
    `residual_resized`, a residual resized from another H×W). The feedback
    term exists when `feedback_channels` is given (entry "out", a plain
    conv + bias: the settings `model_func` imposes on the zoo model).
    Kernels of the depthwise convs larger than the map are clipped to the
    map size. The defaults are the zoo's effective settings; the unused
    `tau_bias` / `gate_bias` of the config (only added by non-separable
    convs) are not arguments.

    Args:
        filters: output channels (`out_depth`); must equal the input channels.
        cell_depth: channels of the memory `c` (64 in the zoo).
        ff_filter_size: kernel of the input→cell conv (2).
        in_out_filter_size: kernel of the input→out conv (3).
        tau_filter_size, gate_filter_size: depthwise kernels of the tau and
            gate convs (7).
        feedback_filter_size: kernel of the feedback conv (1).
        tau_offset, tau_multiplier, gate_offset, gate_multiplier: the gate
            factors (±0.9219…, ±0.7007…).
        tau_nonlinearity, gate_nonlinearity: "sigmoid" / "tanh".
        input_activation, feedback_activation, cell_activation,
        out_activation: activation names (elu, identity, elu, elu).
        out_residual: add `R(u)` to the drive of `h` (True).
        kernel_initializer: kernel initializer; None = TF1
            `variance_scaling_initializer(scale=0.6393378386273998)` (fan-in,
            truncated normal). Biases start at zero.
        weight_decay: TF1 L2 weight decay on the kernels (2.034e-4).
        residual_channels, feedback_channels: channels of `u` and `fb` (the
            graph builder fills them in).
    """

    def __init__(self, filters, cell_depth=64, ff_filter_size=2,
                 in_out_filter_size=3, tau_filter_size=7, gate_filter_size=7,
                 feedback_filter_size=1, tau_offset=MEDIAN_TAU,
                 tau_multiplier=-MEDIAN_TAU, gate_offset=MEDIAN_GATE,
                 gate_multiplier=-MEDIAN_GATE, tau_nonlinearity="sigmoid",
                 gate_nonlinearity="tanh", input_activation="elu",
                 feedback_activation=None, cell_activation="elu",
                 out_activation="elu", out_residual=True,
                 kernel_initializer=None, weight_decay=MEDIAN_WEIGHT_DECAY,
                 residual_channels=None, feedback_channels=None, **kwargs):
        if kernel_initializer is not None:
            checks.initializer(kernel_initializer)
        super().__init__(
            filters, cell_depth, tau_filter_size, gate_filter_size,
            ff_filter_size, in_out_filter_size, feedback_filter_size,
            tau_offset, tau_multiplier, gate_offset, gate_multiplier,
            tau_nonlinearity, gate_nonlinearity, input_activation,
            feedback_activation, cell_activation, out_activation,
            weight_decay, residual_channels, feedback_channels, **kwargs)
        self.out_residual = bool(out_residual)
        self.kernel_initializer = kernel_initializer

    def _kernel_init(self):
        if self.kernel_initializer is None:
            return utils.get_initializer("variance_scaling",
                                         scale=MEDIAN_KERNEL_SCALE)
        return utils.get_initializer(self.kernel_initializer)

    def _kernel(self, tf1_name, shape):
        return self._tf1_weight(tf1_name, shape, self._kernel_init(),
                                utils.tf1_l2(self.weight_decay))

    def _bias(self, tf1_name, channels):
        return self._tf1_weight(tf1_name, (channels,), _zeros())

    def _ds(self, scope, in_ch, out_ch, size):
        """The original `_ds_conv` (kernel clipped to the map size)."""
        return self._separable(scope, in_ch, out_ch, size, self._kernel_init,
                               utils.tf1_l2(self.weight_decay), _zeros)

    def build(self, input_shape):
        _, height, width, channels = self._check_input_shape(input_shape)
        res, fb = self.residual_channels, self.feedback_channels
        if channels != self.filters:
            raise ValueError(
                f"MedianReciprocalGatedCell '{self.name}': the input has "
                f"{channels} channels but filters={self.filters}; the "
                f"input→cell and input→out kernels take `filters` channels.")
        if self.out_residual and res is None:
            raise ValueError(
                f"MedianReciprocalGatedCell '{self.name}': out_residual needs "
                f"residual_channels (the channels of the node's feed-forward "
                f"input); pass residual_channels=<int>.")
        self._hw, self._tf1_names = (height, width), {}
        depth, filters = self.cell_depth, self.filters
        self.input_to_cell_kernel = self._kernel(
            "cell/input_to_cell_weights",
            self.ff_filter_size + (filters, depth))
        self.input_to_cell_bias = self._bias("cell/input_to_cell_bias", depth)
        self.cell_tau = self._ds("cell/tau", depth, depth,
                                 self.tau_filter_size)
        self.cell_gate = self._ds("cell/out_to_cell", filters, depth,
                                  self.gate_filter_size)
        self.input_to_out_kernel = self._kernel(
            "out/input_to_out_weights",
            self.in_out_filter_size + (filters, filters))
        self.input_to_out_bias = self._bias("out/input_to_out_bias", filters)
        self.residual_kernel = None
        # As the original residual_add: a 1×1 projection when the channels
        # differ and, after a resize, always.
        if self.out_residual and (res != filters or self.residual_resized):
            self.residual_kernel = self._tf1_weight(
                "out/residual_add_weights", (1, 1, res, filters),
                utils.get_initializer("xavier"))
        if fb is not None:
            self.feedback_kernel = self._kernel(
                "out/feedback_to_out_weights",
                self.feedback_filter_size + (fb, filters))
            self.feedback_bias = self._bias("out/feedback_to_out_bias",
                                            filters)
        self.out_tau = self._ds("out/tau", filters, filters,
                                self.tau_filter_size)
        self.out_gate = self._ds("out/gate", depth, filters,
                                 self.gate_filter_size)
        super().build(input_shape)

    def call(self, inputs, states, training=None, residual=None,
             feedback=None):
        self._check_side_inputs(inputs, residual, feedback,
                                self.out_residual)
        c_prev, h_prev = states
        x = utils.get_activation(self.input_activation)(inputs)
        drive = conv2d(x, self.input_to_cell_kernel, self.input_to_cell_bias)
        cell = self._gated(c_prev,
                           depthwise_separable_conv2d(c_prev, *self.cell_tau),
                           depthwise_separable_conv2d(h_prev, *self.cell_gate),
                           drive)
        cell = utils.get_activation(self.cell_activation)(cell)
        out_in = conv2d(x, self.input_to_out_kernel, self.input_to_out_bias)
        if self.out_residual:
            out_in = out_in + (residual if self.residual_kernel is None
                               else conv2d(residual, self.residual_kernel))
        if feedback is not None:
            fb_act = utils.get_activation(self.feedback_activation)
            out_in = out_in + fb_act(conv2d(feedback, self.feedback_kernel,
                                            self.feedback_bias))
        out = self._gated(h_prev,
                          depthwise_separable_conv2d(h_prev, *self.out_tau),
                          depthwise_separable_conv2d(c_prev, *self.out_gate),
                          out_in)
        out = utils.get_activation(self.out_activation)(out)
        return out, [cell, out]
