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


# The summary of a time-binned ceiled score (report field "summary_rule").
# Brain-Score's time-binned benchmarks (brain-score/vision @ c642dbe4)
# ceil every bin separately and average over the benchmark's bins:
# `MajajHong2015public.{V4,IT}-temporal-pls`
# (benchmarks/majajhong2015/benchmark.py) keep a time_bin dimension in the
# raw score (metric_helpers/temporal.py `PerTime` correlation of
# `spantime_pls`) and in the ceiling (`internal_consistency_temporal` =
# `PerTime(InternalConsistency)`), `NeuralBenchmark.__call__` divides them
# bin by bin with benchmark_helpers/neural_common.py `explained_variance`
# (r**2 / ceiling, no clipping), and scores are averaged over time
# (metric_helpers/temporal.py: "take the mean of scores ... over time").
# The bins are declared by the benchmark (benchmarks/kar2019/benchmark.py
# `TIME_BINS`: 70-250 ms after onset), never "every recorded bin".
SUMMARY_RULE = "ceiled_mean_over_reliable_bins"
SUMMARY_RULE_VERSION = 1
DEFAULT_MIN_CEILING = 0.1


def summary_bins(ceiling, window, min_ceiling=DEFAULT_MIN_CEILING):
    """Bins of the ceiled summary: the window's bins with a reliable ceiling.

    A bin whose split-half ceiling is at or below `min_ceiling` (before
    the response onset it is ~0.02) measures noise; dividing by it turns
    any small correlation into a ratio far above 1, so it is left out.

    Args:
        ceiling: [B] ceiling per bin.
        window: indices of the declared bins (e.g. `selection_ms`'s).
        min_ceiling: the smallest reliable ceiling (exclusive, >= 0).

    Returns:
        int array of the kept bins (possibly empty).
    """
    if not min_ceiling >= 0:
        raise ValueError(f"min_ceiling must be >= 0, got {min_ceiling!r}.")
    ceiling = np.asarray(ceiling, dtype=np.float64)
    window = np.asarray(window, dtype=int)
    keep = np.isfinite(ceiling[window]) & (ceiling[window] > min_ceiling)
    return window[keep]


def ceiled_summary(raw, ceiling, bins, version):
    """Mean ceiled score over `bins`, with each bin clipped at 1 and flagged.

    Brain-Score's rule (see SUMMARY_RULE) is the mean of the per-bin
    ceiled scores; it does not clip, so a model that predicts a noisy bin
    better than its split-half reliability scores above 1. Here each
    bin's ratio is clipped at 1 for "ceiled_score", the unclipped mean is
    kept as "ceiled_score_unclipped" and "above_ceiling" says whether any
    bin exceeded 1 (the mapping is then likely to overfit or the features
    to leak the data). Undefined raw scores (NaN) count as 0.

    Args:
        raw: [B] raw score per bin.
        ceiling: [B] ceiling per bin.
        bins: the summary bins (`summary_bins`).
        version: one of CEILING_VERSIONS.

    Returns:
        dict: "ceiled_score", "ceiled_score_unclipped" (NaN without bins),
        "above_ceiling" (bool), "bins_above_ceiling" (list of bin indices).
    """
    bins = np.asarray(bins, dtype=int)
    if bins.size == 0:
        return {"ceiled_score": np.nan, "ceiled_score_unclipped": np.nan,
                "above_ceiling": False, "bins_above_ceiling": []}
    raw = np.nan_to_num(np.asarray(raw, dtype=np.float64)[bins], nan=0.0)
    per_bin = np.asarray(ceiled_score(
        raw, np.asarray(ceiling, dtype=np.float64)[bins], version))
    above = per_bin > 1.0
    return {"ceiled_score": float(np.minimum(per_bin, 1.0).mean()),
            "ceiled_score_unclipped": float(per_bin.mean()),
            "above_ceiling": bool(above.any()),
            "bins_above_ceiling": bins[above].tolist()}
