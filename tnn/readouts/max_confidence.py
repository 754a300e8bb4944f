"""`max_conf` (zoo `tmaxconf`): the step of highest confidence."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import (TemporalDecoder, beta_softmax, check_bool,
                               check_optional_float)


@tnn_export
class MaxConfidenceDecoder(TemporalDecoder):
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

    def __init__(self, beta=None, trainable_beta=False, **kwargs):
        beta = check_optional_float(beta, "beta")
        check_bool(trainable_beta, "trainable_beta")
        super().__init__(**kwargs)
        self.beta = beta
        self.trainable_beta = trainable_beta

    def _build_decoder(self, num_steps, num_classes):
        self.normalize_softmax_beta = self._add_scalar(
            "normalize_softmax_beta", self.beta, self.trainable_beta)

    def selected_steps(self, logits):
        """`t*` `[B]` (int) for windowed logits `[B, T, K]`."""
        probs = beta_softmax(logits, self.normalize_softmax_beta, axis=2)
        return ops.argmax(ops.max(probs, axis=2), axis=1)

    def decode(self, logits):
        steps = self.selected_steps(logits)
        picked = ops.take_along_axis(logits, steps[:, None, None], axis=1)
        return picked[:, 0, :]

    def _all_tf1_names(self):
        names = super()._all_tf1_names()
        names["normalize_softmax_beta"] = "normalize/softmax_beta"
        return names

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, trainable_beta=self.trainable_beta)
        return config
