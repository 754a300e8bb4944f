"""Top-k accuracy of the readout at one time step, as a Keras metric."""

import keras
from keras import ops

from tnn.api import tnn_export


def top_k_matches(labels, logits, k):
    """1.0 where at most k classes (the label's included) score >= the
    label's score, else 0.0 (`[B]`).

    Ties count against the prediction, unlike `in_top_k` (which counts a
    tie as a hit): before the image reaches the readout every example has
    the same, often flat, logits, and that is no correct answer.
    """
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    logits = ops.cast(logits, "float32")
    true = ops.take_along_axis(logits, labels[:, None], axis=-1)
    rank = ops.sum(ops.cast(logits >= true, "int32"), axis=-1)
    hits = ops.logical_and(rank <= k, ops.isfinite(true[:, 0]))
    return ops.cast(hits, "float32")


def check_k(k):
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int (1 for top-1, 5 for "
                         f"top-5), got {k!r}.")
    return k


@tnn_export
class StepTopKAccuracy(keras.metrics.Mean):
    """Top-k accuracy of the per-step logits `[B, T, K]` at step `step`.

    Labels are sparse class ids `[B]` (or `[B, 1]`). Use one instance per
    step (see `per_step_metrics`) to get accuracy-vs-time curves in the
    Keras logs.

    Args:
        step: time index into the logits (negative counts from the end).
        k: top-k (1 or 5 usually).
        name: metric name; default "top{k}_t{step:02d}" ("top{k}_last" for
            step −1).
        dtype: metric dtype.
    """

    def __init__(self, step=-1, k=1, name=None, dtype=None):
        if isinstance(step, bool) or not isinstance(step, int):
            raise ValueError(f"step must be an int, got {step!r}.")
        check_k(k)
        if name is None:
            name = (f"top{k}_last" if step == -1
                    else f"top{k}_t{step:02d}")
        super().__init__(name=name, dtype=dtype)
        self.step = step
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_pred.shape) != 3:
            raise ValueError(
                f"{self.name}: expects per-step logits [batch, time, "
                f"classes], got shape {tuple(y_pred.shape)}.")
        steps = y_pred.shape[1]
        if steps is not None and not -steps <= self.step < steps:
            raise ValueError(f"{self.name}: step {self.step} is outside the "
                             f"{steps} time steps of the logits.")
        matches = top_k_matches(y_true, y_pred[:, self.step, :], self.k)
        return super().update_state(matches, sample_weight=sample_weight)

    def get_config(self):
        return {"step": self.step, "k": self.k, "name": self.name,
                "dtype": self.dtype}


@tnn_export
class TopKAccuracy(keras.metrics.Mean):
    """Top-k accuracy of logits `[B, K]`, ties counted as misses.

    `keras.metrics.SparseTopKCategoricalAccuracy` uses `in_top_k`, which
    counts a tie with the label as a hit: all-equal logits (an output
    before the image arrives) then score 1.0 at top-5. This counts them as
    misses (`top_k_matches`), as `training.evaluate` does.

    Args:
        k: top-k.
        name: metric name (default "top{k}").
        dtype: metric dtype.
    """

    def __init__(self, k=1, name=None, dtype=None):
        check_k(k)
        super().__init__(name=name or f"top{k}", dtype=dtype)
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        if len(y_pred.shape) != 2:
            raise ValueError(f"{self.name}: expects logits [batch, classes],"
                             f" got shape {tuple(y_pred.shape)}.")
        matches = top_k_matches(y_true, y_pred, self.k)
        return super().update_state(matches, sample_weight=sample_weight)

    def get_config(self):
        return {"k": self.k, "name": self.name, "dtype": self.dtype}


def per_step_metrics(num_steps, ks=(1, 5), steps=None):
    """`StepTopKAccuracy` for each step (and each k), for `compile`.

    Args:
        num_steps: T of the model's per-step logits.
        ks: the top-k values.
        steps: which steps (default all `range(num_steps)`).

    Returns:
        A list of metrics named "top{k}_t{step:02d}".
    """
    steps = range(num_steps) if steps is None else steps
    return [StepTopKAccuracy(step=t, k=k) for k in ks for t in steps]
