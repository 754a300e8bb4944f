"""ConvRNNCell (zoo ConvNormBasicCell / tnn ConvBasicCell)."""

import numpy as np
import pytest

from tests.numpy_reference import elu, np_rnn
from tests.test_case import (
    check_invalid_arguments, check_output_ignores_input, randomize,
    run_cell_test, tf1_weights, unroll_cell)
from tnn.cells.conv_rnn_cell import ConvRNNCell

B, H, W, C, F = 2, 8, 8, 4, 6


def test_harness_zoo():
    run_cell_test(ConvRNNCell,
                  {"filters": F, "layer_norm": True, "weight_decay": 1e-4,
                   "bias_weight_decay": 1e-4},
                  (B, H, W, C), (B, H, W, F), 6)


def test_harness_tnn():
    run_cell_test(ConvRNNCell, {"filters": F, "variant": "tnn"},
                  (B, H, W, C), (B, H, W, F), 2)


@pytest.mark.parametrize("variant,layer_norm,activation,act,kernel_size", [
    ("zoo", True, None, elu, 3),
    ("zoo", False, None, elu, 2),
    ("zoo", True, "tanh", np.tanh, (3, 1)),
    ("tnn", False, None, np.tanh, 3),
    ("tnn", False, "elu", elu, 4),
])
def test_numpy_recursion(variant, layer_norm, activation, act, kernel_size):
    rng = np.random.default_rng(0)
    cell = ConvRNNCell(F, kernel_size, variant=variant, activation=activation,
                       layer_norm=layer_norm)
    cell.build((B, 5, 7, C))
    randomize(cell, rng)
    xs = rng.normal(size=(4, B, 5, 7, C)).astype("float32")
    out, states = unroll_cell(cell, xs)
    ref_out, ref_h = np_rnn(tf1_weights(cell), xs, variant, layer_norm, act,
                            F)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=2e-5)
    np.testing.assert_allclose(states[0], ref_h, rtol=1e-5, atol=2e-5)


# Appendix A: simplernn_shallow conv3/conv4/conv5 (LN), _intermediate conv4.
@pytest.mark.parametrize("input_shape,filters,layer_norm,i_kernel", [
    ((1, 28, 28, 256), 128, True, (3, 3, 256, 128)),
    ((1, 14, 14, 256), 256, True, (3, 3, 256, 256)),
    ((1, 7, 7, 512), 256, True, (3, 3, 512, 256)),
    ((1, 56, 56, 128), 128, False, (3, 3, 128, 128)),
])
def test_zoo_variable_shapes(input_shape, filters, layer_norm, i_kernel):
    cell = ConvRNNCell(filters, layer_norm=layer_norm,
                       kernel_initializer="zeros")
    cell.build(input_shape)
    shapes = {n: v.shape for n, v in tf1_weights(cell).items()}
    p = "ConvNormBasicCell/"
    expected = {p + "s/weights": (3, 3, filters, filters),
                p + "s/bias": (filters,), p + "i/weights": i_kernel,
                p + "i/bias": (filters,)}
    if layer_norm:
        expected.update({p + "layer_norm/beta": (filters,),
                         p + "layer_norm/gamma": (filters,)})
    assert shapes == expected


def test_tnn_variant_names_and_shapes():
    cell = ConvRNNCell(F, variant="tnn")
    cell.build((B, H, W, C))
    shapes = {n: v.shape for n, v in tf1_weights(cell).items()}
    assert shapes == {"ConvBasicCell/weights": (3, 3, C + F, F),
                      "ConvBasicCell/bias": (F,)}


def test_zoo_weight_decay_on_kernels_and_biases():
    rng = np.random.default_rng(1)
    cell = ConvRNNCell(F, layer_norm=True, weight_decay=1e-4,
                       bias_weight_decay=1e-4)
    cell.build((B, H, W, C))
    randomize(cell, rng)
    v = tf1_weights(cell)
    expected = 1e-4 / 2 * sum(np.sum(v[f"ConvNormBasicCell/{s}/{p}"] ** 2)
                              for s in "is" for p in ("weights", "bias"))
    np.testing.assert_allclose(float(sum(cell.losses)), expected, rtol=1e-5)


@pytest.mark.parametrize("variant", ["zoo", "tnn"])
def test_no_bypass_zero_kernel_output_ignores_input(variant):
    cell = ConvRNNCell(F, variant=variant, kernel_initializer="zeros",
                       bias_initializer=0.3)
    cell.build((B, H, W, C))
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(3, B, H, W, C)).astype("float32")
    check_output_ignores_input(cell, xs, 9 * xs, 0.1)


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": "8"}, "filters must be a positive int"),
    ({"filters": 4, "kernel_size": -3}, "kernel_size must be positive"),
    ({"filters": 4, "variant": "keras"}, "variant must be one of"),
    ({"filters": 4, "activation": "nope"}, "Unknown activation"),
    ({"filters": 4, "activation": np.tanh}, "activation must be"),
    ({"filters": 4, "layer_norm": None}, "layer_norm must be True"),
    ({"filters": 4, "variant": "tnn", "layer_norm": True},
     "layer_norm=True needs variant='zoo'"),
    ({"filters": 4, "bias_weight_decay": -1e-4}, "bias_weight_decay must"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(ConvRNNCell, kwargs, match)
