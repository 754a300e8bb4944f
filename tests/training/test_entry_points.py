"""The entry points share one flag style (`training.cli`) and live together
in one process."""

import ast
import importlib
import os
import subprocess
import sys

import gin
import pytest

from training import cli

ENTRY_POINTS = ["training.train", "training.evaluate", "training.demo",
                "training.fit_neural", "training.make_synthetic_ventral",
                "training.convert_tf1"]
GIN_ENTRY_POINTS = ["training.train", "training.evaluate", "training.demo",
                    "training.fit_neural"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_entry_points_import_together():
    for name in ENTRY_POINTS:
        module = importlib.import_module(name)
        assert callable(module.main), name
        assert callable(module.run), name


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_no_entry_point_imports_another(name):
    path = os.path.join(REPO, *name.split(".")) + ".py"
    with open(path) as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{a.name}" for a in node.names}
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert not imported & (set(ENTRY_POINTS) - {name})


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_help_lists_the_shared_flags(name):
    text = importlib.import_module(name).parser().format_help()
    assert "--verbosity" in text and "--helpfull" in text
    if name in GIN_ENTRY_POINTS:
        for flag in ("--base_dir", "--gin_files", "--gin_bindings"):
            assert flag in text, (name, flag)


def test_absl_spellings_still_parse():
    from training import demo, fit_neural
    parser = fit_neural.parser()
    args = parser.parse_args(
        ["--data", "d.npz", "--base_dir=out", "--gin_files=a.gin",
         "--gin_files", "b.gin", "--gin_bindings=x.y = 1", "--nodes=c1,c2",
         "--fit_dynamics", "--save_features=false", "--verbosity=-1"])
    assert args.gin_files == ["a.gin", "b.gin"]
    assert args.gin_bindings == ["x.y = 1"]
    assert args.nodes == ["c1", "c2"]
    assert args.fit_dynamics is True and args.save_features is False
    assert args.verbosity == "warning"
    args = parser.parse_args(["--data=d", "--base_dir=o", "--nofit_dynamics"])
    assert args.fit_dynamics is False and args.nodes is None
    assert parser.parse_args(["--data=d", "--base_dir=o"]).fit_dynamics \
        is None  # unset: fit_neural.fit_dynamics (gin) decides
    args = demo.parser().parse_args(["--quick", "--epochs=2"])
    assert args.quick and args.epochs == 2
    assert args.base_dir == os.path.join("runs", "demo")


def test_gin_files_resolve_from_the_repo_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    gin.clear_config()
    try:
        cli.parse_gin(["gin_configs/neural/smoke.gin"])
        assert gin.query_parameter("SweepSettings.n_splits") == 2
    finally:
        gin.clear_config()
    with pytest.raises(ValueError, match="does not exist"):
        cli.parse_gin(["gin_configs/no_such_file.gin"])


def test_old_binding_names_point_to_the_new_ones():
    gin.clear_config()
    from training.settings import RENAMED_BINDINGS
    try:
        with pytest.raises(ValueError, match=r"fit_neural.dynamics_epochs "
                           r"is now DynamicsSettings.epochs"):
            cli.parse_gin(bindings=["fit_neural.dynamics_epochs = 1"],
                          renamed=RENAMED_BINDINGS)
    finally:
        gin.clear_config()


def test_cli_help_and_missing_flags():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "training.train", "--help"], cwd=REPO,
        capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--base_dir" in result.stdout and "--gin_files" in result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "training.train", "--gin_files=x.gin"],
        cwd=REPO, capture_output=True, text=True, timeout=180, env=env)
    assert result.returncode == 2
    assert "required: --base_dir" in result.stderr


def test_evaluate_reads_configs_of_runs_before_the_settings_objects():
    from training import evaluate
    old = "train.epochs = 4\ntrain.seed = 0\nfit_neural.split_seed = 2"
    assert evaluate._renamed(old).splitlines() == [
        "ScheduleSettings.epochs = 4", "train.seed = 0",
        "SweepSettings.seed = 2"]
