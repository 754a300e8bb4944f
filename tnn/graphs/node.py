"""One node: harbor → pre-memory → cell → post-memory (§1.2).

A node computes one time step; it knows nothing about time. Its weights are
shared across steps. The node's "residual" (the original's `return_input`
of the first pre-memory conv) is the pre-memory input: the harbor output, or
only its feed-forward part when the cell takes feedback separately. Cells
that declare `accepts_residual` receive it, as do `residual_add` layers.
When the pre-memory changes the spatial size (a strided conv, a pool), the
residual of a cell that declares `takes_resized_residual` is resized to the
cell input's H×W here (align-corners bilinear, as the original's
`residual_add`) and the cell is built with `residual_resized=True`, which
makes it project the residual (1×1) even when the channel counts agree.
"""

import copy

import keras

from tnn import cells as cells_lib
from tnn.graphs.harbor import Harbor
from tnn.graphs.layers import build_layer
from tnn.graphs.resize import resize_align_corners


def build_cell(cell_spec, name, **extra):
    """Instantiates a cell from `{"cell": <name or class>, **kwargs}`."""
    spec = copy.deepcopy(cell_spec)
    kind = spec.pop("cell")
    cls = cells_lib.get_cell_class(kind)
    spec.update(extra)
    return cls(name=name, **spec)


class Node(keras.layers.Layer):
    """A graph node as a Keras layer.

    Args:
        spec: the node's `NodeSpec`.
        input_names: harbor inputs in combination order ("__input__" for the
            external input).
        ff_index: index of the feed-forward input in `input_names`.
    """

    def __init__(self, spec, input_names, ff_index, **kwargs):
        super().__init__(name=spec.name, **kwargs)
        self.spec = spec
        self.input_names = list(input_names)
        self.cell_class = (cells_lib.get_cell_class(spec.cell["cell"])
                           if spec.cell is not None else None)
        split = bool(self.cell_class is not None
                     and self.cell_class.accepts_feedback)
        harbor_opts = dict(spec.harbor)
        self.harbor = Harbor(self.input_names, ff_index=ff_index,
                             split_feedback=split, node_name=spec.name,
                             name="harbor", **harbor_opts)
        self.pre_memory = [build_layer(s, f"pre_{i}")
                           for i, s in enumerate(spec.pre_memory)]
        self.post_memory = [build_layer(s, f"post_{i}")
                            for i, s in enumerate(spec.post_memory)]
        # Sublayers follow the node's dtype policy (e.g. mixed precision).
        for layer in [self.harbor] + self.pre_memory + self.post_memory:
            layer.dtype_policy = self.dtype_policy
        # The cell is made in build(), once the channel counts of its
        # residual and feedback inputs are known.
        self.cell = None
        self._cell_residual_size = None

    # --- shapes -------------------------------------------------------------

    def _harbor_shapes(self, input_shapes):
        out = self.harbor.compute_output_shape(input_shapes)
        if self.harbor.split_feedback:
            return out
        return out, None

    @staticmethod
    def _layer_shape(layer, shape, residual_shape):
        if getattr(layer, "uses_residual", False):
            return tuple(layer.compute_output_shape(shape, residual_shape))
        return tuple(layer.compute_output_shape(shape))

    def compute_output_shape(self, input_shapes):
        """Output shape for the given harbor input shapes (no building)."""
        x, _ = self._harbor_shapes(input_shapes)
        res = x = tuple(x)
        for layer in self.pre_memory:
            x = self._layer_shape(layer, x, res)
        if self.spec.cell is not None:
            # Before build, a weightless instance answers the question.
            cell = self.cell or build_cell(self.spec.cell, "cell")
            x = tuple(cell.compute_output_shape(x))
        for layer in self.post_memory:
            x = self._layer_shape(layer, x, res)
        return x

    def build(self, input_shapes):
        input_shapes = [tuple(s) for s in input_shapes]
        self.harbor.build(input_shapes)
        x, fb = self._harbor_shapes(input_shapes)
        res = x = tuple(x)
        x = self._build_stack(self.pre_memory, x, res)
        self.cell_input_shape = x
        if self.cell_class is not None:
            extra = {}
            if self.cell_class.accepts_residual:
                extra["residual_channels"] = int(res[-1])
                if (getattr(self.cell_class, "takes_resized_residual", False)
                        and len(res) == 4 and len(x) == 4
                        and tuple(res[1:3]) != tuple(x[1:3])):
                    extra["residual_resized"] = True
                    self._cell_residual_size = tuple(x[1:3])
            if self.cell_class.accepts_feedback:
                extra["feedback_channels"] = (int(fb[-1]) if fb is not None
                                              else None)
            self.cell = build_cell(self.spec.cell, "cell",
                                   dtype=self.dtype_policy, **extra)
            self.cell.build(x)
            x = tuple(self.cell.compute_output_shape(x))
        self._build_stack(self.post_memory, x, res)

    def _build_stack(self, layers, x, res):
        for layer in layers:
            if getattr(layer, "uses_residual", False):
                layer.build(x, res)
            else:
                layer.build(x)
            x = self._layer_shape(layer, x, res)
        return x

    def state_shapes(self):
        """Per-example shapes of the cell's states ([] without a cell)."""
        if self.cell is None:
            return []
        return [tuple(s) for s in self.cell.state_shapes(
            self.cell_input_shape)]

    # --- call ---------------------------------------------------------------

    @staticmethod
    def _apply(layers, x, res, training, trace=None):
        for layer in layers:
            if getattr(layer, "uses_residual", False):
                x = layer(x, res)
            else:
                x = layer(x, training=training)
            if trace is not None:
                trace.append(x)
        return x

    def call(self, inputs, states, training=None, return_intermediates=False):
        """One step: `(output, new_states)`.

        With `return_intermediates=True` also returns the list of every
        intermediate output: the harbor's (feed-forward part), each
        pre-memory layer's, the cell's and each post-memory layer's.
        """
        harbored = self.harbor(list(inputs))
        fb = None
        if self.harbor.split_feedback:
            harbored, fb = harbored
        res = harbored
        trace = [harbored] if return_intermediates else None
        x = self._apply(self.pre_memory, harbored, res, training, trace)
        new_states = []
        if self.cell is not None:
            extra = {}
            if self.cell.accepts_residual:
                extra["residual"] = res
                if self._cell_residual_size is not None:
                    extra["residual"] = resize_align_corners(
                        res, self._cell_residual_size)
            if self.cell.accepts_feedback:
                extra["feedback"] = fb
            x, new_states = self.cell(x, list(states), training=training,
                                      **extra)
            new_states = list(new_states)
            if trace is not None:
                trace.append(x)
        x = self._apply(self.post_memory, x, res, training, trace)
        if return_intermediates:
            return x, new_states, trace
        return x, new_states
