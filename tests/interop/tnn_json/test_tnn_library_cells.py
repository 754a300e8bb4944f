"""The cells of the neuroailab/tnn library's wrappers (`tnn/convrnn.py`)
versus the convrnns zoo's: `tnn_ConvGRUCell` names a different cell in each
library, and the tnn wrappers pass only `shape`, `filter_size` and
`out_depth` to their cells."""

import json

import numpy as np
import pytest

from tests.numpy_reference import np_gru
from tnn.interop.tnn_json import (
    TNNJSONError, from_tnn_json, spec_from_tnn_json)

TNN_GRU = "tnn.convrnn.tnn_ConvGRUCell"
ZOO_GRU = "convrnns.utils.cells.tnn_ConvGRUCell"
_XAVIER = {"class_name": "GlorotUniform", "config": {}}


def _vanilla(graphs, **memory):
    """tnn's VanillaRNN.json with extra memory kwargs on L1 and L2."""
    graph = json.loads((graphs / "tnn_VanillaRNN.json").read_text())
    for node in graph["nodes"][:2]:
        node["memory"].update(memory)
    return graph


def _cells(spec):
    nodes = spec["nodes"] if isinstance(spec, dict) else [
        n.to_dict() for n in spec.nodes]
    return {n["name"]: n["cell"] for n in nodes}


def test_bare_gru_wrapper_name_is_refused_as_ambiguous(original_graphs):
    with pytest.raises(TNNJSONError, match=(
            r"cell wrapper 'tnn_ConvGRUCell' is ambiguous: convrnns and "
            r"neuroailab/tnn both define it.*"
            r"'convrnns\.utils\.cells\.tnn_ConvGRUCell' \(convrnns zoo\) or "
            r"'tnn\.convrnn\.tnn_ConvGRUCell' \(tnn library\)")):
        spec_from_tnn_json(_vanilla(original_graphs),
                           cell_wrappers="tnn_ConvGRUCell")


def test_tnn_library_gru_has_no_reset_gate_bias_and_ignores_kwargs(
        original_graphs):
    """tnn `ConvGRUCell`: `r, u = split(sigmoid(W_g*[x, h] + b_g))` (no
    forget bias), `b_g` starts at 1, the rest xavier; the wrapper reads
    only shape / filter_size / out_depth."""
    graph = _vanilla(original_graphs, weight_decay=0.01, forget_bias=2.0,
                     layer_norm=True)
    with pytest.warns(UserWarning, match=(
            r"node 'L[12]' memory.*neuroailab/tnn tnn/convrnn\.py.*the memory "
            r"kwargs \['forget_bias', 'layer_norm', 'weight_decay'\] are "
            r"ignored")):
        model = from_tnn_json(graph, cell_wrappers=TNN_GRU)
    cell = _cells(model.spec)["L1"]
    assert cell == {"cell": "ConvGRUCell", "filters": 64,
                    "kernel_size": 3, "forget_bias": 0.0,
                    "layer_norm": False, "gate_bias_initializer": 1.0,
                    "bias_initializer": _XAVIER,
                    "kernel_initializer": _XAVIER}
    layer = model.graph_nodes["L1"].cell
    np.testing.assert_array_equal(layer.gates_bias.numpy(), 1.0)
    assert not layer.losses          # no weight decay
    rng = np.random.default_rng(0)
    for w in layer.weights:          # away from the initial values
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.3)
    xs = rng.standard_normal((2, 2, 6, 6, 64)).astype("float32")
    v = {f"ConvGRUCell/{scope}/{kind}": getattr(
        layer, f"{scope}_{'kernel' if kind == 'weights' else 'bias'}"
    ).numpy() for scope in ("gates", "candidates")
        for kind in ("weights", "bias")}
    expected, _ = np_gru(v, xs, 0.0, False, 64)
    h = np.zeros((2, 6, 6, 64), "float32")
    for t in range(2):
        h, _ = layer(xs[t], [h])
        np.testing.assert_allclose(np.asarray(h), expected[t], atol=1e-4)
    zoo_step, _ = np_gru(v, xs, 1.0, False, 64)
    assert not np.allclose(expected, zoo_step, atol=1e-3)


def test_zoo_gru_keeps_forget_bias_and_its_kwargs(original_graphs):
    graph = _vanilla(original_graphs, weight_decay=0.01, forget_bias=2.0,
                     layer_norm=True)
    cell = _cells(spec_from_tnn_json(graph, cell_wrappers=ZOO_GRU))["L1"]
    assert (cell["forget_bias"], cell["layer_norm"], cell["weight_decay"],
            cell["gate_bias_initializer"], cell["bias_initializer"]) == (
                2.0, True, 0.01, 1.0, 0.0)
    zoo = spec_from_tnn_json(original_graphs / "convrnns_gru_shallow.json",
                             zoo_model="gru_shallow")
    assert _cells(zoo)["conv3"]["forget_bias"] == 1.0


def test_tnn_basic_cell_ignores_the_json_activation(original_graphs):
    """tnn `tnn_ConvBasicCell` builds `ConvBasicCell(shape, filter_size,
    out_depth)`: tanh whatever the file says, xavier kernel and bias."""
    graph = _vanilla(original_graphs, activation="relu")
    for wrapper in ("tnn_ConvBasicCell", "tnn.convrnn.tnn_ConvBasicCell"):
        with pytest.warns(UserWarning, match=r"\['activation'\] are "
                                             r"ignored"):
            model = from_tnn_json(graph, cell_wrappers=wrapper)
        cell = _cells(model.spec)["L2"]
        assert (cell["activation"], cell["bias_initializer"]) == (
            "tanh", _XAVIER)
        layer = model.graph_nodes["L2"].cell
        assert layer.variant == "tnn" and layer.activation == "tanh"
