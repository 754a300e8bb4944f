"""Distribution strategies for `training.train` and the multi-worker fix.

    DeviceSettings.strategy = "default"       # one device (or the scope)
    DeviceSettings.strategy = "mirrored"      # all local GPUs
    DeviceSettings.strategy = "multi_worker"  # every worker runs the same
                                              # command, own TF_CONFIG
    DeviceSettings.strategy = "tpu"           # DeviceSettings.tpu = ""
                                              # (local) or an address

Multi-worker training with Keras 3.15 `fit` fails (keras-team/keras#20585)
for two reasons, both in `keras/src/backend/tensorflow/trainer.py`:

1. `_maybe_symbolic_build` reduces the first *distributed input batch*
   with `strategy.reduce("MEAN", batch)` to build the model symbolically;
   for a collective multi-worker strategy that batch is a `PerReplica` the
   reduction cannot convert ("Attempt to convert a value (PerReplica...)").
2. Every train/test step reduces its scalar logs with
   `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars
   ("Invalid reduction dimension 0 for input with 0 dimensions").

`enable_multi_worker_fit` works around both on one model instance: it
builds the model, its compiled losses and metrics and the optimizer from
the dataset's element spec (what `_maybe_symbolic_build` would do, without
the reduction), turns `_maybe_symbolic_build` into a no-op, and makes the
train/test steps return each log value with shape `[1]`, so the `axis=0`
mean over the workers is the (equal-batch) average of their values.
Gradients are summed across workers by the Keras optimizer as usual, so the
workers' weights stay identical (tests/training/test_strategy.py checks
this with two workers on 127.0.0.1). Metric values in the logs are the
mean of the workers' local values.
"""

import json
import os

import keras
import tensorflow as tf
from keras import ops

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def get_strategy(name="default", tpu=None):
    """Builds a `tf.distribute.Strategy` by name.

    Args:
        name: "default", "mirrored", "multi_worker" (cluster from the
            TF_CONFIG environment variable) or "tpu".
        tpu: TPU name or address for "tpu" ("" / None = the local TPU).
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got "
                         f"{name!r}.")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        cluster = read_tf_config()
        if not cluster:
            raise ValueError(
                "strategy='multi_worker' needs the TF_CONFIG environment "
                "variable, e.g. TF_CONFIG='{\"cluster\": {\"worker\": "
                "[\"host1:port\", \"host2:port\"]}, \"task\": {\"type\": "
                "\"worker\", \"index\": 0}}' on the first worker.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, tf.errors.NotFoundError,
            tf.errors.InvalidArgumentError) as err:
        raise ValueError(
            f"strategy='tpu': no TPU found at {tpu or 'the local host'!r} "
            f"({str(err).splitlines()[0]}); pass DeviceSettings.tpu = "
            f"'<name or grpc://address>' or use another strategy.") from None
    return tf.distribute.TPUStrategy(resolver)


def read_tf_config():
    """The parsed TF_CONFIG environment variable ({} if unset)."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return {}
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"TF_CONFIG is not valid JSON ({err}): "
                         f"{text[:80]!r}.") from None
    if not isinstance(config, dict) or "cluster" not in config:
        raise ValueError(f"TF_CONFIG must be a JSON object with 'cluster' "
                         f"and 'task' keys, got {text[:80]!r}.")
    return config


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) \
        and strategy.extended._in_multi_worker_mode()


def worker_index(strategy):
    """This worker's index (0 when not multi-worker)."""
    if not is_multi_worker(strategy):
        return 0
    return int(strategy.cluster_resolver.task_id)


def is_chief(strategy):
    """True on the worker that writes logs, checkpoints and the export."""
    if not is_multi_worker(strategy):
        return True
    resolver = strategy.cluster_resolver
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return not has_chief and resolver.task_type == "worker" and \
        int(resolver.task_id) == 0


def _symbolic_batch(element_spec):
    def to_symbolic(spec):
        return keras.KerasTensor((None,) + tuple(spec.shape[1:]),
                                 spec.dtype.name)

    return tf.nest.map_structure(to_symbolic, element_spec)


def _expand_logs(step_fn):
    def step(data):
        return {k: ops.reshape(v, (1,)) for k, v in step_fn(data).items()}

    return step


def enable_multi_worker_fit(model, strategy, element_spec):
    """Lets a compiled model `fit` under MultiWorkerMirroredStrategy.

    Call inside `strategy.scope()` after `compile` and before `fit`; a
    no-op for other strategies. See the module docstring.

    Args:
        model: the compiled Keras model (created in the strategy's scope).
        strategy: the strategy.
        element_spec: `dataset.element_spec` of the training batches.
    """
    if not is_multi_worker(strategy):
        return model
    model._symbolic_build(data_batch=_symbolic_batch(element_spec))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    model.train_step = _expand_logs(model.train_step)
    model.test_step = _expand_logs(model.test_step)
    return model
