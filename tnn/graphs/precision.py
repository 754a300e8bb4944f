"""Precision of a forward pass: bfloat16 as a fast path for inference.

A model built with `dtype="mixed_bfloat16"` keeps float32 weights and
computes in bfloat16: each layer casts its weights to bfloat16 whenever it
reads them. A `TNNGraph` calls every layer once per step, so a graph traced
by TensorFlow (`tf.function`, `predict`) holds T casts of every weight.
None of them depends on the input, so the executor runs them all at the
start and each stays alive until its step's layer has run: up to T
bfloat16 copies of the weights at once. At rgc_shallow (24 M weights,
46 MiB in bfloat16), 128 px, batch 16, this made the inference peak RSS
1.4× that of float32 at T = 16 and 1.8× at T = 32 (the excess grows with
T; eager execution, which casts just in time, shows none).
`benchmarks/RESULTS.md`, "bfloat16 as a fast path".

- `cast_weights_once(model)`: inside it, every weight of `model` that its
  layer would cast reads as one cast made on entry (one bfloat16 copy,
  shared by all steps). Same values, so the same outputs; for inference
  only (see its docs).
- `with_precision(model, precision)`: `model`, or a copy of it with the
  same weights that computes in another precision (for feature
  extraction: `tnn.neural.extraction`).
- `bfloat16_fast()`: whether this machine runs bfloat16 natively (a GPU or
  TPU, or a CPU with AVX512_BF16 / AMX); `resolve_precision("auto")` uses
  it.
"""

import contextlib
import functools
import os

import keras
from keras import ops
# The scope now in force, to defer to (no public accessor in Keras 3).
from keras.src.backend.common.stateless_scope import get_stateless_scope

PRECISIONS = (None, "float32", "mixed_bfloat16", "auto")
_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


class _CastWeights(keras.StatelessScope):
    """Reads of the given variables return their precomputed casts; every
    other read, update and loss goes to the scope outside (if any) or, on
    exit, to the variables and layers themselves."""

    def __init__(self, casts, outer):
        super().__init__(collect_losses=True)
        self.casts, self.outer = casts, outer

    def get_current_value(self, variable):
        value = self.state_mapping.get(id(variable))   # assigned inside
        if value is None:
            value = self.casts.get(id(variable))
        if value is None and self.outer is not None:
            value = self.outer.get_current_value(variable)
        return value

    def add_update(self, update):
        super().add_update(update)
        if self.outer is not None:
            self.outer.add_update(update)

    def add_loss(self, loss):
        super().add_loss(loss)
        if self.outer is not None and self.outer.collect_losses:
            self.outer.add_loss(loss)


def _layer_casts(layer):
    """The float variables `layer` itself would autocast, and the dtype."""
    dtype = layer.compute_dtype
    if not layer.autocast or dtype == layer.variable_dtype or \
            not dtype.startswith(("float", "bfloat")):
        return [], dtype
    own = layer._trainable_variables + layer._non_trainable_variables
    return [v for v in own if v._autocast
            and keras.backend.standardize_dtype(v._dtype).startswith(
                ("float", "bfloat"))], dtype


@contextlib.contextmanager
def cast_weights_once(model, training=None):
    """Weights cast once per call instead of once per step (module docs).

    Inside, each autocast weight of a layer of `model` whose compute dtype
    differs from its variable dtype (mixed precision) reads as one cast,
    made on entry; the values are those the layer's own casts give, so
    outputs are unchanged. Other variables read as usual; updates and
    losses reach the enclosing `StatelessScope` if there is one, else the
    variables (assigned on exit) and layers. A no-op for a model without
    mixed-precision layers, and with `training=True`: there one cast would
    also make the T steps' bfloat16 weight gradients add up in bfloat16,
    where T casts add them in float32.

    Args:
        model: a Keras layer or model (e.g. a `TNNGraph`).
        training: the call's training flag.
    """
    casts = {}
    if training is not True:
        for layer in model._flatten_layers(include_self=True):
            variables, dtype = _layer_casts(layer)
            for variable in variables:
                # Inside the layer's autocast scope `value` is the cast
                # already (ops.cast is then a no-op); outside it is the
                # float32 (or enclosing scope's) value.
                casts[id(variable)] = ops.cast(variable.value, dtype)
    if not casts:
        yield
        return
    outer = get_stateless_scope()
    scope = _CastWeights(casts, outer)
    with scope:
        yield
    if outer is None:
        variables = {id(v): v for v in model.variables}
        for key, value in scope.state_mapping.items():
            if key in variables:
                variables[key].assign(value)
        for layer in model._flatten_layers(include_self=True):
            layer._losses.extend(loss for loss in scope.losses
                                 if id(loss) in layer._loss_ids)


def resolve_precision(precision):
    """The dtype policy a precision stands for.

    Args:
        precision: None (the model's own policy), "float32",
            "mixed_bfloat16", or "auto": "mixed_bfloat16" where
            `bfloat16_fast()`, else None.

    Returns:
        None, "float32" or "mixed_bfloat16".
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got "
                         f"{precision!r}.")
    if precision == "auto":
        return "mixed_bfloat16" if bfloat16_fast()[0] else None
    return precision


def effective_precision(model, precision):
    """The dtype policy name `model` computes in under `precision`
    (`resolve_precision`, or the model's own policy for None)."""
    return resolve_precision(precision) or model.dtype_policy.name


def with_precision(model, precision):
    """`model` computing in `precision`: itself, or a copy.

    "float32" gives a float32 copy of a mixed-precision model;
    "mixed_bfloat16" a copy whose weights are `model`'s rounded to
    bfloat16 (policy "bfloat16": half the weight memory, no casts). It
    computes exactly what `model` built with `dtype="mixed_bfloat16"`
    computes, as that policy rounds every weight to bfloat16 before use
    (tests/graphs/test_precision.py). Outputs are then bfloat16.

    Args:
        model: a built Keras model with `get_config` / `from_config` (a
            `TNNGraph`).
        precision: as `resolve_precision`.

    Returns:
        `model` when it already computes in that precision (or precision
        is None), else the copy.
    """
    policy = resolve_precision(precision)
    if policy is None or model.compute_dtype == (
            "float32" if policy == "float32" else "bfloat16"):
        return model
    config = model.get_config()
    config["dtype"] = "float32" if policy == "float32" else "bfloat16"
    copy = type(model).from_config(config)
    sync_weights(copy, model)
    return copy


def sync_weights(copy, model):
    """Assigns `model`'s weights to `copy` (same architecture), cast to
    the copy's variable dtypes one weight at a time."""
    if [tuple(w.shape) for w in copy.weights] != \
            [tuple(w.shape) for w in model.weights]:
        raise ValueError(f"{copy.name!r} and {model.name!r} do not have the "
                         "same weights; copy the model with "
                         "with_precision(model, precision).")
    for target, source in zip(copy.weights, model.weights):
        target.assign(ops.cast(source.value, target.dtype))


@functools.lru_cache(maxsize=None)
def bfloat16_fast():
    """(bool, reason): whether this machine computes bfloat16 natively.

    True on a GPU or TPU of the Keras backend (on an NVIDIA GPU, compute
    capability 8.0 or higher where the backend reports it: older GPUs
    emulate bfloat16) or, with the TensorFlow or PyTorch backend (oneDNN),
    on a CPU whose flags (Linux `/proc/cpuinfo`) list AVX512_BF16 or
    AMX-BF16; False elsewhere (float32 is then as fast or faster). On an
    AMX CPU a 3x3x256 convolution ran 6.5x (TensorFlow) and 2.4x
    (PyTorch) faster in bfloat16, but no faster with JAX (XLA:CPU).
    """
    accelerator = _accelerator()
    if accelerator:
        return accelerator
    flags = _cpu_flags()
    found = [f for f in _CPU_FLAGS if f in flags]
    if found and keras.backend.backend() == "jax":
        return False, (f"CPU with {', '.join(found)}, but XLA:CPU (JAX) "
                       "computes bfloat16 convolutions no faster")
    if found:
        return True, f"CPU with {', '.join(found)}"
    return False, ("no GPU/TPU and no CPU bfloat16 instructions "
                   f"({' / '.join(_CPU_FLAGS)})")


def _cpu_flags(path="/proc/cpuinfo"):
    if not os.path.isfile(path):
        return set()
    with open(path) as handle:
        for line in handle:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def _accelerator():
    """(True, reason) for a GPU / TPU with native bfloat16, else None."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf
        for device in tf.config.list_physical_devices():
            if device.device_type == "TPU":
                return True, "TPU"
            if device.device_type == "GPU":
                details = tf.config.experimental.get_device_details(device)
                return _gpu(details.get("compute_capability"))
    elif backend == "jax":
        import jax
        device = jax.devices()[0]
        if device.platform == "tpu":
            return True, "TPU"
        if device.platform == "gpu":
            capability = getattr(device, "compute_capability", None)
            return _gpu(tuple(int(c) for c in capability.split("."))
                        if capability else None)
    elif backend == "torch":
        import torch
        if torch.cuda.is_available():
            return _gpu(torch.cuda.get_device_capability())
    return None


def _gpu(capability):
    if capability is not None and tuple(capability) < (8, 0):
        return None
    return True, "GPU" + (f" (compute capability {capability[0]}."
                          f"{capability[1]})" if capability else "")
