"""Parity of the conv cells with Keras' own recurrent layers.

Weights are copied explicitly from the Keras layer into the cell (Keras
keeps separate input and recurrent kernels and other gate orders; the cells
keep the original's concatenated kernels), then both run the same sequence.
"""

import keras
import numpy as np
import pytest

from tests.test_case import unroll_cell
from tnn.cells.conv_gru_cell import ConvGRUCell
from tnn.cells.conv_lstm_cell import ConvLSTMCell
from tnn.cells.conv_rnn_cell import ConvRNNCell

B, T, C, F = 2, 5, 3, 4


def lstm_gate_order(w, filters):
    """Keras gate order (i, f, c, o) -> the cell's (i, j, f, o), last axis."""
    i, f, c, o = np.split(w, 4, axis=-1)
    assert i.shape[-1] == filters
    return np.concatenate([i, c, f, o], axis=-1)


def randomize_bias(layer_cell, rng):
    layer_cell.bias.assign(
        rng.normal(0.0, 0.5, layer_cell.bias.shape).astype("float32"))


def keras_run(layer, seq, rng):
    """Builds `layer`, randomizes its bias and runs it on `seq`."""
    layer(seq)  # builds
    randomize_bias(layer.cell, rng)
    return keras.ops.convert_to_numpy(layer(seq))


def to_cell_sequence(seq):
    """Keras (B, T, ...) -> the cell harness' (T, B, ...)."""
    return np.moveaxis(seq, 1, 0)


def test_conv_lstm_matches_keras_conv_lstm2d():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(B, T, 6, 7, C)).astype("float32")
    layer = keras.layers.ConvLSTM2D(F, 3, padding="same",
                                    return_sequences=True)
    expected = keras_run(layer, seq, rng)

    cell = ConvLSTMCell(F, 3, forget_bias=0.0)
    cell.build((B, 6, 7, C))
    kernel = np.concatenate([layer.cell.kernel.numpy(),
                             layer.cell.recurrent_kernel.numpy()], axis=2)
    cell.kernel.assign(lstm_gate_order(kernel, F))
    cell.bias.assign(lstm_gate_order(layer.cell.bias.numpy(), F))
    out, _ = unroll_cell(cell, to_cell_sequence(seq))
    np.testing.assert_allclose(to_cell_sequence(out), expected, atol=1e-5)


def test_conv_lstm_reproduces_keras_conv_lstm2d_test_numbers():
    """Appendix C: Keras' `conv_lstm2d_test.py::test_correctness` oracle.

    Keras' layer uses padding="valid" on the input (4x4 -> 2x2) and "same"
    on the state. The cell (stride-1 SAME on [x, h]) reproduces it when fed
    the 3x3x5 input patches as 45 channels with the Keras input kernel on
    the centre tap only.
    """
    seq = np.arange(480).reshape((2, 3, 4, 4, 5)).astype("float32") / 100
    expected = np.array([
        [[[0.48694518] * 2, [0.50237733] * 2],
         [[0.5461202] * 2, [0.5598283] * 2]],
        [[[0.8661607] * 2, [0.86909103] * 2],
         [[0.8774414] * 2, [0.8800861] * 2]]])
    layer = keras.layers.ConvLSTM2D(
        filters=2, kernel_size=3,
        kernel_initializer=keras.initializers.Constant(0.01),
        recurrent_initializer=keras.initializers.Constant(0.02),
        bias_initializer=keras.initializers.Constant(0.03))
    keras_out = keras.ops.convert_to_numpy(layer(seq))
    np.testing.assert_allclose(keras_out, expected, rtol=1e-5)  # the oracle

    patches = np.stack([
        np.stack([seq[:, :, i:i + 3, j:j + 3, :].reshape(2, 3, 45)
                  for j in range(2)], axis=2) for i in range(2)], axis=2)
    cell = ConvLSTMCell(2, 3, forget_bias=0.0)
    cell.build((2, 2, 2, 45))
    kernel = np.zeros((3, 3, 45 + 2, 8), "float32")
    kernel[1, 1, :45] = layer.cell.kernel.numpy().reshape(45, 8)
    kernel[:, :, 45:] = layer.cell.recurrent_kernel.numpy()
    cell.kernel.assign(lstm_gate_order(kernel, 2))
    # unit_forget_bias=True: Keras' forget bias is 1, the others 0.03.
    np.testing.assert_allclose(layer.cell.bias.numpy(),
                               [0.03] * 2 + [1.0] * 2 + [0.03] * 4)
    cell.bias.assign(lstm_gate_order(layer.cell.bias.numpy(), 2))
    out, _ = unroll_cell(cell, to_cell_sequence(patches))
    np.testing.assert_allclose(out[-1], expected, rtol=1e-5, atol=1e-6)


def test_conv_lstm_1x1_matches_keras_lstm():
    rng = np.random.default_rng(1)
    seq = rng.normal(size=(B, T, C)).astype("float32")
    layer = keras.layers.LSTM(F, return_sequences=True)
    expected = keras_run(layer, seq, rng)

    cell = ConvLSTMCell(F, 1, forget_bias=0.0)
    cell.build((B, 1, 1, C))
    kernel = np.concatenate([layer.cell.kernel.numpy(),
                             layer.cell.recurrent_kernel.numpy()], axis=0)
    cell.kernel.assign(lstm_gate_order(kernel, F)[None, None])
    cell.bias.assign(lstm_gate_order(layer.cell.bias.numpy(), F))
    out, _ = unroll_cell(cell, to_cell_sequence(seq)[:, :, None, None, :])
    np.testing.assert_allclose(out[:, :, 0, 0].transpose(1, 0, 2), expected,
                               atol=1e-5)


def test_conv_gru_1x1_matches_keras_gru_reset_before():
    rng = np.random.default_rng(2)
    seq = rng.normal(size=(B, T, C)).astype("float32")
    layer = keras.layers.GRU(F, reset_after=False, return_sequences=True)
    expected = keras_run(layer, seq, rng)

    # Keras splits its 3F columns as (z, r, h); the cell's gates are (r, u)
    # with u = z, and its candidate conv reads [x, r * h].
    k = np.concatenate([layer.cell.kernel.numpy(),
                        layer.cell.recurrent_kernel.numpy()], axis=0)
    b = layer.cell.bias.numpy()
    z, r, h = (slice(0, F), slice(F, 2 * F), slice(2 * F, 3 * F))
    cell = ConvGRUCell(F, 1, forget_bias=0.0)
    cell.build((B, 1, 1, C))
    cell.gates_kernel.assign(np.concatenate([k[:, r], k[:, z]], -1)[None, None])
    cell.gates_bias.assign(np.concatenate([b[r], b[z]]))
    cell.candidates_kernel.assign(k[:, h][None, None])
    cell.candidates_bias.assign(b[h])
    out, _ = unroll_cell(cell, to_cell_sequence(seq)[:, :, None, None, :])
    np.testing.assert_allclose(out[:, :, 0, 0].transpose(1, 0, 2), expected,
                               atol=1e-5)


@pytest.mark.parametrize("variant", ["tnn", "zoo"])
def test_conv_rnn_1x1_matches_keras_simple_rnn(variant):
    rng = np.random.default_rng(3)
    seq = rng.normal(size=(B, T, C)).astype("float32")
    layer = keras.layers.SimpleRNN(F, return_sequences=True)
    expected = keras_run(layer, seq, rng)

    cell = ConvRNNCell(F, 1, variant=variant, activation="tanh")
    cell.build((B, 1, 1, C))
    kernel = layer.cell.kernel.numpy()
    recurrent = layer.cell.recurrent_kernel.numpy()
    if variant == "tnn":
        cell.kernel.assign(
            np.concatenate([kernel, recurrent], axis=0)[None, None])
        cell.bias.assign(layer.cell.bias.numpy())
    else:
        cell.input_kernel.assign(kernel[None, None])
        cell.input_bias.assign(layer.cell.bias.numpy())
        cell.state_kernel.assign(recurrent[None, None])
        cell.state_bias.assign(np.zeros(F, "float32"))
    out, _ = unroll_cell(cell, to_cell_sequence(seq)[:, :, None, None, :])
    np.testing.assert_allclose(out[:, :, 0, 0].transpose(1, 0, 2), expected,
                               atol=1e-5)
