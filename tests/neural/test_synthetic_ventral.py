"""Synthetic ventral stream: stimuli, toy model, ground truth, NPZ output."""

import numpy as np
import pytest

from tnn import neural
from tnn.neural.synthetic import generator as sv


def test_render_stimuli():
    stimuli, labels, ids = sv.render_stimuli(3, size=24, seed=1)
    assert stimuli.shape == (18, 24, 24, 3) and stimuli.dtype == np.uint8
    assert sorted(set(labels)) == sorted(sv.CATEGORIES[:6])
    assert len(set(ids)) == 18
    again, _, _ = sv.render_stimuli(3, size=24, seed=1)
    np.testing.assert_array_equal(stimuli, again)
    assert stimuli.std() > 10
    with pytest.raises(ValueError, match="unknown category 'blob'"):
        sv.render_stimuli(1, categories=("blob",))


def test_random_conv_features_shapes_and_timing():
    stimuli, _, _ = sv.render_stimuli(1, size=16, seed=0)
    model = sv.RandomConvFeatures(channels=(4, 6), n_steps=8, image_off=3)
    feats = model(stimuli)
    assert list(feats) == ["conv1", "conv2"]
    assert feats["conv1"].shape == (6, 8, 8 * 8 * 4)
    assert feats["conv2"].shape == (6, 8, 4 * 4 * 6)
    # node d is silent before step d and after image_off + d decays
    assert not feats["conv1"][:, 0].any() and feats["conv1"][:, 1].any()
    assert not feats["conv2"][:, :2].any() and feats["conv2"][:, 2].any()
    sustained, transient = model.time_profile(1)
    np.testing.assert_allclose(sustained[:5], [0, 0.5, 0.75, 0.875, 0.4375])
    np.testing.assert_allclose(transient[:5], [0, 0.5, 0.25, 0.125, 0])
    np.testing.assert_array_equal(feats["conv1"], model(stimuli)["conv1"])
    with pytest.raises(ValueError, match="pool has 1 entries for 2 nodes"):
        sv.RandomConvFeatures(channels=(4, 6), pool=(True,))


def fixed_features(stimuli):
    """A deterministic 2-node feature function on flattened pixels."""
    x = stimuli.reshape(len(stimuli), -1).astype(np.float64) / 255.0
    rng = np.random.default_rng(0)
    a = np.tanh(x @ rng.standard_normal((x.shape[1], 30)) * 0.05)
    b = np.tanh(a @ rng.standard_normal((30, 20)))
    ramp = np.minimum(np.arange(12), 5)[None, :, None] / 5.0
    return {"a": a[:, None] * ramp, "b": b[:, None] * ramp}


def test_generator_truth_and_npz(tmp_path):
    stimuli, labels, ids = sv.render_stimuli(8, size=12, seed=2)
    areas = (sv.AreaSpec("V4", "a", n_neurons=5, latency_ms=20.0),
             sv.AreaSpec("IT", "b", n_neurons=4, latency_ms=40.0,
                         leak=(0.0, 0.0), adaptation=(0.0, 0.0)))
    data, truth = sv.generate_synthetic_ventral(
        fixed_features, stimuli, labels, ids, areas=areas, n_trials=6,
        n_bins=10, step_offset=1, missing_fraction=0.1, seed=3)
    assert data.responses.shape == (6, 48, 10, 9)
    assert data.areas == ["V4", "IT"]
    assert np.isnan(data.responses).any()
    assert truth["model_steps"] == list(range(1, 11))
    it = truth["areas"]["IT"]
    assert it["node"] == "b" and it["leak"] == [0.0] * 4
    rel = np.asarray(it["reliability_per_bin"])
    assert rel.shape == (10,) and np.all(rel[:4] == 0) and rel[4] > 0
    assert np.asarray(it["neuron_reliability"]).shape == (10, 4)
    path = tmp_path / "syn.npz"
    neural.save_neural_data(data, path)
    loaded = neural.load_neural_data(str(path))
    np.testing.assert_array_equal(loaded.neuron_id, data.neuron_id)


def test_true_reliability_formula():
    mu = np.asarray([[[1.0]], [[3.0]]])  # variance 1 over stimuli
    var = np.full_like(mu, 4.0)
    rho = 1.0 / np.sqrt((1 + 4 / 2) * (1 + 4 / 3))
    np.testing.assert_allclose(sv.true_reliability(mu, var, 5),
                               [[2 * rho / (1 + rho)]])


def test_generator_errors():
    stimuli, _, _ = sv.render_stimuli(2, size=12, seed=0)
    with pytest.raises(ValueError, match="driven by node 'conv9'"):
        sv.generate_synthetic_ventral(
            fixed_features, stimuli, areas=(sv.AreaSpec("V4", "conv9"),))
    with pytest.raises(ValueError, match="need \\[12, > 12, D\\] to cover 13"):
        sv.generate_synthetic_ventral(
            fixed_features, stimuli, areas=(sv.AreaSpec("V4", "a"),),
            n_bins=13)
    with pytest.raises(ValueError, match="n_trials must be >= 2"):
        sv.generate_synthetic_ventral(fixed_features, stimuli, n_trials=1)
    with pytest.raises(ValueError, match="leak range"):
        sv.AreaSpec("V4", "a", leak=(0.5, 1.0))


def test_write_synthetic_ventral(tmp_path):
    path = tmp_path / "demo.npz"
    model = sv.RandomConvFeatures(channels=(2, 3, 4), n_steps=12,
                                  image_off=4)
    truth = sv.write_synthetic_ventral(
        str(path), n_per_category=3, size=16, features_fn=model, n_bins=12,
        areas=(sv.AreaSpec("IT", "conv3", n_neurons=3, latency_ms=30.0),))
    data = neural.load_neural_data(str(path))
    assert data.n_stimuli == 18 and data.object_label is not None
    assert truth["areas"]["IT"]["node"] == "conv3"
