"""Linear mappings from model features to neurons: PLS and ridge.

`PLSMapping()` is Brain-Score's default regression,
`PLSRegression(n_components=25, scale=False)`; `RidgeMapping(alphas)` is
scikit-learn's `Ridge(alpha)` for one alpha and `RidgeCV(alphas)` for
several. Both are fitted by the batched engines of `tnn.neural.pls`,
`tnn.neural.pls_covariance` and `tnn.neural.ridge`, which reproduce the
scikit-learn estimators to floating-point tolerance.
"""

import dataclasses

import numpy as np

from tnn.neural import pls_covariance, pls_kernel, ridge


@dataclasses.dataclass(frozen=True)
class PLSMapping:
    """PLS regression (scikit-learn NIPALS, no feature scaling).

    Args:
        n_components: number of PLS components (Brain-Score: 25).
        max_iter: power-method iterate limit (scikit-learn: 500).
        tol: power-method tolerance (scikit-learn: 1e-6).
    """

    n_components: int = 25
    max_iter: int = 500
    tol: float = 1e-6

    def __post_init__(self):
        if int(self.n_components) != self.n_components or \
                self.n_components < 1:
            raise ValueError(
                f"n_components must be a positive int, got "
                f"{self.n_components!r}.")
        if int(self.max_iter) != self.max_iter or self.max_iter < 1:
            raise ValueError(
                f"max_iter must be a positive int, got {self.max_iter!r}.")
        if not self.tol >= 0:
            raise ValueError(f"tol must be >= 0, got {self.tol!r}.")

    def describe(self):
        return {"mapping": "pls", "n_components": int(self.n_components),
                "scale": False, "max_iter": int(self.max_iter),
                "tol": float(self.tol)}


@dataclasses.dataclass(frozen=True)
class RidgeMapping:
    """Ridge regression with intercept; RidgeCV selection for several alphas.

    Args:
        alphas: one alpha (scikit-learn Ridge) or several (RidgeCV's
            leave-one-out choice of one alpha shared by all neurons).
    """

    alphas: tuple = (1.0,)

    def __post_init__(self):
        object.__setattr__(self, "alphas", tuple(
            float(a) for a in ridge.check_alphas(self.alphas)))

    def describe(self):
        return {"mapping": "ridge", "alphas": list(self.alphas)}


def make_mapping(name="pls", **kwargs):
    """A mapping from its name: "pls" or "ridge" (kwargs go to the class)."""
    table = {"pls": PLSMapping, "ridge": RidgeMapping}
    if isinstance(name, (PLSMapping, RidgeMapping)):
        return name
    if name not in table:
        raise ValueError(
            f"unknown mapping {name!r}; choose one of {sorted(table)} or pass "
            "a PLSMapping / RidgeMapping.")
    return table[name](**kwargs)


def _lstsq_on_scores(scores_train, y_res):
    """Least squares of targets on latent scores, batched.

    scores_train: [..., c, n] (zero off the training rows); y_res:
    [..., n, q] centred targets (zero off the training rows).
    """
    gram = np.matmul(scores_train, scores_train.swapaxes(-1, -2))
    return np.matmul(np.linalg.pinv(gram), np.matmul(scores_train, y_res))


def predict_grouped(mapping, gram, n_features, train_mask, targets,
                    heldout=None):
    """Fits one mapping per (group, problem) from Gram matrices; predicts.

    Args:
        mapping: PLSMapping or RidgeMapping.
        gram: float64 [G, N, N].
        n_features: feature dimension behind the Gram matrices.
        train_mask: bool [P, N] training rows (shared by all groups).
        targets: float64 [G, P, N, q], or [G, 1, N, q] if shared by the
            problems of a group.
        heldout: optional targets of held-out neurons, shaped like
            `targets`: PLS regresses them on the latent scores learned from
            `targets`, ridge reuses the alpha chosen on `targets`.

    Returns:
        (predictions, held-out predictions or None): lists over problems of
        [G, m_p, q] arrays for the test rows in ascending order.
    """
    if isinstance(mapping, RidgeMapping):
        fit = ridge.kernel_ridge(gram, train_mask, targets, mapping.alphas,
                                 heldout)
        ctx = pls_kernel.kernel_context(gram, train_mask)
        pred = _add_mean(pls_kernel.kernel_test_apply(gram, ctx, fit["beta"]),
                         fit["y_mean"])
        pred_h = None
        if heldout is not None:
            pred_h = _add_mean(pls_kernel.kernel_test_apply(
                gram, ctx, fit["beta_heldout"]), fit["y_mean_heldout"])
        return pred, pred_h
    fit = pls_kernel.kernel_pls(gram, train_mask, targets,
                                mapping.n_components, n_features,
                                mapping.max_iter, mapping.tol)
    pred = pls_kernel.kernel_pls_predict(gram, fit)
    if heldout is None:
        return pred, None
    ctx = fit["context"]
    maskf, n_train = ctx["mask"], ctx["n_train"]
    h_mean = np.matmul(maskf[None, :, None, :], heldout)[:, :, 0, :]
    h_mean = h_mean / n_train[None, :, None]
    h_res = (heldout - h_mean[:, :, None, :]) * maskf[None, :, :, None]
    coef = _lstsq_on_scores(fit["scores"], h_res)
    scores = pls_kernel.kernel_test_apply(gram, ctx, fit["rotation"])
    return pred, _add_mean([np.matmul(s, coef[:, pi])
                            for pi, s in enumerate(scores)], h_mean)


def _add_mean(rows, mean):
    return [r + mean[:, pi, None, :] for pi, r in enumerate(rows)]


def predict_rows(mapping, x_rows, y_rows, train_rows, heldout_rows=None):
    """Fits one mapping per problem from explicit rows; predicts test rows.

    Chooses the Gram form when rows <= features, else the covariance form.

    Args:
        mapping: PLSMapping or RidgeMapping.
        x_rows: [M, D] feature rows.
        y_rows: float64 [M, q] targets.
        train_rows: bool [P, M] training rows of each problem.
        heldout_rows: optional [M, q2] held-out-neuron targets.

    Returns:
        (predictions, held-out predictions or None): lists over problems of
        [m_p, q] arrays for the non-training rows in ascending order.
    """
    x_rows = np.asarray(x_rows, dtype=np.float64)
    x_rows = x_rows - x_rows.mean(axis=0)
    n_rows, dim = x_rows.shape
    if n_rows <= dim:
        h = None if heldout_rows is None else heldout_rows[None, None]
        pred, pred_h = predict_grouped(mapping, (x_rows @ x_rows.T)[None],
                                       dim, train_rows, y_rows[None, None], h)
        return ([r[0] for r in pred],
                None if pred_h is None else [r[0] for r in pred_h])
    tests = [np.flatnonzero(~rows) for rows in train_rows]
    if isinstance(mapping, RidgeMapping):
        preds, preds_h = [], []
        for rows, test in zip(train_rows, tests):
            fit = ridge.covariance_ridge(
                x_rows[rows], y_rows[rows], mapping.alphas,
                None if heldout_rows is None else heldout_rows[rows])
            xc = x_rows[test] - fit["x_mean"]
            preds.append(xc @ fit["coef"] + fit["y_mean"])
            if heldout_rows is not None:
                preds_h.append(xc @ fit["coef_heldout"] +
                               fit["y_mean_heldout"])
        return preds, (preds_h if heldout_rows is not None else None)
    sigma, cross, sq, x_mean, y_mean = pls_covariance.centred_moments(
        x_rows, y_rows, train_rows)
    fit = pls_covariance.covariance_pls(
        sigma, cross, sq, int(train_rows.sum(axis=1).min()),
        mapping.n_components, mapping.max_iter, mapping.tol)
    preds, preds_h = [], []
    for pi, (rows, test) in enumerate(zip(train_rows, tests)):
        preds.append((x_rows[test] - x_mean[pi]) @ fit["coef"][pi] +
                     y_mean[pi])
        if heldout_rows is None:
            continue
        rot = fit["rotation"][pi]
        scores_tr = (x_rows[rows] - x_mean[pi]) @ rot
        h_tr = heldout_rows[rows]
        h_mean = h_tr.mean(axis=0)
        coef = _lstsq_on_scores(scores_tr.T, h_tr - h_mean)
        preds_h.append((x_rows[test] - x_mean[pi]) @ rot @ coef + h_mean)
    return preds, (preds_h if heldout_rows is not None else None)
