"""`max_conf` (zoo `tmaxconf`): the step of highest confidence."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import BetaDecoder, beta_softmax


@tnn_export
class MaxConfidenceDecoder(BetaDecoder):
    """Per example, the logits of the step whose top probability is highest.

    `P = softmax_β(L, classes)`, `t* = argmax_t max_k P_{t,k}` (first step
    on ties), output `L_{t*}`. β is `normalize/softmax_beta`. The zoo's
    `*_tmaxconf` models were built with `trainable=True`, but no gradient
    reaches β through the argmax (none is returned for it): load its value
    from the checkpoint, it changes which step is chosen. Gradients do flow
    to the selected step's logits.

    Args:
        beta: value of β; None = 1.0 if fixed, U[0, 1) if trainable (TF1).
        trainable_beta: mark β trainable (as the zoo models; it still gets
            no gradient).
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def selected_steps(self, logits):
        """`t*` `[B]` (int) for windowed logits `[B, T, K]`."""
        probs = beta_softmax(logits, self.normalize_softmax_beta, axis=2)
        return ops.argmax(ops.max(probs, axis=2), axis=1)

    def decode(self, logits):
        return self.take_steps(logits, self.selected_steps(logits))
