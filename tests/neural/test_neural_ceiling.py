"""Split-half ceilings: a plain re-implementation and the generator's truth."""

import warnings

import numpy as np
import pytest
import scipy.stats
from sklearn.model_selection import ShuffleSplit

from tnn import neural
from tnn.neural.synthetic import generator as sv


def plain_ceiling(responses, n_splits=10, seed=1):
    """Brain-Score's InternalConsistency, written out loop by loop."""
    n_trials, _, n_bins, n_neurons = responses.shape
    halves = ShuffleSplit(n_splits=n_splits, train_size=0.5,
                          random_state=seed).split(np.zeros(n_trials))
    per_split = []
    for half1, half2 in halves:
        row = []
        for b in range(n_bins):
            values = []
            for k in range(n_neurons):
                with warnings.catch_warnings():  # nanmean of an empty half
                    warnings.simplefilter("ignore", RuntimeWarning)
                    m1 = np.nanmean(responses[half1, :, b, k], axis=0)
                    m2 = np.nanmean(responses[half2, :, b, k], axis=0)
                ok = np.isfinite(m1) & np.isfinite(m2)
                r = scipy.stats.pearsonr(m1[ok], m2[ok])[0]
                values.append(2 * r / (1 + r))
            row.append(np.median(values))
        per_split.append(row)
    per_split = np.asarray(per_split)
    return per_split.mean(0), per_split.std(0) / np.sqrt(n_splits)


def test_matches_plain_implementation(rng):
    signal = rng.standard_normal((1, 30, 3, 7)) * rng.uniform(0.2, 2, 7)
    responses = signal + rng.standard_normal((9, 30, 3, 7))
    center, error = plain_ceiling(responses)
    out = neural.split_half_ceiling(responses)
    np.testing.assert_allclose(out["ceiling"], center, atol=1e-12)
    np.testing.assert_allclose(out["error"], error, atol=1e-12)
    assert out["per_split"].shape == (10, 3)


def test_missing_trials_are_skipped_pairwise(rng):
    signal = rng.standard_normal((1, 25, 2, 4))
    responses = signal + 0.7 * rng.standard_normal((6, 25, 2, 4))
    responses[rng.random(responses.shape) < 0.2] = np.nan
    responses[:, 3, 0, 1] = np.nan  # one stimulus without any trial
    center, _ = plain_ceiling(responses, n_splits=5, seed=3)
    out = neural.split_half_ceiling(responses, n_splits=5, seed=3)
    np.testing.assert_allclose(out["ceiling"], center, atol=1e-12)


def test_neuron_reliability_and_spearman_brown(rng):
    responses = rng.standard_normal((1, 40, 1, 3)) + \
        0.5 * rng.standard_normal((4, 40, 1, 3))
    per_neuron = neural.split_half_correlations(responses[:, :, 0], 4, 0)
    assert per_neuron.shape == (4, 1, 3)
    np.testing.assert_allclose(
        neural.neuron_reliability(responses, 4, 0), per_neuron.mean(0))
    np.testing.assert_allclose(neural.spearman_brown([0.5, 0.0, -0.2]),
                               [2 / 3, 0.0, -0.4 / 0.8])
    np.testing.assert_allclose(neural.spearman_brown(0.5, n=3), 1.5 / 2)
    with pytest.raises(ValueError, match="at least 2 trials"):
        neural.split_half_ceiling(responses[:1])


@pytest.fixture(scope="module")
def synthetic():
    stimuli, labels, ids = sv.render_stimuli(40, size=32, seed=0)
    feats = sv.RandomConvFeatures(seed=0)(stimuli)
    data, truth = sv.generate_synthetic_ventral(
        lambda s: feats, stimuli, labels, ids, seed=0)
    return feats, data, truth


def test_ceiling_recovers_generator_truth(synthetic):
    _, data, truth = synthetic
    for area in data.areas:
        estimate = neural.split_half_ceiling(
            data.responses[..., data.area_indices(area)])["ceiling"]
        true = np.asarray(truth["areas"][area]["reliability_per_bin"])
        responsive = true > 0.3
        assert responsive.sum() >= 5
        np.testing.assert_allclose(estimate[responsive], true[responsive],
                                   atol=0.02)
        assert abs(estimate.mean() - true.mean()) < 0.02
        # silent bins (before onset, long after offset) estimate ~0
        assert np.abs(estimate[true < 0.01]).max() < 0.08
