"""`training.fit_behavior` and `training.make_synthetic_behavior` end to
end: synthetic truth recovered, a tiny model's feed-forward control, and
one-line errors."""

import json
import os

import keras
import numpy as np
import pytest

from tnn.neural.synthetic.convrnn import ventral_convrnn
from training import fit_behavior
from training import make_synthetic_behavior as msb


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("behavior")
    return msb.make_synthetic_behavior(str(folder / "syn.npz"),
                                       n_objects=3, images_per_object=24,
                                       trials_per_image=60, size=16, seed=0)


def test_synthetic_truth_is_recovered(demo, tmp_path):
    fit_behavior.run([f"--data={demo['data']}",
                      f"--features={demo['features']}",
                      f"--base_dir={tmp_path}"])
    with open(tmp_path / "report.json") as f:
        report = json.load(f)
    assert sorted(report["plots"]) == ["dprime.png", "ost.png"]
    assert all(os.path.getsize(tmp_path / p) > 0 for p in report["plots"])
    truth = report["truth_checks"]
    assert truth["ost_spearman_vs_true"] > 0.7
    assert truth["ost_mean_abs_error_ms"] < 30
    assert truth["i1n_spearman_vs_true_sensitivity_within_object"] > 0.8
    assert report["ost"]["model_steps"] == list(range(7, 25))
    assert report["ost"]["raw"] > 0.5
    assert report["ost"]["score"] == report["ost"]["raw"]  # ceiling 1
    # the generator's features carry solution times, not image difficulty
    assert abs(report["i2n"]["raw"]) < 0.2
    assert 0 < report["i2n"]["ceiling"] < 1


def test_tiny_model_feedforward_control(demo, tmp_path):
    keras.utils.set_random_seed(0)
    path = str(tmp_path / "tiny.keras")
    ventral_convrnn(input_shape=(16, 16, 3), widths=(4, 8),
                    feedback=()).save(path)
    report = fit_behavior.fit_behavior(demo["data"], str(tmp_path / "run"),
                                       weights=path, feedforward=True,
                                       behavior_step=9)
    assert report["node"] == "conv2" and report["feedforward"]
    assert np.isnan(report["ost"]["score"])  # no time course
    assert not report["ost"]["temporally_varying"]
    assert np.isfinite(report["i1n"]["score"])


@pytest.mark.parametrize("argv, message", [
    (["--data=missing.npz"], "does not exist"),
    (["--behavior_step=40"], "outside the features' 25 steps"),
    (["--step_offset=5"], "need model steps 12..29"),
])
def test_bad_input_ends_in_one_line(demo, tmp_path, argv, message):
    argv = [f"--data={demo['data']}", f"--features={demo['features']}",
            f"--base_dir={tmp_path}"] + argv
    with pytest.raises(SystemExit) as err:
        fit_behavior.run(argv)
    text = str(err.value)
    assert text.startswith("training.fit_behavior: error:") and \
        message in text and "\n" not in text
