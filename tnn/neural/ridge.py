"""Ridge regression equal to scikit-learn's Ridge / RidgeCV, batched.

One alpha reproduces `Ridge(alpha)` (intercept fitted, not penalised);
several reproduce `RidgeCV(alphas)` with its default efficient
leave-one-out (GCV) selection: one alpha for all targets, the one with the
smallest mean squared leave-one-out error (first one on ties). As in
scikit-learn, the Gram form is used when samples <= features and the
covariance form otherwise, with scikit-learn's formulas for the
leave-one-out errors.

`covariance_eigh` / `eigen_ridge` solve centred problems for many alphas
from one eigendecomposition of X'X (also the shared readouts of
`tnn.neural.dynamics.readouts`).
"""

import numpy as np
import scipy.linalg


def check_alphas(alphas):
    arr = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.all(arr > 0):
        raise ValueError(
            f"ridge alphas must be a non-empty list of positive numbers, got "
            f"{alphas!r}.")
    return arr


def _select(alphas, loo_error):
    """Index of the best alpha: argmin of the mean squared LOO error."""
    return int(np.argmin(loo_error)) if len(alphas) > 1 else 0


def _gram_solve(kernel, y_c, alphas, extra=None):
    """Dual coefficients of one problem in Gram form.

    Returns (dual [n, q], chosen alpha, dual for `extra` targets or None).
    """
    n = kernel.shape[0]
    if alphas.size == 1:
        lhs = kernel + alphas[0] * np.eye(n)
        rhs = y_c if extra is None else np.concatenate([y_c, extra], axis=1)
        dual = scipy.linalg.cho_solve(scipy.linalg.cho_factor(lhs), rhs)
        q = y_c.shape[1]
        return dual[:, :q], alphas[0], (None if extra is None
                                        else dual[:, q:])
    eigval, vec = np.linalg.eigh(kernel)
    vt_y = vec.T @ y_c
    vt_one = vec.T @ np.ones(n)
    errors = []
    for alpha in alphas:
        d_inv = 1.0 / (eigval + alpha)
        c = vec @ (d_inv[:, None] * vt_y)
        diag = (vec * vec) @ d_inv
        diag -= (vec @ (d_inv * vt_one)) / n
        errors.append(np.mean((c / diag[:, None]) ** 2))
    best = _select(alphas, errors)
    d_inv = 1.0 / (eigval + alphas[best])
    dual = vec @ (d_inv[:, None] * vt_y)
    extra_dual = None
    if extra is not None:
        extra_dual = vec @ (d_inv[:, None] * (vec.T @ extra))
    return dual, alphas[best], extra_dual


def kernel_ridge(gram, train_mask, targets, alphas, heldout_targets=None):
    """Ridge fits from Gram matrices (layout of `tnn.neural.pls.kernel_pls`).

    Args:
        gram: float64 [G, N, N] Gram matrices.
        train_mask: bool [P, N] training rows (shared by all groups).
        targets: float64 [G, P, N, q] or [G, 1, N, q] (shared targets).
        alphas: one alpha (Ridge) or several (RidgeCV selection).
        heldout_targets: optional extra targets shaped like `targets`,
            fitted with the alpha chosen on `targets` (held-out-neuron
            validation).

    Returns:
        dict with "beta" [G, P, N, q], "y_mean" [G, P, q], "alpha" [G, P]
        and, with heldout_targets, "beta_heldout" and "y_mean_heldout".
    """
    alphas = check_alphas(alphas)
    mask = np.asarray(train_mask, dtype=bool)
    p, n = mask.shape
    g, q = targets.shape[0], targets.shape[-1]
    beta = np.zeros((g, p, n, q))
    y_mean = np.zeros((g, p, q))
    chosen = np.zeros((g, p))
    out = {}
    if heldout_targets is not None:
        out["beta_heldout"] = np.zeros((g, p, n, heldout_targets.shape[-1]))
        out["y_mean_heldout"] = np.zeros((g, p, heldout_targets.shape[-1]))
    for gi in range(g):
        for pi in range(p):
            idx = np.flatnonzero(mask[pi])
            ti = pi if targets.shape[1] > 1 else 0
            kernel = gram[gi][np.ix_(idx, idx)]
            kernel = (kernel - kernel.mean(axis=0) - kernel.mean(
                axis=1)[:, None] + kernel.mean())
            y = targets[gi, ti, idx]
            y_mean[gi, pi] = y.mean(axis=0)
            extra = None
            if heldout_targets is not None:
                hi = pi if heldout_targets.shape[1] > 1 else 0
                extra = heldout_targets[gi, hi, idx]
                out["y_mean_heldout"][gi, pi] = extra.mean(axis=0)
                extra = extra - extra.mean(axis=0)
            dual, chosen[gi, pi], extra_dual = _gram_solve(
                kernel, y - y_mean[gi, pi], alphas, extra)
            beta[gi, pi, idx] = dual
            if extra_dual is not None:
                out["beta_heldout"][gi, pi, idx] = extra_dual
    out.update(beta=beta, y_mean=y_mean, alpha=chosen)
    return out


def covariance_eigh(xc, yc):
    """Eigendecomposition of `xc' xc` and the projected `xc' yc`.

    Args:
        xc: [n, D] centred rows; yc: [n, q] centred targets.

    Returns:
        (eigval [D], eigvec [D, D], eigvec' xc' yc [D, q]).
    """
    eigval, vec = np.linalg.eigh(xc.T @ xc)
    return eigval, vec, vec.T @ (xc.T @ yc)


def eigen_ridge(xc, yc, alphas):
    """Ridge weights `[len(alphas), D, q]` of centred rows (no intercept),
    one eigendecomposition for all alphas."""
    eigval, vec, vt_xy = covariance_eigh(xc, yc)
    return np.stack([vec @ (vt_xy / (eigval + a)[:, None])
                     for a in alphas])


def covariance_ridge(x_train, y_train, alphas, heldout_targets=None):
    """Ridge / RidgeCV of one problem in covariance form (samples > dims).

    Args:
        x_train: [n, D] training rows; y_train: [n, q] targets.
        alphas: one alpha or several (RidgeCV selection).
        heldout_targets: optional [n, q2] extra targets fitted with the
            chosen alpha.

    Returns:
        dict with "coef" [D, q], "x_mean" [D], "y_mean" [q], "alpha" and,
        with heldout_targets, "coef_heldout", "y_mean_heldout".
    """
    alphas = check_alphas(alphas)
    x_mean, y_mean = x_train.mean(axis=0), y_train.mean(axis=0)
    xc, yc = x_train - x_mean, y_train - y_mean
    n, dim = xc.shape
    out = {"x_mean": x_mean, "y_mean": y_mean}
    extra = None
    if heldout_targets is not None:
        out["y_mean_heldout"] = heldout_targets.mean(axis=0)
        extra = heldout_targets - out["y_mean_heldout"]
    if alphas.size == 1:
        sigma = xc.T @ xc
        factor = scipy.linalg.cho_factor(sigma + alphas[0] * np.eye(dim))
        out["coef"] = scipy.linalg.cho_solve(factor, xc.T @ yc)
        out["alpha"] = alphas[0]
        if extra is not None:
            out["coef_heldout"] = scipy.linalg.cho_solve(factor, xc.T @ extra)
        return out
    eigval, vec, vt_xy = covariance_eigh(xc, yc)
    proj = xc @ vec
    errors = []
    for alpha in alphas:
        d_inv = 1.0 / (eigval + alpha)
        fitted = proj @ (d_inv[:, None] * vt_xy)
        lev = (proj * proj) @ d_inv
        denom = 1.0 - lev - 1.0 / n
        errors.append(np.mean(((yc - fitted) / denom[:, None]) ** 2))
    best = _select(alphas, errors)
    d_inv = 1.0 / (eigval + alphas[best])
    out["coef"] = vec @ (d_inv[:, None] * vt_xy)
    out["alpha"] = alphas[best]
    if extra is not None:
        out["coef_heldout"] = vec @ (d_inv[:, None] * (vec.T @ (xc.T @ extra)))
    return out
