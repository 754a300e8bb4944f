"""`conv1d`: 1-D convolutions over time at several window lengths."""

from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder, check_weight_decay

_POOLS = ("max", "avg")


@tnn_export
class Conv1DDecoder(TemporalDecoder):
    """For each window length w: conv over time → pool over time; concat → fc.

    For w in `window_lengths` (default 2…6): a VALID 1-D convolution over
    time with `num_filters` filters (kernel `[w, K, F]`, bias), optional
    activation, then max (or mean) over time; the pooled `[B, F]` vectors
    are concatenated and a fully connected layer maps them to K classes.
    All kernels and biases get L2 weight decay (TF1 `l2_regularizer`
    convention). Weights: `c_<w>_kernel`, `c_<w>_bias`,
    `fc_final_weights`, `fc_final_biases`. As in the original, no
    compute_alpha variables. The window must hold ≥ max(window_lengths)
    steps.

    Args:
        window_lengths: temporal kernel sizes.
        num_filters: filters per window length (an int or one per length).
        pool_type: "max" or "avg" over time.
        activation_conv: activation after each convolution (None = linear).
        activation_fc: activation of the output layer (None = linear).
        weight_decay: TF1 L2 scale (default 1e-4).
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    creates_alpha_variables = False

    def __init__(self, window_lengths=(2, 3, 4, 5, 6), num_filters=4,
                 pool_type="max", activation_conv=None, activation_fc=None,
                 weight_decay=1e-4, **kwargs):
        try:
            window_lengths = tuple(window_lengths)
        except TypeError:
            raise ValueError(f"window_lengths must be a list of positive "
                             f"ints, got {window_lengths!r}.") from None
        if not window_lengths:
            raise ValueError("window_lengths must not be empty.")
        for w in window_lengths:
            utils.check_positive_int(w, "each of window_lengths")
        if len(set(window_lengths)) != len(window_lengths):
            raise ValueError(f"window_lengths must be distinct, got "
                             f"{window_lengths!r}.")
        if isinstance(num_filters, int):
            num_filters = (num_filters,) * len(window_lengths)
        num_filters = tuple(num_filters)
        if len(num_filters) != len(window_lengths):
            raise ValueError(
                f"num_filters must be an int or have one entry per window "
                f"length ({len(window_lengths)}), got {num_filters!r}.")
        for f in num_filters:
            utils.check_positive_int(f, "each of num_filters")
        utils.check_choice(pool_type, "pool_type", _POOLS)
        utils.get_activation(activation_conv)
        utils.get_activation(activation_fc)
        weight_decay = check_weight_decay(weight_decay)
        super().__init__(**kwargs)
        self.window_lengths = window_lengths
        self.num_filters = num_filters
        self.pool_type = pool_type
        self.activation_conv = activation_conv
        self.activation_fc = activation_fc
        self.weight_decay = weight_decay

    def _build_decoder(self, num_steps, num_classes):
        if num_steps is None or num_classes is None:
            raise ValueError(
                f"Conv1DDecoder '{self.name}' needs a known number of steps "
                f"and classes, got {num_steps} steps and {num_classes} "
                f"classes; give the logits a static shape.")
        if num_steps < max(self.window_lengths):
            raise ValueError(
                f"Conv1DDecoder '{self.name}': the window holds {num_steps} "
                f"steps, fewer than the longest temporal kernel "
                f"({max(self.window_lengths)}); use shorter window_lengths "
                f"or a longer window.")
        regularizer = utils.tf1_l2(self.weight_decay)
        self.conv_weights = []
        for w, filters in zip(self.window_lengths, self.num_filters):
            kernel = self.add_weight(
                name=f"c_{w}_kernel", shape=(w, num_classes, filters),
                initializer="glorot_uniform", regularizer=regularizer)
            bias = self.add_weight(
                name=f"c_{w}_bias", shape=(filters,), initializer="zeros",
                regularizer=regularizer)
            self.conv_weights.append((kernel, bias))
        self.fc_final_weights = self.add_weight(
            name="fc_final_weights",
            shape=(sum(self.num_filters), num_classes),
            initializer="glorot_uniform", regularizer=regularizer)
        self.fc_final_biases = self.add_weight(
            name="fc_final_biases", shape=(num_classes,),
            initializer="zeros", regularizer=regularizer)

    def decode(self, logits):
        act_conv = utils.get_activation(self.activation_conv)
        act_fc = utils.get_activation(self.activation_fc)
        pooled = []
        for kernel, bias in self.conv_weights:
            y = ops.conv(logits, ops.cast(kernel, logits.dtype), strides=1,
                         padding="valid", data_format="channels_last")
            y = act_conv(y + ops.cast(bias, y.dtype))
            if self.pool_type == "max":
                pooled.append(ops.max(y, axis=1))
            else:
                pooled.append(ops.mean(y, axis=1))
        x = ops.concatenate(pooled, axis=-1)
        x = ops.matmul(x, ops.cast(self.fc_final_weights, x.dtype))
        return act_fc(x + ops.cast(self.fc_final_biases, x.dtype))

    def get_config(self):
        config = super().get_config()
        config.update(window_lengths=list(self.window_lengths),
                      num_filters=list(self.num_filters),
                      pool_type=self.pool_type,
                      activation_conv=self.activation_conv,
                      activation_fc=self.activation_fc,
                      weight_decay=self.weight_decay)
        return config
