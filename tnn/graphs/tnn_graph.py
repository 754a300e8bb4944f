"""`TNNGraph`: a Keras model that unrolls a graph of nodes in time."""

import re
import warnings

import keras
from keras import ops

from tnn.api import tnn_export
from tnn.cells import get_cell_class
from tnn.graphs import precision
from tnn.graphs import unroll as unroll_lib
from tnn.graphs.fit_hooks import build_optimizer
from tnn.graphs.node import Node
from tnn.graphs.spec import GraphSpec, GraphSpecError, UNROLL_MODES


def _batch_dependent(layer):
    """True if, in training, the layer's output for one example depends on
    the rest of the batch (batch statistics) or on random noise."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return True
    if isinstance(layer, (keras.layers.Dropout, keras.layers.SpatialDropout2D,
                          keras.layers.GaussianDropout,
                          keras.layers.AlphaDropout)):
        return float(layer.rate) > 0.0    # the zoo's keep_prob-1 dropouts
    if isinstance(layer, keras.layers.GaussianNoise):
        return float(layer.stddev) > 0.0
    return bool(getattr(layer, "batch_dependent", False))


class GraphBuildError(ValueError):
    """A graph whose layers cannot be connected (shapes, channels)."""


def _one_line(err):
    return re.sub(r"\s+", " ", str(err)).strip()


@tnn_export
class TNNGraph(keras.Model):
    """A graph of ConvRNN nodes unrolled over time.

    Every node is `harbor → pre-memory → cell → post-memory`; edges are
    feed-forward, skip or feedback connections. Calling the model on images
    `[B, H, W, C]` presents them for `image_off` steps, then a blank frame of
    `blank_value` (after normalisation, as in the original), for `times`
    steps in all; a movie `[B, T, H, W, C]` is presented frame by frame.

    Example:

        model = TNNGraph(spec, input_shape=(64, 64, 3), times=8)
        logits = model(images)                       # [B, 8, K]
        feats = model.unroll(images, nodes=["conv3"])  # {"conv3": [B, 8, ...]}

    Args:
        spec: a `GraphSpec` or its dict form.
        input_shape: `(H, W, C)` of the images; overrides the input nodes'
            own `input_shape`.
        times: number of steps T. Default: the original's default, the
            number of nodes on the longest input → readout path, plus one.
        image_off: first step showing the blank instead of the image; None
            shows the image at every step (constant presentation).
        blank_value: the blank frame's value.
        unroll: "biological" (every edge costs one step, §2.1) or
            "feedforward" (one feed-forward sweep per step, feedback delayed
            by one step, §2.2).
        share_pre_stimulus: compute the input-independent steps before each
            node's first image-driven step once per batch (identical
            results, less work; see `tnn.graphs.unroll`).
        remat: recompute activations in the backward pass (gradient
            checkpointing over time): less memory, more compute.
        time_loop: "symbolic" runs the steps in the backend's loop
            (`tf.while_loop`, `lax.scan`): the traced graph and its trace /
            compile time do not grow with T. "python" unrolls the steps in
            Python: a graph that grows with T, but that CPU TensorFlow runs
            faster (independent nodes of neighbouring steps run
            concurrently, and the backward pass needs no loop
            accumulators; see benchmarks/RESULTS.md). "auto" (default):
            "python" for TensorFlow on a CPU-only machine up to 32 steps
            without `remat`, else "symbolic". Results are the same.
    """

    def __init__(self, spec, input_shape=None, times=None, image_off=None,
                 blank_value=0.5, unroll="biological",
                 share_pre_stimulus=True, remat=False, time_loop="auto",
                 **kwargs):
        super().__init__(**kwargs)
        self.spec = GraphSpec.from_dict(spec)
        if unroll not in UNROLL_MODES:
            raise ValueError(f"unroll must be one of {list(UNROLL_MODES)}, "
                             f"got {unroll!r}.")
        self.unroll_mode = unroll
        self.graph_input_shape = self._resolve_input_shape(input_shape)
        self.times = self._check_times(times, "times")
        if image_off is not None and (
                isinstance(image_off, bool) or not isinstance(image_off, int)
                or image_off < 1):
            raise ValueError(f"image_off must be a positive int or None "
                             f"(constant presentation), got {image_off!r}.")
        self.image_off = image_off
        self.blank_value = float(blank_value)
        self.share_pre_stimulus = bool(share_pre_stimulus)
        self.remat = bool(remat)
        unroll_lib.time_loop.resolve_mode(time_loop)  # validates
        self.time_loop = time_loop

        self.input_names = {}
        self.graph_nodes = {}
        for node_spec in self.spec.nodes:
            self.graph_nodes[node_spec.name] = self._make_node(node_spec)
        self.plan = unroll_lib.UnrollPlan.from_spec(
            self.spec, self.unroll_mode, self.input_names)
        self.build((None,) + self.graph_input_shape)
        self._warn_if_short(self.times)

    def build(self, input_shape):
        """Infers every node's shapes and creates all weights.

        Called from the constructor: a `TNNGraph` is built as soon as it
        exists (its input shape is part of its definition).
        """
        if tuple(input_shape[1:]) != self.graph_input_shape:
            raise ValueError(f"This TNNGraph is defined for inputs "
                             f"{self.graph_input_shape}, not "
                             f"{tuple(input_shape[1:])}.")
        self.output_shapes = self._infer_shapes()
        self._build_nodes()
        self.state_shapes = {n: node.state_shapes()
                             for n, node in self.graph_nodes.items()}

    # --- construction -------------------------------------------------------

    def _resolve_input_shape(self, input_shape):
        inputs = [self.spec.node(n) for n in self.spec.input_nodes]
        if input_shape is None:
            shapes = {tuple(n.input_shape) for n in inputs}
            if len(shapes) != 1:
                raise ValueError(f"Input nodes disagree on their input_shape "
                                 f"{sorted(shapes)}; pass input_shape.")
            return shapes.pop()
        shape = tuple(input_shape)
        if len(shape) != 3 or any(
                isinstance(s, bool) or not isinstance(s, int) or s < 1
                for s in shape):
            raise ValueError(f"input_shape must be (H, W, C) positive ints, "
                             f"got {input_shape!r}.")
        return shape

    def _check_times(self, times, what):
        if times is None:
            return self.spec.longest_path() + 2
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"{what} must be a positive int, got {times!r}.")
        return times

    def _make_node(self, node_spec):
        name = node_spec.name
        is_input = node_spec.input_shape is not None
        try:
            split = (node_spec.cell is not None and get_cell_class(
                node_spec.cell["cell"]).accepts_feedback)
            preds = self.spec.ordered_inputs(name, split_feedback=split)
            names = ([unroll_lib.EXTERNAL] if is_input else []) + preds
            ff = (unroll_lib.EXTERNAL if is_input
                  else self.spec.ff_input(name))
            self.input_names[name] = names
            return Node(node_spec, names, names.index(ff),
                        dtype=self.dtype_policy)
        except (ValueError, TypeError) as err:
            raise GraphBuildError(f"Node {name!r}: {_one_line(err)}") from None

    def _input_shapes(self, name, shapes, ext):
        names = self.input_names[name]
        node = self.graph_nodes[name]
        ff_name = names[node.harbor.ff_index]
        ff = ext if ff_name == unroll_lib.EXTERNAL else shapes.get(ff_name)
        if ff is None:
            return None
        result = []
        for src in names:
            s = ext if src == unroll_lib.EXTERNAL else shapes.get(src)
            result.append(s if s is not None else tuple(ff[:-1]) + (None,))
        return result

    def _infer_shapes(self):
        """Output shape of every node (iterating through feedback cycles)."""
        ext = (None,) + self.graph_input_shape
        order = self.spec.feedforward_order()
        shapes = {}
        for _ in range(len(order) + 1):
            changed = False
            for name in order:
                in_shapes = self._input_shapes(name, shapes, ext)
                if in_shapes is None:
                    continue
                try:
                    out = tuple(self.graph_nodes[name].compute_output_shape(
                        in_shapes))
                except (ValueError, TypeError) as err:
                    if any(s[-1] is None for s in in_shapes):
                        continue
                    raise GraphBuildError(
                        f"Node {name!r} with input shapes {in_shapes}: "
                        f"{_one_line(err)}") from None
                if shapes.get(name) != out:
                    shapes[name], changed = out, True
            if not changed:
                break
        for name in order:
            shape = shapes.get(name)
            if shape is None or any(d is None for d in shape[1:]):
                raise GraphBuildError(
                    f"Cannot infer the output shape of node {name!r} (got "
                    f"{shape}): its size depends on inputs whose size "
                    f"depends on it; give it a pre-memory conv with a fixed "
                    f"number of filters.")
            if any(d < 1 for d in shape[1:]):
                raise GraphBuildError(
                    f"Node {name!r} would output shape {shape}: the input "
                    f"{self.graph_input_shape} is too small for this graph.")
        return {n: tuple(s[1:]) for n, s in shapes.items()}

    def _build_nodes(self):
        ext = (None,) + self.graph_input_shape
        full = {n: (None,) + s for n, s in self.output_shapes.items()}
        for name in self.spec.feedforward_order():
            in_shapes = self._input_shapes(name, full, ext)
            try:
                self.graph_nodes[name].build(in_shapes)
            except (ValueError, TypeError) as err:
                raise GraphBuildError(
                    f"Node {name!r} with input shapes {in_shapes}: "
                    f"{_one_line(err)}") from None

    def _warn_if_short(self, times):
        # The longest-path rule is the biological unroll's (one step per
        # edge); the per-step feed-forward unroll sweeps every path within
        # each step, so its readout is image-driven from step 0.
        if self.unroll_mode != "biological":
            return
        longest = self.spec.longest_path()
        if times <= longest:
            first = self.first_image_step(self.spec.output)
            warnings.warn(
                f"times={times} is shorter than the longest input -> "
                f"readout path ({longest} edges, {longest + 1} nodes): the "
                f"readout {self.spec.output!r} first carries image-driven "
                f"signal at step {first}"
                + (" — never, within these steps." if first >= times else
                   f"; use times >= {longest + 1} for the full-depth "
                   f"response."), stacklevel=3)

    # --- public API ---------------------------------------------------------

    @property
    def output_node(self):
        return self.spec.output

    def first_image_step(self, node=None):
        """First step at which `node` (or every node) is image-driven.

        In the biological unroll node k of a chain (the input node being
        k = 1) first carries image-driven signal at step k − 1; a feedback
        edge from node j adds one step. Earlier outputs are the response to
        zero stand-ins (identical across examples, generally non-zero).
        Note: the original zoo returned layer `conv_l` features from step
        l, one step after this.
        """
        steps = self.plan.first_step
        return dict(steps) if node is None else steps[node]

    def call(self, inputs, training=None):
        out = self.unroll(inputs, nodes=[self.spec.output],
                          training=training)
        return out[self.spec.output]

    def unroll(self, inputs, nodes=None, times=None, training=False,
               recurrence="on"):
        """Runs the graph and returns chosen nodes' outputs at every step.

        Args:
            inputs: images `[B, H, W, C]` (presented per `image_off`) or a
                movie `[B, T, H, W, C]`.
            nodes: node names to return (default: all nodes).
            times: number of steps (default: the model's `times`; a movie
                sets it to its length).
            training: training mode for dropout / batch norm.
            recurrence: "on" (default), or "off" for the feed-forward
                control: the same network with a zero state at every step
                and zeros for its feedback inputs
                (`GraphSpec.feedback_sources`), feed-forward and skip
                inputs on the unroll mode's timing (`tnn.graphs.unroll`).

        Returns:
            dict node name -> tensor `[B, T, ...]`.
        """
        nodes = list(self.spec.node_names if nodes is None else nodes)
        self._check_nodes(nodes)
        unroll_lib.check_recurrence(recurrence)
        inputs = ops.convert_to_tensor(inputs)
        frames, steps = self._frames(inputs, times)
        if times is not None:
            self._warn_if_short(steps)
        batch_dependent = training and self._has_batch_dependent_layers()
        share = self.share_pre_stimulus and not batch_dependent
        with precision.cast_weights_once(self, training):
            return unroll_lib.run(
                self.graph_nodes, self.plan, frames, steps, nodes,
                self.output_shapes, self.state_shapes, training=training,
                share=share, remat=self.remat, dtype=self.compute_dtype,
                symbolic=unroll_lib.time_loop.resolve_mode(
                    self.time_loop, steps, self.remat) == "symbolic",
                recurrence=recurrence)

    def harbor_inputs(self, node):
        """Sources of a node's harbor inputs, in harbor order.

        Returns:
            list of node names; `None` stands for the external input
            (the images) of an input node.
        """
        self._check_nodes([node])
        return [None if s == unroll_lib.EXTERNAL else s
                for s in self.input_names[node]]

    def node_inputs(self, outputs, node, step, inputs, recurrence="on"):
        """A node's harbor inputs at one step of an unroll.

        The frame, its predecessors' outputs at `step` or `step - 1` (per
        the unroll mode; zeros before step 0) and, with recurrence "off",
        zeros for its feedback inputs: then the node's output at `step` is
        its call on these inputs with zero states.

        Args:
            outputs: `unroll(inputs, recurrence=recurrence)`'s dict node ->
                `[B, T, ...]`; must hold the node's predecessors.
            node: node name.
            step: Python int step.
            inputs: the images or movie given to `unroll`.
            recurrence: "on" or "off", as given to `unroll`.

        Returns:
            list of tensors `[B, ...]` in `harbor_inputs(node)` order.
        """
        self._check_nodes([node])
        unroll_lib.check_recurrence(recurrence)
        frames, _ = self._frames(ops.convert_to_tensor(inputs), None)
        return self.plan.node_inputs(node, frames, outputs, int(step),
                                     self.output_shapes, self.compute_dtype,
                                     recurrence)

    def _check_nodes(self, nodes):
        for n in nodes:
            if n not in self.graph_nodes:
                raise ValueError(f"Unknown node {n!r}; nodes are "
                                 f"{self.spec.node_names}.")

    def _frames(self, inputs, times):
        frames = unroll_lib.Frames.present(
            inputs, self.graph_input_shape, self.compute_dtype,
            self.image_off, self.blank_value, times)
        if frames.movie:
            return frames, frames.images.shape[1]
        steps = self.times if times is None else self._check_times(
            times, "times")
        return frames, steps

    def _has_batch_dependent_layers(self):
        return any(_batch_dependent(layer)
                   for node in self.graph_nodes.values()
                   for layer in node._flatten_layers(include_self=False))

    def make_train_function(self, force=False):
        build_optimizer(self)   # one trace instead of two (see there)
        return super().make_train_function(force)

    def get_config(self):
        config = super().get_config()
        config.update(
            spec=self.spec.to_dict(),
            input_shape=list(self.graph_input_shape),
            times=self.times,
            image_off=self.image_off,
            blank_value=self.blank_value,
            unroll=self.unroll_mode,
            share_pre_stimulus=self.share_pre_stimulus,
            remat=self.remat,
            time_loop=self.time_loop,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("input_shape") is not None:
            config["input_shape"] = tuple(config["input_shape"])
        return cls(**config)


__all__ = ["TNNGraph", "GraphBuildError", "GraphSpecError"]
