"""`movie_folder_task`: train on your own videos (no labels needed).

    make_task.task = @movie_folder_task
    movie_folder_task.root = "/data/my_clips"    # <video>/<frames> or .gif
    movie_folder_task.objectives = {"next_frame": {"offset": 1}}
    movie_folder_task.frames = 12                # model steps per clip
    movie_folder_task.frame_rate_hz = 25         # 4 steps per frame
    movie_folder_task.image_size = 32
    train.model_fn = @small_convrnn
    small_convrnn.times = 12

`root` holds one subfolder of frames (PNG / JPEG / BMP, sorted by name) or
one animated GIF per video (`training.data.movies`; other video formats:
convert with ffmpeg). Videos are cut into clips of `frames` model steps
under the frame-rate rule (`training.data.movie_clips`: each frame of an
F Hz video lasts (1000 / F) / 10 steps); training clips get one random crop
(`crop_size`) and flip per clip, evaluation clips the central crop; both
are resized to `image_size`. Held-out clips come from whole held-out
videos: `eval_root`, or else a seeded `eval_fraction` of the videos of
`root` (at least one).

Objectives: "next_frame" (target: the clip in [0, 1]) and "contrastive"
(InfoNCE between steps of a clip; no target), as `MovieModel` settings.
"""

import gin
import numpy as np

from tnn import utils

from .data import movies, pipeline
from .data.movie_clips import check_objectives
from .movie_tasks import MovieTask

KINDS = ("next_frame", "contrastive")


def _objectives(objectives):
    if isinstance(objectives, str):
        objectives = (objectives,)
    result = ({k: dict(v) for k, v in objectives.items()}
              if isinstance(objectives, dict)
              else {kind: {} for kind in objectives})
    kinds = tuple(s.get("kind", n) for n, s in result.items())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f"movie_folder_task.objectives: {bad or kinds!r} "
                         f"need labels or masks that video folders do not "
                         f"have; use some of {KINDS}.")
    return result, check_objectives(kinds, False)


def _split(names, videos, eval_fraction, seed):
    if not 0 < eval_fraction < 1:
        raise ValueError(f"eval_fraction must be in (0, 1), got "
                         f"{eval_fraction!r}.")
    if len(videos) < 2:
        raise ValueError(f"{len(videos)} video: held-out clips need at "
                         f"least 2 videos, or pass eval_root.")
    order = np.random.default_rng(seed).permutation(len(videos))
    n_eval = min(max(1, round(eval_fraction * len(videos))),
                 len(videos) - 1)
    pick = [sorted(order[n_eval:]), sorted(order[:n_eval])]
    return [([names[i] for i in p], [videos[i] for i in p]) for p in pick]


@gin.configurable
def movie_folder_task(root=gin.REQUIRED, objectives=("next_frame",),
                      frames=12, frame_rate_hz=100.0, stride=None,
                      resample=None, image_size=32, crop_size=None,
                      channels=1, flip=True, eval_root=None,
                      eval_fraction=0.2, batch_size=16,
                      eval_batch_size=None, seed=0):
    """A `MovieTask` on the videos of a folder (module docs).

    Args:
        root: folder of frame folders and / or GIF files.
        objectives: kinds ("next_frame", "contrastive") or a dict name ->
            `MovieModel` settings.
        frames: model steps per clip (10 ms each).
        frame_rate_hz, stride, resample: clip sampling
            (`movie_clips.sample_clips`; stride in steps, default
            `frames`).
        image_size: side of the model's square frames.
        crop_size: side of the crop taken before resizing (None: none).
        channels: 1 (grey) or 3 (RGB).
        flip: random left-right flip per training clip.
        eval_root: folder of held-out videos (default: split `root`).
        eval_fraction: share of `root`'s videos held out without
            `eval_root`.
        batch_size, eval_batch_size: batch sizes.
        seed: seed of the split, the shuffling and the augmentation.
    """
    objectives, kinds = _objectives(objectives)
    image_size = pipeline.check_positive_int(image_size, "image_size")
    names, videos = movies.load_videos(root, channels)
    if eval_root is None:
        train, held = _split(names, videos, eval_fraction, seed)
    else:
        train, held = (names, videos), movies.load_videos(eval_root,
                                                          channels)
    settings = dict(clip_length=frames, stride=stride, resample=resample,
                    objectives=kinds, image_size=image_size,
                    crop_size=crop_size, seed=seed)

    def make(split, size, training):
        return movies.movies_from_arrays(
            split[1], None, frame_rate_hz, training=training,
            batch_size=size, flip=flip and training, **settings)

    for split in (train, held):  # bad input fails here, not in training
        movies.movies_from_arrays(split[1], None, frame_rate_hz,
                                  batch_size=1, **settings)
    mean, std = utils.normalization_constants(channels)
    eval_batch_size = eval_batch_size or batch_size
    return MovieTask(
        name=f"movie_folder_{'_'.join(kinds)}",
        input_shape=(image_size, image_size, channels), frames=frames,
        objectives=objectives,
        train_dataset=lambda: make(train, batch_size, True),
        eval_dataset=lambda: make(held, eval_batch_size, False),
        mean=mean, std=std)
