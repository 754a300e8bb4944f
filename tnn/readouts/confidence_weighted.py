"""`w_time_avg`: average over time weighted by the compute_alpha α."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder, beta_softmax


@tnn_export
class ConfidenceWeightedDecoder(TemporalDecoder):
    """`out = Σ_t α_t L_t` with `α` from `compute_alpha`.

    `P = softmax_β1(L, classes)`, `m_t = max_k P_{t,k}`, `α =
    softmax_β2(m, time)`: steps where the readout is confident weigh more.
    β1 = `probs/softmax_beta`, β2 = `alpha/softmax_beta`; they are learned
    end to end with `trainable_alpha_betas=True` (U[0, 1) init as in TF1,
    or `alpha_betas` if given), else constant 1.

    Args:
        **kwargs: window (`start`, `end`), `alpha_betas`,
            `trainable_alpha_betas`, `seed`, see `TemporalDecoder`.
    """

    def decode(self, logits):
        probs = beta_softmax(logits, self.probs_softmax_beta, axis=2)
        max_probs = ops.max(probs, axis=2, keepdims=True)
        alpha = beta_softmax(max_probs, self.alpha_softmax_beta, axis=1)
        return ops.sum(alpha * logits, axis=1)
