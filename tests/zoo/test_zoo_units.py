"""The ResNet-like unit (§3.10) computed by hand, and zoo wiring details."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tnn
from tnn.graphs import GraphBuildError, TNNGraph
from tnn.zoo.layers import resnet_unit


def _conv(x, kernel, bias=None):
    y = tf.nn.conv2d(x, kernel, 1, "SAME").numpy()
    return y if bias is None else y + bias


@pytest.mark.parametrize("in_ch, width", [(4, 4), (3, 6)])
def test_resnet_unit_matches_hand_computation(in_ch, width):
    keras.utils.set_random_seed(0)
    spec = {"nodes": [
        {"name": "inp", "input_shape": [8, 8, in_ch], "pre_memory": []},
        resnet_unit("unit", width,
                    {"cell": "TimeDecayCell", "decay_init": 0.5})],
        "edges": [("inp", "unit")]}
    model = TNNGraph(spec, times=3, image_off=None)
    node = model.graph_nodes["unit"]
    wa, ba = node.pre_memory[0].get_weights()
    wb, bb = node.post_memory[0].get_weights()
    proj = node.post_memory[1].get_weights()
    u = np.random.default_rng(0).standard_normal(
        (2, 8, 8, in_ch)).astype("float32")
    out = model.unroll(u, nodes=["unit"])["unit"].numpy()
    # inp is a pass-through node; the unit sees u from step 1 on.
    res = u if not proj else _conv(u, proj[0])
    state = 0.0
    for t in range(1, 3):
        x = tf.nn.elu(_conv(u, wa, ba)).numpy()
        state = 0.5 * state + x
        z = _conv(state.astype("float32"), wb, bb)
        want = tf.nn.elu(z + res).numpy()
        np.testing.assert_allclose(out[:, t], want, rtol=1e-4, atol=1e-5)
    assert len(proj) == (0 if in_ch == width else 1)


def test_intermediate_models_use_the_unit():
    spec = tnn.model_spec("gru_intermediate")
    conv4 = [n for n in spec["nodes"] if n["name"] == "conv4"][0]
    assert conv4 == resnet_unit("conv4", 128, conv4["cell"], pool=True)


def test_conv_node_fed_by_vector_node_is_a_clear_error():
    spec = {"nodes": [
        {"name": "a", "input_shape": [8, 8, 3],
         "pre_memory": [{"layer": "fc", "units": 5}]},
        {"name": "b", "pre_memory": [{"layer": "conv", "filters": 4,
                                      "kernel_size": 3}]}],
        "edges": [("a", "b")]}
    with pytest.raises(GraphBuildError, match=r"Node 'b' .*\(None, 5\)"):
        TNNGraph(spec, times=3)
