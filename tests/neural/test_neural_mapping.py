"""Mappings and scores against plain scikit-learn loops."""

import warnings

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import LinearRegression, Ridge, RidgeCV
from sklearn.model_selection import StratifiedShuffleSplit

from tnn import neural
from tnn.neural import pls_covariance, pls_kernel


def make_data(rng, n=120, bins=3, dim=60, neurons=9):
    latent = rng.standard_normal((n, bins, 12))
    feats = latent @ rng.standard_normal((12, dim)) + \
        0.7 * rng.standard_normal((n, bins, dim)) + 2.0
    resp = latent @ rng.standard_normal((12, neurons)) + \
        2.0 * rng.standard_normal((n, bins, neurons))
    labels = np.repeat(np.arange(6), n // 6)
    return feats, resp, labels


def plain_scores(feats, resp, splits, make, shared=False):
    """Median-over-neurons Pearson r [splits, bins], one fit per problem."""
    n, bins, dim = feats.shape
    out = np.zeros((len(splits), bins))
    for s, (train, test) in enumerate(splits):
        if shared:
            est = make().fit(feats[train].reshape(-1, dim),
                             resp[train].reshape(-1, resp.shape[-1]))
            pred = est.predict(feats[test].reshape(-1, dim))
            pred = pred.reshape(len(test), bins, -1)
        for b in range(bins):
            p = pred[:, b] if shared else \
                make().fit(feats[train, b], resp[train, b]).predict(
                    feats[test, b])
            out[s, b] = np.median(neural.pearson_per_neuron(p, resp[test, b]))
    return out


def test_splits_are_brainscore_defaults():
    labels = np.repeat(np.arange(5), 10)
    ours = neural.stimulus_splits(50, labels)
    ref = StratifiedShuffleSplit(n_splits=10, train_size=0.9,
                                 random_state=1).split(np.zeros(50), labels)
    for (tr, te), (rtr, rte) in zip(ours, ref):
        np.testing.assert_array_equal(tr, rtr)
        np.testing.assert_array_equal(te, rte)
    assert len(ours) == 10 and len(ours[0][1]) == 5
    with pytest.raises(ValueError, match="single stimulus"):
        neural.stimulus_splits(20, np.asarray(list("a" * 10 + "b" * 9 + "c")))
    with pytest.raises(ValueError, match="cannot hold all 5"):
        neural.stimulus_splits(50, labels, train_size=0.95)


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("mapping, make", [
    (neural.PLSMapping(), lambda: PLSRegression(25, scale=False)),
    (neural.RidgeMapping((30.0,)), lambda: Ridge(30.0)),
    (neural.RidgeMapping((0.1, 10.0, 1e3)),
     lambda: RidgeCV(alphas=(0.1, 10.0, 1e3))),
])
def test_scores_equal_plain_sklearn_loop(rng, mapping, make, shared):
    feats, resp, labels = make_data(rng)
    splits = neural.stimulus_splits(len(labels), labels, n_splits=4)
    out = neural.cross_validated_score(feats, resp, mapping, splits=splits,
                                       shared_across_bins=shared)
    ref = plain_scores(feats, resp, splits, make, shared)
    np.testing.assert_allclose(out["per_split"], ref, atol=1e-6)
    np.testing.assert_allclose(out["score"], ref.mean(0), atol=1e-6)
    np.testing.assert_allclose(out["error"], ref.std(0) / 2.0, atol=1e-6)
    assert out["per_neuron"].shape == (4, 3, 9)


def test_kernel_form_when_rows_fewer_than_features(rng):
    feats, resp, labels = make_data(rng, n=36, bins=2, dim=150, neurons=4)
    splits = neural.stimulus_splits(36, labels, n_splits=2, train_size=0.8)
    out = neural.cross_validated_score(feats, resp, neural.PLSMapping(),
                                       splits=splits, shared_across_bins=True)
    ref = plain_scores(feats, resp, splits,
                       lambda: PLSRegression(25, scale=False), shared=True)
    np.testing.assert_allclose(out["per_split"], ref, atol=1e-6)


def test_pls_predictions_single_target_and_constant_neuron(rng):
    x = rng.standard_normal((80, 40)) @ rng.standard_normal((40, 40))
    y = x[:, :3] @ rng.standard_normal((3, 4)) + rng.standard_normal((80, 4))
    y[:, 2] = 5.0  # constant: scikit-learn zeroes the column
    x_c = x - x.mean(0)
    gram = (x_c @ x_c.T)[None]
    mask = np.zeros((2, 80), dtype=bool)
    mask[0, :64], mask[1, 16:] = True, True
    for targets in (y, y[:, :1]):
        fit = pls_kernel.kernel_pls(gram, mask, targets[None, None], 10,
                                    n_features=40)
        preds = pls_kernel.kernel_pls_predict(gram, fit)
        for p, rows in enumerate(mask):
            ref = PLSRegression(10, scale=False).fit(x[rows], targets[rows])
            expect = ref.predict(x[~rows]).reshape(-1, targets.shape[1])
            np.testing.assert_allclose(preds[p][0], expect, atol=1e-8)
            scores = ref.transform(x[rows])
            np.testing.assert_allclose(np.abs(fit["scores"][0, p][:, rows].T),
                                       np.abs(scores), atol=1e-8)
    sigma, cross, sq, x_mean, y_mean = pls_covariance.centred_moments(
        x_c, y, mask)
    fit = pls_covariance.covariance_pls(sigma, cross, sq, 64, 10)
    ref = PLSRegression(10, scale=False).fit(x[mask[0]], y[mask[0]])
    np.testing.assert_allclose(
        (x_c[~mask[0]] - x_mean[0]) @ fit["coef"][0] + y_mean[0],
        ref.predict(x[~mask[0]]), atol=1e-8)


def test_heldout_neurons_equal_plain_reimplementation(rng):
    feats, resp, labels = make_data(rng, bins=1, neurons=8)
    splits = neural.stimulus_splits(len(labels), labels, n_splits=3)
    folds = neural.neuron_folds(8, 2, seed=0)
    for mapping in (neural.PLSMapping(5), neural.RidgeMapping((1.0, 100.0))):
        out = neural.cross_validated_score(feats, resp, mapping, splits=splits,
                                           n_neuron_folds=2)
        ref = np.zeros((3, 8))
        for s, (train, test) in enumerate(splits):
            for keep, held in folds:
                x_tr, x_te = feats[train, 0], feats[test, 0]
                if isinstance(mapping, neural.PLSMapping):
                    pls = PLSRegression(5, scale=False).fit(
                        x_tr, resp[train, 0][:, keep])
                    lin = LinearRegression().fit(
                        pls.transform(x_tr), resp[train, 0][:, held])
                    pred = lin.predict(pls.transform(x_te))
                else:
                    alpha = RidgeCV(alphas=(1.0, 100.0)).fit(
                        x_tr, resp[train, 0][:, keep]).alpha_
                    pred = Ridge(alpha).fit(x_tr, resp[train, 0][:, held]) \
                        .predict(x_te)
                ref[s, held] = neural.pearson_per_neuron(
                    pred, resp[test, 0][:, held])
        np.testing.assert_allclose(out["heldout"]["per_neuron"][:, 0], ref,
                                   atol=1e-6)
        np.testing.assert_allclose(out["heldout"]["score"][0],
                                   np.median(ref, axis=1).mean(), atol=1e-6)


def test_ceiled_score_versions():
    raw, ceiling = np.asarray([0.6, 0.3]), np.asarray([0.8, 0.0])
    out = neural.ceiled_score(raw, ceiling, "r2_over_ceiling_2026")
    np.testing.assert_allclose(out[0], 0.36 / 0.8)
    assert np.isnan(out[1])
    assert neural.ceiled_score(0.6, 0.8, "r_over_ceiling_sq_2019") == \
        pytest.approx(0.5625)
    assert neural.ceiled_score(0.6, 0.8, "raw_over_ceiling") == \
        pytest.approx(0.75)
    assert set(neural.CEILING_VERSIONS) == {
        "r2_over_ceiling_2026", "r_over_ceiling_sq_2019", "raw_over_ceiling"}
    with pytest.raises(ValueError, match="unknown ceiled-score version"):
        neural.ceiled_score(0.6, 0.8, "2019")


def test_mapping_arguments_and_rank_errors(rng):
    with pytest.raises(ValueError, match="n_components must be a positive"):
        neural.PLSMapping(0)
    with pytest.raises(ValueError, match="alphas must be a non-empty"):
        neural.RidgeMapping((-1.0,))
    with pytest.raises(ValueError, match="unknown mapping 'lasso'"):
        neural.make_mapping("lasso")
    feats, resp, labels = make_data(rng, dim=10)
    with pytest.raises(ValueError, match="n_components=25 needs at least"):
        neural.cross_validated_score(feats, resp, neural.PLSMapping())
    with pytest.raises(ValueError, match="share the stimulus axis"):
        neural.cross_validated_score(feats[:50], resp)


def test_pearson_handles_nan_and_constants(rng):
    a, b = rng.standard_normal((20, 3)), rng.standard_normal((20, 3))
    b[4, 0] = np.nan
    a[:, 2] = 1.0
    r = neural.pearson_per_neuron(a, b)
    keep = np.arange(20) != 4
    np.testing.assert_allclose(r[0], np.corrcoef(a[keep, 0], b[keep, 0])[0, 1])
    np.testing.assert_allclose(r[1], np.corrcoef(a[:, 1], b[:, 1])[0, 1])
    assert np.isnan(r[2])


def test_noise_corrected_consistency_matches_plain_protocol(rng):
    n, k = 40, 5
    signal = rng.standard_normal((n, 6))
    feats = signal @ rng.standard_normal((6, 30)) + \
        0.3 * rng.standard_normal((n, 30))
    resp = (signal @ rng.standard_normal((6, k)))[None] + \
        rng.standard_normal((6, n, k))
    mapping = neural.PLSMapping(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = neural.noise_corrected_consistency(
            feats, resp, mapping, n_splits=2, n_bootstrap=3)
    ratios = []
    for seed in range(1234, 1237):
        order = list(range(6))
        np.random.RandomState(seed).shuffle(order)
        y1, y2 = resp[order[:3]].mean(0), resp[order[3:]].mean(0)
        per_split = []
        for s in range(2):
            perm = np.random.RandomState(s).permutation(n)
            tr, te = perm[:32], perm[32:]

            def fit(y):
                return PLSRegression(4, scale=False).fit(
                    feats[tr], y[tr]).predict(feats[te])
            full = resp.mean(0)
            r_xy = neural.pearson_per_neuron(fit(full), full[te])
            r_xx = neural.spearman_brown(
                neural.pearson_per_neuron(fit(y1), fit(y2)))
            r_yy = neural.spearman_brown(
                neural.pearson_per_neuron(y1[te], y2[te]))
            prod = r_xx * r_yy
            per_split.append(np.where(prod >= 0, r_xy / np.sqrt(np.abs(prod)),
                                      np.nan))
        ratios.append(per_split)
    per_neuron = np.nanmean(np.nanmean(np.asarray(ratios), 0), 0)
    np.testing.assert_allclose(out["per_neuron"][0], per_neuron, atol=1e-6)
    np.testing.assert_allclose(out["score"][0], np.nanmedian(per_neuron),
                               atol=1e-6)
    assert out["n_halves"].tolist() == [3]


@pytest.mark.parametrize("shared", [False, True])
def test_heldout_predictions_equal_sklearn(rng, shared):
    feats, resp, labels = make_data(rng, n=60, bins=2, dim=40, neurons=3)
    split = neural.stimulus_splits(60, labels, n_splits=1)[0]
    test, pred = neural.heldout_predictions(
        feats, [0, 1], resp, split, neural.PLSMapping(6), shared)
    np.testing.assert_array_equal(test, np.sort(split[1]))
    train = split[0]
    for b in range(2):
        if shared:
            est = PLSRegression(6, scale=False).fit(
                feats[train].reshape(-1, 40), resp[train].reshape(-1, 3))
        else:
            est = PLSRegression(6, scale=False).fit(feats[train, b],
                                                    resp[train, b])
        np.testing.assert_allclose(pred[:, b], est.predict(feats[test, b]),
                                   atol=1e-8)
