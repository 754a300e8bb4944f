"""Every zoo model computes the same eagerly, in graph mode and under XLA.

For each registered model and both unroll modes, at initialisation and
after two SGD steps, eager `model(x)`, `model.predict` (a `tf.function`
without XLA) and a `jit_compile=True` call agree to 1e-5 relative
(max |a - b| / max |b| over the `[B, T, classes]` outputs). Before the
layer norm's shifted statistics (`tnn.cells.layer_norm`), `lstm_shallow`
at initialisation differed under XLA by a relative 1.9.

Smallest inputs: the shallow readout's 2×2 valid conv needs 65 px; the
intermediate models accept any size (global pooling), and 33 px is the
smallest at which every cell layer still sees 2×2 maps. `times` lets the
readout see the image at two steps in the biological unroll; three sweeps
exercise the recurrence (and the feedback) in the feed-forward unroll.
"""

import warnings

import keras
import numpy as np
import pytest

import tnn

pytestmark = pytest.mark.large

SIZES = {"shallow": 65, "intermediate": 33}
CLASSES = 3
BATCH = 2
RTOL = 1e-5


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _model(name, unroll):
    size = SIZES["shallow" if name.endswith("_shallow") else "intermediate"]
    shape = (size, size, 3)
    longest = tnn.GraphSpec.from_dict(
        tnn.model_spec(name, CLASSES, shape)).longest_path()
    times = longest + 2 if unroll == "biological" else 3
    keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = tnn.create_model(name, input_shape=shape,
                                 num_classes=CLASSES, times=times,
                                 unroll=unroll)
    model.compile(jit_compile=False)  # predict: graph mode, no XLA
    rng = np.random.default_rng(0)
    images = rng.standard_normal((BATCH,) + shape).astype("float32")
    labels = np.repeat(rng.integers(0, CLASSES, (BATCH, 1)), times, axis=1)
    return model, images, labels


def _train(model, images, labels, steps=2, learning_rate=0.05):
    """SGD steps on a per-step cross-entropy of the `[B, T, C]` logits."""
    import tensorflow as tf

    optimizer = keras.optimizers.SGD(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    weights = model.trainable_variables
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, weights),
                                      weights))


@pytest.mark.parametrize("unroll", ["biological", "feedforward"])
@pytest.mark.parametrize("name", tnn.list_models())
def test_eager_predict_and_xla_agree(name, unroll):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("graph and XLA modes of the TensorFlow backend")
    import tensorflow as tf

    model, images, labels = _model(name, unroll)
    xla = tf.function(lambda x: model(x), jit_compile=True)
    errors = {}
    for phase in ("init", "trained"):
        if phase == "trained":
            before = model.get_weights()
            _train(model, images, labels)
            assert any(not np.array_equal(a, b) for a, b in
                       zip(before, model.get_weights()))
        eager = np.asarray(model(images))
        assert np.all(np.isfinite(eager)) and np.max(np.abs(eager)) > 0
        errors[phase, "predict"] = _rel(
            model.predict(images, verbose=0, batch_size=BATCH), eager)
        errors[phase, "xla"] = _rel(xla(images).numpy(), eager)
    bad = {k: f"{v:.2g}" for k, v in errors.items() if not v <= RTOL}
    assert not bad, f"{name} ({unroll}): relative differences {bad}"
