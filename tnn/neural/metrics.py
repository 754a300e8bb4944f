"""Correlations, Spearman-Brown, aggregation and ceiled scores.

Ceiled-score versions (the name is part of every report, since Brain-Score
changed the definition twice):

    "r2_over_ceiling_2026"   r**2 / ceiling      (Brain-Score since 2026-01)
    "r_over_ceiling_sq_2019" (r / ceiling)**2    (2019-12 to 2026-01)
    "raw_over_ceiling"       r / ceiling         (before 2019-12)

`r` is the raw score (median over neurons of the held-out Pearson r, mean
over splits) and `ceiling` the split-half Spearman-Brown internal
consistency. A ceiling <= 0 leaves the ceiled score undefined (NaN).
"""

import numpy as np

CEILING_VERSIONS = ("r2_over_ceiling_2026", "r_over_ceiling_sq_2019",
                    "raw_over_ceiling")


def pearson_per_neuron(a, b, axis=0):
    """Pearson r along `axis` (stimuli) for every other index (neurons).

    NaN entries are dropped pairwise; with fewer than 2 complete pairs or a
    constant column (all values equal, scipy's rule) the result is NaN.
    Without NaN this equals scipy.stats.pearsonr column by column.

    Args:
        a: array, e.g. predictions [N, K] or [..., N, K] with axis=-2.
        b: array of the same shape, e.g. recorded responses.
        axis: the axis to correlate over.

    Returns:
        float64 array with `axis` removed.
    """
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    b = np.moveaxis(np.asarray(b, dtype=np.float64), axis, -1)
    if a.shape != b.shape:
        raise ValueError(
            f"pearson_per_neuron needs equal shapes, got {a.shape} and "
            f"{b.shape}.")
    valid = np.isfinite(a) & np.isfinite(b)
    if valid.all():
        am = a - a.mean(axis=-1, keepdims=True)
        bm = b - b.mean(axis=-1, keepdims=True)
        num = (am * bm).sum(axis=-1)
        den = np.sqrt((am * am).sum(axis=-1) * (bm * bm).sum(axis=-1))
    else:
        count = valid.sum(axis=-1, keepdims=True)
        a0 = np.where(valid, a, 0.0)
        b0 = np.where(valid, b, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            am = np.where(valid, a0 - a0.sum(-1, keepdims=True) / count, 0.0)
            bm = np.where(valid, b0 - b0.sum(-1, keepdims=True) / count, 0.0)
        num = (am * bm).sum(axis=-1)
        den = np.sqrt((am * am).sum(axis=-1) * (bm * bm).sum(axis=-1))
        den = np.where(count[..., 0] < 2, 0.0, den)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    constant = _constant(a, valid) | _constant(b, valid)
    return np.where((den > 0) & ~constant, r, np.nan)


def _constant(x, valid):
    """True where all valid entries along the last axis are equal."""
    first = np.take_along_axis(x, valid.argmax(-1)[..., None], -1)
    return np.all((x == first) | ~valid, axis=-1)


def spearman_brown(r, n=2):
    """Spearman-Brown prophecy n*r / (1 + (n-1)*r) (n=2: split halves)."""
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n * r / (1.0 + (n - 1.0) * r)


def nanmedian(x, axis):
    """Median ignoring NaN; NaN (no warning) where everything is NaN."""
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(x)
    if valid.all():
        return np.median(x, axis=axis)
    out = np.full(np.delete(x.shape, axis % x.ndim), np.nan)
    some = valid.any(axis=axis)
    if some.any():
        moved = np.moveaxis(x, axis, -1)[some]
        out[some] = [np.median(row[np.isfinite(row)]) for row in moved]
    return out


def nanmean(x, axis):
    """Mean ignoring NaN; NaN (no warning) where everything is NaN."""
    x = np.asarray(x, dtype=np.float64)
    valid = np.isfinite(x)
    count = valid.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, x, 0.0).sum(axis=axis) / count


def split_mean_and_sem(per_split, axis=0):
    """Center and error over splits, as Brain-Score reports them.

    The error is std(ddof=0) / sqrt(n_splits), Brain-Score's
    `standard_error_of_the_mean` (xarray's std uses ddof=0).
    """
    per_split = np.asarray(per_split, dtype=np.float64)
    center = nanmean(per_split, axis=axis)
    count = np.isfinite(per_split).sum(axis=axis)
    dev = np.where(np.isfinite(per_split),
                   per_split - np.expand_dims(center, axis), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        std = np.sqrt((dev * dev).sum(axis=axis) / count)
        return center, std / np.sqrt(count)


def check_ceiling_version(version):
    if version not in CEILING_VERSIONS:
        raise ValueError(
            f"unknown ceiled-score version {version!r}; choose one of "
            f"{list(CEILING_VERSIONS)} (see tnn.neural.metrics).")
    return version


def ceiled_score(raw, ceiling, version):
    """Normalises a raw score by a ceiling, following `version`.

    Args:
        raw: raw score(s) r (median-over-neurons Pearson r).
        ceiling: split-half Spearman-Brown ceiling(s), same shape or scalar.
        version: one of CEILING_VERSIONS; no default on purpose.

    Returns:
        float64 array (or float) with NaN where the ceiling is <= 0.
    """
    check_ceiling_version(version)
    raw = np.asarray(raw, dtype=np.float64)
    ceiling = np.asarray(ceiling, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if version == "r2_over_ceiling_2026":
            out = raw ** 2 / ceiling
        elif version == "r_over_ceiling_sq_2019":
            out = (raw / ceiling) ** 2
        else:
            out = raw / ceiling
    out = np.where(ceiling > 0, out, np.nan)
    return float(out) if out.ndim == 0 else out
