"""PLS regression in covariance form, for more samples than features.

The same NIPALS iteration as `tnn.neural.pls` (see its docstring), run on
Sigma = X'X and C = X'Y of the centred training data instead of the Gram
matrix, so that the cost per component is one Sigma-vector product. Used
for the mapping shared across time bins (Brain-Score's "spantime"), where
the time bins stack as extra samples and N*B rows outnumber the features.

One more difference from scikit-learn than in the kernel form: the target
rows are not kept, so scikit-learn's "all |residual| < 10 eps" column test
and "first column with a residual above eps" start are decided on the
column norms instead (only relevant for targets fitted to machine
precision, e.g. a constant neuron).
"""

import numpy as np

from tnn.neural.pls import RANK_TOL, check_components, column_status
from tnn.neural.pls import power_iterations


def covariance_pls(sigma, cross, y_sqnorm, n_train, n_components=25,
                   max_iter=500, tol=1e-6):
    """Batched PLS fits from centred second moments.

    Args:
        sigma: float64 [P, D, D] centred X'X of each problem's training rows.
        cross: float64 [P, D, q] centred X'Y.
        y_sqnorm: float64 [P, q] squared norms of the centred Y columns.
        n_train: number of training rows (for scikit-learn's rank check).
        n_components: PLS components.
        max_iter: power-method iterate limit.
        tol: power-method tolerance.

    Returns:
        dict: "coef" [P, D, q] (predict with (X - x_mean) @ coef + y_mean)
        and "rotation" [P, D, c] (x-scores = (X - x_mean) @ rotation).
    """
    n_prob, dim, q = cross.shape
    c = int(n_components)
    check_components(c, int(n_train), dim)
    c_res = np.array(cross, dtype=np.float64)
    s_mat = np.matmul(c_res.swapaxes(-1, -2), c_res)
    sq0 = np.array(y_sqnorm, dtype=np.float64)
    sq = sq0.copy()
    w_all = np.zeros((n_prob, c, dim))
    p_all = np.zeros((n_prob, c, dim))
    a_all = np.zeros((n_prob, c, q))
    tt_all = np.zeros((n_prob, c))
    for k in range(c):
        zeroed, first, alive = column_status(None, sq, sq0, int(n_train))
        if zeroed.any():
            c_res = np.where(zeroed[:, None, :], 0.0, c_res)
            s_mat = np.where(zeroed[:, :, None] | zeroed[:, None, :], 0.0,
                             s_mat)
            sq = np.where(zeroed, 0.0, sq)
        z = power_iterations(s_mat, first, q == 1, max_iter, tol)
        z = np.where(alive[:, None], z, 0.0)
        w = np.matmul(c_res, z[..., None])[..., 0]
        sw = np.matmul(sigma, w[..., None])[..., 0]
        if k:
            proj = np.matmul(p_all[:, :k], w[..., None])[..., 0]
            sw -= np.matmul((proj * tt_all[:, :k])[:, None, :],
                            p_all[:, :k])[:, 0, :]
        tt = (w * sw).sum(axis=-1)
        valid = tt > (RANK_TOL * tt_all[:, 0] if k else 0.0)
        w, sw = w * valid[:, None], sw * valid[:, None]
        tt = np.where(valid, tt, 1.0)
        ploading = sw / tt[:, None]
        a = np.matmul(w[:, None, :], c_res)[:, 0, :] / tt[:, None]
        e = np.matmul(ploading[:, None, :], c_res)[:, 0, :]
        c_res -= tt[:, None, None] * ploading[:, :, None] * a[:, None, :]
        pp = (ploading * ploading).sum(axis=-1)
        outer_ea = e[:, :, None] * a[:, None, :]
        s_mat += ((tt * tt * pp)[:, None, None] * a[:, :, None] * a[:, None, :]
                  - tt[:, None, None] * (outer_ea + outer_ea.swapaxes(-1, -2)))
        sq -= tt[:, None] * a * a
        w_all[:, k], p_all[:, k] = w, ploading
        a_all[:, k], tt_all[:, k] = a, tt
    ptw = np.matmul(p_all, w_all.swapaxes(-1, -2))
    rotation = np.matmul(w_all.swapaxes(-1, -2), np.linalg.pinv(ptw))
    coef = np.matmul(rotation, a_all)
    return {"coef": coef, "rotation": rotation}


def centred_moments(x_rows, y_rows, train_rows):
    """Centred X'X, X'Y and |Y columns|^2 of the training rows.

    Args:
        x_rows: [M, D] float64 feature rows (centre them over all rows
            first for accuracy).
        y_rows: [M, q] float64 targets.
        train_rows: [P, M] bool, training rows of each problem.

    Returns:
        (sigma [P, D, D], cross [P, D, q], y_sqnorm [P, q], x_mean [P, D],
        y_mean [P, q]); the totals are computed once and each problem
        subtracts its held-out rows.
    """
    total_xx = x_rows.T @ x_rows
    total_xy = x_rows.T @ y_rows
    total_x, total_y = x_rows.sum(axis=0), y_rows.sum(axis=0)
    out = []
    for rows in np.asarray(train_rows, dtype=bool):
        held = ~rows
        xh, yh = x_rows[held], y_rows[held]
        n = rows.sum()
        x_mean = (total_x - xh.sum(axis=0)) / n
        y_mean = (total_y - yh.sum(axis=0)) / n
        sigma = total_xx - xh.T @ xh - n * np.outer(x_mean, x_mean)
        cross = total_xy - xh.T @ yh - n * np.outer(x_mean, y_mean)
        y_c = y_rows[rows] - y_mean
        out.append((sigma, cross, (y_c * y_c).sum(axis=0), x_mean, y_mean))
    return tuple(np.stack(part) for part in zip(*out))
