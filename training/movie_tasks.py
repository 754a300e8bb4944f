"""Movie tasks: next-frame prediction, segmentation, classes, contrastive.

A `MovieTask` is what `training.train` trains when gin binds
`make_task.task = @moving_digits_task` (see gin_configs/tasks/next_frame.gin,
segmentation.gin, contrastive.gin). Its datasets yield normalised movies
`[B, T, H, W, C]` and a dict of targets, one per objective; the model is a
`tnn.tasks.movie_model.MovieModel` on the task's backbone with the task's
objectives (`MovieModel`'s docs list the heads, losses and metrics).

    moving_digits_task.objectives = ("next_frame", "segmentation")
    moving_digits_task.occlusion = 0.2

Targets per objective: "next_frame" the clip in [0, 1]; "segmentation" the
visible class per pixel (0 = background, 1 + digit); "classes" the count
of each digit class in the clip; "contrastive" nothing (zeros).
Nodes: an objective's "nodes" setting, or "auto": the backbone's conv
(4-D) nodes in feed-forward order — the first two for next_frame, all for
segmentation, the last for classes and contrastive.
"""

import dataclasses

import gin
import numpy as np
import tensorflow as tf

from tnn.tasks.movie_model import MovieModel
from .data import moving_digits as md
from .data import preprocessing

KINDS = ("next_frame", "segmentation", "classes", "contrastive")


@dataclasses.dataclass(frozen=True)
class MovieTask:
    """A movie task (see the module docstring).

    Attributes:
        name: short name.
        input_shape: `(H, W, C)` of a frame.
        frames: frames per clip (the model's steps).
        objectives: dict output name -> MovieModel objective settings.
        train_dataset, eval_dataset: `() -> tf.data.Dataset` of
            `(movies, targets)`.
        num_classes: units of the backbone's own readout.
        mean, std: the frames' normalisation.
    """

    name: str
    input_shape: tuple
    frames: int
    objectives: dict
    train_dataset: object
    eval_dataset: object
    num_classes: int = md.mnist.NUM_CLASSES
    class_names: tuple = ()
    mean: tuple = preprocessing.GRAYSCALE_MEAN
    std: tuple = preprocessing.GRAYSCALE_STD

    def make_model(self, backbone, recurrence="on"):
        return MovieModel(backbone, resolve_nodes(self.objectives, backbone),
                          recurrence=recurrence)


def conv_nodes(backbone):
    """The backbone's nodes with feature maps, in feed-forward order."""
    return [n for n in backbone.spec.feedforward_order()
            if len(backbone.output_shapes[n]) == 3]


def resolve_nodes(objectives, backbone):
    """Objective settings with "auto" nodes replaced (module docs)."""
    convs = conv_nodes(backbone)
    if not convs:
        raise ValueError(f"{backbone.name} has no node with feature maps "
                         f"[B, h, w, c] for the movie heads to read.")
    auto = {"next_frame": convs[:2], "segmentation": convs,
            "classes": convs[-1:], "contrastive": convs[-1:]}
    result = {}
    for name, settings in objectives.items():
        settings = dict(settings)
        if settings.get("nodes", "auto") == "auto":
            settings["nodes"] = auto[settings.get("kind", name)]
        result[name] = settings
    return result


def _targets(clips, kinds):
    frames = clips["frames"].astype(np.float32) / 255.0
    out = {}
    for kind in kinds:
        if kind == "next_frame":
            out[kind] = frames
        elif kind == "segmentation":
            out[kind] = clips["segmentation"].astype(np.int32)
        elif kind == "classes":
            out[kind] = np.stack([np.bincount(lab, minlength=10)
                                  for lab in clips["labels"]]).astype(
                                      np.float32)
        else:
            out[kind] = np.zeros(len(frames), np.float32)
    return out


def movie_dataset(clips, kinds, batch_size, training, seed=0, mean=None,
                  std=None):
    """`(normalised movies, targets)` batches of generated clips."""
    frames = clips["frames"]
    mean = preprocessing.GRAYSCALE_MEAN if mean is None else mean
    std = preprocessing.GRAYSCALE_STD if std is None else std
    dataset = tf.data.Dataset.from_tensor_slices(
        (frames, _targets(clips, kinds)))

    def normalise(movie, targets):
        return preprocessing.normalize(preprocessing.to_unit_range(movie),
                                       mean, std), targets

    if training:
        dataset = dataset.shuffle(len(frames), seed=seed,
                                  reshuffle_each_iteration=True)
    return (dataset.map(normalise, num_parallel_calls=tf.data.AUTOTUNE)
            .batch(batch_size, drop_remainder=training)
            .prefetch(tf.data.AUTOTUNE))


def check_dataset(dataset, input_shape, split):
    """Checks batches of `(float movies [B, T, H, W, C], targets dict)`."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2 or not isinstance(
            spec[1], dict):
        raise ValueError(f"The {split} movie dataset must yield (movies, "
                         f"{{objective: target}}) pairs, got {spec}.")
    shape = spec[0].shape
    if shape.rank != 5 or not spec[0].dtype.is_floating:
        raise ValueError(f"The {split} movie dataset must yield normalised "
                         f"float movies [B, T, H, W, C], got "
                         f"{spec[0].dtype.name} {shape}.")
    if tuple(shape[2:]) != tuple(input_shape):
        raise ValueError(f"The {split} movie dataset yields frames "
                         f"{tuple(shape[2:])} but the task says "
                         f"{tuple(input_shape)}.")
    return dataset


def _objectives(objectives):
    if isinstance(objectives, str):
        objectives = (objectives,)
    if isinstance(objectives, dict):
        result = {k: dict(v) for k, v in objectives.items()}
    else:
        result = {kind: {} for kind in objectives}
    unknown = [n for n, s in result.items()
               if s.get("kind", n) not in KINDS]
    if not result or unknown:
        raise ValueError(f"moving_digits_task.objectives: unknown or no "
                         f"objectives {unknown or objectives!r}; use some "
                         f"of {KINDS}.")
    return result


@gin.configurable
def moving_digits_task(objectives=("next_frame",), frames=12,
                       train_clips=2000, eval_clips=500, image_size=32,
                       n_digits=2, debris=0, occlusion=0.0,
                       speed=(1.0, 3.0), batch_size=32,
                       eval_batch_size=None, seed=0, split_seed=0):
    """Moving digits from the embedded MNIST subset (`data.moving_digits`).

    Args:
        objectives: kinds ("next_frame", "segmentation", "classes",
            "contrastive"), or a dict name -> MovieModel settings (e.g.
            `{"next_frame": {"offset": 2, "nodes": ["conv1"]}}`).
        frames: frames per clip (= model steps, 10 ms each).
        train_clips, eval_clips: clips generated per split (held-out
            clips use the disjoint test pool of digits).
        image_size, n_digits, debris, occlusion, speed: see
            `data.moving_digits.render_moving_digits`.
        batch_size, eval_batch_size: batch sizes.
        seed: seed of the clips and the shuffling.
        split_seed: seed of the digit pools.
    """
    objectives = _objectives(objectives)
    kinds = [s.get("kind", n) for n, s in objectives.items()]
    render = dict(frames=frames, image_size=image_size, n_digits=n_digits,
                  debris=debris, occlusion=occlusion, speed=speed,
                  split_seed=split_seed)
    eval_batch_size = eval_batch_size or batch_size

    def make(split, count, size, training):
        clips = md.moving_digits(split, n_clips=count, seed=seed, **render)
        return movie_dataset(clips, kinds, size, training, seed=seed)

    return MovieTask(
        name=f"moving_digits_{'_'.join(kinds)}",
        input_shape=(image_size, image_size, 1), frames=frames,
        objectives=objectives,
        train_dataset=lambda: make("train", train_clips, batch_size, True),
        eval_dataset=lambda: make("test", eval_clips, eval_batch_size,
                                  False),
        class_names=tuple(str(d) for d in range(10)))
