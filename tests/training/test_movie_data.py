"""Movie pipelines: the frame-rate rule, clip sampling, frame folders, GIFs,
arrays, tfds, per-clip augmentation, bad input and `movie_folder_task`."""

import os

import gin
import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from training import movie_sources, movie_tasks, tasks
from training.data import movies, preprocessing


def _unit(movie, channels=1):
    """Normalised movies back to [0, 1] (independent of the pipeline)."""
    mean = np.asarray(preprocessing.GRAYSCALE_MEAN if channels == 1
                      else preprocessing.IMAGENET_MEAN)
    std = np.asarray(preprocessing.GRAYSCALE_STD if channels == 1
                     else preprocessing.IMAGENET_STD)
    return np.asarray(movie) * std + mean


def test_frame_rate_rule_by_hand():
    assert [movies.steps_per_frame(f) for f in (100, 50, 25, 20, 10)] == \
        [1, 2, 4, 5, 10]
    np.testing.assert_array_equal(movies.frame_steps(3, 25),
                                  np.repeat([0, 1, 2], 4))
    # 30 Hz: frames last 33.3 ms; the step starting at t shows frame
    # floor(t / 33.3): t = 0..30 -> 0, 40..60 -> 1, 70..90 -> 2, 100..120
    # -> 3; 4 frames last 133 ms = 13 whole steps.
    np.testing.assert_array_equal(
        movies.frame_steps(4, 30, resample="nearest"),
        [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
    np.testing.assert_array_equal(       # 200 Hz: every other frame
        movies.frame_steps(5, 200, resample="nearest"), [0, 2])
    with pytest.raises(ValueError, match=r"frame_rate_hz=30: .*33.33 Hz "
                       r"\(3 steps per frame\) and 25 Hz .*resample"):
        movies.steps_per_frame(30)
    with pytest.raises(ValueError, match=r"frame_rate_hz=24: .*25 Hz .*"
                       r"20 Hz"):
        movies.frame_steps(10, 24)
    with pytest.raises(ValueError, match="100 Hz"):
        movies.steps_per_frame(200)


def test_clip_sampling_by_hand():
    # 3 frames at 25 Hz = 12 steps; clips of 5 steps every 2 steps start
    # at 0, 2, 4, 6 (8 + 5 > 12).
    np.testing.assert_array_equal(movies.sample_clips(3, 5, 2, 25), [
        [0, 0, 0, 0, 1], [0, 0, 1, 1, 1], [1, 1, 1, 1, 2],
        [1, 1, 2, 2, 2]])
    np.testing.assert_array_equal(movies.sample_clips(6, 3), [[0, 1, 2],
                                                              [3, 4, 5]])
    with pytest.raises(ValueError, match=r"2 frames at 50 Hz lasts 4 "
                       r"model steps.*clip_length=5.*clip_length <= 4"):
        movies.sample_clips(2, 5, frame_rate_hz=50)
    assert movies.sample_clips(2, 5, frame_rate_hz=50,
                               allow_short=True).shape == (0, 5)


def _indexed_videos(n_videos, n_frames, size=6):
    """uint8 videos whose frame f of video v has the value 10 v + f."""
    value = 10 * np.arange(n_videos)[:, None] + np.arange(n_frames)
    return np.broadcast_to(value[:, :, None, None, None],
                           (n_videos, n_frames, size, size, 1)).astype(
                               np.uint8)


def test_arrays_give_the_sampled_frames_and_targets():
    videos = _indexed_videos(3, 4)
    ds = movies.movies_from_arrays(videos, frame_rate_hz=50, clip_length=4,
                                   stride=2, objectives=("next_frame",
                                                         "contrastive"),
                                   batch_size=9)
    clips, targets = next(iter(ds))
    assert clips.shape == (9, 4, 6, 6, 1)
    expect = np.concatenate([10 * v + movies.sample_clips(4, 4, 2, 50)
                             for v in range(3)])
    np.testing.assert_allclose(_unit(clips)[:, :, 0, 0, 0] * 255, expect,
                               atol=1e-3)
    np.testing.assert_allclose(targets["next_frame"][..., 0, 0, 0] * 255,
                               expect, atol=1e-3)
    assert targets["contrastive"].shape == (9,)
    with pytest.warns(UserWarning, match="dropped 1 of 2 videos"):
        short = movies.movies_from_arrays([videos[0], videos[1, :1]],
                                          clip_length=3, batch_size=4)
    assert next(iter(short)).shape == (1, 3, 6, 6, 1)


def _write_frames(folder, frames):
    os.makedirs(folder, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(os.path.join(folder, f"{i:03d}.png"))


def test_frame_folders_and_gifs(tmp_path):
    videos = _indexed_videos(2, 3, size=5)[..., 0] * 5
    for v, name in enumerate(("b", "a")):
        _write_frames(tmp_path / "root" / name, videos[v])
    ds = movies.movies_from_frame_folders(tmp_path / "root", channels=1,
                                          clip_length=3, batch_size=2)
    got = np.round(_unit(next(iter(ds)))[..., 0] * 255)
    np.testing.assert_array_equal(got, videos[::-1])   # sorted: a, b
    # Animated GIF (written with Pillow), read with tf.io.decode_gif.
    frames = [Image.fromarray(np.full((4, 4), 40 * i + 20, np.uint8))
              .convert("RGB") for i in range(3)]
    gif = str(tmp_path / "clip.gif")
    frames[0].save(gif, save_all=True, append_images=frames[1:],
                   duration=40, loop=0)
    ds = movies.movies_from_video_files([gif], frame_rate_hz=25,
                                        clip_length=12, batch_size=1)
    got = np.round(_unit(next(iter(ds)), 3) * 255)[0, :, 0, 0]
    np.testing.assert_allclose(got, np.repeat([[20] * 3, [60] * 3,
                                               [100] * 3], 4, axis=0),
                               atol=1)
    with pytest.raises(ValueError, match=r"'.*clip.mp4': .mp4 video needs "
                       r"a decoder .*ffmpeg -i clip.mp4 frames/%05d.png"):
        movies.movies_from_video_files([str(tmp_path / "clip.mp4")])


def test_tfds_video_sets_are_prepared_from_manual_dir_only(tmp_path):
    class TinyFakeVideos(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")
        MANUAL_DOWNLOAD_INSTRUCTIONS = "videos.npy in manual_dir"

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self, features=tfds.features.FeaturesDict({
                    "video": tfds.features.Tensor(shape=(None, 4, 4, 1),
                                                  dtype=np.uint8)}))

        def _split_generators(self, dl_manager):
            path = os.path.join(dl_manager.manual_dir, "videos.npy")
            return {"train": self._generate_examples(path)}

        def _generate_examples(self, path):
            for i, video in enumerate(np.load(path)):
                yield i, {"video": video}

    options = dict(data_dir=str(tmp_path / "tfds"), frame_rate_hz=50,
                   clip_length=4, batch_size=2, training=False)
    with pytest.raises(ValueError, match="not prepared .*no manual_dir"):
        movies.movies_from_tfds("tiny_fake_videos", **options)
    os.makedirs(tmp_path / "manual")
    np.save(tmp_path / "manual" / "videos.npy",
            _indexed_videos(2, 2, size=4))
    ds = movies.movies_from_tfds("tiny_fake_videos",
                                 manual_dir=str(tmp_path / "manual"),
                                 **options)
    got = np.round(_unit(next(iter(ds)))[:, :, 0, 0, 0] * 255)
    np.testing.assert_array_equal(np.sort(got, axis=0),
                                  [[0, 0, 1, 1], [10, 10, 11, 11]])
    again = movies.movies_from_tfds("tiny_fake_videos", **options)
    assert next(iter(again)).shape == (2, 4, 4, 4, 1)


def test_augmentation_is_the_same_on_every_frame_and_mask():
    # Channels encode row, column and frame: the crop and flip of each
    # frame can be read off its pixels.
    n, t, size, crop = 12, 3, 9, 5
    rows, cols = np.meshgrid(np.arange(size), np.arange(size),
                             indexing="ij")
    frames = np.zeros((n, t, size, size, 3), np.float32)
    frames[..., 0], frames[..., 1] = rows / 8.0, cols / 8.0
    frames[..., 2] = (np.arange(t) / 2.0)[None, :, None, None]
    masks = np.broadcast_to(rows * size + cols, (n, t, size, size))
    kwargs = dict(clip_length=t, crop_size=crop, batch_size=n,
                  objectives=("next_frame", "segmentation"))
    ds = movies.movies_from_arrays(frames, masks, training=True, seed=3,
                                   **kwargs)
    _, targets = next(iter(ds))
    seen = np.round(targets["next_frame"].numpy() * 8).astype(int)
    top, left = seen[:, :, 0, 0, 0], seen[:, :, 0, 0, 1]
    step = np.sign(seen[:, :, 0, 1, 1] - seen[:, :, 0, 0, 1])  # -1: flip
    for values in (top, left, step):   # one window / flip per clip
        assert (values == values[:, :1]).all()
    assert len(set(zip(top[:, 0], left[:, 0]))) > 2
    assert set(step[:, 0]) == {-1, 1}
    np.testing.assert_array_equal(     # masks cropped and flipped alike
        targets["segmentation"], seen[..., 0] * size + seen[..., 1])
    assert (seen[:, :, 0, 0, 2] == [0, 4, 8]).all()  # frame order kept
    _, targets = next(iter(movies.movies_from_arrays(frames, masks,
                                                     **kwargs)))
    np.testing.assert_array_equal(targets["segmentation"][:, :, 0, 0],
                                  2 * size + 2)   # central, no flip


def test_bad_input_messages(tmp_path):
    videos = _indexed_videos(2, 4)
    with pytest.raises(ValueError, match=r"masks of shape \(4, 5, 6\) do "
                       r"not match their frames \(4, 6, 6, 1\)"):
        movies.movies_from_arrays(videos, np.zeros((2, 4, 5, 6), int))
    with pytest.raises(ValueError, match="frame_rate_hz=30"):
        movies.movies_from_arrays(videos, frame_rate_hz=30, clip_length=2)
    with pytest.raises(ValueError, match="lasts 4 model steps"):
        movies.movies_from_arrays(videos[:1], clip_length=6)
    with pytest.raises(ValueError, match="all 2 videos are shorter"):
        movies.movies_from_arrays(videos, clip_length=6)
    with pytest.raises(ValueError, match="'segmentation' objective needs"):
        movies.movies_from_arrays(videos, objectives="segmentation")
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        movies.movies_from_arrays(videos.astype(np.float32))
    frames = [np.zeros((5, 5), np.uint8), np.zeros((6, 5), np.uint8)]
    _write_frames(tmp_path / "root" / "clip7", frames)
    with pytest.raises(ValueError, match=r"'.*clip7': frames of different "
                       r"sizes, 000.png is \(5, 5\) .* 001.png is \(6, 5\)"):
        movies.movies_from_frame_folders(tmp_path / "root")


def test_movie_folder_task_through_gin(tmp_path):
    for v in range(3):
        _write_frames(tmp_path / "clips" / f"v{v}",
                      _indexed_videos(1, 6, size=10)[0, ..., 0] + v)
    gin.clear_config()
    try:
        gin.parse_config([
            "make_task.task = @movie_folder_task",
            f"movie_folder_task.root = '{tmp_path / 'clips'}'",
            "movie_folder_task.objectives = ('next_frame', 'contrastive')",
            "movie_folder_task.frames = 4", "movie_folder_task.stride = 2",
            "movie_folder_task.image_size = 8",
            "movie_folder_task.crop_size = 9",
            "movie_folder_task.batch_size = 2"])
        task = tasks.make_task()
    finally:
        gin.clear_config()
    assert task.input_shape == (8, 8, 1) and task.frames == 4
    train = movie_tasks.check_dataset(task.train_dataset(), (8, 8, 1),
                                      "train")
    held = movie_tasks.check_dataset(task.eval_dataset(), (8, 8, 1), "eval")
    # 2 training videos x 2 clips (6 steps, starts 0, 2), 1 held out.
    assert sum(1 for _ in train) == 2 and sum(1 for _ in held) == 1
    with pytest.raises(ValueError, match="need labels or masks"):
        movie_sources.movie_folder_task(tmp_path / "clips",
                                        objectives="segmentation")
