"""RDM, RSA and linear CKA against scipy and their defining invariances."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import pdist, squareform

from tnn.neural import similarity


def _rng(seed=0):
    return np.random.default_rng(seed)


def test_rdm_equals_scipy_correlation_distance():
    x = _rng().normal(size=(9, 5))
    np.testing.assert_allclose(similarity.rdm(x),
                               squareform(pdist(x, "correlation")),
                               atol=1e-12)


def test_rdm_hand_case_and_constant_rows():
    x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [1.0, 2.0, 3.5],
                  [2.0, 2.0, 2.0]])
    out = similarity.rdm(x)
    assert out[0, 1] == pytest.approx(2.0)  # r = -1
    assert out[0, 0] == 0.0
    assert np.isnan(out[3]).all() and np.isnan(out[:, 3]).all()
    with pytest.raises(ValueError, match=r"\[stimuli, dims\]"):
        similarity.rdm(np.zeros(4))


def test_rsa_equals_scipy_spearman_on_upper_triangles():
    rng = _rng(1)
    a = similarity.rdm(rng.normal(size=(10, 6)))
    b = similarity.rdm(rng.normal(size=(10, 4)))
    iu = np.triu_indices(10, k=1)
    assert similarity.rsa(a, b) == pytest.approx(
        stats.spearmanr(a[iu], b[iu])[0], abs=1e-12)
    assert similarity.rsa(a, a) == pytest.approx(1.0)
    # a monotone transform of an RDM keeps RSA at 1 (ranks only)
    assert similarity.rsa(a, np.exp(3 * a)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="different stimulus counts"):
        similarity.rsa(a, b[:5, :5])


def test_linear_cka_identity_invariances_and_reference():
    rng = _rng(2)
    x = rng.normal(size=(20, 5))
    y = x @ rng.normal(size=(5, 3)) + 0.5 * rng.normal(size=(20, 3))
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    value = similarity.linear_cka(x, y)
    assert similarity.linear_cka(x, x) == pytest.approx(1.0)
    assert similarity.linear_cka(3.0 * x @ q, y) == pytest.approx(value)
    assert similarity.linear_cka(x + 7.0, y) == pytest.approx(value)
    # Kornblith et al. 2019, HSIC form with centred linear kernels
    h = np.eye(20) - 1.0 / 20

    def hsic(a, b):
        return np.trace(a @ a.T @ h @ b @ b.T @ h)

    expected = hsic(x, y) / np.sqrt(hsic(x, x) * hsic(y, y))
    assert value == pytest.approx(expected, rel=1e-10)
    # the Gram form (wider than tall) gives the same number
    wide = rng.normal(size=(6, 30))
    wide_y = wide[:, :10] @ rng.normal(size=(10, 40))
    h6 = np.eye(6) - 1.0 / 6
    kx, ky = h6 @ wide @ wide.T @ h6, h6 @ wide_y @ wide_y.T @ h6
    assert similarity.linear_cka(wide, wide_y) == pytest.approx(
        np.sum(kx * ky) / np.sqrt(np.sum(kx * kx) * np.sum(ky * ky)))
    assert np.isnan(similarity.linear_cka(np.ones((5, 2)), x[:5]))


def test_unbiased_cka_is_the_u_statistic_of_song_et_al():
    import itertools
    rng = _rng(6)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2)) + 1.0

    def u_hsic(a, b):  # Song et al. 2012, Theorem 2, brute force
        k, l = a @ a.T, b @ b.T
        terms = [k[i, j] * l[i, j] + k[i, j] * l[q, r] - 2 * k[i, j] * l[i, q]
                 for i, j, q, r in itertools.permutations(range(6), 4)]
        return np.mean(terms)

    expected = u_hsic(x, y) / np.sqrt(u_hsic(x, x) * u_hsic(y, y))
    assert similarity.linear_cka(x, y, unbiased=True) == pytest.approx(
        expected, rel=1e-10)
    assert similarity.linear_cka(x, x, unbiased=True) == pytest.approx(1.0)


def test_ceilings_of_noise_free_trials_are_one_and_noise_lowers_them():
    rng = _rng(3)
    signal = rng.normal(size=(15, 2, 6))  # [N, B, K]
    clean = np.repeat(signal[None], 4, axis=0)
    for fn in (similarity.rsa_ceiling, similarity.cka_ceiling):
        out = fn(clean, n_splits=3)
        np.testing.assert_allclose(out["ceiling"], 1.0, atol=1e-12)
        assert out["per_split"].shape == (3, 2)
        noisy = fn(clean + 2.0 * rng.normal(size=clean.shape), n_splits=3)
        assert np.all(noisy["ceiling"] < 0.95)


def test_rsa_ceiling_follows_the_split_half_definition():
    rng = _rng(4)
    responses = rng.normal(size=(4, 8, 1, 5))
    out = similarity.rsa_ceiling(responses, n_splits=2, seed=1)
    from tnn.neural.splits import trial_halves
    for s, (h1, h2) in enumerate(trial_halves(4, 2, 1)):
        a = squareform(pdist(responses[h1, :, 0].mean(0), "correlation"))
        b = squareform(pdist(responses[h2, :, 0].mean(0), "correlation"))
        iu = np.triu_indices(8, k=1)
        r = stats.spearmanr(a[iu], b[iu])[0]
        assert out["per_split"][s, 0] == pytest.approx(2 * r / (1 + r))


def test_per_bin_wrappers_use_the_step_of_each_bin():
    rng = _rng(5)
    features = rng.normal(size=(12, 4, 6))  # [N, T, D]
    responses = np.stack([features[:, 3], features[:, 1]], axis=1)
    responses = np.repeat(responses[None], 2, axis=0)  # [R, N, B=2, K]
    steps = [3, 1]
    np.testing.assert_allclose(
        similarity.rsa_per_bin(features, responses, steps), 1.0)
    np.testing.assert_allclose(
        similarity.cka_per_bin(features, responses, steps), 1.0)
    assert similarity.rsa_per_bin(features, responses, [0, 1])[0] < 0.9
    out = similarity.similarity_per_bin(features, responses, steps,
                                        n_splits=2)
    for key in ("rsa", "cka"):
        assert set(out[key]) == {"raw", "ceiling", "error", "ceiled"}
        assert all(v.shape == (2,) for v in out[key].values())
        np.testing.assert_allclose(out[key]["ceiled"], 1.0)
    with pytest.raises(ValueError, match="cannot cover"):
        similarity.rsa_per_bin(features, responses, [0, 4])
    with pytest.raises(ValueError, match="same stimuli"):
        similarity.cka_per_bin(features[:5], responses, steps)
