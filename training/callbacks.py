"""Keras callbacks of `training.train`: NaN guard and TensorBoard extras.

- `StopOnNaN`: stops at the first non-finite loss and names the step
  (raising `NaNLossError` before any end-of-epoch checkpoint or backup
  could store the broken weights).
- `TimeCurves`: accuracy-vs-time-step curves in TensorBoard. After each
  epoch the per-step accuracies in the logs (`[val_]steps_top{k}_tNN`) are
  written as a series whose x axis is the time step, one series per epoch
  (`accuracy_vs_time_step/top1/epoch_003`) and one always holding the
  latest epoch (`accuracy_vs_time_step/top1/latest`).
- `CompactProgbar`: Keras' progress bar showing only the loss and each
  decoder's top-1 (the per-step accuracies go to TensorBoard and
  history.csv; 2·T of them would not fit on a line).
- `SampleMovies`: a few input movies as images — each row is one example
  as the model sees it over time (the image for `image_off` steps, then
  the blank), de-normalised for display.
"""

import math
import os
import re

import keras
import numpy as np
import tensorflow as tf

_STEP_KEY = re.compile(r"^(val_)?steps_top(\d+)_t(\d+)$")


class NaNLossError(ValueError):
    """The training loss became NaN or infinite."""


class StopOnNaN(keras.callbacks.Callback):
    """Raises `NaNLossError` at the first non-finite training loss.

    The message names the epoch, the batch within it and the global step
    (the optimizer's update count), and suggests the usual fixes.
    """

    def __init__(self):
        super().__init__()
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(np.asarray(loss).reshape(-1)[0])
        if math.isfinite(loss):
            return
        self.model.stop_training = True
        step = int(self.model.optimizer.iterations.numpy())
        raise NaNLossError(
            f"Training loss became {loss} at epoch {self.epoch + 1}, batch "
            f"{batch + 1} (global step {step}); training stopped, no "
            f"checkpoint was written for this epoch. Lower the learning "
            f"rate (sgd.learning_rate), clip gradients (sgd.clipnorm = 1.0 "
            f"or sgd.clipvalue) or check the inputs for NaNs.")


class CompactProgbar(keras.callbacks.ProgbarLogger):
    """A progress bar with the loss and the decoders' top-1 only.

    Use with `fit(verbose=0)` (which drops Keras' own bar).

    Args:
        verbose: "auto" or 1 (bar), 2 (one line per epoch), 0 (silent).
    """

    def __init__(self, verbose="auto"):
        super().__init__()
        self.display_verbose = verbose

    def set_params(self, params):
        super().set_params({**params, "verbose": self.display_verbose})

    @staticmethod
    def compact(logs):
        return {k: v for k, v in (logs or {}).items()
                if not _STEP_KEY.match(k) and not re.search(r"_top[2-9]", k)}

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, self.compact(logs))

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(batch, self.compact(logs))

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, self.compact(logs))

    def on_test_end(self, logs=None):
        super().on_test_end(self.compact(logs))


def step_accuracies(logs, prefix=""):
    """`{k: [acc at t=0, 1, ...]}` from `{prefix}steps_top{k}_tNN` logs."""
    curves = {}
    for key, value in (logs or {}).items():
        match = _STEP_KEY.match(key)
        if match is None or (match.group(1) or "") != prefix:
            continue
        k, step = int(match.group(2)), int(match.group(3))
        value = float(np.asarray(value).reshape(-1)[0])
        curves.setdefault(k, {})[step] = value
    return {k: [steps[t] for t in sorted(steps)]
            for k, steps in sorted(curves.items())}


class TimeCurves(keras.callbacks.Callback):
    """Writes accuracy-vs-time-step series to `log_dir/time_curves`.

    Args:
        log_dir: the TensorBoard folder of the run.
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = os.path.join(os.fspath(log_dir), "time_curves")
        self._writer = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(self.log_dir)

    def on_epoch_end(self, epoch, logs=None):
        prefix = "val_" if any(k.startswith("val_steps_")
                               for k in logs or {}) else ""
        curves = step_accuracies(logs, prefix)
        if not curves or self._writer is None:
            return
        split = "validation" if prefix else "train"
        with self._writer.as_default():
            for k, values in curves.items():
                for tag in (f"epoch_{epoch + 1:03d}", "latest"):
                    name = f"accuracy_vs_time_step/{split}_top{k}/{tag}"
                    for t, value in enumerate(values):
                        tf.summary.scalar(name, value, step=t)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()


def movie_strip(images, times, image_off, blank_value, mean, std):
    """Film strips `[N, H, T·(W+1)−1, C]` in [0, 1] of the presentation.

    Args:
        images: normalised images `[N, H, W, C]` (numpy).
        times, image_off, blank_value: the model's presentation.
        mean, std: the normalisation to undo for display.
    """
    images = np.asarray(images, np.float32)
    mean = np.asarray(mean, np.float32)
    std = np.asarray(std, np.float32)
    frames = []
    for t in range(times):
        shown = image_off is None or t < image_off
        frame = images if shown else np.full_like(images, blank_value)
        frames.append(np.clip(frame * std + mean, 0.0, 1.0))
    n, h, _, c = images.shape
    gap = np.ones((n, h, 1, c), np.float32)
    pieces = []
    for t, frame in enumerate(frames):
        if t:
            pieces.append(gap)
        pieces.append(frame)
    return np.concatenate(pieces, axis=2)


class SampleMovies(keras.callbacks.Callback):
    """Writes the input movies of a few examples to TensorBoard once.

    Args:
        log_dir: the TensorBoard folder of the run.
        images: normalised example images `[N, H, W, C]`.
        labels: their labels `[N]` (shown in the image names).
        times, image_off, blank_value: the model's presentation.
        mean, std: the task's normalisation (undone for display).
    """

    def __init__(self, log_dir, images, labels, times, image_off,
                 blank_value, mean, std):
        super().__init__()
        self.log_dir = os.path.join(os.fspath(log_dir), "samples")
        self.strips = movie_strip(images, times, image_off, blank_value,
                                  mean, std)
        self.labels = [int(y) for y in np.asarray(labels).reshape(-1)]

    def on_train_begin(self, logs=None):
        writer = tf.summary.create_file_writer(self.log_dir)
        with writer.as_default():
            for i, (strip, label) in enumerate(zip(self.strips,
                                                   self.labels)):
                tf.summary.image(
                    f"input_movie/example_{i}_label_{label}", strip[None],
                    step=0,
                    description="One row = the frames t = 0 … T−1 the "
                                "model sees (image, then the blank).")
        writer.close()
