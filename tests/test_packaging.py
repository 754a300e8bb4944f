"""What a `pip install` of tnn gets (setup.py's docstring): one top-level
package, `tnn`, with `tnn.training` and the shipped gin configs; gin
configs by name; one clear line when TensorFlow is missing.

The full check (a wheel installed into a fresh virtual environment, the
README example and a `tnn-train` smoke run outside the repository) is
`make test-wheel`, which CI runs after `make test`.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile

import gin
import pytest

from training import cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = ["tnn", "training", "gin_configs", "setup.py", "pyproject.toml",
           "README.md"]
SCRIPTS = {"tnn-train": "tnn.training.train:run",
           "tnn-evaluate": "tnn.training.evaluate:run",
           "tnn-fit-neural": "tnn.training.fit_neural:run",
           "tnn-convert": "tnn.training.convert_tf1:run",
           "tnn-demo": "tnn.training.demo:run",
           "tnn-make-synthetic-ventral":
               "tnn.training.make_synthetic_ventral:run",
           "tnn-fit-behavior": "tnn.training.fit_behavior:run",
           "tnn-make-synthetic-behavior":
               "tnn.training.make_synthetic_behavior:run",
           "tnn-movie-demo": "tnn.training.movie_demo:run",
           "tnn-search": "tnn.training.search:run"}
# Blocks `import tensorflow` as if it were not installed.
BLOCK_TENSORFLOW = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "tensorflow":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Block())
"""


def _repo_files(folder, suffix):
    root = os.path.join(REPO, folder)
    return sorted(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                  for d, _, files in os.walk(root) for f in files
                  if f.endswith(suffix))


def _python(code, cwd, env=None, timeout=180):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of the sources (the build writes
    build/ and *.egg-info next to setup.py; the copy keeps the working tree
    untouched). No network: the .venv's setuptools builds it."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        path = os.path.join(REPO, name)
        if os.path.isdir(path):
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(
                "__pycache__", "*.pyc"))
        else:
            os.makedirs(src, exist_ok=True)
            shutil.copy(path, src / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "--disable-pip-version-check",
         "--wheel-dir", str(tmp / "dist"), str(src)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (path,) = (tmp / "dist").glob("tnn-*.whl")
    return path


def test_wheel_installs_one_top_level_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"tnn", "tnn-0.1.0.dist-info"}, tops
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        text = zipfile.ZipFile(wheel).read(top_level[0]).decode()
        assert text.split() == ["tnn"], text


def test_wheel_holds_training_and_every_gin_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for rel in _repo_files("training", ".py"):
        assert f"tnn/training/{rel}" in names, rel
    gin_files = _repo_files("gin_configs", ".gin")
    assert "tasks/smoke.gin" in gin_files and "models/rgc_shallow.gin" in \
        gin_files
    for rel in gin_files:
        assert f"tnn/gin_configs/{rel}" in names, rel


def test_wheel_console_scripts(wheel):
    archive = zipfile.ZipFile(wheel)
    (path,) = [n for n in archive.namelist()
               if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(path).decode()
    scripts = dict(re.findall(r"^(\S+) = (\S+)$", text.split(
        "[console_scripts]")[1], re.M))
    assert scripts == SCRIPTS


def test_installed_layout_resolves_gin_configs_and_runs_outside_repo(
        wheel, tmp_path):
    """The wheel unpacked alone on the path, run from outside the repo:
    gin configs by name (includes too) come from the installed package and
    `training` is never imported."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = f"""
import sys
sys.path.insert(0, {str(site)!r})
from tnn.training import cli, train
import gin, tnn
assert tnn.__file__.startswith({str(site)!r}), tnn.__file__
assert cli.GIN_CONFIGS == {str(site / "tnn" / "gin_configs")!r}
print(cli.resolve_gin_file("tasks/smoke"))
cli.parse_gin(["tasks/demo_convrnn", "tasks/smoke.gin"])
print(gin.query_parameter("small_convrnn.widths"),
      gin.query_parameter("digit_debris_task.level"))
assert "training" not in sys.modules
train.parser().format_help()
"""
    result = _python(code, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == str(site / "tnn" / "gin_configs" / "tasks" /
                           "smoke.gin")
    assert lines[1] == "(4, 8, 8) heavy"


def test_gin_files_take_shipped_configs_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expected = os.path.join(cli.GIN_CONFIGS, "models", "rgc_shallow.gin")
    for given in ("models/rgc_shallow", "models/rgc_shallow.gin",
                  "gin_configs/models/rgc_shallow.gin"):
        assert os.path.samefile(cli.resolve_gin_file(given), expected)
    own = tmp_path / "models" / "rgc_shallow.gin"  # a path wins over a name
    own.parent.mkdir()
    own.write_text("")
    assert cli.resolve_gin_file("models/rgc_shallow.gin") == str(own)
    names = cli.shipped_gin_configs()
    assert {"models/rgc_shallow", "tasks/smoke", "smoke",
            "neural/smoke"} <= set(names)
    assert len(names) == len(_repo_files("gin_configs", ".gin"))
    with pytest.raises(ValueError, match=r"does not exist, nor is it a "
                       r"shipped config .*models/rgc_shallow; folders: "
                       r"feedback, models, neural, replication, search, tasks\)"):
        cli.resolve_gin_file("models/no_such_model")


def test_gin_includes_resolve_from_any_directory(tmp_path, monkeypatch):
    from training import trainer  # noqa: F401  (registers the configurables)
    monkeypatch.chdir(tmp_path)
    gin.clear_config()
    try:
        cli.parse_gin(["tasks/demo_feedforward"])  # includes digit_debris
        assert gin.query_parameter("digit_debris_task.level") == "heavy"
    finally:
        gin.clear_config()


def test_training_imports_itself_only_relatively():
    """Absolute `training.` imports would break the installed
    `tnn.training` (and import the files twice in a checkout)."""
    offenders = []
    for rel in _repo_files("training", ".py"):
        with open(os.path.join(REPO, "training", rel)) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names]
                     if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom)
                     and not node.level else [])
            offenders += [f"{rel}: {name}" for name in names
                          if name.partition(".")[0] == "training"]
    assert not offenders, offenders


def test_tensorflow_pin_is_the_same_in_setup_and_the_error():
    with open(os.path.join(REPO, "setup.py")) as f:
        setup_pin = re.search(r'TF_VERSION = "([^"]+)"', f.read()).group(1)
    with open(os.path.join(REPO, "tnn", "_tf_guard.py")) as f:
        guard_pin = re.search(r'TF_VERSION = "([^"]+)"', f.read()).group(1)
    assert setup_pin == guard_pin


def test_missing_tensorflow_fails_in_one_clear_line(tmp_path):
    result = _python(BLOCK_TENSORFLOW + "import tnn\n", cwd=REPO,
                     env={"KERAS_BACKEND": "tensorflow"})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: tnn (with the Keras "
                           "backend 'tensorflow', the default) needs "
                           "TensorFlow, which is not installed: pip install "
                           "'tensorflow-cpu==2.21.*' (CPU) or "
                           "'tensorflow[and-cuda]==2.21.*' (GPU)"), last
    assert "KERAS_BACKEND=jax or torch" in last
    assert "During handling" not in result.stderr  # no chained traceback
    # tnn.training needs tf.data on every backend.
    code = ("import sys, tnn\nfrom tnn import _tf_guard\n"
            "sys.modules['tensorflow'] = None\n"
            "_tf_guard.require_tensorflow('tnn.training')\n")
    result = _python(code, cwd=tmp_path, env={"PYTHONPATH": REPO})
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: tnn.training needs "
                           "TensorFlow, which is not installed: pip install "
                           "'tensorflow-cpu==2.21.*'"), last


def test_one_process_cannot_import_training_under_both_names():
    code = """
import importlib.util, os, training
spec = importlib.util.spec_from_file_location(
    "tnn.training", training.__file__,
    submodule_search_locations=[os.path.dirname(training.__file__)])
try:
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
except ImportError as err:
    print(err)
"""
    result = _python(code, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "already imported as training" in result.stdout
