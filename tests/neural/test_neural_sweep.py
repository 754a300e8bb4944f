"""Layer sweep on synthetic data, step mapping and input errors."""

import json
import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

from tnn import neural
from tnn.neural import metrics as neural_metrics
from tnn.neural.synthetic import generator as sv

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / \
    "neural_fit.py"


@pytest.fixture(scope="module")
def synthetic():
    stimuli, labels, ids = sv.render_stimuli(40, size=32, seed=0)
    feats = sv.RandomConvFeatures(seed=0)(stimuli)
    data, truth = sv.generate_synthetic_ventral(
        lambda s: feats, stimuli, labels, ids, seed=0)
    return feats, data, truth


def test_sweep_recovers_true_node_per_area(synthetic):
    feats, data, truth = synthetic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = neural.layer_sweep(feats, data, selection_ms=(60, 140),
                                    stimulus_ids=data.stimulus_id)
    json.dumps(report, allow_nan=False)
    assert set(report["areas"]) == {"V4", "IT"}
    for area, result in report["areas"].items():
        assert result["best_node"] == truth["areas"][area]["node"]
        nodes = result["nodes"]
        assert set(nodes) == {"conv1", "conv2", "conv3"}
        assert len(nodes["conv1"]["score_per_bin"]) == 26
        ceil = np.asarray(result["ceiling_per_bin"])
        sel = report["bins"]["selected"]
        assert result["ceiling"] == pytest.approx(ceil[sel].mean())
        raw = np.asarray(nodes[result["best_node"]]["score_per_bin"])
        assert result["raw_score"] == pytest.approx(raw[sel].mean())
        # The ceiled summary: the selected bins with a reliable ceiling,
        # each bin's ratio clipped at 1 (Brain-Score: mean of per-bin ratios).
        bins = [b for b in sel if ceil[b] > 0.1]
        assert result["summary"]["bins"] == bins
        ratios = neural.ceiled_score(raw[bins], ceil[bins],
                                     "r2_over_ceiling_2026")
        assert result["ceiled_score_unclipped"] == pytest.approx(
            ratios.mean())
        assert result["ceiled_score"] == pytest.approx(
            np.minimum(ratios, 1).mean())
        assert result["above_ceiling"] == bool((ratios > 1).any())
        assert result["ceiled_score"] <= 1
        assert 0.3 < result["raw_score"] < result["ceiling"]
    assert report["bins"]["model_steps"]["conv1"] == list(range(26))


def test_leaky_features_cannot_score_above_the_ceiling(synthetic):
    """Features = the recorded responses plus tiny noise: the ceiled
    summary stays <= 1 and is flagged; the pre-onset bins (ceiling ~0)
    that made the old all-bins mean of ratios explode are left out."""
    _, data, _ = synthetic
    average = np.nan_to_num(data.trial_average())
    noise = np.random.default_rng(0).standard_normal(average.shape)
    leak = {"leak": average + 1e-3 * noise}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = neural.layer_sweep(leak, data, n_splits=2)
    json.dumps(report, allow_nan=False)
    rule = report["summary_rule"]
    assert rule["name"] == neural_metrics.SUMMARY_RULE
    assert rule["version"] == neural_metrics.SUMMARY_RULE_VERSION
    assert rule["min_ceiling"] == 0.1 and rule["window_ms"] is None
    for area, result in report["areas"].items():
        ceil = np.asarray(result["ceiling_per_bin"], float)
        raw = np.asarray(result["nodes"]["leak"]["score_per_bin"], float)
        all_bins = np.nanmean(neural.ceiled_score(
            np.nan_to_num(raw), ceil, "r2_over_ceiling_2026"))
        assert all_bins > 5, area  # the old summary
        assert result["ceiled_score"] <= 1.0
        assert result["above_ceiling"] is True
        assert result["summary"]["bins_above_ceiling"]
        assert result["nodes"]["leak"]["above_ceiling"] is True
        assert ceil[result["summary"]["bins"]].min() > 0.1
        assert result["summary"]["bin_start_ms"][0] >= 60  # after onset
        # The per-bin numbers themselves are untouched.
        np.testing.assert_allclose(
            np.asarray(result["nodes"]["leak"]["ceiled_per_bin"],
                       dtype=float),
            neural.ceiled_score(raw, ceil, "r2_over_ceiling_2026"))
    window = neural.layer_sweep(leak, data, areas=["IT"], n_splits=2,
                                selection_ms=(100, 120), min_ceiling=0.5)
    assert window["summary_rule"]["window_ms"] == [100.0, 120.0]
    assert window["areas"]["IT"]["summary"]["bin_start_ms"] == [100.0,
                                                                110.0]
    with pytest.raises(ValueError, match="min_ceiling must be >= 0"):
        neural.layer_sweep(leak, data, min_ceiling=-1)


def test_sweep_scores_equal_plain_sklearn_loop(synthetic):
    feats, data, _ = synthetic
    small = {k: np.pad(v[:, :, :200], ((0, 0), (0, 2), (0, 0)))
             for k, v in feats.items() if k != "conv1"}
    report = neural.layer_sweep(small, data, areas=["IT"], n_splits=2,
                                step_offset=2)
    resp = data.trial_average()[..., data.area_indices("IT")]
    splits = neural.stimulus_splits(data.n_stimuli, data.object_label, 2)
    for node, x in small.items():
        ours = np.asarray(report["areas"]["IT"]["nodes"][node]
                          ["score_per_bin"], dtype=float)
        for b in (8, 12, 20):
            per_split = []
            for train, test in splits:
                pls = PLSRegression(25, scale=False).fit(x[train, b + 2],
                                                         resp[train, b])
                per_split.append(np.median(neural.pearson_per_neuron(
                    pls.predict(x[test, b + 2]), resp[test, b])))
            assert ours[b] == pytest.approx(np.mean(per_split), abs=1e-6)


def test_shared_mapping_and_heldout_neurons_in_sweep(synthetic):
    feats, data, _ = synthetic
    small = {"conv3": feats["conv3"][:, :, :64]}
    sub = data.select_neurons(data.area_indices("IT")[:6])
    report = neural.layer_sweep(small, sub, mapping=neural.PLSMapping(8),
                                shared_across_bins=True, n_splits=2,
                                n_neuron_folds=2,
                                ceiling_version="raw_over_ceiling")
    node = report["areas"]["IT"]["nodes"]["conv3"]
    assert report["mapping"]["shared_across_bins"] is True
    assert len(node["heldout_score_per_bin"]) == 26
    assert node["heldout_mean_score"] is not None
    assert report["areas"]["IT"]["ceiling_version"] == "raw_over_ceiling"


def test_bin_steps():
    np.testing.assert_array_equal(neural.bin_steps(4, 6, 2), [2, 3, 4, 5])
    np.testing.assert_array_equal(
        neural.bin_steps(3, 6, model_steps=[0, 0, 5]), [0, 0, 5])
    with pytest.raises(ValueError, match="19 time steps cannot cover the 20 "
                                         "neural bins"):
        neural.bin_steps(20, 19)
    with pytest.raises(ValueError, match="at least 28 steps"):
        neural.bin_steps(26, 26, step_offset=2)
    with pytest.raises(ValueError, match="model_steps must be 3 integers"):
        neural.bin_steps(3, 6, model_steps=[0, 1])


def test_sweep_input_errors(synthetic):
    feats, data, _ = synthetic
    short = {"conv1": feats["conv1"][:, :20, :8]}
    with pytest.raises(ValueError, match="20 time steps cannot cover"):
        neural.layer_sweep(short, data)
    with pytest.raises(ValueError, match="has features for 239 stimuli but "
                                         "the neural data has 240"):
        neural.layer_sweep({"conv1": feats["conv1"][1:]}, data)
    ids = data.stimulus_id[::-1]
    with pytest.raises(ValueError, match="same ids in another order"):
        neural.layer_sweep(feats, data, stimulus_ids=ids)
    with pytest.raises(ValueError, match="must be \\[stimuli, steps, dims\\]"):
        neural.layer_sweep({"conv1": feats["conv1"][:, 0]}, data)
    with pytest.raises(ValueError, match="non-empty dict"):
        neural.layer_sweep({}, data)
    bad = {"conv1": feats["conv1"].copy()}
    bad["conv1"][0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="contain NaN"):
        neural.layer_sweep(bad, data)
    with pytest.raises(ValueError, match="selects no bin"):
        neural.layer_sweep(feats, data, selection_ms=(900, 1000))
    with pytest.raises(ValueError, match="unknown ceiled-score version"):
        neural.layer_sweep(feats, data, ceiling_version="2026")


def test_benchmark_quick_mode(capsys):
    module = runpy.run_path(str(BENCHMARK))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = module["main"](["--quick"])
    out = capsys.readouterr().out
    assert "sweep / sklearn loop = " in out
    assert result["max_diff"] < 1e-6
