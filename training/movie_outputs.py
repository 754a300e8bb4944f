"""What a movie run writes: TensorBoard frames and masks, the SavedModel.

`MovieSummaries` writes, after every epoch, for a few held-out clips:
  - next_frame: one image per clip with three rows over time — the input
    frames, the predicted frame t + k at step t, the true frame t + k;
  - segmentation: input frames, predicted and true class maps (each class
    its own colour, background black);
each as `tf.summary.image` under `logs/movies/` (step = epoch). TensorBoard
has no video plugin in TF 2, so a clip is shown as a filmstrip. It also
writes per-step curves of the held-out metrics (`step_curves`) under
`logs/time_curves/<output>_<metric>/{latest, epoch_NNN}` with the step as
the x axis: PSNR of the frame predicted at step t, mean IoU at step t,
present-class accuracy at step t, contrastive retrieval at step t.

`export_movie_model` writes a SavedModel whose `serve` signature takes
uint8 movies `[B, T, H, W, C]` (T as trained) and returns the model's
per-step outputs (next-frame pixels in [0, 1], class logits, embeddings),
with the task's normalisation inside; `serve_normalized` takes normalised
float32 movies. Metadata as `training.export` (`read_metadata`).
"""

import json
import os

import keras
import numpy as np
import tensorflow as tf

from tnn.tasks import movie_losses
from .export import METADATA_FILE

# 11 colours: background black, then one per digit class.
PALETTE = np.array([[0, 0, 0], [230, 25, 75], [60, 180, 75],
                    [255, 225, 25], [0, 130, 200], [245, 130, 48],
                    [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [210, 245, 60], [250, 190, 212]], np.uint8)


def _gray_rgb(frames):
    """[T, H, W, 1] in [0, 1] -> uint8 RGB."""
    rgb = np.repeat(np.clip(frames, 0, 1), 3, axis=-1)
    return np.round(rgb * 255).astype(np.uint8)


def _classes_rgb(classes):
    return PALETTE[np.clip(classes, 0, len(PALETTE) - 1)]


def _iou(true, pred, classes):
    ious = []
    for c in range(1, classes):
        t, p = true == c, pred == c
        union = np.logical_or(t, p).sum()
        if union:
            ious.append(np.logical_and(t, p).sum() / union)
    return float(np.mean(ious)) if ious else float("nan")


def step_curves(outputs, targets, objectives):
    """Per-step held-out metrics: {"<output>_<metric>": [values]}."""
    curves = {}
    for name, settings in objectives.items():
        kind = settings.get("kind", name)
        pred = np.asarray(outputs[name], np.float32)
        steps = pred.shape[1]
        if kind == "next_frame":
            k = int(settings.get("offset", 1))
            true = np.asarray(targets[name], np.float32)
            curves[f"{name}_psnr"] = [
                float(np.mean(np.asarray(movie_losses.psnr(
                    true[:, t + k], np.clip(pred[:, t], 0, 1)))))
                for t in range(steps - k)]
        elif kind == "segmentation":
            true = np.asarray(targets[name])
            curves[f"{name}_mean_iou"] = [
                _iou(true[:, t], pred[:, t].argmax(-1), pred.shape[-1])
                for t in range(steps)]
        elif kind == "classes":
            present = np.asarray(targets[name]) > 0
            d = present.sum(-1)
            ranks = (-pred).argsort(-1).argsort(-1)
            curves[f"{name}_present_top_accuracy"] = [
                float(np.mean((present & (ranks[:, t] < d[:, None])).sum(-1)
                              / np.maximum(d, 1))) for t in range(steps)]
        elif kind == "contrastive":
            k = int(settings.get("offset", 1))
            curves[f"{name}_accuracy"] = [
                float(np.mean((pred[:, t] @ pred[:, t + k].T).argmax(-1)
                              == np.arange(len(pred))))
                for t in range(steps - k)]
    return curves


def filmstrip(rows):
    """Rows of [T, H, W, 3] uint8 frames -> one [R*H, T*W, 3] image."""
    return np.concatenate([np.concatenate(list(r), axis=1) for r in rows],
                          axis=0)


class MovieSummaries(keras.callbacks.Callback):
    """Predicted vs true frames and masks, and per-step curves, per epoch.

    Args:
        log_dir: the run's TensorBoard folder.
        movies: normalised held-out clips `[N, T, H, W, C]` (filmstrips of
            the first `num_images`, curves over all).
        targets: their targets dict (the task's).
        mean, std: the normalisation (undone for display).
        objectives: the model's objectives (for the next-frame offset).
    """

    def __init__(self, log_dir, movies, targets, mean, std, objectives,
                 num_images=4):
        super().__init__()
        self.num_images = num_images
        self.log_dir = os.path.join(os.fspath(log_dir), "movies")
        self.curve_dir = os.path.join(os.fspath(log_dir), "time_curves")
        self.movies = np.asarray(movies)
        self.targets = {k: np.asarray(v) for k, v in targets.items()}
        self.frames01 = self.movies * np.asarray(std) + np.asarray(mean)
        self.objectives = objectives

    def images(self, outputs):
        result = {}
        for name, settings in self.objectives.items():
            kind = settings.get("kind", name)
            pred = np.asarray(outputs[name])
            for i in range(min(len(self.movies), self.num_images)):
                inputs = _gray_rgb(self.frames01[i])
                if kind == "next_frame":
                    k = int(settings.get("offset", 1))
                    blank = np.zeros_like(inputs[:k])
                    result[f"{name}/clip_{i}"] = filmstrip([
                        inputs,
                        np.concatenate([blank, _gray_rgb(pred[i][:-k])]),
                        np.concatenate([blank, inputs[k:]])])
                elif kind == "segmentation":
                    result[f"{name}/clip_{i}"] = filmstrip([
                        inputs, _classes_rgb(pred[i].argmax(-1)),
                        _classes_rgb(self.targets[name][i])])
        return result

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model(self.movies, training=False)
        curves = step_curves(outputs, self.targets, self.objectives)
        writer = tf.summary.create_file_writer(self.curve_dir)
        with writer.as_default():
            for key, values in curves.items():
                for tag in (f"epoch_{epoch + 1:03d}", "latest"):
                    for t, value in enumerate(values):
                        tf.summary.scalar(f"{key}/{tag}", value, step=t)
        writer.close()
        images = self.images(outputs)
        if not images:
            return
        writer = tf.summary.create_file_writer(self.log_dir)
        with writer.as_default():
            for tag, image in images.items():
                tf.summary.image(
                    tag, image[None], step=epoch,
                    description="Rows: input frames; prediction at each "
                                "step (shifted to the frame it predicts); "
                                "truth.")
        writer.close()


def export_movie_model(model, export_dir, frames, mean, std, metadata=None):
    """Writes the movie SavedModel (module docs) and its metadata."""
    export_dir = os.fspath(export_dir)
    height, width, channels = model.backbone.graph_input_shape
    mean = tf.constant(mean, tf.float32)
    std = tf.constant(std, tf.float32)

    def serve(movies):
        movies = (tf.cast(movies, tf.float32) / 255.0 - mean) / std
        return model(movies, training=False)

    def serve_normalized(movies):
        return model(movies, training=False)

    shape = (None, frames, height, width, channels)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[
        tf.TensorSpec(shape, tf.uint8, name="movies")])
    archive.add_endpoint("serve_normalized", serve_normalized,
                         input_signature=[tf.TensorSpec(
                             shape, tf.float32, name="movies")])
    archive.write_out(export_dir, verbose=False)
    info = {"objectives": model.objectives, "frames": frames,
            "input_shape": [height, width, channels],
            "mean": [float(m) for m in np.ravel(mean)],
            "std": [float(s) for s in np.ravel(std)],
            "signatures": {
                "serve": "uint8 movies [B, T, H, W, C] -> per-step outputs "
                         "{objective: [B, T, ...]}",
                "serve_normalized": "normalised float32 movies -> same"},
            **(metadata or {})}
    path = os.path.join(export_dir, METADATA_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(info, f, indent=2)
    return export_dir
