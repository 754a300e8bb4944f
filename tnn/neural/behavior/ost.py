"""Object solution times (Kar et al. 2019) and their consistency.

Follows brainscore_vision 2.4.2 `metrics/ost` (`OSTCorrelation`, from
Kubilius, Schrimpf et al. NeurIPS 2019) and the benchmark `Kar2019-ost`
(version 2):

- splits: `ShuffleSplit(n_splits=10, test_size=0.1, random_state=1)` over
  the images in data order (no stratification); the decoder trains on the
  training images in data order.
- per split and time bin (bins in increasing start time): a decoder of the
  features at that bin is fit on the training images (labels = object)
  and predicts choice probabilities for the test images; their i1 (d' per
  image, not normalised, clipped at 5, nanmean over distractors; the
  object false-alarm rates over the test images only) is compared with
  the primate's per-image i1 threshold.
- an image's OST: the first bin start whose i1 >= threshold; if an earlier
  bin was below threshold, the time is interpolated linearly between that
  hit and the highest sub-threshold i1 seen before it (Brain-Score solves
  the same line with `fsolve`); NaN if never reached. The loop stops once
  every test image has a hit.
- score of a split: Spearman rho between predicted and measured OSTs over
  the test images where both are defined; raw score = nanmean over splits,
  error = nanstd (ddof=0) / sqrt(splits); ceiled = raw / ceiling, with
  Kar2019's fixed ceiling 0.79 ("computed offline by Kohitij Kar").
- a model without time course (the first image's features identical in
  every bin, e.g. a feed-forward model or T = 1) scores NaN, as Brain-Score
  scores it (`temporally_varying` on the first stimulus).

Deviation: the decoder. Brain-Score trains a TensorFlow softmax layer
(z-scored features, L2 weight decay 0.463 on weights and bias, Adam 1e-4,
40 epochs of batches of 64, Xavier init); the default here is the
scikit-learn multinomial logistic regression on z-scored features with
the same penalty at its optimum (C = 1 / (0.463 * n_train), bias
unpenalised). Any object with `fit(X, y)`, `predict_proba(X)` and
`classes_` can be passed as `decoder` (a factory). Where Brain-Score
raises (a test split without some object, an image without a hit), the
entries here are NaN and skipped.
"""

import warnings

import numpy as np
import scipy.stats
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import ShuffleSplit
from sklearn.preprocessing import StandardScaler

from tnn.neural.behavior import dprime as dp

KAR2019_OST_CEILING = 0.79
VERSION = "brainscore_vision-2.4.2:Kar2019-ost-v2"


class LogisticDecoder:
    """z-scored multinomial logistic regression, penalty `weight_decay`.

    Minimises mean cross-entropy + weight_decay / 2 * ||W||^2, the optimum
    of Brain-Score's TF decoder loss (l2(0.5 * 0.463) on the weights).
    """

    def __init__(self, weight_decay=0.463, max_iter=500):
        self.weight_decay = weight_decay
        self.max_iter = max_iter

    def fit(self, x, y):
        self._scaler = StandardScaler().fit(x)
        c = 1.0 / (self.weight_decay * len(y))
        self._model = LogisticRegression(C=c, max_iter=self.max_iter)
        self._model.fit(self._scaler.transform(x), y)
        self.classes_ = self._model.classes_
        return self

    def predict_proba(self, x):
        return self._model.predict_proba(self._scaler.transform(x))


def temporally_varying(features):
    """Brain-Score's check: does the first image's response change over T?"""
    first = np.asarray(features[0])
    return bool(np.any(first != first[:1]))


def heldout_i1(probabilities, classes, image_object, n_objects):
    """i1 of the test images from decoder probabilities over `classes`."""
    labels = np.asarray(image_object, dtype=np.int64)
    p = np.zeros((labels.size, n_objects))
    p[:, np.asarray(classes, dtype=np.int64)] = probabilities
    far = dp.false_alarm_rates_from_probabilities(p, labels)
    present = np.zeros(n_objects, dtype=bool)
    present[np.asarray(classes, dtype=np.int64)] = True
    far[:, ~present] = np.nan  # Brain-Score's choices: the trained classes
    return dp.collapse_distractors(dp.dprime_matrix(far, labels))


def solution_times(features, image_object, primate_i1, time_bins, train,
                   test, decoder=LogisticDecoder):
    """Predicted OSTs of the test images in one split (module docstring).

    Args:
        features: [N, T, D] features per image and time bin.
        image_object: [N] object indices (the decoder's labels).
        primate_i1: [N] per-image i1 thresholds.
        time_bins: [T] bin start times (ms).
        train, test: image indices of the split.
        decoder: factory of a classifier with fit/predict_proba/classes_.

    Returns:
        float64 [len(test)]: OSTs in ms, NaN where never reached.
    """
    labels = np.asarray(image_object, dtype=np.int64)
    k = int(labels.max()) + 1
    thresholds = np.asarray(primate_i1, dtype=np.float64)[test]
    last = [None] * len(test)
    hit = [None] * len(test)
    for b in np.argsort(time_bins, kind="stable"):
        model = decoder().fit(features[train, b], labels[train])
        missing = set(range(k)) - set(np.asarray(model.classes_).tolist())
        if missing & set(labels[test].tolist()):
            raise ValueError(
                f"objects {sorted(missing)} have no training images in a "
                "split; give every object more images.")
        i1 = heldout_i1(model.predict_proba(features[test, b]),
                        model.classes_, labels[test], k)
        t = float(time_bins[b])
        for i, (value, threshold) in enumerate(zip(i1, thresholds)):
            if hit[i] is not None:
                continue
            if value < threshold and (last[i] is None or last[i][1] < value):
                last[i] = (t, value)
            if value >= threshold:
                hit[i] = (t, value)
        if all(h is not None for h in hit):
            break
    out = np.full(len(test), np.nan)
    for i, (below, above) in enumerate(zip(last, hit)):
        if above is None:
            continue
        if below is None:
            out[i] = above[0]
            continue
        slope = (above[1] - below[1]) / (above[0] - below[0])
        out[i] = below[0] + (thresholds[i] - below[1]) / slope
    return out


def spearman(a, b):
    """Spearman rho over the entries where both are finite (NaN if < 2)."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return np.nan
    return float(scipy.stats.spearmanr(a[ok], b[ok])[0])


def _check(features, image_object, primate_ost, primate_i1, time_bins):
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"features must be [N, T, D] (images x time bins x "
                         f"units), got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or inf.")
    n, t = x.shape[:2]
    labels, _ = dp.check_labels(image_object)
    arrays = {"image_object": labels, "primate_ost": primate_ost,
              "primate_i1": primate_i1}
    for name, a in arrays.items():
        if np.shape(a) != (n,):
            raise ValueError(f"{name} has shape {np.shape(a)}, expected "
                             f"({n},) to match features' {n} images.")
    if np.all(np.isnan(np.asarray(primate_ost, dtype=np.float64))):
        raise ValueError("primate_ost is all NaN.")
    bins = np.asarray(time_bins, dtype=np.float64)
    if bins.shape != (t,) or np.unique(bins).size != t:
        raise ValueError(f"time_bins must be {t} distinct bin starts (one "
                         f"per feature step), got {bins.tolist()}.")
    return x, labels, bins


def ost_consistency(features, image_object, primate_ost, primate_i1,
                    time_bins, n_splits=10, test_size=0.1, seed=1,
                    decoder=LogisticDecoder, ceiling=KAR2019_OST_CEILING):
    """OST consistency of model features with primate OSTs, ceiled.

    Args:
        features: [N, T, D] model features per image and time bin.
        image_object: [N] object index per image (the decoder's labels).
        primate_ost: [N] measured OSTs (ms), NaN where unknown.
        primate_i1: [N] primate per-image i1 (the d' threshold).
        time_bins: [T] bin starts (ms).
        n_splits, test_size, seed: ShuffleSplit (Brain-Score: 10, 0.1, 1).
        decoder: factory of a classifier with fit/predict_proba/classes_.
        ceiling: Kar2019's 0.79 unless the data give another.

    Returns:
        dict: "score" (ceiled), "raw", "error", "ceiling", "per_split",
        "predicted_ost" [N] (mean over the splits holding the image out,
        NaN if never predicted), "temporally_varying", "version" and
        "above_ceiling" (True when raw > ceiling: the ceiled score is
        above 1, which Brain-Score reports unclipped; treat it as a flag
        on the ceiling estimate, not as a better-than-primate model).
    """
    x, labels, bins = _check(features, image_object, primate_ost,
                             primate_i1, time_bins)
    target = np.asarray(primate_ost, dtype=np.float64)
    out = {"version": VERSION, "ceiling": float(ceiling),
           "temporally_varying": temporally_varying(x),
           "predicted_ost": np.full(labels.size, np.nan), "per_split": []}
    if not out["temporally_varying"]:
        out.update(score=np.nan, raw=np.nan, error=np.nan, reason=(
            "the features do not change over time; Brain-Score scores a "
            "model without time course NaN"))
        return out
    splitter = ShuffleSplit(n_splits=int(n_splits), test_size=test_size,
                            random_state=seed)
    predicted = np.full((int(n_splits), labels.size), np.nan)
    for s, (train, test) in enumerate(splitter.split(np.zeros(labels.size))):
        train, test = np.sort(train), np.sort(test)
        predicted[s, test] = solution_times(x, labels, primate_i1, bins,
                                            train, test, decoder)
        out["per_split"].append(spearman(predicted[s, test], target[test]))
    scores = np.asarray(out["per_split"])
    raw = float(np.nanmean(scores)) if np.isfinite(scores).any() else np.nan
    with warnings.catch_warnings():  # images never held out stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        out["predicted_ost"] = np.nanmean(predicted, axis=0)
    out.update(raw=raw, score=raw / ceiling,
               error=float(np.nanstd(scores) / np.sqrt(scores.size)),
               above_ceiling=bool(np.isfinite(raw) and raw > ceiling))
    return out
