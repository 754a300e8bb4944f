"""i1n / i2n behavioural consistency (Rajalingham et al. 2018).

Follows brainscore_vision 2.4.2 `metrics/i1i2` and the benchmark
`Rajalingham2018-i2n` (version 2):

- metric "i2n": the [N, K] image-by-distractor d' of `tnn.neural.behavior.
  dprime`, normalised by object; "i1n": the same, then the nanmean over
  distractors ([N]); "i1" and "i2": without the normalisation (Brain-Score
  registers "i1" and "i2n"; its `I1n` class is "i1n" here).
- the model's d' comes from its probabilities [N, K] (one fixed matrix,
  no model trials); the data's from trials.
- splits: 2 repetitions; a single `numpy.random.RandomState(0)` shuffles
  the trial indices once per repetition (`shuffle(list(range(R)))`); half
  1 = the first floor(R / 2) shuffled trials, half 2 the rest. The same
  halves serve the score and the ceiling.
- per repetition: raw r = Pearson r between the model's d' and the d' of
  data half 1, over the entries (flattened [N, K] or [N]) where the data's
  d' is defined; ceiling c = Pearson r between the d' of the two halves
  (Rajalingham's split-half reliability, without Spearman-Brown).
- ceiled score = mean over repetitions of r / sqrt(c); error = the std
  (ddof=0) over repetitions; the same for raw score and ceiling.

Deviation: entries undefined in the model's d' (or in half 1 for the
ceiling) are skipped pairwise; Brain-Score raises there (and skips them
only in its public benchmark's ceiling, `skipna=True`). Rajalingham et al.
themselves ceil by the Spearman-Brown reliabilities of model and data;
the score here is Brain-Score's.
"""

import numpy as np

from tnn.neural.behavior import dprime as dp

METRICS = {  # name -> (collapse distractors, normalise by object)
    "i1": (True, False),
    "i1n": (True, True),
    "i2": (False, False),
    "i2n": (False, True),
}
VERSION = "brainscore_vision-2.4.2:Rajalingham2018-i2n-v2"


def _metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got "
                         f"{metric!r}.")
    return METRICS[metric]


def _finish(d, image_object, metric):
    collapse, normalize = _metric(metric)
    if normalize:
        d = dp.normalize_by_object(d, image_object)
    return dp.collapse_distractors(d) if collapse else d


def dprimes_from_probabilities(probabilities, image_object, metric="i2n",
                               cap=dp.DPRIME_CAP):
    """The model's i1/i1n ([N]) or i2/i2n ([N, K]) from [N, K] choices."""
    _metric(metric)
    far = dp.false_alarm_rates_from_probabilities(probabilities, image_object)
    return _finish(dp.dprime_matrix(far, image_object, cap), image_object,
                   metric)


def dprimes_from_trials(trials, image_object, metric="i2n",
                        cap=dp.DPRIME_CAP, n_objects=None):
    """i1/i1n/i2/i2n from trials = (image, distractor, choice) arrays."""
    _metric(metric)
    image, distractor, choice = _unpack(trials)
    far = dp.false_alarm_rates_from_trials(image, distractor, choice,
                                           image_object, n_objects)
    return _finish(dp.dprime_matrix(far, image_object, cap), image_object,
                   metric)


def _unpack(trials):
    if isinstance(trials, dict):
        missing = {"image", "distractor", "choice"} - set(trials)
        if missing:
            raise ValueError(f"trials lack {sorted(missing)}; give 'image', "
                             "'distractor' and 'choice' arrays.")
        return trials["image"], trials["distractor"], trials["choice"]
    if len(trials) != 3:
        raise ValueError("trials must be (image, distractor, choice).")
    return trials


def correlate(a, b):
    """Pearson r over the entries where both are finite (NaN if < 2)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"d' arrays differ in shape: {a.shape} vs {b.shape}.")
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return np.nan
    a, b = a[ok] - a[ok].mean(), b[ok] - b[ok].mean()
    den = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / den) if den > 0 else np.nan


def trial_halves(n_trials, n_repetitions=2, seed=0):
    """Brain-Score's behavioural split-halves: [(half1, half2)] indices."""
    if n_trials < 2:
        raise ValueError(f"split halves need at least 2 trials, got "
                         f"{n_trials}.")
    state = np.random.RandomState(seed=seed)
    out = []
    for _ in range(int(n_repetitions)):
        order = list(range(n_trials))
        state.shuffle(order)
        half = int(n_trials / 2)
        out.append((np.asarray(order[:half], dtype=np.int64),
                    np.asarray(order[half:], dtype=np.int64)))
    return out


def _subset(trials, index):
    return tuple(np.asarray(a)[index] for a in _unpack(trials))


def behavior_consistency(probabilities, trials, image_object, metric="i2n",
                         n_repetitions=2, seed=0, cap=dp.DPRIME_CAP):
    """Model-vs-primate consistency of i1/i1n/i2/i2n, ceiled.

    Args:
        probabilities: [N, K] model choice probabilities per image (rows of
            `image_object`'s images, columns = object indices).
        trials: (image, distractor, choice) integer arrays, one per trial,
            or a dict with those keys.
        image_object: [N] object index of each image.
        metric: "i2n" (default), "i1n", "i1" or "i2".
        n_repetitions, seed: split-halves (Brain-Score: 2, RandomState(0)).
        cap: d' clipping bound (Brain-Score: 5).

    Returns:
        dict with "score" (ceiled, mean over repetitions), "error",
        "raw", "raw_error", "ceiling", "ceiling_error", the per-repetition
        "raw_per_split", "ceiling_per_split", "ceiled_per_split", the
        "model_dprime" and the all-trial "data_dprime", "metric",
        "version" and "above_ceiling": True when a repetition's ceiled
        score exceeds 1 (raw above sqrt(ceiling)). Brain-Score reports
        such scores unclipped, and so do we, flagged: it means the
        split-half ceiling is underestimated (few trials), not that the
        model beats the primates.
    """
    _metric(metric)
    image, distractor, choice = (np.asarray(a) for a in _unpack(trials))
    if image.ndim != 1 or image.size < 2:
        raise ValueError("need at least 2 trials for split-halves.")
    labels, k = dp.check_labels(image_object)
    model = dprimes_from_probabilities(probabilities, labels, metric, cap)
    k = np.asarray(probabilities).shape[1]

    def data(index):
        return dprimes_from_trials(_subset((image, distractor, choice), index),
                                   labels, metric, cap, n_objects=k)

    raw, ceiling = [], []
    for half1, half2 in trial_halves(image.size, n_repetitions, seed):
        d1 = data(half1)
        raw.append(correlate(model, d1))
        ceiling.append(correlate(d1, data(half2)))
    raw, ceiling = np.asarray(raw), np.asarray(ceiling)
    with np.errstate(invalid="ignore", divide="ignore"):
        ceiled = raw / np.sqrt(ceiling)
    return {
        "metric": metric, "version": VERSION,
        "score": float(ceiled.mean()), "error": float(ceiled.std()),
        "raw": float(raw.mean()), "raw_error": float(raw.std()),
        "ceiling": float(ceiling.mean()),
        "ceiling_error": float(ceiling.std()),
        "raw_per_split": raw.tolist(), "ceiling_per_split": ceiling.tolist(),
        "ceiled_per_split": ceiled.tolist(),
        "above_ceiling": bool(np.any(ceiled > 1)),
        "model_dprime": model,
        "data_dprime": data(np.arange(image.size)),
    }
