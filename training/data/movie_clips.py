"""Clips of model steps from videos: the frame-rate rule, sampling, tf.data.

The frame-rate rule. The models run at `step_ms` = 10 ms per step (one
frame of a movie input per step, `TNNGraph.unroll`). A video at F Hz shows
each frame for 1000 / F ms, so each frame is repeated

    k = (1000 / F) / step_ms   model steps        (25 Hz -> 4, 100 Hz -> 1)

and must be a whole number: 50, 33.3, 25, 20 ... Hz work, 30 Hz or 24 Hz do
not (a ValueError names the two nearest rates that do). With
`resample="nearest"` any rate is accepted and step s shows the frame on the
screen at its start, frame floor(s * step_ms * F / 1000) (frames are
dropped above 100 Hz, shown for 3 or 4 steps alternately at 30 Hz). A
video of n frames lasts floor(n * 1000 / (F * step_ms)) steps.

Clips. A clip is `clip_length` consecutive model steps; clip starts are
`stride` steps apart (default `clip_length`: non-overlapping), from step 0,
and every clip lies wholly inside its video. `sample_clips` gives the frame
shown at each step of each clip. A video shorter than one clip is an error
for one video (`sample_clips`) and is dropped, with a warning that counts
the dropped videos, when a collection is sampled (`movie_pipeline`).

Augmentation is per clip, the same for all its frames (and its masks): one
random crop window of `crop_size` (training; the central window in
evaluation) and one left-right flip decision, then a resize to
`image_size` (frames bilinear with antialiasing, masks nearest-neighbour).
Frames end in [0, 1] (uint8 / 255; float frames must lie in [0, 1]) and are
normalised per channel (ImageNet mean / std for 3 channels, the grey-scale
constants for 1; `preprocessing.normalize`).
"""

import math
import warnings

import numpy as np
import tensorflow as tf

from tnn import utils

from . import pipeline, preprocessing

STEP_MS = 10
RESAMPLE = (None, "nearest")
TARGET_KINDS = ("next_frame", "segmentation", "contrastive")


def _check_rate(frame_rate_hz, step_ms):
    try:
        rate, step = float(frame_rate_hz), float(step_ms)
    except (TypeError, ValueError):
        rate = step = float("nan")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"frame_rate_hz must be a positive number of "
                         f"frames per second, got {frame_rate_hz!r}.")
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step_ms must be positive, got {step_ms!r}.")
    return rate, step


def steps_per_frame(frame_rate_hz, step_ms=STEP_MS):
    """Model steps each frame is shown for, `(1000 / F) / step_ms`.

    Raises a ValueError naming the nearest working rates when it is not a
    whole number (module docs).
    """
    rate, step = _check_rate(frame_rate_hz, step_ms)
    per = 1000.0 / (rate * step)
    k = round(per)
    if k >= 1 and abs(per - k) <= 1e-6 * per:
        return int(k)
    options = sorted({max(1, math.floor(per)), max(1, math.ceil(per))})
    near = " and ".join(f"{1000.0 / (step * n):.4g} Hz ({n} step"
                        f"{'s' if n > 1 else ''} per frame)"
                        for n in options)
    raise ValueError(
        f"frame_rate_hz={rate:g}: a frame lasts {1000.0 / rate:.4g} ms, not "
        f"a whole number of {step:g} ms model steps. Nearest rates that "
        f"work: {near}. Resample the video to one of them, or pass "
        f"resample='nearest' to show at each step the frame on screen at "
        f"that time.")


def frame_steps(n_frames, frame_rate_hz, step_ms=STEP_MS, resample=None):
    """Index of the frame shown at each model step of a whole video.

    Args:
        n_frames: frames of the video.
        frame_rate_hz: its frame rate F.
        step_ms: duration of one model step.
        resample: None (the frame-rate rule, exact) or "nearest".

    Returns:
        int64 array `[S]`, S = the video's length in steps (module docs).
    """
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {RESAMPLE}, got "
                         f"{resample!r}.")
    n_frames = pipeline.check_positive_int(int(n_frames), "n_frames") \
        if n_frames else 0
    if resample is None:
        return np.repeat(np.arange(n_frames, dtype=np.int64),
                         steps_per_frame(frame_rate_hz, step_ms))
    rate, step = _check_rate(frame_rate_hz, step_ms)
    count = int(math.floor(n_frames * 1000.0 / (rate * step) + 1e-9))
    index = np.floor(np.arange(count) * step * rate / 1000.0 + 1e-9)
    return np.minimum(index.astype(np.int64), max(n_frames - 1, 0))


def sample_clips(n_frames, clip_length, stride=None, frame_rate_hz=100.0,
                 step_ms=STEP_MS, resample=None, allow_short=False):
    """Frame index at each step of each clip of a video (module docs).

    Args:
        n_frames: frames of the video.
        clip_length: model steps per clip.
        stride: steps between clip starts (default `clip_length`).
        frame_rate_hz, step_ms, resample: see `frame_steps`.
        allow_short: return no clips (instead of a ValueError) when the
            video is shorter than one clip.

    Returns:
        int64 array `[n_clips, clip_length]`.
    """
    clip_length = pipeline.check_positive_int(clip_length, "clip_length")
    stride = clip_length if stride is None else pipeline.check_positive_int(
        stride, "stride")
    steps = frame_steps(n_frames, frame_rate_hz, step_ms, resample)
    if steps.size < clip_length:
        if allow_short:
            return np.zeros((0, clip_length), np.int64)
        raise ValueError(
            f"a video of {int(n_frames)} frames at {float(frame_rate_hz):g} "
            f"Hz lasts {steps.size} model steps of {float(step_ms):g} ms, "
            f"shorter than clip_length={clip_length} steps; use "
            f"clip_length <= {steps.size} or a longer video.")
    starts = np.arange(0, steps.size - clip_length + 1, stride)
    return steps[starts[:, None] + np.arange(clip_length)[None, :]]


def _pair(value, name):
    if value is None:
        return None
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or (height, width), got "
                         f"{value!r}.")
    return tuple(pipeline.check_positive_int(v, name) for v in pair)


def check_objectives(objectives, has_masks):
    """The target kinds (tuple), or None for movies without targets."""
    if objectives is None:
        return None
    kinds = (objectives,) if isinstance(objectives, str) else tuple(
        objectives)
    unknown = [k for k in kinds if k not in TARGET_KINDS]
    if unknown or not kinds:
        raise ValueError(f"objectives: unknown or none {unknown or kinds!r}"
                         f"; movie files give targets for {TARGET_KINDS} "
                         f"(\"classes\" needs labels: moving_digits_task).")
    if "segmentation" in kinds and not has_masks:
        raise ValueError("the 'segmentation' objective needs masks; pass "
                         "masks with the frames.")
    return kinds


class ClipMaker:
    """Maps `(clip [T, H, W, C] float in [0, 1], masks [T, H, W] | dummy,
    seed)` to `movie` or `(movie, targets)` (module docs)."""

    def __init__(self, channels, crop_size=None, image_size=None,
                 flip=False, training=False, objectives=None, mean=None,
                 std=None, frame_size=None):
        self.channels = channels
        self.crop = _pair(crop_size, "crop_size")
        self.size = _pair(image_size, "image_size")
        self.flip, self.training = bool(flip), bool(training)
        self.kinds = objectives
        self.mean, self.std = utils.normalization_constants(
            channels, mean, std)
        self.out_hw = self.size or self.crop or frame_size

    def _offsets(self, shape, seed):
        height, width = shape[1], shape[2]
        dy, dx = height - self.crop[0], width - self.crop[1]
        checks = [tf.debugging.assert_non_negative(
            tf.stack([dy, dx]), message=f"crop_size {self.crop} is larger "
            f"than the frames of a video; lower crop_size")]
        with tf.control_dependencies(checks):
            if not self.training:
                return dy // 2, dx // 2
            if seed is None:
                return (tf.random.uniform([], 0, dy + 1, tf.int32),
                        tf.random.uniform([], 0, dx + 1, tf.int32))
            seeds = preprocessing.split_seed(seed, 2)
            return tuple(tf.random.stateless_uniform(
                [], s, 0, d + 1, tf.int32) for s, d in zip(seeds, (dy, dx)))

    def augment(self, frames, masks, seed):
        """The same crop / flip / resize for every frame (and mask)."""
        seeds = preprocessing.split_seed(seed, 2)
        if self.crop is not None:
            top, left = self._offsets(tf.shape(frames), seeds[0])
            frames = frames[:, top:top + self.crop[0],
                            left:left + self.crop[1]]
            if masks is not None:
                masks = masks[:, top:top + self.crop[0],
                              left:left + self.crop[1]]
        if self.flip and self.training:
            coin = (tf.random.uniform([]) if seeds[1] is None else
                    tf.random.stateless_uniform([], seeds[1])) < 0.5
            frames = tf.where(coin, tf.reverse(frames, [2]), frames)
            if masks is not None:
                masks = tf.where(coin, tf.reverse(masks, [2]), masks)
        if self.size is not None:
            frames = tf.image.resize(frames, self.size, "bilinear",
                                     antialias=True)
            if masks is not None:
                masks = tf.image.resize(masks[..., None], self.size,
                                        "nearest")[..., 0]
        return frames, masks

    def __call__(self, frames, masks, seed):
        masks = masks if self.kinds and "segmentation" in self.kinds \
            else None
        frames, masks = self.augment(frames, masks, seed)
        shape = [None] + list(self.out_hw or (None, None))
        frames = tf.ensure_shape(frames, shape + [self.channels])
        movie = (frames - tf.constant(self.mean)) / tf.constant(self.std)
        if self.kinds is None:
            return movie
        targets = {}
        for kind in self.kinds:
            if kind == "next_frame":
                targets[kind] = frames
            elif kind == "segmentation":
                targets[kind] = tf.ensure_shape(tf.cast(masks, tf.int32),
                                                shape)
            else:
                targets[kind] = tf.zeros([], tf.float32)
        return movie, targets


def _clips_of(sampler, clip_length, has_masks):
    def clips(video):
        n = tf.shape(video["frames"])[0]
        index = tf.numpy_function(sampler, [n], tf.int64, stateful=False)
        index = tf.ensure_shape(index, [None, clip_length])
        frames = tf.gather(video["frames"], index)
        if frames.dtype == tf.uint8:
            frames = tf.cast(frames, tf.float32) / 255.0
        masks = (tf.gather(video["masks"], index) if has_masks
                 else tf.zeros([tf.shape(index)[0]], tf.int32))
        return tf.data.Dataset.from_tensor_slices(
            (tf.cast(frames, tf.float32), masks))
    return clips


def warn_short(lengths, clip_length, frame_rate_hz, step_ms, resample,
               names=None):
    """Warns about (and counts) videos shorter than one clip; a ValueError
    when all are."""
    short = [i for i, n in enumerate(lengths) if frame_steps(
        n, frame_rate_hz, step_ms, resample).size < clip_length]
    if len(short) == len(lengths):
        # One video: the error of sample_clips; several: say all are short.
        if len(lengths) == 1:
            sample_clips(lengths[0], clip_length, None, frame_rate_hz,
                         step_ms, resample)
        raise ValueError(
            f"all {len(lengths)} videos are shorter than clip_length="
            f"{clip_length} steps at {float(frame_rate_hz):g} Hz (longest: "
            f"{max(lengths)} frames); lower clip_length.")
    if short:
        shown = ", ".join(repr(names[i]) for i in short[:3]) if names \
            else ""
        warnings.warn(
            f"dropped {len(short)} of {len(lengths)} videos shorter than "
            f"clip_length={clip_length} steps ({shown or 'by position'}).",
            stacklevel=3)
    return len(short)


def movie_pipeline(videos, channels, clip_length, stride=None,
                   frame_rate_hz=100.0, step_ms=STEP_MS, resample=None,
                   objectives=None, batch_size=8, training=False,
                   crop_size=None, image_size=None, flip=None, seed=None,
                   shuffle_buffer=256, mean=None, std=None,
                   drop_remainder=None, repeat=False, has_masks=False,
                   frame_size=None):
    """Batched clips of a dataset of videos.

    Args:
        videos: `tf.data.Dataset` of dicts {"frames": uint8 or float
            `[n, H, W, C]`, "masks": int `[n, H, W]` (when `has_masks`)}.
        channels: C.
        clip_length, stride, frame_rate_hz, step_ms, resample: the clips
            (`sample_clips`); videos shorter than a clip give none.
        objectives: None (movies only) or kinds among `TARGET_KINDS`:
            "next_frame" -> the clip in [0, 1] `[T, H, W, C]`,
            "segmentation" -> the masks `[T, H, W]` int32, "contrastive"
            -> zeros (a `MovieTask` target dict).
        batch_size, training, seed, shuffle_buffer, drop_remainder, repeat:
            `pipeline.build_pipeline` (shuffles clips when training).
        crop_size, image_size, flip: augmentation (module docs); `flip`
            defaults to `training` and only applies when training.
        mean, std: normalisation constants (default by channel count).
        has_masks: the videos carry "masks".
        frame_size: `(H, W)` of every frame when neither crop nor resize
            fixes the output size.

    Returns:
        `tf.data.Dataset` of normalised float32 movies `[B, T, h, w, C]`,
        or `(movies, {kind: target})` with `objectives`.
    """
    kinds = check_objectives(objectives, has_masks)
    frame_steps(1, frame_rate_hz, step_ms, resample)  # fail early
    clip_length = pipeline.check_positive_int(clip_length, "clip_length")

    def sampler(n):
        return sample_clips(int(n), clip_length, stride, frame_rate_hz,
                            step_ms, resample, allow_short=True)

    sampler(1)  # checks stride
    make = ClipMaker(channels, crop_size, image_size,
                     training if flip is None else flip, training, kinds,
                     mean, std, frame_size)
    clips = videos.flat_map(_clips_of(sampler, clip_length, has_masks))
    return pipeline.build_pipeline(
        clips, make, batch_size, training, seed=seed,
        shuffle_buffer=shuffle_buffer, drop_remainder=drop_remainder,
        repeat=repeat)
