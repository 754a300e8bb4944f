"""`average` and `sum`: parameter-free pooling over the window."""

from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder

_REDUCTIONS = ("mean", "sum")


@tnn_export
class UniformDecoder(TemporalDecoder):
    """Uniform average (`reduction="mean"`) or sum of the logits over time.

    Not in the original decoder file (§6 notes that `w_avg` with β = 0
    would give the uniform average); added because it is the usual baseline.
    Creates no variables.

    Args:
        reduction: "mean" (uniform average) or "sum".
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    creates_alpha_variables = False

    def __init__(self, reduction="mean", **kwargs):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got "
                             f"{reduction!r}.")
        super().__init__(**kwargs)
        self.reduction = reduction

    def decode(self, logits):
        if self.reduction == "sum":
            return ops.sum(logits, axis=1)
        return ops.mean(logits, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(reduction=self.reduction)
        return config
