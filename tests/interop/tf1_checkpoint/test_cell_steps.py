"""One full cell step computed in numpy straight from the checkpoint arrays
(read back with `tf.train.load_checkpoint`) against the converted model.
Weights that share a shape (LN gamma/beta, tau/gate kernels, ...) could be
swapped without any shape check noticing; these steps would not."""

import numpy as np
import pytest
import tensorflow as tf

import tnn
from tests.interop.helpers import write_tf1_checkpoint, zoo_arrays
from tests.numpy_reference import (
    MEDIAN_GATE as GATE, MEDIAN_TAU as TAU, conv2d_same, elu, layer_norm,
    separable_same, sigmoid)
from tnn.interop.tf1_checkpoint import from_tf1_checkpoint, variable_map


def _convert(tmp_path, name, **kwargs):
    """Writes a random checkpoint for `name`, converts it; returns the model
    and a reader of the file."""
    model = tnn.create_model(name, **kwargs)
    arrays = zoo_arrays(variable_map(model), np.random.default_rng(3),
                        momentum=False)
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", arrays)
    del model
    converted = from_tf1_checkpoint(prefix, name, **kwargs)
    reader = tf.train.load_checkpoint(prefix)
    return converted, lambda n: reader.get_tensor(f"tnn_model/{n}").astype(
        "float64")


def _random(rng, *shape):
    return rng.standard_normal(shape).astype("float32")


def _step(cell, x, states, **extra):
    out, new = cell(x, [tf.constant(s) for s in states], **extra)
    return np.asarray(out), [np.asarray(s) for s in new]


@pytest.mark.large
def test_lstm_shallow_steps(tmp_path, original_graphs):
    """conv3 (2×2 kernel: even SAME padding; LN) and conv4 (LN and 14×14
    spatial peepholes on c_{t-1}) of lstm_shallow at 224 px."""
    model, ckpt = _convert(tmp_path, "lstm_shallow")
    npz = np.load(original_graphs / "convrnns_lstm_shallow.npz", allow_pickle=True)
    layers = npz["arr_0"][()]["model_params"]["layer_params"]
    rng = np.random.default_rng(4)
    for node, size, c_in, depth in (("conv3", 28, 256, 128),
                                    ("conv4", 14, 256, 256)):
        cell = model.graph_nodes[node].cell
        x = _random(rng, 2, size, size, c_in)
        state = _random(rng, 2, size, size, 2 * depth)
        out, (new_state,) = _step(cell, x, [state])

        scope = f"{node}/ConvLSTMCell"
        c, h = state[..., :depth].astype("float64"), state[..., depth:]
        z = conv2d_same(np.concatenate([x, h], -1), ckpt(f"{scope}/weights"),
                        ckpt(f"{scope}/bias"))
        gates = np.split(z, 4, axis=-1)
        i, j, f, o = (layer_norm(g, ckpt(f"{scope}/{s}/gamma"),
                                 ckpt(f"{scope}/{s}/beta"))
                      for g, s in zip(gates, ("input", "transform", "forget",
                                              "output")))
        f = f + layers[node]["cell_params"]["forget_bias"]
        if node == "conv4":
            f = f + ckpt(f"{scope}/peepholes/w_f_diag") * c
            i = i + ckpt(f"{scope}/peepholes/w_i_diag") * c
            o = o + ckpt(f"{scope}/peepholes/w_o_diag") * c
        c_new = c * sigmoid(f) + sigmoid(i) * np.tanh(j)
        c_new = layer_norm(c_new, ckpt(f"{scope}/state/gamma"),
                           ckpt(f"{scope}/state/beta"))
        h_new = np.tanh(c_new) * sigmoid(o)
        np.testing.assert_allclose(out, h_new, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(new_state,
                                   np.concatenate([c_new, h_new], -1),
                                   rtol=1e-4, atol=1e-4)


@pytest.mark.large
def test_rgc_intermediate_conv6_step(tmp_path):
    """The median RGC of conv6: 768 feedback channels (conv7 then conv9),
    a 128→256 residual projection, 7×7 separable tau/gate convs."""
    model, ckpt = _convert(tmp_path, "rgc_intermediate")
    cell = model.graph_nodes["conv6"].cell
    assert model.input_names["conv6"] == ["conv5", "conv7", "conv9"]
    rng = np.random.default_rng(5)
    x = _random(rng, 2, 28, 28, 256)
    u = _random(rng, 2, 28, 28, 128)
    fb = _random(rng, 2, 28, 28, 768)
    c, h = _random(rng, 2, 28, 28, 64), _random(rng, 2, 28, 28, 256)
    out, (c_out, h_out) = _step(cell, x, [c, h], residual=tf.constant(u),
                                feedback=tf.constant(fb))

    def w(name):
        return ckpt(f"conv6/ReciprocalGateCell/{name}")

    def ds(value, scope):
        return separable_same(value, w(f"{scope}/depthwise_weights"),
                              w(f"{scope}/pointwise_weights"),
                              w(f"{scope}/bias"))

    xe = elu(x.astype("float64"))
    drive = conv2d_same(xe, w("cell/input_to_cell_weights"),
                        w("cell/input_to_cell_bias"))
    c_new = elu((TAU - TAU * sigmoid(ds(c, "cell/tau"))) * c
                + (GATE - GATE * np.tanh(ds(h, "cell/out_to_cell"))) * drive)
    m = (conv2d_same(xe, w("out/input_to_out_weights"),
                     w("out/input_to_out_bias"))
         + conv2d_same(u, w("out/residual_add_weights"))
         + conv2d_same(fb, w("out/feedback_to_out_weights"),
                       w("out/feedback_to_out_bias")))
    h_new = elu((TAU - TAU * sigmoid(ds(h, "out/tau"))) * h
                + (GATE - GATE * np.tanh(ds(c, "out/gate"))) * m)
    np.testing.assert_allclose(c_out, c_new, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(h_out, h_new, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out, h_out)


@pytest.mark.large
def test_rgc_shallow_conv5_step(tmp_path):
    """The general RGC as configured in rgc_shallow (§3.7): six bias-free
    3×3 kernels of equal shapes but distinct roles."""
    model, ckpt = _convert(tmp_path, "rgc_shallow")
    cell = model.graph_nodes["conv5"].cell
    rng = np.random.default_rng(6)
    x, u = _random(rng, 2, 7, 7, 512), _random(rng, 2, 7, 7, 256)
    c, h = _random(rng, 2, 7, 7, 512), _random(rng, 2, 7, 7, 512)
    out, (c_out, h_out) = _step(cell, x, [c, h], residual=tf.constant(u),
                                feedback=None)

    def conv(value, name):
        return conv2d_same(value, ckpt(f"conv5/ReciprocalGateCell/{name}"))

    c_new = elu((1 - sigmoid(conv(c, "cell/tau/weights"))) * c
                + (1 - sigmoid(conv(h, "cell/gate/weights")))
                * conv(x, "cell/input_to_cell/weights"))
    h_new = elu((1 - sigmoid(conv(h, "out/tau/weights"))) * h
                + (1 - sigmoid(conv(c, "out/gate/weights")
                               + conv(u, "out/residual_to_out_gate/weights")))
                * x)
    np.testing.assert_allclose(c_out, c_new, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(h_out, h_new, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(out, h_out)


def test_simplernn_shallow_conv3_step(tmp_path):
    """ConvNormBasicCell: separate input / state convs, LN gamma and beta."""
    model, ckpt = _convert(tmp_path, "simplernn_shallow",
                           input_shape=(72, 72, 3))
    cell = model.graph_nodes["conv3"].cell
    rng = np.random.default_rng(7)
    x, h = _random(rng, 2, 9, 9, 256), _random(rng, 2, 9, 9, 128)
    out, (state,) = _step(cell, x, [h])
    scope = "conv3/ConvNormBasicCell"
    pre = (conv2d_same(x, ckpt(f"{scope}/i/weights"), ckpt(f"{scope}/i/bias"))
           + conv2d_same(h, ckpt(f"{scope}/s/weights"),
                         ckpt(f"{scope}/s/bias")))
    expected = elu(layer_norm(pre, ckpt(f"{scope}/layer_norm/gamma"),
                              ckpt(f"{scope}/layer_norm/beta")))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(state, out)
