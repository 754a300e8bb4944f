"""Linear readouts shared across time bins, and per-bin scores (numpy).

A shared readout maps the features of every bin with the same weights:
`y[n, b, :] = x[n, b, :] @ W + c`, the bins stacked as samples (Brain-Score's
"spantime" regression). It is fitted by ridge regression whose penalty is
chosen by K-fold cross-validation over *stimuli* (all bins of a stimulus
stay in one fold, so the choice is not fooled by the correlation between a
stimulus's bins), from a grid relative to the features' mean eigenvalue;
the solves are `tnn.neural.ridge.eigen_ridge`.
The direct fit of dynamics starts its readouts from this solution, and the
baselines and held-out neurons use it, so every shared readout of a
comparison is fitted the same way.

BLAS runs single-threaded here (`threadpoolctl`): these are many
medium-sized decompositions, and a multi-threaded BLAS on a shared, loaded
machine is several times slower (as `tnn.neural.layer_sweep` notes).

Scores: Pearson r per neuron and bin over held-out stimuli, median over
neurons (NaN where a prediction is constant, e.g. before a node's first
image-driven step); summaries average the per-bin medians with undefined
bins counted as 0, as `tnn.neural.layer_sweep` does.
"""

import numpy as np
import threadpoolctl
from sklearn.model_selection import KFold

from tnn.neural import metrics, ridge

RELATIVE_ALPHAS = tuple(10.0 ** np.arange(-4.0, 2.5, 0.5))


def _centered(x, y):
    x_mean, y_mean = x.mean(axis=0), y.mean(axis=0)
    return x - x_mean, y - y_mean, x_mean, y_mean


def _solve_all(x, y, alphas):
    """Ridge weights [len(alphas), D, K] via one eigendecomposition."""
    with threadpoolctl.threadpool_limits(1):
        return ridge.eigen_ridge(x, y, alphas)


def fit_shared_readout(features, responses, folds=5, seed=0,
                       relative_alphas=RELATIVE_ALPHAS):
    """Ridge readout shared across bins, penalty chosen over stimulus folds.

    Args:
        features: `[N, B, D]` features of the training stimuli per bin.
        responses: `[N, B, K]` trial-averaged responses.
        folds: K of the K-fold over stimuli.
        seed: fold shuffling seed.
        relative_alphas: penalties as multiples of trace(X'X) / D.

    Returns:
        dict with "weights" [D, K], "bias" [K], "alpha" (absolute) and
        "relative_alpha".
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(responses, np.float64)
    if x.ndim != 3 or y.ndim != 3 or x.shape[:2] != y.shape[:2]:
        raise ValueError(
            f"features {x.shape} and responses {y.shape} must be [N, B, D] "
            "and [N, B, K] with the same N and B.")
    n, n_bins, dim = x.shape
    if n < 2 * folds:
        raise ValueError(f"{n} training stimuli are too few for {folds} "
                         "folds of the readout's penalty search.")
    rows_x = x.reshape(n * n_bins, dim)
    rows_y = y.reshape(n * n_bins, -1)
    xc, _, _, _ = _centered(rows_x, rows_y)
    scale = max(float(np.einsum("ij,ij->", xc, xc)) / dim, 1e-12)
    alphas = np.asarray(relative_alphas, np.float64) * scale
    errors = np.zeros(len(alphas))
    splitter = KFold(folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.arange(n)):
        tr_x = x[train].reshape(-1, dim)
        tr_y = y[train].reshape(-1, y.shape[-1])
        xc_tr, yc_tr, x_mean, y_mean = _centered(tr_x, tr_y)
        weights = _solve_all(xc_tr, yc_tr, alphas)
        te_x = x[test].reshape(-1, dim) - x_mean
        te_y = y[test].reshape(-1, y.shape[-1]) - y_mean
        for i, w in enumerate(weights):
            errors[i] += float(np.square(te_x @ w - te_y).sum())
    best = int(np.argmin(errors))
    readout = ridge_readout(x, y, alphas[best])
    readout["relative_alpha"] = float(relative_alphas[best])
    return readout


def ridge_readout(features, responses, alpha):
    """Ridge readout shared across bins for one penalty `alpha`.

    Args:
        features: `[N, B, D]`.
        responses: `[N, B, K]`.
        alpha: the penalty on ||W||^2 (intercept not penalised).

    Returns:
        dict with "weights" [D, K], "bias" [K] and "alpha".
    """
    x = np.asarray(features, np.float64)
    y = np.asarray(responses, np.float64)
    xc, yc, x_mean, y_mean = _centered(x.reshape(-1, x.shape[-1]),
                                       y.reshape(-1, y.shape[-1]))
    weights = _solve_all(xc, yc, [float(alpha)])[0]
    return {"weights": weights, "bias": y_mean - x_mean @ weights,
            "alpha": float(alpha)}


def predict_shared(features, readout):
    """`features [m, B, D] @ weights + bias` -> `[m, B, K]`."""
    x = np.asarray(features, np.float64)
    return x @ readout["weights"] + readout["bias"]


def score_curve(predictions, responses, bins=None):
    """Held-out predictivity per bin.

    Args:
        predictions: `[m, B, K]` predictions for m held-out stimuli.
        responses: `[m, B, K]` trial-averaged responses.
        bins: bins averaged into "mean" (default: all).

    Returns:
        dict: "per_bin" [B] median over neurons of Pearson r over stimuli
        (NaN where undefined), "per_neuron" [B, K], "mean" (per-bin medians
        averaged over `bins`, NaN counted as 0).
    """
    r = metrics.pearson_per_neuron(predictions, responses, axis=0)
    per_bin = metrics.nanmedian(r, axis=-1)
    chosen = np.arange(per_bin.size) if bins is None else np.asarray(bins)
    return {"per_bin": per_bin, "per_neuron": r,
            "mean": float(np.nan_to_num(per_bin[chosen], nan=0.0).mean())}
