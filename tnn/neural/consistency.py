"""Nayebi's noise-corrected consistency (brainmodel_utils, Nayebi et al.).

For each train/test split and each random split-half of the trials, per
neuron on the test stimuli:

    r_xy = r(prediction of the map fit to the trial mean, trial mean)
    r_xx = r(prediction of the map fit to half 1, of the map fit to half 2)
    r_yy = r(half-1 mean, half-2 mean)
    consistency = r_xy / sqrt(SB(r_xx) * SB(r_yy)),  SB(r) = 2r / (1 + r)

(NaN where SB(r_xx) * SB(r_yy) < 0). The value is averaged over split-halves
and over splits (NaN skipped), then the median over neurons is taken. The
splits are brainmodel_utils' `generate_train_test_splits` (permutation with
RandomState(split), first ceil(train_frac*N) stimuli train; defaults 5
splits, 0.8) and the halves its `get_splithalves` (RandomState(seed) shuffle
of the trials, seeds start_seed, start_seed + 1, ...; a half whose mean has
a NaN is skipped). brainmodel_utils defaults to 1000 split-halves; the
default here is 100 (pass n_bootstrap=1000 for its exact protocol).
"""

import contextlib

import numpy as np
import threadpoolctl

from tnn.neural import mapping as mapping_lib
from tnn.neural import metrics
from tnn.neural.splits import bootstrap_halves, permutation_splits


def _per_split_r(preds_a, preds_b, tests):
    return np.stack([metrics.pearson_per_neuron(a, b, axis=0)
                     for a, b, _ in zip(preds_a, preds_b, tests)])


def _fit(mapping, gram, dim, mask, targets):
    """Test-row predictions [P][m, q] for targets [P or 1, N, q]."""
    pred, _ = mapping_lib.predict_grouped(mapping, gram, dim, mask,
                                          targets[None])
    return [p[0] for p in pred]


def _bin_consistency(mapping, x, responses, splits, seeds, chunk):
    """Consistency terms [n_valid_seeds, S, K] for one bin."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=0)
    gram = (x @ x.T)[None]
    n_stim, dim = x.shape
    mask = np.zeros((len(splits), n_stim), dtype=bool)
    for i, (train, _) in enumerate(splits):
        mask[i, train] = True
    tests = [np.sort(test) for _, test in splits]
    mean = metrics.nanmean(responses, axis=0)
    full = _fit(mapping, gram, dim, mask, mean[None])
    r_xy = np.stack([metrics.pearson_per_neuron(f, mean[t], axis=0)
                     for f, t in zip(full, tests)])
    halves = []
    for seed in seeds:
        h1, h2 = bootstrap_halves(responses.shape[0], seed)
        y1 = metrics.nanmean(responses[h1], 0)
        y2 = metrics.nanmean(responses[h2], 0)
        if np.isfinite(y1).all() and np.isfinite(y2).all():
            halves.append((y1, y2))
    terms = {"r_xy": [], "r_xx": [], "r_yy": []}
    for start in range(0, len(halves), chunk):
        part = halves[start:start + chunk]
        stacked = np.stack([y for pair in part for y in pair])  # [2h, N, K]
        targets = np.repeat(stacked, len(splits), axis=0)
        masks = np.tile(mask, (len(stacked), 1))
        preds = _fit(mapping, gram, dim, masks, targets)
        n_s = len(splits)
        for j, (y1, y2) in enumerate(part):
            p1 = preds[2 * j * n_s:(2 * j + 1) * n_s]
            p2 = preds[(2 * j + 1) * n_s:(2 * j + 2) * n_s]
            terms["r_xx"].append(_per_split_r(p1, p2, tests))
            terms["r_yy"].append(_per_split_r(
                [y1[t] for t in tests], [y2[t] for t in tests], tests))
            terms["r_xy"].append(r_xy)
    return {k: np.stack(v) if v else np.zeros((0, len(splits),
                                                responses.shape[-1]))
            for k, v in terms.items()}


def noise_corrected_consistency(features, responses, mapping=None,
                                n_splits=5, train_frac=0.8, n_bootstrap=100,
                                start_seed=1234, split_seed=0, chunk=10,
                                blas_threads=1):
    """Nayebi's noise-corrected consistency per time bin.

    Args:
        features: [N, D] (one feature set for every bin) or [N, B, D].
        responses: [R, N, K] or [R, N, B, K], NaN for missing trials.
        mapping: PLSMapping (default) or RidgeMapping.
        n_splits, train_frac, split_seed: train/test splits.
        n_bootstrap: number of trial split-halves (seeds start_seed...).
        start_seed: first split-half seed (brainmodel_utils: 1234).
        chunk: split-halves fitted per batch (memory vs speed).
        blas_threads: BLAS threads while fitting (None keeps the setting).

    Returns:
        dict of float64 arrays: "score" [B] (median over neurons),
        "per_neuron" [B, K], and the mean components "r_xy", "r_xx_sb",
        "r_yy_sb" [B, K]; "n_halves" [B] split-halves used.
    """
    responses = np.asarray(responses, dtype=np.float64)
    if responses.ndim == 3:
        responses = responses[:, :, None, :]
    features = np.asarray(features)
    if features.ndim == 2:
        features = np.repeat(features[:, None], responses.shape[2], axis=1)
    if features.shape[:2] != responses.shape[1:3]:
        raise ValueError(
            f"features {features.shape} do not match responses "
            f"{responses.shape} (stimuli and bins must agree).")
    if responses.shape[0] < 2:
        raise ValueError("split-halves need at least 2 trials.")
    mapping = mapping or mapping_lib.PLSMapping()
    splits = permutation_splits(responses.shape[1], n_splits, train_frac,
                                split_seed)
    seeds = range(start_seed, start_seed + n_bootstrap)
    limit = (contextlib.nullcontext() if blas_threads is None else
             threadpoolctl.threadpool_limits(int(blas_threads)))
    out = {k: [] for k in ("per_neuron", "r_xy", "r_xx_sb", "r_yy_sb",
                           "n_halves")}
    with limit:
        for b in range(responses.shape[2]):
            t = _bin_consistency(mapping, features[:, b], responses[:, :, b],
                                 splits, seeds, chunk)
            xx = metrics.spearman_brown(t["r_xx"])
            yy = metrics.spearman_brown(t["r_yy"])
            prod = xx * yy
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(prod >= 0, t["r_xy"] / np.sqrt(
                    np.abs(prod)), np.nan)
            out["per_neuron"].append(metrics.nanmean(
                metrics.nanmean(ratio, 0), 0))
            out["r_xy"].append(metrics.nanmean(metrics.nanmean(
                t["r_xy"], 0), 0))
            out["r_xx_sb"].append(metrics.nanmean(metrics.nanmean(xx, 0), 0))
            out["r_yy_sb"].append(metrics.nanmean(metrics.nanmean(yy, 0), 0))
            out["n_halves"].append(t["r_xy"].shape[0])
    out = {k: np.asarray(v) for k, v in out.items()}
    out["score"] = metrics.nanmedian(out["per_neuron"], axis=-1)
    return out
