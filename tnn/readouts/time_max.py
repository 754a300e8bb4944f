"""`time_max`: per class, the logit at that class's most probable step."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import BetaDecoder, beta_softmax


@tnn_export
class TimeMaxDecoder(BetaDecoder):
    """Per class k: `t*_k = argmax_t P_{t,k}`, output `L_{t*_k, k}`.

    `P = softmax_β(L, classes)` with β = `normalize/softmax_beta`. No
    gradient reaches β (argmax); the selected logits get gradients.

    Args:
        beta: value of β; None = 1.0 if fixed, U[0, 1) if trainable (TF1).
        trainable_beta: mark β trainable (it gets no gradient).
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def decode(self, logits):
        probs = beta_softmax(logits, self.normalize_softmax_beta, axis=2)
        steps = ops.argmax(probs, axis=1)
        return ops.take_along_axis(logits, steps[:, None, :], axis=1)[:, 0]
