"""`training.fit_neural` and `training.make_synthetic_ventral` end to end:
outputs, truth checks, and one-line errors for bad input."""

import json
import os
import re
import subprocess
import sys

import gin
import numpy as np
import pytest
import tensorflow as tf

from tnn import config as tnn_config
from tnn import neural
from training import cli, fit_neural
from training import make_synthetic_ventral as msv
from tnn.neural import features as nf
from tnn.neural.synthetic import truth as neural_truth
from tnn.neural.synthetic.convrnn import ventral_convrnn

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GIN = os.path.join(REPO, "gin_configs", "neural")
QUICK = [f"--gin_files={os.path.join(GIN, 'smoke.gin')}", "--verbose=0"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    paths = msv.make_synthetic_ventral(
        str(folder / "syn.npz"), n_per_category=10, n_trials=4,
        n_neurons=4, seed=3, truth_seed=4)
    return paths


def run_cli(argv, monkeypatch):
    """Runs the entry point in-process (as `python -m` would, through
    sys.argv); returns the SystemExit code."""
    gin.clear_config()
    monkeypatch.setattr(sys, "argv", ["fit_neural"] + list(argv))
    try:
        fit_neural.run()
    except SystemExit as exit_info:
        return exit_info.code
    return None


def test_make_synthetic_ventral_outputs(demo):
    data = neural.load_neural_data(demo["data"])
    assert data.responses.shape == (4, 60, 26, 8)
    assert data.areas == ["V4", "IT"]
    with open(demo["truth"]) as f:
        truth = json.load(f)
    assert truth["areas"]["V4"]["node"] == "conv2"
    assert truth["areas"]["IT"]["latency_ms"] == 30.0
    assert len(truth["areas"]["IT"]["reliability_per_bin"]) == 26
    assert truth["model"]["truth_seed"] == 4
    with open(demo["gin"]) as f:
        text = f.read()
    assert "fit_neural.model_fn = @ventral_convrnn" in text
    assert os.path.isfile(demo["weights"])
    with pytest.raises(ValueError, match="--out must end with .npz"):
        msv.output_paths("data.h5")


def _events(log_dir):
    tags = set()
    for name in os.listdir(log_dir):
        for event in tf.compat.v1.train.summary_iterator(
                os.path.join(log_dir, name)):
            tags.update(v.tag for v in event.summary.value)
    return tags


def test_end_to_end_writes_report_plots_and_logs(demo, tmp_path,
                                                 monkeypatch):
    base = str(tmp_path / "fit")
    code = run_cli([f"--data={demo['data']}", f"--gin_files={demo['gin']}",
                    f"--truth={demo['truth']}", "--fit_dynamics",
                    "--save_features", f"--base_dir={base}"] + QUICK,
                   monkeypatch)
    with open(os.path.join(base, "report.json")) as f:
        report = json.load(f)
    failed = neural_truth.failed_checks(report["truth_checks"])
    if failed:
        assert code.startswith("training.fit_neural: truth checks failed")
        assert all(f in code for f in failed)
    else:
        assert code is None
    for area in ("V4", "IT"):
        entry = report["areas"][area]
        assert entry["ceiling_version"] == "r2_over_ceiling_2026"
        for key in ("best_node", "raw_score", "ceiling", "ceiled_score"):
            assert entry[key] is not None
        assert len(entry["ceiling_per_bin"]) == 26
        assert set(entry["nodes"]) == {"conv1", "conv2", "conv3", "conv4"}
        assert len(entry["nodes"]["conv3"]["score_per_bin"]) == 26
        check = report["truth_checks"][area]
        assert check["true_node"] == {"V4": "conv2", "IT": "conv4"}[area]
        assert set(report["dynamics"]["areas"][area]) >= {
            "recurrent_fit", "feedforward_shared", "time_varied",
            "beats_baselines", "headline"}
        assert entry["ceiled_score"] <= 1.0
        assert isinstance(entry["above_ceiling"], bool)
        assert entry["summary"]["bins"]
        headline = report["dynamics"]["areas"][area]["headline"]
        assert report["dynamics"]["areas"][area]["beats_baselines"][
            "heldout_stimuli"] == headline["heldout_stimuli"][
                "recurrent_fit_wins"]
    assert report["summary_rule"]["name"] == "ceiled_mean_over_reliable_bins"
    assert report["summary_rule"]["min_ceiling"] == 0.1
    text = fit_neural.summary(report)
    assert "where every method is defined" in text
    assert "ceiled_mean_over_reliable_bins v1" in text
    assert report["model"]["weights"] == demo["weights"]
    assert report["splits"]["n_splits"] == 2
    reduction = report["features"]["reduction"]
    assert reduction["conv1"]["method"] == "projection"  # 16x16x8 > 1024
    assert reduction["conv1"]["dims"] == 1024
    assert reduction["conv4"]["method"] == "none"
    for name in ("sweep.png", "trajectories.png", "dynamics.png",
                 "dynamics_trajectories.png"):
        with open(os.path.join(base, name), "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    tags = _events(os.path.join(base, "logs"))
    assert {"sweep/V4/conv2/score", "sweep/IT/ceiling", "dynamics/val_loss",
            "dynamics/IT/heldout_stimuli/recurrent_fit",
            "plots/sweep"} <= tags
    # The dynamics trained through Model.fit: its own TensorBoard logs,
    # CSV history and checkpoints; the backup is gone once it finished.
    dynamics_dir = os.path.join(base, "dynamics")
    assert os.path.isfile(os.path.join(dynamics_dir, "logs", "history.csv"))
    assert os.path.isfile(os.path.join(dynamics_dir, "checkpoints",
                                       "best.weights.h5"))
    assert not os.path.exists(os.path.join(dynamics_dir, "backup"))
    with open(os.path.join(base, "operative_config.gin")) as f:
        assert "ventral_convrnn" in f.read()
    feats, ids, _ = nf.load_features(os.path.join(base, "features.npz"))
    assert feats["conv4"].shape == (60, 26, 2 * 2 * 32)
    assert list(ids) == list(neural.load_neural_data(
        demo["data"]).stimulus_id)


def test_truth_checks_by_hand():
    report = {"bins": {"selected": [1, 2, 3]},
              "areas": {"V4": {"best_node": "a",
                               "ceiling_per_bin": [None, 0.5, 0.62, 0.7]},
                        "IT": {"best_node": "a",
                               "ceiling_per_bin": [0.1, 0.2, 0.3, 0.4]}},
              "dynamics": {"areas": {"IT": {"beats_baselines": {
                  "heldout_stimuli": False,
                  "heldout_neurons_common_bins": False}}}}}
    truth = {"areas": {"V4": {"node": "a",
                              "reliability_per_bin": [0, 0.49, 0.6, 0.7]},
                       "IT": {"node": "b",
                              "reliability_per_bin": [0, 0.1, 0.2, 0.3]}}}
    checks = neural_truth.truth_checks(report, truth)
    v4 = checks["V4"]
    assert v4["node_recovered"] and v4["reliable_bins"] == [2, 3]
    np.testing.assert_allclose(v4["ceiling_mean_abs_error"], 0.01)
    np.testing.assert_allclose(v4["max_abs_error_reliable_bins"], 0.02)
    np.testing.assert_allclose(v4["mean_abs_error_per_bin"], 0.01)
    assert v4["ceiling_within_tolerance"]
    it = checks["IT"]
    assert not it["node_recovered"] and not it["ceiling_within_tolerance"]
    assert it["max_abs_error_reliable_bins"] is None
    # The dynamics comparison is reported, never a failed check: it is a
    # scientific result, not a test of the pipeline.
    assert it["recurrent_fit_beats_baselines"]["heldout_stimuli"] is False
    assert neural_truth.failed_checks(checks) == [
        "IT: best node a != b", "IT: ceiling off by 0.100"]


def _write_data(path, data, **changes):
    fields = {"stimuli": data.stimuli, "stimulus_id": data.stimulus_id,
              "responses": data.responses, "bin_start_ms": data.bin_start_ms,
              "bin_width_ms": data.bin_width_ms,
              "neuron_area": data.neuron_area, "neuron_id": data.neuron_id}
    fields.update(changes)
    np.savez(path, **fields)
    return path


def test_bad_input_gives_one_line_errors(demo, tmp_path, monkeypatch):
    data = neural.load_neural_data(demo["data"])
    dead = data.responses.copy()
    dead[..., 2] = np.nan
    features = {"conv1": np.zeros((54, 26, 3), np.float32)}
    nf.save_features(str(tmp_path / "few.npz"), features,
                     data.stimulus_id[:54])
    nf.save_features(str(tmp_path / "order.npz"),
                     {"conv1": np.zeros((60, 26, 3), np.float32)},
                     data.stimulus_id[::-1])
    ventral_convrnn(widths=(4, 4, 4, 4)).save_weights(
        str(tmp_path / "other.weights.h5"))
    dead_path = _write_data(tmp_path / "dead.npz", data, responses=dead)
    one_path = _write_data(tmp_path / "one.npz", data,
                           responses=data.responses[:1])
    base = [f"--base_dir={tmp_path / 'out'}", f"--gin_files={demo['gin']}",
            "--verbose=0"]
    cases = [
        ([f"--data={dead_path}"],
         r"1 neuron\(s\) have only NaN responses \('V4_002'\)"),
        ([f"--data={one_path}"],
         "has 1 trial; the split-half ceiling needs at least 2"),
        ([f"--data={demo['data']}",
          "--gin_bindings=ventral_convrnn.times = 20"],
         "times=20.*20 time steps cannot cover the 26 neural bins"),
        ([f"--data={demo['data']}", f"--features={tmp_path / 'few.npz'}"],
         "features for 54 stimuli but the neural data has 60"),
        ([f"--data={demo['data']}", f"--features={tmp_path / 'order.npz'}"],
         "feature row 0 is stimulus .*stim_00059.* but the neural data "
         "has .*stim_00000.*same ids in another order"),
        ([f"--data={demo['data']}",
          f"--weights={tmp_path / 'other.weights.h5'}"],
         "do not fit model 'ventral_convrnn'"),
        ([f"--data={demo['data']}", "--model=timedecay_shallow"],
         "either --model or fit_neural.model_fn, not both"),
    ]
    for argv, pattern in cases:
        code = run_cli(argv + base, monkeypatch)
        assert isinstance(code, str) and "\n" not in code, argv
        assert code.startswith("training.fit_neural: error: "), code
        assert re.search(pattern, code), (pattern, code)


def test_registered_models_get_the_neural_presentation(demo):
    gin.clear_config()
    data = neural.load_neural_data(demo["data"])
    model = fit_neural.build_neural_model(data, "timedecay_shallow",
                                          image_size=72)
    assert model.graph_input_shape == (72, 72, 3)
    assert (model.times, model.image_off) == (26, 10)
    with pytest.raises(ValueError, match="no model: pass --model NAME"):
        fit_neural.build_neural_model(data)
    cli.parse_gin([os.path.join(GIN, "rgc_shallow.gin")])
    assert gin.query_parameter("fit_neural.model_fn").selector == \
        "build_model"
    model = fit_neural.build_neural_model(
        data, model_fn=tnn_config.build_model, image_size=72)
    assert model.name == "rgc_shallow"
    assert (model.times, model.image_off) == (26, 10)
    assert model.graph_input_shape == (72, 72, 3)
    gin.clear_config()


def test_command_line_reports_missing_data_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "training.fit_neural",
         f"--data={tmp_path / 'none.npz'}", "--model=rgc_shallow",
         f"--base_dir={tmp_path / 'out'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"training.fit_neural: error: neural data file "
        f"'{tmp_path / 'none.npz'}' does not exist.")
