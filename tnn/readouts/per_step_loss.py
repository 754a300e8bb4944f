"""Cross-entropy on every time step, with documented step weights."""

import keras
import numpy as np
from keras import ops

from tnn.api import tnn_export

WEIGHTINGS = ("uniform", "gamma", "last")


def step_weights(num_steps, weighting="uniform", gamma=0.9,
                 normalize=True):
    """The per-step loss weights `w_t`, t = 0 … num_steps − 1 (numpy).

    - "uniform": `w_t = 1` (the tnn tutorial's average over steps).
    - "gamma": `w_t = γ^t`, the discounting of Zamir et al. (2017,
      "Feedback Networks"); γ < 1 emphasises early steps (rewards an early
      correct guess), γ > 1 late steps.
    - "last": only the final step (`w_{T−1} = 1`, the others 0).
    - a sequence of `num_steps` non-negative numbers: used as given.

    Args:
        num_steps: number of steps T in the loss window.
        weighting: one of the above.
        gamma: γ for "gamma" (> 0).
        normalize: divide by `Σ w_t` so the loss is a weighted mean over
            steps (same scale as a single-step cross-entropy).

    Returns:
        float64 array `[T]`.
    """
    if isinstance(weighting, str):
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS} or a "
                             f"list of per-step weights, got {weighting!r}.")
        if weighting == "uniform":
            weights = np.ones(num_steps)
        elif weighting == "gamma":
            weights = float(gamma) ** np.arange(num_steps, dtype=np.float64)
        else:
            weights = np.zeros(num_steps)
            weights[-1] = 1.0
    else:
        weights = np.asarray(weighting, dtype=np.float64)
        if weights.shape != (num_steps,):
            raise ValueError(
                f"Explicit step weights must have one entry per step "
                f"({num_steps}), got {len(weights)} weights.")
        if np.any(weights < 0) or not np.any(weights > 0):
            raise ValueError(f"Step weights must be >= 0 and not all zero, "
                             f"got {list(weighting)!r}.")
    if normalize:
        weights = weights / weights.sum()
    return weights


@tnn_export
class PerStepCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy of the readout at every step, weighted over time.

    `loss(y, L) = Σ_t w_t · CE(y, L_t)` over the window `[start, end)` of
    the per-step logits `L` `[B, T, K]`, with `w_t` from `step_weights`
    (uniform, γ^t as in Zamir et al.'s feedback networks, last step only,
    or explicit). Labels are sparse class ids `[B]` (or `[B, 1]`).

    Args:
        weighting: "uniform", "gamma", "last", or a list of T weights.
        gamma: γ of the "gamma" weighting (> 0).
        normalize_weights: divide the weights by their sum (default).
        start: first step of the loss window.
        end: end of the window (exclusive); None = through the last step.
        label_smoothing: as in Keras' categorical cross-entropy.
        reduction, name, dtype: `keras.losses.Loss` arguments.
    """

    def __init__(self, weighting="uniform", gamma=0.9,
                 normalize_weights=True, start=0, end=None,
                 label_smoothing=0.0, reduction="sum_over_batch_size",
                 name="per_step_cross_entropy", dtype=None):
        if isinstance(weighting, str):
            if weighting not in WEIGHTINGS:
                raise ValueError(
                    f"weighting must be one of {WEIGHTINGS} or a list of "
                    f"per-step weights, got {weighting!r}.")
        else:
            try:
                weighting = [float(w) for w in weighting]
            except (TypeError, ValueError):
                raise ValueError(
                    f"weighting must be one of {WEIGHTINGS} or a list of "
                    f"per-step weights, got {weighting!r}.") from None
            if min(weighting, default=-1.0) < 0 or max(weighting) <= 0:
                raise ValueError(f"Step weights must be >= 0 and not all "
                                 f"zero, got {weighting!r}.")
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) \
                or gamma <= 0:
            raise ValueError(f"gamma must be a number > 0, got {gamma!r}.")
        for value, arg in ((start, "start"), (end, "end")):
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int)):
                raise ValueError(f"{arg} must be an int or None, got "
                                 f"{value!r}.")
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got "
                             f"{label_smoothing!r}.")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.weighting = weighting
        self.gamma = float(gamma)
        self.normalize_weights = bool(normalize_weights)
        self.start = 0 if start is None else start
        self.end = end
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        if len(y_pred.shape) != 3:
            raise ValueError(
                f"PerStepCrossEntropy expects per-step logits [batch, time, "
                f"classes], got shape {tuple(y_pred.shape)}.")
        total_steps = y_pred.shape[1]
        if total_steps is None:
            raise ValueError("PerStepCrossEntropy needs a static number of "
                             "time steps in its logits.")
        num_steps = len(range(total_steps)[self.start:self.end])
        if num_steps == 0:
            raise ValueError(
                f"The loss window [{self.start}, {self.end}) selects no step "
                f"of the {total_steps} available.")
        logits = y_pred[:, self.start:self.end, :]
        weights = step_weights(num_steps, self.weighting, self.gamma,
                               self.normalize_weights)
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        num_classes = logits.shape[-1]
        targets = ops.one_hot(labels, num_classes, dtype=logits.dtype)
        if self.label_smoothing:
            targets = (targets * (1.0 - self.label_smoothing)
                       + self.label_smoothing / num_classes)
        log_probs = ops.log_softmax(logits, axis=-1)
        per_step = -ops.sum(targets[:, None, :] * log_probs, axis=-1)
        weights = ops.convert_to_tensor(weights.astype("float32"))
        return ops.sum(per_step * ops.cast(weights, per_step.dtype), axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(weighting=self.weighting, gamma=self.gamma,
                      normalize_weights=self.normalize_weights,
                      start=self.start, end=self.end,
                      label_smoothing=self.label_smoothing)
        return config
