"""The time loop: steps every node of a graph through time (§2).

Two modes:

- "biological" (`main.unroll`, every zoo model): every edge costs one step;
  at step t each node reads its predecessors' outputs of step t − 1 (zero
  stand-ins at t = 0) and its own state of t − 1.
- "feedforward" (`main.unroll_tf`): nodes run in the feed-forward order;
  an input that comes earlier in that order is read at the same step, any
  other (feedback, self-loops) at t − 1.

Shared pre-stimulus steps. A node's outputs before its first image-driven
step (`GraphSpec.first_image_steps`) do not depend on the input: they are
the response to zero stand-ins, the same for every example. When
`share_pre_stimulus` is on, those steps are computed once with batch size 1
and broadcast where a full-batch node reads them — exactly the same values
and gradients, fewer FLOPs. These first `warmup` steps are unrolled in
Python (their number is the graph depth, independent of T); the remaining
steps run in `time_loop.loop`: a symbolic loop, so that the traced graph
does not grow with T, or Python-unrolled (`symbolic=False`, faster on CPU
TensorFlow). Sharing is switched off in training when the graph has layers
whose output depends on the batch or on noise (dropout, batch norm).

Recurrence off: the feed-forward control of the direct fit of dynamics
(Nayebi, Kubilius et al., "the feedforward baseline"), the same network
with recurrence and feedback switched off. Instead of removing the cells,
which would change the function the feed-forward pathway computes, every
node runs with a zero state at every step and with its feedback inputs
(`GraphSpec.feedback_sources`: edges against the feed-forward order, self
loops included) replaced by zero stand-ins; its feed-forward and skip
inputs keep the timing of the unroll mode. Each node then applies its
response at the first step of an unroll (harbor -> pre-memory -> cell with
zero state -> post-memory) to its current inputs: in the biological unroll
node k of a chain shows frame t - (k - 1) at step t, so its output is
constant while the image is on, then switches to the blank's response;
nothing is carried over time. Only the requested nodes and their
feed-forward / skip ancestors are computed. Pre-stimulus sharing, both time
loops and `remat` work as with recurrence on (without feedback a node's
first image-driven step can only come later, so sharing stays exact).

Pruning. Outside training, an unroll with recurrence on computes only the
requested nodes and their ancestors through every edge (feedback and
self-loops included): a node outside that set cannot reach the requested
outputs at any step, so they are the same values, bit for bit, with less
work. In training (`training=True`) every node still runs, so layer side
effects of the other nodes (batch-norm statistics, activity losses) stay
as they were.
"""

import dataclasses

import keras
from keras import ops
from keras import tree

from tnn.graphs import time_loop

EXTERNAL = "__input__"
RECURRENCE = ("on", "off")


def check_recurrence(recurrence):
    """Raises a ValueError unless `recurrence` is "on" or "off"."""
    if not isinstance(recurrence, str) or recurrence not in RECURRENCE:
        raise ValueError(
            f"recurrence must be 'on' or 'off', got {recurrence!r}; 'off' "
            "runs the feed-forward control (zero states, zero feedback).")


@dataclasses.dataclass(frozen=True)
class UnrollPlan:
    """Static schedule of one unroll mode.

    Attributes:
        mode: "biological" or "feedforward".
        order: node compute order within a step.
        reads: node -> tuple of (source, same_step) in harbor order; source
            is a node name or EXTERNAL.
        first_step: node -> first image-driven step.
        feedback: node -> frozenset of its feedback sources.
    """

    mode: str
    order: tuple
    reads: dict
    first_step: dict
    feedback: dict

    @classmethod
    def from_spec(cls, spec, mode, input_names):
        """Builds the plan; `input_names[node]` is the harbor order."""
        if mode == "biological":
            order = tuple(spec.node_names)
            position = None
        else:
            order = tuple(spec.feedforward_order())
            position = {n: i for i, n in enumerate(order)}
        reads = {}
        for name in order:
            entries = []
            for src in input_names[name]:
                if src == EXTERNAL:
                    entries.append((EXTERNAL, True))
                elif position is None:
                    entries.append((src, False))
                else:
                    entries.append((src, position[src] < position[name]))
            reads[name] = tuple(entries)
        feedback = {n: frozenset(s)
                    for n, s in spec.feedback_sources().items()}
        return cls(mode=mode, order=order, reads=reads,
                   first_step=spec.first_image_steps(mode),
                   feedback=feedback)

    @property
    def depth(self):
        return max(self.first_step.values())

    def needed(self, nodes, feedback=False):
        """`nodes` and their ancestors, in `order`.

        Ancestors through feed-forward and skip edges only (the nodes the
        feed-forward control computes), or with `feedback=True` through
        every edge, feedback and self-loops included: the only nodes whose
        outputs can reach `nodes` in an unroll with recurrence on.
        """
        need, stack = set(), list(nodes)
        while stack:
            name = stack.pop()
            if name not in need:
                need.add(name)
                stack.extend(src for src, _ in self.reads[name]
                             if src != EXTERNAL and (
                                 feedback or src not in self.feedback[name]))
        return tuple(n for n in self.order if n in need)

    def node_inputs(self, name, frames, outputs, step, output_specs,
                    dtype, recurrence="on"):
        """A node's harbor inputs at `step`, read from unrolled outputs.

        Args:
            name: the node.
            frames: the `Frames` of the unroll.
            outputs: node -> `[B, T, ...]` outputs of the unroll.
            step: Python int step.
            output_specs: node -> per-example output shape.
            dtype: dtype of zero stand-ins.
            recurrence: "on" or "off", as in the unroll.

        Returns:
            list of tensors in harbor order.
        """
        feedback = self.feedback[name] if recurrence == "off" else ()
        inputs = []
        for src, same in self.reads[name]:
            if src == EXTERNAL:
                inputs.append(frames.at(step))
                continue
            t = step if same else step - 1
            if src in feedback or t < 0:
                inputs.append(ops.zeros(
                    (frames.batch,) + tuple(output_specs[src]), dtype))
                continue
            if src not in outputs:
                raise ValueError(
                    f"outputs lacks {src!r}, an input of node {name!r}; "
                    f"unroll with nodes that include it (or nodes=None).")
            inputs.append(outputs[src][:, t])
        return inputs


class Frames:
    """The external input at each step.

    Either a static image with a presentation (`image` for steps
    `t < image_off`, then a constant `blank_value`; `image_off=None` keeps
    the image on), or a movie `[B, T, H, W, C]`.
    """

    def __init__(self, images, image_off=None, blank_value=0.5, movie=False):
        self.images = images
        self.image_off = image_off
        self.blank_value = blank_value
        self.movie = movie

    @classmethod
    def present(cls, inputs, input_shape, dtype, image_off, blank_value,
                times=None):
        """Checks images `[B, H, W, C]` or a movie `[B, T, H, W, C]` of
        frames `input_shape`, casts them to `dtype` and wraps them."""
        shape = tuple(inputs.shape)
        if len(shape) == 5:
            image_shape, movie = shape[2:], True
        elif len(shape) == 4:
            image_shape, movie = shape[1:], False
        else:
            raise ValueError(
                f"Expected images [B, H, W, C] or a movie [B, T, H, W, C] "
                f"with (H, W, C) = {input_shape}, got shape {shape}.")
        if tuple(image_shape) != input_shape:
            raise ValueError(
                f"Input frames have shape {tuple(image_shape)} but the "
                f"model was built for {input_shape}; resize the inputs or "
                f"rebuild with input_shape={tuple(image_shape)}.")
        if keras.backend.standardize_dtype(inputs.dtype) != dtype:
            inputs = ops.cast(inputs, dtype)
        if not movie:
            return cls(inputs, image_off, blank_value)
        if shape[1] is None:
            raise ValueError("A movie needs a static number of frames.")
        if times is not None and times != shape[1]:
            raise ValueError(f"times={times} but the movie has "
                             f"{shape[1]} frames.")
        return cls(inputs, movie=True)

    def with_images(self, images):
        return Frames(images, self.image_off, self.blank_value, self.movie)

    @property
    def batch(self):
        return ops.shape(self.images)[0]

    def at(self, t):
        """Frame at step t (Python int or scalar tensor)."""
        if self.movie:
            if isinstance(t, int):
                return self.images[:, t]
            return ops.take(self.images, t, axis=1)
        if self.image_off is None:
            return self.images
        if isinstance(t, int):
            if t < self.image_off:
                return self.images
            return self._blank()
        return ops.where(t < self.image_off, self.images, self._blank())

    def _blank(self):
        return ops.full_like(self.images, self.blank_value)


def _broadcast(x, batch):
    return ops.broadcast_to(x, (batch,) + tuple(x.shape[1:]))


def run(nodes, plan, frames, times, collect, output_specs, state_specs,
        training=None, share=True, remat=False, dtype="float32",
        symbolic=True, recurrence="on"):
    """Unrolls the graph.

    Args:
        nodes: node name -> built `Node` layer.
        plan: the `UnrollPlan`.
        frames: a `Frames`.
        times: number of steps T.
        collect: node names whose outputs are returned for every step.
        output_specs: node -> per-example output shape.
        state_specs: node -> list of per-example state shapes.
        training: passed to every layer.
        share: compute pre-stimulus steps once per batch (see module doc).
        remat: recompute activations in the backward pass.
        dtype: dtype of zero stand-ins and states.
        symbolic: run the steps after the warm-up in a symbolic loop (True)
            or unrolled in Python (False).
        recurrence: "on", or "off" for the feed-forward control (module
            doc): zero states, zero feedback, only the nodes `collect`
            needs.

    Outside training (`training` not True) only `collect` and its
    ancestors through all edges are computed (module doc, "Pruning").

    Returns:
        dict node -> tensor `[B, T, ...]` for the nodes in `collect`.
    """
    batch = frames.batch
    first = plan.first_step
    warmup = min(plan.depth if share else 0, times)
    init_batch = 1 if share else batch
    off = recurrence == "off"
    if off:
        order = plan.needed(collect)
    elif training is True:   # every node: layer side effects (batch norm)
        order = plan.order
    else:
        order = plan.needed(collect, feedback=True)
    feedback = plan.feedback if off else {n: () for n in order}
    outs = {n: ops.zeros((init_batch,) + tuple(output_specs[n]), dtype)
            for n in order}
    # With recurrence off no state is carried: zeros are made at each step.
    states = {n: [] if off else [ops.zeros((init_batch,) + tuple(s), dtype)
                                 for s in state_specs[n]] for n in order}
    # Which of the current tensors hold one shared example.
    shared = {n: share for n in order}

    def zeros(shape, own_shared, frame):
        rows = 1 if own_shared else ops.shape(frame)[0]
        return ops.zeros((rows,) + tuple(shape), dtype)

    def step(t, outs, states, shared_now, step_frames):
        """One step; `shared_now` is None inside the symbolic loop."""
        frame = step_frames.at(t)
        new_outs, new_states = dict(outs), dict(states)
        new_shared = dict(shared_now) if shared_now else None
        for name in order:
            own_shared = shared_now is not None and first[name] > t
            inputs = []
            for src, same in plan.reads[name]:
                if src == EXTERNAL:
                    x, x_shared = frame, False
                elif src in feedback[name]:
                    x = zeros(output_specs[src], own_shared, frame)
                    x_shared = False
                else:
                    pool = new_outs if same else outs
                    flags = new_shared if same else shared_now
                    x = pool[src]
                    x_shared = flags is not None and flags[src]
                if x_shared and not own_shared:
                    x = _broadcast(x, batch)
                inputs.append(x)
            st = states[name]
            if off:
                st = [zeros(s, own_shared, frame) for s in state_specs[name]]
            elif (shared_now is not None and shared_now[name]
                    and not own_shared):
                st = [_broadcast(s, batch) for s in st]
            out, st = nodes[name](inputs, st, training=training)
            new_outs[name], new_states[name] = out, [] if off else st
            if new_shared is not None:
                new_shared[name] = own_shared
        return new_outs, new_states, new_shared

    def warmup_step(t, outs, states, shared):
        if not remat:
            return step(t, outs, states, shared, frames)
        structure = (outs, states)

        def flat_step(images, *flat):
            o, s = tree.pack_sequence_as(structure, flat)
            o, s, _ = step(t, o, s, shared, frames.with_images(images))
            return tuple(tree.flatten((o, s)))

        flat = time_loop.remat_call(flat_step, frames.images,
                                    *tree.flatten(structure))
        o, s = tree.pack_sequence_as(structure, list(flat))
        return o, s, {n: first[n] > t for n in order}

    collected = {n: [] for n in collect}
    for t in range(warmup):
        outs, states, shared = warmup_step(t, outs, states, shared)
        for n in collect:
            y = outs[n]
            collected[n].append(_broadcast(y, batch) if shared[n] else y)

    result = {n: ops.stack(collected[n], axis=1) if collected[n] else None
              for n in collect}
    if warmup < times:
        if any(shared.values()):
            outs = {n: _broadcast(v, batch) if shared[n] else v
                    for n, v in outs.items()}
            states = {n: [_broadcast(s, batch) for s in v] if shared[n]
                      else v for n, v in states.items()}
        carry = (tuple(outs[n] for n in order),
                 tuple(tuple(states[n]) for n in order))

        def body(t, carry, images):
            o, s = carry
            o = dict(zip(order, o))
            s = {n: list(v) for n, v in zip(order, s)}
            o, s, _ = step(t, o, s, None, frames.with_images(images))
            new_carry = (tuple(o[n] for n in order),
                         tuple(tuple(s[n]) for n in order))
            return new_carry, tuple(o[n] for n in collect)

        specs = [((None,) + tuple(output_specs[n]), dtype) for n in collect]
        _, ys = time_loop.loop(body, carry, warmup, times, specs,
                               remat=remat, constants=(frames.images,),
                               symbolic=symbolic)
        for n, y in zip(collect, ys):
            y = ops.moveaxis(y, 0, 1)
            result[n] = y if result[n] is None else ops.concatenate(
                [result[n], y], axis=1)
    return result

