"""Import the original tnn / convrnns JSON graph files (reference §1).

    from tnn.interop.tnn_json import from_tnn_json
    model = from_tnn_json("convrnns_rgc_intermediate.json",
                          zoo_model="rgc_intermediate")
    model = from_tnn_json("tnn_alexnet.json", extra_edges=[("conv1", "conv3")])
    model = from_tnn_json("tnn_5L_imnet128_lstm345.json",
                          cell_wrappers="tnn_ConvLSTMCell")

A file holds `nodes` (each with `shape` (input nodes) or `shape_from`,
`dtype`, and the function specs `harbor`, `pre_memory`, `memory`,
`post_memory`, `input_init`, `state_init`) and `edges` (`{"from", "to"}`).
Function names resolve through explicit tables, never by guessing:
`tnn.interop.tnn_json.layers.LAYER_FUNCTIONS` (pre/post-memory ops), "harbor",
"memory" (see `tnn.interop.tnn_json.cells`) and "zeros"; an unknown name fails
with the list of supported ones.

Choosing the cell of a node. The original built every node as a
`GenFuncCell` whose `memory` is a decaying state, and Python code swapped
the wrapper class (`tnn_ConvLSTMCell`, `tnn_ReciprocalGateCell`, ...) whose
constructor then read the memory kwargs. Here, per node, in this order:
  1. `cell_wrappers`: `{node: wrapper name}`, or one wrapper name for every
     node whose memory kwargs are those of a cell (not plain `memory`);
  2. `zoo_model`: what convrnns' `model_func` does for that zoo model
     (`tnn.interop.tnn_json.zoo`);
  3. recognizable kwargs (`json_cells.guess_wrapper`): plain
     `memory_decay`/`trainable` → memory (pass-through if the decay is 0 and
     fixed, else `TimeDecayCell`); `cell_depth`/`tau_filter_size`/
     `gate_filter_size` → reciprocal gated cell; `kernel_regularizer` →
     ConvNormBasicCell; `use_peepholes` → LSTM. Anything else is ambiguous
     and fails with a message asking for `cell_wrappers`.

Conventions and deviations (see also `json_layers` / `json_cells`):
predecessors are concatenated in alphabetical order (`input_order=
"alphabetical"`), feed-forward first for the reciprocal gated cells; a 1-D
input `shape: [D]` becomes `[1, 1, D]` (the fc layers flatten, so the
computation is the same; feed `[B, 1, 1, D]`); initializer seeds are
dropped; harbor "add" projections use xavier weights without weight decay
whatever the file says; only `spatial_op: "resize"` and no `preproc` are
supported; `dtype` must be float32.
"""

import copy
import json
import os
import re

from tnn.interop.tnn_json import common as jc
from tnn.interop.tnn_json import zoo as json_zoo
from tnn.interop.tnn_json.cells import (
    MEMORY_KEYS, CellContext, check_wrapper, memory_to_cell)
from tnn.interop.tnn_json.layers import OpContext, translate_ops
from tnn.graphs.spec import GraphSpec, GraphSpecError
from tnn.graphs.tnn_graph import TNNGraph

TNNJSONError = jc.TNNJSONError
_NODE_KEYS = ("name", "dtype", "harbor", "pre_memory", "memory",
              "post_memory", "input_init", "state_init")


def spec_from_tnn_json(source, cell_wrappers=None, zoo_model=None,
                       layer_params=None, extra_edges=(), output=None):
    """The `GraphSpec` dict of an original JSON graph.

    Args:
        source: path of a JSON file, or its parsed dict.
        cell_wrappers: `{node: wrapper}` or one wrapper name (see the module
            docstring; names in `tnn.interop.tnn_json.cells.WRAPPERS`).
        zoo_model: a registered convrnns zoo model name (`rgc_shallow`,
            `lstm_intermediate`, ...): apply what its `model_func` does.
        layer_params: `{node: {"cell_params": {...}}}` overriding memory
            kwargs, as `model_func` does (e.g. the `layer_params` of
            `configs/lstm_shallow.npz`); merged over `zoo_model`'s.
        extra_edges: `(source, target)` pairs added after loading (like
            `G.add_edges_from`; existing edges are kept once).
        output: the readout node (default: the only node without
            successors).

    Returns:
        dict accepted by `GraphSpec.from_dict` / `TNNGraph`.
    """
    return _Importer(source, cell_wrappers, zoo_model, layer_params,
                     extra_edges, output).spec


def from_tnn_json(source, cell_wrappers=None, zoo_model=None,
                  layer_params=None, extra_edges=(), output=None,
                  **graph_kwargs):
    """Builds a `TNNGraph` from an original JSON graph.

    Args:
        source, cell_wrappers, zoo_model, layer_params, extra_edges, output:
            see `spec_from_tnn_json`.
        **graph_kwargs: `TNNGraph` arguments (`input_shape`, `times`,
            `image_off`, `unroll`, `name`, ...). Defaults: the file's input
            shape; with `zoo_model`, that model's registered presentation
            (`times`, `image_off`) and name, else the original's (`times` =
            nodes on the longest path + 1, the image shown at every step)
            and a name from the file name.

    Raises:
        TNNJSONError: malformed file, unsupported function or argument, or
            a memory `shape` that disagrees with the built graph.
    """
    imported = _Importer(source, cell_wrappers, zoo_model, layer_params,
                         extra_edges, output)
    kwargs = dict(imported.graph_defaults)
    kwargs.update(graph_kwargs)
    model = TNNGraph(imported.spec, **kwargs)
    if model.graph_input_shape == tuple(imported.input_shape):
        for node, declared in imported.memory_shapes.items():
            actual = list(model.graph_nodes[node].cell_input_shape[1:3])
            if actual != declared:
                raise TNNJSONError(
                    f"{imported.label}: node {node!r} declares memory shape "
                    f"{declared} but its pre-memory output is {actual[0]}×"
                    f"{actual[1]} at the file's input size "
                    f"{list(imported.input_shape)}; fix the file's shape or "
                    f"strides.")
    return model


class _Importer:
    """Parses one JSON graph into a spec (see `spec_from_tnn_json`)."""

    def __init__(self, source, cell_wrappers, zoo_model, layer_params,
                 extra_edges, output):
        self.label, data = _load(source)
        nodes, edges = self._top_level(data)
        names = [self._node_name(n, i) for i, n in enumerate(nodes)]
        self.zoo = (json_zoo.zoo_settings(zoo_model, len(names), self.label)
                    if zoo_model is not None else None)
        self.wrappers = self._wrappers(cell_wrappers, names)
        self.layer_params = self._layer_params(layer_params, names)
        edges = self._edges(edges, names, extra_edges)
        self.memory_shapes = {}
        self.input_shape = None
        spec_nodes = [self._node(n, edges) for n in nodes]
        spec = {"nodes": spec_nodes, "edges": [list(e) for e in edges],
                "output": output, "input_order": "alphabetical"}
        try:
            self.spec = GraphSpec.from_dict(spec).to_dict()
        except GraphSpecError as err:
            raise TNNJSONError(f"{self.label}: {err}") from None
        name = zoo_model or _model_name(self.label)
        self.graph_defaults = {"name": name}
        if self.zoo is not None:
            self.graph_defaults.update(times=self.zoo.times,
                                       image_off=self.zoo.image_off)

    # --- structure ----------------------------------------------------------

    def _top_level(self, data):
        if not isinstance(data, dict):
            jc.fail(self.label, f"a graph file must hold a JSON object with "
                                f"'nodes' and 'edges', got "
                                f"{type(data).__name__}.")
        unknown = sorted(set(data) - {"nodes", "edges"})
        missing = [k for k in ("nodes", "edges") if k not in data]
        if unknown or missing:
            jc.fail(self.label, f"a graph file has exactly the keys 'nodes' "
                                f"and 'edges' (missing {missing}, unknown "
                                f"{unknown}).")
        if not isinstance(data["nodes"], list) or not data["nodes"]:
            jc.fail(self.label, "'nodes' must be a non-empty list.")
        if not isinstance(data["edges"], list):
            jc.fail(self.label, "'edges' must be a list of {\"from\", "
                                "\"to\"} objects.")
        return data["nodes"], data["edges"]

    def _node_name(self, node, index):
        where = f"{self.label}: nodes[{index}]"
        if not isinstance(node, dict):
            jc.fail(where, f"a node must be an object, got {node!r}.")
        name = node.get("name")
        if not isinstance(name, str) or not name or "/" in name:
            jc.fail(where, f"'name' must be a non-empty string without '/', "
                           f"got {name!r}.")
        return name

    def _wrappers(self, cell_wrappers, names):
        """Explicit wrappers: {node: name}, and the one-name default."""
        where = f"{self.label}: cell_wrappers"
        self.default_wrapper = None
        if isinstance(cell_wrappers, str):
            self.default_wrapper = check_wrapper(cell_wrappers, where)
            return {}
        if cell_wrappers is not None and not isinstance(cell_wrappers, dict):
            jc.fail(where, f"pass a wrapper name or {{node: wrapper}}, got "
                           f"{cell_wrappers!r}.")
        wrappers = {}
        for node, wrapper in (cell_wrappers or {}).items():
            if node not in names:
                jc.fail(where, f"no node {node!r}; nodes are {names}.")
            wrappers[node] = check_wrapper(wrapper, where)
        return wrappers

    def _wrapper(self, name, memory):
        """The node's wrapper: explicit, then zoo_model's, else None (the
        kwargs decide)."""
        if name in self.wrappers:
            return self.wrappers[name]
        cell_kwargs = isinstance(memory, dict) and not (
            set(memory) - {"function"} <= set(MEMORY_KEYS))
        if self.default_wrapper is not None and cell_kwargs:
            return self.default_wrapper
        return self.zoo.wrappers.get(name) if self.zoo else None

    def _layer_params(self, layer_params, names):
        merged = copy.deepcopy(self.zoo.layer_params) if self.zoo else {}
        where = f"{self.label}: layer_params"
        if layer_params is not None and not isinstance(layer_params, dict):
            jc.fail(where, f"expected {{node: {{'cell_params': {{...}}}}}}, "
                           f"got {layer_params!r}.")
        for node, params in (layer_params or {}).items():
            if node not in names:
                jc.fail(where, f"no node {node!r}; nodes are {names}.")
            if not isinstance(params, dict) or set(params) - {"cell_params"}:
                jc.fail(where, f"node {node!r}: expected {{'cell_params': "
                               f"{{...}}}} (the only key model_func reads), "
                               f"got {params!r}.")
            cell = merged.setdefault(node, {}).setdefault("cell_params", {})
            cell.update(dict(params.get("cell_params") or {}))
        return merged

    def _edges(self, edges, names, extra_edges):
        result = []
        for index, edge in enumerate(edges):
            where = f"{self.label}: edges[{index}]"
            if not isinstance(edge, dict) or set(edge) != {"from", "to"}:
                jc.fail(where, f"an edge is {{\"from\": a, \"to\": b}}, got "
                               f"{edge!r}.")
            pair = (edge["from"], edge["to"])
            self._check_edge(pair, names, where)
            if pair not in result:
                result.append(pair)
        if result:
            linked = {n for e in result for n in e}
            alone = [n for n in names if n not in linked]
            if alone:
                jc.fail(self.label, f"node(s) {alone} appear in no edge (the "
                                    f"original requires the names in "
                                    f"'edges' to be exactly the node names).")
        extra = list(self.zoo.extra_edges) if self.zoo else []
        extra += [tuple(e) if isinstance(e, (list, tuple)) else e
                  for e in extra_edges]
        for edge in extra:
            where = f"{self.label}: extra edge {edge!r}"
            if not isinstance(edge, tuple) or len(edge) != 2:
                jc.fail(where, "an extra edge is a (source, target) pair.")
            self._check_edge(edge, names, where)
            if edge not in result:
                result.append(edge)
        return result

    @staticmethod
    def _check_edge(pair, names, where):
        for end in pair:
            if end not in names:
                jc.fail(where, f"refers to unknown node {end!r}; nodes are "
                               f"{names}.")

    # --- nodes --------------------------------------------------------------

    def _node(self, node, edges):
        name = node["name"]
        where = f"{self.label}: node {name!r}"
        known = set(_NODE_KEYS) | {"shape", "shape_from"}
        unknown = sorted(set(node) - known)
        missing = [k for k in _NODE_KEYS if k not in node]
        if unknown or missing:
            jc.fail(where, f"missing key(s) {missing}, unknown key(s) "
                           f"{unknown}; a node has {list(_NODE_KEYS)} and "
                           f"one of 'shape' (input nodes) / 'shape_from'.")
        if ("shape" in node) == ("shape_from" in node):
            jc.fail(where, "give exactly one of 'shape' (an input node) and "
                           "'shape_from' (the node fixing the harbor size).")
        if node["dtype"] != "float32":
            jc.fail(where, f"dtype {node['dtype']!r} is not supported; use "
                           f"'float32' (set a Keras dtype policy instead).")
        for key in ("input_init", "state_init"):
            if node[key] != {"function": "zeros"}:
                jc.fail(where, f"{key} must be {{\"function\": \"zeros\"}} "
                               f"(the only supported initial value), got "
                               f"{node[key]!r}.")
        spec = {"name": name, "harbor": self._harbor(node["harbor"], where)}
        preds = [s for s, d in edges if d == name]
        if "shape" in node:
            spec["input_shape"] = self._input_shape(node["shape"], where)
        else:
            if node["shape_from"] not in preds:
                jc.fail(where, f"shape_from={node['shape_from']!r} is not one "
                               f"of its predecessors {preds}.")
            spec["shape_from"] = node["shape_from"]
        pre = OpContext(name, "pre_memory", self.label)
        ops = self._ops(node["pre_memory"])
        spec["pre_memory"] = translate_ops(ops, pre)
        memory = node["memory"]
        wrapper = self._wrapper(name, memory)
        cell_ctx = CellContext(f"{where} memory", pre.out_depth,
                               pre.return_input)
        params = self.layer_params.get(name, {}).get("cell_params")
        spec["cell"], shape = memory_to_cell(memory, wrapper, params,
                                             cell_ctx, name)
        if shape is not None:
            self.memory_shapes[name] = shape
        post = OpContext(name, "post_memory", self.label)
        post.return_input = pre.return_input
        spec["post_memory"] = translate_ops(self._ops(node["post_memory"]),
                                            post)
        return spec

    def _ops(self, ops):
        if self.zoo is None or not isinstance(ops, list):
            return ops
        return [json_zoo.apply_ff_overrides(op, self.zoo.ff_overrides)
                if isinstance(op, dict) else op for op in ops]

    def _input_shape(self, shape, where):
        if not isinstance(shape, list) or len(shape) not in (1, 3):
            jc.fail(where, f"shape must be [height, width, channels] (or "
                           f"[features]), got {shape!r}.")
        shape = [jc.positive_int(s, where, "shape") for s in shape]
        if len(shape) == 1:
            shape = [1, 1, shape[0]]
        if self.input_shape is not None and self.input_shape != shape:
            jc.fail(where, f"input nodes disagree on their shape "
                           f"({self.input_shape} vs {shape}).")
        self.input_shape = shape
        return shape

    def _harbor(self, harbor, where):
        where = f"{where} harbor"
        if not isinstance(harbor, dict) or harbor.get("function") != "harbor":
            jc.fail(where, f"harbor must be {{\"function\": \"harbor\", ...}} "
                           f"(the only harbor function), got {harbor!r}.")
        kwargs = {k: v for k, v in harbor.items() if k != "function"}
        kw = jc.check_kwargs(
            kwargs, {"channel_op": "concat", "kernel_init": "xavier",
                     "kernel_init_kwargs": None, "weight_decay": None,
                     "ksize": 3, "padding": "SAME", "name": None},
            where, {"preproc": [None], "spatial_op": ["resize"],
                    "activation": [None], "dropout": [None],
                    "ff_inpnm": [None]})
        if kw["channel_op"] not in ("concat", "add"):
            jc.fail(where, f"channel_op={kw['channel_op']!r} is not "
                           f"supported; use 'concat' or 'add'.")
        return {} if kw["channel_op"] == "concat" else {"channel_op": "add"}


def _load(source):
    """(label, parsed JSON) from a path or an already parsed dict."""
    if isinstance(source, dict):
        return "JSON graph", copy.deepcopy(source)
    if not isinstance(source, (str, os.PathLike)):
        raise TNNJSONError(f"Pass the path of a JSON graph file or its "
                           f"parsed dict, got {type(source).__name__}.")
    label = os.fspath(source)
    try:
        with open(label) as f:
            return os.path.basename(label), json.load(f)
    except OSError as err:
        raise TNNJSONError(f"Cannot read JSON graph {label!r}: "
                           f"{err.strerror}.") from None
    except json.JSONDecodeError as err:
        raise TNNJSONError(f"{label} is not valid JSON: {err.msg} at line "
                           f"{err.lineno}, column {err.colno}.") from None


def _model_name(label):
    stem = os.path.splitext(os.path.basename(label))[0]
    name = re.sub(r"[^0-9A-Za-z_]", "_", stem)
    if not name or name[0].isdigit():
        name = f"tnn_{name}"
    return name


__all__ = ["from_tnn_json", "spec_from_tnn_json", "TNNJSONError"]
