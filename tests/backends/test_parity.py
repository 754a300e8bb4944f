"""One set of weights, three Keras backends (issue #11).

Weights saved under TensorFlow (`.keras` and `.weights.h5`) load under JAX
and PyTorch and give the same outputs: for every output of `unroll` (every
node at every step; the readout's is the per-step output `model(x)`) in
the biological and the feed-forward unroll (and there with recurrence
"off" when all models are checked), the relative difference
max|a - b| / max(max|b|, 1e-30) (a: the other backend, b: TensorFlow) is
at most 1e-5. One model's
weights come from a TF1 checkpoint through the converter; its `.keras`
file then runs without TensorFlow. The other backend's process blocks
`import tensorflow` (as if not installed) and records any attempt: there
must be none, and the training package (`tf.data`) must refuse to import
with its one-line message. The work is in `tests/backends/worker.py`, run
once per backend in a subprocess (the backend is fixed per process).

Which backends: `TNN_TEST_BACKENDS` (space or comma separated, default
"jax"; `make test-torch` sets "torch"); a backend whose package is not
installed is skipped with the reason. Which models: `make test` checks
`lstm_shallow` (converted from a TF1 checkpoint; the model whose layer
norm once differed between backends) within its time budget;
`TNN_ALL_BACKEND_MODELS=1` checks all 16 registered models (`make
test-torch` does). The `-s` output lists the worst difference per model
and unroll.
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

import tnn

pytestmark = pytest.mark.large

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BACKENDS_ENV = "TNN_TEST_BACKENDS"
ALL_ENV = "TNN_ALL_BACKEND_MODELS"
DEFAULT_MODELS = ("lstm_shallow",)
PACKAGES = {"jax": "jax", "torch": "torch"}
RTOL = 1e-5
TIMEOUT = 3600


def _backends():
    names = os.environ.get(BACKENDS_ENV, "jax").replace(",", " ").split()
    return names or ["jax"]


def _all():
    return os.environ.get(ALL_ENV, "").strip() not in ("", "0")


def _models():
    return tnn.list_models() if _all() else list(DEFAULT_MODELS)


def _runs():
    """The unrolls compared (recurrence "off" too with all models)."""
    return ("biological/on", "feedforward/on") + (
        ("feedforward/off",) if _all() else ())


def _worker(backend, command, folder, models):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.backends.worker", command,
         str(folder)] + list(models),
        cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, (
        f"{backend} {command} failed:\n{result.stderr[-5000:]}")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("backends")
    _worker("tensorflow", "save", folder, _models() + (
        ["--recurrence-off"] if _all() else []))
    return folder


@pytest.fixture(scope="module", params=_backends())
def checked(request):
    backend = request.param
    if backend not in PACKAGES:
        pytest.fail(f"{BACKENDS_ENV}: unknown backend {backend!r}; use "
                    f"{' or '.join(PACKAGES)} (TensorFlow is the reference).")
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        pytest.skip(f"KERAS_BACKEND={backend} needs the "
                    f"{PACKAGES[backend]!r} package, not installed here "
                    f"(`make test-torch` installs PyTorch's CPU wheel).")
    saved = request.getfixturevalue("saved")  # after the skips
    _worker(backend, "check", saved, _models())
    with open(saved / f"result_{backend}.json") as f:
        return json.load(f)


def _worst(rel):
    """{model/unroll/recurrence: worst relative difference}."""
    worst = {}
    for key, value in rel.items():
        run = "/".join(key.split("/")[:3])
        worst[run] = max(worst.get(run, 0.0), value)
    return worst


def test_tensorflow_weights_give_the_same_outputs(checked):
    models = _models()
    worst = _worst(checked["rel"])
    print(f"\n{checked['backend']}: max relative difference to TensorFlow")
    for run, value in sorted(worst.items()):
        print(f"  {run:45s} {value:.2e}")
    print(f"  seconds per model: {checked['seconds']}")
    runs = {f"{m}/{u}" for m in models for u in _runs()}
    assert set(worst) == runs and not checked["missing"]
    assert checked["formats_agree"] == {m: True for m in models}, (
        "the .keras and .weights.h5 files give different weights")
    bad = {k: f"{v:.2g}" for k, v in checked["rel"].items()
           if not v <= RTOL}
    assert not bad, f"{checked['backend']} differs from TensorFlow: {bad}"


def test_runs_without_tensorflow(checked):
    assert checked["tensorflow_attempts"] == []
    assert not checked["tensorflow_in_sys_modules"]
    assert checked["training_error"].startswith(
        "ModuleNotFoundError: tnn.training (its tf.data pipelines) needs "
        "TensorFlow, which is not installed: pip install "
        "'tensorflow-cpu==2.21.*'"), checked["training_error"]


@pytest.mark.parametrize("backend,package", [("jax", "jax"),
                                             ("torch", "torch")])
def test_missing_backend_package_fails_in_one_clear_line(backend, package):
    block = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.partition('.')[0] == {package!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}',"
        " name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import tnn\n")
    result = subprocess.run(
        [sys.executable, "-c", block], cwd=REPO, capture_output=True,
        text=True, timeout=120, env={**os.environ, "KERAS_BACKEND": backend})
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"ModuleNotFoundError: tnn with the Keras backend {backend!r} "
        f"(KERAS_BACKEND) needs the {package!r} package, which is not "
        f"installed: pip install"), last
    assert "During handling" not in result.stderr
