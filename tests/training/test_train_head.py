"""The task head, its export, optimizers and callbacks of `training.train`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tnn.readouts import PerStepCrossEntropy, get_decoder
from training import callbacks, export, optimizers
from tnn.zoo import small_models
from tnn.tasks.classifier import STEPS, TemporalClassifier
from training.data import preprocessing


def tiny_classifier(decoders=("last", "max_conf"), times=5, **kwargs):
    keras.utils.set_random_seed(1)
    backbone = small_models.small_convrnn(
        input_shape=(16, 16, 1), num_classes=4, widths=(4, 4, 4),
        times=times, **kwargs)
    return TemporalClassifier(backbone, decoders)


def batch(n=6, size=16, channels=1, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, size, size, channels)).astype(np.float32)
    return images, rng.integers(0, classes, n).astype(np.int32)


def test_outputs_per_step_and_per_decoder():
    model = tiny_classifier(("last", "average", "threshold"))
    images, _ = batch()
    outputs = model(images)
    assert set(outputs) == {STEPS, "last", "average", "threshold"}
    assert outputs[STEPS].shape == (6, 5, 4)
    steps = np.asarray(outputs[STEPS])
    start = model.backbone.first_image_step("readout")
    assert model.decoder_start == start == 3
    np.testing.assert_allclose(outputs["last"], steps[:, -1], rtol=1e-6)
    np.testing.assert_allclose(outputs["average"], steps[:, start:].mean(1),
                               rtol=1e-5, atol=1e-6)


def test_loss_includes_the_tf1_weight_decay():
    keras.utils.set_random_seed(2)
    decay = 0.05
    backbone = small_models.small_feedforward(
        input_shape=(16, 16, 1), num_classes=4, widths=(4, 4, 4), times=4,
        weight_decay=decay, match_params=False)
    model = TemporalClassifier(backbone, ("last",))
    model.compile(objective=STEPS)
    images, labels = batch()
    outputs = model(images)
    kernels = [layer.kernel.numpy() for layer in backbone._flatten_layers()
               if isinstance(layer, (keras.layers.Conv2D,
                                     keras.layers.Dense))]
    assert len(kernels) == 4
    penalty = sum(decay * np.sum(k.astype(np.float64) ** 2) / 2
                  for k in kernels)  # TF1 l2_regularizer: s · Σw² / 2
    cross_entropy = float(PerStepCrossEntropy(start=3)(labels,
                                                       outputs[STEPS]))
    loss = float(model.compute_loss(images, labels, outputs))
    assert penalty > 0.01
    np.testing.assert_allclose(loss, cross_entropy + penalty, rtol=1e-5)
    logs = model.evaluate(images, labels, batch_size=6, verbose=0,
                          return_dict=True)
    np.testing.assert_allclose(logs["loss"], cross_entropy + penalty,
                               rtol=1e-5)


def test_objectives_and_metric_names():
    model = tiny_classifier()
    model.compile(objective=["steps", "max_conf"], step_weighting="gamma",
                  gamma=0.5)
    images, labels = batch()
    logs = model.evaluate(images, labels, batch_size=6, verbose=0,
                          return_dict=True)
    assert {"steps_top1_t00", "steps_top1_t04", "last_top1",
            "max_conf_top1"} <= set(logs)
    # 4 classes: top-5 would be trivially 1 and is left out.
    assert not any("top5" in k for k in logs)
    outputs = model(images)
    weights = 0.5 ** np.arange(2)
    steps = np.asarray(outputs[STEPS])[:, 3:]
    log_probs = steps - np.log(np.exp(steps).sum(-1, keepdims=True))
    per_step = -log_probs[np.arange(6), :, labels]
    expected = np.mean(per_step @ (weights / weights.sum()))
    decoded = np.asarray(outputs["max_conf"])
    log_probs = decoded - np.log(np.exp(decoded).sum(-1, keepdims=True))
    expected += np.mean(-log_probs[np.arange(6), labels])
    expected += sum(float(x) for x in model.losses)
    np.testing.assert_allclose(logs["loss"], expected, rtol=1e-4)
    with pytest.raises(ValueError, match="Unknown objective 'median'"):
        model.compile(objective="median")
    with pytest.raises(ValueError, match="label_smoothing applies"):
        model.compile(objective="last", label_smoothing=0.1)


def test_bad_head_arguments():
    backbone = tiny_classifier().backbone
    with pytest.raises(ValueError, match="backbone must be a tnn.TNNGraph"):
        TemporalClassifier(keras.Sequential())
    with pytest.raises(ValueError, match="at least one decoder"):
        TemporalClassifier(backbone, ())
    with pytest.raises(ValueError, match="must be unique"):
        TemporalClassifier(backbone, ("last", get_decoder("average",
                                                          name="last")))
    with pytest.raises(ValueError, match="Unknown decoder 'lastt'"):
        TemporalClassifier(backbone, ("lastt",))


@pytest.mark.large
def test_keras_file_round_trip(tmp_path):
    model = tiny_classifier(("last", "w_avg_t"))
    model.compile(objective=["steps", "w_avg_t"])
    images, labels = batch()
    model.fit(images, labels, batch_size=3, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert int(loaded.optimizer.iterations.numpy()) == 2
    slots = [v.numpy() for v in model.optimizer.variables]
    assert sum(np.abs(v).sum() for v in slots[2:]) > 0  # momenta
    for saved, value in zip(loaded.optimizer.variables, slots):
        np.testing.assert_allclose(saved.numpy(), value)
    logs = loaded.evaluate(images, labels, verbose=0, return_dict=True)
    assert logs == pytest.approx(model.evaluate(images, labels, verbose=0,
                                                return_dict=True))
    for key, value in model(images).items():
        np.testing.assert_allclose(loaded(images)[key], value, rtol=1e-5,
                                   atol=1e-6)


def test_saved_model_serves_uint8_images(tmp_path):
    model = tiny_classifier()
    mean, std = preprocessing.GRAYSCALE_MEAN, preprocessing.GRAYSCALE_STD
    export.export_saved_model(model, tmp_path, mean, std,
                              metadata={"task": "unit"})
    loaded = tf.saved_model.load(str(tmp_path))
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(3, 16, 16, 1)).astype(np.uint8)
    normalized = (pixels / 255.0 - mean[0]) / std[0]
    expected = model(normalized.astype(np.float32))
    served = loaded.signatures["serving_default"](images=pixels)
    assert set(served) == {"logits", "probabilities_last",
                           "probabilities_max_conf"}
    np.testing.assert_allclose(served["logits"], expected[STEPS], rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(served["probabilities_last"],
                               tf.nn.softmax(expected["last"]), atol=1e-5)
    same = loaded.signatures["serve_normalized"](
        images=normalized.astype(np.float32))
    np.testing.assert_allclose(same["logits"], served["logits"], atol=1e-5)
    big = np.repeat(np.repeat(pixels, 2, axis=1), 2, axis=2)
    resized = tf.image.resize(big.astype(np.float32) / 255.0, (16, 16))
    from_big = model(((resized - mean[0]) / std[0]).numpy())
    np.testing.assert_allclose(loaded.serve(big)["logits"], from_big[STEPS],
                               rtol=1e-4, atol=1e-5)
    info = export.read_metadata(tmp_path)
    assert info["decoders"] == ["last", "max_conf"]
    assert (info["times"], info["first_image_step"]) == (5, 3)
    assert info["input_shape"] == [16, 16, 1] and info["task"] == "unit"
    with pytest.raises(ValueError, match="not a SavedModel exported"):
        export.read_metadata(tmp_path / "variables")


def test_feedforward_control_read_out_over_more_steps():
    keras.utils.set_random_seed(4)
    backbone = small_models.small_feedforward(
        input_shape=(16, 16, 1), num_classes=4, widths=(4, 4, 4), times=4)
    short = TemporalClassifier(backbone, ("last", "average"))
    long = export.with_times(short, 12)
    assert long.backbone.times == 12 and long.decoder_start == 3
    images, _ = batch()
    first = np.asarray(short(images)[STEPS])[:, 3]
    steps = np.asarray(long(images)[STEPS])
    for t in range(3, 12):  # constant image, no recurrence: constant output
        np.testing.assert_allclose(steps[:, t], first, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(long(images)["average"], first, rtol=1e-5,
                               atol=1e-6)
    with pytest.raises(ValueError, match=r"decoders \['mlp'\] have weights"):
        export.with_times(TemporalClassifier(backbone, ("mlp",)), 12)


def test_parameter_matched_feedforward_control():
    recurrent = small_models.small_convrnn()
    control = small_models.small_feedforward()
    ratio = control.count_params() / recurrent.count_params()
    assert abs(ratio - 1) < 0.01
    widths = [layer.filters for layer in control._flatten_layers()
              if isinstance(layer, keras.layers.Conv2D)]
    assert len(widths) == 3 and widths[0] > 16
    assert all(node.cell is None for node in control.spec.nodes)
    assert small_models.feedforward_params(
        widths, 10, (32, 32, 1)) == control.count_params()
    with pytest.raises(ValueError, match="cell_from must be an int"):
        small_models.small_convrnn(cell_from=4)
    with pytest.raises(ValueError, match="widths must be a non-empty"):
        small_models.small_convrnn(widths=(16, 0))


def test_sgd_and_schedules():
    opt = optimizers.sgd(learning_rate=0.1, clipvalue=0.32, momentum=0.9)
    assert (opt.clipvalue, opt.nesterov, opt.momentum) == (0.32, True, 0.9)
    assert float(opt.learning_rate) == pytest.approx(0.1)
    cosine = optimizers.learning_rate_schedule(0.1, 100, "cosine",
                                               final_fraction=0.1)
    assert float(cosine(0)) == pytest.approx(0.1)
    assert float(cosine(50)) == pytest.approx(0.1 * (0.1 + 0.9 * 0.5))
    assert float(cosine(100)) == pytest.approx(0.01)
    warm = optimizers.learning_rate_schedule(0.1, 100, "cosine",
                                             warmup_steps=10)
    assert float(warm(5)) == pytest.approx(0.05)
    assert float(warm(10)) == pytest.approx(0.1)
    step = optimizers.learning_rate_schedule(0.1, 100, "step",
                                             boundaries=(0.5, 0.75))
    assert [float(step(s)) for s in (0, 51, 76)] == pytest.approx(
        [0.1, 0.01, 0.001])
    expo = optimizers.learning_rate_schedule(0.1, 100, "exponential",
                                             decay_rate=0.5)
    assert float(expo(100)) == pytest.approx(0.05)
    assert optimizers.sgd(clipnorm=1.0).clipnorm == 1.0
    with pytest.raises(ValueError, match="momentum must be in"):
        optimizers.sgd(momentum=1.0)
    with pytest.raises(ValueError,
                       match="set ScheduleSettings.steps_per_epoch"):
        optimizers.sgd(schedule="cosine")
    with pytest.raises(ValueError, match="schedule must be one of"):
        optimizers.sgd(schedule="linear", total_steps=10)
    with pytest.raises(ValueError, match="not both"):
        optimizers.sgd(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="clipvalue must be a number > 0"):
        optimizers.sgd(clipvalue=-1)


def test_time_curves_and_movies(tmp_path):
    logs = {"val_steps_top1_t01": 0.5, "val_steps_top1_t00": 0.25,
            "steps_top1_t00": 0.9, "val_last_top1": 0.5, "loss": 1.0}
    assert callbacks.step_accuracies(logs, "val_") == {1: [0.25, 0.5]}
    assert callbacks.step_accuracies(logs) == {1: [0.9]}
    assert set(callbacks.CompactProgbar.compact(
        {**logs, "last_top5": 1.0})) == {"val_last_top1", "loss"}
    curves = callbacks.TimeCurves(tmp_path)
    curves.on_train_begin()
    curves.on_epoch_end(2, logs)
    curves.on_train_end()
    values = {}
    for path in tf.io.gfile.glob(str(tmp_path / "time_curves" / "events*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values.setdefault(value.tag, {})[event.step] = float(
                    tf.make_ndarray(value.tensor))
    assert values["accuracy_vs_time_step/validation_top1/epoch_003"] == {
        0: 0.25, 1: 0.5}
    images = np.zeros((2, 4, 5, 1), np.float32)
    strip = callbacks.movie_strip(images, times=3, image_off=2,
                                  blank_value=0.5, mean=(0.5,), std=(0.25,))
    assert strip.shape == (2, 4, 3 * 6 - 1, 1)
    np.testing.assert_allclose(strip[:, :, :5], 0.5)      # image 0 → mean
    np.testing.assert_allclose(strip[:, :, 5], 1.0)       # gap
    np.testing.assert_allclose(strip[:, :, 12:], 0.625)   # 0.5·0.25 + 0.5


def test_mixed_precision_keeps_float32_outputs():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = tiny_classifier()
        outputs = model(batch()[0])
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.backbone.compute_dtype == "bfloat16"
    assert all(v.dtype == "float32" for v in outputs.values())


def test_learned_decoders_train_by_default_without_moving_the_backbone():
    images, labels = batch()
    model = tiny_classifier(("last", "w_avg_t", "mlp"))
    model.compile(objective="steps")
    assert model.learned_decoders == ["w_avg_t", "mlp"]
    assert model.detached_decoders == ("w_avg_t", "mlp")
    before = {d.name: [w.numpy().copy() for w in d.trainable_weights]
              for d in model.decoder_layers if d.trainable_weights}
    model.fit(images, labels, batch_size=3, epochs=1, verbose=0)
    logs = model.evaluate(images, labels, verbose=0, return_dict=True)
    assert {"w_avg_t_top1", "mlp_top1", "last_top1"} <= set(logs)
    for name, weights in before.items():
        layer = {d.name: d for d in model.decoder_layers}[name]
        changed = [not np.allclose(w0, w.numpy())
                   for w0, w in zip(weights, layer.trainable_weights)]
        assert any(changed), name
    # The decoders' losses reach only the decoders: the backbone's
    # gradient is the per-step objective's alone.
    variables = model.backbone.trainable_variables
    reference = tiny_classifier(("last", "w_avg_t", "mlp"))
    reference.set_weights(model.get_weights())
    reference.compile(objective="steps", train_decoders=False)
    assert reference.detached_decoders == ()
    grads = []
    for m in (model, reference):
        with tf.GradientTape() as tape:
            outputs = m(images, training=False)
            loss = m.compute_loss(images, labels, outputs, training=False)
        grads.append(tape.gradient(loss, m.backbone.trainable_variables))
    for g, r in zip(*grads):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-7)
    assert len(grads[0]) == len(variables)
    # Not trained, not reported.
    logs = reference.evaluate(images, labels, verbose=0, return_dict=True)
    assert "last_top1" in logs
    assert not any(k.startswith(("w_avg_t_", "mlp_")) for k in logs)
    # Named in the objective, a decoder trains the backbone too.
    model.compile(objective=["steps", "w_avg_t"])
    assert model.detached_decoders == ("mlp",)
    assert tiny_classifier(("last", "w_avg_t")).get_config()[
        "detached_decoders"] == []


def test_decoder_top_k_counts_ties_as_misses():
    model = tiny_classifier(("last",))
    model.compile(objective="steps")
    flat = np.zeros((6, 4), "float32")
    labels = np.array([0, 1, 2, 3, 0, 1])
    (top1,) = model.make_metrics()["last"]
    top1.update_state(labels, flat)
    assert float(top1.result()) == 0.0
    keras_top1 = keras.metrics.SparseTopKCategoricalAccuracy(k=1)
    keras_top1.update_state(labels, flat)
    assert float(keras_top1.result()) == 1.0  # in_top_k counts ties
