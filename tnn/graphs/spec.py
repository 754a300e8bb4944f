"""Graph specifications: plain data plus validation, no TensorFlow.

A zoo architecture, a gin file and an original TNN JSON file all become a
`GraphSpec`; only `TNNGraph` turns a spec into layers.

A node is `harbor → pre_memory → cell → post_memory`:

    NodeSpec(
        name="conv3",
        pre_memory=[{"layer": "conv", "filters": 256, "kernel_size": 3}],
        cell={"cell": "ConvLSTMCell", "filters": 256, "kernel_size": 3},
        post_memory=[{"layer": "max_pool"}],
    )

Layer specs are dicts `{"layer": <name>, **kwargs}` resolved through the
table in `tnn.graphs.layers` (or Keras-serialized dicts
`{"class_name": ..., "config": ...}`); the cell spec is
`{"cell": <cell name>, **kwargs}` resolved through
`tnn.cells.get_cell_class` (built-in and registered cells).

Edges `(source, target)` are feed-forward, skip or feedback; which is which
follows from the graph (see `GraphSpec.depths`).
"""

import copy
import dataclasses
import heapq

from tnn.cells import cell_name
from tnn.graphs import spec_checks
from tnn.graphs.spec_checks import (  # noqa: F401  (public names)
    CHANNEL_OPS, INPUT_ORDERS, UNROLL_MODES, GraphSpecError)


@dataclasses.dataclass
class NodeSpec:
    """One node ("area") of a TNN graph.

    Args:
        name: unique node name (letters, digits, `_`, `-`, `.`).
        pre_memory: layer specs applied to the harbor output.
        cell: cell spec, or None for a pass-through memory (the original's
            `memory` with decay 0, which has no effect on the output).
        post_memory: layer specs applied to the cell output.
        shape_from: the node whose output fixes this node's harbor spatial
            size; also this node's feed-forward input. Defaults to the first
            declared predecessor. Not used for input nodes.
        input_shape: `[H, W, C]` of the external input; set only on input
            nodes (the graph-level input shape may override H and W).
        harbor: harbor options: `channel_op` ("concat" or "add"),
            `projection` (None or an int: a 1×1 conv after combining).
    """

    name: str
    pre_memory: list = dataclasses.field(default_factory=list)
    cell: dict = None
    post_memory: list = dataclasses.field(default_factory=list)
    shape_from: str = None
    input_shape: list = None
    harbor: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        # A cell class (e.g. injected by gin) is stored by name so the spec
        # stays plain, JSON-serializable data.
        if isinstance(self.cell, dict) and isinstance(
                self.cell.get("cell"), type):
            self.cell = dict(self.cell,
                             cell=cell_name(self.cell["cell"]))

    def to_dict(self):
        return copy.deepcopy(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, NodeSpec):
            return copy.deepcopy(data)
        if not isinstance(data, dict):
            raise GraphSpecError(f"A node spec must be a dict or NodeSpec, "
                                 f"got {type(data).__name__}: {data!r}.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GraphSpecError(
                f"Node {data.get('name')!r}: unknown keys {unknown}; "
                f"allowed keys are {sorted(known)}.")
        return cls(**copy.deepcopy(data))


@dataclasses.dataclass
class GraphSpec:
    """A whole graph: nodes, edges and how inputs are ordered.

    Args:
        nodes: list of `NodeSpec` (or dicts).
        edges: list of `(source, target)` pairs (or `{"from", "to"}` dicts).
        output: the readout node (default: the only node without
            successors).
        input_order: order in which a harbor concatenates its inputs.
            "declared" (default): the external input, then the feed-forward
            input (`shape_from`), then the other predecessors in the order
            their edges were declared. "alphabetical": the original tnn
            order — predecessors sorted by name (Python string order), except
            that nodes whose cell takes feedback separately put the
            feed-forward input first, as the original RGC wrappers do.
        ff_order: optional explicit node order for the per-step feed-forward
            unroll (§2.2); must list every node once, inputs first, and
            every node after its feed-forward input.
    """

    nodes: list
    edges: list
    output: str = None
    input_order: str = "declared"
    ff_order: list = None

    def __post_init__(self):
        self.nodes = [NodeSpec.from_dict(n) for n in self.nodes]
        self.edges = [_edge_tuple(e) for e in self.edges]
        self.validate()

    # --- serialization ------------------------------------------------------

    def to_dict(self):
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [list(e) for e in self.edges],
            "output": self.output,
            "input_order": self.input_order,
            "ff_order": list(self.ff_order) if self.ff_order else None,
        }

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, GraphSpec):
            return copy.deepcopy(data)
        allowed = {"nodes", "edges", "output", "input_order", "ff_order"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise GraphSpecError(f"Unknown graph spec keys {unknown}; "
                                 f"allowed keys are {sorted(allowed)}.")
        return cls(**copy.deepcopy(data))

    # --- structure ----------------------------------------------------------

    @property
    def node_names(self):
        return [n.name for n in self.nodes]

    def node(self, name):
        for n in self.nodes:
            if n.name == name:
                return n
        raise GraphSpecError(f"Unknown node {name!r}; nodes are "
                             f"{self.node_names}.")

    @property
    def input_nodes(self):
        return [n.name for n in self.nodes if n.input_shape is not None]

    def predecessors(self, name):
        """Predecessors in edge declaration order (duplicates removed)."""
        preds = []
        for src, dst in self.edges:
            if dst == name and src not in preds:
                preds.append(src)
        return preds

    def successors(self, name):
        return [dst for src, dst in self.edges if src == name]

    def ff_input(self, name):
        """The feed-forward predecessor of a node (None for input nodes)."""
        node = self.node(name)
        if node.input_shape is not None:
            return None
        return node.shape_from or self.predecessors(name)[0]

    def ordered_inputs(self, name, split_feedback=False):
        """Predecessor names in harbor concatenation order.

        Args:
            name: the node.
            split_feedback: True when the node's cell takes its non-
                feed-forward inputs separately (they then follow the
                feed-forward input in either order policy).
        """
        preds = self.predecessors(name)
        ff = self.ff_input(name)
        if self.input_order == "alphabetical" and not split_feedback:
            return sorted(preds)
        others = [p for p in preds if p != ff]
        if self.input_order == "alphabetical":
            others = sorted(others)
        return ([ff] if ff is not None else []) + others

    def feedback_sources(self):
        """`{node: set of predecessors reached through a feedback edge}`.

        Feedback edges go against `feedforward_order()`, self-loops
        included; the feed-forward unroll delays them by one step and the
        feed-forward control (`recurrence="off"`) replaces them by zeros.
        """
        position = {n: i for i, n in enumerate(self.feedforward_order())}
        return {n: {p for p in self.predecessors(n)
                    if position[p] >= position[n]} for n in self.node_names}

    def _edge_costs(self, mode):
        """Cost of each edge in steps for the given unroll mode."""
        if mode == "biological":
            return {e: 1 for e in self.edges}
        feedback = self.feedback_sources()
        return {(s, d): int(s in feedback[d]) for s, d in self.edges}

    def first_image_steps(self, mode="biological"):
        """First step at which each node carries image-driven signal.

        Biological unroll (§2.1): every edge costs one step, so node k of a
        chain (inputs at k = 1) is image-driven from step k − 1 and a node is
        image-driven from its shortest edge distance to an input node.
        Per-step feed-forward unroll (§2.2): edges along the feed-forward
        order are free, edges against it (feedback) cost one step.
        Earlier outputs are the response to zero stand-ins: identical for
        every example, not zero.
        """
        spec_checks.check_choice(mode, "unroll", UNROLL_MODES)
        costs = self._edge_costs(mode)
        dist = {n: 0 for n in self.input_nodes}
        heap = [(0, n) for n in self.input_nodes]
        while heap:
            d, n = heapq.heappop(heap)
            if d > dist.get(n, float("inf")):
                continue
            for s, t in self.edges:
                if s == n and d + costs[(s, t)] < dist.get(t, float("inf")):
                    dist[t] = d + costs[(s, t)]
                    heapq.heappush(heap, (dist[t], t))
        return {n: dist[n] for n in self.node_names if n in dist}

    def feedforward_order(self):
        """Node order for the per-step feed-forward unroll (§2.2).

        The explicit `ff_order` if given. Otherwise: the feed-forward tree
        (each node's `shape_from` edge) is kept, every other edge is added in
        declaration order unless it would close a cycle (such edges are the
        feedback edges), and the resulting DAG is sorted topologically, ties
        in node declaration order. For an acyclic graph this is simply a
        topological order, as in the original.
        """
        if self.ff_order:
            return list(self.ff_order)
        names = self.node_names
        index = {n: i for i, n in enumerate(names)}
        succ = {n: set() for n in names}

        def reaches(a, b):
            stack, seen = [a], set()
            while stack:
                x = stack.pop()
                if x == b:
                    return True
                if x not in seen:
                    seen.add(x)
                    stack.extend(succ[x])
            return False

        for n in names:
            ff = self.ff_input(n)
            if ff is not None:
                succ[ff].add(n)
        for src, dst in self.edges:
            if dst not in succ[src] and not reaches(dst, src):
                succ[src].add(dst)
        indeg = {n: 0 for n in names}
        for n in names:
            for m in succ[n]:
                indeg[m] += 1
        heap = [(index[n], n) for n in names if indeg[n] == 0]
        heapq.heapify(heap)
        order = []
        while heap:
            _, n = heapq.heappop(heap)
            order.append(n)
            for m in succ[n]:
                indeg[m] -= 1
                if indeg[m] == 0:
                    heapq.heappush(heap, (index[m], m))
        return order

    def longest_path(self, target=None):
        """Edges on the longest simple feed-forward path input → target."""
        target = target or self.output
        order = self.feedforward_order()
        position = {n: i for i, n in enumerate(order)}
        longest = {n: 0 if n in self.input_nodes else None for n in order}
        for n in order:
            for p in self.predecessors(n):
                if position[p] < position[n] and longest[p] is not None:
                    cand = longest[p] + 1
                    if longest[n] is None or cand > longest[n]:
                        longest[n] = cand
        return longest[target]

    # --- validation ---------------------------------------------------------

    def validate(self):
        """Raises `GraphSpecError` naming the first problem (and its fix);
        infers `output` when it is None."""
        spec_checks.validate(self)


def _edge_tuple(edge):
    if isinstance(edge, dict):
        if set(edge) != {"from", "to"}:
            raise GraphSpecError(f"Edge dicts need exactly 'from' and 'to', "
                                 f"got {edge!r}.")
        return (edge["from"], edge["to"])
    try:
        src, dst = edge
    except (TypeError, ValueError):
        raise GraphSpecError(f"An edge must be a (source, target) pair, got "
                             f"{edge!r}.") from None
    return (src, dst)
