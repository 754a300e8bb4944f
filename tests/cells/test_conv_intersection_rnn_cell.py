"""ConvIntersectionRNNCell: harness, TF1 shapes, numpy recursion, bypass."""

import numpy as np
import pytest

from tests.numpy_reference import conv2d_same, np_intersection, sigmoid
from tests.test_case import (
    check_invalid_arguments, randomize, run_cell_test, step, tf1_weights,
    unroll_cell)
from tnn.cells.conv_intersection_rnn_cell import ConvIntersectionRNNCell

B, H, W, C = 2, 8, 8, 4


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
    out, (new_h,) = step(cell, x, h)
    np.testing.assert_allclose(new_h, h, atol=1e-6)
    np.testing.assert_allclose(out, x, atol=1e-6)
    bias[2 * C:3 * C] = -1000.0  # gy = 0: output = relu(y~), input dropped
    cell.bias.assign(bias)
    out, _ = step(cell, x, h)
    v = tf1_weights(cell)
    z = conv2d_same(np.concatenate([x, h], -1),
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
    check_invalid_arguments(ConvIntersectionRNNCell, kwargs, match)
