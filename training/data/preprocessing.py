"""Image preprocessing of reference §5.1, as tf.data map functions.

Every function here works eagerly and inside `tf.data.Dataset.map` (graph
mode). Images are `[H, W, C]` with C = 1 or 3; value checks that depend on
the data (a float image outside [0, 255]) raise `ValueError` eagerly and an
`InvalidArgumentError` carrying the same message inside a dataset.

Pipeline (zoo `run_model.py` + the usual ImageNet augmentation):
  1. `to_unit_range`: uint8 → /255; float images must lie in [0, 1] or
     [0, 255] (divided by 255 if their max exceeds 1).
  2. training: `random_resized_crop` + `random_flip`; evaluation:
     `resize_and_center_crop` (resize so that a `crop_fraction` = 0.875
     central window is the output size, i.e. 256 → 224, then crop).
  3. `normalize`: `(x − mean) / std` per channel with the ImageNet
     constants.

Random functions take an optional `seed` (a `[2]` integer tensor): with it
they use TensorFlow's stateless ops and are deterministic; without it they
use the stateful global generator.
"""

import tensorflow as tf

from tnn import utils

IMAGENET_MEAN, IMAGENET_STD = utils.IMAGENET_MEAN, utils.IMAGENET_STD
GRAYSCALE_MEAN, GRAYSCALE_STD = utils.GRAYSCALE_MEAN, utils.GRAYSCALE_STD
DEFAULT_CROP_FRACTION = 0.875
DEFAULT_SCALE = (0.08, 1.0)
DEFAULT_RATIO = (3.0 / 4.0, 4.0 / 3.0)

_FLOAT_DTYPES = (tf.float16, tf.bfloat16, tf.float32, tf.float64)


def check_image(image, ranks=(3,), name="image"):
    """Converts to a tensor and checks dtype, rank and channel count.

    Args:
        image: uint8 or float array/tensor.
        ranks: allowed ranks (3 = `[H, W, C]`, 4 = `[B, H, W, C]`).
        name: what to call it in error messages.

    Returns:
        The image as a tensor.
    """
    image = tf.convert_to_tensor(image)
    if image.dtype != tf.uint8 and image.dtype not in _FLOAT_DTYPES:
        raise ValueError(
            f"{name} must be uint8 (0–255) or float (in [0, 1] or [0, 255]),"
            f" got dtype {image.dtype.name}; decode encoded images first and"
            f" cast other integer types with tf.cast(x, tf.uint8).")
    rank = image.shape.rank
    if rank not in ranks:
        expected = " or ".join("[H, W, C]" if r == 3 else "[B, H, W, C]"
                               for r in ranks)
        raise ValueError(
            f"{name} must have shape {expected} (rank "
            f"{' or '.join(map(str, ranks))}), got shape "
            f"{image.shape.as_list() if rank is not None else 'unknown'}.")
    channels = image.shape[-1]
    if channels not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels (last axis), got "
                         f"shape {image.shape.as_list()}.")
    return image


def _check_range(image, low, high, message):
    """Raises ValueError (eager) or adds an assertion (graph)."""
    low_value = tf.reduce_min(image)
    high_value = tf.reduce_max(image)
    if tf.executing_eagerly():
        if float(low_value) < low or float(high_value) > high:
            raise ValueError(f"{message} (got values in "
                             f"[{float(low_value):g}, {float(high_value):g}]).")
        return image
    checks = [
        tf.debugging.assert_greater_equal(low_value,
                                          tf.cast(low, low_value.dtype),
                                          message=message),
        tf.debugging.assert_less_equal(high_value,
                                       tf.cast(high, high_value.dtype),
                                       message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(image)


def to_unit_range(image):
    """Scales an image to float32 in [0, 1] (reference §5.1).

    uint8 images are divided by 255. Float images must lie in [0, 1] or
    [0, 255]; they are divided by 255 when their maximum exceeds 1 (the
    maximum over the whole tensor given, as in the original).
    """
    image = check_image(image, ranks=(3, 4))
    if image.dtype == tf.uint8:
        return tf.cast(image, tf.float32) / 255.0
    image = _check_range(
        tf.cast(image, tf.float32), 0.0, 255.0,
        "float images must lie in [0, 1] or [0, 255]; rescale them first")
    return tf.cond(tf.reduce_max(image) > 1.0, lambda: image / 255.0,
                   lambda: image)


def normalize(image, mean=None, std=None):
    """`(image − mean) / std` per channel, float32.

    Args:
        image: float image in [0, 1] (`[H, W, C]` or `[B, H, W, C]`).
        mean, std: per-channel constants (length C, or 1 to broadcast);
            None = `IMAGENET_MEAN`/`IMAGENET_STD` for 3 channels,
            `GRAYSCALE_MEAN`/`GRAYSCALE_STD` for 1 channel.
    """
    image = check_image(image, ranks=(3, 4))
    channels = image.shape[-1]
    mean, std = utils.normalization_constants(channels, mean, std)
    image = tf.cast(image, tf.float32)
    return (image - tf.constant(mean)) / tf.constant(std)


def split_seed(seed, count):
    if seed is None:
        return [None] * count
    seeds = tf.random.experimental.stateless_split(
        tf.cast(seed, tf.int64), num=count)
    return [seeds[i] for i in range(count)]


def check_range_pair(values, name, upper=None):
    try:
        low, high = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high), got "
                         f"{values!r}.") from None
    if not 0 < low <= high or (upper is not None and high > upper):
        bound = f" ≤ {upper}" if upper is not None else ""
        raise ValueError(f"{name} must satisfy 0 < low ≤ high{bound}, got "
                         f"{values!r}.")
    return low, high


def sample_crop_window(image_shape, scale=DEFAULT_SCALE, ratio=DEFAULT_RATIO,
                       seed=None):
    """Samples a random-resized-crop window `[y, x, h, w]` (int32).

    The window covers a fraction `scale` of the image area with aspect
    ratio (w/h) in `ratio`; after 10 failed attempts it is the whole image
    (TF's `sample_distorted_bounding_box`).
    """
    scale = check_range_pair(scale, "scale", upper=1.0)
    ratio = check_range_pair(ratio, "ratio")
    kwargs = dict(bounding_boxes=tf.zeros([1, 0, 4], tf.float32),
                  min_object_covered=0.0, aspect_ratio_range=ratio,
                  area_range=scale, max_attempts=10,
                  use_image_if_no_bounding_boxes=True)
    if seed is None:
        begin, size, _ = tf.image.sample_distorted_bounding_box(
            image_shape, **kwargs)
    else:
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            image_shape, seed=seed, **kwargs)
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def random_resized_crop(image, size, scale=DEFAULT_SCALE,
                        ratio=DEFAULT_RATIO, seed=None):
    """Crops a random window (see `sample_crop_window`), resizes to `size`.

    Args:
        image: `[H, W, C]`, any dtype accepted by `check_image`.
        size: output size, an int or (height, width).
        scale, ratio: area fraction and aspect-ratio ranges.
        seed: optional `[2]` int tensor for a deterministic crop.

    Returns:
        float32 `[height, width, C]` (bilinear, antialiased).
    """
    image = check_image(image)
    height, width = utils.as_pair(size, "size")
    window = sample_crop_window(tf.shape(image), scale, ratio, seed)
    crop = tf.slice(image, [window[0], window[1], 0],
                    [window[2], window[3], -1])
    resized = tf.image.resize(crop, [height, width], antialias=True)
    return tf.ensure_shape(resized, [height, width, image.shape[-1]])


def random_flip(image, seed=None):
    """Flips `[H, W, C]` left-right with probability ½."""
    image = check_image(image)
    if seed is None:
        return tf.image.random_flip_left_right(image)
    return tf.image.stateless_random_flip_left_right(image, seed=seed)


def check_crop_fraction(crop_fraction):
    if not 0.0 < float(crop_fraction) <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1], got "
                         f"{crop_fraction!r} (0.875 = resize 256, crop 224).")
    return float(crop_fraction)


def resize_and_center_crop(image, size, crop_fraction=DEFAULT_CROP_FRACTION):
    """Resizes (keeping the aspect ratio), then crops the centre.

    The image is scaled so that it just covers `size / crop_fraction`
    (for 224 and 0.875: shorter side 256), then the central `size` window
    is cut out. `crop_fraction=1` resizes the shorter side to the output.

    Returns:
        float32 `[height, width, C]` (bilinear, antialiased).
    """
    image = check_image(image)
    crop_fraction = check_crop_fraction(crop_fraction)
    height, width = utils.as_pair(size, "size")
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    target = tf.constant([height / crop_fraction, width / crop_fraction])
    factor = tf.reduce_max(target / shape)
    new_shape = tf.maximum(tf.cast(tf.round(shape * factor), tf.int32),
                           [height, width])
    resized = tf.image.resize(image, new_shape, antialias=True)
    top = (new_shape[0] - height) // 2
    left = (new_shape[1] - width) // 2
    crop = tf.slice(resized, [top, left, 0], [height, width, -1])
    return tf.ensure_shape(crop, [height, width, image.shape[-1]])


def preprocess_for_train(image, size=224, seed=None, scale=DEFAULT_SCALE,
                         ratio=DEFAULT_RATIO, flip=True, normalized=True,
                         mean=None, std=None):
    """Training transform: unit range → random resized crop → flip → norm.

    Args:
        image: `[H, W, C]` uint8 or float image.
        size: output size (int or (height, width)).
        seed: optional `[2]` int tensor (deterministic augmentation).
        scale, ratio: random-resized-crop ranges.
        flip: random horizontal flip.
        normalized: apply `normalize` (else return [0, 1] floats).
        mean, std: normalization constants (see `normalize`).

    Returns:
        float32 `[height, width, C]`.
    """
    crop_seed, flip_seed = split_seed(seed, 2)
    image = to_unit_range(check_image(image))
    image = random_resized_crop(image, size, scale, ratio, seed=crop_seed)
    if flip:
        image = random_flip(image, seed=flip_seed)
    return normalize(image, mean, std) if normalized else image


def preprocess_for_eval(image, size=224, crop_fraction=DEFAULT_CROP_FRACTION,
                        normalized=True, mean=None, std=None):
    """Evaluation transform: unit range → resize + centre crop → norm."""
    image = to_unit_range(check_image(image))
    image = resize_and_center_crop(image, size, crop_fraction)
    return normalize(image, mean, std) if normalized else image


def decode_and_random_crop(image_bytes, size, seed=None, scale=DEFAULT_SCALE,
                           ratio=DEFAULT_RATIO):
    """Random resized crop of a JPEG, decoding only the crop window.

    The fast path for ImageNet training (`tf.image.decode_and_crop_jpeg`).

    Returns:
        float32 `[height, width, 3]` in [0, 1].
    """
    height, width = utils.as_pair(size, "size")
    shape = tf.image.extract_jpeg_shape(image_bytes)
    window = sample_crop_window(shape, scale, ratio, seed)
    image = tf.image.decode_and_crop_jpeg(image_bytes, window, channels=3)
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0,
                            [height, width], antialias=True)
    return tf.ensure_shape(image, [height, width, 3])
