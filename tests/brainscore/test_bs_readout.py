"""The logistic readout against scikit-learn and the multinomial objective."""

import numpy as np
import pytest
from scipy import optimize
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from tnn.brainscore.readout import LogisticReadout, StepReadout

C = 1e-3


def _data(n_classes, seed, n=48, dims=6):
    rng = np.random.default_rng(seed)
    labels = np.asarray([f"k{i % n_classes}" for i in range(n)])[
        rng.permutation(n)]
    index = np.asarray([int(v[1:]) for v in labels])
    x = rng.standard_normal((n_classes, dims))[index] + \
        rng.standard_normal((n, dims))
    return x, labels, rng.standard_normal((10, dims))


def test_multiclass_probabilities_equal_scikit_learn():
    x, labels, test = _data(4, 0)
    ours = LogisticReadout(C).fit(x, labels)
    assert ours.choices == list(dict.fromkeys(labels))   # first appearance
    scaler = StandardScaler().fit(x)
    ref = LogisticRegression(C=C, solver="newton-cg").fit(
        scaler.transform(x), labels)
    expected = ref.predict_proba(scaler.transform(test))
    columns = [list(ref.classes_).index(c) for c in ours.choices]
    np.testing.assert_allclose(ours.predict_proba(test),
                               expected[:, columns], atol=1e-6)


def test_two_classes_solve_the_two_class_multinomial_problem():
    """Brain-Score fits a 2-class softmax (multi_class='multinomial');
    minimise that objective directly and compare (tight tolerances)."""
    x, labels, test = _data(2, 1)
    ours = LogisticReadout(C, tol=1e-12).fit(x, labels)
    scaler = StandardScaler().fit(x)
    xs = scaler.transform(x)
    y = np.asarray([ours.choices.index(v) for v in labels])
    n, d = xs.shape

    def objective(theta):
        w, b = theta[:2 * d].reshape(2, d), theta[2 * d:]
        z = xs @ w.T + b
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -C * log_p[np.arange(n), y].sum() + 0.5 * (w ** 2).sum()

    theta = optimize.minimize(objective, np.zeros(2 * d + 2), method="BFGS",
                              options={"gtol": 1e-10}).x
    w, b = theta[:2 * d].reshape(2, d), theta[2 * d:]
    z = scaler.transform(test) @ w.T + b
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ours.predict_proba(test), expected, atol=1e-8)
    np.testing.assert_array_equal(
        ours.predict(test), np.asarray(ours.choices)[expected.argmax(1)])


def test_one_class_and_bad_inputs_fail_clearly():
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"one class \('dog'\).*at least two"):
        LogisticReadout().fit(x, ["dog"] * 4)
    with pytest.raises(ValueError, match="one label per fitting stimulus"):
        LogisticReadout().fit(x, ["dog", "cat"])
    with pytest.raises(ValueError, match="not fitted"):
        LogisticReadout().predict_proba(x)
    with pytest.raises(ValueError, match="NaN or inf"):
        LogisticReadout().fit(np.full((4, 3), np.nan), ["a", "b"] * 2)


def test_step_readout_is_one_readout_per_bin():
    x, labels, test = _data(3, 2)
    stacked = np.stack([x, -x, 2 * x], axis=1)
    per_bin = StepReadout(C).fit(stacked, labels)
    tests = np.stack([test, -test, 2 * test], axis=1)
    proba = per_bin.predict_proba(tests)
    assert proba.shape == (10, 3, 3)
    for b in range(3):
        single = LogisticReadout(C).fit(stacked[:, b], labels)
        np.testing.assert_allclose(proba[:, b],
                                   single.predict_proba(tests[:, b]))
    with pytest.raises(ValueError, match="fitted on 3"):
        per_bin.predict_proba(tests[:, :2])
