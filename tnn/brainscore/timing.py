"""Brain-Score time bins (ms after stimulus onset) -> TNNGraph steps.

The rule (one definition, used by recordings, behavioural readouts per
bin and the layer sweep of `tnn.brainscore.commitment`):

- Model step `t` (0-based) stands for the interval
  `[latency_ms + t * step_ms, latency_ms + (t + 1) * step_ms)` ms after
  stimulus onset. The image is on from step 0 (the onset) for the model's
  `image_off` steps, then the blank (reference §5.2). Default: 10 ms per
  step (reference: each step is ~10 ms; the neural presentation is 26 steps,
  image off at step 10 = 100 ms) and `latency_ms=0`, i.e. model time equals
  time after onset. A positive `latency_ms` shifts the model's clock: the
  one-to-one mapping of Nayebi et al. (model step t <-> the 10 ms bin
  starting at 70 + 10 t ms) is `latency_ms=70` (equivalently
  `tnn.neural.bin_steps` with bins starting at 70 ms and `step_offset=0`).
- A requested bin `[start, end)` is the overlap-weighted mean of the steps
  whose intervals overlap it: weight of step t = overlap(bin, step t) /
  (end - start). A 10 ms bin on the step grid is exactly one step; (70, 170)
  is the mean of steps 7..16. (Brain-Score's `assembly_time_align` in
  "portion" mode gives the same weights for bins the steps cover fully.)
- Bins that start before the model's first step (`start < latency_ms`,
  e.g. pre-stimulus bins) cannot be covered: ValueError.
- Bins that end after the model's last step need more steps than the model
  unrolls (`times`): the presentation is extended (the blank, or the image
  for a constant presentation, continues) to the steps needed, with a
  warning; beyond `max_steps` the bins cannot be covered: ValueError.
"""

import math
import warnings

import numpy as np

STEP_MS = 10.0
DEFAULT_MAX_STEPS = 100     # 1 s of model time at 10 ms per step


class PresentationExtendedWarning(UserWarning):
    """The requested time bins need more steps than the model unrolls."""


def check_time_bins(time_bins):
    """Validated time bins as float64 `[B, 2]` (start, end) in ms.

    Accepts a list of `(start, end)` pairs, an array `[B, 2]`, or what
    Brain-Score passes (`timebins_from_assembly`: the object array of
    tuples of `assembly['time_bin'].values`, or for one squeezed bin a list
    holding a 0-d object array of the tuple).
    """
    def pair(b):
        return b.item() if isinstance(b, np.ndarray) and b.ndim == 0 else b

    try:
        pairs = [tuple(float(v) for v in pair(b)) for b in time_bins]
    except (TypeError, ValueError):
        raise ValueError(
            f"time_bins must be a list of (start_ms, end_ms) pairs, e.g. "
            f"[(70, 170)], got {time_bins!r}.") from None
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(
            f"time_bins must be a non-empty list of (start_ms, end_ms) pairs,"
            f" e.g. [(70, 170)], got {time_bins!r}.")
    bins = np.asarray(pairs, dtype=np.float64)
    if not np.isfinite(bins).all():
        raise ValueError(f"time_bins must be finite, got {bins.tolist()}.")
    bad = np.flatnonzero(bins[:, 1] <= bins[:, 0])
    if bad.size:
        b = bins[bad[0]]
        raise ValueError(
            f"time bin {bad[0]} ({b[0]:g}, {b[1]:g}) ms ends before it starts;"
            " each bin is (start_ms, end_ms) with end > start.")
    return bins


def check_positive(value, name):
    """`value` as a float; ValueError unless a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)


def steps_needed(time_bins, step_ms=STEP_MS, latency_ms=0.0):
    """Number of model steps that cover every bin (from step 0)."""
    bins = check_time_bins(time_bins)
    step_ms = check_positive(step_ms, "step_ms")
    end = (bins[:, 1].max() - float(latency_ms)) / step_ms
    # a bin ending exactly on a step boundary needs no further step
    return int(math.ceil(end - 1e-9))


def time_bin_weights(time_bins, n_steps, step_ms=STEP_MS, latency_ms=0.0,
                     max_steps=DEFAULT_MAX_STEPS, model_name="the model"):
    """Weights `[B, T]` mapping T model steps onto B time bins (module docs).

    Args:
        time_bins: (start_ms, end_ms) pairs (`check_time_bins`).
        n_steps: the steps the model unrolls (its `times`).
        step_ms: duration of one model step in ms.
        latency_ms: time after onset that model step 0 stands for.
        max_steps: the most steps the presentation may be extended to.
        model_name: named in messages.

    Returns:
        float64 `[B, T]`, rows summing to 1, T = max(n_steps, steps needed).
        A `PresentationExtendedWarning` says when T > n_steps.
    """
    bins = check_time_bins(time_bins)
    step_ms = check_positive(step_ms, "step_ms")
    latency_ms = float(latency_ms)
    if not math.isfinite(latency_ms):
        raise ValueError(f"latency_ms must be finite, got {latency_ms!r}.")
    early = np.flatnonzero(bins[:, 0] < latency_ms - 1e-9)
    if early.size:
        b = bins[early[0]]
        raise ValueError(
            f"time bin ({b[0]:g}, {b[1]:g}) ms starts before {model_name}'s "
            f"first step, which stands for {latency_ms:g}-"
            f"{latency_ms + step_ms:g} ms after stimulus onset (latency_ms="
            f"{latency_ms:g}); the model has no output before it. Drop the "
            "bins before that time or lower latency_ms.")
    needed = steps_needed(bins, step_ms, latency_ms)
    if needed > max_steps:
        raise ValueError(
            f"time bins up to {bins[:, 1].max():g} ms need {needed} steps of "
            f"{step_ms:g} ms (latency {latency_ms:g} ms), more than max_steps="
            f"{max_steps} that {model_name}'s presentation may be extended "
            "to; drop the late bins or raise max_steps.")
    total = max(int(n_steps), needed)
    if needed > n_steps:
        warnings.warn(
            f"time bins up to {bins[:, 1].max():g} ms need {needed} steps of "
            f"{step_ms:g} ms but {model_name} unrolls {n_steps}; extending "
            f"the presentation to {needed} steps (the presentation's last "
            "frame, the blank or the image, continues).",
            PresentationExtendedWarning, stacklevel=2)
    step_start = latency_ms + step_ms * np.arange(total)
    lo = np.maximum(bins[:, :1], step_start[None])
    hi = np.minimum(bins[:, 1:], step_start[None] + step_ms)
    overlap = np.maximum(hi - lo, 0.0)
    return overlap / (bins[:, 1:] - bins[:, :1])


def bin_features(features, weights):
    """Step features `[N, T, D]` -> bin features `[N, B, D]` (float32).

    `weights` is `time_bin_weights(...)`; features may have more steps than
    the weights' columns only if those extra steps carry zero weight.
    """
    features = np.asarray(features)
    weights = np.asarray(weights, dtype=np.float64)
    if features.ndim != 3 or features.shape[1] < weights.shape[1]:
        raise ValueError(
            f"features [N, T, D] must cover the {weights.shape[1]} steps of "
            f"the time bins, got shape {features.shape}.")
    used = weights.shape[1]
    out = np.einsum("bt,ntd->nbd", weights, features[:, :used],
                    dtype=np.float64, optimize=True)
    return out.astype(np.float32)
