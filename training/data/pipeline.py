"""The shared tail of every input pipeline: shuffle, map, batch, prefetch."""

import tensorflow as tf

AUTOTUNE = tf.data.AUTOTUNE


def check_positive_int(value, name, note=""):
    """`value` if it is an int >= 1 (not a bool), else a ValueError naming
    `name` (and `note`, e.g. " (square images)")."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int{note}, got "
                         f"{value!r}.")
    return value


def check_batch_size(batch_size):
    """`batch_size` if it is a positive int, else a ValueError."""
    return check_positive_int(batch_size, "batch_size")


def check_seed(seed):
    if seed is not None and (isinstance(seed, bool)
                             or not isinstance(seed, int)):
        raise ValueError(f"seed must be an int or None, got {seed!r}.")
    return seed


def build_pipeline(dataset, map_fn, batch_size, training, seed=None,
                   shuffle_buffer=10_000, drop_remainder=None, repeat=False):
    """Applies shuffle → (repeat) → parallel map → batch → prefetch.

    Args:
        dataset: a dataset of `(image, label)` pairs.
        map_fn: `(image, label, seed) -> (image, label)`; `seed` is a `[2]`
            int64 tensor when `training` and a seed are given (one fresh
            seed per element, re-drawn every epoch, so augmentation is
            deterministic), else None.
        batch_size: examples per batch.
        training: shuffle, and drop the last partial batch by default.
        seed: seed of the shuffle and of the per-element augmentation seeds.
        shuffle_buffer: size of the shuffle buffer (training only).
        drop_remainder: drop the last partial batch (default: `training`).
        repeat: repeat indefinitely (before batching).

    Returns:
        The batched, prefetched dataset.
    """
    check_batch_size(batch_size)
    check_seed(seed)
    check_positive_int(shuffle_buffer, "shuffle_buffer")
    if drop_remainder is None:
        drop_remainder = bool(training)
    if training:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed,
                                  reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    if training and seed is not None:
        seeds = tf.data.Dataset.random(
            seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip((dataset, seeds))
        dataset = dataset.map(
            lambda example, element_seed: map_fn(*example, element_seed),
            num_parallel_calls=AUTOTUNE, deterministic=True)
    else:
        dataset = dataset.map(lambda image, label: map_fn(image, label, None),
                              num_parallel_calls=AUTOTUNE,
                              deterministic=seed is not None or None)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(AUTOTUNE)
