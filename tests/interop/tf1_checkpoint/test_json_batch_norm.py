"""A JSON graph whose conv / fc ops carry `batch_norm` and `dropout`
options (several Keras layers per original op) converts from a TF1
checkpoint written with `tf.compat.v1`: convrnns `model_tool.conv` / `fc`
keep their variables under the op's scope, the batch norm's under
`post_conv_BN` (`batchnorm_corr`: `tf.layers.batch_normalization(...,
name="post_conv_BN")`), and a conv with batch norm has no bias."""

import numpy as np

from tests.interop.helpers import write_tf1_checkpoint
from tests.numpy_reference import conv2d_same
from tnn.interop.tf1_checkpoint import load_tf1_weights, variable_map
from tnn.interop.tnn_json import from_tnn_json

_MEMORY = {"function": "memory", "memory_decay": 0, "trainable": False}


def _node(name, pre_memory, post_memory=(), **where):
    return {"name": name, "dtype": "float32", **where,
            "harbor": {"function": "harbor"}, "pre_memory": pre_memory,
            "memory": dict(_MEMORY), "post_memory": list(post_memory),
            "input_init": {"function": "zeros"},
            "state_init": {"function": "zeros"}}


GRAPH = {
    "nodes": [
        _node("conv1", [
            {"function": "conv", "out_depth": 4, "ksize": 3,
             "activation": "relu", "batch_norm": True, "dropout": 1.0},
            {"function": "dropout", "keep_prob": 1.0},
            {"function": "conv", "out_depth": 4, "ksize": 1,
             "activation": None}],
            [{"function": "max_pool", "ksize": [1, 2, 2, 1],
              "strides": [1, 2, 2, 1], "padding": "SAME"}],
            shape=[8, 8, 3]),
        _node("fc", [{"function": "fc", "out_depth": 5, "activation": None,
                      "batch_norm": True}], shape_from="conv1"),
    ],
    "edges": [{"from": "conv1", "to": "fc"}],
}
BN = ("gamma", "beta", "moving_mean", "moving_variance")
SHAPES = {
    "conv1/pre_0/weights": (3, 3, 3, 4),
    **{f"conv1/pre_0/post_conv_BN/{n}": (4,) for n in BN},
    "conv1/pre_2/weights": (1, 1, 4, 4), "conv1/pre_2/bias": (4,),
    "fc/pre_0/weights": (64, 5),
    **{f"fc/pre_0/post_conv_BN/{n}": (5,) for n in BN},
}


def _bn(x, v, scope):
    g, b, m, var = (v[f"{scope}/post_conv_BN/{n}"] for n in BN)
    return (x - m) / np.sqrt(var + 1e-5) * g + b


def test_batch_norm_and_dropout_options_convert(tmp_path):
    model = from_tnn_json(GRAPH)
    names = [layer.name for layer in model.graph_nodes["conv1"].pre_memory]
    assert names == ["pre_0_dropout", "pre_1", "pre_0_post_conv_BN",
                     "pre_0_relu", "pre_4", "pre_5"]
    vmap = variable_map(model, component_conv_nodes=[])
    assert vmap.expected_shapes() == SHAPES
    rng = np.random.default_rng(0)
    v = {n: rng.standard_normal(s).astype("float32") * 0.5
         for n, s in SHAPES.items()}
    for scope in ("conv1/pre_0", "fc/pre_0"):
        v[f"{scope}/post_conv_BN/moving_variance"] = np.abs(
            v[f"{scope}/post_conv_BN/moving_variance"]) + 0.5
    arrays = {f"tnn_model/{n}": a for n, a in v.items()}
    arrays["tnn_model/conv1/memory_decay"] = np.zeros(1, "float32")
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", arrays)
    load_tf1_weights(model, prefix, component_conv_nodes=[])
    for target in vmap.targets:
        np.testing.assert_array_equal(target.variable.numpy(),
                                      v[target.names[0]])

    x = rng.standard_normal((2, 8, 8, 3)).astype("float32")
    h = np.maximum(_bn(conv2d_same(x, v["conv1/pre_0/weights"]), v,
                       "conv1/pre_0"), 0)
    h = conv2d_same(h, v["conv1/pre_2/weights"], v["conv1/pre_2/bias"])
    h = h.reshape(2, 4, 2, 4, 2, 4).max(axis=(2, 4))
    expected = _bn(h.reshape(2, 64) @ v["fc/pre_0/weights"], v, "fc/pre_0")
    out = np.asarray(model(x))          # fc sees conv1's t = 0 at t = 1
    np.testing.assert_allclose(out[:, 1], expected, rtol=1e-4, atol=1e-4)
