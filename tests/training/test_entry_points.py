"""All entry points can live in one process (absl flags are global)."""

import importlib

ENTRY_POINTS = ["training.train", "training.evaluate", "training.demo",
                "training.fit_neural", "training.make_synthetic_ventral",
                "training.convert_tf1"]


def test_entry_points_import_together():
    for name in ENTRY_POINTS:
        module = importlib.import_module(name)
        assert callable(module.main), name
