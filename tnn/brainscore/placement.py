"""Stimuli on the model's screen: visual degrees, gray padding, image files.

Brain-Score's rule (brainscore_vision 2.4.2,
`benchmark_helpers/screen.py`, restated here, not copied): an image that
spans `source_degrees` of visual angle is shown to a model that sees
`target_degrees` by scaling its canvas by `ratio = target / source`:

- the new canvas is `round(ratio * (width, height))` pixels (numpy
  rounding, half to even);
- `ratio >= 1` (the model sees more than the image): the image, unscaled,
  is centred on a gray canvas (RGB 128, 128, 128; PIL's "gray"), its
  top-left corner at `round((canvas - image) / 2)`;
- `ratio < 1`: the centre crop of that size, its top-left corner at
  `round((image - canvas) / 2)`.

The model then resizes the whole canvas to its input and normalises it
(`tnn.neural.stimuli.preprocess_stimuli`: bilinear, antialiased when
shrinking, ImageNet mean / std). Benchmarks place the stimuli themselves
(`place_on_screen` before `look_at`); `TNNBrainModel` uses this module
for data it is given directly (`commit_regions` with a data set's
`visual_degrees`).
"""

import os

import numpy as np

GRAY = 128


def placed_size(size, source_degrees, target_degrees):
    """Canvas `(width, height)` for an image of `size = (width, height)`."""
    for name, value in (("source_degrees", source_degrees),
                        ("target_degrees", target_degrees)):
        if isinstance(value, bool) or not isinstance(
                value, (int, float, np.integer, np.floating)) or \
                not np.isfinite(value) or value <= 0:
            raise ValueError(
                f"{name} must be a positive number of visual degrees, got "
                f"{value!r}.")
    ratio = float(target_degrees) / float(source_degrees)
    return tuple(int(v) for v in np.round(ratio * np.asarray(size,
                                                             np.float64)))


def place_on_screen(image, source_degrees, target_degrees):
    """One uint8 image `[H, W, 3]` as the model sees it (module docs).

    Returns:
        uint8 `[H', W', 3]`; the input itself when the degrees are equal.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(
            f"image must be uint8 [H, W, 3], got {image.dtype} "
            f"{image.shape}.")
    height, width = image.shape[:2]
    new_w, new_h = placed_size((width, height), source_degrees,
                               target_degrees)
    if source_degrees == target_degrees:
        return image
    if new_w < 1 or new_h < 1:
        raise ValueError(
            f"placing a {width}x{height} image of {source_degrees} degrees "
            f"on a {target_degrees}-degree screen leaves {new_w}x{new_h} "
            "pixels; use larger images.")
    if target_degrees >= source_degrees:
        canvas = np.full((new_h, new_w, 3), GRAY, np.uint8)
        left, top = (int(v) for v in np.round(
            (np.asarray([new_w, new_h]) - [width, height]) / 2))
        canvas[top:top + height, left:left + width] = image
        return canvas
    left, top = (int(v) for v in np.round(
        (np.asarray([width, height]) - [new_w, new_h]) / 2))
    return image[top:top + new_h, left:left + new_w].copy()


def read_image(path):
    """An image file as uint8 RGB `[H, W, 3]` (grey, palette and alpha
    images converted to RGB, alpha dropped).

    Raises:
        ValueError: the file is missing or not an image Pillow can read.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "reading image files needs Pillow: pip install pillow.") from None
    path = str(os.fspath(path))
    if not os.path.isfile(path):
        raise ValueError(
            f"stimulus {path!r} cannot be read: no such file. Check the "
            "StimulusSet's stimulus_paths (or the list of paths).")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(
            f"stimulus {path!r} cannot be read as an image ({err}); pass "
            "image files Pillow can open (PNG, JPEG, ...).") from None


def read_images(paths):
    """A list of uint8 RGB images `[H_i, W_i, 3]`, one per path."""
    paths = list(paths)
    if not paths:
        raise ValueError("no stimuli to read (empty list of paths).")
    return [read_image(p) for p in paths]
