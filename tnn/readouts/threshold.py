"""`threshold` (original `thresh`, zoo `dthresh`): first confident step."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import (BetaDecoder, beta_softmax, check_bool,
                               check_optional_float)


@tnn_export
class ThresholdDecoder(BetaDecoder):
    """Per example, the logits of the first step whose confidence ≥ θ.

    `P = softmax_β(L, classes)`, `m_t = max_k P_{t,k}`; `t*` = the first
    t with `m_t ≥ θ`, else `argmax_t m_t`; output `L_{t*}`. θ is
    `decoder_threshold` (0.9 by default), β is `normalize/softmax_beta`
    (1 by default); the zoo's `*_dthresh` models keep both fixed. Neither
    gets a gradient (comparison and argmax); the selected logits do.

    Args:
        threshold: θ; None = 0.9 if fixed, U[0, 1) if trainable (TF1).
        beta: β; None = 1.0 if fixed, U[0, 1) if trainable (TF1).
        trainable_threshold: mark θ trainable (no gradient reaches it).
        trainable_beta: mark β trainable (no gradient reaches it).
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def __init__(self, threshold=None, beta=None, trainable_threshold=False,
                 trainable_beta=False, **kwargs):
        threshold = check_optional_float(threshold, "threshold")
        check_bool(trainable_threshold, "trainable_threshold")
        super().__init__(beta=beta, trainable_beta=trainable_beta, **kwargs)
        self.threshold = threshold
        self.trainable_threshold = trainable_threshold

    def _build_decoder(self, num_steps, num_classes):
        threshold = self.threshold
        if threshold is None and not self.trainable_threshold:
            threshold = 0.9
        self.decoder_threshold = self._add_scalar(
            "decoder_threshold", threshold, self.trainable_threshold)
        super()._build_decoder(num_steps, num_classes)

    def selected_steps(self, logits):
        """`t*` `[B]` (int32) for windowed logits `[B, T, K]`."""
        probs = beta_softmax(logits, self.normalize_softmax_beta, axis=2)
        max_probs = ops.max(probs, axis=2)
        fallback = ops.argmax(max_probs, axis=1)
        fallback = ops.cast(fallback, "int32")[:, None]
        steps = ops.arange(ops.shape(logits)[1], dtype="int32")[None, :]
        threshold = ops.cast(self.decoder_threshold, max_probs.dtype)
        candidates = ops.where(max_probs >= threshold, steps, fallback)
        return ops.min(candidates, axis=1)

    def decode(self, logits):
        return self.take_steps(logits, self.selected_steps(logits))

    def get_config(self):
        config = super().get_config()
        config.update(threshold=self.threshold,
                      trainable_threshold=self.trainable_threshold)
        return config
