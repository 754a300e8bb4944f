"""Shared test helpers: where the original JSON graphs are, and TF1
checkpoint writing (numpy references of the ops: `tests.numpy_reference`).

Expected values from the reference are literals in `tests.interop.expected`.
"""

import os
import pathlib

import numpy as np
import tensorflow as tf

# The original tnn / convrnns JSON graphs (and lstm_shallow.npz) live beside
# the repository, in <repo>/../shared/reference/original_graphs; the
# environment variable overrides the folder. Tests reach it only through
# the `original_graphs` fixture (tests/interop/conftest.py), which skips
# where it is absent.
GRAPHS_ENV = "TNN_ORIGINAL_GRAPHS"
REPO = pathlib.Path(__file__).resolve().parents[2]
GRAPHS = pathlib.Path(os.environ.get(GRAPHS_ENV) or (
    REPO.parent / "shared" / "reference" / "original_graphs"))
GRAPHS_MISSING = (
    f"{GRAPHS} not found: the original tnn/convrnns JSON files are not "
    f"shipped with tnn; put them in ../shared/reference/original_graphs "
    f"or point {GRAPHS_ENV} at them to run this test.")


def write_tf1_checkpoint(prefix, arrays):
    """Writes `{name: array}` as a TF1 name-based checkpoint with
    `tf.compat.v1` variables and a `Saver` (as the zoo did)."""
    graph = tf.Graph()
    with graph.as_default():
        variables = {name: tf.compat.v1.Variable(
            tf.zeros(value.shape, value.dtype), name=name)
            for name, value in arrays.items()}
        saver = tf.compat.v1.train.Saver(list(variables.values()))
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            for name, variable in variables.items():
                variable.load(arrays[name], session)
            saver.save(session, str(prefix))
    return str(prefix)


def zoo_arrays(vmap, rng, scale=0.1, momentum=True, memory=True):
    """Distinct random values for every TF1 variable of a `VariableMap`,
    plus Momentum slots, pass-through memory decays (0) and global_step."""
    arrays = {}
    for name, shape in vmap.expected_shapes().items():
        value = rng.standard_normal(shape).astype("float32") * scale
        arrays[f"tnn_model/{name}"] = value
        if momentum:
            arrays[f"tnn_model/{name}/Momentum"] = rng.standard_normal(
                shape).astype("float32")
    if memory:
        for name in vmap.zero_memory:
            arrays[f"tnn_model/{name}"] = np.zeros((1,), "float32")
    arrays["global_step"] = np.array(123456, dtype="int64")
    return arrays
