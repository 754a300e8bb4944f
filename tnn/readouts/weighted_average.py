"""`w_avg`: per-class softmax-over-time weighted average."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import BetaDecoder, beta_softmax


@tnn_export
class WeightedAverageDecoder(BetaDecoder):
    """`out_k = Σ_t softmax_β(L, time)_{t,k} · L_{t,k}`.

    Each class's logits are averaged over time with weights that favour the
    steps where that logit is largest. β is `normalize/softmax_beta`:
    constant 1 by default; with `trainable_beta=True` it is learned end to
    end, initialised U[0, 1) as in TF1 (or at `beta` if given). β = 0 gives
    the uniform average.

    Args:
        beta: initial (or fixed) value of β; None = 1.0 if fixed, U[0, 1)
            if trainable.
        trainable_beta: learn β.
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def decode(self, logits):
        weights = beta_softmax(logits, self.normalize_softmax_beta, axis=1)
        return ops.sum(weights * logits, axis=1)
