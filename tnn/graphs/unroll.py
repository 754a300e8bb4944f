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
"""

import dataclasses

from keras import ops
from keras import tree

from tnn.graphs import time_loop

EXTERNAL = "__input__"


@dataclasses.dataclass(frozen=True)
class UnrollPlan:
    """Static schedule of one unroll mode.

    Attributes:
        mode: "biological" or "feedforward".
        order: node compute order within a step.
        reads: node -> tuple of (source, same_step) in harbor order; source
            is a node name or EXTERNAL.
        first_step: node -> first image-driven step.
    """

    mode: str
    order: tuple
    reads: dict
    first_step: dict

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
        return cls(mode=mode, order=order, reads=reads,
                   first_step=spec.first_image_steps(mode))

    @property
    def depth(self):
        return max(self.first_step.values())


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
        symbolic=True):
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

    Returns:
        dict node -> tensor `[B, T, ...]` for the nodes in `collect`.
    """
    batch = frames.batch
    first = plan.first_step
    warmup = min(plan.depth if share else 0, times)
    init_batch = 1 if share else batch
    outs = {n: ops.zeros((init_batch,) + tuple(output_specs[n]), dtype)
            for n in plan.order}
    states = {n: [ops.zeros((init_batch,) + tuple(s), dtype)
                  for s in state_specs[n]] for n in plan.order}
    # Which of the current tensors hold one shared example.
    shared = {n: share for n in plan.order}

    def step(t, outs, states, shared_now, step_frames):
        """One step; `shared_now` is None inside the symbolic loop."""
        frame = step_frames.at(t)
        new_outs, new_states = dict(outs), dict(states)
        new_shared = dict(shared_now) if shared_now else None
        for name in plan.order:
            own_shared = shared_now is not None and first[name] > t
            inputs = []
            for src, same in plan.reads[name]:
                if src == EXTERNAL:
                    x, x_shared = frame, False
                else:
                    pool = new_outs if same else outs
                    flags = new_shared if same else shared_now
                    x = pool[src]
                    x_shared = flags is not None and flags[src]
                if x_shared and not own_shared:
                    x = _broadcast(x, batch)
                inputs.append(x)
            st = states[name]
            if (shared_now is not None and shared_now[name]
                    and not own_shared):
                st = [_broadcast(s, batch) for s in st]
            out, st = nodes[name](inputs, st, training=training)
            new_outs[name], new_states[name] = out, st
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
        return o, s, {n: first[n] > t for n in plan.order}

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
        order = plan.order
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

