"""Which parameters of a ConvRNN the direct fit of dynamics trains.

`dynamics_variables(model)` lists them (seed 002: "recurrent and feedback
parameters"; everything else is the frozen feed-forward model):

- every trainable weight of every cell (recurrent kernels and gates, the
  cell's own input convs, and the feedback convs of cells that take their
  feedback separately, e.g. `ReciprocalGatedCell`);
- harbor projections of feedback inputs ("add" harbors);
- for a feedback input concatenated into a node's harbor, its input-channel
  slice of the first kernel that reads the harbor output (the harbor
  projection, else the first pre-memory layer with a kernel): the rest of
  that kernel is feed-forward and stays frozen (`mask` marks the slice,
  and the fit multiplies its gradient by it).

Feedback inputs are those reached through an edge against the graph's
feed-forward order (`GraphSpec.feedback_sources`).
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class DynamicsVariable:
    """One trained variable: role "cell", "harbor_projection" or
    "feedback_slice" (then `mask` is 1 on the trained input channels)."""

    variable: object
    node: str
    role: str
    mask: np.ndarray = None

    def size(self):
        n = int(np.prod(self.variable.shape))
        return n if self.mask is None else int(self.mask.sum())


def _input_widths(model, name):
    """Width each harbor input adds to a concatenated harbor output."""
    node = model.graph_nodes[name]
    names = model.harbor_inputs(name)   # None: the external input
    shapes = [model.graph_input_shape if s is None
              else model.output_shapes[s] for s in names]
    target = shapes[node.harbor.ff_index]
    if len(target) == 3:
        return names, [s[-1] if len(s) == 3 else s[0] for s in shapes]
    return names, [int(np.prod(s)) for s in shapes]


def _first_kernel(node):
    if node.harbor.out_projection is not None:
        return node.harbor.out_projection[0]
    for layer in node.pre_memory:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None:
            return kernel
    return None


def _feedback_mask(model, name, feedback):
    names, widths = _input_widths(model, name)
    channel = np.concatenate([np.full(w, n in feedback, np.float32)
                              for n, w in zip(names, widths)])
    kernel = _first_kernel(model.graph_nodes[name])
    if kernel is None:
        raise ValueError(
            f"node {name!r} concatenates feedback from {sorted(feedback)} "
            "but has no kernel reading it; give it a pre-memory conv or a "
            "harbor projection.")
    fan_in = int(kernel.shape[-2])
    if fan_in != channel.size:
        if fan_in % channel.size:
            raise ValueError(
                f"node {name!r}: cannot locate the feedback weights in its "
                f"first kernel {tuple(kernel.shape)} ({channel.size} harbor "
                "channels).")
        channel = np.tile(channel, fan_in // channel.size)
    shape = [1] * len(kernel.shape)
    shape[-2] = fan_in
    mask = np.broadcast_to(channel.reshape(shape), kernel.shape)
    return kernel, np.ascontiguousarray(mask, np.float32)


def dynamics_variables(model):
    """The recurrent and feedback parameters of `model` (module docs).

    Returns:
        list of `DynamicsVariable`.
    """
    feedback = model.spec.feedback_sources()
    out = []
    for name, node in model.graph_nodes.items():
        if node.cell is not None:
            out += [DynamicsVariable(v, name, "cell")
                    for v in node.cell.trainable_weights]
        fb = feedback[name]
        if not fb or node.harbor.split_feedback:
            continue
        if node.harbor.channel_op == "add":
            for index, (kernel, bias) in node.harbor.add_projections.items():
                if node.harbor.input_names[index] in fb:
                    out += [DynamicsVariable(kernel, name,
                                             "harbor_projection"),
                            DynamicsVariable(bias, name, "harbor_projection")]
            continue
        kernel, mask = _feedback_mask(model, name, fb)
        out.append(DynamicsVariable(kernel, name, "feedback_slice", mask))
    if not out:
        raise ValueError(
            f"model {model.name!r} has no recurrent or feedback parameters "
            "(no cells, no feedback edges): there are no dynamics to fit.")
    return out
