"""The Keras side of the direct fit of dynamics (`tnn.neural.dynamics.fit`).

- `ReducedFeatures`: a TNNGraph's node outputs at the bins' steps, through
  each node's fixed `NodeReducer` (`{node: [N, B, D]}`).
- `DynamicsModel`: those features times one linear readout per area
  (`{area: [N, B, K]}`, z-scored responses); its loss is the compiled loss
  (mean squared error per area, summed) plus, in training only, the ridge
  penalty `penalty * ||W||^2` of each area's readout weights. The graph's
  own losses (the weight decay of its layers) are left out.
- `DynamicsAdam`: Adam that multiplies the gradient of each masked
  variable by its mask (the trained input-channel slice of a
  "feedback_slice" kernel), clips each group of variables (dynamics,
  readouts) by its own global norm and scales the learning rate per
  variable (the readouts' `readout_lr_scale`).

Everything is `keras.ops`, so it runs under TensorFlow, JAX and PyTorch.
Reductions: a small `[units, D]` matrix (at most `DENSE_LIMIT` entries) is
a dense float32 matmul; a larger one stays sparse behind the backend
(`tf.SparseTensor` under TensorFlow, a BCOO matrix under JAX, both through
`keras.ops.matmul`), or is a gather and segment sum under other backends.
"""

import keras
import numpy as np
from keras import ops

DENSE_LIMIT = 1 << 24  # float32 entries (64 MiB) of a dense reduction


KINDS = ("dense", "sparse", "segments")


def _default_kind(matrix):
    if int(np.prod(matrix.shape)) <= DENSE_LIMIT:
        return "dense"
    if keras.backend.backend() in ("tensorflow", "jax"):
        return "sparse"
    return "segments"


class Reduction:
    """`x [M, units] -> x @ matrix [M, D]` for a scipy sparse `matrix`.

    Args:
        matrix: scipy sparse `[units, D]` (`NodeReducer.matrix`).
        kind: "dense", "sparse" (TensorFlow and JAX) or "segments"
            (gather and segment sum); default: module docs.
    """

    def __init__(self, matrix, kind=None):
        self.units, self.dims = (int(s) for s in matrix.shape)
        self.kind = _default_kind(matrix) if kind is None else kind
        backend = keras.backend.backend()
        if self.kind not in KINDS or (
                self.kind == "sparse"
                and backend not in ("tensorflow", "jax")):
            raise ValueError(f"reduction kind must be one of {KINDS} "
                             f"(\"sparse\" under TensorFlow or JAX), got "
                             f"{self.kind!r} under {backend}.")
        coo = matrix.tocoo()
        if self.kind == "dense":
            self.operand = ops.convert_to_tensor(
                np.asarray(matrix.toarray(), np.float32))
        elif self.kind == "sparse" and backend == "tensorflow":
            # pylint: disable-next=import-outside-toplevel
            import tensorflow as tf
            indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
            self.operand = tf.sparse.reorder(tf.SparseTensor(
                indices, coo.data.astype(np.float32), coo.shape))
        elif self.kind == "sparse":
            # pylint: disable-next=import-outside-toplevel
            from jax.experimental import sparse
            self.operand = sparse.BCOO.from_scipy_sparse(
                coo.astype(np.float32))
        else:
            self.operand = (
                ops.convert_to_tensor(coo.row.astype(np.int32)),
                ops.convert_to_tensor(coo.col.astype(np.int32)),
                ops.convert_to_tensor(coo.data.astype(np.float32)[:, None]))

    def __call__(self, x):
        if self.kind != "segments":
            return ops.matmul(x, self.operand)
        rows, cols, values = self.operand
        picked = ops.take(ops.transpose(x), rows, axis=0) * values
        return ops.transpose(ops.segment_sum(picked, cols, self.dims))


class ReducedFeatures(keras.Model):
    """`images -> {node: [N, B, D]}`: node outputs at the bins' steps,
    reduced.

    Args:
        graph: the TNNGraph (its weights are this model's weights).
        steps: `[B]` model step of each bin.
        reducers: `{node: NodeReducer}` of the nodes read out.
    """

    def __init__(self, graph, steps, reducers, **kwargs):
        super().__init__(**kwargs)
        self.graph = graph
        self.nodes = sorted(reducers)
        self.steps = np.asarray(steps, np.int32)
        self._shapes = {n: (r.units, r.dims) for n, r in reducers.items()}
        self._reductions = {n: None if r.matrix is None
                            else Reduction(r.matrix)
                            for n, r in reducers.items()}
        if keras.backend.backend() == "tensorflow" and any(
                r is not None and r.kind == "sparse"
                for r in self._reductions.values()):
            self.supports_jit = False  # XLA has no tf.sparse matmul
        self.built = True

    def call(self, images, training=False):
        outputs = self.graph.unroll(images, nodes=self.nodes,
                                    training=training)
        out = {}
        for node in self.nodes:
            units, dims = self._shapes[node]
            x = ops.reshape(ops.take(outputs[node], self.steps, axis=1),
                            (-1, units))
            if self._reductions[node] is not None:
                x = self._reductions[node](x)
            out[node] = ops.reshape(x, (-1, len(self.steps), dims))
        return out


class DynamicsModel(keras.Model):
    """`images -> {area: [N, B, K]}` z-scored predictions of every area.

    Args:
        features: a `ReducedFeatures`.
        area_nodes: dict area -> node read out for that area.
        readouts: dict area -> (weights [D, K], bias [K]) initial values.
        penalties: dict area -> ridge penalty on the area's weights
            (alpha / (N * B * K), see `fit` module docs).
        train_readouts: whether the readouts are trainable variables.
    """

    def __init__(self, features, area_nodes, readouts, penalties,
                 train_readouts=False, **kwargs):
        super().__init__(**kwargs)
        self.feature_model = features
        self.area_nodes = dict(area_nodes)
        self.penalties = {a: float(penalties[a]) for a in self.area_nodes}
        self.readout_variables = {}
        for index, area in enumerate(self.area_nodes):
            weights, bias = (np.asarray(v, np.float32)
                             for v in readouts[area])
            pair = (self.add_weight(shape=weights.shape, initializer="zeros",
                                    trainable=train_readouts,
                                    name=f"readout_{index}"),
                    self.add_weight(shape=bias.shape, initializer="zeros",
                                    trainable=train_readouts,
                                    name=f"readout_bias_{index}"))
            pair[0].assign(weights)
            pair[1].assign(bias)
            self.readout_variables[area] = pair
        self.built = True

    def call(self, images, training=False):
        feats = self.feature_model(images, training=training)
        return {area: ops.matmul(feats[node], self.readout_variables[area][0])
                + self.readout_variables[area][1]
                for area, node in self.area_nodes.items()}

    @property
    def losses(self):
        """None: the graph's weight decay and `add_loss` terms are not part
        of the fit's loss (the compiled loss and the readout penalty)."""
        return []

    def penalty(self):
        """Sum over areas of penalty * ||W||^2."""
        return ops.sum(ops.stack([
            self.penalties[a] * ops.sum(ops.square(w))
            for a, (w, _) in self.readout_variables.items()]))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
        """The compiled loss, plus the ridge penalty when training."""
        loss = super().compute_loss(x, y, y_pred, sample_weight,
                                    training=training)
        return loss + self.penalty() if training else loss


def _clip_by_global_norm(grads, clipnorm):
    """`keras.optimizers`' global-norm clip over the non-None `grads`."""
    present = [g for g in grads if g is not None]
    if not present:
        return grads
    norm = ops.sqrt(ops.sum(ops.stack([ops.sum(ops.square(g))
                                       for g in present])))
    scale = clipnorm * ops.minimum(1.0 / norm, 1.0 / clipnorm)
    scale = scale + (norm - norm)
    return [None if g is None else g * scale for g in grads]


class DynamicsAdam(keras.optimizers.Adam):
    """Adam with gradient masks, per-group clipping and lr scales.

    Args:
        learning_rate: the base learning rate.
        groups: list of `(variables, clipnorm, lr_scale)`: each group's
            gradients are clipped to global norm `clipnorm` together (as
            one `Adam(global_clipnorm=clipnorm)` would) and its learning
            rate is `learning_rate * lr_scale`.
        masks: list of `(variable, mask)`: the variable's gradient is
            multiplied by `mask` (same shape) before clipping, so where the
            mask is 0 the variable never changes.
        **kwargs: `keras.optimizers.Adam` arguments (no clipping ones).
    """

    def __init__(self, learning_rate, groups, masks=(), **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self._group_of, self._mask_of = {}, {}
        self._groups = []
        for index, (variables, clipnorm, lr_scale) in enumerate(groups):
            self._groups.append((float(clipnorm), float(lr_scale)))
            for v in variables:
                self._group_of[id(v)] = index
        for v, mask in masks:
            self._mask_of[id(v)] = np.asarray(mask, np.float32)
        self._slots = []

    def build(self, variables):
        super().build(variables)
        slots = [None] * len(variables)
        for v in variables:
            if id(v) not in self._group_of:
                raise ValueError(f"DynamicsAdam: variable {v.path!r} is in "
                                 "no group.")
            slots[self._get_variable_index(v)] = (
                self._group_of[id(v)], self._mask_of.get(id(v)))
        self._slots = slots

    def apply(self, grads, trainable_variables=None):
        variables = (self._trainable_variables if trainable_variables is None
                     else list(trainable_variables))
        if not self.built:
            with keras.name_scope(self.name):
                self.build(variables)
            self.built = True
        slots = [self._slots[self._get_variable_index(v)] for v in variables]
        grads = [g if g is None or s[1] is None else ops.multiply(g, s[1])
                 for g, s in zip(grads, slots)]
        for index, (clipnorm, _) in enumerate(self._groups):
            members = [i for i, s in enumerate(slots) if s[0] == index]
            clipped = _clip_by_global_norm([grads[i] for i in members],
                                           clipnorm)
            for i, g in zip(members, clipped):
                grads[i] = g
        return super().apply(grads, trainable_variables)

    def update_step(self, gradient, variable, learning_rate):
        group = self._slots[self._get_variable_index(variable)][0]
        scale = self._groups[group][1]
        if scale != 1.0:
            learning_rate = ops.cast(learning_rate, variable.dtype) * scale
        super().update_step(gradient, variable, learning_rate)
