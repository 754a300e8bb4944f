"""Stimuli as model inputs (reference §5.1), on any Keras backend.

`preprocess_stimuli` scales uint8 images to [0, 1], resizes them to the
model's input (bilinear, antialiased when shrinking), converts them to
grey scale for a 1-channel model and normalises them with the ImageNet
mean / std (grey-scale constants for one channel) — the evaluation math of
`training.data.preprocessing` (`to_unit_range`, `normalize`), without
TensorFlow.
"""

import numpy as np
from keras import ops

from tnn import utils

IMAGENET_MEAN, IMAGENET_STD = utils.IMAGENET_MEAN, utils.IMAGENET_STD
GRAYSCALE_MEAN, GRAYSCALE_STD = utils.GRAYSCALE_MEAN, utils.GRAYSCALE_STD


def normalize(images, mean=None, std=None):
    """`(images - mean) / std` per channel, float32.

    Args:
        images: float images in [0, 1], channels last (1 or 3 channels).
        mean, std: per-channel constants (length C, or 1 to broadcast);
            None: `IMAGENET_MEAN` / `IMAGENET_STD` for 3 channels,
            `GRAYSCALE_MEAN` / `GRAYSCALE_STD` for 1 channel.

    Returns:
        A float32 tensor.
    """
    channels = int(images.shape[-1])
    if channels not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels (last axis), "
                         f"got shape {tuple(images.shape)}.")
    mean, std = utils.normalization_constants(channels, mean, std)
    images = ops.cast(images, "float32")
    return ops.divide(ops.subtract(images, np.asarray(mean, np.float32)),
                      np.asarray(std, np.float32))


def preprocess_stimuli(stimuli, input_shape):
    """uint8 stimuli `[B, H, W, 3]` -> normalised float32 model inputs.

    Args:
        stimuli: uint8 images (as stored in the neural data).
        input_shape: the model's `(H, W, C)`, C = 3 or 1 (grey-scale).

    Returns:
        float32 numpy array `[B] + input_shape`.
    """
    stimuli = np.asarray(stimuli)
    if stimuli.dtype != np.uint8 or stimuli.ndim != 4 or \
            stimuli.shape[-1] != 3:
        raise ValueError(
            f"stimuli must be uint8 [N, H, W, 3], got {stimuli.dtype} "
            f"{stimuli.shape}.")
    height, width, channels = (int(s) for s in input_shape)
    if channels not in (1, 3):
        raise ValueError(
            f"the model takes {channels}-channel images; stimuli can be "
            "presented to models with 1 (grey) or 3 (RGB) channels only.")
    images = ops.divide(ops.cast(stimuli, "float32"), 255.0)
    if tuple(stimuli.shape[1:3]) != (height, width):
        images = ops.image.resize(images, (height, width),
                                  interpolation="bilinear", antialias=True)
    if channels == 1:
        images = ops.image.rgb_to_grayscale(images)
    return ops.convert_to_numpy(normalize(images))
