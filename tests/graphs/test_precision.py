"""bfloat16 as a fast path (tnn.graphs.precision): weights cast once per
call, bfloat16 copies that compute what the mixed policy computes, and
per-step parity with float32 within the stated tolerance."""

import keras
import numpy as np
import pytest
from keras.src.backend.common.stateless_scope import get_stateless_scope

from tnn.graphs import TNNGraph, precision
from tnn.zoo.small_models import convrnn_spec

# Per step, every node: max|bf16 - f32| <= TOLERANCE * max|f32| over the
# batch and units of that step (README, "Precision"). Measured on small and
# zoo models at random init: 0.4% (first conv) to 2.7% (rgc_intermediate
# conv10); benchmarks/RESULTS.md has the worst case at 128 px.
TOLERANCE = 0.05


def _model(dtype="float32", time_loop="auto", times=6):
    """The demo ConvRNN (`small_convrnn`: RGCs with rgc_shallow's
    settings) with a feedback edge."""
    keras.utils.set_random_seed(0)
    spec = convrnn_spec(input_shape=(32, 32, 3), feedback=[("conv3",
                                                            "conv2")])
    return TNNGraph(spec, input_shape=(32, 32, 3), times=times,
                    image_off=4, time_loop=time_loop, dtype=dtype)


def _mixed_copy(model, time_loop="auto", times=6):
    mixed = _model("mixed_bfloat16", time_loop, times)
    mixed.set_weights(model.get_weights())
    return mixed


def _images(batch=3):
    return np.random.default_rng(1).standard_normal(
        (batch, 32, 32, 3)).astype("float32")


def _f32(outputs):
    return {n: np.asarray(keras.ops.cast(v, "float32"))
            for n, v in outputs.items()}


def _per_step_error(got, want):
    axes = (0,) + tuple(range(2, want.ndim))
    return np.abs(got - want).max(axis=axes) / np.maximum(
        np.abs(want).max(axis=axes), 1e-30)


@pytest.fixture(scope="module")
def models():
    model = _model()
    return model, _mixed_copy(model)


@pytest.mark.parametrize("time_loop", ["python", "symbolic"])
def test_cast_once_gives_the_same_outputs(models, time_loop):
    model = _model(time_loop=time_loop)
    mixed = _mixed_copy(model, time_loop)
    x = _images()
    want = _f32(mixed.unroll(x))
    with precision.cast_weights_once(mixed):
        got = _f32(mixed.unroll(x))
    for node in want:
        np.testing.assert_array_equal(got[node], want[node], err_msg=node)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="counts the ops of a traced TensorFlow graph")
def test_cast_once_reads_each_weight_once_whatever_the_steps(models):
    """The root cause: a traced unroll reads and casts every weight at
    every step; inside the scope once per call."""
    import tensorflow as tf

    model, mixed = models

    def reads(graph_model, times, once):
        def forward(x):
            if once:
                with precision.cast_weights_once(graph_model):
                    return graph_model.unroll(x, times=times)
            return graph_model.unroll(x, times=times)
        graph = tf.function(forward).get_concrete_function(
            tf.TensorSpec((2, 32, 32, 3), tf.float32)).graph
        return sum(op.type == "ReadVariableOp"
                   for op in graph.get_operations())

    weights = len(mixed.weights)
    assert reads(mixed, 4, True) == reads(mixed, 5, True) == weights
    # a traced unroll reads the weights at every step (float32: no casts)
    assert reads(model, 5, False) > reads(model, 4, False) > weights


def test_cast_once_defers_to_an_enclosing_stateless_scope(models):
    """As under JAX's stateless calls: the enclosing scope's values are
    the ones cast."""
    _, mixed = models
    x = _images()
    halved = [(v, keras.ops.convert_to_numpy(v.value) * 0.5)
              for v in mixed.weights]
    with keras.StatelessScope(state_mapping=halved):
        want = _f32(mixed.unroll(x, nodes=["conv3"]))["conv3"]
        with precision.cast_weights_once(mixed):
            got = _f32(mixed.unroll(x, nodes=["conv3"]))["conv3"]
    plain = _f32(mixed.unroll(x, nodes=["conv3"]))["conv3"]
    np.testing.assert_array_equal(got, want)
    assert np.abs(plain - want).max() > 0


def test_cast_once_is_a_no_op_in_training_and_for_float32(models):
    model, mixed = models
    with precision.cast_weights_once(mixed, training=True):
        assert get_stateless_scope() is None
    with precision.cast_weights_once(model):
        assert get_stateless_scope() is None
    with precision.cast_weights_once(mixed):
        assert get_stateless_scope() is not None


def test_bfloat16_copy_computes_what_the_mixed_policy_computes(models):
    model, mixed = models
    copy = precision.with_precision(model, "mixed_bfloat16")
    assert {w.dtype for w in copy.weights} == {"bfloat16"}
    x = _images()
    got = _f32({"y": copy.predict_on_batch(x)})["y"]
    want = _f32({"y": mixed.predict_on_batch(x)})["y"]
    np.testing.assert_array_equal(got, want)
    assert precision.with_precision(model, None) is model
    assert precision.with_precision(model, "float32") is model
    back = precision.with_precision(mixed, "float32")
    assert back.compute_dtype == "float32"
    np.testing.assert_array_equal(back(x), model(x))


def test_per_step_outputs_within_the_tolerance_of_float32(models):
    model, _ = models
    copy = precision.with_precision(model, "mixed_bfloat16")
    x = _images(4)
    want = _f32(model.unroll(x))
    got = copy.unroll(x)
    assert {keras.backend.standardize_dtype(v.dtype)
            for v in got.values()} == {"bfloat16"}
    got = _f32(got)
    worst = {n: float(_per_step_error(got[n], want[n]).max()) for n in want}
    assert max(worst.values()) <= TOLERANCE, worst
    assert min(worst.values()) > 0   # bfloat16 did run


def test_precision_option_is_checked():
    with pytest.raises(ValueError, match="precision must be one of"):
        precision.resolve_precision("bf16")
    assert precision.resolve_precision(None) is None
    assert precision.resolve_precision("float32") == "float32"


@pytest.fixture
def machine(monkeypatch):
    """Sets what `bfloat16_fast` sees: (accelerator, CPU flags)."""
    def set_machine(accelerator, flags):
        monkeypatch.setattr(precision, "_accelerator", lambda: accelerator)
        monkeypatch.setattr(precision, "_cpu_flags", lambda: set(flags))
        precision.bfloat16_fast.cache_clear()
    yield set_machine
    precision.bfloat16_fast.cache_clear()


def test_auto_picks_bfloat16_where_the_machine_computes_it(machine):
    machine(None, {"avx512f", "avx512_bf16"})
    assert precision.bfloat16_fast()[0]
    assert precision.resolve_precision("auto") == "mixed_bfloat16"
    machine(None, {"avx512f", "amx_bf16", "amx_tile"})
    assert precision.resolve_precision("auto") == "mixed_bfloat16"
    machine(None, {"avx512f", "avx2"})
    fast, reason = precision.bfloat16_fast()
    assert not fast and "avx512_bf16" in reason
    assert precision.resolve_precision("auto") is None
    machine((True, "GPU"), set())
    assert precision.resolve_precision("auto") == "mixed_bfloat16"


def test_auto_keeps_float32_on_cpus_with_jax(machine, monkeypatch):
    machine(None, {"avx512_bf16", "amx_bf16"})
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    fast, reason = precision.bfloat16_fast()
    assert not fast and "XLA" in reason


def test_old_gpus_do_not_count_as_bfloat16_hardware():
    assert precision._gpu((7, 5)) is None
    assert precision._gpu((8, 0))[0]
    assert precision._gpu(None)[0]
