"""The time-decay ("memory") cell of the `timedecay_*` zoo models."""

import keras
from keras import ops

from tnn.api import tnn_export
from tnn.cells import checks
from tnn.cells.base import RecurrentCell


@tnn_export
class TimeDecayCell(RecurrentCell):
    """Leaky integrator `s_t = tau * s_{t-1} + x_t`; the output is `s_t`.

    This is the original `memory` op (TNN_REFERENCE §3.1, §1.5): one scalar
    decay `tau` per layer (variable `memory_decay`, shape `[1]`), no
    nonlinearity and no constraint on `tau`. The state has the shape of the
    input. With `decay_init=0` and `learnable=False` the cell is a
    pass-through, as in every plain feed-forward zoo layer. At t=0 (zero
    state) the input reaches the output unchanged (bypass); there is no
    gating.

    Args:
        decay_init: initial value of `tau` (0 in the zoo).
        learnable: whether `tau` is trainable (True for the zoo's cell
            layers, False for the pass-through layers).
        **kwargs: `keras.layers.Layer` arguments (name, dtype, ...).

    Example:
        >>> cell = TimeDecayCell(decay_init=0.5)
        >>> cell.build((2, 8, 8, 4))
        >>> states = cell.get_initial_state(2)
        >>> out, states = cell(keras.ops.ones((2, 8, 8, 4)), states)
    """

    def __init__(self, decay_init=0.0, learnable=True, **kwargs):
        decay_init = checks.number(decay_init, "decay_init")
        checks.boolean(learnable, "learnable")
        super().__init__(**kwargs)
        self.decay_init = decay_init
        self.learnable = learnable

    def build(self, input_shape):
        if len(input_shape) < 2 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                f"TimeDecayCell '{self.name}' needs an input of known shape "
                f"[B, ...] (NHWC maps or [B, D] vectors), got "
                f"{tuple(input_shape)}.")
        self.memory_decay = self.add_weight(
            name="memory_decay", shape=(1,),
            initializer=keras.initializers.Constant(self.decay_init),
            trainable=self.learnable)
        super().build(input_shape)

    def state_shapes(self, input_shape):
        """[input shape without the batch axis]: the state `s`.

        Works for NHWC maps and for [B, D] vectors (fc nodes), like the
        original `memory`.
        """
        return [tuple(input_shape[1:])]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, states, training=None):
        decay = ops.cast(self.memory_decay, inputs.dtype)
        new_state = decay * states[0] + inputs
        return new_state, [new_state]

    def tf1_variable_names(self):
        """Keras variable path (relative to the cell) -> TF1 name.

        TF1 names are relative to `tnn_model/<node>/`.
        """
        return {"memory_decay": "memory_decay"}
