"""Temporal decoders: numpy re-implementations of §6, gradients, configs."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tnn import readouts
from tnn.readouts import get_decoder, list_decoders

B, T, K = 4, 7, 5


def np_softmax(z, beta, axis):
    e = np.exp(beta * (z - z.max(axis=axis, keepdims=True)))
    return e / e.sum(axis=axis, keepdims=True)


def np_last(L, normalization=None):
    out = L[:, -1, :]
    if normalization == "linear":
        return out / out.sum(axis=1, keepdims=True)
    if normalization == "softmax":
        return np_softmax(out, 1.0, axis=1)
    return out


def np_w_avg(L, beta):
    return (np_softmax(L, beta, axis=1) * L).sum(axis=1)


def np_w_avg_t(L, A):
    s = 1.0 / (1.0 + np.exp(-A))
    w = s / s.sum(axis=0, keepdims=True)
    return (w[None] * L).sum(axis=1)


def np_alpha(L, beta1, beta2):
    m = np_softmax(L, beta1, axis=2).max(axis=2)
    return np_softmax(m, beta2, axis=1)


def np_w_time_avg(L, beta1, beta2):
    return (np_alpha(L, beta1, beta2)[:, :, None] * L).sum(axis=1)


def np_max_conf(L, beta):
    conf = np_softmax(L, beta, axis=2).max(axis=2)
    return np.stack([L[b, np.argmax(conf[b])] for b in range(len(L))])


def np_time_max(L, beta):
    P = np_softmax(L, beta, axis=2)
    out = np.zeros((L.shape[0], L.shape[2]), L.dtype)
    for b in range(L.shape[0]):
        for k in range(L.shape[2]):
            out[b, k] = L[b, np.argmax(P[b, :, k]), k]
    return out


def np_threshold(L, theta, beta):
    m = np_softmax(L, beta, axis=2).max(axis=2)
    out = []
    for b in range(L.shape[0]):
        crossed = np.nonzero(m[b] >= theta)[0]
        t = crossed[0] if len(crossed) else np.argmax(m[b])
        out.append(L[b, t])
    return np.stack(out)


def np_elu(x):
    return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def np_mlp(L, dense):
    x = L.reshape(L.shape[0], -1)
    for i, (w, b) in enumerate(dense):
        x = x @ w + b
        if i < len(dense) - 1:
            x = np_elu(x)
    return x


def np_conv1d(L, convs, fc, pool="max"):
    pooled = []
    for kernel, bias in convs:
        w = kernel.shape[0]
        steps = L.shape[1] - w + 1
        y = np.stack([np.einsum("btk,tkf->bf", L[:, s:s + w], kernel)
                      for s in range(steps)], axis=1) + bias
        pooled.append(y.max(axis=1) if pool == "max" else y.mean(axis=1))
    x = np.concatenate(pooled, axis=-1)
    return x @ fc[0] + fc[1]


def numpy_reference(name, layer, L):
    w = {v.name: v.numpy() for v in layer.weights}
    if name == "last":
        return np_last(L, layer.normalization)
    if name == "average":
        return L.mean(axis=1)
    if name == "sum":
        return L.sum(axis=1)
    if name == "w_avg":
        return np_w_avg(L, w["normalize_softmax_beta"][0])
    if name == "w_avg_t":
        return np_w_avg_t(L, w["decoder_alpha"])
    if name == "w_time_avg":
        return np_w_time_avg(L, w["probs_softmax_beta"][0],
                             w["alpha_softmax_beta"][0])
    if name == "max_conf":
        return np_max_conf(L, w["normalize_softmax_beta"][0])
    if name == "time_max":
        return np_time_max(L, w["normalize_softmax_beta"][0])
    if name == "threshold":
        return np_threshold(L, w["decoder_threshold"][0],
                            w["normalize_softmax_beta"][0])
    if name == "mlp":
        names = [f"fc{i}" for i in range(1, len(layer.hidden_units) + 1)]
        dense = [(w[f"{n}_weights"], w[f"{n}_biases"])
                 for n in names + ["fc_final"]]
        return np_mlp(L, dense)
    if name == "conv1d":
        convs = [(w[f"c_{k}_kernel"], w[f"c_{k}_bias"])
                 for k in layer.window_lengths]
        return np_conv1d(L, convs, (w["fc_final_weights"],
                                    w["fc_final_biases"]), layer.pool_type)
    raise AssertionError(name)


CASES = [
    ("last", {}),
    ("last", {"normalization": "linear"}),
    ("last", {"normalization": "softmax"}),
    ("average", {}),
    ("sum", {}),
    ("w_avg", {}),
    ("w_avg", {"beta": 2.5}),
    ("w_avg", {"trainable_beta": True, "seed": 3}),
    ("w_avg_t", {"seed": 1}),
    ("w_time_avg", {}),
    ("w_time_avg", {"trainable_alpha_betas": True, "seed": 2}),
    ("max_conf", {}),
    ("max_conf", {"beta": 0.3, "trainable_beta": True}),
    ("time_max", {"beta": 4.0}),
    ("threshold", {}),
    ("threshold", {"threshold": 0.5, "beta": 3.0}),
    ("mlp", {"hidden_units": (6, 3)}),
    ("conv1d", {"window_lengths": (2, 3), "num_filters": (2, 3)}),
    ("conv1d", {"window_lengths": (1, 4), "pool_type": "avg"}),
]


def _logits(seed=0, shape=(B, T, K), scale=2.0):
    return (np.random.default_rng(seed).standard_normal(shape)
            * scale).astype("float32")


def _case_id(case):
    name, kwargs = case
    return name + "".join(f"-{k}={v}" for k, v in sorted(kwargs.items()))


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_numpy_reference(case):
    name, kwargs = case
    L = _logits()
    layer = get_decoder(name, **kwargs)
    out = keras.ops.convert_to_numpy(layer(L))
    assert out.shape == (B, K)
    np.testing.assert_allclose(out, numpy_reference(name, layer, L),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_window_and_graph_mode(case):
    name, kwargs = case
    L = _logits(seed=1, shape=(B, 12, K))
    layer = get_decoder(name, start=2, end=-2, **kwargs)
    graph_out = tf.function(lambda x: layer(x))(tf.constant(L)).numpy()
    expected = numpy_reference(name, layer, L[:, 2:-2])
    np.testing.assert_allclose(graph_out, expected, rtol=1e-5, atol=1e-5)
    assert layer.num_steps == 8


def test_threshold_first_crossing_and_fallback():
    # Example 0 crosses θ = 0.9 at steps 1 and 2: the first one is used.
    # Example 1 never crosses: the most confident step (2) is used.
    L = np.zeros((2, 3, 2), "float32")
    L[0, 1] = [3.0, 0.0]   # p_max = 0.953
    L[0, 2] = [0.0, 5.0]   # p_max = 0.993
    L[1, 0] = [0.5, 0.0]
    L[1, 2] = [1.0, 0.0]
    out = get_decoder("thresh")(L).numpy()
    np.testing.assert_array_equal(out, L[[0, 1], [1, 2]])
    dthresh = get_decoder("dthresh")
    dthresh(L)
    assert dthresh.decoder_threshold.numpy()[0] == pytest.approx(0.9)


def test_max_conf_picks_most_confident_step_per_example():
    L = np.zeros((2, 3, 2), "float32")
    L[0, 2] = [4.0, 0.0]
    L[1, 0] = [0.0, 2.0]
    layer = readouts.MaxConfidenceDecoder()
    np.testing.assert_array_equal(layer(L).numpy(), L[[0, 1], [2, 0]])
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer.selected_steps(L)), [2, 0])


def test_compute_alpha_diagnostic():
    L = _logits(seed=4)
    layer = get_decoder("w_time_avg", alpha_betas=0.7)
    alpha = keras.ops.convert_to_numpy(layer.compute_alpha(L))
    np.testing.assert_allclose(alpha, np_alpha(L, 0.7, 0.7), rtol=1e-5)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="compute_alpha"):
        get_decoder("conv1d", window_lengths=(2,)).compute_alpha(L)


DIFFERENTIABLE = [
    ("last", {}),
    ("average", {}),
    ("sum", {}),
    ("w_avg", {"trainable_beta": True}),
    ("w_avg_t", {}),
    ("w_time_avg", {"trainable_alpha_betas": True}),
    ("mlp", {"hidden_units": (6,)}),
    ("conv1d", {"window_lengths": (2, 3)}),
]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=_case_id)
def test_gradients_reach_logits_and_every_trainable_weight(case):
    name, kwargs = case
    layer = get_decoder(name, **kwargs)
    L = tf.constant(_logits(seed=5))
    layer.build(L.shape)
    assert bool(layer.trainable_weights) == (
        name not in ("last", "average", "sum"))
    with tf.GradientTape() as tape:
        tape.watch(L)
        loss = tf.reduce_sum(layer(L) * tf.constant(_logits(6, (B, K))))
    grads = tape.gradient(loss, [L] + layer.trainable_weights)
    for g, v in zip(grads, [L] + layer.trainable_weights):
        assert g is not None, getattr(v, "name", "logits")
        assert np.any(np.asarray(g) != 0), getattr(v, "name", "logits")


@pytest.mark.parametrize("name", ["max_conf", "time_max", "threshold"])
def test_selection_decoders_give_no_gradient_to_beta(name):
    kwargs = {"trainable_beta": True}
    if name == "threshold":
        kwargs["trainable_threshold"] = True
    layer = get_decoder(name, **kwargs)
    L = tf.constant(_logits(seed=7))
    layer.build(L.shape)
    assert "normalize_softmax_beta" in [w.name for w in
                                        layer.trainable_weights]
    with tf.GradientTape() as tape:
        tape.watch(L)
        out = layer(L)
        loss = tf.reduce_sum(out)
    grad_L, *grad_vars = tape.gradient(loss, [L] + layer.trainable_weights)
    assert all(g is None for g in grad_vars)
    # Gradient 1 exactly on the selected logits, 0 elsewhere.
    grad_L = grad_L.numpy()
    assert grad_L.sum() == pytest.approx(B * K)
    assert set(np.unique(grad_L)) <= {0.0, 1.0}


def test_fit_learns_decoder_weights_end_to_end():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((32, T, K)).astype("float32")
    y = rng.integers(0, K, 32)
    inp = keras.Input((T, K))
    out = get_decoder("w_avg_t")(keras.layers.Dense(K)(inp))
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.SGD(0.5),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True))
    alpha = model.layers[-1].decoder_alpha
    before = alpha.numpy().copy()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(before, alpha.numpy())


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_config_round_trip_reproduces_outputs(case):
    name, kwargs = case
    layer = get_decoder(name, **kwargs)
    L = _logits(seed=9)
    out = layer(L).numpy()
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(
        layer)))
    clone = keras.saving.deserialize_keras_object(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    if not clone.built:
        clone.build(L.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(L).numpy(), out, rtol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "max_conf", "w_avg_t"])
def test_saved_model_file_reloads_with_weights(name, tmp_path):
    inp = keras.Input((T, K))
    kwargs = {"hidden_units": (4,)} if name == "mlp" else {}
    kwargs.update(trainable_beta=True) if name == "max_conf" else None
    model = keras.Model(inp, get_decoder(name, **kwargs)(inp))
    L = _logits(seed=10)
    path = str(tmp_path / "decoder.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded(L).numpy(), model(L).numpy(),
                               rtol=1e-6)


def test_decoder_weights_shapes_and_trainability_section_8_4():
    # Their TF1 names: tests/interop/tf1_checkpoint/test_decoder_names.py.
    L = _logits()
    tmaxconf = get_decoder("tmaxconf", trainable_beta=True)
    tmaxconf(L)
    assert sorted(w.name for w in tmaxconf.weights) == [
        "alpha_softmax_beta", "normalize_softmax_beta", "probs_softmax_beta"]
    assert [w.name for w in tmaxconf.trainable_weights] == [
        "normalize_softmax_beta"]
    dthresh = get_decoder("dthresh")
    dthresh(L)
    assert not dthresh.trainable_weights
    values = {w.name: float(w.numpy()[0]) for w in dthresh.weights}
    assert values == {"probs_softmax_beta": 1.0, "alpha_softmax_beta": 1.0,
                      "decoder_threshold": pytest.approx(0.9),
                      "normalize_softmax_beta": 1.0}
    w_avg_t = get_decoder("w_avg_t")
    w_avg_t(L)
    assert w_avg_t.decoder_alpha.shape == (T, K)
    mlp = get_decoder("mlp")
    mlp(L)
    shapes = {w.name: tuple(w.shape) for w in mlp.weights}
    assert shapes["fc1_weights"] == (T * K, 250)
    assert shapes["fc_final_weights"] == (250, K)
    conv = get_decoder("conv1d")
    conv(L)
    assert len(conv.weights) == 12
    shapes = {w.name: tuple(w.shape) for w in conv.weights}
    assert shapes["c_4_kernel"] == (4, K, 4)
    assert shapes["fc_final_weights"] == (20, K)


def test_trainable_scalars_use_uniform_init_and_l2_is_tf1_convention():
    layer = get_decoder("w_avg", trainable_beta=True, seed=0)
    layer(_logits())
    beta = layer.normalize_softmax_beta.numpy()[0]
    assert 0.0 <= beta < 1.0 and beta != 1.0
    mlp = get_decoder("mlp", hidden_units=(3,), weight_decay=0.5)
    mlp(_logits())
    values = {v.name: v.numpy() for v in mlp.weights}
    w, b = values["fc_final_weights"], values["fc_final_biases"]
    # Two regularized tensors (final weights and biases): 0.5 · Σw² / 2.
    expected = 0.25 * (np.sum(w ** 2) + np.sum(b ** 2))
    assert float(sum(mlp.losses)) == pytest.approx(expected, rel=1e-5)


def test_registry_lists_all_decoders_and_aliases():
    assert list_decoders() == sorted([
        "last", "average", "sum", "w_avg", "w_avg_t", "w_time_avg",
        "max_conf", "time_max", "threshold", "mlp", "conv1d"])
    assert {"simple", "tmaxconf", "dthresh", "thresh"} <= set(
        list_decoders(include_aliases=True))
    assert isinstance(get_decoder("simple"), readouts.LastDecoder)
    assert get_decoder("simple_soft").normalization == "softmax"
    assert get_decoder("sum").reduction == "sum"
    layer = get_decoder("mlp", name="my_mlp")
    assert layer.name == "my_mlp"
    assert get_decoder(layer) is layer


def test_unknown_decoder_name_lists_available():
    with pytest.raises(ValueError, match="Unknown decoder 'maxconf'.*"
                       "available decoders: average, conv1d, last"):
        get_decoder("maxconf")
    with pytest.raises(ValueError, match="must be a string"):
        get_decoder(3)
    with pytest.raises(ValueError, match="configure the instance"):
        get_decoder(get_decoder("last"), start=2)


@pytest.mark.parametrize("build_kwargs, shape, match", [
    ({}, (B, K), r"\[batch, time, classes\] \(rank 3\)"),
    ({"start": 9}, (B, T, K), "selects no step"),
    ({"start": 3, "end": 3}, None, "window .* is empty"),
    ({"end": 0}, None, "window .* is empty"),
    ({"start": 1.5}, None, "start must be an int"),
    ({"normalization": "l2"}, None, "normalization must be one of"),
])
def test_bad_arguments_and_shapes(build_kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        layer = readouts.LastDecoder(**build_kwargs)
        layer(np.zeros(shape, "float32"))


@pytest.mark.parametrize("name, kwargs, match", [
    ("conv1d", {}, "fewer than the longest temporal kernel"),
    ("conv1d", {"window_lengths": (2, 2)}, "must be distinct"),
    ("conv1d", {"num_filters": (1, 2)}, "one entry per window length"),
    ("conv1d", {"pool_type": "sum"}, "pool_type must be one of"),
    ("mlp", {"hidden_units": (0,)}, "positive int"),
    ("mlp", {"weight_decay": -1}, "weight_decay must be a number >= 0"),
    ("mlp", {"activation": "bogus"}, "Unknown activation"),
    ("w_avg", {"trainable_beta": "yes"}, "trainable_beta must be True"),
    ("threshold", {"threshold": "high"}, "threshold must be a number"),
    ("average", {"reduction": "max"}, "reduction must be one of"),
])
def test_bad_decoder_arguments(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        get_decoder(name, **kwargs)(_logits(shape=(B, 4, K)))


def test_learned_decoders_need_static_shapes():
    inp = keras.Input((None, K))
    with pytest.raises(ValueError, match="needs a known number of steps"):
        get_decoder("w_avg_t")(inp)
    # Parameter-free decoders accept a dynamic time axis.
    out = get_decoder("max_conf")(inp)
    assert tuple(out.shape) == (None, K)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_mixed_precision_policy(case):
    name, kwargs = case
    L = _logits(seed=11, scale=1.0)
    full = get_decoder(name, **kwargs)
    expected = full(L).numpy()
    half = get_decoder(name, dtype="mixed_float16", **kwargs)
    half.build(L.shape)
    half.set_weights(full.get_weights())
    out = half(L)
    assert out.dtype == "float16"
    assert all(w.dtype == "float32" for w in half.weights)
    np.testing.assert_allclose(np.asarray(out, "float32"), expected,
                               rtol=2e-2, atol=2e-2)


def test_tmaxconf_alias_has_the_zoos_trainable_random_beta():
    """convrnns `loader.MODEL_TO_KWARGS[*_tmaxconf]`: max_conf with
    `decoder_trainable=True`, so `decoders.softmax` draws β =
    `normalize/softmax_beta` from `tf.initializers.random_uniform`
    (U[0, 1)) and marks it trainable; the compute_alpha β's stay 1."""
    L = _logits()
    betas = []
    for seed in (0, 1):
        tmaxconf = get_decoder("tmaxconf", seed=seed)
        tmaxconf(L)
        assert tmaxconf.trainable_beta
        assert [w.name for w in tmaxconf.trainable_weights] == [
            "normalize_softmax_beta"]
        beta = float(tmaxconf.normalize_softmax_beta.numpy()[0])
        assert 0.0 <= beta < 1.0
        betas.append(beta)
        assert float(tmaxconf.probs_softmax_beta.numpy()[0]) == 1.0
    assert betas[0] != betas[1]
    # An explicit value still wins; `max_conf` itself keeps β = 1, fixed.
    fixed = get_decoder("tmaxconf", beta=0.5)
    fixed(L)
    assert float(fixed.normalize_softmax_beta.numpy()[0]) == 0.5
    plain = get_decoder("max_conf")
    plain(L)
    assert not plain.trainable_weights
