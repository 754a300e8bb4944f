"""Movies as tf.data pipelines: arrays, frame folders, GIFs, tfds videos.

Every source gives the same output, `movie_clips.movie_pipeline`: batches
of normalised float32 movies `[B, T, H, W, C]` (T = `clip_length` model
steps of 10 ms), or `(movies, {objective: target})` with `objectives` (a
`MovieTask` dataset: "next_frame" -> the clip in [0, 1], "segmentation"
-> the masks, "contrastive" -> zeros).

    ds = movies_from_frame_folders("clips/", clip_length=12,
                                   frame_rate_hz=25, image_size=64,
                                   objectives=("next_frame",))

Sources (all frames of a video must share one size; C = 1 or 3):

- `movies_from_arrays(frames)`: uint8 (0-255) or float ([0, 1]) arrays
  `[N, n, H, W, C]`, or a list of `[n_i, H_i, W_i, C]` videos;
  optional integer masks `[N, n, H, W]` (or a list) matching the frames.
- `movies_from_frame_folders(root)`: one subfolder per video, its frames
  the PNG / JPEG / BMP files sorted by name (e.g. 00001.png ...);
  optional `masks_root` of the same layout (one-channel class images).
- `movies_from_video_files(paths)`: animated GIFs (`tf.io.decode_gif`, the
  only video decoder TensorFlow ships). Other formats (mp4, avi, mov, mkv,
  webm ...) need a decoder that is not in this stack: convert them with
  ffmpeg to frame folders (`ffmpeg -i in.mp4 out/%05d.png`) or to GIF. The
  GIF's own frame delays are not read: pass `frame_rate_hz`.
- `movies_from_tfds(name, split)`: a TensorFlow Datasets video set (e.g.
  "ucf101", "moving_mnist"), read from `data_dir`. Nothing is downloaded
  at run time: an unprepared set with no `manual_dir` is an error; with
  `manual_dir` the builder prepares it from the files there
  (`DownloadConfig(manual_dir=...)`). Builders that fetch URLs rather than
  read `manual_dir` must be prepared once (`tfds build NAME`) where a
  network is available.

Frame rates and clip sampling follow `movie_clips` (the frame-rate rule:
each frame of an F Hz video is shown for (1000 / F) / 10 model steps;
25 Hz -> 4, 100 Hz -> 1; other rates need `resample="nearest"`).
Arrays, folders and GIFs are decoded into memory when the dataset is
built, so bad input (frames of different sizes in one folder, masks that
do not match their frames, short videos) fails at once with a ValueError;
for collections larger than memory use tfds.
"""

import os

import numpy as np
import tensorflow as tf

from . import pipeline
from .movie_clips import (STEP_MS, frame_steps, movie_pipeline,
                          sample_clips, steps_per_frame, warn_short)

FRAME_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
VIDEO_EXTENSIONS = (".gif",)
KNOWN_RATES_HZ = {"ucf101": 25.0, "moving_mnist": 100.0}

__all__ = ["STEP_MS", "frame_steps", "movie_pipeline", "sample_clips",
           "steps_per_frame", "movies_from_arrays",
           "movies_from_frame_folders", "movies_from_video_files",
           "movies_from_tfds", "read_frame_folder", "read_video_file",
           "load_videos"]


def _check_video(frames, name):
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 and frames.dtype.kind != "f":
        raise ValueError(f"{name}: frames must be uint8 (0-255) or float "
                         f"(in [0, 1]), got dtype {frames.dtype}.")
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or \
            not frames.shape[0]:
        raise ValueError(f"{name}: a video must be frames [n, H, W, C] with "
                         f"n >= 1 and C = 1 or 3, got shape {frames.shape}.")
    if frames.dtype.kind == "f":
        if not np.isfinite(frames).all() or frames.min() < 0 or \
                frames.max() > 1:
            raise ValueError(f"{name}: float frames must be finite and in "
                             f"[0, 1]; divide 0-255 values by 255.")
        frames = frames.astype(np.float32)
    return frames


def _check_masks(masks, frames, name):
    masks = np.asarray(masks)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != frames.shape[:3]:
        raise ValueError(
            f"{name}: masks of shape {masks.shape} do not match their "
            f"frames {frames.shape}; masks must be [n, H, W] (one class "
            f"per pixel of every frame).")
    if masks.dtype.kind not in "iub":
        raise ValueError(f"{name}: masks must hold integer classes, got "
                         f"dtype {masks.dtype}.")
    return masks.astype(np.int32)


def _in_memory(videos, masks, names, frame_rate_hz, clip_length, stride=None,
               step_ms=STEP_MS, resample=None, **kwargs):
    """`movie_pipeline` over lists of checked numpy videos (and masks)."""
    channels = {v.shape[-1] for v in videos}
    if len(channels) > 1:
        raise ValueError(f"videos mix 1- and 3-channel frames; read them "
                         f"with one `channels` (got {sorted(channels)}).")
    sizes = {v.shape[1:3] for v in videos}
    if len(sizes) > 1 and kwargs.get("image_size") is None and \
            kwargs.get("crop_size") is None:
        raise ValueError(f"videos have frames of different sizes (e.g. "
                         f"{sorted(sizes)[:2]}); pass image_size (or "
                         f"crop_size) so every clip has one size.")
    crop = kwargs.get("crop_size")
    if crop is not None:
        ch, cw = (crop, crop) if isinstance(crop, int) else crop
        small = [n for n, v in zip(names, videos)
                 if v.shape[1] < ch or v.shape[2] < cw]
        if small:
            raise ValueError(f"crop_size {crop} is larger than the frames "
                             f"of {small[0]!r}; lower crop_size.")
    warn_short([len(v) for v in videos], clip_length, frame_rate_hz,
               step_ms, resample, names)
    uint8 = all(v.dtype == np.uint8 for v in videos)
    dtype = tf.uint8 if uint8 else tf.float32
    spec = {"frames": tf.TensorSpec([None, None, None, channels.pop()],
                                    dtype)}
    if masks is not None:
        spec["masks"] = tf.TensorSpec([None, None, None], tf.int32)

    def generate():
        for i, video in enumerate(videos):
            item = {"frames": video if uint8 else
                    video.astype(np.float32) / (
                        255.0 if video.dtype == np.uint8 else 1.0)}
            if masks is not None:
                item["masks"] = masks[i]
            yield item

    data = tf.data.Dataset.from_generator(generate, output_signature=spec)
    return movie_pipeline(
        data, spec["frames"].shape[-1], clip_length, stride, frame_rate_hz,
        step_ms, resample, has_masks=masks is not None,
        frame_size=sizes.pop() if len(sizes) == 1 else None, **kwargs)


def movies_from_arrays(frames, masks=None, frame_rate_hz=100.0,
                       clip_length=None, **kwargs):
    """Clips of videos held in arrays (module docs).

    Args:
        frames: `[N, n, H, W, C]` uint8 / float array, or a list of
            `[n_i, H_i, W_i, C]` videos.
        masks: optional integer `[N, n, H, W]` (or a list), one class per
            pixel of every frame.
        frame_rate_hz: the videos' frame rate.
        clip_length: model steps per clip (default: the shortest video).
        **kwargs: `movie_clips.movie_pipeline` (stride, resample,
            objectives, batch_size, training, crop_size, image_size, flip,
            seed, ...).
    """
    if isinstance(frames, np.ndarray) and frames.ndim != 5:
        raise ValueError(f"frames must be [N, n, H, W, C] (N videos of n "
                         f"frames) or a list of [n, H, W, C] videos, got "
                         f"shape {frames.shape}.")
    names = [f"video {i}" for i in range(len(frames))]
    videos = [_check_video(v, n) for v, n in zip(frames, names)]
    if not videos:
        raise ValueError("frames holds no video.")
    if masks is not None:
        if len(masks) != len(videos):
            raise ValueError(f"{len(masks)} masks for {len(videos)} videos;"
                             f" pass one mask array per video.")
        masks = [_check_masks(m, v, n)
                 for m, v, n in zip(masks, videos, names)]
    if clip_length is None:
        clip_length = min(frame_steps(len(v), frame_rate_hz,
                                      kwargs.get("step_ms", STEP_MS),
                                      kwargs.get("resample")).size
                          for v in videos)
    return _in_memory(videos, masks, names, frame_rate_hz, clip_length,
                      **kwargs)


def _frame_files(folder):
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if f.lower().endswith(FRAME_EXTENSIONS)
                  and not f.startswith("."))


def read_frame_folder(folder, channels=3):
    """uint8 frames `[n, H, W, channels]` of one folder (sorted by name)."""
    files = _frame_files(folder)
    if not files:
        raise ValueError(f"frame folder {folder!r} has no "
                         f"{'/'.join(FRAME_EXTENSIONS)} frames.")
    frames = []
    for path in files:
        try:
            frame = tf.io.decode_image(tf.io.read_file(path), channels,
                                       expand_animations=False).numpy()
        except tf.errors.OpError as err:
            raise ValueError(f"cannot decode frame {path!r}: "
                             f"{err.message}") from None
        if frames and frame.shape != frames[0].shape:
            raise ValueError(
                f"frame folder {folder!r}: frames of different sizes, "
                f"{os.path.basename(files[0])} is {frames[0].shape[:2]} "
                f"(H, W) but {os.path.basename(path)} is {frame.shape[:2]};"
                f" all frames of a clip must have one size (resize them).")
        frames.append(frame)
    return np.stack(frames)


def read_video_file(path, channels=3):
    """uint8 frames `[n, H, W, channels]` of an animated GIF (module docs)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in VIDEO_EXTENSIONS:
        raise ValueError(
            f"{os.fspath(path)!r}: {ext or 'this'} video needs a decoder "
            f"that is not in this stack (TensorFlow decodes GIF only). "
            f"Convert it with ffmpeg to a folder of frames (ffmpeg -i "
            f"{os.path.basename(path)} frames/%05d.png; then "
            f"movies_from_frame_folders) or to a GIF.")
    if not os.path.isfile(path):
        raise ValueError(f"video file {os.fspath(path)!r} does not exist.")
    try:
        frames = tf.io.decode_gif(tf.io.read_file(path))
    except tf.errors.OpError as err:
        raise ValueError(f"cannot decode GIF {os.fspath(path)!r}: "
                         f"{err.message}") from None
    if channels == 1:
        frames = tf.image.rgb_to_grayscale(frames)
    return frames.numpy()


def _check_channels(channels):
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got "
                         f"{channels!r}.")


def load_videos(root, channels=3):
    """`(names, videos)` of a folder of frame folders and / or GIF files
    (other video files: the error of `read_video_file`)."""
    _check_channels(channels)
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise ValueError(f"movie folder {root!r} does not exist or is not "
                         f"a folder.")
    names, videos = [], []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            videos.append(read_frame_folder(entry.path, channels))
        elif entry.name.lower().endswith(FRAME_EXTENSIONS):
            continue
        else:
            videos.append(read_video_file(entry.path, channels))
        names.append(entry.name)
    if not videos:
        raise ValueError(f"movie folder {root!r} holds no video: put one "
                         f"subfolder of frames (or one .gif) per video.")
    return names, videos


def movies_from_frame_folders(root, masks_root=None, channels=3,
                              frame_rate_hz=100.0, clip_length=None,
                              **kwargs):
    """Clips of `root/<video>/<frames>` (module docs).

    Args:
        root: folder with one subfolder of frames per video.
        masks_root: optional folder of the same layout holding one
            one-channel class image per frame.
        channels: 3 (RGB) or 1 (grey).
        frame_rate_hz, clip_length, **kwargs: see `movies_from_arrays`.
    """
    _check_channels(channels)
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise ValueError(f"frame folder root {root!r} does not exist.")
    names = sorted(e.name for e in os.scandir(root)
                   if e.is_dir() and not e.name.startswith("."))
    if not names:
        raise ValueError(f"{root!r} has no subfolders; lay it out as "
                         f"<root>/<video name>/<frame files>.")
    videos = [read_frame_folder(os.path.join(root, n), channels)
              for n in names]
    masks = None
    if masks_root is not None:
        masks = []
        for name, video in zip(names, videos):
            folder = os.path.join(os.fspath(masks_root), name)
            if not os.path.isdir(folder):
                raise ValueError(f"no mask folder {folder!r} for the frames "
                                 f"of {name!r}.")
            masks.append(_check_masks(read_frame_folder(folder, 1), video,
                                      f"masks {folder!r}"))
    return movies_from_arrays(videos, masks, frame_rate_hz, clip_length,
                              **kwargs)


def movies_from_video_files(paths, channels=3, frame_rate_hz=100.0,
                            clip_length=None, **kwargs):
    """Clips of animated GIF files (module docs; a folder: its files).

    Args:
        paths: a list of files, or one folder.
        channels, frame_rate_hz, clip_length, **kwargs: see
            `movies_from_frame_folders`.
    """
    _check_channels(channels)
    if isinstance(paths, (str, os.PathLike)):
        folder = os.fspath(paths)
        if not os.path.isdir(folder):
            raise ValueError(f"{folder!r} is not a folder; pass a list of "
                             f"video files or a folder of them.")
        paths = [os.path.join(folder, f) for f in sorted(os.listdir(folder))
                 if not f.startswith(".")]
    if not paths:
        raise ValueError("no video files given.")
    videos = [read_video_file(p, channels) for p in paths]
    return movies_from_arrays(videos, None, frame_rate_hz, clip_length,
                              **kwargs)


def movies_from_tfds(name, split="train", data_dir=None, manual_dir=None,
                     video_key=None, frame_rate_hz=None, clip_length=16,
                     training=None, seed=None, **kwargs):
    """Clips of a tfds video dataset, never downloaded here (module docs).

    Args:
        name: tfds name, e.g. "ucf101", "moving_mnist".
        split: tfds split ("train", "test[:10%]").
        data_dir: tfds data folder (default ~/tensorflow_datasets).
        manual_dir: folder of files to prepare an unprepared set from.
        video_key: the video feature (default: "video" or
            "image_sequence", whichever the set has).
        frame_rate_hz: its rate (default `KNOWN_RATES_HZ[name]`: UCF101
            25 Hz; Moving MNIST, synthetic, one frame per step).
        clip_length: model steps per clip; shorter videos are dropped.
        training: shuffle / augment (default: split starts with "train").
        seed, **kwargs: see `movies_from_arrays`.
    """
    import tensorflow_datasets as tfds
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError as err:
        raise ValueError(f"tfds has no dataset {name!r} "
                         f"({str(err).splitlines()[0]}).") from None
    if not builder.is_prepared():
        if manual_dir is None:
            raise ValueError(
                f"tfds dataset {name!r} is not prepared in "
                f"{builder.data_dir!r} and no manual_dir was given; nothing "
                f"is downloaded at run time. Put its files in a folder and "
                f"pass manual_dir=<folder>, or prepare it once with `tfds "
                f"build {name} --data_dir=...` and pass that data_dir.")
        if not os.path.isdir(manual_dir):
            raise ValueError(f"manual_dir {os.fspath(manual_dir)!r} does "
                             f"not exist.")
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(
                manual_dir=os.fspath(manual_dir)))
    features = builder.info.features
    keys = [video_key] if video_key else [k for k in ("video",
                                                       "image_sequence")
                                          if k in features]
    if not keys or keys[0] not in features:
        raise ValueError(f"tfds {name!r} has no video feature "
                         f"{video_key or 'video'!r}; its features are "
                         f"{list(features)}: pass video_key.")
    key = keys[0]
    rate = frame_rate_hz or KNOWN_RATES_HZ.get(
        name.split(":")[0].split("/")[0])
    if rate is None:
        raise ValueError(f"frame rate of tfds {name!r} unknown; pass "
                         f"frame_rate_hz.")
    training = split.startswith("train") if training is None else training
    pipeline.check_seed(seed)
    data = builder.as_dataset(split=split, shuffle_files=bool(training),
                              read_config=tfds.ReadConfig(shuffle_seed=seed))
    data = data.map(lambda example: {"frames": example[key]})
    channels = data.element_spec["frames"].shape[-1]
    return movie_pipeline(data, channels, clip_length,
                          frame_rate_hz=rate, training=training, seed=seed,
                          **kwargs)
