"""Per-step loss and per-step / per-decoder top-k metrics."""

import json

import keras
import numpy as np
import pytest

from tnn.readouts import (DecodedTopKAccuracy, PerStepCrossEntropy,
                          StepTopKAccuracy, get_decoder, per_step_metrics,
                          step_weights)

B, T, K = 6, 5, 7


def _data(seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((B, T, K)).astype("float32") * 2
    labels = rng.integers(0, K, B)
    return logits, labels


def np_ce(logits, labels):
    """Per-example, per-step softmax cross-entropy `[B, T]`."""
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, labels[:, None, None], axis=-1)[..., 0]


def np_top_k(logits, labels, k):
    order = np.argsort(-logits, axis=-1)[:, :k]
    return np.mean([labels[i] in order[i] for i in range(len(labels))])


def test_step_weights_definitions():
    np.testing.assert_allclose(step_weights(4), [0.25] * 4)
    np.testing.assert_allclose(step_weights(3, "gamma", 0.5, False),
                               [1.0, 0.5, 0.25])
    np.testing.assert_allclose(step_weights(3, "gamma", 0.5),
                               np.array([1.0, 0.5, 0.25]) / 1.75)
    np.testing.assert_allclose(step_weights(3, "last"), [0, 0, 1])
    np.testing.assert_allclose(step_weights(2, [1.0, 3.0]), [0.25, 0.75])


@pytest.mark.parametrize("weighting, gamma", [
    ("uniform", 0.9), ("gamma", 0.8), ("gamma", 1.5), ("last", 0.9),
    ([0.0, 1.0, 2.0, 0.0, 1.0], 0.9)])
def test_per_step_loss_matches_numpy(weighting, gamma):
    logits, labels = _data()
    loss = PerStepCrossEntropy(weighting=weighting, gamma=gamma)
    w = step_weights(T, weighting, gamma)
    expected = (np_ce(logits, labels) * w).sum(axis=1).mean()
    assert float(loss(labels, logits)) == pytest.approx(expected, rel=1e-5)


def test_last_step_loss_equals_keras_cross_entropy_and_window():
    logits, labels = _data(1)
    keras_ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    last = PerStepCrossEntropy(weighting="last")
    assert float(last(labels, logits)) == pytest.approx(
        float(keras_ce(labels, logits[:, -1])), rel=1e-5)
    window = PerStepCrossEntropy(start=1, end=3, normalize_weights=False)
    expected = np_ce(logits, labels)[:, 1:3].sum(axis=1).mean()
    assert float(window(labels[:, None], logits)) == pytest.approx(
        expected, rel=1e-5)
    weights = np.array([1, 0, 2, 0, 1, 3], "float32")
    per_example = (np_ce(logits, labels) / T).sum(axis=1)
    assert float(PerStepCrossEntropy()(labels, logits, weights)) == (
        pytest.approx((per_example * weights).sum() / B, rel=1e-5))


def test_label_smoothing_matches_keras():
    logits, labels = _data(2)
    ours = PerStepCrossEntropy(weighting="last", label_smoothing=0.1)
    ref = keras.losses.CategoricalCrossentropy(from_logits=True,
                                               label_smoothing=0.1)
    one_hot = np.eye(K, dtype="float32")[labels]
    assert float(ours(labels, logits)) == pytest.approx(
        float(ref(one_hot, logits[:, -1])), rel=1e-5)


def test_loss_config_round_trip_and_fit():
    loss = PerStepCrossEntropy(weighting="gamma", gamma=0.7, start=1)
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(
        loss)))
    clone = keras.saving.deserialize_keras_object(config)
    assert clone.get_config() == loss.get_config()
    logits, labels = _data(3)
    assert float(clone(labels, logits)) == pytest.approx(
        float(loss(labels, logits)))
    inp = keras.Input((T, K))
    model = keras.Model(inp, keras.layers.Dense(K)(inp))
    model.compile(optimizer="sgd", loss=loss, metrics=per_step_metrics(T))
    history = model.fit(logits, labels, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert "top5_t04" in history.history


@pytest.mark.parametrize("kwargs, match", [
    ({"weighting": "exp"}, "weighting must be one of"),
    ({"weighting": [1.0, -1.0]}, "must be >= 0"),
    ({"gamma": 0.0}, "gamma must be a number > 0"),
    ({"start": 0.5}, "start must be an int"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in"),
])
def test_loss_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PerStepCrossEntropy(**kwargs)


def test_loss_bad_shapes():
    logits, labels = _data()
    with pytest.raises(ValueError, match=r"one entry per step \(5\)"):
        PerStepCrossEntropy(weighting=[1.0, 1.0])(labels, logits)
    with pytest.raises(ValueError, match="per-step logits"):
        PerStepCrossEntropy()(labels, logits[:, 0])
    with pytest.raises(ValueError, match="selects no step"):
        PerStepCrossEntropy(start=6)(labels, logits)


@pytest.mark.parametrize("step, k", [(0, 1), (2, 5), (-1, 1), (4, 3)])
def test_step_accuracy_matches_numpy(step, k):
    logits, labels = _data(4)
    metric = StepTopKAccuracy(step=step, k=k)
    metric.update_state(labels[:3], logits[:3])
    metric.update_state(labels[3:], logits[3:])
    expected = np_top_k(logits[:, step], labels, k)
    assert float(metric.result()) == pytest.approx(expected)
    config = json.loads(json.dumps(metric.get_config()))
    assert StepTopKAccuracy.from_config(config).get_config() == config
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_step_accuracy_names_and_errors():
    names = [m.name for m in per_step_metrics(3, ks=(1, 5))]
    assert names == ["top1_t00", "top1_t01", "top1_t02",
                     "top5_t00", "top5_t01", "top5_t02"]
    assert StepTopKAccuracy().name == "top1_last"
    logits, labels = _data()
    with pytest.raises(ValueError, match="outside the 5 time steps"):
        StepTopKAccuracy(step=5).update_state(labels, logits)
    with pytest.raises(ValueError, match="per-step logits"):
        StepTopKAccuracy().update_state(labels, logits[:, 0])
    with pytest.raises(ValueError, match="k must be a positive int"):
        StepTopKAccuracy(k=0)


@pytest.mark.parametrize("name", ["last", "average", "max_conf",
                                  "threshold", "time_max", "w_time_avg"])
def test_decoded_accuracy_matches_decoder_then_numpy(name):
    logits, labels = _data(5)
    metric = DecodedTopKAccuracy(name, k=2)
    metric.update_state(labels, logits)
    decoded = get_decoder(name)(logits).numpy()
    assert float(metric.result()) == pytest.approx(
        np_top_k(decoded, labels, 2))
    assert metric.name == f"top2_{name}"
    config = json.loads(json.dumps(metric.get_config()))
    clone = DecodedTopKAccuracy.from_config(config)
    clone.update_state(labels, logits)
    assert float(clone.result()) == pytest.approx(float(metric.result()))


def test_decoded_accuracy_with_trained_instance_and_reset():
    logits, labels = _data(6)
    mlp = get_decoder("mlp", hidden_units=(4,))
    decoded = mlp(logits).numpy()
    metric = DecodedTopKAccuracy(mlp, k=1)
    metric.update_state(labels, logits)
    assert float(metric.result()) == pytest.approx(
        np_top_k(decoded, labels, 1))
    beta = get_decoder("max_conf", beta=0.4)
    metric = DecodedTopKAccuracy(beta)
    metric.update_state(labels, logits)
    metric.reset_state()
    assert beta.normalize_softmax_beta.numpy()[0] == pytest.approx(0.4)


def test_decoded_accuracy_rejects_learned_decoder_by_name():
    with pytest.raises(ValueError, match="pass the trained layer instance"):
        DecodedTopKAccuracy("mlp")
    with pytest.raises(ValueError, match="Unknown decoder"):
        DecodedTopKAccuracy("best")
    with pytest.raises(ValueError, match="decoder_kwargs apply only"):
        DecodedTopKAccuracy(get_decoder("last"), decoder_kwargs={"start": 1})


def test_decoded_metrics_inside_fit():
    logits, labels = _data(7)
    inp = keras.Input((T, K))
    model = keras.Model(inp, keras.layers.Dense(K)(inp))
    model.compile(optimizer="sgd", loss=PerStepCrossEntropy(),
                  metrics=[DecodedTopKAccuracy("max_conf"),
                           DecodedTopKAccuracy("threshold", k=5)])
    result = model.evaluate(logits, labels, verbose=0, return_dict=True)
    decoded = get_decoder("max_conf")(model.predict(logits, verbose=0))
    assert result["top1_max_conf"] == pytest.approx(
        np_top_k(decoded.numpy(), labels, 1))


def test_ties_count_as_misses():
    from tnn.readouts.step_accuracy import top_k_matches

    flat = np.zeros((3, 4), "float32")            # pre-stimulus readout
    labels = np.array([0, 1, 2])
    np.testing.assert_array_equal(np.asarray(top_k_matches(labels, flat, 1)),
                                  [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(np.asarray(top_k_matches(labels, flat, 4)),
                                  [1.0, 1.0, 1.0])
    logits = np.array([[3, 1, 2, 0], [0, 1, 2, 3], [1, 1, 0, 0]], "float32")
    np.testing.assert_array_equal(
        np.asarray(top_k_matches(labels, logits, 1)), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(
        np.asarray(top_k_matches(labels, logits, 3)), [1.0, 1.0, 0.0])


def test_top_k_accuracy_ties_are_misses_and_matches_numpy():
    from tnn.readouts.step_accuracy import TopKAccuracy

    flat = np.zeros((4, 10), "float32")           # all logits equal
    labels = np.array([0, 3, 7, 9])
    metric = TopKAccuracy(k=5)
    metric.update_state(labels, flat)
    assert float(metric.result()) == 0.0
    keras_metric = keras.metrics.SparseTopKCategoricalAccuracy(k=5)
    keras_metric.update_state(labels, flat)
    assert float(keras_metric.result()) == 1.0    # in_top_k: ties are hits
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(32, 10)).astype("float32")
    labels = rng.integers(0, 10, 32)
    for k in (1, 5):
        metric = TopKAccuracy(k=k)
        metric.update_state(labels, logits)
        assert float(metric.result()) == pytest.approx(
            np_top_k(logits, labels, k))
        assert TopKAccuracy.from_config(metric.get_config()).k == k
    assert TopKAccuracy(k=5).name == "top5"
    with pytest.raises(ValueError, match="expects logits"):
        TopKAccuracy(k=1).update_state(labels, logits[:, None])
