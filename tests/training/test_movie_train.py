"""`training.train` on a movie task: all four objectives, summaries, export."""

import glob
import os

import gin
import numpy as np
import pytest
import tensorflow as tf

from training import cli, movie_tasks, trainer
from training.settings import RENAMED_BINDINGS


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("movie_run")
    gin.clear_config()
    cli.parse_gin(["gin_configs/tasks/segmentation.gin",
                   "gin_configs/tasks/smoke.gin"],
                  ['moving_digits_task.objectives = {"next_frame": {}, '
                   '"segmentation": {}, "classes": {}, '
                   '"contrastive": {"offset": 2}}',
                   "ScheduleSettings.steps_per_epoch = 1"],
                  RENAMED_BINDINGS)
    try:
        result = trainer.train(str(base), verbose=0)
    finally:
        gin.clear_config()
    return result


def test_every_objective_is_trained_and_logged(run):
    history = run["history"]
    for key in ("next_frame_loss", "segmentation_loss", "classes_loss",
                "contrastive_loss", "val_next_frame_psnr",
                "val_next_frame_ssim", "val_segmentation_mean_iou",
                "val_contrastive_accuracy"):
        assert key in history and np.isfinite(history[key][-1]), key
    assert run["model"].frozen_nodes == ["readout"]


def test_tensorboard_shows_predicted_frames_and_masks(run):
    files = glob.glob(os.path.join(run["log_dir"], "movies", "events.*"))
    tags = set()
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {v.tag for v in event.summary.value}
    assert {"next_frame/clip_0", "segmentation/clip_1"} <= tags


def test_export_serves_uint8_movies_like_the_model(run):
    loaded = tf.saved_model.load(run["export_dir"])
    movies = np.random.default_rng(0).integers(
        0, 256, size=(2, 5, 32, 32, 1)).astype(np.uint8)
    served = loaded.serve(tf.constant(movies))
    task = movie_tasks.moving_digits_task()
    normalised = (movies / 255.0 - task.mean[0]) / task.std[0]
    direct = run["model"](normalised.astype(np.float32))
    for key in ("next_frame", "segmentation", "classes", "contrastive"):
        np.testing.assert_allclose(served[key].numpy(),
                                   np.asarray(direct[key]), atol=1e-5)


def test_bad_movie_settings_are_named():
    with pytest.raises(ValueError, match="unknown or no objectives"):
        movie_tasks.moving_digits_task(objectives=("optical_flow",))
