"""ConvUGRNNCell: harness, TF1 shapes/names, numpy recursion, gating."""

import numpy as np
import pytest

from tests.numpy_reference import conv2d_same, np_ugrnn
from tests.test_case import (
    check_invalid_arguments, check_output_ignores_input, randomize,
    run_cell_test, step, tf1_weights, unroll_cell)
from tnn.cells.conv_ugrnn_cell import ConvUGRNNCell

B, H, W, C, F = 2, 8, 8, 4, 6


def test_harness():
    run_cell_test(ConvUGRNNCell, {"filters": F, "weight_decay": 1e-4},
                  (B, H, W, C), (B, H, W, F), 2)


@pytest.mark.parametrize("kernel_size,forget_bias", [
    (3, 1.0), (2, 0.0), ((3, 1), -1.5)])
def test_numpy_recursion(kernel_size, forget_bias):
    rng = np.random.default_rng(0)
    cell = ConvUGRNNCell(F, kernel_size, forget_bias=forget_bias)
    cell.build((B, 5, 7, C))
    randomize(cell, rng)
    xs = rng.normal(size=(4, B, 5, 7, C)).astype("float32")
    out, states = unroll_cell(cell, xs)
    ref_out, ref_h = np_ugrnn(tf1_weights(cell), xs, forget_bias, F)
    np.testing.assert_allclose(out, ref_out, atol=2e-5)
    np.testing.assert_allclose(states[0], ref_h, atol=2e-5)


# Appendix A: ugrnn_shallow conv3/conv5, ugrnn_intermediate conv4.
@pytest.mark.parametrize("input_shape,filters,kernel", [
    ((1, 28, 28, 256), 256, (3, 3, 512, 512)),
    ((1, 7, 7, 512), 512, (3, 3, 1024, 1024)),
    ((1, 56, 56, 128), 128, (3, 3, 256, 256)),
])
def test_zoo_variable_shapes(input_shape, filters, kernel):
    cell = ConvUGRNNCell(filters, kernel_initializer="zeros")
    cell.build(input_shape)
    shapes = {n: v.shape for n, v in tf1_weights(cell).items()}
    assert shapes == {"ConvUGRNNCell/weights": kernel,
                      "ConvUGRNNCell/bias": (2 * filters,)}


def test_no_bypass_zero_kernel_output_ignores_input():
    cell = ConvUGRNNCell(F, kernel_initializer="zeros", bias_initializer=0.4)
    cell.build((B, H, W, C))
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(3, B, H, W, C)).astype("float32")
    check_output_ignores_input(cell, xs, -4 * xs, 0.05)


def test_gating_update_gate_holds_or_replaces_state():
    rng = np.random.default_rng(3)
    cell = ConvUGRNNCell(F, forget_bias=1.0)
    cell.build((B, H, W, C))
    randomize(cell, rng)
    x = rng.normal(size=(B, H, W, C)).astype("float32")
    h = rng.normal(size=(B, H, W, F)).astype("float32")
    bias = cell.bias.numpy()
    bias[:F] = 1000.0  # g = 1: held
    cell.bias.assign(bias)
    _, (new_h,) = step(cell, x, h)
    np.testing.assert_allclose(new_h, h, atol=1e-6)
    bias[:F] = -1000.0  # g = 0: replaced by tanh(c~)
    cell.bias.assign(bias)
    _, (new_h,) = step(cell, x, h)
    v = tf1_weights(cell)
    z = conv2d_same(np.concatenate([x, h], -1), v["ConvUGRNNCell/weights"],
                v["ConvUGRNNCell/bias"])
    np.testing.assert_allclose(new_h, np.tanh(z[..., F:]), atol=2e-5)


def test_layer_norm_is_rejected():
    with pytest.raises(ValueError, match="has no layer norm"):
        ConvUGRNNCell(F, layer_norm=True)


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 2.5}, "filters must be a positive int"),
    ({"filters": 4, "kernel_size": 0}, "kernel_size must be positive"),
    ({"filters": 4, "forget_bias": "one"}, "forget_bias must be a number"),
    ({"filters": 4, "bias_initializer": "nope"}, "Unknown initializer"),
    ({"filters": 4, "weight_decay": True}, "weight_decay must be"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(ConvUGRNNCell, kwargs, match)
