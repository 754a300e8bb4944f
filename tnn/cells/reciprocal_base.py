"""What the two Reciprocal Gated Cells share: the arguments of the gated
recursion, the state `[c, h]`, the gate `_gated` and the separable convs."""

from tnn import utils
from tnn.cells import checks
from tnn.cells.side_input_cell import SideInputCell

NONLINEARITIES = ("sigmoid", "tanh")
ACTIVATIONS = ("input_activation", "feedback_activation", "cell_activation",
               "out_activation")
FILTER_SIZES = ("tau_filter_size", "gate_filter_size", "ff_filter_size",
                "in_out_filter_size", "feedback_filter_size")


class ReciprocalGateBase(SideInputCell):
    """A memory `c` and an output `h` gating each other:

        new = F_tau(tau_pre) * prev + F_g(gate_pre) * drive

    with `F_tau(z) = tau_offset + tau_multiplier * f_tau(z)` and `F_g(z) =
    gate_offset + gate_multiplier * f_g(z)`. State `[c, h]`, output `h`.
    The subclasses' docstrings describe the arguments.
    """

    TF1_SCOPE = "ReciprocalGateCell"
    takes_resized_residual = True

    def __init__(self, filters, cell_depth, tau_filter_size,
                 gate_filter_size, ff_filter_size, in_out_filter_size,
                 feedback_filter_size, tau_offset, tau_multiplier,
                 gate_offset, gate_multiplier, tau_nonlinearity,
                 gate_nonlinearity, input_activation, feedback_activation,
                 cell_activation, out_activation, weight_decay,
                 residual_channels=None, feedback_channels=None, **kwargs):
        utils.check_positive_int(filters, "filters")
        utils.check_positive_int(cell_depth, "cell_depth")
        utils.check_choice(tau_nonlinearity, "tau_nonlinearity",
                           NONLINEARITIES)
        utils.check_choice(gate_nonlinearity, "gate_nonlinearity",
                           NONLINEARITIES)
        activations = (input_activation, feedback_activation,
                       cell_activation, out_activation)
        for name, value in zip(ACTIVATIONS, activations):
            checks.activation_name(value, name)
        utils.tf1_l2(weight_decay)
        sizes = (tau_filter_size, gate_filter_size, ff_filter_size,
                 in_out_filter_size, feedback_filter_size)
        sizes = [utils.as_pair(size, name)
                 for name, size in zip(FILTER_SIZES, sizes)]
        super().__init__(filters, residual_channels, feedback_channels,
                         **kwargs)
        self.cell_depth = cell_depth
        (self.tau_filter_size, self.gate_filter_size, self.ff_filter_size,
         self.in_out_filter_size, self.feedback_filter_size) = sizes
        self.tau_offset = float(tau_offset)
        self.tau_multiplier = float(tau_multiplier)
        self.gate_offset = float(gate_offset)
        self.gate_multiplier = float(gate_multiplier)
        self.tau_nonlinearity = tau_nonlinearity
        self.gate_nonlinearity = gate_nonlinearity
        (self.input_activation, self.feedback_activation,
         self.cell_activation, self.out_activation) = activations
        self.weight_decay = weight_decay

    def state_shapes(self, input_shape):
        height, width = input_shape[1], input_shape[2]
        return [(height, width, self.cell_depth),
                (height, width, self.filters)]

    def _gated(self, prev, tau_pre, gate_pre, drive):
        """`F_tau(tau_pre) * prev + F_g(gate_pre) * drive`."""
        f_tau = utils.get_activation(self.tau_nonlinearity)
        f_gate = utils.get_activation(self.gate_nonlinearity)
        return ((self.tau_offset + self.tau_multiplier * f_tau(tau_pre)) * prev
                + (self.gate_offset + self.gate_multiplier * f_gate(gate_pre))
                * drive)

    def _clip(self, size):
        """A kernel size clipped to the map size `self._hw` (original)."""
        return tuple(min(k, n) if n else k for k, n in zip(size, self._hw))

    def _separable(self, scope, in_ch, out_ch, size, kernel_init,
                   regularizer, bias_init):
        """The weights of the original `_ds_conv`: a depthwise kernel
        (clipped to the map), a pointwise kernel and a bias. `kernel_init`
        and `bias_init` make initializers, called in creation order (the
        order fixes their seeds)."""
        kh, kw = self._clip(size)
        depthwise = self._tf1_weight(f"{scope}/depthwise_weights",
                                     (kh, kw, in_ch, 1), kernel_init(),
                                     regularizer)
        pointwise = self._tf1_weight(f"{scope}/pointwise_weights",
                                     (1, 1, in_ch, out_ch), kernel_init(),
                                     regularizer)
        return (depthwise, pointwise,
                self._tf1_weight(f"{scope}/bias", (out_ch,), bias_init()))
