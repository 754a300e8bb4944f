"""Image-by-distractor d' from trials or model probabilities.

Definitions follow brainscore_vision 2.4.2 `metrics/i1i2/metric.py`
(Rajalingham, Issa et al. 2018, J. Neurosci. 38(33), as modified by
Schrimpf, Kubilius et al. 2018): images i = 0..N-1 with object labels
`image_object[i]` in 0..K-1, and a two-alternative task in which image i is
shown with its own object ("target") and one distractor object c.

- False-alarm rate of image i vs distractor c, `far[i, c]`: from trials,
  the fraction of the trials of image i with distractor c in which c was
  chosen; from model probabilities p [N, K], `p_c / (p_c + p_target)`.
  `far[i, image_object[i]]` is NaN, as is a pair without trials.
- d'[i, c] = z(1 - far[i, c]) - z(FA_c(o_i)), z = the standard normal
  quantile and FA_c(o_i) = nanmean over the images j of object c of
  far[j, o_i] (the object-level false-alarm rate; Rajalingham et al.
  pooled all distractor images instead; this is Brain-Score's version).
- d' is clipped to [-cap, cap] (cap 5), so infinite d' from rates of 0
  or 1 become +-5; an undefined d' (inf - inf, no trials) stays NaN.
- Object-level normalisation ("n" in i1n, i2n): from d'[i, c] subtract
  the nanmean of d'[j, c] over the images j of the same object as i.
- Collapsing distractors (i1, i1n): nanmean of d'[i, :] over c, after the
  normalisation (Brain-Score's order).
"""

import warnings

import numpy as np
import scipy.stats

DPRIME_CAP = 5.0


def check_labels(image_object, n_objects=None):
    labels = np.asarray(image_object)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"image_object must be a non-empty 1-D array of object indices "
            f"per image, got shape {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"image_object must hold integer object indices 0..K-1, got "
            f"dtype {labels.dtype}; map names to indices first (e.g. "
            "np.unique(names, return_inverse=True)).")
    k = int(labels.max()) + 1 if n_objects is None else int(n_objects)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(
            f"image_object values must be in [0, {k}), got "
            f"[{labels.min()}, {labels.max()}].")
    if np.unique(labels).size < 2:
        raise ValueError(
            "image_object has a single object: d' needs at least 2 objects "
            "(a target and a distractor).")
    return labels.astype(np.int64), k


def z_score(p):
    """Standard normal quantile (scipy.stats.norm.ppf); z(0) = -inf."""
    return scipy.stats.norm.ppf(p)


def false_alarm_rates_from_trials(image, distractor, choice, image_object,
                                  n_objects=None):
    """far[i, c] from per-trial records (Brain-Score's response matrix).

    Args:
        image: [R] image index of each trial.
        distractor: [R] distractor object index of each trial.
        choice: [R] chosen object index (the target or the distractor).
        image_object: [N] object index of each image (the target).
        n_objects: K; default max(image_object) + 1.

    Returns:
        float64 [N, K]: chosen-distractor counts / trials with that
        distractor; NaN on the image's own object and on pairs without
        trials.
    """
    labels, k = check_labels(image_object, n_objects)
    arrays = [np.asarray(a) for a in (image, distractor, choice)]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1 or arrays[0].ndim != 1 or arrays[0].size == 0:
        raise ValueError(
            f"image, distractor and choice must be non-empty 1-D arrays of "
            f"one length (one entry per trial), got shapes "
            f"{[a.shape for a in arrays]}.")
    for name, a in zip(("image", "distractor", "choice"), arrays):
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"{name} must hold integer indices, got dtype "
                             f"{a.dtype} (NaN or names are not allowed).")
    image, distractor, choice = (a.astype(np.int64) for a in arrays)
    n = labels.size
    if image.min() < 0 or image.max() >= n:
        raise ValueError(f"trial image indices must be in [0, {n}), got "
                         f"[{image.min()}, {image.max()}].")
    target = labels[image]
    if distractor.min() < 0 or distractor.max() >= k:
        raise ValueError(f"distractor indices must be in [0, {k}).")
    if np.any(distractor == target):
        raise ValueError("some trials have the image's own object as "
                         "distractor; each trial needs two different objects.")
    if np.any((choice != target) & (choice != distractor)):
        raise ValueError("some trials chose neither the target nor the "
                         "distractor; choice must be one of the two.")
    shown = np.zeros((n, k))
    np.add.at(shown, (image, distractor), 1.0)
    chosen = np.zeros((n, k))
    wrong = choice == distractor
    np.add.at(chosen, (image[wrong], distractor[wrong]), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        far = np.where(shown > 0, chosen / shown, np.nan)
    far[np.arange(n), labels] = np.nan
    return far


def false_alarm_rates_from_probabilities(probabilities, image_object):
    """far[i, c] = p[i, c] / (p[i, c] + p[i, target]) from [N, K] choices.

    Brain-Score's `target_distractor_scores`: the model's two-way choice
    between the target and distractor c. NaN on the image's own object (and
    where both probabilities are 0).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    labels, k = check_labels(image_object)
    if p.ndim != 2 or p.shape[0] != labels.size:
        raise ValueError(
            f"probabilities must be [N={labels.size}, K] (images x objects), "
            f"got shape {p.shape}.")
    if p.shape[1] < k:
        raise ValueError(
            f"probabilities have {p.shape[1]} columns but image_object uses "
            f"{k} objects; give one column per object index.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("probabilities must be finite and >= 0 (no NaN).")
    p_target = p[np.arange(labels.size), labels][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        far = p / (p + p_target)
    far[np.arange(labels.size), labels] = np.nan
    return far


def object_false_alarm_rates(far, image_object):
    """FA[c, o] = nanmean over images j of object c of far[j, o]. [K, K]."""
    labels = np.asarray(image_object, dtype=np.int64)
    k = far.shape[1]
    out = np.full((k, k), np.nan)
    with warnings.catch_warnings():  # an object without images: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        for c in range(k):
            rows = far[labels == c]
            if rows.size:
                out[c] = np.nanmean(rows, axis=0)
    return out


def dprime_matrix(far, image_object, cap=DPRIME_CAP):
    """Clipped d'[i, c] = z(1 - far[i, c]) - z(FA_c(o_i)), [N, K].

    NaN on the image's own object and where far or FA is undefined.
    """
    far = np.asarray(far, dtype=np.float64)
    labels, _ = check_labels(image_object, far.shape[1])
    if far.shape[0] != labels.size:
        raise ValueError(f"far has {far.shape[0]} rows but image_object "
                         f"{labels.size} images.")
    fa = object_false_alarm_rates(far, labels)  # [c, o]
    fa_images = fa[:, labels].T  # [i, c] = FA[c, o_i]
    with np.errstate(invalid="ignore"):
        d = z_score(1.0 - far) - z_score(fa_images)
    return np.clip(d, -cap, cap)


def normalize_by_object(dprime, image_object):
    """Subtract, per (object, distractor), the nanmean over its images."""
    d = np.array(dprime, dtype=np.float64)
    labels = np.asarray(image_object, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for o in np.unique(labels):
            rows = labels == o
            d[rows] -= np.nanmean(d[rows], axis=0, keepdims=True)
    return d


def collapse_distractors(dprime):
    """I1 from I2: nanmean over distractors (NaN where all are NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.asarray(dprime, dtype=np.float64), axis=1)
