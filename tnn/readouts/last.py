"""`last` (the original `simple`): the logits of the final step."""

from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder, beta_softmax, linear_normalize

_NORMALIZATIONS = (None, "linear", "softmax")


@tnn_export
class LastDecoder(TemporalDecoder):
    """Reads out the last step of the window: `L[:, -1, :]`.

    With `normalization="linear"` the output is divided by its sum over
    classes (`simple_linear`); with `"softmax"` it is `softmax_β(L[:, -1],
    classes)` with the non-trainable `normalize/softmax_beta` = 1
    (`simple_soft`). The zoo's `last` / `simple` decoder is the default.

    Args:
        normalization: None, "linear" or "softmax".
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def __init__(self, normalization=None, **kwargs):
        if normalization not in _NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {_NORMALIZATIONS},"
                             f" got {normalization!r}.")
        super().__init__(**kwargs)
        self.normalization = normalization

    def _build_decoder(self, num_steps, num_classes):
        if self.normalization == "softmax":
            self.normalize_softmax_beta = self._add_scalar(
                "normalize_softmax_beta", 1.0, False)

    def decode(self, logits):
        last = logits[:, -1, :]
        if self.normalization == "linear":
            return linear_normalize(last, axis=1)
        if self.normalization == "softmax":
            return beta_softmax(last, self.normalize_softmax_beta, axis=1)
        return last

    def get_config(self):
        config = super().get_config()
        config.update(normalization=self.normalization)
        return config
