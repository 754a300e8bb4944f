"""Movie stimuli as model inputs: frames on the model's 10 ms steps.

A movie stimulus is uint8 `[F, H, W, 3]` (a data set holds `[N, F, H, W,
3]`, `tnn.neural.data`) whose frames each last `frame_ms`. The model runs
at `STEP_MS` = 10 ms per step, so each frame is shown for

    k = frame_ms / 10   steps          (40 ms frames, i.e. 25 Hz -> 4)

and k must be a whole number (a ValueError names the nearest frame
durations that work). Step s shows frame s // k while s < F * k; after the
last frame the model sees its blank (`TNNGraph.blank_value`, the frame the
neural presentation shows after `image_off`), up to the model's `times`
steps: a movie shorter than the steps the bins need is padded with the
blank. Frames after step `times` are not shown (a warning says how many).
Time 0 of the bins is the onset of frame 0, as for still images.

Each frame is preprocessed like a still stimulus
(`tnn.neural.stimuli.preprocess_stimuli`: [0, 1], resize, grey for a
1-channel model, mean / std), then the movie `[B, times, h, w, c]` is
given to `TNNGraph.unroll` (frame t at step t; the model's `image_off` is
not used).
"""

import math
import warnings

import numpy as np

from tnn.neural.stimuli import preprocess_stimuli

STEP_MS = 10


def steps_per_frame(frame_ms, step_ms=STEP_MS):
    """Steps each movie frame is shown for (module docs)."""
    try:
        value = float(frame_ms)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"frame_ms must be a positive duration in ms, got "
                         f"{frame_ms!r}.")
    per = value / step_ms
    k = round(per)
    if k >= 1 and abs(per - k) <= 1e-6 * per:
        return int(k)
    options = sorted({max(1, math.floor(per)), max(1, math.ceil(per))})
    near = " or ".join(f"{n * step_ms:g} ms" for n in options)
    raise ValueError(
        f"frame_ms={value:g} is not a whole number of the model's "
        f"{step_ms:g} ms steps (each frame must last k steps); resample "
        f"the movie stimuli to frames of {near}.")


def frame_of_step(n_frames, frame_ms, times):
    """Frame shown at each of `times` steps; -1 for the blank."""
    k = steps_per_frame(frame_ms)
    steps = np.arange(int(times))
    return np.where(steps < n_frames * k, steps // k, -1)


def check_still_images(stimuli, what):
    """A ValueError when `stimuli` are movies and `what` needs images."""
    if np.ndim(stimuli) == 5:
        raise ValueError(
            f"{what} takes still-image stimuli [N, H, W, 3]; these are "
            f"movies {np.shape(stimuli)}. Use the layer sweep alone.")


def present_movies(movies, frame_ms, input_shape, times, blank_value):
    """uint8 movies `[B, F, H, W, 3]` -> float32 model inputs `[B, times,
    h, w, c]` (module docs)."""
    movies = np.asarray(movies)
    if movies.dtype != np.uint8 or movies.ndim != 5 or \
            movies.shape[-1] != 3:
        raise ValueError(f"movie stimuli must be uint8 [N, F, H, W, 3], got "
                         f"{movies.dtype} {movies.shape}.")
    batch, n_frames = movies.shape[:2]
    index = frame_of_step(n_frames, frame_ms, times)
    frames = preprocess_stimuli(movies.reshape((-1,) + movies.shape[2:]),
                                input_shape)
    frames = frames.reshape((batch, n_frames) + frames.shape[1:])
    out = np.full((batch, int(times)) + frames.shape[2:], blank_value,
                  np.float32)
    shown = index >= 0
    out[:, shown] = frames[:, index[shown]]
    return out


def warn_cut(n_frames, frame_ms, times):
    """Warns when frames fall after the model's last step."""
    k = steps_per_frame(frame_ms)
    unseen = n_frames - math.ceil(times / k)
    if unseen > 0:
        warnings.warn(
            f"movie stimuli of {n_frames} frames x {frame_ms:g} ms last "
            f"{n_frames * k} steps but the model runs {times}: the last "
            f"{unseen} frames are not shown (build the model with times >= "
            f"{n_frames * k} to show them).", stacklevel=3)
