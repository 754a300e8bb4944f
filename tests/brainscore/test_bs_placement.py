"""Visual degrees -> pixels with gray padding, and reading image files."""

import numpy as np
import pytest
from PIL import Image

from tnn.brainscore import placement


def _restated(image, source, target):
    """The documented rule, written out pixel by pixel."""
    height, width = image.shape[:2]
    ratio = target / source
    new_w, new_h = (int(np.round(ratio * width)),
                    int(np.round(ratio * height)))
    out = np.empty((new_h, new_w, 3), np.uint8)
    if ratio >= 1:
        left = int(np.round((new_w - width) / 2))
        top = int(np.round((new_h - height) / 2))
        for y in range(new_h):
            for x in range(new_w):
                inside = 0 <= y - top < height and 0 <= x - left < width
                out[y, x] = image[y - top, x - left] if inside else 128
    else:
        left = int(np.round((width - new_w) / 2))
        top = int(np.round((height - new_h) / 2))
        for y in range(new_h):
            for x in range(new_w):
                out[y, x] = image[y + top, x + left]
    return out


def test_hand_computed_padding_and_crop():
    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    padded = placement.place_on_screen(image, 4, 8)
    assert padded.shape == (8, 8, 3)
    np.testing.assert_array_equal(padded[2:6, 2:6], image)
    assert (padded[:2] == 128).all() and (padded[:, 6:] == 128).all()
    cropped = placement.place_on_screen(padded, 8, 4)
    np.testing.assert_array_equal(cropped, image)
    assert placement.place_on_screen(image, 8, 8) is image
    # 1.25 * 2 = 2.5 rounds half to even (2); 1.25 * 6 = 7.5 -> 8
    assert placement.place_on_screen(np.zeros((6, 2, 3), np.uint8), 8,
                                     10).shape == (8, 2, 3)


@pytest.mark.parametrize("shape, source, target", [
    ((9, 7), 8, 10), ((10, 13), 8, 12.3), ((12, 12), 10, 8),
    ((11, 15), 10, 7.1), ((5, 9), 3, 3.5)])
def test_placement_equals_the_restated_rule(shape, source, target):
    image = np.random.default_rng(0).integers(0, 256, shape + (3,),
                                              dtype=np.uint8)
    np.testing.assert_array_equal(
        placement.place_on_screen(image, source, target),
        _restated(image, source, target))


def test_bad_degrees_and_images_fail_clearly():
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="source_degrees must be a positive"):
        placement.place_on_screen(image, 0, 8)
    with pytest.raises(ValueError, match="image must be uint8"):
        placement.place_on_screen(image.astype(float), 8, 10)
    with pytest.raises(ValueError, match="leaves 0x0 pixels"):
        placement.place_on_screen(image, 100, 1)


def test_read_image_converts_to_rgb_and_names_unreadable_files(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    Image.fromarray(grey, mode="L").save(tmp_path / "grey.png")
    rgb = placement.read_image(tmp_path / "grey.png")
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[..., 1], grey)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="notes.png' cannot be read as an"):
        placement.read_image(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="missing.png' cannot be read: no"):
        placement.read_image(tmp_path / "missing.png")
