"""One backend's side of the cross-backend parity check (a subprocess).

The Keras backend is fixed per process, so `tests/backends/test_parity.py`
runs this module once under TensorFlow and once per other backend:

    KERAS_BACKEND=tensorflow python -m tests.backends.worker save DIR M...
    KERAS_BACKEND=jax        python -m tests.backends.worker check DIR M...

`save` (TensorFlow) builds each model at its smallest input (batch 2),
saves it as `DIR/<model>.keras` and `DIR/<model>.weights.h5`, and writes
the reference outputs to `DIR/reference.npz`: `unroll(x)` of every node
(the readout's is the per-step output `model(x)`) in the biological
unroll and in the feed-forward unroll (with `--recurrence-off` also with
recurrence "off" there).
The weights of `CONVERTED` come from a TF1 checkpoint written here as the
zoo wrote them and read by the converter (`from_tf1_checkpoint`, what
`tnn-convert` runs); the others are an initialisation.

`check` (JAX or PyTorch) runs with `import tensorflow` blocked and every
attempt recorded: it loads the biological model from `.keras` and a fresh
feed-forward model from `.weights.h5` (and compares their weights),
recomputes every reference, then records whether anything tried to import
TensorFlow and the error of importing the training package (`tf.data`
pipelines), which must be the one line of `tnn._tf_guard`. It writes
`DIR/result_<backend>.json`: the relative difference max|a - b| /
max(max|b|, 1e-30) of every output (a: this backend, b: TensorFlow's),
seconds per model and the checks' outcomes.
"""

import importlib
import importlib.machinery
import json
import os
import sys
import time

RECORDED = []


class _RecordTensorFlow:
    """Meta-path finder: importing `tensorflow` records the attempt and
    fails as if it were not installed. (Probes that only look for the
    module, as `torch._dynamo` does with `importlib.util.find_spec`, find
    a spec and are not recorded.)"""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] != "tensorflow":
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        RECORDED.append(spec.name)
        raise ModuleNotFoundError(f"No module named {spec.name!r}",
                                  name=spec.name)

    def exec_module(self, module):  # never reached: create_module raises
        raise AssertionError(module)


SIZES = {"shallow": 65, "intermediate": 33}
BATCH = 2
CLASSES = 3
FEEDFORWARD_TIMES = 3
CONVERTED = "lstm_shallow"  # weights from a TF1 checkpoint
TINY = 1e-30


def _shape(name):
    size = SIZES["shallow" if name.endswith("_shallow") else "intermediate"]
    return (size, size, 3)


def _create(name, unroll):
    """The model at its smallest input; the biological unroll runs until
    the readout has seen the image once, the feed-forward three sweeps."""
    import tnn

    shape = _shape(name)
    longest = tnn.GraphSpec.from_dict(
        tnn.model_spec(name, CLASSES, shape)).longest_path()
    times = longest + 1 if unroll == "biological" else FEEDFORWARD_TIMES
    return tnn.create_model(name, input_shape=shape, num_classes=CLASSES,
                            times=times, unroll=unroll)


def _images(shape, seed):
    import numpy as np

    return np.random.default_rng(seed).standard_normal(
        (BATCH,) + shape).astype("float32")


def _numpy(outputs):
    from keras import ops

    return {k: ops.convert_to_numpy(v) for k, v in outputs.items()}


def _runs(name, biological, feedforward, x, off):
    """{key: array} of the reference outputs of one model; `off` adds the
    feed-forward unroll with recurrence "off"."""
    runs = {(name, "biological", "on"): biological.unroll(x),
            (name, "feedforward", "on"): feedforward.unroll(x)}
    if off:
        runs[name, "feedforward", "off"] = feedforward.unroll(
            x, recurrence="off")
    return {"/".join(key + (node,)): value
            for key, outputs in runs.items()
            for node, value in _numpy(outputs).items()}


def save(folder, names, off=False):
    import warnings

    import keras
    import numpy as np

    warnings.simplefilter("ignore")
    reference = {}
    for i, name in enumerate(names):
        keras.utils.set_random_seed(i)
        if name == CONVERTED:
            biological = _converted(folder, name)
        else:
            biological = _create(name, "biological")
        feedforward = _create(name, "feedforward")
        feedforward.set_weights(biological.get_weights())
        biological.save(os.path.join(folder, f"{name}.keras"))
        biological.save_weights(os.path.join(folder, f"{name}.weights.h5"))
        x = _images(_shape(name), i)
        reference[f"{name}/images"] = x
        reference.update(_runs(name, biological, feedforward, x, off))
    np.savez(os.path.join(folder, "reference.npz"), **reference)


def _converted(folder, name):
    """`name` converted from a TF1 checkpoint (written as the zoo wrote
    them) with `tnn.interop.tf1_checkpoint.from_tf1_checkpoint`, the
    converter behind `tnn-convert`. The checkpoint holds another
    initialisation of the same model (realistic magnitudes: random values
    of a fixed scale make the 16-layer recurrence explode, and then
    round-off grows with it), plus the zoo's Momentum slots and
    global_step, which the converter skips."""
    import keras
    import numpy as np

    from tests.interop.helpers import write_tf1_checkpoint, zoo_arrays
    from tnn.interop.tf1_checkpoint import (from_tf1_checkpoint,
                                            variable_map)

    template = _create(name, "biological")
    vmap = variable_map(template)
    arrays = zoo_arrays(vmap, np.random.default_rng(1))
    for target in vmap.targets:
        value = keras.ops.convert_to_numpy(target.variable)
        parts = [value]
        if len(target.names) > 1:  # a kernel split per input (names.py)
            sizes = np.cumsum([s[target.axis] for s in target.shapes])
            parts = np.split(value, sizes[:-1], axis=target.axis)
        for tf1_name, part in zip(target.names, parts):
            arrays[f"tnn_model/{tf1_name}"] = part
    prefix = write_tf1_checkpoint(
        os.path.join(folder, "ckpt", "model.ckpt"), arrays)
    model = from_tf1_checkpoint(
        prefix, name, input_shape=template.graph_input_shape,
        num_classes=CLASSES, times=template.times)
    copied = [np.array_equal(a, b) for a, b in
              zip(model.get_weights(), template.get_weights())]
    assert all(copied), "the converter did not copy every weight"
    return model


def _rel(a, b):
    import numpy as np

    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), TINY))


def check(folder, names):
    sys.meta_path.insert(0, _RecordTensorFlow())
    import warnings

    import keras
    import numpy as np

    import tnn  # noqa: F401  (registers the classes .keras files name)

    warnings.simplefilter("ignore")
    reference = dict(np.load(os.path.join(folder, "reference.npz")))
    result = {"backend": keras.backend.backend(), "rel": {},
              "seconds": {}}
    for name in names:
        start = time.time()
        biological = keras.saving.load_model(
            os.path.join(folder, f"{name}.keras"))
        feedforward = _create(name, "feedforward")
        feedforward.load_weights(os.path.join(folder, f"{name}.weights.h5"))
        same = all(np.array_equal(keras.ops.convert_to_numpy(a),
                                  keras.ops.convert_to_numpy(b))
                   for a, b in zip(biological.weights, feedforward.weights))
        result.setdefault("formats_agree", {})[name] = bool(same)
        off = f"{name}/feedforward/off/{feedforward.spec.output}" in reference
        outputs = _runs(name, biological, feedforward,
                        reference[f"{name}/images"], off)
        for key, value in outputs.items():
            result["rel"][key] = _rel(value, reference[key])
        missing = [k for k in reference if k.startswith(name + "/")
                   and k != f"{name}/images" and k not in outputs]
        result.setdefault("missing", []).extend(missing)
        result["seconds"][name] = round(time.time() - start, 1)
    result["tensorflow_attempts"] = sorted(set(RECORDED))
    result["tensorflow_in_sys_modules"] = "tensorflow" in sys.modules
    result["training_error"] = _training_error()
    with open(os.path.join(folder, f"result_{result['backend']}.json"),
              "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)


def _training_error():
    """The error of importing the training package without TensorFlow
    (`tnn.training` installed, `training` in a checkout)."""
    for module in ("tnn.training", "training"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name == module:
                continue  # not this layout
            return f"{type(err).__name__}: {err}"
        except Exception as err:  # noqa: BLE001  (reported, then asserted)
            return f"{type(err).__name__}: {err}"
        return None
    return "neither tnn.training nor training is importable"


if __name__ == "__main__":
    command, folder, *models = sys.argv[1:]
    if command == "save":
        off = "--recurrence-off" in models
        save(folder, [m for m in models if m != "--recurrence-off"], off)
    else:
        check(folder, models)
