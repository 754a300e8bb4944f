"""ConvLSTMCell: harness, TF1 shapes/names, numpy recursion, gating."""

import json

import keras
import numpy as np
import pytest

from tests.numpy_reference import np_lstm
from tests.test_case import (
    check_invalid_arguments, check_output_ignores_input, randomize,
    run_cell_test, step, tf1_weights, unroll_cell)
from tnn.cells.conv_lstm_cell import ConvLSTMCell

B, H, W, C, F = 2, 8, 8, 4, 6


def test_harness_plain():
    run_cell_test(ConvLSTMCell, {"filters": F}, (B, H, W, C), (B, H, W, F),
                  2)


def test_harness_all_options():
    run_cell_test(
        ConvLSTMCell,
        {"filters": F, "kernel_size": (2, 3), "use_peepholes": True,
         "layer_norm": True, "forget_bias": 1.3561755,
         "bias_initializer": 1.6428, "weight_decay": 5.43e-6,
         "kernel_initializer": keras.initializers.VarianceScaling(
             scale=0.7009, mode="fan_in", distribution="truncated_normal")},
        (B, H, W, C), (B, H, W, F), 2 + 3 + 10)


@pytest.mark.parametrize("kernel_size", [2, 3, 4])
@pytest.mark.parametrize("peepholes,layer_norm,forget_bias", [
    (False, False, 1.0), (True, False, 0.0), (False, True, 1.3561755),
    (True, True, 0.9249280)])
def test_numpy_recursion(kernel_size, peepholes, layer_norm, forget_bias):
    rng = np.random.default_rng(kernel_size)
    cell = ConvLSTMCell(F, kernel_size, forget_bias=forget_bias,
                        use_peepholes=peepholes, layer_norm=layer_norm)
    cell.build((B, 5, 7, C))
    randomize(cell, rng)
    xs = rng.normal(size=(4, B, 5, 7, C)).astype("float32")
    out, states = unroll_cell(cell, xs)
    ref_out, ref_state = np_lstm(tf1_weights(cell), xs, forget_bias,
                                 peepholes, layer_norm, F)
    np.testing.assert_allclose(out, ref_out, atol=2e-5)
    np.testing.assert_allclose(states[0], ref_state, atol=2e-5)


# Appendix A, lstm_shallow conv3/conv4/conv5 and lstm_intermediate conv8.
ZOO = [
    ((1, 28, 28, 256), dict(filters=128, kernel_size=2, layer_norm=True),
     {"ConvLSTMCell/weights": (2, 2, 384, 512),
      "ConvLSTMCell/bias": (512,),
      **{f"ConvLSTMCell/{s}/{p}": (128,) for s in (
          "input", "transform", "forget", "output", "state")
         for p in ("gamma", "beta")}}),
    ((1, 14, 14, 256), dict(filters=256, kernel_size=3, layer_norm=True,
                            use_peepholes=True),
     {"ConvLSTMCell/weights": (3, 3, 512, 1024),
      "ConvLSTMCell/bias": (1024,),
      **{f"ConvLSTMCell/{s}/{p}": (256,) for s in (
          "input", "transform", "forget", "output", "state")
         for p in ("gamma", "beta")},
      "ConvLSTMCell/peepholes/w_f_diag": (14, 14, 256),
      "ConvLSTMCell/peepholes/w_i_diag": (14, 14, 256),
      "ConvLSTMCell/peepholes/w_o_diag": (14, 14, 256)}),
    ((1, 7, 7, 512), dict(filters=256, kernel_size=4, layer_norm=True),
     {"ConvLSTMCell/weights": (4, 4, 768, 1024),
      "ConvLSTMCell/bias": (1024,),
      **{f"ConvLSTMCell/{s}/{p}": (256,) for s in (
          "input", "transform", "forget", "output", "state")
         for p in ("gamma", "beta")}}),
    ((1, 7, 7, 512), dict(filters=512),
     {"ConvLSTMCell/weights": (3, 3, 1024, 2048),
      "ConvLSTMCell/bias": (2048,)}),
]


@pytest.mark.parametrize("input_shape,kwargs,expected", ZOO)
def test_zoo_variable_shapes(input_shape, kwargs, expected):
    cell = ConvLSTMCell(kernel_initializer="zeros", **kwargs)
    cell.build(input_shape)
    shapes = {name: value.shape for name, value in tf1_weights(cell).items()}
    assert shapes == expected
    assert cell.state_size == [input_shape[1:3] + (2 * kwargs["filters"],)]


def test_lstm_shallow_conv3_settings():
    """lstm_shallow.npz conv3 values are expressible and serializable."""
    init = keras.initializers.VarianceScaling(
        scale=0.7009, mode="fan_in", distribution="truncated_normal", seed=1)
    cell = ConvLSTMCell(128, 2, forget_bias=1.3561755, layer_norm=True,
                        bias_initializer=1.6428, kernel_initializer=init,
                        weight_decay=5.43e-6)
    cell.build((1, 28, 28, 256))
    np.testing.assert_allclose(cell.bias.numpy(), 1.6428, rtol=1e-6)
    kernel = cell.kernel.numpy()
    np.testing.assert_allclose(kernel.std(), np.sqrt(0.7009 / (2 * 2 * 384)),
                               rtol=0.02)
    # TF1 l2_regularizer(s) adds s * sum(w^2) / 2.
    np.testing.assert_allclose(float(sum(cell.losses)),
                               5.43e-6 * np.sum(kernel ** 2) / 2, rtol=1e-4)
    config = json.loads(json.dumps(cell.get_config()))
    clone = ConvLSTMCell.from_config(config)
    assert clone.forget_bias == 1.3561755 and clone.kernel_size == (2, 2)
    clone.build((1, 28, 28, 256))
    np.testing.assert_allclose(clone.bias.numpy(), 1.6428, rtol=1e-6)


def test_state_is_c_then_h():
    rng = np.random.default_rng(3)
    cell = ConvLSTMCell(F)
    cell.build((B, H, W, C))
    randomize(cell, rng)
    x = rng.normal(size=(1, B, H, W, C)).astype("float32")
    out, states = unroll_cell(cell, x)
    assert states[0].shape == (B, H, W, 2 * F)
    np.testing.assert_allclose(states[0][..., F:], out[0], atol=1e-6)


def test_no_bypass_zero_kernel_output_ignores_input():
    cell = ConvLSTMCell(F, kernel_initializer="zeros", bias_initializer=0.3)
    cell.build((B, H, W, C))
    rng = np.random.default_rng(4)
    xs = rng.normal(size=(3, B, H, W, C)).astype("float32")
    check_output_ignores_input(cell, xs, -5 * xs[::-1], 0.1)


def test_gating_forget_gate_holds_or_replaces_cell():
    rng = np.random.default_rng(5)
    cell = ConvLSTMCell(F, forget_bias=0.0)
    cell.build((B, H, W, C))
    bias = np.zeros(4 * F, "float32")
    bias[:F] = -1000.0          # input gate closed
    bias[2 * F:3 * F] = 1000.0  # forget gate open: keep c
    cell.bias.assign(bias)
    state = rng.normal(size=(B, H, W, 2 * F)).astype("float32")
    x = rng.normal(size=(B, H, W, C)).astype("float32")
    _, (new_state,) = step(cell, x, state)
    np.testing.assert_allclose(new_state[..., :F], state[..., :F], atol=1e-6)
    bias[:F] = 1000.0           # input gate open
    bias[2 * F:3 * F] = -1000.0  # forget gate closed: c replaced
    cell.bias.assign(bias)
    other = state.copy()
    other[..., :F] = rng.normal(size=(B, H, W, F))
    _, (s1,) = step(cell, x, state)
    _, (s2,) = step(cell, x, other)  # same h, different c
    np.testing.assert_allclose(s1[..., :F], s2[..., :F], atol=1e-6)


def test_peepholes_reject_other_spatial_size():
    cell = ConvLSTMCell(F, use_peepholes=True)
    cell.build((B, H, W, C))
    x = np.zeros((B, H + 2, W, C), "float32")
    state = np.zeros((B, H + 2, W, 2 * F), "float32")
    with pytest.raises(ValueError, match="was built for"):
        step(cell, x, state)


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": 0}, "filters must be a positive int"),
    ({"filters": 4, "kernel_size": (3, 0)}, "kernel_size must be positive"),
    ({"filters": 4, "forget_bias": "1"}, "forget_bias must be a number"),
    ({"filters": 4, "forget_bias": True}, "forget_bias must be a number"),
    ({"filters": 4, "use_peepholes": 1}, "use_peepholes must be True"),
    ({"filters": 4, "layer_norm": "yes"}, "layer_norm must be True"),
    ({"filters": 4, "activation": "nope"}, "Unknown activation"),
    ({"filters": 4, "kernel_initializer": "nope"}, "Unknown initializer"),
    ({"filters": 4, "weight_decay": -1.0}, "weight_decay must be"),
    ({"filters": 4, "bias_weight_decay": "x"}, "bias_weight_decay must be"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(ConvLSTMCell, kwargs, match)


def test_rejects_non_nhwc_input():
    with pytest.raises(ValueError, match="expects NHWC"):
        ConvLSTMCell(4).build((2, 8, 4))
