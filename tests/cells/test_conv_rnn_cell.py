"""ConvRNNCell (zoo ConvNormBasicCell / tnn ConvBasicCell)."""

import numpy as np
import pytest

from tests.test_case import run_cell_test, unroll_cell
from tnn.cells.conv_rnn_cell import ConvRNNCell

B, H, W, C, F = 2, 8, 8, 4, 6


def np_conv(x, kernel, bias):
    """Stride-1 SAME conv with TF padding (extra row/col bottom/right)."""
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left),
                    (0, 0)))
    h, w = x.shape[1:3]
    return bias + sum(xp[:, a:a + h, b:b + w] @ kernel[a, b]
                      for a in range(kh) for b in range(kw))


def elu(z):
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def np_ln(x, gamma, beta):
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(1, 2, 3), keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


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


def np_rnn(v, xs, variant, layer_norm, act, filters):
    """§3.2 written against the TF1 variable names."""
    h = np.zeros(xs.shape[1:4] + (filters,))
    outs = []
    for x in xs.astype(np.float64):
        if variant == "tnn":
            pre = np_conv(np.concatenate([x, h], -1),
                          v["ConvBasicCell/weights"], v["ConvBasicCell/bias"])
        else:
            p = "ConvNormBasicCell/"
            pre = (np_conv(x, v[p + "i/weights"], v[p + "i/bias"])
                   + np_conv(h, v[p + "s/weights"], v[p + "s/bias"]))
            if layer_norm:
                pre = np_ln(pre, v[p + "layer_norm/gamma"],
                            v[p + "layer_norm/beta"])
        h = act(pre)
        outs.append(h)
    return np.stack(outs), h


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
    out_a, _ = unroll_cell(cell, xs)
    out_b, _ = unroll_cell(cell, 9 * xs)
    np.testing.assert_allclose(out_a, out_b, atol=1e-6)
    assert np.abs(out_a).max() > 0.1


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
    with pytest.raises(ValueError, match=match):
        ConvRNNCell(**kwargs)
