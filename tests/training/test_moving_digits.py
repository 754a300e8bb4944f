"""The moving-digit generator: physics, masks and frames agree, seeds."""

import numpy as np
import pytest

from training.data import moving_digits as md


@pytest.fixture(scope="module")
def clips():
    return md.moving_digits("train", n_clips=12, frames=16, debris=5,
                            occlusion=0.15, seed=3)


def test_deterministic_from_the_seed(clips):
    again = md.moving_digits("train", n_clips=12, frames=16, debris=5,
                             occlusion=0.15, seed=3)
    for key in clips:
        np.testing.assert_array_equal(clips[key], again[key])
    other = md.moving_digits("train", n_clips=12, frames=16, debris=5,
                             occlusion=0.15, seed=4)
    assert not np.array_equal(clips["frames"], other["frames"])
    test = md.moving_digits("test", n_clips=12, frames=16, debris=5,
                            occlusion=0.15, seed=3)
    assert not np.array_equal(clips["frames"], test["frames"])


def test_digits_bounce_inside_the_frame_at_constant_speed(clips):
    pos, vel = clips["positions"], clips["velocities"]
    limit = 32 - 16
    assert pos.min() >= 0 and pos.max() <= limit
    speed = np.linalg.norm(vel, axis=-1)
    np.testing.assert_allclose(speed, np.broadcast_to(speed[:, :1], speed.shape),
                               rtol=1e-5)
    assert 1.0 - 1e-5 <= speed.min() and speed.max() <= 3.0 + 1e-5
    step = pos[:, 1:] - pos[:, :-1]
    free = np.all((pos[:, :-1] + vel[:, :-1] >= 0)
                  & (pos[:, :-1] + vel[:, :-1] <= limit), axis=-1)
    np.testing.assert_allclose(step[free], vel[:, :-1][free], atol=1e-5)
    # after a bounce the velocity component changed sign
    flipped = np.sign(vel[:, 1:]) != np.sign(vel[:, :-1])
    crossed = ((pos[:, :-1] + vel[:, :-1] < 0)
               | (pos[:, :-1] + vel[:, :-1] > limit))
    np.testing.assert_array_equal(flipped, crossed & (vel[:, :-1] != 0))


def test_masks_frames_and_occluders_agree(clips):
    frames = clips["frames"][..., 0]
    seg, occ = clips["segmentation"], clips["occluder_masks"]
    masks = clips["digit_masks"]
    assert np.all(frames[occ] == 128)
    assert not np.any(seg[occ])
    visible = masks.any(axis=2) & ~occ
    np.testing.assert_array_equal(seg > 0, visible)
    assert np.all(frames[visible] >= 64)
    # the visible class is one of the clip's digits
    for n in range(len(seg)):
        classes = set(np.unique(seg[n])) - {0}
        assert classes <= set(clips["labels"][n] + 1)
    covered = occ[:, 0].mean(axis=(1, 2))
    assert covered.min() >= 0.15
    assert 0 < masks.mean() < 0.5


def test_no_occlusion_no_debris_frames_are_the_digits_alone():
    clip = md.moving_digits("test", n_clips=3, frames=4, seed=0)
    assert not clip["occluder_masks"].any()
    frames = clip["frames"][..., 0]
    assert np.all(frames[~clip["digit_masks"].any(axis=2)] < 64)


@pytest.mark.parametrize("kwargs, match", [
    ({"occlusion": 1.0}, "occlusion"),
    ({"speed": (3, 1)}, "speed"),
    ({"digit_size": 40}, "digit_size"),
    ({"frames": 0}, "frames"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        md.moving_digits("train", n_clips=2, **kwargs)
