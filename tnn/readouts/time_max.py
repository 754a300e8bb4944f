"""`time_max`: per class, the logit at that class's most probable step."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import (TemporalDecoder, beta_softmax, check_bool,
                               check_optional_float)


@tnn_export
class TimeMaxDecoder(TemporalDecoder):
    """Per class k: `t*_k = argmax_t P_{t,k}`, output `L_{t*_k, k}`.

    `P = softmax_β(L, classes)` with β = `normalize/softmax_beta`. No
    gradient reaches β (argmax); the selected logits get gradients.

    Args:
        beta: value of β; None = 1.0 if fixed, U[0, 1) if trainable (TF1).
        trainable_beta: mark β trainable (it gets no gradient).
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

    def decode(self, logits):
        probs = beta_softmax(logits, self.normalize_softmax_beta, axis=2)
        steps = ops.argmax(probs, axis=1)
        return ops.take_along_axis(logits, steps[:, None, :], axis=1)[:, 0]

    def _all_tf1_names(self):
        names = super()._all_tf1_names()
        names["normalize_softmax_beta"] = "normalize/softmax_beta"
        return names

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, trainable_beta=self.trainable_beta)
        return config
