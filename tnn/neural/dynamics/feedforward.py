"""The feed-forward control of a ConvRNN: the same model, recurrence zeroed.

Baseline of the direct fit of dynamics (Nayebi, Kubilius et al., seed 002:
"the feedforward baseline"). Instead of removing the cells, which would
change the function the feed-forward pathway computes, every node is run
with a zero state at every step and with its feedback inputs replaced by
zero stand-ins. Each node then applies exactly its response at the first
step of an unroll (harbor -> pre-memory -> cell with zero state ->
post-memory) to the current feed-forward and skip inputs, which keep the
timing of the model's unroll mode: in the biological unroll node k of a
chain shows frame t - (k - 1) at step t, so its output is constant while
the image is on, then switches to the blank's response; nothing is carried
over time.

Feedback edges are those against `GraphSpec.feedforward_order()` (self
loops included), as in the per-step feed-forward unroll (§2.2).
"""

from keras import ops

from tnn.graphs import unroll as unroll_lib


def feedback_sources(spec):
    """`{node: set of predecessors reached through a feedback edge}`."""
    position = {n: i for i, n in enumerate(spec.feedforward_order())}
    return {n: {p for p in spec.predecessors(n)
                if position[p] >= position[n]} for n in spec.node_names}


def _needed(spec, nodes, feedback):
    """The requested nodes and their feed-forward / skip ancestors."""
    need, stack = set(), list(nodes)
    while stack:
        name = stack.pop()
        if name in need:
            continue
        need.add(name)
        stack.extend(p for p in spec.predecessors(name)
                     if p not in feedback[name])
    return need


def feedforward_unroll(model, images, nodes, times=None):
    """Outputs of `nodes` at every step with recurrence and feedback zeroed.

    Args:
        model: a TNNGraph.
        images: normalised images `[B, H, W, C]` (presented with the
            model's `image_off` and `blank_value`).
        nodes: node names to return.
        times: steps (default: the model's `times`).

    Returns:
        dict node -> tensor `[B, T, ...]`.
    """
    unknown = [n for n in nodes if n not in model.graph_nodes]
    if unknown:
        raise ValueError(f"Unknown node {unknown[0]!r}; nodes are "
                         f"{model.spec.node_names}.")
    times = model.times if times is None else int(times)
    images = ops.cast(ops.convert_to_tensor(images), model.compute_dtype)
    frames = unroll_lib.Frames(images, model.image_off, model.blank_value)
    batch = ops.shape(images)[0]
    dtype = model.compute_dtype
    feedback = feedback_sources(model.spec)
    need = _needed(model.spec, nodes, feedback)
    order = [n for n in model.plan.order if n in need]
    zero_out = {n: ops.zeros((batch,) + tuple(model.output_shapes[n]), dtype)
                for n in model.plan.order}
    zero_state = {n: [ops.zeros((batch,) + tuple(s), dtype)
                      for s in model.state_shapes[n]] for n in order}
    outs = dict(zero_out)
    collected = {n: [] for n in nodes}
    for t in range(times):
        new = dict(outs)
        for name in order:
            inputs = []
            for src, same in model.plan.reads[name]:
                if src == unroll_lib.EXTERNAL:
                    inputs.append(frames.at(t))
                elif src in feedback[name]:
                    inputs.append(zero_out[src])
                else:
                    inputs.append((new if same else outs)[src])
            new[name], _ = model.graph_nodes[name](
                inputs, zero_state[name], training=False)
        outs = new
        for name in nodes:
            collected[name].append(outs[name])
    return {n: ops.stack(v, axis=1) for n, v in collected.items()}
