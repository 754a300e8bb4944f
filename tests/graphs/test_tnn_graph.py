"""TNNGraph as a Keras model: fit, save/load, export, graph vs eager vs XLA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tnn
from tests.graphs.helpers import chain_spec
from tnn import _tf_guard


@pytest.fixture(scope="module")
def small_rgc():
    keras.utils.set_random_seed(0)
    model = tnn.create_model("rgc_shallow", input_shape=(72, 72, 3),
                             num_classes=7, times=7)
    images = np.random.default_rng(0).standard_normal(
        (2, 72, 72, 3)).astype("float32")
    return model, images


def test_eager_graph_and_xla_agree(small_rgc):
    model, images = small_rgc
    eager = np.asarray(model(images))
    assert eager.shape == (2, 7, 7) and np.all(np.isfinite(eager))
    predicted = model.predict(images, verbose=0, batch_size=2)
    np.testing.assert_allclose(predicted, eager, rtol=1e-5, atol=1e-5)
    xla = tf.function(lambda x: model(x), jit_compile=True)(images).numpy()
    np.testing.assert_allclose(xla, eager, rtol=1e-5, atol=1e-5)
    # The symbolic time loop (the default on accelerators) under XLA.
    symbolic = tnn.create_model("rgc_shallow", input_shape=(72, 72, 3),
                                num_classes=7, times=7, time_loop="symbolic")
    symbolic.set_weights(model.get_weights())
    xla = tf.function(lambda x: symbolic(x), jit_compile=True)(images)
    np.testing.assert_allclose(xla.numpy(), eager, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(symbolic.predict(images, verbose=0), eager,
                               rtol=1e-5, atol=1e-5)


def test_guard_turns_off_arithmetic_optimization():
    assert not _tf_guard.arithmetic_optimization_enabled()
    _tf_guard.restore_arithmetic_optimization()
    assert _tf_guard.arithmetic_optimization_enabled()
    _tf_guard.apply_default_guard()
    assert not _tf_guard.arithmetic_optimization_enabled()


def test_keras_save_load_round_trip(small_rgc, tmp_path):
    model, images = small_rgc
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, tnn.TNNGraph)
    assert loaded.get_config()["spec"] == model.get_config()["spec"]
    np.testing.assert_allclose(np.asarray(loaded(images)),
                               np.asarray(model(images)), rtol=1e-6,
                               atol=1e-6)


def test_export_saved_model_round_trip(small_rgc, tmp_path):
    model, images = small_rgc
    path = str(tmp_path / "export")
    model.export(path, verbose=False)
    restored = tf.saved_model.load(path)
    got = restored.serve(tf.constant(images)).numpy()
    np.testing.assert_allclose(got, np.asarray(model(images)), rtol=1e-6,
                               atol=1e-6)


def test_fit_one_step_changes_weights():
    keras.utils.set_random_seed(1)
    model = tnn.TNNGraph(chain_spec(n=3, size=16, readout=4), times=5)
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    x = np.random.default_rng(2).standard_normal((4, 16, 16, 3)).astype(
        "float32")
    y = np.tile(np.arange(4)[:, None], (1, 5))
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b)
               for a, b in zip(before, model.get_weights()))


def test_config_round_trip_is_json():
    import json

    model = tnn.TNNGraph(chain_spec(n=2, size=8), times=3, image_off=2,
                         unroll="feedforward", remat=True)
    config = json.loads(json.dumps(model.get_config()))
    clone = tnn.TNNGraph.from_config(config)
    assert clone.unroll_mode == "feedforward" and clone.remat
    assert clone.count_params() == model.count_params()


@pytest.mark.parametrize("loop", ["python", "symbolic"])
def test_mixed_precision_follows_the_model_policy(loop):
    keras.utils.set_random_seed(3)
    kwargs = dict(input_shape=(32, 32, 3), num_classes=5, times=12,
                  time_loop=loop)
    full = tnn.create_model("lstm_intermediate", **kwargs)
    mixed = tnn.create_model("lstm_intermediate", dtype="mixed_bfloat16",
                             **kwargs)
    mixed.set_weights(full.get_weights())
    assert all(w.dtype == "float32" for w in mixed.weights)
    images = np.random.default_rng(4).standard_normal(
        (2, 32, 32, 3)).astype("float32")
    out = mixed.unroll(images, nodes=["conv5", "imnetds"])
    assert {keras.backend.standardize_dtype(v.dtype)
            for v in out.values()} == {"bfloat16"}
    want = np.asarray(full(images))
    got = np.asarray(keras.ops.cast(out["imnetds"], "float32"))
    np.testing.assert_allclose(got, want, atol=0.1 * np.abs(want).max())
