"""Representational similarity per time bin: RDMs, RSA and linear CKA.

Definitions (numpy/scipy only, no fitted parameters):

- RDM (Kriegeskorte, Mur & Bandettini 2008, Front. Syst. Neurosci. 2:4):
  `rdm[i, j] = 1 - pearson(x_i, x_j)` between the response patterns
  (rows) of stimuli i and j, i.e. scipy's `pdist(x, "correlation")` in
  square form. Brain-Score's `RDM` is the same (`1 - np.corrcoef`).
- RSA: Spearman rank correlation between the upper triangles (diagonal
  excluded) of two RDMs, Brain-Score's `RDMSimilarity`.
- Linear CKA (Kornblith, Norouzi, Lee & Hinton 2019, ICML, "Similarity of
  neural network representations revisited", Eq. 2 with linear kernels):
  with column-centred X [N, D1] and Y [N, D2],
  `CKA = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F)`, equal to the HSIC form
  of Brain-Score's `linear_CKA` (`<HKxH, HKyH> / ...`, K = X X^T), its
  `cka_biased`; `unbiased=True` uses the unbiased HSIC estimator (Song et
  al. 2012), the default of Brain-Score's `cka` in brainscore-vision 2.x.
- Ceilings: Brain-Score's `RDMConsistency` / `CKAConsistency`: 10
  split-halves of the trials (`tnn.neural.splits.trial_halves`, the same
  `ShuffleSplit(train_size=0.5, random_state=1)` convention as
  `tnn.neural.ceiling`), each half averaged over its trials, the
  similarity between the two halves' patterns, Spearman-Brown 2s/(1+s),
  mean over splits, SEM (std ddof=0 / sqrt(splits)) as the error.
- Ceiled score: raw / ceiling (Brain-Score's `ceil_score` of its RDM and
  CKA benchmarks), NaN where the ceiling is <= 0.

Deviations from Brain-Score: the raw RSA/CKA use all stimuli at once
(Brain-Score's `RDMCrossValidated`/`CKACrossValidated` average 10 random
90% stimulus subsets; with no fitted parameter the full set is the direct
estimate). Missing values (NaN) are skipped: an RDM row of a stimulus with
a NaN response is NaN and drops out of RSA (pairwise over RDM entries);
CKA drops stimuli (rows) with a NaN in either representation.
"""

import numpy as np
from scipy import stats

from tnn.neural import metrics
from tnn.neural.splits import trial_halves
from tnn.neural.sweep import bin_steps


def _matrix(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be [stimuli, dims], got shape {x.shape}; flatten "
            "each stimulus's pattern to one row.")
    if np.isinf(x).any():
        raise ValueError(f"{name} contains +/-inf.")
    return x


def rdm(features):
    """Representational dissimilarity matrix, 1 - Pearson r between rows.

    Args:
        features: [N, D] one response pattern per stimulus (D >= 2).

    Returns:
        float64 [N, N], zero diagonal; rows/columns of stimuli whose
        pattern is constant or contains NaN are NaN (scipy's pdist gives
        NaN for a constant row too).
    """
    x = _matrix(features, "features")
    if x.shape[1] < 2:
        raise ValueError(
            f"an RDM needs patterns of >= 2 dims, got {x.shape[1]}.")
    centred = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1))
    bad = ~np.isfinite(norm) | (norm == 0)
    unit = np.where(bad[:, None], 0.0, centred) / np.where(bad, 1.0,
                                                           norm)[:, None]
    out = 1.0 - unit @ unit.T
    np.fill_diagonal(out, 0.0)
    out[bad, :] = np.nan
    out[:, bad] = np.nan
    return out


def _upper(matrix, name):
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be a square RDM, got shape "
                         f"{m.shape}.")
    return m[np.triu_indices(m.shape[0], k=1)]


def rsa(rdm_a, rdm_b):
    """Spearman correlation between the upper triangles of two RDMs.

    Args:
        rdm_a, rdm_b: [N, N] RDMs over the same stimuli in the same order.

    Returns:
        float; NaN with fewer than 3 complete entries or a constant one.
    """
    a, b = _upper(rdm_a, "rdm_a"), _upper(rdm_b, "rdm_b")
    if a.shape != b.shape:
        raise ValueError(
            f"RDMs over different stimulus counts: {np.shape(rdm_a)} vs "
            f"{np.shape(rdm_b)}.")
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return np.nan
    ra = stats.rankdata(a[keep])
    rb = stats.rankdata(b[keep])
    return float(metrics.pearson_per_neuron(ra[:, None], rb[:, None])[0])


def _unbiased_hsic(gram_x, gram_y):
    """Song et al. (2012, JMLR 13, Eq. 5) unbiased HSIC of two Grams."""
    n = gram_x.shape[0]
    kx, ky = gram_x.copy(), gram_y.copy()
    np.fill_diagonal(kx, 0.0)
    np.fill_diagonal(ky, 0.0)
    sx, sy = kx.sum(axis=1), ky.sum(axis=1)
    return (np.sum(kx * ky) + sx.sum() * sy.sum() / ((n - 1) * (n - 2))
            - 2.0 * np.dot(sx, sy) / (n - 2)) / (n * (n - 3))


def linear_cka(x, y, unbiased=False):
    """Linear centred kernel alignment (Kornblith et al. 2019).

    Args:
        x: [N, D1] representation of N stimuli.
        y: [N, D2] another representation of the same stimuli.
        unbiased: use the unbiased HSIC estimator (Song et al. 2012; the
            default of Brain-Score's `cka` metric since brainscore-vision
            2.x, whose `cka_biased` is the default here), N >= 4.

    Returns:
        float; NaN if either representation is constant (or, unbiased, a
        self-HSIC is <= 0, where Brain-Score returns 0) or fewer than 2
        complete stimuli. The biased value lies in [0, 1]. Invariant to
        orthogonal transforms and isotropic scaling of either side.
    """
    x, y = _matrix(x, "x"), _matrix(y, "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"CKA needs the same stimuli on both sides: {x.shape[0]} vs "
            f"{y.shape[0]} rows.")
    keep = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    if keep.sum() < 2:
        return np.nan
    if unbiased:
        if keep.sum() < 4:
            return np.nan
        gx, gy = x[keep] @ x[keep].T, y[keep] @ y[keep].T
        prod = _unbiased_hsic(gx, gx) * _unbiased_hsic(gy, gy)
        return (float(_unbiased_hsic(gx, gy) / np.sqrt(prod)) if prod > 0
                else np.nan)
    x = x[keep] - x[keep].mean(axis=0)
    y = y[keep] - y[keep].mean(axis=0)
    n = x.shape[0]
    if max(x.shape[1], y.shape[1]) <= n:  # feature-space form
        cross = np.sum((y.T @ x) ** 2)
        norm_x = np.linalg.norm(x.T @ x)
        norm_y = np.linalg.norm(y.T @ y)
    else:  # Gram form, cheaper for wide representations
        gram_x, gram_y = x @ x.T, y @ y.T
        cross = np.sum(gram_x * gram_y)
        norm_x, norm_y = np.linalg.norm(gram_x), np.linalg.norm(gram_y)
    if norm_x == 0 or norm_y == 0:
        return np.nan
    return float(cross / (norm_x * norm_y))


def _responses(responses):
    r = np.asarray(responses, dtype=np.float64)
    if r.ndim == 3:
        r = r[:, :, None, :]
    if r.ndim != 4:
        raise ValueError(
            f"responses must be [trials, stimuli, bins, neurons] (or "
            f"without bins), got shape {r.shape}.")
    if r.shape[0] < 2:
        raise ValueError(
            f"responses have {r.shape[0]} trial; a split-half ceiling "
            "needs at least 2.")
    return r


def _split_half(responses, similarity, n_splits, seed):
    r = _responses(responses)
    per_split = np.full((int(n_splits), r.shape[2]), np.nan)
    for s, (h1, h2) in enumerate(trial_halves(r.shape[0], n_splits, seed)):
        mean1 = metrics.nanmean(r[h1], axis=0)
        mean2 = metrics.nanmean(r[h2], axis=0)
        for b in range(r.shape[2]):
            per_split[s, b] = similarity(mean1[:, b], mean2[:, b])
    per_split = metrics.spearman_brown(per_split)
    center, error = metrics.split_mean_and_sem(per_split, axis=0)
    return {"ceiling": center, "error": error, "per_split": per_split}


def rsa_ceiling(responses, n_splits=10, seed=1):
    """Split-half RSA reliability per bin (Brain-Score `RDMConsistency`).

    Args:
        responses: [R, N, B, K] (or [R, N, K]) trials x stimuli x bins x
            neurons of one area, NaN for missing trials.
        n_splits, seed: the trial split-halves (`trial_halves`).

    Returns:
        dict of float64 arrays: "ceiling" [B], "error" [B], "per_split"
        [n_splits, B] (Spearman-Brown corrected).
    """
    return _split_half(responses, lambda a, b: rsa(rdm(a), rdm(b)),
                       n_splits, seed)


def cka_ceiling(responses, n_splits=10, seed=1):
    """Split-half linear-CKA reliability per bin (Brain-Score
    `CKAConsistency`); arguments and result as `rsa_ceiling`."""
    return _split_half(responses, linear_cka, n_splits, seed)


def _per_bin(features, responses, steps):
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(
            f"features must be [stimuli, steps, dims], got shape {x.shape}.")
    y = np.asarray(responses, dtype=np.float64)
    if y.ndim == 4:
        y = metrics.nanmean(y, axis=0)
    if y.ndim != 3:
        raise ValueError(
            f"responses must be [stimuli, bins, neurons] (trial-averaged) "
            f"or [trials, stimuli, bins, neurons], got shape {y.shape}.")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"features have {x.shape[0]} stimuli, responses {y.shape[0]}; "
            "they must be the same stimuli in the same order.")
    steps = bin_steps(y.shape[1], x.shape[1], model_steps=np.asarray(steps))
    return x, y, steps


def rsa_per_bin(features, responses, steps):
    """RSA between the model RDM at `steps[b]` and the neural RDM of bin b.

    Args:
        features: [N, T, D] model features over steps.
        responses: [N, B, K] trial-averaged (or [R, N, B, K], averaged
            here ignoring NaN).
        steps: [B] model step of each bin (`tnn.neural.bin_steps`).

    Returns:
        float64 [B].
    """
    x, y, steps = _per_bin(features, responses, steps)
    return np.array([rsa(rdm(x[:, t]), rdm(y[:, b]))
                     for b, t in enumerate(steps)])


def cka_per_bin(features, responses, steps):
    """Linear CKA between model step `steps[b]` and bin b; as
    `rsa_per_bin`."""
    x, y, steps = _per_bin(features, responses, steps)
    return np.array([linear_cka(x[:, t], y[:, b])
                     for b, t in enumerate(steps)])


def ceiled(raw, ceiling):
    """raw / ceiling, NaN where the ceiling is <= 0 or undefined."""
    raw = np.asarray(raw, dtype=np.float64)
    ceiling = np.asarray(ceiling, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ceiling > 0, raw / ceiling, np.nan)


def similarity_per_bin(features, responses, steps, n_splits=10, seed=1):
    """RSA and linear CKA per bin with their split-half ceilings.

    Args:
        features: [N, T, D] model features of one node.
        responses: [R, N, B, K] responses of one area (NaN = missing).
        steps: [B] model step of each bin.
        n_splits, seed: ceiling split-halves.

    Returns:
        dict "rsa" / "cka" -> {"raw", "ceiling", "error", "ceiled"}, each
        float64 [B].
    """
    r = _responses(responses)
    average = metrics.nanmean(r, axis=0)
    out = {}
    for name, raw_fn, ceil_fn in (("rsa", rsa_per_bin, rsa_ceiling),
                                  ("cka", cka_per_bin, cka_ceiling)):
        raw = raw_fn(features, average, steps)
        ceil = ceil_fn(r, n_splits, seed)
        out[name] = {"raw": raw, "ceiling": ceil["ceiling"],
                     "error": ceil["error"],
                     "ceiled": ceiled(raw, ceil["ceiling"])}
    return out
