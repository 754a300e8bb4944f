"""Occluded digits (`training.data.occluders`)."""

import numpy as np
import pytest

from training.data import occluders
from training.data.mnist_debris import digit_debris


def _digits(n=40):
    x, _, info = digit_debris("test", "none", return_info=True)
    return x[:n], x[:n]


@pytest.mark.parametrize("kind", occluders.KINDS)
@pytest.mark.parametrize("level", [0.2, 0.5, 0.8])
def test_covers_at_least_the_level(kind, level):
    images, clean = _digits()
    out, coverage, levels = occluders.occlude(images, clean, level, kind,
                                              seed=1)
    assert np.all(levels == np.float32(level))
    assert np.all(coverage >= level) and coverage.mean() < level + 0.15
    ink = clean[..., 0] >= occluders.INK
    changed = out != images
    # occluder pixels are the opaque gray, and hide exactly the counted ink
    assert np.all(out[changed] == 128)
    # (ink that was already 128 cannot be told apart from an occluder)
    total = ink.sum((1, 2))
    changed_ink = (changed[..., 0] & ink).sum((1, 2)) / total
    gray_ink = ((out[..., 0] == 128) & ink).sum((1, 2)) / total
    assert np.all(changed_ink <= coverage + 1e-6)
    assert np.all(coverage <= gray_ink + 1e-6)


def test_zero_level_and_ranges():
    images, clean = _digits()
    out, coverage, _ = occluders.occlude(images, clean, 0.0)
    np.testing.assert_array_equal(out, images)
    assert not coverage.any()
    _, coverage, levels = occluders.occlude(images, clean, (0.1, 0.7),
                                            seed=2)
    assert levels.min() >= 0.1 and levels.max() <= 0.7
    assert np.all(coverage >= levels) and levels.std() > 0.05


def test_deterministic_and_split_pools():
    a = occluders.occluded_digits("train", 0.4, seed=3)
    b = occluders.occluded_digits("train", 0.4, seed=3)
    c = occluders.occluded_digits("train", 0.4, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert (a[0] != c[0]).any()
    x, y, coverage = occluders.occluded_digits("test", 0.6, kind="bars",
                                               debris="light",
                                               return_coverage=True)
    assert x.shape == (1000, 32, 32, 1) and np.bincount(y).tolist() == [100] * 10
    assert 0.6 <= coverage.mean() < 0.75


def test_bad_input():
    images, clean = _digits(2)
    with pytest.raises(ValueError, match=r"share of the digit's ink in \[0, 0.95\]"):
        occluders.occlude(images, clean, 1.5)
    with pytest.raises(ValueError, match="share of the digit"):
        occluders.occlude(images, clean, (0.6, 0.2))
    with pytest.raises(ValueError, match="kind must be one of"):
        occluders.occlude(images, clean, 0.3, kind="clouds")
    with pytest.raises(ValueError, match="same N, H, W"):
        occluders.occlude(images, clean[:1], 0.3)
    with pytest.raises(ValueError, match="split must be one of"):
        occluders.occluded_digits("valid")


def test_task_datasets():
    from training import tasks
    task = tasks.occluded_digits_task(occlusion=[0.0, 0.5], eval_occlusion=0.3,
                                      batch_size=16, eval_batch_size=500)
    images, labels = next(iter(task.train_dataset()))
    assert images.shape == (16, 32, 32, 1) and images.dtype.name == "float32"
    assert sum(1 for _ in task.eval_dataset()) == 2
    assert task.meta["eval_occlusion"] == 0.3
