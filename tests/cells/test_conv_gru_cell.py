"""ConvGRUCell: harness, TF1 shapes/names, numpy recursion, gating."""

import numpy as np
import pytest

from tests.numpy_reference import np_gru
from tests.test_case import (
    check_invalid_arguments, check_output_ignores_input, randomize,
    run_cell_test, step, tf1_weights, unroll_cell)
from tnn.cells.conv_gru_cell import ConvGRUCell

B, H, W, C, F = 2, 8, 8, 4, 6


def test_harness_plain():
    run_cell_test(ConvGRUCell, {"filters": F}, (B, H, W, C), (B, H, W, F), 4)


def test_harness_layer_norm():
    run_cell_test(ConvGRUCell,
                  {"filters": F, "layer_norm": True, "forget_bias": 0.5,
                   "weight_decay": 1e-4, "bias_weight_decay": 1e-4},
                  (B, H, W, C), (B, H, W, F), 4 + 6)


@pytest.mark.parametrize("kernel_size,layer_norm,forget_bias", [
    (3, False, 1.0), (3, True, 1.0), (2, False, 0.0), ((1, 4), True, -0.7)])
def test_numpy_recursion(kernel_size, layer_norm, forget_bias):
    rng = np.random.default_rng(1)
    cell = ConvGRUCell(F, kernel_size, forget_bias=forget_bias,
                       layer_norm=layer_norm)
    cell.build((B, 5, 7, C))
    randomize(cell, rng)
    xs = rng.normal(size=(4, B, 5, 7, C)).astype("float32")
    out, states = unroll_cell(cell, xs)
    ref_out, ref_h = np_gru(tf1_weights(cell), xs, forget_bias, layer_norm, F)
    np.testing.assert_allclose(out, ref_out, atol=2e-5)
    np.testing.assert_allclose(states[0], ref_h, atol=2e-5)


def test_default_bias_initializers():
    cell = ConvGRUCell(F)
    cell.build((B, H, W, C))
    np.testing.assert_array_equal(cell.gates_bias.numpy(), 1.0)
    np.testing.assert_array_equal(cell.candidates_bias.numpy(), 0.0)


# Appendix A: gru_shallow conv3/conv5, gru_intermediate conv4.
ZOO = [
    ((1, 28, 28, 256), 256, (3, 3, 512, 512), (3, 3, 512, 256)),
    ((1, 7, 7, 512), 512, (3, 3, 1024, 1024), (3, 3, 1024, 512)),
    ((1, 56, 56, 128), 128, (3, 3, 256, 256), (3, 3, 256, 128)),
]


@pytest.mark.parametrize("input_shape,filters,gates,candidates", ZOO)
def test_zoo_variable_shapes(input_shape, filters, gates, candidates):
    cell = ConvGRUCell(filters, kernel_initializer="zeros")
    cell.build(input_shape)
    shapes = {n: v.shape for n, v in tf1_weights(cell).items()}
    assert shapes == {
        "ConvGRUCell/gates/weights": gates,
        "ConvGRUCell/gates/bias": (2 * filters,),
        "ConvGRUCell/candidates/weights": candidates,
        "ConvGRUCell/candidates/bias": (filters,)}


def test_layer_norm_names():
    cell = ConvGRUCell(F, layer_norm=True)
    cell.build((B, H, W, C))
    names = set(tf1_weights(cell))
    for scope in ("gates/r_pre", "gates/u_pre", "candidates/c_pre"):
        assert {f"ConvGRUCell/{scope}/gamma",
                f"ConvGRUCell/{scope}/beta"} <= names


def test_no_bypass_zero_kernel_output_ignores_input():
    cell = ConvGRUCell(F, kernel_initializer="zeros", bias_initializer=0.5)
    cell.build((B, H, W, C))
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(3, B, H, W, C)).astype("float32")
    check_output_ignores_input(cell, xs, 7 * xs[::-1], 0.05)


def test_gating_update_gate_holds_or_replaces_state():
    rng = np.random.default_rng(3)
    cell = ConvGRUCell(F, forget_bias=0.0)
    cell.build((B, H, W, C))
    randomize(cell, rng)
    x = rng.normal(size=(B, H, W, C)).astype("float32")
    h = rng.normal(size=(B, H, W, F)).astype("float32")
    bias = cell.gates_bias.numpy()
    bias[F:] = 1000.0  # u = 1: the state is held
    cell.gates_bias.assign(bias)
    out, (new_h,) = step(cell, x, h)
    np.testing.assert_allclose(new_h, h, atol=1e-6)
    np.testing.assert_allclose(out, h, atol=1e-6)
    bias[:F] = -1000.0  # r = 0 and u = 0: h replaced by c(x) alone
    bias[F:] = -1000.0
    cell.gates_bias.assign(bias)
    _, (h1,) = step(cell, x, h)
    _, (h2,) = step(cell, x, -3 * h)
    np.testing.assert_allclose(h1, h2, atol=1e-6)


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": -1}, "filters must be a positive int"),
    ({"filters": 4, "kernel_size": "3"}, "kernel_size must be"),
    ({"filters": 4, "forget_bias": None}, "forget_bias must be a number"),
    ({"filters": 4, "layer_norm": 1}, "layer_norm must be True"),
    ({"filters": 4, "gate_bias_initializer": "nope"}, "Unknown initializer"),
    ({"filters": 4, "weight_decay": -0.1}, "weight_decay must be"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(ConvGRUCell, kwargs, match)
