"""Input pipelines (tf.data): ImageNet, image folders, MNIST digit debris.

Every `*_dataset` function returns a batched, prefetched `tf.data.Dataset`
of `(images [B, H, W, C], labels [B] int32)`; preprocessing follows
reference §5.1 (`training.data.preprocessing`).
"""

from .image_folder import image_folder_dataset, list_image_folder
from .imagenet import imagenet_dataset, prepare_imagenet
from .mnist import load_mnist_5k, split_mnist_5k
from .mnist_debris import (DEBRIS_LEVELS, digit_debris,
                                        digit_debris_dataset,
                                        render_digit_debris)
from .preprocessing import (IMAGENET_MEAN, IMAGENET_STD,
                                         normalize, preprocess_for_eval,
                                         preprocess_for_train, to_unit_range)

__all__ = [
    "image_folder_dataset", "list_image_folder", "imagenet_dataset",
    "prepare_imagenet", "load_mnist_5k", "split_mnist_5k", "DEBRIS_LEVELS",
    "digit_debris", "digit_debris_dataset", "render_digit_debris",
    "IMAGENET_MEAN", "IMAGENET_STD", "normalize", "preprocess_for_eval",
    "preprocess_for_train", "to_unit_range",
]
