"""The NIPALS core shared by the batched PLS engines.

scikit-learn fits `PLSRegression(n_components, scale=False)` (algorithm
"nipals", deflation "regression", mode "A") one component at a time: the
power method

    u = first non-constant column of Y_k
    repeat: w = X_k' u / |X_k' u|;  t = X_k w;  v = Y_k' t / t't;  u = Y_k v
    until |w_i - w_{i-1}|^2 < tol (from the second iterate; at once if Y has
    one column) or max_iter iterates

then deflates X_{k+1} = X_k - t p', Y_{k+1} = Y_k - t c' and finally forms
coef = W (P'W)^+ C'. The engines built on this module run the same
iteration, iterate for iterate, with every problem of a batch at once and
without touching the feature dimension inside the loop:

- every iterate is w = X_k' Y_k z for a vector z of target dimension q, and
  |w|^2 and |w_i - w_{i-1}|^2 are quadratic forms in S_k = Y_k' X_k X_k' Y_k,
  so the power method runs on q x q matrices;
- kernel form (`tnn.neural.pls_kernel`): X enters only through the Gram
  matrix of the stimuli, shared by every split and every target set of a
  bin; one Gram product per component;
- covariance form (`tnn.neural.pls_covariance`, samples > features): X
  enters through X'X and X'Y.

Differences from scikit-learn: the sign flip of each weight vector
(`_svd_flip_1d`) is skipped, since it cancels in coef and predictions;
the `eps` guards in the normalisations are omitted (they matter only for
norms within ~1e-13 of zero); components that only fit rounding noise
(features of rank below n_components, constant features) are dropped
(see RANK_TOL), where scikit-learn returns NaN or noise. Predictions match
to floating-point tolerance (tests check 1e-6).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

EPS = np.finfo(np.float64).eps

# A component whose score norm^2 falls below this fraction of the first
# one's only fits rounding noise (features of rank < n_components, or
# constant features); it is dropped (zero), where scikit-learn returns NaN
# or noise.
RANK_TOL = 1e-20


def check_components(n_components, n_samples, n_features):
    if n_components > min(n_samples, n_features):
        raise ValueError(
            f"PLS with n_components={n_components} needs at least that many "
            f"training samples and features, got {n_samples} samples and "
            f"{n_features} features; reduce n_components.")


def power_iterations(S, first, single_target, max_iter, tol):
    """scikit-learn's NIPALS power method in q-space, batched.

    Args:
        S: [Q, q, q] matrices Y_k' X_k X_k' Y_k.
        first: [Q] index of the first non-constant target column.
        single_target: Y has one column (scikit-learn stops at once).
        max_iter: iterate limit (scikit-learn: 500).
        tol: squared-difference tolerance (scikit-learn: 1e-6).

    Returns:
        [Q, q] vectors z with z' S z = 1: the weight is w = X_k' Y_k z.
    """
    n_prob, q, _ = S.shape
    rows = np.arange(n_prob)
    s_cur = S[rows, :, first]
    norm = np.sqrt(np.maximum(s_cur[rows, first], 0.0))
    ok = norm > 0
    safe = np.where(ok, norm, 1.0)
    cur = np.zeros((n_prob, q))
    cur[rows, first] = np.where(ok, 1.0 / safe, 0.0)
    s_cur = np.where(ok[:, None], s_cur / safe[:, None], 0.0)
    if single_target or max_iter <= 1:
        return cur
    result = cur.copy()
    idx = np.flatnonzero(ok)
    live = np.ones(idx.size, dtype=bool)
    s_act, cur, s_cur = S[idx], cur[idx], s_cur[idx]
    for _ in range(1, max_iter):
        n_live = int(live.sum())
        if n_live == 0:
            return result
        if n_live < 0.5 * idx.size:
            idx, s_act, cur, s_cur = (idx[live], s_act[live], cur[live],
                                      s_cur[live])
            live = np.ones(idx.size, dtype=bool)
        new = s_cur
        s_new = np.matmul(s_act, new[:, :, None])[:, :, 0]
        norm = np.sqrt((new * s_new).sum(axis=-1))[:, None]
        new, s_new = new / norm, s_new / norm
        done = live & (((new - cur) * (s_new - s_cur)).sum(axis=-1) < tol)
        result[idx[done]] = new[done]
        live &= ~done
        cur, s_cur = new, s_new
    if live.any():
        result[idx[live]] = cur[live]
        warnings.warn("Maximum number of iterations reached",
                      ConvergenceWarning, stacklevel=3)
    return result


def column_status(residual, sq_norm, sq_norm0, n_rows):
    """scikit-learn's per-component target checks, batched.

    scikit-learn zeroes target columns whose residuals are all below
    10*eps, starts the power method at the first column with a residual
    above eps, and stops a fit whose residual is constant. Exact scans run
    only for problems with a nearly vanishing column.

    Args:
        residual: function i -> [n, q] target residuals of problem i, or
            None (covariance form: the decision then uses the column norms,
            see pls_covariance).
        sq_norm: [Q, q] squared column norms of the residuals.
        sq_norm0: [Q, q] squared column norms before the first component.
        n_rows: number of target rows n.

    Returns:
        (zeroed [Q, q] bool, first [Q] int, alive [Q] bool).
    """
    n_prob, q = sq_norm.shape
    small = (sq_norm < 1e-12 * sq_norm0) | (sq_norm < n_rows * 1e-27)
    zeroed = np.zeros((n_prob, q), dtype=bool)
    nonconst = np.ones((n_prob, q), dtype=bool)
    for i in np.flatnonzero(small.any(axis=1)):
        if residual is None:
            peak = np.sqrt(np.maximum(sq_norm[i], 0.0))
        else:
            peak = np.abs(residual(i)).max(axis=0)
        zeroed[i] = peak < 10 * EPS
        nonconst[i] = peak > EPS
    alive = nonconst.any(axis=1)
    return zeroed, nonconst.argmax(axis=1), alive
