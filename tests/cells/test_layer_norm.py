"""TNNLayerNorm: exact on constant inputs, the same in every execution mode.

The gate pre-activations of a fresh cell before the image arrives are a
zero input plus a constant bias: constant over H, W and C. Computed from
the plain mean, their deviations are float32 round-off (~1e-7) that
`rsqrt(var + 1e-12)` multiplies by ~1e6, so the output depended on the
order of summation (eager, graph and XLA disagreed by O(1)).
"""

import keras
import numpy as np
import pytest

from tests import numpy_reference as ref
from tnn.cells.layer_norm import TNNLayerNorm

# lstm_shallow's gate bias inits and forget bias, plain values, and large
# magnitudes (one constant per example).
CONSTANTS = (1.6427688907776656, -1.166018906771675, -1.3495015766804237,
             1.3561755203084322, 0.1, -0.7, 3.3, 12345.678, -3.0e7, 1.0e20)


def _norm(channels, rng, dtype=None):
    norm = TNNLayerNorm(dtype=dtype)
    norm.build((None, 1, 1, channels))
    norm.gamma.assign(rng.uniform(0.5, 2.0, channels).astype("float32"))
    norm.beta.assign(rng.standard_normal(channels).astype("float32"))
    return norm


def _constant(shape, constants=CONSTANTS):
    """[len(constants), *shape]: example b is constant `constants[b]`."""
    values = np.asarray(constants, "float32").reshape((-1,) + (1,) * 3)
    return np.broadcast_to(values, (len(constants),) + shape).copy()


def _rel(a, b):
    """max |a - b| / max |b| (the relative error of the issue)."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("shape", [(9, 9, 128), (5, 5, 256), (3, 7, 33),
                                   (1, 1, 512)])
def test_constant_input_gives_beta_exactly(shape, rng):
    norm = _norm(shape[-1], rng)
    out = np.asarray(norm(_constant(shape)))
    expected = np.broadcast_to(np.asarray(norm.beta), out.shape)
    np.testing.assert_array_equal(out, expected)


def test_constant_input_gives_beta_exactly_in_float16(rng):
    # Statistics stay float32 under mixed precision (the float16 constants'
    # float32 mean was exact before too: this checks the dtype contract).
    norm = _norm(64, rng, dtype="mixed_float16")
    x = _constant((6, 6, 64), CONSTANTS[:7]).astype("float16")
    out = np.asarray(norm(x))
    assert out.dtype == np.float16
    expected = np.broadcast_to(np.asarray(norm.beta).astype("float16"),
                               out.shape)
    np.testing.assert_array_equal(out, expected)


def test_constant_input_same_in_eager_graph_and_xla(rng):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("graph and XLA modes of the TensorFlow backend")
    import tensorflow as tf

    norm = _norm(128, rng)
    x = tf.constant(_constant((9, 9, 128)))
    eager = norm(x).numpy()
    graph = tf.function(lambda v: norm(v))(x).numpy()
    xla = tf.function(lambda v: norm(v), jit_compile=True)(x).numpy()
    np.testing.assert_array_equal(graph, eager)
    np.testing.assert_array_equal(xla, eager)
    np.testing.assert_array_equal(
        eager, np.broadcast_to(np.asarray(norm.beta), eager.shape))


@pytest.mark.parametrize("offset", [0.0, 1.0e3, -2.5e4])
def test_random_input_matches_float64_reference(offset, rng):
    # offset 0: the plain case (equal to the previous formula within
    # round-off); a large offset with O(1) fluctuations is nearly constant,
    # where subtracting the float32 mean lost up to all digits.
    norm = _norm(32, rng)
    x = (offset + rng.standard_normal((4, 7, 5, 32))).astype("float32")
    out = np.asarray(norm(x))
    expected = ref.layer_norm(x.astype("float64"),
                              np.asarray(norm.gamma, "float64"),
                              np.asarray(norm.beta, "float64"))
    assert _rel(out, expected) < 1e-5


def test_random_input_matches_previous_formula(rng):
    from keras import ops

    norm = _norm(48, rng)
    x = (rng.standard_normal((3, 6, 6, 48)) * 3.0 + 0.5).astype("float32")
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    var = ops.mean(ops.square(x - mean), axis=(1, 2, 3), keepdims=True)
    previous = np.asarray((x - mean) * ops.rsqrt(var + 1e-12) * norm.gamma
                          + norm.beta)
    assert _rel(np.asarray(norm(x)), previous) < 1e-5


def test_other_ranks_and_round_trip(rng):
    norm = _norm(5, rng)
    x = rng.standard_normal((2, 7, 5)).astype("float32")
    out = np.asarray(norm(x))
    mean = x.mean(axis=(1, 2), keepdims=True, dtype="float64")
    var = x.var(axis=(1, 2), keepdims=True, dtype="float64")
    expected = ((x - mean) / np.sqrt(var + 1e-12) * np.asarray(norm.gamma)
                + np.asarray(norm.beta))
    assert _rel(out, expected) < 1e-5
    clone = TNNLayerNorm.from_config(norm.get_config())
    assert clone.epsilon == 1e-12 and clone.get_config() == norm.get_config()
