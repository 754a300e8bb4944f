"""The tnn example JSON graphs (§4.5), Appendix C oracles, and clear errors
on malformed files."""

import copy
import json

import numpy as np
import pytest

from tests.numpy_reference import conv2d_same
from tnn.interop.tf1_checkpoint.names import op_layers
from tnn.interop.tnn_json import (
    TNNJSONError, from_tnn_json, spec_from_tnn_json)


def _load(graphs, name):
    return json.loads((graphs / f"tnn_{name}.json").read_text())


def _resize_align_corners(x, size):
    """Reference §1.3's 1-D rule, applied along H then W."""
    def axis(n_in, n_out):
        matrix = np.zeros((n_out, n_in))
        for i in range(n_out):
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            i0 = int(np.floor(src))
            i1 = min(i0 + 1, n_in - 1)
            matrix[i, i0] += 1 - (src - i0)
            matrix[i, i1] += src - i0
        return matrix
    rows, cols = axis(x.shape[1], size), axis(x.shape[2], size)
    return np.einsum("ih,bhwc,jw->bijc", rows, x, cols)


@pytest.mark.large
def test_alexnet_oracles_and_bypass_concat(original_graphs):
    """Appendix C: conv1 state 54×54×96, output 27×27×96, conv5 output
    7×7×256; a conv1 → conv3 bypass concatenates 14×14×(96 + 256)."""
    model = from_tnn_json(original_graphs / "tnn_alexnet.json",
                          extra_edges=[("conv1", "conv3")])
    conv1 = model.graph_nodes["conv1"]
    assert conv1.cell is None   # decay-0 memory: its state is its input
    assert conv1.cell_input_shape == (None, 54, 54, 96)
    assert model.output_shapes["conv1"] == (27, 27, 96)
    assert model.output_shapes["conv5"] == (7, 7, 256)
    assert model.output_shapes["fc8"] == (1000,)
    assert model.input_names["conv3"] == ["conv1", "conv2"]
    conv3 = model.graph_nodes["conv3"]
    assert tuple(conv3.pre_memory[0].kernel.shape) == (3, 3, 352, 384)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 27, 27, 96)).astype("float32")
    b = rng.standard_normal((2, 14, 14, 256)).astype("float32")
    harbored = np.asarray(conv3.harbor([a, b]))
    assert harbored.shape == (2, 14, 14, 352)
    np.testing.assert_allclose(harbored[..., :96],
                               _resize_align_corners(a, 14), atol=1e-5)
    np.testing.assert_array_equal(harbored[..., 96:], b)
    # LRN, VALID 11×11/4 conv, fc with its own dropout (keep 0.5 → rate 0.5).
    spec = model.spec
    assert spec.node("conv1").post_memory[1] == {
        "layer": "lrn", "depth_radius": 5, "bias": 1.0, "alpha": 0.0001,
        "beta": 0.75}
    assert spec.node("conv1").pre_memory[0]["padding"] == "valid"
    # Named after its op (fc6/pre_0), so TF1 names stay per original op.
    assert spec.node("fc6").pre_memory[0] == {
        "class_name": "Dropout", "module": "keras.layers",
        "config": {"name": "pre_0_dropout", "rate": 0.5}}
    assert [n for n, _ in op_layers(
        model.graph_nodes["fc6"].pre_memory, "pre")] == [0, 0]


def test_tnn_example_graphs_load(original_graphs):
    lstm = spec_from_tnn_json(original_graphs / "tnn_5L_imnet128_lstm345.json",
                              cell_wrappers="tnn_ConvLSTMCell")
    nodes = {n["name"]: n for n in lstm["nodes"]}
    assert [nodes[f"conv{i}"]["cell"]["filters"] for i in (3, 4, 5)] == [
        256, 256, 512]
    assert nodes["conv1"]["cell"] is None
    # component_conv with batch_norm: conv, then BN (gamma 0: no activation).
    conv, bn, drop = nodes["conv1"]["pre_memory"]
    assert conv["activation"] is None and conv["weight_decay"] == 0.0005
    assert bn["config"]["gamma_initializer"]["class_name"] == "Zeros"
    assert drop == {"layer": "dropout", "rate": 0.0}
    assert nodes["imnetds"]["pre_memory"][-1]["units"] == 1001

    recip = spec_from_tnn_json(
        original_graphs / "tnn_5L_imnet128_recip345sig.json")
    cell = {n["name"]: n["cell"] for n in recip["nodes"]}["conv5"]
    assert cell["cell"] == "ReciprocalGatedCell"
    assert (cell["filters"], cell["cell_depth"]) == (512, 512)
    assert cell["tau_nonlinearity"] == cell["gate_nonlinearity"] == "sigmoid"
    assert cell["input_to_cell"] and not cell["residual_to_out_gate"]

    model = from_tnn_json(original_graphs / "tnn_5L_imnet128_recip345sig.json",
                          input_shape=(32, 32, 3))
    assert model.output_shapes["imnetds"] == (1001,)
    vanilla = from_tnn_json(original_graphs / "tnn_VanillaRNN.json",
                            cell_wrappers="tnn_ConvBasicCell")
    assert vanilla.spec.node("L1").harbor == {"channel_op": "add"}
    assert vanilla.graph_nodes["L2"].cell.variant == "tnn"
    assert vanilla.times == 4   # the original default: 3 nodes + 1
    images = np.random.default_rng(1).standard_normal(
        (2, 28, 28, 1)).astype("float32")
    assert np.asarray(vanilla(images)).shape == (2, 4, 10)
    conv = from_tnn_json(original_graphs / "tnn_mnist_conv.json")
    assert conv.output_shapes == {"conv1": (14, 14, 32),
                                  "conv2": (7, 7, 64), "fc1": (512,),
                                  "fc2": (10,)}


def test_mnist_fc_matches_numpy(original_graphs):
    """A 1-D input [784] becomes [1, 1, 784]; fc1 → relu → fc2."""
    model = from_tnn_json(original_graphs / "tnn_mnist_fc.json")
    assert model.graph_input_shape == (1, 1, 784)
    x = np.random.default_rng(2).standard_normal((3, 1, 1, 784)).astype(
        "float32")
    out = np.asarray(model(x))
    (w1, b1), (w2, b2) = ([layer.kernel.numpy(), layer.bias.numpy()]
                          for layer in (model.graph_nodes["fc1"].pre_memory[0],
                                        model.graph_nodes["fc2"].pre_memory[0]))
    np.testing.assert_array_equal(b1, np.full(2048, 0.1, "float32"))
    expected = np.maximum(x.reshape(3, 784) @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(out[:, 1], expected, rtol=1e-4, atol=1e-4)


def test_memory_decay_recursion(original_graphs):
    """Appendix C: a memory with decay 0.5 follows s_t = 0.5 s_{t-1} + x_t
    exactly over 6 steps (mnist_conv's conv1 with that memory; the node
    output is max_pool(relu(s_t)))."""
    graph = _load(original_graphs, "mnist_conv")
    graph["nodes"][0]["memory"] = {"function": "memory", "memory_decay": 0.5,
                                   "trainable": False}
    graph["nodes"] = graph["nodes"][:2]          # conv1 -> conv2
    graph["edges"] = graph["edges"][:1]
    model = from_tnn_json(graph, times=6)
    cell = model.graph_nodes["conv1"].cell
    assert (cell.decay_init, cell.learnable) == (0.5, False)
    x = np.random.default_rng(3).standard_normal((2, 28, 28, 1)).astype(
        "float32")
    conv = model.graph_nodes["conv1"].pre_memory[0]
    drive = conv2d_same(x, conv.kernel.numpy(), conv.bias.numpy())
    outputs, s = [], np.zeros_like(drive)
    for _ in range(6):
        s = 0.5 * s + drive
        outputs.append(np.maximum(s, 0).reshape(2, 14, 2, 14, 2, 32)
                       .max(axis=(2, 4)))
    out = np.asarray(model.unroll(x, nodes=["conv1"])["conv1"])
    np.testing.assert_allclose(out, np.stack(outputs, 1), rtol=1e-4,
                               atol=1e-4)


def _vanilla(graphs):
    return _load(graphs, "VanillaRNN")


def _edit(graph, path, value):
    target = graph
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return graph


_DELETE = object()
BAD = [
    (("nodes", 1, "pre_memory", 0, "function"), "conv3d",
     r"node 'L2' pre_memory\[0\] \(conv3d\): unknown function 'conv3d'; "
     r"supported pre/post-memory functions are \[.*'component_conv'.*"
     r"memory: \['memory'\]"),
    (("nodes", 0, "memory", "function"), "lstm",
     r"node 'L1' memory: memory must be \{\"function\": \"memory\""),
    (("nodes", 0, "harbor", "spatial_op"), "tile",
     r"harbor: spatial_op='tile' is not supported; this importer supports "
     r"spatial_op in \['resize'\] only"),
    (("nodes", 1, "memory"), _DELETE, r"node 'L2': missing key\(s\) "
                                      r"\['memory'\]"),
    (("nodes", 1, "shape"), [14, 14, 64],
     r"node 'L2': give exactly one of 'shape'"),
    (("nodes", 0, "shape"), [28, 28], r"node 'L1': shape must be \[height, "
                                      r"width, channels\]"),
    (("edges", 1, "to"), "L9", r"edges\[1\]: refers to unknown node 'L9'"),
    (("nodes", 1, "shape_from"), "readout",
     r"shape_from='readout' is not one of its predecessors \['L1'\]"),
    (("nodes", 1, "pre_memory", 0, "ksize"), [3, 3, 3],
     r"ksize must be an int or \[height, width\]"),
    (("nodes", 1, "post_memory", 1, "strides"), [2, 2],
     r"strides must be \[1, h, w, 1\]"),
    (("nodes", 1, "pre_memory", 0, "foo"), 1,
     r"\(conv\): unknown argument\(s\) \['foo'\]; the original accepts"),
    (("nodes", 1, "dtype"), "float16", r"dtype 'float16' is not supported"),
    (("nodes", 1, "pre_memory", 0, "kernel_init"), "he_uniform",
     r"kernel_init='he_uniform' is not supported; use one of"),
    (("nodes", 1, "post_memory", 0, "function"), "residual_add",
     r"residual_add needs a pre-memory component_conv with return_input"),
    (("nodes", 2, "pre_memory", 2, "activation"), "softmax",
     r"activation='softmax' is not supported"),
]


@pytest.mark.parametrize("path, value, message", BAD,
                         ids=[f"{p[-1]}={v!r}" for p, v, _ in BAD])
def test_malformed_files_fail_clearly(path, value, message, original_graphs):
    graph = _edit(_vanilla(original_graphs), path, value)
    with pytest.raises(TNNJSONError, match=message):
        spec_from_tnn_json(graph, cell_wrappers="tnn_ConvBasicCell")


def test_graph_level_errors(tmp_path, original_graphs):
    graph = _vanilla(original_graphs)
    graph["nodes"].append(dict(copy.deepcopy(graph["nodes"][2]),
                               name="orphan"))
    with pytest.raises(TNNJSONError, match=r"node\(s\) \['orphan'\] appear "
                                           r"in no edge"):
        spec_from_tnn_json(graph, cell_wrappers="tnn_ConvBasicCell")
    with pytest.raises(TNNJSONError, match=r"exactly the keys 'nodes' and "
                                           r"'edges' \(missing \['edges'\]"):
        spec_from_tnn_json({"nodes": graph["nodes"]})
    bad = tmp_path / "bad.json"
    bad.write_text('{"nodes": [')
    with pytest.raises(TNNJSONError, match=r"bad.json is not valid JSON"):
        spec_from_tnn_json(bad)
    with pytest.raises(TNNJSONError, match=r"Cannot read JSON graph"):
        spec_from_tnn_json(tmp_path / "missing.json")
    with pytest.raises(TNNJSONError, match=r"extra edge \('L2', 'L7'\): "
                                           r"refers to unknown node 'L7'"):
        spec_from_tnn_json(_vanilla(original_graphs),
                           cell_wrappers="tnn_ConvBasicCell",
                           extra_edges=[("L2", "L7")])


def test_cell_choice_errors(original_graphs):
    with pytest.raises(TNNJSONError, match=r"node 'L1' memory: the memory "
                                           r"kwargs .* do not say which.*"
                                           r"cell_wrappers=\{'L1'"):
        spec_from_tnn_json(_vanilla(original_graphs))
    with pytest.raises(TNNJSONError, match=r"unknown cell wrapper "
                                           r"'tnn_ConvLSTM'; supported"):
        spec_from_tnn_json(_vanilla(original_graphs),
                           cell_wrappers={"L1": "tnn_ConvLSTM"})
    with pytest.raises(TNNJSONError, match=r"missing required argument\(s\) "
                                           r"\['ff_filter_size'\].*zoo_model="):
        spec_from_tnn_json(
            original_graphs / "convrnns_rgc_intermediate.json")
    with pytest.raises(TNNJSONError, match=r"zoo_model 'rgc_intermediate' is "
                                           r"a 11-node architecture but the "
                                           r"JSON graph has 6 nodes"):
        spec_from_tnn_json(original_graphs / "convrnns_rgc_shallow.json",
                           zoo_model="rgc_intermediate")
    with pytest.raises(TNNJSONError, match=r"unknown zoo_model "
                                           r"'rgc_intermediate_tmaxconf'"):
        spec_from_tnn_json(original_graphs / "convrnns_rgc_intermediate.json",
                           zoo_model="rgc_intermediate_tmaxconf")


def test_declared_memory_shape_is_checked(original_graphs):
    graph = _vanilla(original_graphs)
    graph["nodes"][1]["memory"]["shape"] = [13, 13]
    with pytest.raises(TNNJSONError, match=r"node 'L2' declares memory shape "
                                           r"\[13, 13\] but its pre-memory "
                                           r"output is 14×14"):
        from_tnn_json(graph, cell_wrappers="tnn_ConvBasicCell")
    # At another input size the declared shapes do not apply.
    model = from_tnn_json(graph, cell_wrappers="tnn_ConvBasicCell",
                          input_shape=(26, 26, 1))
    assert model.graph_nodes["L2"].cell_input_shape[1:3] == (13, 13)
