"""PLS regression in kernel (Gram) form, batched over bins and splits.

The NIPALS iteration of `tnn.neural.pls` with X entering only through the
Gram matrix of the stimuli: each group g (typically a time bin) has one
Gram matrix, shared by all problems p (typically stimulus splits) that
differ in their training rows. Per component and problem the work is one
Gram-vector product plus three read-only passes over n x q arrays: the
centred targets Y_0 and M_0 = K_0 Y_0 are never deflated in memory, the
deflated products being rebuilt from the stored score vectors.
"""

import warnings

import numpy as np

from tnn.neural.pls import check_components, column_status
from tnn.neural.pls import RANK_TOL, power_iterations


def kernel_context(gram, train_mask):
    """Training-row bookkeeping shared by fits and predictions.

    Args:
        gram: float64 [G, N, N] Gram matrices.
        train_mask: bool [P, N] training rows of each problem (the same in
            every group).

    Returns:
        dict with "mask" float [P, N], "n_train" [P], "tests" (list of
        ascending test-row indices) and "gram_mean" [G, P, N], the mean of
        the Gram rows over each problem's training rows.
    """
    mask = np.asarray(train_mask, dtype=bool)
    if mask.ndim != 2 or mask.shape[1] != gram.shape[-1]:
        raise ValueError(
            f"train_mask must be [problems, {gram.shape[-1]}], got "
            f"{mask.shape}.")
    maskf = mask.astype(np.float64)
    n_train = maskf.sum(axis=1)
    gram_mean = np.matmul(gram, maskf.T).transpose(0, 2, 1)
    return {"mask": maskf, "n_train": n_train,
            "tests": [np.flatnonzero(~row) for row in mask],
            "gram_mean": gram_mean / n_train[None, :, None]}


def _centre(z, ctx):
    """Centres z [G, P, N, k] over training rows; zeroes the other rows."""
    maskf, n_train = ctx["mask"], ctx["n_train"]
    mean = np.matmul(maskf[None, :, None, :], z)[:, :, 0, :]
    mean /= n_train[None, :, None]
    return (z - mean[:, :, None, :]) * maskf[None, :, :, None]


def _gram_times(gram, x):
    """gram [G, N, N] @ x [G, P, N] per problem -> [G, P, N]."""
    x = np.ascontiguousarray(x.transpose(0, 2, 1))
    return np.matmul(gram, x).transpose(0, 2, 1)


def _initial(gram, targets, ctx):
    """Centred targets Y_0 and M_0 = K_0 Y_0 for every problem."""
    maskf, n_train = ctx["mask"], ctx["n_train"]
    g, n = gram.shape[0], gram.shape[1]
    p = maskf.shape[0]
    if targets.shape[1] == 1 and p > 1:
        y = targets[:, 0]
        y_mean = np.matmul(maskf, y) / n_train[None, :, None]
        gy = np.matmul(gram, y)
        pre = np.empty((g, p, n, y.shape[-1]))
        for pi, test in enumerate(ctx["tests"]):
            pre[:, pi] = gy - np.matmul(gram[:, :, test], y[:, test])
        weight = ctx["gram_mean"] * n_train[None, :, None]
        pre -= weight[..., None] * y_mean[:, :, None, :]
        y_res = (y[:, None] - y_mean[:, :, None, :]) * maskf[None, :, :, None]
    else:
        y_mean = np.matmul(maskf[None, :, None, :], targets)[:, :, 0, :]
        y_mean /= n_train[None, :, None]
        y_res = (targets - y_mean[:, :, None, :]) * maskf[None, :, :, None]
        g_, p_, n_, q_ = y_res.shape
        flat = y_res.transpose(0, 2, 1, 3).reshape(g_, n_, p_ * q_)
        pre = np.matmul(gram, flat).reshape(g_, n_, p_, q_)
        pre = pre.transpose(0, 2, 1, 3)
    return y_res, _centre(pre, ctx), y_mean


def _project_out(x, prev, inv):
    """Removes from x [G, P, N] its components along the rows of prev."""
    coef = np.matmul(prev, x[..., None])[..., 0] * inv
    return x - np.matmul(coef[:, :, None, :], prev)[:, :, 0, :]


def _mask_columns(k, y0, m0, s_mat, sq, sq0, t_all, tt_all):
    """scikit-learn's target-column checks before component k (in place).

    The residual Y_k = Y_0 - T (T'T)^-1 T' Y_0 is formed only for problems
    with a nearly vanishing column; a zeroed column is zeroed in Y_0, M_0
    and S, which keeps it zero in every later residual.

    Returns:
        (first [G*P] start column, alive [G*P] bool).
    """
    g, p, n, q = y0.shape

    def residual(i):
        gi, pi = divmod(i, p)
        prev = t_all[gi, pi, :k]
        coef = (prev @ y0[gi, pi]) / tt_all[gi, pi, :k, None]
        return y0[gi, pi] - prev.T @ coef

    zeroed, first, alive = column_status(
        residual, sq.reshape(g * p, q), sq0.reshape(g * p, q), n)
    for i in np.flatnonzero(zeroed.any(axis=1)):
        gi, pi = divmod(i, p)
        cols = np.flatnonzero(zeroed[i])
        y0[gi, pi][:, cols] = 0.0
        m0[gi, pi][:, cols] = 0.0
        s_mat[gi, pi][cols] = 0.0
        s_mat[gi, pi][:, cols] = 0.0
        sq[gi, pi][cols] = 0.0
    if not alive.all():
        warnings.warn(f"y residual is constant at iteration {k}",
                      stacklevel=3)
    return first, alive


def kernel_pls(gram, train_mask, targets, n_components=25, n_features=None,
               max_iter=500, tol=1e-6):
    """PLS fits from Gram matrices, batched over groups and problems.

    Problem (g, p) regresses targets[g, p] on the features behind gram[g]
    using the rows where train_mask[p] is true.

    Args:
        gram: float64 [G, N, N] Gram matrices X X' (centre X over all N
            rows first for accuracy; the fit itself centres per problem).
        train_mask: bool [P, N] training rows of each problem.
        targets: float64 [G, P, N, q], or [G, 1, N, q] when every problem
            of a group has the same targets (cheaper); rows outside the
            training mask are ignored.
        n_components: PLS components (Brain-Score: 25).
        n_features: feature dimension, for scikit-learn's rank check.
        max_iter: power-method iterate limit (scikit-learn: 500).
        tol: power-method tolerance (scikit-learn: 1e-6).

    Returns:
        dict: "beta" [G, P, N, q] dual coefficients (zero off the training
        rows), "y_mean" [G, P, q], "rotation" [G, P, N, c] dual
        x-rotations, "scores" [G, P, c, N] training x-scores and "context"
        (see `kernel_context`).
    """
    ctx = kernel_context(gram, train_mask)
    g, n = gram.shape[0], gram.shape[1]
    p, q, c = ctx["mask"].shape[0], targets.shape[-1], int(n_components)
    check_components(c, int(ctx["n_train"].min()),
                     n if n_features is None else n_features)
    y0, m0, y_mean = _initial(gram, targets, ctx)
    s_mat = np.matmul(y0.swapaxes(-1, -2), m0)
    sq0 = (y0 * y0).sum(axis=2)
    sq = sq0.copy()
    t_all = np.zeros((g, p, c, n))
    u_all = np.zeros((g, p, c, n))
    r_all = np.zeros((g, p, c, n))
    a_all = np.zeros((g, p, c, q))
    tt_all = np.ones((g, p, c))
    for k in range(c):
        first, alive = _mask_columns(k, y0, m0, s_mat, sq, sq0, t_all,
                                     tt_all)
        z = power_iterations(s_mat.reshape(g * p, q, q), first, q == 1,
                             max_iter, tol)
        z = np.where(alive[:, None], z, 0.0).reshape(g, p, q)
        u = np.matmul(y0, z[..., None])[..., 0]
        t = np.matmul(m0, z[..., None])[..., 0]
        if k:
            prev, inv = t_all[:, :, :k], 1.0 / tt_all[:, :, :k]
            w = np.matmul(prev, u[..., None])[..., 0] * inv
            u = u - np.matmul(w[:, :, None, :], prev)[:, :, 0, :]
            t = t - np.matmul(w[:, :, None, :], r_all[:, :, :k])[:, :, 0, :]
            t = _project_out(t, prev, inv)
        tt = (t * t).sum(axis=-1)
        valid = tt > (RANK_TOL * tt_all[:, :, 0] if k else 0.0)
        t, u = t * valid[..., None], u * valid[..., None]
        tt = np.where(valid, tt, 1.0)
        r = _centre(_gram_times(gram, t)[..., None], ctx)[..., 0]
        b = _project_out(r, t_all[:, :, :k], 1.0 / tt_all[:, :, :k]) \
            if k else r
        prods = np.matmul(np.stack([t, b], axis=2), y0)
        a = prods[:, :, 0] / tt[..., None]
        tb = (t * b).sum(axis=-1)
        outer_ca = prods[:, :, 1, :, None] * a[..., None, :]
        s_mat += (tb[..., None, None] * a[..., :, None] * a[..., None, :]
                  - outer_ca - outer_ca.swapaxes(-1, -2))
        sq -= tt[..., None] * a * a
        t_all[:, :, k], u_all[:, :, k], r_all[:, :, k] = t, u, r
        a_all[:, :, k], tt_all[:, :, k] = a, tt
    ptw = np.matmul(r_all / tt_all[..., None], u_all.swapaxes(-1, -2))
    rotation = np.matmul(u_all.swapaxes(-1, -2), np.linalg.pinv(ptw))
    return {"beta": np.matmul(rotation, a_all), "y_mean": y_mean,
            "rotation": rotation, "scores": t_all, "context": ctx}


def kernel_test_apply(gram, ctx, dual):
    """Centred projections (x - mean_train) . X_train' dual of test rows.

    Args:
        gram: [G, N, N] as given to the fit.
        ctx: `kernel_context(gram, train_mask)` (a fit's "context").
        dual: [G, P, N, k] dual vectors, zero off the training rows and
            summing to zero over them (true of "beta" and "rotation").

    Returns:
        list over problems of [G, m_p, k] arrays, rows in `ctx["tests"]`
        order; add "y_mean" to the projection of "beta" to predict.
    """
    out = []
    for pi, test in enumerate(ctx["tests"]):
        rows = np.matmul(gram[:, test, :], dual[:, pi])
        rows -= np.matmul(ctx["gram_mean"][:, pi, None, :], dual[:, pi])
        out.append(rows)
    return out


def kernel_pls_predict(gram, fit):
    """Test-row predictions of a `kernel_pls` fit: list of [G, m_p, q]."""
    rows = kernel_test_apply(gram, fit["context"], fit["beta"])
    return [r + fit["y_mean"][:, pi, None, :] for pi, r in enumerate(rows)]
