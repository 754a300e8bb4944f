"""Occluded digits: MNIST-5k digits partly hidden behind opaque shapes.

The hard images on which recurrence is reported to help most (Nayebi et
al. 2018; Spoerer et al. 2017; Tang et al. 2018): the target digit is
covered by opaque occluders until a given share of its ink is hidden.
Generated offline from the embedded MNIST subset, on top of digit debris
(`training.data.mnist_debris`: the same held-out pools and rendering), so
a task can combine clutter and occlusion.

Occluders, drawn one at a time on the output image until the covered
share of the target digit's ink (pixels ≥ `INK` in the debris-free
rendering) reaches the image's `occlusion` level:
  - "blobs": discs of radius U(0.07, 0.13) × image side, centred on a
    random still-visible ink pixel plus a jitter of up to one radius;
  - "bars": horizontal or vertical bars, 0.07–0.11 × side thick and
    0.4–0.8 × side long, crossing a random still-visible ink pixel.
Occluder pixels are set to `intensity` (default 128: an opaque gray
surface, neither ink (255) nor background (0)), hiding ink and debris.
The last occluder usually overshoots the level a little; the achieved
share of every image is returned (`coverage`), and tables report it.

`occlusion` is one level for every image, or `(low, high)`: a level drawn
uniformly per image (a training mixture). Everything is deterministic
given `seed`.

These occluders are this library's choice: the reference does not define
an occlusion family for the digit task.
"""

import functools

import numpy as np

from . import mnist, mnist_debris, pipeline, preprocessing

KINDS = ("blobs", "bars")
INK = 64


def check_level(occlusion):
    """`(low, high)` of a level or a range in [0, 0.95]."""
    values = occlusion if isinstance(occlusion, (tuple, list)) else (
        occlusion, occlusion)
    if len(values) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, float, np.floating))
            or not 0 <= v <= 0.95 for v in values) or values[0] > values[1]:
        raise ValueError(f"occlusion must be a share of the digit's ink in "
                         f"[0, 0.95] or a (low, high) range of them, got "
                         f"{occlusion!r}.")
    return float(values[0]), float(values[1])


def _shape(kind, size, rng, cy, cx, yy, xx):
    if kind == "blobs":
        radius = rng.uniform(0.07, 0.13) * size
        cy += rng.uniform(-radius, radius)
        cx += rng.uniform(-radius, radius)
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= radius ** 2
    thick = rng.uniform(0.07, 0.11) * size
    length = rng.uniform(0.4, 0.8) * size
    along = rng.uniform(-length, 0)
    if rng.random() < 0.5:   # horizontal
        return (np.abs(yy - cy) <= thick / 2) & (xx >= cx + along) & (
            xx <= cx + along + length)
    return (np.abs(xx - cx) <= thick / 2) & (yy >= cy + along) & (
        yy <= cy + along + length)


def occlude(images, clean, occlusion, kind="blobs", intensity=128, seed=0,
            max_occluders=64):
    """Covers each image's target digit with occluders.

    Args:
        images: uint8 `[N, H, W, C]` (digits, with or without debris).
        clean: uint8 `[N, H, W, 1]`: the target digits alone (their ink
            defines what is covered).
        occlusion: share of ink to cover, or `(low, high)` per image.
        kind: "blobs" or "bars".
        intensity: occluder gray level (0–255).
        seed: seed of all draws.
        max_occluders: per image.

    Returns:
        `(occluded images, coverage [N] float32, level [N] float32)`.
    """
    low, high = check_level(occlusion)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
    if images.shape[:3] != clean.shape[:3]:
        raise ValueError(f"images {images.shape} and clean {clean.shape} "
                         f"must have the same N, H, W.")
    rng = np.random.default_rng(seed)
    out = images.copy()
    levels = rng.uniform(low, high, size=len(images)).astype(np.float32)
    coverage = np.zeros(len(images), np.float32)
    size = images.shape[1]
    yy, xx = np.mgrid[:size, :size]
    for n, level in enumerate(levels):
        ink = clean[n, ..., 0] >= INK
        total = ink.sum()
        if total == 0 or level <= 0:
            continue
        covered = np.zeros_like(ink)
        for _ in range(max_occluders):
            visible = np.flatnonzero(ink & ~covered)
            if covered[ink].mean() >= level or len(visible) == 0:
                break
            cy, cx = divmod(int(visible[rng.integers(len(visible))]), size)
            covered |= _shape(kind, size, rng, float(cy), float(cx), yy, xx)
        out[n][covered] = intensity
        coverage[n] = covered[ink].mean()
    return out, coverage, levels


@functools.lru_cache(maxsize=16)
def _cached(split, occlusion, kind, debris, image_size, copies, intensity,
            seed, split_seed):
    images, labels = mnist.load_mnist_5k()
    train_idx, test_idx = mnist.split_mnist_5k(0.2, split_seed)
    pool = train_idx if split == "train" else test_idx
    x, y, info = mnist_debris.render_digit_debris(
        images[pool], labels[pool], level=debris, image_size=image_size,
        copies=copies, seed=[seed, mnist_debris.SPLITS.index(split)],
        return_info=True)
    x, coverage, _ = occlude(x, info["clean"], occlusion, kind, intensity,
                             seed=[seed, mnist_debris.SPLITS.index(split), 7])
    for array in (x, y, coverage):
        array.flags.writeable = False
    return x, y, coverage


def occluded_digits(split="train", occlusion=0.4, kind="blobs",
                    debris="none", image_size=32, copies=1, intensity=128,
                    seed=0, split_seed=0, return_coverage=False):
    """Occluded (optionally debris-covered) digits of one split (numpy).

    Args:
        split: "train" or "test" (disjoint digit pools, as digit debris).
        occlusion: share of the digit's ink hidden, or `(low, high)`.
        kind: "blobs" or "bars".
        debris: digit-debris level under the occluders ("none", "light",
            "heavy" or a number of fragments).
        image_size, copies, seed, split_seed: as `mnist_debris.digit_debris`.
        intensity: occluder gray level.
        return_coverage: also return the achieved coverage per image.

    Returns:
        `(x uint8 [N, S, S, 1], y int64 [N])` (+ coverage float32 [N]).
    """
    if split not in mnist_debris.SPLITS:
        raise ValueError(f"split must be one of {mnist_debris.SPLITS}, got "
                         f"{split!r}.")
    occlusion = check_level(occlusion)
    mnist_debris.num_fragments(debris)
    x, y, coverage = _cached(split, occlusion, kind, debris, image_size,
                             copies, intensity, seed, split_seed)
    if return_coverage:
        return x.copy(), y.copy(), coverage.copy()
    return x.copy(), y.copy()


def occluded_digits_dataset(split="train", occlusion=0.4, batch_size=64,
                            training=None, kind="blobs", debris="none",
                            image_size=32, copies=1, intensity=128, seed=0,
                            split_seed=0, repeat=False):
    """`occluded_digits` as a batched, normalized `tf.data.Dataset`."""
    import tensorflow as tf
    if training is None:
        training = split == "train"
    x, y = occluded_digits(split, occlusion, kind, debris, image_size,
                           copies, intensity, seed, split_seed)
    dataset = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))

    def map_fn(image, label, element_seed):
        del element_seed  # no augmentation
        return preprocessing.normalize(
            preprocessing.to_unit_range(image)), label

    return pipeline.build_pipeline(dataset, map_fn, batch_size, training,
                                   seed=seed, shuffle_buffer=len(x),
                                   repeat=repeat)
