"""Base of the convolutional RNN cells (GRU, LSTM, UGRNN, IntersectionRNN,
vanilla): a state of `filters` channels and convolutions of `[x_t, h]`."""

from keras import ops

from tnn import utils
from tnn.cells import checks
from tnn.cells.base import RecurrentCell, conv2d


class ConvCell(RecurrentCell):
    """Arguments, weights and the gate convolution shared by the conv cells.

    Validates and stores the arguments every conv cell has; a subclass
    checks its own arguments, calls `super().__init__` and stores them.
    `_add_conv` creates a `<prefix>kernel` / `<prefix>bias` pair with the
    cell's initializers and TF1-convention weight decays, and `_gates`
    applies one such pair to the channel concatenation `[x_t, h]` (input
    channels first, as in the original) and splits the result.

    Args:
        filters: state/output channels (the original's `out_depth`).
        kernel_size: int or pair, stride-1 SAME convolutions.
        kernel_initializer: kernel initializer (TF1 names allowed).
        bias_initializer: bias initializer (a number means a constant).
        weight_decay: TF1-convention L2 on the kernels (None/0: none).
        bias_weight_decay: TF1-convention L2 on the biases (None/0: none).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    def __init__(self, filters, kernel_size, kernel_initializer,
                 bias_initializer, weight_decay, bias_weight_decay,
                 **kwargs):
        utils.check_positive_int(filters, "filters")
        kernel_size = utils.as_pair(kernel_size, "kernel_size")
        checks.initializer(kernel_initializer)
        checks.initializer(bias_initializer)
        checks.weight_decay(weight_decay, "weight_decay")
        checks.weight_decay(bias_weight_decay, "bias_weight_decay")
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.weight_decay = weight_decay
        self.bias_weight_decay = bias_weight_decay

    def _add_conv(self, prefix, in_channels, out_channels,
                  bias_initializer=None):
        """Creates and returns `(<prefix>kernel, <prefix>bias)`."""
        kernel = self._add_kernel(
            f"{prefix}kernel", self.kernel_size, in_channels, out_channels,
            self.kernel_initializer, utils.tf1_l2(self.weight_decay))
        if bias_initializer is None:
            bias_initializer = self.bias_initializer
        bias = self._add_bias(f"{prefix}bias", out_channels,
                              bias_initializer,
                              utils.tf1_l2(self.bias_weight_decay))
        return kernel, bias

    @staticmethod
    def _gates(inputs, h, kernel, bias, parts):
        """`W * [x_t, h] + b`, split into `parts` along the channels."""
        z = conv2d(ops.concatenate([inputs, h], axis=-1), kernel, bias)
        return ops.split(z, parts, axis=-1) if parts > 1 else z

    def state_shapes(self, input_shape):
        """[(H, W, filters)]: the state `h` (input_shape NHWC or HWC)."""
        return [tuple(input_shape[-3:-1]) + (self.filters,)]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)
