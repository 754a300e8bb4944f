"""Traps a user hits in the first hour (issue 10): each test here failed
before its fix."""

import logging
import os
import re
import subprocess
import sys
import types

import gin
import numpy as np
import pytest

import tnn
from training import cli, fit_neural, optimizers, trainer
from training import make_synthetic_ventral as msv

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ENTRY_POINTS = ["training.train", "training.evaluate", "training.demo",
                "training.fit_neural", "training.make_synthetic_ventral",
                "training.convert_tf1", "training.fit_behavior",
                "training.make_synthetic_behavior", "training.movie_demo",
                "training.search"]
GIN_ENTRY_POINTS = ["training.train", "training.evaluate", "training.demo",
                    "training.fit_neural"]


@pytest.fixture
def clean_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def test_image_folder_warmup_is_clipped_in_short_runs(clean_gin, caplog):
    cli.parse_gin(["gin_configs/tasks/image_folder.gin"])
    with caplog.at_level(logging.WARNING):
        optimizer = optimizers.sgd(total_steps=20)  # was: ValueError
    assert "warming up for 2 steps" in caplog.text
    rate = optimizer.learning_rate
    assert float(optimizer._learning_rate(1)) == pytest.approx(0.005)
    assert float(rate) == pytest.approx(0.0)  # step 0 of the warm-up
    long_run = optimizers.learning_rate_schedule(0.01, 10_000, "cosine",
                                                 warmup_steps=500)
    assert float(long_run(250)) == pytest.approx(0.005)
    with pytest.raises(ValueError, match="warmup_steps must be an int"):
        optimizers.learning_rate_schedule(0.01, 100, "cosine",
                                          warmup_steps=-1)


def test_non_chief_worker_paths_are_the_real_ones(monkeypatch, tmp_path):
    monkeypatch.setattr(trainer.strategy_lib, "is_chief", lambda s: False)
    monkeypatch.setattr(trainer.strategy_lib, "worker_index", lambda s: 1)
    paths = trainer.run_paths(tmp_path, None)
    worker = os.path.join(str(tmp_path), "workers", "worker_1")
    assert paths["base_dir"] == worker
    assert paths["backup_dir"] == os.path.join(worker, "backup")
    assert paths["operative_config"].startswith(worker)
    # What the chief writes, where it writes it (was: under workers/).
    for key, folder in (("export_dir", "export"), ("log_dir", "logs"),
                        ("checkpoint_dir", "checkpoints")):
        assert paths[key] == os.path.join(str(tmp_path), folder)
    note = trainer._outputs_note(paths, tmp_path, None)
    assert "worker 1 (not the chief)" in note and worker in note


def test_progress_is_plain_when_stdout_is_not_a_terminal(monkeypatch):
    from tnn.neural.features import plain_progress
    for fn in (plain_progress, trainer.progress_verbose):
        assert fn("auto") == fn(1) == 2 and fn(0) == 0 and fn(2) == 2
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True,
                            raising=False)
        assert fn("auto") == "auto" and fn(1) == 1
        monkeypatch.undo()


def _run(args, stdout_path, timeout=400):
    """Runs a command with stdout redirected to a file (not a TTY)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(stdout_path, "w") as out:
        result = subprocess.run(args, cwd=REPO, stdout=out,
                                stderr=subprocess.PIPE, text=True,
                                timeout=timeout, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(stdout_path) as f:
        return f.read()


@pytest.mark.extended
def test_redirected_logs_have_no_ansi_codes(tmp_path):
    text = _run([sys.executable, "-m", "training.train",
                 "--gin_files=gin_configs/tasks/digit_debris.gin",
                 "--gin_files=gin_configs/tasks/smoke.gin",
                 f"--base_dir={tmp_path / 'run'}"], tmp_path / "train.log")
    assert "\x1b[" not in text and "\b" not in text
    assert re.search(r"2/2 - \d+s", text), text  # one line per epoch
    paths = msv.make_synthetic_ventral(
        str(tmp_path / "syn.npz"), n_per_category=10, n_trials=4,
        n_neurons=4, seed=3, truth_seed=4)
    text = _run([sys.executable, "-m", "training.fit_neural",
                 f"--data={paths['data']}", f"--gin_files={paths['gin']}",
                 "--gin_files=gin_configs/neural/smoke.gin",
                 "--fit_dynamics", f"--base_dir={tmp_path / 'fit'}"],
                tmp_path / "fit.log")
    assert "\x1b[" not in text and "\b" not in text
    assert "features of" in text and "stimuli/s" in text


def test_help_of_every_entry_point_run_as_a_module():
    code = (
        "import contextlib, io, runpy, sys\n"
        f"for name in {ENTRY_POINTS!r}:\n"
        "    sys.argv = [name, '--help']\n"
        "    out = io.StringIO()\n"
        "    with contextlib.redirect_stdout(out):\n"
        "        try:\n"
        "            runpy.run_module(name, run_name='__main__')\n"
        "        except SystemExit:\n"
        "            pass\n"
        "    print('=====', name)\n"
        "    print(out.getvalue())\n")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True,
        text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    helps = dict(part.split("\n", 1) for part in
                 result.stdout.split("===== ")[1:])
    assert set(helps) == set(ENTRY_POINTS)
    for name, text in helps.items():
        assert "usage: python -m " + name in text and "--verbosity" in text
        if name in GIN_ENTRY_POINTS:
            assert "--base_dir" in text and "--gin_files" in text, name
    assert "--model_file" in helps["training.evaluate"]


@pytest.fixture
def saved_files(tmp_path):
    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3))
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") * 0.1
                       for w in model.get_weights()])
    model.save(str(tmp_path / "m.keras"))
    model.save_weights(str(tmp_path / "m.weights.h5"))
    return model, tmp_path


def test_fit_neural_loads_keras_and_weights_files(saved_files, clean_gin):
    saved, folder = saved_files
    data = types.SimpleNamespace(stimuli=np.zeros((2, 72, 72, 3), np.uint8))
    for path in ("m.keras", "m.weights.h5"):
        model = fit_neural.build_neural_model(
            data, "timedecay_shallow", weights=str(folder / path))
        assert (model.times, model.image_off) == (26, 10)
        for a, b in zip(model.get_weights(), saved.get_weights()):
            np.testing.assert_array_equal(a, b)
    # A .keras file alone is the model, with the neural presentation.
    model = fit_neural.build_neural_model(data,
                                          weights=str(folder / "m.keras"))
    assert model.name == "timedecay_shallow"
    assert (model.times, model.image_off) == (26, 10)
    assert model.graph_input_shape == (72, 72, 3)
    for a, b in zip(model.get_weights(), saved.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="--model 'rgc_deep'"):
        fit_neural.build_neural_model(data, "rgc_deep")
    with pytest.raises(ValueError, match="--image_size must be"):
        fit_neural.build_neural_model(data, "rgc_shallow", image_size=0)
    with pytest.raises(ValueError, match="--weights .*does not exist"):
        fit_neural.build_neural_model(data, weights=str(folder / "x.keras"))
    with pytest.raises(ValueError, match="do not fit model 'rgc_shallow'"):
        fit_neural.build_neural_model(data, "rgc_shallow",
                                      weights=str(folder / "m.keras"))


def test_readme_neural_example_uses_the_converter_output():
    with open(os.path.join(REPO, "README.md")) as f:
        readme = f.read()
    assert "--weights rgc_intermediate.keras" in readme
    assert ".weights.h5 \\" not in readme.split("## Neural fitting")[1][:400]
