"""Every gin file in gin_configs/ parses and lands its bindings.

In the style of dopamine's `gin_config_test.py`: each file is parsed as the
entry points parse it (`training.cli.parse_gin`, `skip_unknown=False`, with
the configurables it names imported), then the object it configures is
built (at a small size, or with the model builder stubbed out) and checked
to carry at least one of the file's values. A new gin file without a check
here fails `test_every_gin_file_has_a_check`.
"""

import glob
import os

import gin
import numpy as np
import pytest
import tensorflow as tf

from tnn import config as tnn_config
from tnn.zoo import registry, small_models
from training import cli, fit_neural, optimizers, tasks  # noqa: F401
from training import trainer  # noqa: F401  (train, sgd, ...)
from training.settings import (DynamicsSettings, LossSettings,
                               ScheduleSettings, SweepSettings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIN = os.path.join(ROOT, "gin_configs")
FILES = sorted(os.path.relpath(p, GIN).replace(os.sep, "/") for p in
               glob.glob(os.path.join(GIN, "**", "*.gin"), recursive=True))
MODELS = [f for f in FILES if f.startswith("models/")]
DEBRIS = (32, 32, 1)


@pytest.fixture(autouse=True)
def clean_gin():
    gin.clear_config()
    yield
    gin.clear_config()


@pytest.fixture
def built(monkeypatch):
    """Stubs the zoo builder: `build_model()` returns its kwargs."""
    def create_model(name, **overrides):
        return dict(overrides, name=name)
    monkeypatch.setattr(registry, "create_model", create_model)
    return tnn_config.build_model


def parse(*files, bindings=()):
    cli.parse_gin([os.path.join(GIN, f) for f in files], bindings)


@pytest.mark.parametrize("path", MODELS)
def test_model_files(path, built):
    parse(path)
    kwargs = built()
    assert kwargs["name"] == os.path.basename(path)[:-len(".gin")]
    assert kwargs["input_shape"] == (224, 224, 3)
    assert kwargs["num_classes"] == 1000
    gin.clear_config()
    parse(path, "smoke.gin")
    kwargs = built()
    assert (kwargs["input_shape"], kwargs["times"]) == ((96, 96, 3), 12)


def test_smoke_builds_a_small_zoo_model():
    parse("models/rgc_shallow.gin", "smoke.gin")
    model = tnn_config.build_model()
    assert model.name == "rgc_shallow" and model.times == 12
    assert model.graph_input_shape == (96, 96, 3)


def test_feedback_overlay(built):
    parse("models/rgc_shallow.gin", "feedback/rgc_shallow_topdown.gin")
    assert built()["extra_edges"] == [("conv5", "conv3"), ("conv4", "conv3")]


def test_neural_model(built):
    parse("neural/rgc_shallow.gin")
    assert gin.query_parameter("fit_neural.model_fn").selector == \
        "build_model"
    kwargs = built()
    assert kwargs["name"] == "rgc_shallow"
    assert kwargs["presentation"] == "neural"
    assert kwargs["input_shape"] == (128, 128, 3)


def test_neural_smoke():
    parse("neural/smoke.gin")
    sweep = SweepSettings()
    assert (sweep.n_splits, sweep.ceiling_splits) == (2, 2)
    assert sweep.mapping == "pls"  # unbound: the default
    assert DynamicsSettings().epochs == 1


def test_digit_debris():
    parse("tasks/digit_debris.gin")
    task = tasks.make_task()
    assert (task.name, task.input_shape) == ("digit_debris_heavy", DEBRIS)
    assert ScheduleSettings().epochs == 4
    assert LossSettings() == LossSettings("steps", "uniform")
    optimizer = optimizers.sgd(total_steps=100)
    assert optimizer.nesterov and optimizer.clipnorm == 1.0


def test_task_smoke():
    parse("tasks/digit_debris.gin", "tasks/smoke.gin")
    assert ScheduleSettings() == ScheduleSettings(1, 2, 1)
    model = small_models.small_convrnn(input_shape=DEBRIS, num_classes=10)
    assert model.times == 5


@pytest.mark.parametrize("name,times", [("convrnn", 12), ("feedforward", 4)])
def test_demo_models(name, times):
    parse(f"tasks/demo_{name}.gin")
    model_fn = getattr(small_models, f"small_{name}")
    assert gin.query_parameter("train.model_fn").selector == \
        model_fn.__name__
    assert model_fn(input_shape=DEBRIS, num_classes=10).times == times
    assert tasks.make_task().name == "digit_debris_heavy"  # the include


def test_image_folder(tmp_path):
    for name in ("ants", "bees"):
        (tmp_path / name).mkdir()
        tf.io.write_file(str(tmp_path / name / "0.png"),
                         tf.io.encode_png(np.zeros((4, 4, 3), np.uint8)))
    parse("tasks/image_folder.gin",
          bindings=[f"image_folder_task.train_dir = '{tmp_path}'"])
    task = tasks.make_task()
    assert (task.input_shape, task.num_classes) == ((224, 224, 3), 2)
    assert ScheduleSettings().epochs == 30


def test_imagenet(monkeypatch):
    monkeypatch.setattr(tasks.imagenet, "prepare_imagenet",
                        lambda *args, **kwargs: None)
    parse("tasks/imagenet.gin")
    task = tasks.make_task()
    assert (task.input_shape, task.num_classes) == ((224, 224, 3), 1000)
    assert ScheduleSettings().epochs == 30
    assert optimizers.sgd(total_steps=100).clipvalue == pytest.approx(
        0.32374580586841245)


@pytest.mark.parametrize("name,objectives,occlusion", [
    ("next_frame", {"next_frame": {"offset": 1}}, 0.0),
    ("segmentation", {"segmentation": {}, "classes": {}}, 0.3),
    ("contrastive", {"contrastive": {"offset": 2, "temperature": 0.1}},
     0.0)])
def test_movie_tasks(name, objectives, occlusion):
    parse(f"tasks/{name}.gin")
    task = tasks.make_task()
    assert task.objectives == objectives
    assert (task.input_shape, task.frames) == (DEBRIS, 12)
    if occlusion:
        assert gin.query_parameter("moving_digits_task.occlusion") == \
            occlusion
    rate = float(np.asarray(optimizers.adam(total_steps=10).learning_rate))
    assert rate == pytest.approx(0.002)
    assert small_models.small_convrnn(input_shape=DEBRIS).times == 12


@pytest.mark.parametrize("name", ["smoke", "demo", "imagenet"])
def test_search_files(name, monkeypatch):
    from tnn.search import RandomSuggest, sample_spec
    from training import search  # noqa: F401  (search, demo_space, ...)
    monkeypatch.setattr(tasks.imagenet, "prepare_imagenet",
                        lambda *args, **kwargs: None)
    parse(f"search/{name}.gin")
    space = gin.query_parameter("search.space").scoped_configurable_fn()
    task = tasks.make_task()
    expected = {  # space, nodes, max_params, n_trials, epochs, input
        "smoke": ("demo", 2, 100_000, 3, 1, (16, 16, 1)),
        "demo": ("demo", 3, 150_000, 12, 2, DEBRIS),
        "imagenet": ("shallow", 5, 10_000_000, 1000, 5, (128, 128, 3))}
    assert (space.name, len(space.nodes), space.max_params,
            gin.query_parameter("search.n_trials"),
            ScheduleSettings().epochs, task.input_shape) == expected[name]
    sample = sample_spec(space, RandomSuggest(0), task.input_shape,
                         task.num_classes, count=False)
    assert sample.spec.output == "readout"


def test_replication_files():
    from tnn.search.matched import arm_sample
    from training import replicate, search  # noqa: F401  (configurables)
    parse("replication/small.gin")
    task = gin.query_parameter("replication.task_fn").scoped_configurable_fn(
        seed=3, eval_occlusion=0.4)
    assert (task.name, task.input_shape, task.meta["seed"],
            task.meta["eval_occlusion"], task.meta["occlusion"]) == (
        "occluded_digits_blobs", DEBRIS, 3, 0.4, (0.0, 0.8))
    assert gin.query_parameter("replication.seeds") == 5
    assert ScheduleSettings().epochs == 6
    reference = arm_sample("rgc", gin.query_parameter("replication.widths"),
                           count=True).num_params
    gin.clear_config()
    parse("replication/search.gin")
    space = gin.query_parameter("search.space").scoped_configurable_fn()
    assert (space.min_params, space.max_params) == (
        round(reference * 0.95), round(reference * 1.05))
    assert (tasks.make_task().meta["seed"], ScheduleSettings().epochs) == (
        100, 2)


CHECKED = set(MODELS) | {
    "search/smoke.gin", "search/demo.gin", "search/imagenet.gin",
    "tasks/next_frame.gin", "tasks/segmentation.gin",
    "tasks/contrastive.gin",
    "smoke.gin", "feedback/rgc_shallow_topdown.gin", "neural/rgc_shallow.gin",
    "neural/smoke.gin", "tasks/digit_debris.gin", "tasks/smoke.gin",
    "tasks/demo_convrnn.gin", "tasks/demo_feedforward.gin",
    "tasks/image_folder.gin", "tasks/imagenet.gin",
    "replication/small.gin", "replication/search.gin",
    "replication/task.gin"}


def test_every_gin_file_has_a_check():
    missing = sorted(set(FILES) - CHECKED)
    assert not missing, (f"gin files without a check in "
                         f"tests/test_gin_configs.py: {missing}; add one.")
