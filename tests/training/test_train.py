"""`training.train`: end-to-end runs, resumption, NaN stop, bad input."""

import functools
import glob
import json
import os
import subprocess
import sys
import textwrap

import gin
import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from training import cli, evaluation, export, tasks, trainer
from tnn.zoo import small_models
from training.callbacks import NaNLossError
from tnn.tasks.classifier import TemporalClassifier
from training.data import imagenet
from training.settings import DeviceSettings, ScheduleSettings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SMOKE = ["--gin_files=gin_configs/tasks/digit_debris.gin",
         "--gin_files=gin_configs/tasks/smoke.gin"]


@pytest.fixture
def clean_gin():
    gin.clear_config()
    yield
    gin.clear_config()


def random_task(num_examples=16, size=16, channels=1, num_classes=4,
                batch_size=4, nan_batch=None, seed=0):
    """A `Task` of random normalised images (optionally one NaN batch)."""
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(num_examples, size, size, channels)).astype(
        np.float32)
    labels = rng.integers(0, num_classes, num_examples).astype(np.int32)
    if nan_batch is not None:
        images[nan_batch * batch_size:(nan_batch + 1) * batch_size] = np.nan
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(
        batch_size, drop_remainder=True)
    return tasks.dataset_task(data, data, num_classes, name="random")


def tiny_model_fn(**kwargs):
    return functools.partial(small_models.small_convrnn, widths=(4, 4, 4),
                             times=5, **kwargs)


def run_module(module, *args, timeout=240, extra_code=None, env=None):
    """Runs `python -m module args` (or code importing it) in the repo."""
    if extra_code is None:
        command = [sys.executable, "-m", module, *args]
    else:
        command = [sys.executable, "-c", extra_code, *args]
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def event_tags(folder):
    tags = {}
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(
                    (event.step, tf.make_ndarray(value.tensor)))
    return tags


@pytest.mark.large
def test_cli_train_then_evaluate_on_digit_debris(tmp_path):
    base = str(tmp_path / "run")
    result = run_module("training.train", *SMOKE, f"--base_dir={base}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SavedModel:" in result.stdout
    with open(os.path.join(base, "operative_config.gin")) as f:
        operative = f.read()
    assert "digit_debris_task.level = 'heavy'" in operative
    assert "small_convrnn.widths = (4, 8, 8)" in operative
    for path in ("checkpoints/last.keras", "checkpoints/best.keras",
                 "export/saved_model.pb", "logs/history.csv",
                 "export/assets.extra/tnn_metadata.json"):
        assert os.path.isfile(os.path.join(base, path)), path
    assert not os.path.exists(os.path.join(base, "backup"))
    train_tags = event_tags(os.path.join(base, "logs", "train"))
    assert "epoch_steps_top1_t04" in train_tags
    assert "epoch_last_top1" in train_tags
    curves = event_tags(os.path.join(base, "logs", "time_curves"))
    latest = curves["accuracy_vs_time_step/validation_top1/latest"]
    assert [step for step, _ in latest] == [0, 1, 2, 3, 4]
    movies = event_tags(os.path.join(base, "logs", "samples"))
    assert len(movies) == 2  # smoke.gin: two sample movies
    # A film strip of 5 frames of 32 px with 1 px gaps, stored as PNG.
    _, encoded = next(iter(movies.values()))[0]
    width, height = int(encoded[0]), int(encoded[1])
    assert (height, width) == (32, 5 * 33 - 1)

    result = run_module("training.evaluate", f"--base_dir={base}",
                        "--max_batches=2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "t=4" in result.stdout
    with open(os.path.join(base, "eval_report.json")) as f:
        report = json.load(f)
    assert report["num_examples"] == 16  # 2 batches of 8 (smoke.gin)
    assert set(report["decoders"]) == set(trainer.DEFAULT_DECODERS)
    assert len(report["steps"]["top1"]) == len(report["steps"]["top5"]) == 5
    assert report["first_image_step"] == 3


@pytest.mark.large
def test_train_and_evaluate_on_mocked_imagenet(tmp_path, clean_gin):
    manual = tmp_path / "manual"
    manual.mkdir()
    for archive in imagenet.ARCHIVES.values():
        (manual / archive).write_bytes(b"")
    with tfds.testing.mock_data(num_examples=8):
        task = tasks.imagenet_task(manual_dir=manual,
                                   data_dir=tmp_path / "tfds",
                                   image_size=32, batch_size=4)
        result = trainer.train(
            tmp_path / "run", task=task,
            model_fn=tiny_model_fn(), decoders=("last", "max_conf"),
            schedule=ScheduleSettings(epochs=1, steps_per_epoch=2,
                                      validation_steps=1),
            num_sample_movies=1, verbose=0)
        report = evaluation.evaluate_saved_model(
            result["export_dir"], task.eval_dataset(), max_batches=1)
    assert task.input_shape == (32, 32, 3) and task.num_classes == 1000
    assert os.path.isfile(os.path.join(result["export_dir"],
                                       "saved_model.pb"))
    assert os.path.isfile(os.path.join(result["checkpoint_dir"],
                                       "last.keras"))
    assert report["num_examples"] == 4
    assert set(report["decoders"]) == {"last", "max_conf"}
    assert set(report["decoders"]["last"]) == {"top1", "top5"}


def test_train_on_an_image_folder(tmp_path, clean_gin):
    rng = np.random.default_rng(5)
    for name in ("ants", "bees"):
        folder = tmp_path / "images" / name
        folder.mkdir(parents=True)
        for i in range(4):
            pixels = rng.integers(0, 256, (20, 24, 3)).astype(np.uint8)
            tf.io.write_file(str(folder / f"{i}.png"),
                             tf.io.encode_png(pixels))
    task = tasks.image_folder_task(train_dir=str(tmp_path / "images"),
                                   image_size=16, channels=3, batch_size=4)
    assert (task.input_shape, task.num_classes) == ((16, 16, 3), 2)
    result = trainer.train(tmp_path / "run", task=task,
                           model_fn=tiny_model_fn(),
                           schedule=ScheduleSettings(epochs=1),
                         num_sample_movies=1, verbose=0)
    info = export.read_metadata(result["export_dir"])
    assert info["class_names"] == ["ants", "bees"]
    assert info["mean"] == pytest.approx(list(tasks.normalization(3)[0]))


def test_nan_loss_stops_and_names_the_step(tmp_path, clean_gin):
    task = random_task(num_examples=24, nan_batch=2)
    with pytest.raises(NaNLossError, match=r"epoch 1, batch 3 \(global "
                                           r"step 3\)"):
        trainer.train(tmp_path, task=task, model_fn=tiny_model_fn(),
                      schedule=ScheduleSettings(epochs=2),
                      num_sample_movies=0, verbose=0)
    assert not os.path.exists(tmp_path / "checkpoints" / "last.keras")
    assert not os.path.exists(tmp_path / "export")


KILLER = textwrap.dedent("""
    import os, signal, gin, keras

    @gin.configurable
    class KillAt(keras.callbacks.Callback):
        def __init__(self, epoch, batch):
            super().__init__()
            self.at = (epoch, batch)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if (self.epoch, batch) == self.at:
                os.kill(os.getpid(), signal.SIGKILL)
    """)


@pytest.mark.large
def test_killed_run_resumes_where_it_stopped(tmp_path):
    (tmp_path / "killer.py").write_text(KILLER)
    code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
            f"import killer; from training import train; train.run()")
    base = str(tmp_path / "run")
    args = [*SMOKE, f"--base_dir={base}",
            "--gin_bindings=ScheduleSettings.epochs = 3",
            "--gin_bindings=train.num_sample_movies = 0"]
    killed = run_module(None, *args, "--gin_bindings=KillAt.epoch = 1",
                        "--gin_bindings=KillAt.batch = 0",
                        "--gin_bindings=train.callbacks = [@KillAt()]",
                        extra_code=code)
    assert killed.returncode == -9, killed.stderr[-3000:]
    with open(os.path.join(base, "backup", "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 1
    resumed = run_module("training.train", *args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(os.path.join(base, "logs", "history.csv")) as f:
        epochs = [int(line.split(",")[0]) for line in f.readlines()[1:]]
    assert epochs == [0, 1, 2]  # epoch 0 from the killed run, not redone
    model = keras.saving.load_model(
        os.path.join(base, "checkpoints", "last.keras"))
    assert isinstance(model, TemporalClassifier)
    assert int(model.optimizer.iterations.numpy()) == 6  # 3 epochs × 2
    assert not os.path.exists(os.path.join(base, "backup"))


@pytest.mark.large
def test_mixed_float16_training_uses_loss_scaling(tmp_path, clean_gin):
    result = trainer.train(tmp_path, task=random_task(),
                           model_fn=tiny_model_fn(),
                           schedule=ScheduleSettings(epochs=1),
                         num_sample_movies=0, verbose=0,
                           device=DeviceSettings(
                               mixed_precision="mixed_float16"))
    model = result["model"]
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.backbone.compute_dtype == "float16"
    assert model.backbone.variable_dtype == "float32"
    assert np.isfinite(result["history"]["loss"][0])
    assert keras.config.dtype_policy().name == "float32"  # restored
    assert os.path.isfile(os.path.join(result["export_dir"],
                                       "saved_model.pb"))


def test_unknown_gin_binding_fails_loudly(clean_gin):
    with pytest.raises(ValueError, match="train.no_such_parameter"):
        cli.parse_gin(bindings=["train.no_such_parameter = 1"])
    with pytest.raises(ValueError, match="does not exist"):
        cli.parse_gin(["gin_configs/tasks/no_such_file.gin"])


def test_cli_reports_bad_configuration_in_one_line(tmp_path):
    result = run_module("training.train", f"--base_dir={tmp_path}",
                        "--gin_bindings=train.epochz = 3", timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("training.train: error: Bad gin configuration")
    assert "epochz" in last


def test_bound_model_shape_must_match_the_task(clean_gin, tmp_path):
    cli.parse_gin(bindings=['build_model.name = "rgc_shallow"',
                              "build_model.input_shape = (96, 96, 3)"])
    with pytest.raises(ValueError, match=r"build_model.input_shape = "
                                         r"\(96, 96, 3\) is bound, but task"):
        trainer.train(tmp_path, task=random_task(size=32), verbose=0)


def test_bad_arguments(tmp_path, clean_gin):
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        trainer.train(tmp_path, task=random_task(),
                      device=DeviceSettings(mixed_precision="fp8"))
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        trainer.train(tmp_path, task=random_task(),
                      schedule=ScheduleSettings(epochs=0))
    with pytest.raises(ValueError, match="strategy must be one of"):
        trainer.train(tmp_path, task=random_task(),
                      device=DeviceSettings(strategy="horovod"))
    with pytest.raises(ValueError, match="must return a tnn.TNNGraph"):
        trainer.train(tmp_path, task=random_task(),
                      model_fn=lambda **kw: keras.Sequential())


def test_unknown_decoder_name(tmp_path, clean_gin):
    with pytest.raises(ValueError, match="Unknown decoder 'bogus'"):
        trainer.train(tmp_path, task=random_task(),
                      model_fn=tiny_model_fn(), decoders=("last", "bogus"),
                      verbose=0)


def test_missing_manual_dir_says_where_the_archives_go(tmp_path):
    with pytest.raises(ValueError, match="ILSVRC2012_img_train.tar"):
        tasks.imagenet_task(data_dir=tmp_path / "tfds")
    with pytest.raises(ValueError, match="does not exist"):
        tasks.imagenet_task(manual_dir=tmp_path / "nowhere",
                            data_dir=tmp_path / "tfds")


def test_empty_and_single_class_image_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no class subfolders"):
        tasks.image_folder_task(train_dir=str(tmp_path / "empty"))
    single = tmp_path / "single" / "cats"
    single.mkdir(parents=True)
    tf.io.write_file(str(single / "a.png"),
                     tf.io.encode_png(np.zeros((4, 4, 3), np.uint8)))
    with pytest.raises(ValueError, match="single class"):
        tasks.image_folder_task(train_dir=str(tmp_path / "single"))
    (tmp_path / "single" / "dogs").mkdir()
    with pytest.raises(ValueError, match=r"\['dogs'\] hold no images"):
        tasks.image_folder_task(train_dir=str(tmp_path / "single"))


def test_images_of_wrong_dtype_or_rank(tmp_path):
    images = np.zeros((8, 16, 16, 1), np.uint8)
    labels = np.zeros(8, np.int32)
    batched = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    with pytest.raises(ValueError, match="yields uint8 images"):
        tasks.check_dataset(batched, (16, 16, 1), "train")
    unbatched = tf.data.Dataset.from_tensor_slices(
        (images.astype(np.float32), labels))
    with pytest.raises(ValueError, match=r"not batches \[B, H, W, C\]"):
        tasks.check_dataset(unbatched, (16, 16, 1), "train")
    floats = batched.map(lambda x, y: (tf.cast(x, tf.float32), y))
    with pytest.raises(ValueError, match=r"yields images \(16, 16, 1\) but "
                                         r"the model takes \(32, 32, 1\)"):
        tasks.check_dataset(floats, (32, 32, 1), "eval")
    with pytest.raises(ValueError, match="labels must be int class ids"):
        tasks.check_dataset(floats.map(lambda x, y: (x, tf.cast(
            y, tf.float32))), (16, 16, 1), "train")
    with pytest.raises(ValueError, match="yields uint8 images"):
        trainer.train(tmp_path, task=tasks.dataset_task(batched, batched,
                                                        2))
