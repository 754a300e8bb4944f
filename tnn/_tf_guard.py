"""Guards against a TensorFlow 2.21 CPU graph-mode defect.

In plain graph mode (what Keras `fit`/`evaluate`/`predict` use without XLA)
grappler's `arithmetic_optimization` pass was measured to return wrong
values for `MaxPool(Relu(conv + recurrent conv))` at the last unrolled step
(eager loss 2.284213, graph 2.276462, XLA 2.284213, graph with the pass off
2.284213). Importing `tnn` therefore turns that one pass off for the
process, when the Keras backend is TensorFlow.

Opt out (e.g. to measure the pass's speed effect) by setting the
environment variable `TNN_KEEP_ARITHMETIC_OPTIMIZATION=1` before importing
`tnn`, or call `restore_arithmetic_optimization()`.
"""

import os

import keras

ENV_OPT_OUT = "TNN_KEEP_ARITHMETIC_OPTIMIZATION"


def _tf():
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf


def disable_arithmetic_optimization():
    """Turns grappler's arithmetic optimization off (TensorFlow only)."""
    tf = _tf()
    if tf is not None:
        tf.config.optimizer.set_experimental_options(
            {"arithmetic_optimization": False})


def restore_arithmetic_optimization():
    """Turns grappler's arithmetic optimization back on."""
    tf = _tf()
    if tf is not None:
        tf.config.optimizer.set_experimental_options(
            {"arithmetic_optimization": True})


def arithmetic_optimization_enabled():
    """True unless the pass is currently switched off."""
    tf = _tf()
    if tf is None:
        return True
    opts = tf.config.optimizer.get_experimental_options()
    return opts.get("arithmetic_optimization", True)


def apply_default_guard():
    if os.environ.get(ENV_OPT_OUT, "").strip() not in ("", "0"):
        return
    disable_arithmetic_optimization()
