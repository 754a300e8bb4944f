"""The Efficient Gate Cell: a recurrent MBConv block (tnn
`efficientgaternn.py`; not in the model zoo)."""

import keras
from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.base import conv2d, depthwise_conv2d
from tnn.cells.side_input_cell import SideInputCell


@tnn_export
class EfficientGateCell(SideInputCell):
    """Recurrent MBConv (EfficientNet) block of the tnn library.

    The node's pre-memory conv expands the input to `C` channels (`x`); the
    cell keeps a state `s` with `C` channels and projects back to `filters`
    channels. With `act` the activation, `u` the residual (the node's
    feed-forward harbor input) and `fb` the resized feedback:

        upd  = [act(W_fb * fb)] + act(DW_k(x_t + s_{t-1}))   # DW: depthwise
        s_t  = s_{t-1} + upd
        z    = s_t            (x_t + s_{t-1} with bypass_state)
        z    = SE(z)          (with se_ratio > 0)
        out  = W_proj^{1×1} * z                              # no activation
        out  = dropconnect(out) + u            if u has `filters` channels
             | out with u added to its first C_u channels (residual_add)
        cell_t = u if res_cell else cell_{t-1}

    `SE(z) = sigmoid(W_e * act(W_r * mean_HW(z) + b_r) + b_e) * z` squeezes
    to `max(1, int(se_ratio * C_u))` channels (`C_u = filters` without a
    residual). All convs are stride-1 SAME and bias-free except the SE
    convs. State `[cell, s]` (`cell` has `cell_depth` channels, 0 by
    default); output `out`. `drop_connect_rate` is a **keep** probability
    as in the original (1.0 = off); dropping happens only with
    `training=True`. Batch norm / group norm are not supported: the
    original keeps separate BN variables for every time step
    (`post_conv_BN_t<k>`, capped by `max_internal_time`), which needs a time
    index the cell API does not have; both raise a ValueError.

    Args:
        filters: output channels (the original's `out_depth`, the harbor's
            channel count).
        tau_filter_size: kernel of the depthwise state conv.
        cell_depth: channels of the pass-through `cell` state.
        bypass_state: feed `x_t + s_{t-1}` instead of `s_t` to the output.
        feedback_filter_size: kernel of the feedback conv.
        activation: activation name ("swish").
        kernel_initializer: "normal" (EfficientNet: N(0, sqrt(2 / fan_out)))
            or any initializer spec.
        weight_decay: TF1 L2 weight decay on the feedback, depthwise and
            projection kernels (the original's SE convs get none).
        se_ratio: squeeze-and-excitation ratio (0 = no SE).
        residual_add: add `u` onto the first channels when its channel count
            differs from `filters`.
        res_cell: replace the `cell` state by `u` (needs `cell_depth ==
            residual_channels`).
        drop_connect_rate: keep probability of the residual branch.
        batch_norm, group_norm: must be False.
        residual_channels, feedback_channels: channels of `u` and `fb` (the
            graph builder fills them in; None = no residual / no feedback).
        seed: seed of the drop-connect masks.
    """

    TF1_SCOPE = "EfficientGateCell"

    def __init__(self, filters, tau_filter_size=3, cell_depth=0,
                 bypass_state=False, feedback_filter_size=1,
                 activation="swish", kernel_initializer="normal",
                 weight_decay=None, se_ratio=0.0, residual_add=False,
                 res_cell=False, drop_connect_rate=1.0, batch_norm=False,
                 group_norm=False, residual_channels=None,
                 feedback_channels=None, seed=None, **kwargs):
        if isinstance(cell_depth, bool) or not isinstance(cell_depth, int) \
                or cell_depth < 0:
            raise ValueError(f"cell_depth must be an int >= 0, got "
                             f"{cell_depth!r}.")
        checks.activation_name(activation, "activation")
        utils.tf1_l2(weight_decay)
        if float(se_ratio) < 0:
            raise ValueError(f"se_ratio must be >= 0 (0 = no SE), got "
                             f"{se_ratio!r}.")
        if not 0.0 < float(drop_connect_rate) <= 1.0:
            raise ValueError(
                f"drop_connect_rate is a keep probability in (0, 1] (1.0 = "
                f"off), got {drop_connect_rate!r}.")
        if batch_norm or group_norm:
            raise ValueError(
                "EfficientGateCell does not support batch_norm / group_norm: "
                "the original keeps one set of normalization variables per "
                "time step (post_conv_BN_t<k>), which needs a time index the "
                "cell API does not have; set both to False.")
        if kernel_initializer != "normal":
            checks.initializer(kernel_initializer)
        tau_filter_size = utils.as_pair(tau_filter_size, "tau_filter_size")
        feedback_filter_size = utils.as_pair(feedback_filter_size,
                                             "feedback_filter_size")
        super().__init__(filters, residual_channels, feedback_channels,
                         **kwargs)
        self.tau_filter_size = tau_filter_size
        self.cell_depth = cell_depth
        self.bypass_state = bool(bypass_state)
        self.feedback_filter_size = feedback_filter_size
        self.activation = activation
        self.kernel_initializer = kernel_initializer
        self.weight_decay = weight_decay
        self.se_ratio = float(se_ratio)
        self.residual_add = bool(residual_add)
        self.res_cell = bool(res_cell)
        self.drop_connect_rate = float(drop_connect_rate)
        self.batch_norm = bool(batch_norm)
        self.group_norm = bool(group_norm)
        self.seed = seed
        self.seed_generator = (keras.random.SeedGenerator(seed)
                               if self.drop_connect_rate < 1.0 else None)

    def _weight(self, tf1_name, shape, initializer=None, decay=True):
        """Creates `EfficientGateCell/<tf1_name>` (a kernel by default)."""
        if initializer is None and self.kernel_initializer == "normal":
            initializer = keras.initializers.VarianceScaling(
                scale=2.0, mode="fan_out", distribution="untruncated_normal")
        elif initializer is None:
            initializer = utils.get_initializer(self.kernel_initializer)
        return self._tf1_weight(
            tf1_name, shape, initializer,
            utils.tf1_l2(self.weight_decay) if decay else None)

    def build(self, input_shape):
        _, _, _, channels = self._check_input_shape(input_shape)
        res, fb = self.residual_channels, self.feedback_channels
        where = f"EfficientGateCell '{self.name}'"
        if self.res_cell and res != self.cell_depth:
            raise ValueError(
                f"{where}: res_cell copies the residual into the cell state, "
                f"so residual_channels ({res}) must equal cell_depth "
                f"({self.cell_depth}).")
        if self.residual_add and res is not None and res > self.filters:
            raise ValueError(
                f"{where}: residual_add adds the residual onto the first "
                f"channels of the output, so residual_channels ({res}) must "
                f"be <= filters ({self.filters}).")
        self._tf1_names = {}
        self.feedback_kernel = None
        if fb is not None:
            self.feedback_kernel = self._weight(
                "feedback_to_state/weights",
                self.feedback_filter_size + (fb, channels))
        self.depthwise_kernel = self._weight(
            "state_to_state/weights", self.tau_filter_size + (channels, 1))
        self.se_channels = 0
        if self.se_ratio > 0:
            squeezed = self.filters if res is None else res
            self.se_channels = max(1, int(self.se_ratio * squeezed))
            zeros = utils.get_initializer("zeros")
            self.se_reduce_kernel = self._weight(
                "se_reduce/weights", (1, 1, channels, self.se_channels),
                decay=False)
            self.se_reduce_bias = self._weight(
                "se_reduce/bias", (self.se_channels,), zeros, decay=False)
            self.se_expand_kernel = self._weight(
                "se_expand/weights", (1, 1, self.se_channels, channels),
                decay=False)
            self.se_expand_bias = self._weight(
                "se_expand/bias", (channels,), zeros, decay=False)
        self.projection_kernel = self._weight(
            "state_to_out/weights", (1, 1, channels, self.filters))
        super().build(input_shape)

    def state_shapes(self, input_shape):
        height, width, channels = input_shape[1:4]
        return [(height, width, self.cell_depth), (height, width, channels)]

    @property
    def batch_dependent(self):
        """Drop-connect draws a mask per example in training."""
        return self.drop_connect_rate < 1.0

    def _drop_connect(self, x, training):
        keep = self.drop_connect_rate
        if not training or keep >= 1.0:
            return x
        noise = keras.random.uniform((ops.shape(x)[0], 1, 1, 1),
                                     seed=self.seed_generator,
                                     dtype=self.compute_dtype)
        return x / keep * ops.floor(keep + noise)

    def call(self, inputs, states, training=None, residual=None,
             feedback=None):
        self._check_side_inputs(inputs, residual, feedback, True)
        act = utils.get_activation(self.activation)
        cell_prev, state_prev = states
        update = act(depthwise_conv2d(inputs + state_prev,
                                      self.depthwise_kernel))
        if feedback is not None:
            update = act(conv2d(feedback, self.feedback_kernel)) + update
        state = state_prev + update
        cell = residual if self.res_cell else cell_prev
        z = inputs + state_prev if self.bypass_state else state
        if self.se_channels:
            squeezed = ops.mean(z, axis=(1, 2), keepdims=True)
            squeezed = act(conv2d(squeezed, self.se_reduce_kernel,
                                  self.se_reduce_bias))
            z = ops.sigmoid(conv2d(squeezed, self.se_expand_kernel,
                                   self.se_expand_bias)) * z
        out = conv2d(z, self.projection_kernel)
        if residual is not None and residual.shape[-1] == self.filters:
            out = self._drop_connect(out, training) + residual
        elif residual is not None and self.residual_add:
            out = self._drop_connect(out, training)
            channels = residual.shape[-1]
            out = ops.concatenate([out[..., :channels] + residual,
                                   out[..., channels:]], axis=-1)
        return out, [cell, state]
