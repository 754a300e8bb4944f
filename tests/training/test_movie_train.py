"""`training.train` on a movie task: all four objectives, summaries, export."""

import glob
import os

import gin
import numpy as np
import pytest
import tensorflow as tf

from tnn.tasks import movie_losses
from training import cli, movie_outputs, movie_tasks, trainer
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


def _tags(folder):
    tags = set()
    for path in glob.glob(os.path.join(folder, "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags |= {v.tag for v in event.summary.value}
    return tags


def test_tensorboard_shows_frames_masks_and_per_step_curves(run):
    assert {"next_frame/clip_0", "segmentation/clip_1"} <= _tags(
        os.path.join(run["log_dir"], "movies"))
    assert {"next_frame_psnr/latest", "segmentation_mean_iou/epoch_001",
            "classes_present_top_accuracy/latest",
            "contrastive_accuracy/latest"} <= _tags(
        os.path.join(run["log_dir"], "time_curves"))


def test_step_curves_average_to_the_keras_metrics():
    rng = np.random.default_rng(1)
    frames = rng.random((6, 5, 16, 16, 1)).astype(np.float32)
    pred = np.clip(frames + 0.1 * rng.normal(size=frames.shape), 0, 1)
    seg_true = rng.integers(0, 4, size=(6, 5, 16, 16))
    seg_pred = rng.normal(size=(6, 5, 16, 16, 4)).astype(np.float32)
    curves = movie_outputs.step_curves(
        {"nf": pred, "seg": seg_pred}, {"nf": frames, "seg": seg_true},
        {"nf": {"kind": "next_frame", "offset": 2},
         "seg": {"kind": "segmentation"}})
    psnr = movie_losses.FramePSNR(offset=2)
    psnr.update_state(frames, pred)
    assert len(curves["nf_psnr"]) == 3
    assert np.mean(curves["nf_psnr"]) == pytest.approx(
        float(psnr.result()), rel=1e-5)
    for t in (0, 4):
        iou = movie_losses.MeanIoU(4)
        iou.update_state(seg_true[:, t:t + 1], seg_pred[:, t:t + 1])
        assert curves["seg_mean_iou"][t] == pytest.approx(
            float(iou.result()), rel=1e-5)


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


def test_movie_demo_intervals_and_paired_differences(monkeypatch):
    from scipy import stats

    from training import movie_demo

    values = [0.5, 0.7, 0.6]
    mean, half = movie_demo.interval(values)
    low, high = stats.t.interval(0.95, 2, loc=np.mean(values),
                                 scale=stats.sem(values))
    assert mean == pytest.approx(0.6) and half == pytest.approx(high - mean)
    assert movie_demo.interval([0.3]) == (0.3, None)
    per_seed = {s: {"segmentation/convrnn": {"mean_iou": 0.1 + s,
                                             "foreground_iou": 0.5},
                    "segmentation/feedforward": {"mean_iou": 0.05,
                                                 "foreground_iou": 0.4}}
                for s in range(3)}
    monkeypatch.setattr(movie_demo, "PAIRS", [
        ("segmentation/convrnn", "segmentation/feedforward", "mean_iou")])
    summary, pairs = movie_demo.summarize(per_seed)
    assert summary["segmentation/convrnn"]["mean_iou"][0] == \
        pytest.approx(1.1)
    assert pairs[0]["per_seed"] == pytest.approx([0.05, 1.05, 2.05])
