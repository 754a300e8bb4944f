"""ConvIntersectionRNNCell: harness, TF1 shapes, numpy recursion, bypass."""

import numpy as np
import pytest
from keras import ops

from tests.test_case import run_cell_test, unroll_cell
from tnn.cells.conv_intersection_rnn_cell import ConvIntersectionRNNCell

B, H, W, C = 2, 8, 8, 4


def np_conv(x, kernel, bias):
    """Stride-1 SAME conv with TF padding (extra row/col bottom/right)."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                    (0, 0)))
    h, w = x.shape[1:3]
    return bias + sum(xp[:, a:a + h, b:b + w] @ kernel[a, b]
                      for a in range(kh) for b in range(kw))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def tf1_weights(cell):
    """{TF1 name: float64 value}; checks the mapping covers every variable."""
    names = cell.tf1_variable_names()
    rel = [w.path[len(cell.path) + 1:] for w in cell.weights]
    assert sorted(rel) == sorted(names), (rel, names)
    assert len(set(names.values())) == len(names)
    return {names[r]: np.asarray(w.numpy(), np.float64)
            for r, w in zip(rel, cell.weights)}


def randomize(cell, rng, scale=0.4):
    for w in cell.weights:
        w.assign(rng.normal(0.0, scale, w.shape).astype("float32"))


def np_intersection(v, xs, forget_bias):
    """§3.6 written against the TF1 variable names."""
    p = "ConvIntersectionRNNCell/"
    h = np.zeros(xs.shape[1:])
    outs = []
    for x in xs.astype(np.float64):
        z = np_conv(np.concatenate([x, h], -1), v[p + "weights"],
                    v[p + "bias"])
        gh_pre, h_pre, gy_pre, y_pre = np.split(z, 4, axis=-1)
        gh = sigmoid(gh_pre + forget_bias)
        gy = sigmoid(gy_pre + forget_bias)
        h = gh * h + (1 - gh) * np.tanh(h_pre)
        outs.append(gy * x + (1 - gy) * np.maximum(y_pre, 0.0))
    return np.stack(outs), h


def test_harness():
    run_cell_test(ConvIntersectionRNNCell, {"filters": C, "weight_decay": 1e-4},
                  (B, H, W, C), (B, H, W, C), 2)


@pytest.mark.parametrize("kernel_size,forget_bias", [
    (3, 1.0), (4, 0.0), ((1, 2), 2.0)])
def test_numpy_recursion(kernel_size, forget_bias):
    rng = np.random.default_rng(0)
    cell = ConvIntersectionRNNCell(C, kernel_size, forget_bias=forget_bias)
    cell.build((B, 5, 7, C))
    randomize(cell, rng)
    xs = rng.normal(size=(4, B, 5, 7, C)).astype("float32")
    out, states = unroll_cell(cell, xs)
    ref_out, ref_h = np_intersection(tf1_weights(cell), xs, forget_bias)
    np.testing.assert_allclose(out, ref_out, atol=2e-5)
    np.testing.assert_allclose(states[0], ref_h, atol=2e-5)
    assert not np.allclose(out[-1], states[0], atol=1e-2)  # y_t != h_t


# Appendix A: intersectionrnn_shallow conv3/conv5, _intermediate conv4.
@pytest.mark.parametrize("input_shape,kernel", [
    ((1, 28, 28, 256), (3, 3, 512, 1024)),
    ((1, 7, 7, 512), (3, 3, 1024, 2048)),
    ((1, 56, 56, 128), (3, 3, 256, 512)),
])
def test_zoo_variable_shapes(input_shape, kernel):
    filters = input_shape[-1]
    cell = ConvIntersectionRNNCell(filters, kernel_initializer="zeros")
    cell.build(input_shape)
    shapes = {n: v.shape for n, v in tf1_weights(cell).items()}
    assert shapes == {"ConvIntersectionRNNCell/weights": kernel,
                      "ConvIntersectionRNNCell/bias": (4 * filters,)}


@pytest.mark.parametrize("forget_bias", [1.0, -0.5])
def test_bypass_zero_kernels_pass_scaled_input(forget_bias):
    cell = ConvIntersectionRNNCell(C, forget_bias=forget_bias,
                                   kernel_initializer="zeros")
    cell.build((B, H, W, C))
    x = np.random.default_rng(1).normal(size=(1, B, H, W, C))
    out, states = unroll_cell(cell, x.astype("float32"))
    np.testing.assert_allclose(out[0], sigmoid(forget_bias) * x[0],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[0], 0.0, atol=1e-7)


def _step(cell, x, h):
    out, states = cell(ops.convert_to_tensor(x), [ops.convert_to_tensor(h)])
    return ops.convert_to_numpy(out), ops.convert_to_numpy(states[0])


def test_gating_state_and_output_gates():
    rng = np.random.default_rng(3)
    cell = ConvIntersectionRNNCell(C)
    cell.build((B, H, W, C))
    randomize(cell, rng)
    x = rng.normal(size=(B, H, W, C)).astype("float32")
    h = rng.normal(size=(B, H, W, C)).astype("float32")
    bias = cell.bias.numpy()
    bias[:C] = 1000.0          # gh = 1: state held
    bias[2 * C:3 * C] = 1000.0  # gy = 1: output = input
    cell.bias.assign(bias)
    out, new_h = _step(cell, x, h)
    np.testing.assert_allclose(new_h, h, atol=1e-6)
    np.testing.assert_allclose(out, x, atol=1e-6)
    bias[2 * C:3 * C] = -1000.0  # gy = 0: output = relu(y~), input dropped
    cell.bias.assign(bias)
    out, _ = _step(cell, x, h)
    v = tf1_weights(cell)
    z = np_conv(np.concatenate([x, h], -1),
                v["ConvIntersectionRNNCell/weights"],
                v["ConvIntersectionRNNCell/bias"])
    np.testing.assert_allclose(out, np.maximum(z[..., 3 * C:], 0), atol=2e-5)


def test_channel_mismatch_is_a_clear_error():
    cell = ConvIntersectionRNNCell(8)
    with pytest.raises(ValueError, match="needs inputs with filters=8"):
        cell.build((B, H, W, C))


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 0}, "filters must be a positive int"),
    ({"filters": 4, "kernel_size": (1, 2, 3)}, "kernel_size must be"),
    ({"filters": 4, "forget_bias": [1.0]}, "forget_bias must be a number"),
    ({"filters": 4, "kernel_initializer": 3j}, "Cannot interpret"),
    ({"filters": 4, "bias_weight_decay": -2}, "bias_weight_decay must be"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvIntersectionRNNCell(**kwargs)
