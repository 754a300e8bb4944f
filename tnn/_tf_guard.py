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

ENV_OPT_OUT = "TNN_KEEP_ARITHMETIC_OPTIMIZATION"
# Keep in step with setup.py's TF_VERSION (tests/test_packaging.py checks).
TF_VERSION = "2.21.*"
MISSING_TENSORFLOW = (
    "{what} needs TensorFlow, which is not installed: pip install "
    f"'tensorflow-cpu=={TF_VERSION}' (CPU) or "
    f"'tensorflow[and-cuda]=={TF_VERSION}' (GPU), or install tnn with its "
    "'cpu' or 'gpu' extra{alternative}.")
NOT_TENSORFLOW_BACKEND = (
    " (tnn itself also runs on KERAS_BACKEND=jax or torch without "
    "TensorFlow)")


# The other Keras backends: missing top-level package -> (backend, what to
# install). PyTorch's CPU-only wheels come from their own index (the
# default `pip install torch` on Linux pulls the CUDA libraries).
MISSING_BACKEND = {
    "jax": ("jax", "pip install 'jax[cpu]' (CPU) or 'jax[cuda12]' (GPU)"),
    "jaxlib": ("jax", "pip install 'jax[cpu]' (CPU) or 'jax[cuda12]' (GPU)"),
    "torch": ("torch", "pip install torch --index-url "
              "https://download.pytorch.org/whl/cpu (CPU) or pip install "
              "torch (CUDA)"),
}


def _missing_tensorflow(err):
    return (err.name or "").partition(".")[0] == "tensorflow"


try:
    import keras
except ModuleNotFoundError as err:
    # Keras 3 imports its backend on import; TensorFlow's is the default.
    _missing = (err.name or "").partition(".")[0]
    if _missing in MISSING_BACKEND:
        _backend, _install = MISSING_BACKEND[_missing]
        raise ModuleNotFoundError(
            f"tnn with the Keras backend {_backend!r} (KERAS_BACKEND) needs "
            f"the {_missing!r} package, which is not installed: {_install}; "
            f"or choose an installed backend, e.g. "
            f"KERAS_BACKEND=tensorflow.", name=_missing) from None
    if not _missing_tensorflow(err):
        raise
    raise ModuleNotFoundError(MISSING_TENSORFLOW.format(
        what="tnn (with the Keras backend 'tensorflow', the default)",
        alternative=NOT_TENSORFLOW_BACKEND), name="tensorflow") from None


def require_tensorflow(what):
    """Imports TensorFlow, else fails with one line naming what to install.

    For the parts of tnn that use TensorFlow on every Keras backend (the
    `tf.data` pipelines of `tnn.training`).
    """
    try:
        import tensorflow  # noqa: F401
    except ModuleNotFoundError as err:
        if not _missing_tensorflow(err):
            raise
        raise ModuleNotFoundError(MISSING_TENSORFLOW.format(
            what=what, alternative=""), name="tensorflow") from None


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
