"""ImageNet 2012 (ILSVRC) through TensorFlow Datasets, offline.

ImageNet cannot be downloaded automatically: register at
https://image-net.org/download-images, download the archives and put them
in one folder (the "manual_dir"):

    <manual_dir>/ILSVRC2012_img_train.tar   (~138 GB, needed for "train")
    <manual_dir>/ILSVRC2012_img_val.tar     (~6.3 GB, needed for "validation")

The first call converts them once into TFDS records under `data_dir`
(default ~/tensorflow_datasets); later calls read the records and do not
need `manual_dir`. tfds prepares only the splits whose archive is present.

    ds = imagenet_dataset("train", manual_dir="/data/imagenet",
                          batch_size=64, image_size=224)
"""

import os
import re

import tensorflow as tf
import tensorflow_datasets as tfds

from . import pipeline, preprocessing

DATASET_NAME = "imagenet2012"
NUM_CLASSES = 1000
ARCHIVES = {"train": "ILSVRC2012_img_train.tar",
            "validation": "ILSVRC2012_img_val.tar"}
_SPLIT = re.compile(r"^\s*(train|validation)\s*(\[[^\]]*\])?\s*$")


def _layout():
    return "; ".join(f"{name} → <manual_dir>/{archive}"
                     for name, archive in ARCHIVES.items())


def split_names(split):
    """The base split names of a TFDS split string ("train[:10%]" → train).

    Only "train" and "validation" (optionally sliced or joined with "+")
    are accepted: the ImageNet test set has no labels.
    """
    if not isinstance(split, str) or not split.strip():
        raise ValueError(f"split must be a string such as 'train' or "
                         f"'validation[:1000]', got {split!r}.")
    names = []
    for part in split.split("+"):
        match = _SPLIT.match(part)
        if match is None:
            raise ValueError(
                f"Unknown ImageNet split {split!r}; use 'train' or "
                f"'validation', optionally sliced (e.g. 'train[:10%]').")
        names.append(match.group(1))
    return names


def check_manual_dir(manual_dir, splits):
    """Raises a ValueError that says which archive goes where if missing."""
    needed = [ARCHIVES[s] for s in dict.fromkeys(splits)]
    if manual_dir is None:
        raise ValueError(
            f"ImageNet 2012 is not prepared yet and no manual_dir was given:"
            f" download the archives from https://image-net.org/"
            f"download-images (registration required), put them in one "
            f"folder ({_layout()}) and pass manual_dir=<that folder>; "
            f"needed here: {', '.join(needed)}.")
    manual_dir = os.fspath(manual_dir)
    if not os.path.isdir(manual_dir):
        raise ValueError(
            f"ImageNet manual_dir {manual_dir!r} does not exist; it must be "
            f"a folder holding the downloaded archives ({_layout()}).")
    missing = [a for a in needed
               if not os.path.isfile(os.path.join(manual_dir, a))]
    if missing:
        raise ValueError(
            f"ImageNet manual_dir {manual_dir!r} lacks {', '.join(missing)}; "
            f"put the archives there unrenamed ({_layout()}), downloaded "
            f"from https://image-net.org/download-images.")
    return manual_dir


def prepare_imagenet(splits=("train", "validation"), manual_dir=None,
                     data_dir=None):
    """Returns the `imagenet2012` builder, converting the archives if needed.

    Args:
        splits: base split names that must be available.
        manual_dir: folder with the ImageNet archives (see module docs);
            only needed before the first preparation.
        data_dir: TFDS data folder (default ~/tensorflow_datasets).

    Returns:
        The prepared `tfds` builder.
    """
    builder = tfds.builder(DATASET_NAME, data_dir=data_dir)
    if not builder.is_prepared():
        manual_dir = check_manual_dir(manual_dir, splits)
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(
                manual_dir=manual_dir))
    return builder


def imagenet_dataset(split="train", manual_dir=None, data_dir=None,
                     training=None, batch_size=64, image_size=224,
                     crop_fraction=preprocessing.DEFAULT_CROP_FRACTION,
                     scale=preprocessing.DEFAULT_SCALE,
                     ratio=preprocessing.DEFAULT_RATIO, flip=True,
                     normalized=True, seed=None, shuffle_buffer=10_000,
                     drop_remainder=None, repeat=False):
    """A batched ImageNet pipeline of `(images, labels)`.

    Training (random resized crop of the JPEG, decoded crop-only; random
    flip) or evaluation (resize + centre crop) preprocessing, then the
    ImageNet mean/std normalization (§5.1).

    Args:
        split: "train" / "validation", optionally sliced ("train[:1%]").
        manual_dir: folder with the archives (first use only).
        data_dir: TFDS data folder.
        training: augment and shuffle (default: True for "train").
        batch_size: examples per batch.
        image_size: output size (int or (height, width)).
        crop_fraction: evaluation centre-crop fraction (0.875 = 256 → 224).
        scale, ratio: random-resized-crop ranges (training).
        flip: random horizontal flip (training).
        normalized: apply the mean/std normalization (else [0, 1] floats).
        seed: shuffle and augmentation seed (deterministic when given).
        shuffle_buffer: shuffle buffer size (training).
        drop_remainder: drop the last partial batch (default: training).
        repeat: repeat indefinitely.

    Returns:
        `tf.data.Dataset` of float32 images `[B, H, W, 3]` and int32 labels
        `[B]` in [0, 1000).
    """
    names = split_names(split)
    pipeline.check_batch_size(batch_size)
    pipeline.check_seed(seed)
    if training is None:
        training = names == ["train"]
    preprocessing.check_crop_fraction(crop_fraction)
    preprocessing.check_range_pair(scale, "scale", upper=1.0)
    preprocessing.check_range_pair(ratio, "ratio")
    builder = prepare_imagenet(names, manual_dir=manual_dir,
                               data_dir=data_dir)
    read_config = tfds.ReadConfig(shuffle_seed=seed)
    dataset = builder.as_dataset(
        split=split, as_supervised=True, shuffle_files=bool(training),
        decoders={"image": tfds.decode.SkipDecoding()},
        read_config=read_config)

    def map_fn(image_bytes, label, element_seed):
        if training:
            crop_seed, flip_seed = preprocessing.split_seed(element_seed, 2)
            image = preprocessing.decode_and_random_crop(
                image_bytes, image_size, seed=crop_seed, scale=scale,
                ratio=ratio)
            if flip:
                image = preprocessing.random_flip(image, seed=flip_seed)
        else:
            image = tf.io.decode_jpeg(image_bytes, channels=3)
            image = preprocessing.resize_and_center_crop(
                preprocessing.to_unit_range(image), image_size,
                crop_fraction)
        if normalized:
            image = preprocessing.normalize(image)
        return image, tf.cast(label, tf.int32)

    return pipeline.build_pipeline(
        dataset, map_fn, batch_size, training, seed=seed,
        shuffle_buffer=shuffle_buffer, drop_remainder=drop_remainder,
        repeat=repeat)
