"""§5.1 preprocessing, each map function run eagerly and in Dataset.map."""

import numpy as np
import pytest
import tensorflow as tf

from training.data import preprocessing as pp


def tfrun(fn, *args):
    """Runs `fn` eagerly and inside `Dataset.map`; returns both results."""
    eager = fn(*[tf.convert_to_tensor(a) for a in args])
    dataset = tf.data.Dataset.from_tensors(tuple(args)).map(fn)
    graph = next(iter(dataset))
    return np.asarray(eager), np.asarray(graph)


def both(fn, *args):
    eager, graph = tfrun(fn, *args)
    np.testing.assert_allclose(eager, graph, rtol=1e-6, atol=1e-6)
    return eager


def _image(h=20, w=30, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c),
                                                dtype=np.uint8)


def test_to_unit_range_uint8_and_float_inputs():
    img = _image()
    np.testing.assert_allclose(both(pp.to_unit_range, img), img / 255.0,
                               rtol=1e-6)
    unit = (img / 255.0).astype("float32")
    np.testing.assert_allclose(both(pp.to_unit_range, unit), unit)
    wide = img.astype("float64")
    np.testing.assert_allclose(both(pp.to_unit_range, wide), img / 255.0,
                               rtol=1e-6)
    batch = np.stack([img, img])
    assert both(pp.to_unit_range, batch).shape == (2, 20, 30, 3)


def test_to_unit_range_rejects_out_of_range_floats():
    bad = np.full((4, 4, 3), 300.0, "float32")
    with pytest.raises(ValueError, match=r"\[0, 1\] or \[0, 255\].*300"):
        pp.to_unit_range(bad)
    dataset = tf.data.Dataset.from_tensors(-bad).map(pp.to_unit_range)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"\[0, 1\] or \[0, 255\]"):
        next(iter(dataset))


@pytest.mark.parametrize("image, match", [
    (np.zeros((4, 4, 3), np.int32), "must be uint8 .* got dtype int32"),
    (np.zeros((4, 4, 3), bool), "must be uint8 .* got dtype bool"),
    (np.zeros((4, 4), np.uint8), r"must have shape \[H, W, C\]"),
    (np.zeros((1, 2, 4, 4, 3), np.uint8), r"got shape \[1, 2, 4, 4, 3\]"),
    (np.zeros((4, 4, 2), np.uint8), "1 or 3 channels"),
])
def test_bad_dtype_rank_channels(image, match):
    with pytest.raises(ValueError, match=match):
        pp.to_unit_range(image)
    with pytest.raises(ValueError, match=match):
        tf.data.Dataset.from_tensors(image).map(pp.to_unit_range)
    with pytest.raises(ValueError, match=match):
        pp.preprocess_for_eval(image, 8)


def test_normalize_constants_and_grayscale():
    assert pp.IMAGENET_MEAN == (0.485, 0.456, 0.406)
    assert pp.IMAGENET_STD == (0.229, 0.224, 0.225)
    x = (_image() / 255.0).astype("float32")
    expected = (x - np.array([0.485, 0.456, 0.406])) / np.array(
        [0.229, 0.224, 0.225])
    np.testing.assert_allclose(both(pp.normalize, x), expected, rtol=1e-5)
    gray = x[..., :1]
    np.testing.assert_allclose(both(pp.normalize, gray),
                               (gray - 0.449) / 0.226, rtol=1e-5)
    custom = both(lambda im: pp.normalize(im, mean=(0.5,), std=(0.25,)), x)
    np.testing.assert_allclose(custom, (x - 0.5) / 0.25, rtol=1e-6)
    with pytest.raises(ValueError, match="mean must have 1 or 1 entries"):
        pp.normalize(gray, mean=pp.IMAGENET_MEAN)
    with pytest.raises(ValueError, match="std must be positive"):
        pp.normalize(x, std=(0.0,))


def test_center_crop_geometry_is_exact():
    img = _image(32, 32, 3).astype("float32")
    # crop_fraction 0.5: the 32×32 image is already 16 / 0.5, so no resize;
    # the central 16×16 window is cut out.
    out = both(lambda im: pp.resize_and_center_crop(im, 16, 0.5), img)
    np.testing.assert_allclose(out, img[8:24, 8:24], atol=1e-4)
    # crop_fraction 1 on an image of the output size: identity.
    out = both(lambda im: pp.resize_and_center_crop(im, 32, 1.0), img)
    np.testing.assert_allclose(out, img, atol=1e-4)
    # Non-square input and output sizes.
    out = both(lambda im: pp.resize_and_center_crop(im, (12, 20)),
               _image(48, 64))
    assert out.shape == (12, 20, 3)
    with pytest.raises(ValueError, match="crop_fraction must be in"):
        pp.resize_and_center_crop(img, 16, 1.5)


def test_random_resized_crop_identity_and_determinism():
    img = _image(24, 24).astype("float32")
    seed = np.array([1, 2], np.int64)
    ident = both(lambda im, s: pp.random_resized_crop(
        im, 24, scale=(1.0, 1.0), ratio=(1.0, 1.0), seed=s), img, seed)
    np.testing.assert_allclose(ident, img, atol=1e-3)
    crop = both(lambda im, s: pp.random_resized_crop(im, 8, seed=s),
                _image(40, 60), seed)
    assert crop.shape == (8, 8, 3)
    assert 0 <= crop.min() and crop.max() <= 255
    other = pp.random_resized_crop(_image(40, 60), 8,
                                   seed=tf.constant([3, 4], tf.int64))
    assert not np.allclose(crop, other)
    stateful = pp.random_resized_crop(_image(40, 60), (6, 10))
    assert stateful.shape == (6, 10, 3)
    with pytest.raises(ValueError, match="scale must satisfy"):
        pp.random_resized_crop(img, 8, scale=(0.5, 1.5))


def test_random_flip_is_a_mirror_and_seeded():
    img = _image(5, 7)
    outcomes = set()
    for i in range(8):
        seed = np.array([i, 0], np.int64)
        out = both(lambda im, s: pp.random_flip(im, seed=s), img, seed)
        if np.array_equal(out, img):
            outcomes.add("same")
        else:
            np.testing.assert_array_equal(out, img[:, ::-1])
            outcomes.add("flipped")
    assert outcomes == {"same", "flipped"}


def test_train_and_eval_transforms():
    img = _image(40, 50)
    seed = np.array([5, 6], np.int64)
    train = both(lambda im, s: pp.preprocess_for_train(im, 16, seed=s),
                 img, seed)
    assert train.shape == (16, 16, 3) and train.dtype == np.float32
    lo = (0 - np.array(pp.IMAGENET_MEAN)) / np.array(pp.IMAGENET_STD)
    hi = (1 - np.array(pp.IMAGENET_MEAN)) / np.array(pp.IMAGENET_STD)
    assert np.all(train >= lo - 1e-4) and np.all(train <= hi + 1e-4)
    unit = both(lambda im, s: pp.preprocess_for_train(
        im, 16, seed=s, normalized=False), img, seed)
    np.testing.assert_allclose(pp.normalize(unit).numpy(), train, atol=1e-5)
    evaluated = both(lambda im: pp.preprocess_for_eval(im, 16), img)
    expected = pp.normalize(pp.resize_and_center_crop(img / 255.0, 16))
    np.testing.assert_allclose(evaluated, expected.numpy(), atol=1e-5)


def test_decode_and_random_crop_matches_full_decode():
    img = _image(30, 40)
    jpeg = tf.io.encode_jpeg(img, quality=95)
    seed = np.array([0, 1], np.int64)
    out = both(lambda b, s: pp.decode_and_random_crop(
        b, (15, 20), seed=s, scale=(1.0, 1.0), ratio=(4 / 3, 4 / 3)),
        jpeg, seed)
    decoded = tf.cast(tf.io.decode_jpeg(jpeg), tf.float32) / 255.0
    expected = tf.image.resize(decoded, (15, 20), antialias=True)
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5)
    crop = both(lambda b, s: pp.decode_and_random_crop(b, 12, seed=s),
                jpeg, seed)
    assert crop.shape == (12, 12, 3)
