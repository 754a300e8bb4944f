"""`mlp`: a fully connected network on the flattened window."""

from keras import ops

from tnn import utils
from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder, check_weight_decay


@tnn_export
class MLPDecoder(TemporalDecoder):
    """Flatten `[B, T·K]` → fc layers (elu) → fc K (linear).

    As the original: hidden layers are TF1 `fully_connected` (Xavier
    weights, zero biases, no weight decay; weights `fc<i>_weights`,
    `fc<i>_biases`, i from 1); the final layer (`fc_final_*`) has L2
    weight decay on weights and biases (TF1 `l2_regularizer` convention,
    i.e. Keras L2(weight_decay / 2)). T and K must be static.

    Args:
        hidden_units: sizes of the hidden layers (default one of 250).
        activation: activation of the hidden layers (default "elu").
        weight_decay: TF1 L2 scale of the final layer (default 1e-4, the
            original `temporal_decoder` default).
        kernel_initializer: initializer of all weights (default "xavier").
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def __init__(self, hidden_units=(250,), activation="elu",
                 weight_decay=1e-4, kernel_initializer="xavier", **kwargs):
        try:
            hidden_units = tuple(hidden_units)
        except TypeError:
            raise ValueError(f"hidden_units must be a list of positive ints, "
                             f"got {hidden_units!r}.") from None
        for units in hidden_units:
            utils.check_positive_int(units, "each of hidden_units")
        utils.get_activation(activation)
        weight_decay = check_weight_decay(weight_decay)
        utils.get_initializer(kernel_initializer)
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.activation = activation
        self.weight_decay = weight_decay
        self.kernel_initializer = kernel_initializer
        self._activation_fn = utils.get_activation(activation)

    def _layer_names(self):
        return [f"fc{i}" for i in range(1, len(self.hidden_units) + 1)] + [
            "fc_final"]

    def _build_decoder(self, num_steps, num_classes):
        if num_steps is None or num_classes is None:
            raise ValueError(
                f"MLPDecoder '{self.name}' needs a known number of steps and "
                f"classes, got {num_steps} steps and {num_classes} classes; "
                f"give the logits a static shape.")
        sizes = list(self.hidden_units) + [num_classes]
        fan_in = num_steps * num_classes
        regularizer = utils.tf1_l2(self.weight_decay)
        self.dense_weights = []
        for i, (name, units) in enumerate(zip(self._layer_names(), sizes)):
            final = i == len(sizes) - 1
            kernel = self.add_weight(
                name=f"{name}_weights", shape=(fan_in, units),
                initializer=utils.get_initializer(self.kernel_initializer),
                regularizer=regularizer if final else None)
            bias = self.add_weight(
                name=f"{name}_biases", shape=(units,), initializer="zeros",
                regularizer=regularizer if final else None)
            self.dense_weights.append((kernel, bias))
            fan_in = units

    def decode(self, logits):
        x = ops.reshape(logits, (-1, self.num_steps * self.num_classes))
        last = len(self.dense_weights) - 1
        for i, (kernel, bias) in enumerate(self.dense_weights):
            x = ops.matmul(x, ops.cast(kernel, x.dtype)) + ops.cast(
                bias, x.dtype)
            if i < last:
                x = self._activation_fn(x)
        return x

    def get_config(self):
        config = super().get_config()
        config.update(hidden_units=list(self.hidden_units),
                      activation=self.activation,
                      weight_decay=self.weight_decay,
                      kernel_initializer=self.kernel_initializer)
        return config
