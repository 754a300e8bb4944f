"""Base of the cells that take the node's residual and feedback inputs
(ReciprocalGated, MedianReciprocalGated, EfficientGate)."""

from tnn import utils
from tnn.cells import checks
from tnn.cells.base import RecurrentCell


class SideInputCell(RecurrentCell):
    """A cell with `residual=` / `feedback=` inputs and TF1-named weights.

    Subclasses set `TF1_SCOPE` and create their weights with `_tf1_weight`,
    which records the TF1 name returned by `tf1_variable_names`. The
    output has `filters` channels.

    Args:
        filters: output channels (the original's `out_depth`).
        residual_channels, feedback_channels: channels of the residual `u`
            and of the feedback `fb` (the graph builder fills them in; None
            means no such input).
        residual_resized: the residual was resized to the input's H×W from
            another size (the graph builder sets it when the pre-memory
            changes the size). As the original `residual_add`, the residual
            is then always projected by a 1×1 conv, even when the channel
            counts agree. Only cells with `takes_resized_residual` accept it.
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).
    """

    accepts_residual = True
    accepts_feedback = True
    takes_resized_residual = False
    TF1_SCOPE = None

    def __init__(self, filters, residual_channels=None,
                 feedback_channels=None, residual_resized=False, **kwargs):
        utils.check_positive_int(filters, "filters")
        if residual_resized and not self.takes_resized_residual:
            raise ValueError(
                f"{type(self).__name__} takes a residual of its input's H×W "
                f"only (residual_resized=True is not supported); keep the "
                f"spatial size in the pre-memory (move strides / pools "
                f"after the cell).")
        residual_channels = checks.optional_channels(residual_channels,
                                                     "residual_channels")
        feedback_channels = checks.optional_channels(feedback_channels,
                                                     "feedback_channels")
        super().__init__(**kwargs)
        self.filters = filters
        self.residual_channels = residual_channels
        self.feedback_channels = feedback_channels
        self.residual_resized = bool(residual_resized)
        self._tf1_names = {}

    def get_config(self):
        config = super().get_config()
        if self.residual_resized:
            config["residual_resized"] = True
        return config

    def _tf1_weight(self, tf1_name, shape, initializer, regularizer=None):
        """Creates `<TF1_SCOPE>/<tf1_name>` (Keras name: "/" → "_",
        "weights" → "kernel")."""
        name = tf1_name.replace("weights", "kernel").replace("/", "_")
        self._tf1_names[name] = f"{self.TF1_SCOPE}/{tf1_name}"
        return self.add_weight(name=name, shape=tuple(int(s) for s in shape),
                               initializer=initializer,
                               regularizer=regularizer)

    def tf1_variable_names(self):
        """{path relative to the cell: TF1 name under `tnn_model/<node>/`}."""
        return dict(self._tf1_names)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.filters,)

    def _check_side_inputs(self, inputs, residual, feedback, needs_residual):
        """Checks `residual=` / `feedback=` against the channel counts."""
        checked = [("feedback", feedback, self.feedback_channels)]
        if needs_residual:
            checked.append(("residual", residual, self.residual_channels))
        where = f"{type(self).__name__} '{self.name}'"
        for name, tensor, channels in checked:
            if (tensor is None) != (channels is None):
                given = "None" if tensor is None else "a tensor"
                raise ValueError(
                    f"{where} got {name}={given} but {name}_channels="
                    f"{channels}; build the cell with {name}_channels=<int> "
                    f"and pass {name}= at every call.")
            expected = tuple(inputs.shape[1:3]) + (channels,)
            if tensor is not None and tuple(tensor.shape[1:]) != expected:
                raise ValueError(
                    f"{where}: {name} must be NHWC of shape (B,) + "
                    f"{expected} (the input's H×W; resize it first), got "
                    f"{tuple(tensor.shape)}.")
