"""The package boundaries of the README's "Architecture" section.

Each package of `tnn/` may import only the packages to its left in the
data flow (spec -> TNNGraph -> time loop -> per-step outputs -> readout /
features over time -> loss / neural scores). The imports are read from the
source (`ast`), so a violation fails here before it becomes a cycle or a
hidden dependency on TensorFlow.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# package -> tnn packages it may import (besides itself). `tnn.api` and
# `tnn.utils` are leaf helpers every package may use.
ALLOWED = {
    "tnn.cells": set(),
    "tnn.graphs": {"tnn.cells"},
    "tnn.readouts": set(),
    "tnn.zoo": {"tnn.cells", "tnn.graphs", "tnn.readouts"},
    "tnn.tasks": {"tnn.graphs", "tnn.readouts"},
    "tnn.neural": {"tnn.graphs", "tnn.zoo"},
    "tnn.interop": {"tnn.cells", "tnn.graphs", "tnn.readouts", "tnn.zoo"},
    "tnn.brainscore": {"tnn.neural"},
    "tnn.search": {"tnn.cells", "tnn.graphs", "tnn.zoo"},
}
LEAVES = {"tnn.api", "tnn.utils", "tnn._tf_guard"}
# Modules of tnn.neural that take arrays and return numbers: no Keras.
ARRAY_ONLY = ("ceiling", "consistency", "crossval", "data", "mapping",
              "metrics", "pls", "pls_covariance", "pls_kernel", "ridge",
              "similarity", "splits", "sweep", "brainio", "movie_stimuli",
              "behavior/__init__", "behavior/data", "behavior/dprime",
              "behavior/i1i2", "behavior/ost", "behavior/synthetic")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """(module, is_top_level) for every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top = set(id(node) for node in tree.body)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            base = node.module or ""
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(name, id(node) in top) for name in names]
    return found


def _package(module):
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "tnn" else parts[0]


def _tnn_files():
    return sorted((ROOT / "tnn").rglob("*.py"))


@pytest.mark.parametrize("path", _tnn_files(),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_tnn_module_imports_respect_the_layers(path):
    module = _module_name(path)
    own = _package(module)
    allowed = ALLOWED.get(own)
    for name, top_level in _imports(path):
        pkg = _package(name)
        assert pkg != "training", (
            f"{module} imports {name}: tnn/ must not depend on training/.")
        if top_level:
            assert pkg != "tensorflow" or module == "tnn._tf_guard", (
                f"{module} imports TensorFlow at module level: tnn/ must "
                "import under the JAX and PyTorch backends (import it "
                "lazily inside the function, with a clear error).")
        if allowed is None or not name.startswith("tnn.") or pkg == own:
            continue
        if name in LEAVES or pkg in LEAVES:
            continue
        assert pkg in allowed, (
            f"{module} imports {name}, but {own} may import only "
            f"{sorted(allowed | LEAVES)} (README, Architecture).")


@pytest.mark.parametrize("name", ARRAY_ONLY)
def test_neural_array_modules_know_nothing_about_keras(name):
    path = ROOT / "tnn" / "neural" / f"{name}.py"
    for imported, _ in _imports(path):
        assert _package(imported) not in {"keras", "tensorflow"}, (
            f"tnn.neural.{name} imports {imported}: it must take arrays.")
        assert not imported.startswith(("tnn.graphs", "tnn.zoo")), (
            f"tnn.neural.{name} imports {imported}: it must take arrays.")


def test_only_the_graphs_package_reads_time_loop_internals():
    offenders = []
    for path in sorted(ROOT.glob("**/*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in {"tnn", "training", "benchmarks"} or \
                rel.parts[:2] == ("tnn", "graphs"):
            continue
        text = path.read_text()
        if "plan.reads" in text or "EXTERNAL" in text:
            offenders.append(str(rel))
    assert not offenders, (
        f"{offenders} read the time loop's internals (plan.reads, "
        "EXTERNAL): make what they need an option of the one loop in "
        "tnn/graphs.")


def test_training_has_no_neural_module_bag():
    bag = sorted(p.name for p in (ROOT / "training").glob("neural_*.py"))
    assert not bag, f"library code stranded in training/: {bag}"
