"""Hooks into Keras' `fit` shared by `TNNGraph` and the task models."""

import contextlib


def build_optimizer(model):
    """Creates `model.optimizer`'s variables before the train step traces.

    Keras on TensorFlow without a distribution strategy builds the optimizer
    inside the first trace of the train step, and a `tf.function` whose
    first trace creates variables is traced again: the whole forward and
    backward graph was built twice. Same variables, one trace.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built:
        return
    strategy = getattr(model, "distribute_strategy", None)  # TensorFlow
    with strategy.scope() if strategy else contextlib.nullcontext():
        optimizer.build(model.trainable_variables)
