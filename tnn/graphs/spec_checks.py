"""Validation of `GraphSpec`s: every error names the problem and the fix."""

INPUT_ORDERS = ("declared", "alphabetical")
UNROLL_MODES = ("biological", "feedforward")
CHANNEL_OPS = ("concat", "add")


class GraphSpecError(ValueError):
    """A malformed graph specification."""


def validate(spec):
    """Checks a `GraphSpec`; infers `spec.output` when it is None."""
    names = spec.node_names
    if not names:
        raise GraphSpecError("A graph needs at least one node.")
    seen = set()
    for n in names:
        if not isinstance(n, str) or not n or "/" in n:
            raise GraphSpecError(f"Invalid node name {n!r}: use a "
                                 f"non-empty string without '/'.")
        if n in seen:
            raise GraphSpecError(f"Duplicate node name {n!r}.")
        seen.add(n)
    check_choice(spec.input_order, "input_order", INPUT_ORDERS)
    for src, dst in spec.edges:
        for end in (src, dst):
            if end not in seen:
                raise GraphSpecError(
                    f"Edge ({src!r} -> {dst!r}) refers to unknown node "
                    f"{end!r}; nodes are {names}.")
    if not spec.input_nodes:
        raise GraphSpecError(
            "No input node: give the first node an `input_shape` "
            "[H, W, C].")
    for node in spec.nodes:
        _node(spec, node)
    depth = spec.first_image_steps("biological")
    unreachable = [n for n in names if n not in depth]
    if unreachable:
        raise GraphSpecError(
            f"Node(s) {unreachable} cannot be reached from the input "
            f"node(s) {spec.input_nodes}; add an edge into them or "
            f"remove them.")
    _ff_tree(spec)
    if spec.output is None:
        sinks = [n for n in names if not spec.successors(n)]
        if len(sinks) != 1:
            raise GraphSpecError(
                f"Cannot infer the readout node: nodes without "
                f"successors are {sinks}; set `output`.")
        spec.output = sinks[0]
    elif spec.output not in seen:
        raise GraphSpecError(f"Readout node {spec.output!r} is not a "
                             f"node; nodes are {names}.")
    if spec.ff_order is not None:
        _ff_order(spec)


def _node(spec, node):
    preds = spec.predecessors(node.name)
    if node.input_shape is not None:
        shape = list(node.input_shape)
        if len(shape) != 3 or any(
                not isinstance(s, int) or s < 1 for s in shape):
            raise GraphSpecError(
                f"Input node {node.name!r}: input_shape must be "
                f"[H, W, C] positive ints, got {node.input_shape!r}.")
    else:
        if not preds:
            raise GraphSpecError(
                f"Node {node.name!r} has no incoming edge and no "
                f"input_shape: connect it or make it an input node.")
        if node.shape_from is not None and node.shape_from not in preds:
            raise GraphSpecError(
                f"Node {node.name!r}: shape_from={node.shape_from!r} "
                f"is not one of its predecessors {preds}.")
    for key in ("pre_memory", "post_memory"):
        layers = getattr(node, key)
        if not isinstance(layers, list):
            raise GraphSpecError(f"Node {node.name!r}: {key} must be a "
                                 f"list of layer specs, got {layers!r}.")
        for spec in layers:
            if not isinstance(spec, dict) or not (
                    "layer" in spec or "class_name" in spec):
                raise GraphSpecError(
                    f"Node {node.name!r}: each {key} entry must be a "
                    f"dict with a 'layer' key, got {spec!r}.")
    if node.cell is not None and (
            not isinstance(node.cell, dict) or "cell" not in node.cell):
        raise GraphSpecError(
            f"Node {node.name!r}: cell must be None or a dict with a "
            f"'cell' key naming the cell class, got {node.cell!r}.")
    harbor = dict(node.harbor)
    allowed = {"channel_op", "projection"}
    if set(harbor) - allowed:
        raise GraphSpecError(
            f"Node {node.name!r}: unknown harbor options "
            f"{sorted(set(harbor) - allowed)}; allowed: "
            f"{sorted(allowed)}.")
    check_choice(harbor.get("channel_op", "concat"),
                 f"node {node.name!r} harbor channel_op", CHANNEL_OPS)


def _ff_tree(spec):
    for name in spec.node_names:
        chain, n = [name], name
        while spec.ff_input(n) is not None:
            n = spec.ff_input(n)
            if n in chain:
                raise GraphSpecError(
                    f"Feed-forward inputs (shape_from) form a cycle "
                    f"{chain + [n]}; each node's shape_from chain must "
                    f"end at an input node.")
            chain.append(n)


def _ff_order(spec):
    order = list(spec.ff_order)
    if sorted(order) != sorted(spec.node_names):
        raise GraphSpecError(
            f"ff_order {order} must list every node exactly once; "
            f"nodes are {spec.node_names}.")
    position = {n: i for i, n in enumerate(order)}
    for name in spec.node_names:
        ff = spec.ff_input(name)
        if ff is not None and position[ff] > position[name]:
            raise GraphSpecError(
                f"ff_order contradicts the edges: {name!r} comes before "
                f"its feed-forward input {ff!r}; move {ff!r} earlier.")


def check_choice(value, name, choices):
    """Raises `GraphSpecError` unless `value` is one of `choices`."""
    if value not in choices:
        raise GraphSpecError(f"{name} must be one of {list(choices)}, got "
                             f"{value!r}.")
