""""Digit debris" (Spoerer, McClure & Kriegeskorte 2017; reference App. D).

A target digit with crops of other digits scattered over it — the task on
which recurrent networks beat parameter-matched feedforward ones, the more
so the heavier the debris. Generated offline from the embedded MNIST subset
(`training.data.mnist`).

Rendering, per output image (all sizes in output pixels, default 32×32):
  1. a canvas `render_scale` times larger than the output is drawn on;
  2. the target digit, bilinearly upscaled to `digit_size` (default 28 of
     32), is placed at a uniformly random position inside the canvas;
  3. `n` fragments (level "light" = 10, "heavy" = 50, "none" = 0, or an
     int) are cut from randomly drawn digits of OTHER classes of the same
     pool: a `fragment_size` square (default 0.15 × digit size, 4 px at
     32) centred on a random ink pixel (≥ half the source's maximum),
     pasted at a uniformly random position; overlaps combine by pixel-wise
     maximum (white ink on black);
  4. the canvas is downsampled to the output size by block averaging.

Held-out split: the 5,000 digits are split into disjoint, class-balanced
pools (`split_mnist_5k`, 400/100 per class by default); train images use
only train-pool digits (targets and fragments), test images only test-pool
digits. Everything is deterministic given `seed` (debris) and `split_seed`
(pools).

The paper's exact fragment size and placement are not in the reference;
the defaults above are this library's choices.
"""

import functools

import numpy as np
import scipy.ndimage
import tensorflow as tf

from . import mnist, pipeline, preprocessing

DEBRIS_LEVELS = {"none": 0, "light": 10, "heavy": 50}
SPLITS = ("train", "test")


def num_fragments(level):
    """Fragments per image for a level name or a non-negative int."""
    if isinstance(level, str):
        if level not in DEBRIS_LEVELS:
            raise ValueError(f"level must be one of {tuple(DEBRIS_LEVELS)} "
                             f"or a number of fragments, got {level!r}.")
        return DEBRIS_LEVELS[level]
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) \
            or level < 0:
        raise ValueError(f"level must be one of {tuple(DEBRIS_LEVELS)} or a "
                         f"number of fragments >= 0, got {level!r}.")
    return int(level)


def _sizes(image_size, render_scale, digit_size, fragment_size):
    for value, name in ((image_size, "image_size"),
                        (render_scale, "render_scale")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if digit_size is None:
        digit_size = int(round(0.875 * image_size))
    if fragment_size is None:
        fragment_size = max(2, int(round(0.15 * digit_size)))
    if not 0 < fragment_size <= digit_size <= image_size:
        raise ValueError(
            f"Need 0 < fragment_size ≤ digit_size ≤ image_size, got "
            f"fragment_size={fragment_size}, digit_size={digit_size}, "
            f"image_size={image_size}.")
    return digit_size, fragment_size


def _check_sources(images, labels):
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"Source digits must be uint8 (0–255), got dtype "
                         f"{images.dtype}.")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"Source digits must have shape [N, H, W] (or "
                         f"[N, H, W, 1]), got {images.shape}.")
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must have shape [{len(images)}], got "
                         f"{labels.shape}.")
    return images, labels


def render_digit_debris(images, labels, level="heavy", image_size=32,
                        render_scale=2, digit_size=None, fragment_size=None,
                        copies=1, channels=1, seed=0, return_info=False):
    """Renders debris images from a pool of source digits.

    Every source digit is the target of `copies` output images (in order:
    all sources, then all sources again, ...); fragments come from sources
    of other classes in the same pool.

    Args:
        images: uint8 source digits `[N, h, w]` (or `[N, h, w, 1]`).
        labels: their int labels `[N]`.
        level: "none", "light" (10 fragments), "heavy" (50) or an int.
        image_size: output side in pixels.
        render_scale: the canvas is this many times larger than the output.
        digit_size: side of the target digit in output pixels.
        fragment_size: side of a fragment in output pixels.
        copies: output images per source digit (different debris each).
        channels: 1, or 3 (gray replicated to RGB).
        seed: seed of all random draws.
        return_info: also return a dict with `target_index` `[M]` and
            `fragment_sources` `[M, n]` (indices into `images`), and
            `clean` (the targets rendered without debris, uint8).

    Returns:
        `(x, y)` — uint8 `[M, image_size, image_size, channels]` and int64
        `[M]` with M = N · copies — plus the info dict if asked.
    """
    images, labels = _check_sources(images, labels)
    n_frag = num_fragments(level)
    digit_size, fragment_size = _sizes(image_size, render_scale, digit_size,
                                       fragment_size)
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}.")
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be a positive int, got {copies!r}.")
    if n_frag and len(np.unique(labels)) < 2:
        raise ValueError("Debris needs source digits of at least two "
                         "classes (fragments come from other classes).")
    rng = np.random.default_rng(seed)
    canvas_size = image_size * render_scale
    digit_hi = digit_size * render_scale
    frag_hi = fragment_size * render_scale
    zoom = (1, digit_hi / images.shape[1], digit_hi / images.shape[2])
    big = scipy.ndimage.zoom(images.astype(np.float32), zoom, order=1)
    big = np.clip(np.round(big), 0, 255).astype(np.uint8)
    ink = [np.flatnonzero(d >= max(1, int(d.max()) // 2)) for d in big]
    others = {c: np.flatnonzero(labels != c) for c in np.unique(labels)}

    targets = np.tile(np.arange(len(images)), copies)
    out = np.empty((len(targets), image_size, image_size), np.uint8)
    clean = np.empty_like(out) if return_info else None
    sources = np.empty((len(targets), n_frag), np.int64)
    half = frag_hi // 2
    limit = digit_hi - frag_hi
    for m, target in enumerate(targets):
        canvas = np.zeros((canvas_size, canvas_size), np.uint8)
        ty, tx = rng.integers(0, canvas_size - digit_hi + 1, size=2)
        canvas[ty:ty + digit_hi, tx:tx + digit_hi] = big[target]
        if return_info:
            clean[m] = _downsample(canvas, image_size, render_scale)
        pool = others.get(labels[target], np.empty(0, np.int64))
        picks = pool[rng.integers(0, len(pool), size=n_frag)] if n_frag \
            else np.empty(0, np.int64)
        sources[m] = picks
        draws = rng.random(n_frag)
        places = rng.integers(0, canvas_size - frag_hi + 1, size=(n_frag, 2))
        for src, draw, (py, px) in zip(picks, draws, places):
            spots = ink[src]
            if len(spots) == 0:
                continue
            cy, cx = divmod(int(spots[int(draw * len(spots))]), digit_hi)
            y0 = min(max(cy - half, 0), limit)
            x0 = min(max(cx - half, 0), limit)
            patch = big[src, y0:y0 + frag_hi, x0:x0 + frag_hi]
            region = canvas[py:py + frag_hi, px:px + frag_hi]
            np.maximum(region, patch, out=region)
        out[m] = _downsample(canvas, image_size, render_scale)
    x = out[..., None]
    if channels == 3:
        x = np.repeat(x, 3, axis=-1)
    y = labels[targets].astype(np.int64)
    if not return_info:
        return x, y
    return x, y, {"target_index": targets, "fragment_sources": sources,
                  "clean": clean[..., None]}


def _downsample(canvas, size, factor):
    blocks = canvas.reshape(size, factor, size, factor).astype(np.float32)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _cached_debris(split, level, image_size, channels, copies, render_scale,
                   digit_size, fragment_size, test_fraction, seed,
                   split_seed):
    images, labels = mnist.load_mnist_5k()
    train_idx, test_idx = mnist.split_mnist_5k(test_fraction, split_seed)
    pool = train_idx if split == "train" else test_idx
    x, y, info = render_digit_debris(
        images[pool], labels[pool], level=level, image_size=image_size,
        render_scale=render_scale, digit_size=digit_size,
        fragment_size=fragment_size, copies=copies, channels=channels,
        seed=[seed, SPLITS.index(split)], return_info=True)
    info = {"target_index": pool[info["target_index"]],
            "fragment_sources": pool[info["fragment_sources"]]}
    for array in (x, y, *info.values()):
        array.flags.writeable = False
    return x, y, info


def digit_debris(split="train", level="heavy", image_size=32, channels=1,
                 copies=1, render_scale=2, digit_size=None,
                 fragment_size=None, test_fraction=0.2, seed=0,
                 split_seed=0, return_info=False):
    """Digit-debris images from the embedded MNIST subset (numpy).

    Args:
        split: "train" (targets and fragments from the train pool) or
            "test" (from the disjoint held-out pool).
        level: "none", "light" (10 fragments), "heavy" (50) or an int.
        image_size: output side (default 32).
        channels: 1 or 3.
        copies: images per source digit (default 1: 4,000 train / 1,000
            test images, class-balanced).
        render_scale, digit_size, fragment_size: see `render_digit_debris`.
        test_fraction: held-out share of each class.
        seed: debris seed (train and test debris are drawn independently).
        split_seed: seed of the pool split (keep it fixed so the pools stay
            disjoint across runs).
        return_info: also return `{"target_index", "fragment_sources"}`,
            indices into `load_mnist_5k()` of each image's target digit and
            fragment sources.

    Returns:
        `(x, y)`: uint8 `[N, image_size, image_size, channels]`, int64 `[N]`,
        ordered by source digit (grouped by class; shuffle before use).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    num_fragments(level)
    for value, name in ((seed, "seed"), (split_seed, "split_seed")):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an int, got {value!r}.")
    x, y, info = _cached_debris(split, level, image_size, channels, copies,
                                render_scale, digit_size, fragment_size,
                                float(test_fraction), seed, split_seed)
    if return_info:
        return x.copy(), y.copy(), {k: v.copy() for k, v in info.items()}
    return x.copy(), y.copy()


def digit_debris_dataset(split="train", level="heavy", batch_size=64,
                         training=None, normalized=True, image_size=32,
                         channels=1, copies=1, seed=0, split_seed=0,
                         shuffle_buffer=None, drop_remainder=None,
                         repeat=False, **render_kwargs):
    """Digit debris as a batched `tf.data.Dataset` of `(images, labels)`.

    No augmentation (the debris is the difficulty). With `normalized`
    the images are scaled to [0, 1] and normalized (`preprocessing.
    normalize`: ImageNet constants for 3 channels, their channel averages
    for 1), float32; otherwise they stay uint8.

    Args:
        split, level, image_size, channels, copies, seed, split_seed: see
            `digit_debris`.
        batch_size: examples per batch.
        training: shuffle and drop the last partial batch (default: True
            for "train").
        normalized: float32 normalized images (else uint8).
        shuffle_buffer: default the whole split.
        drop_remainder: default `training`.
        repeat: repeat indefinitely.
        **render_kwargs: `render_scale`, `digit_size`, `fragment_size`,
            `test_fraction`.

    Returns:
        `tf.data.Dataset`: images `[B, H, W, channels]`, int32 labels `[B]`.
    """
    if training is None:
        training = split == "train"
    x, y = digit_debris(split, level, image_size=image_size,
                        channels=channels, copies=copies, seed=seed,
                        split_seed=split_seed, **render_kwargs)
    dataset = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))

    def map_fn(image, label, element_seed):
        del element_seed  # no augmentation
        if normalized:
            image = preprocessing.normalize(
                preprocessing.to_unit_range(image))
        return image, label

    return pipeline.build_pipeline(
        dataset, map_fn, batch_size, training, seed=seed,
        shuffle_buffer=shuffle_buffer or len(x),
        drop_remainder=drop_remainder, repeat=repeat)
