"""Behavioural readout: logistic regression on a model node's features.

Brain-Score's behavioural tasks need choices or per-label probabilities;
a TNNGraph trained on another task (or with no 1000-class head) gets them
from a readout fitted on the benchmark's fitting stimuli, as Brain-Score's
`ProbabilitiesMapping` does (brainscore_vision 2.4.2,
`model_helpers/brain_transformation/behavior.py`):

- features standardised (`sklearn.preprocessing.StandardScaler`, fitted on
  the fitting stimuli);
- a multinomial logistic regression with an L2 penalty, `C = 1e-3`
  (Brain-Score: `LogisticRegression(multi_class="multinomial",
  solver="newton-cg", C=1e-3)`);
- labels numbered in order of first appearance in the fitting stimuli;
  that order is the order of the probability columns (`choices`).

Two labels: scikit-learn >= 1.8 no longer offers `multi_class`, and its
binary logistic regression is not the two-class multinomial one. The
two-class multinomial problem with weights (w1, w2) and penalty
(|w1|^2 + |w2|^2) / 2 is solved by w1 = -w2 = v / 2, where v solves the
binary problem with penalty |v|^2 / 4, i.e. the binary logistic regression
with `C' = 2 C`; this readout fits that, so its probabilities equal
Brain-Score's on any scikit-learn version (to the solvers' tolerance).

`StepReadout` fits one such readout per time bin (or step) on features
`[N, B, D]`, for readouts "per step".
"""

import numpy as np


def check_labels(labels, n):
    """The labels' classes in order of first appearance; ValueError for
    fewer than two classes or a wrong count."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(
            f"need one label per fitting stimulus ({n}), got labels of shape "
            f"{labels.shape}.")
    order = list(dict.fromkeys(labels.tolist()))
    if len(order) < 2:
        shown = repr(order[0]) if order else "none"
        raise ValueError(
            f"the fitting stimuli have one class ({shown}); a behavioural "
            "readout needs at least two distinct image_label values.")
    return order


def _check_features(features, ndim, what):
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != ndim:
        raise ValueError(f"{what} must have {ndim} axes, got shape "
                         f"{features.shape}.")
    if not np.isfinite(features).all():
        raise ValueError(f"{what} contain NaN or inf.")
    return features


class LogisticReadout:
    """Standardised multinomial logistic regression (module docs).

    Args:
        C: inverse L2 strength of the multinomial problem (Brain-Score:
            1e-3).
        max_iter, tol: solver iterations and tolerance (scikit-learn's
            defaults, as in Brain-Score).
    """

    def __init__(self, C=1e-3, max_iter=100, tol=1e-4):
        if isinstance(C, bool) or not isinstance(C, (int, float)) or C <= 0:
            raise ValueError(f"C must be a positive number, got {C!r}.")
        self.C, self.max_iter, self.tol = float(C), int(max_iter), float(tol)
        self.choices = None
        self._scaler = self._classifier = None

    def fit(self, features, labels):
        """Fits on features `[N, D]` and labels `[N]`; returns self."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        x = _check_features(features, 2, "fitting features")
        self.choices = check_labels(labels, x.shape[0])
        index = {label: i for i, label in enumerate(self.choices)}
        y = np.asarray([index[v] for v in np.asarray(labels).tolist()])
        binary = len(self.choices) == 2
        self._scaler = StandardScaler().fit(x)
        self._classifier = LogisticRegression(
            C=2 * self.C if binary else self.C, solver="newton-cg",
            max_iter=self.max_iter, tol=self.tol)
        self._classifier.fit(self._scaler.transform(x), y)
        return self

    def predict_proba(self, features):
        """Probabilities `[N, K]`, columns in `choices` order."""
        if self._classifier is None:
            raise ValueError("the readout is not fitted; call fit first.")
        x = _check_features(features, 2, "features")
        proba = self._classifier.predict_proba(self._scaler.transform(x))
        out = np.zeros((x.shape[0], len(self.choices)))
        out[:, self._classifier.classes_] = proba
        return out

    def predict(self, features):
        """The most probable label per row, `[N]` (object array)."""
        proba = self.predict_proba(features)
        return np.asarray(self.choices, dtype=object)[proba.argmax(axis=1)]


class StepReadout:
    """One `LogisticReadout` per time bin of features `[N, B, D]`."""

    def __init__(self, C=1e-3, max_iter=100):
        self.C, self.max_iter = C, max_iter
        self.readouts = []

    @property
    def choices(self):
        return self.readouts[0].choices if self.readouts else None

    def fit(self, features, labels):
        x = _check_features(features, 3, "fitting features [N, B, D]")
        self.readouts = [LogisticReadout(self.C, self.max_iter).fit(
            x[:, b], labels) for b in range(x.shape[1])]
        return self

    def predict_proba(self, features):
        """Probabilities `[N, B, K]`."""
        if not self.readouts:
            raise ValueError("the readout is not fitted; call fit first.")
        x = _check_features(features, 3, "features [N, B, D]")
        if x.shape[1] != len(self.readouts):
            raise ValueError(
                f"features have {x.shape[1]} bins but the readout was fitted "
                f"on {len(self.readouts)}.")
        return np.stack([r.predict_proba(x[:, b])
                         for b, r in enumerate(self.readouts)], axis=1)
