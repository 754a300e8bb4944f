"""Tasks: what a model is trained on, chosen through gin.

A `Task` bundles the input shape, the number of classes and two dataset
factories (train and evaluation) yielding batches of normalised float32
images `[B, H, W, C]` and int labels `[B]` (`training.data`). The model is
built for the task's shape; the presentation over time happens inside the
model.

    make_task.task = @digit_debris_task      # the default
    digit_debris_task.level = "heavy"

    make_task.task = @image_folder_task
    image_folder_task.train_dir = "/data/flowers/train"

    make_task.task = @imagenet_task
    imagenet_task.manual_dir = "/data/imagenet"   # the two ILSVRC archives
"""

import dataclasses
import logging

import gin
import tensorflow as tf

from .data import (digit_debris_dataset, image_folder_dataset,
                           imagenet, list_image_folder)
from .data import pipeline, preprocessing
from .data.mnist import NUM_CLASSES as MNIST_CLASSES


@dataclasses.dataclass(frozen=True)
class Task:
    """A classification task.

    Attributes:
        name: short name (used in logs and reports).
        input_shape: `(H, W, C)` of the normalised images.
        num_classes: number of classes.
        train_dataset: `() -> tf.data.Dataset` of training batches.
        eval_dataset: `() -> tf.data.Dataset` of evaluation batches.
        class_names: the class names, in label order.
        mean, std: the per-channel normalisation of the images (for the
            uint8 serving signature): `(x / 255 − mean) / std`.
        meta: how the task's images were made, where a report needs it
            (e.g. `occluded_digits_task`'s occluder settings).
    """

    name: str
    input_shape: tuple
    num_classes: int
    train_dataset: object
    eval_dataset: object
    class_names: tuple = ()
    mean: tuple = preprocessing.IMAGENET_MEAN
    std: tuple = preprocessing.IMAGENET_STD
    meta: dict = dataclasses.field(default_factory=dict)


def normalization(channels):
    """ImageNet mean/std for RGB, their channel averages for grayscale."""
    if channels == 3:
        return preprocessing.IMAGENET_MEAN, preprocessing.IMAGENET_STD
    return preprocessing.GRAYSCALE_MEAN, preprocessing.GRAYSCALE_STD


def _check_size(image_size):
    return pipeline.check_positive_int(image_size, "image_size",
                                       " (square images)")


@gin.configurable
def digit_debris_task(level="heavy", image_size=32, channels=1, copies=1,
                      batch_size=64, eval_batch_size=None, seed=0,
                      split_seed=0):
    """Digit debris from the embedded MNIST subset (reference App. D).

    4,000 training and 1,000 held-out images per copy (disjoint digit
    pools); see `training.data.digit_debris`.

    Args:
        level: "none", "light" (10 fragments), "heavy" (50) or an int.
        image_size: side in pixels.
        channels: 1 or 3.
        copies: training images per source digit.
        batch_size: training batch size.
        eval_batch_size: evaluation batch size (default `batch_size`).
        seed: debris and shuffle seed.
        split_seed: seed of the train/test digit pools.
    """
    _check_size(image_size)
    mean, std = normalization(channels)
    eval_batch_size = eval_batch_size or batch_size
    return Task(
        name=f"digit_debris_{level}",
        input_shape=(image_size, image_size, channels),
        num_classes=MNIST_CLASSES,
        train_dataset=lambda: digit_debris_dataset(
            "train", level, batch_size=batch_size, image_size=image_size,
            channels=channels, copies=copies, seed=seed,
            split_seed=split_seed),
        eval_dataset=lambda: digit_debris_dataset(
            "test", level, batch_size=eval_batch_size, image_size=image_size,
            channels=channels, seed=seed, split_seed=split_seed),
        class_names=tuple(str(d) for d in range(MNIST_CLASSES)),
        mean=mean, std=std)


@gin.configurable
def occluded_digits_task(occlusion=(0.0, 0.8), eval_occlusion=None,
                         kind="blobs", debris="light", image_size=32,
                         copies=1, batch_size=64, eval_batch_size=None,
                         seed=0, split_seed=0):
    """Digits behind opaque occluders (`training.data.occluders`), over
    optional digit debris; the held-out pools of digit debris.

    Args:
        occlusion: share of each digit's ink hidden in training images, or
            `(low, high)` drawn per image (default 0–0.8).
        eval_occlusion: the same for held-out images (default `occlusion`).
        kind: "blobs" or "bars".
        debris: digit-debris level under the occluders.
        image_size, copies, batch_size, eval_batch_size, seed, split_seed:
            as `digit_debris_task`.
    """
    from .data.occluders import occluded_digits_dataset

    _check_size(image_size)
    eval_occlusion = occlusion if eval_occlusion is None else eval_occlusion
    mean, std = normalization(1)
    common = dict(kind=kind, debris=debris, image_size=image_size,
                  seed=seed, split_seed=split_seed)
    return Task(
        name=f"occluded_digits_{kind}",
        input_shape=(image_size, image_size, 1), num_classes=MNIST_CLASSES,
        train_dataset=lambda: occluded_digits_dataset(
            "train", occlusion, batch_size=batch_size, copies=copies,
            **common),
        eval_dataset=lambda: occluded_digits_dataset(
            "test", eval_occlusion,
            batch_size=eval_batch_size or batch_size, **common),
        class_names=tuple(str(d) for d in range(MNIST_CLASSES)),
        mean=mean, std=std,
        meta=dict(common, occlusion=occlusion, eval_occlusion=eval_occlusion))


@gin.configurable
def image_folder_task(train_dir=gin.REQUIRED, eval_dir=None, image_size=224,
                      channels=3, batch_size=64, eval_batch_size=None,
                      seed=0):
    """A folder of class subfolders (`<dir>/<class>/<image>`).

    Args:
        train_dir: training images; one subfolder per class (≥ 2).
        eval_dir: held-out images with the same class subfolders; None
            evaluates on `train_dir` (with evaluation preprocessing), which
            measures fit, not generalisation.
        image_size: side of the (square) crops.
        channels: 3 (RGB) or 1 (grayscale).
        batch_size: training batch size.
        eval_batch_size: evaluation batch size (default `batch_size`).
        seed: shuffle and augmentation seed.
    """
    _check_size(image_size)
    _, _, class_names = list_image_folder(train_dir)
    if eval_dir is None:
        logging.warning("image_folder_task: no eval_dir; evaluating on the "
                        "training images %s.", train_dir)
        eval_dir = train_dir
    else:
        _, _, eval_classes = list_image_folder(eval_dir)
        if eval_classes != class_names:
            raise ValueError(
                f"eval_dir {eval_dir!r} has classes {eval_classes} but "
                f"train_dir {train_dir!r} has {class_names}; both need the "
                f"same class subfolders.")
    mean, std = normalization(channels)
    eval_batch_size = eval_batch_size or batch_size
    return Task(
        name="image_folder",
        input_shape=(image_size, image_size, channels),
        num_classes=len(class_names),
        train_dataset=lambda: image_folder_dataset(
            train_dir, training=True, batch_size=batch_size,
            image_size=image_size, channels=channels, seed=seed)[0],
        eval_dataset=lambda: image_folder_dataset(
            eval_dir, training=False, batch_size=eval_batch_size,
            image_size=image_size, channels=channels)[0],
        class_names=tuple(class_names), mean=mean, std=std)


@gin.configurable
def imagenet_task(manual_dir=None, data_dir=None, image_size=224,
                  batch_size=64, eval_batch_size=None,
                  train_split="train", eval_split="validation", seed=0):
    """ImageNet 2012 through tfds, offline (`training.data.imagenet`).

    The archives are converted on first use (and a missing or incomplete
    `manual_dir` is reported then, before any model is built).

    Args:
        manual_dir: folder with ILSVRC2012_img_train.tar and
            ILSVRC2012_img_val.tar (needed until tfds has prepared them).
        data_dir: the TFDS data folder.
        image_size: side of the crops (224 in the zoo).
        batch_size: training batch size.
        eval_batch_size: evaluation batch size (default `batch_size`).
        train_split, eval_split: TFDS split strings ("train[:10%]", ...).
        seed: shuffle and augmentation seed.
    """
    _check_size(image_size)
    splits = imagenet.split_names(train_split) + imagenet.split_names(
        eval_split)
    imagenet.prepare_imagenet(splits, manual_dir=manual_dir,
                              data_dir=data_dir)
    eval_batch_size = eval_batch_size or batch_size
    return Task(
        name="imagenet2012",
        input_shape=(image_size, image_size, 3),
        num_classes=imagenet.NUM_CLASSES,
        train_dataset=lambda: imagenet.imagenet_dataset(
            train_split, manual_dir=manual_dir, data_dir=data_dir,
            training=True,
            batch_size=batch_size, image_size=image_size, seed=seed),
        eval_dataset=lambda: imagenet.imagenet_dataset(
            eval_split, manual_dir=manual_dir, data_dir=data_dir,
            training=False,
            batch_size=eval_batch_size, image_size=image_size),
        mean=preprocessing.IMAGENET_MEAN, std=preprocessing.IMAGENET_STD)


@gin.configurable
def make_task(task=digit_debris_task):
    """The task of a run: a `Task` or a `movie_tasks.MovieTask`, or a
    function returning one."""
    from .movie_tasks import MovieTask

    if callable(task) and not isinstance(task, (Task, MovieTask)):
        task = task()
    if not isinstance(task, (Task, MovieTask)):
        raise ValueError(f"make_task.task must be a Task or a function "
                         f"returning one (e.g. @digit_debris_task or "
                         f"@moving_digits_task), got {task!r}.")
    return task


def dataset_task(train_dataset, eval_dataset, num_classes, name="custom",
                 class_names=(), mean=None, std=None):
    """A `Task` from two ready `tf.data.Dataset`s of `(images, labels)`.

    The input shape is read from the training dataset's element spec.
    """
    spec = train_dataset.element_spec
    shape = tuple(spec[0].shape[1:]) if isinstance(spec, tuple) else ()
    check_dataset(train_dataset, shape, "train")
    default_mean, default_std = normalization(shape[-1])
    return Task(name=name, input_shape=shape, num_classes=num_classes,
                train_dataset=lambda: train_dataset,
                eval_dataset=lambda: eval_dataset,
                class_names=tuple(class_names),
                mean=tuple(mean or default_mean),
                std=tuple(std or default_std))


def check_dataset(dataset, input_shape, split):
    """Checks that batches are `(float images [B, H, W, C], int labels)`."""
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) != 2:
        raise ValueError(f"The {split} dataset must yield (images, labels) "
                         f"pairs, got elements {spec}.")
    images, labels = spec
    shape = images.shape
    if shape.rank != 4:
        raise ValueError(
            f"The {split} dataset yields images of shape {shape}, not "
            f"batches [B, H, W, C] (rank 4); batch it (dataset.batch(n)) "
            f"and give grayscale images a channel axis.")
    if not images.dtype.is_floating:
        raise ValueError(
            f"The {split} dataset yields {images.dtype.name} images; the "
            f"model takes normalised float images: map them through "
            f"training.data.normalize(training.data.to_unit_range(x)).")
    if tuple(input_shape) and tuple(shape[1:]) != tuple(input_shape):
        raise ValueError(
            f"The {split} dataset yields images {tuple(shape[1:])} but the "
            f"model takes {tuple(input_shape)}; change the task's "
            f"image_size/channels or the model's input_shape.")
    if not labels.dtype.is_integer or labels.shape.rank not in (1, None):
        raise ValueError(f"The {split} dataset's labels must be int class "
                         f"ids [B], got {labels.dtype.name} {labels.shape}.")
    return dataset


def cardinality(dataset):
    """Number of batches of a dataset, or None if unknown or infinite."""
    count = int(dataset.cardinality())
    if count in (int(tf.data.INFINITE_CARDINALITY),
                 int(tf.data.UNKNOWN_CARDINALITY)):
        return None
    return count
