"""The Keras train step of a TNNGraph (and of its classifier head) is traced
once, not twice: the optimizer's variables exist before the first trace
(issue 14, item 3; benchmarks/trace_time.py)."""

import keras
import numpy as np
import pytest

from tests.graphs.helpers import chain_spec
from tnn.graphs.tnn_graph import TNNGraph
from tnn.tasks.classifier import TemporalClassifier


def _last_step_ce(y, logits):
    return keras.losses.sparse_categorical_crossentropy(
        y, logits[:, -1], from_logits=True)


def _graph(times=3):
    keras.utils.set_random_seed(0)
    cell = {"cell": "ConvLSTMCell", "filters": 4}
    return TNNGraph(chain_spec(n=2, size=8, cell=cell), times=times)


def _count_traces(model):
    count = [0]
    step = model.train_step

    def counted(data):
        count[0] += 1
        return step(data)

    model.train_step = counted
    return count


def _data():
    rng = np.random.default_rng(0)
    return (rng.random((2, 8, 8, 3)).astype("float32"),
            np.array([1, 3], "int32"))


@pytest.mark.parametrize("head", [False, True])
def test_train_step_traced_once(head):
    model = _graph()
    if head:
        model = TemporalClassifier(model, decoders=("last",))
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9))
    else:
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                      loss=_last_step_ce)
    count = _count_traces(model)
    x, y = _data()
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)
    assert count[0] == 1
    # One momentum per trainable variable, plus the iteration counter and
    # learning rate: the variables Keras would have created in the trace.
    assert len(model.optimizer.variables) == len(
        model.trainable_variables) + 2


def test_same_update_as_a_manual_step():
    """The prebuilt optimizer gives exactly the update of a hand-written
    step with an optimizer built the usual (lazy) way."""
    x, y = _data()
    model = _graph()
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss=_last_step_ce)
    model.train_on_batch(x, y)
    model.train_on_batch(x, y)

    import tensorflow as tf

    ref = _graph()
    optimizer = keras.optimizers.SGD(0.1, momentum=0.9)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(_last_step_ce(y, ref(x, training=True)))
        grads = tape.gradient(loss, ref.trainable_variables)
        optimizer.apply(grads, ref.trainable_variables)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
