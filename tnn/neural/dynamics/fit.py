"""Direct fit of dynamics (seed 002): train a ConvRNN's recurrence on neurons.

Nayebi, Kubilius et al., "Convolutional recurrent neural network models of
dynamics in higher visual cortex": the feed-forward weights stay fixed; the
recurrent and feedback parameters (`neural_trainable.dynamics_variables`),
plus one linear readout per area shared by all time bins, are trained by
backpropagation through time to minimise the L2 error on the binned
responses of the training stimuli.

Readouts: per area, a linear map of the area's node output at the step of
each bin, after the node's `NodeReducer` (a fixed linear reduction; the
identity for nodes of at most `dims` units), the same weights for every
bin. Targets are z-scored per neuron (mean and std over the training
stimuli and bins) so every neuron weighs the same. The loss is

    sum over areas of  mean_{n,b,k} (y - x W - c)^2
                       + alpha / (N_train * B * K) * ||W||^2,

i.e. ridge regression of the responses on the features, with alpha chosen
by cross-validation over stimuli on the initial model
(`neural_readouts.fit_shared_readout`), where the readouts start.

Optimisation (`readout=`):

- "ridge" (default): block-coordinate descent on that loss. Each epoch
  takes Adam steps (global-norm clipping, minibatches of stimuli) on the
  dynamics with the readouts fixed, then solves the readouts exactly
  (ridge, same alpha) for the new dynamics. On small data sets this is
  much steadier than moving both by gradient: a readout that chases each
  minibatch disturbs the gradient the dynamics see.
- "gradient": Adam on dynamics and readouts jointly, the readouts at
  `readout_lr_scale` times the learning rate (the paper's joint training).

The epoch with the lowest error on a validation subset of the training
stimuli is kept (epoch 0 = the initial model). The model is copied with a
symbolic time loop for training (same weights and results; its gradient
graph traces much faster than a Python-unrolled one).
"""

import keras
import numpy as np
import tensorflow as tf

from tnn.graphs.tnn_graph import TNNGraph
from tnn.neural.dynamics import readouts as neural_readouts
from tnn.neural.features import make_reducers, preprocess_stimuli
from tnn.neural.dynamics.trainable import dynamics_variables

READOUT_MODES = ("ridge", "gradient")


def training_copy(model):
    """The same model (same weights) with a symbolic time loop."""
    config = dict(model.get_config(), time_loop="symbolic")
    copy = TNNGraph.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _sparse_tensor(matrix):
    if matrix is None:
        return None
    coo = matrix.tocoo()
    indices = np.stack([coo.row, coo.col], axis=1).astype(np.int64)
    return tf.sparse.reorder(tf.SparseTensor(
        indices, coo.data.astype(np.float32), coo.shape))


def _check_areas(model, area_nodes):
    if not isinstance(area_nodes, dict) or not area_nodes:
        raise ValueError("area_nodes must be a non-empty dict area -> node.")
    for area, node in area_nodes.items():
        if node not in model.graph_nodes:
            raise ValueError(f"area {area!r}: model {model.name!r} has no "
                             f"node {node!r}; nodes are "
                             f"{model.spec.node_names}.")


class DynamicsFit:
    """Trains a model's dynamics and shared readouts on binned responses.

    Args:
        model: a TNNGraph (copied; the original is left untouched).
        area_nodes: dict area -> node read out for that area.
        steps: `[B]` model step of each bin (`neural_features.check_bins`).
        dims, seed: readout input reduction of large nodes
            (`neural_features.NodeReducer`).
        learning_rate: Adam learning rate of the dynamics.
        readout: "ridge" or "gradient" (module docs).
        readout_lr_scale: readout learning rate / learning_rate
            ("gradient" mode).
        clipnorm: global gradient-norm clip.

    After `fit`: `model` holds the trained copy, `readouts` the per-area
    (weights, bias) variables (on z-scored responses; `norms` holds each
    area's per-neuron mean and std), `history` the per-epoch losses and
    `split` the training / validation stimulus indices.
    """

    def __init__(self, model, area_nodes, steps, dims=1024, seed=0,
                 learning_rate=1e-3, readout="ridge", readout_lr_scale=0.1,
                 clipnorm=1.0):
        _check_areas(model, area_nodes)
        if not learning_rate > 0 or not clipnorm > 0 or \
                not readout_lr_scale > 0:
            raise ValueError(
                f"learning_rate, readout_lr_scale and clipnorm must be > 0, "
                f"got {learning_rate!r}, {readout_lr_scale!r} and "
                f"{clipnorm!r}.")
        if readout not in READOUT_MODES:
            raise ValueError(f"readout must be one of {READOUT_MODES}, got "
                             f"{readout!r}.")
        steps = np.asarray(steps)
        if steps.ndim != 1 or steps.dtype.kind not in "iu" or \
                steps.min() < 0 or steps.max() >= model.times:
            raise ValueError(
                f"steps must be model steps in [0, {model.times}) (one per "
                f"bin, see neural_features.check_bins), got "
                f"{steps.tolist()}.")
        self.readout = readout
        self.model = training_copy(model)
        self.area_nodes = dict(area_nodes)
        self.steps = steps.astype(np.int32)
        self.nodes = sorted(set(self.area_nodes.values()))
        self.reducers = make_reducers(self.model, self.nodes, "projection",
                                      dims, seed)
        self.dynamics = dynamics_variables(self.model)
        self._matrices = {n: _sparse_tensor(r.matrix)
                          for n, r in self.reducers.items()}
        self.learning_rate, self.clipnorm, self.seed = (
            float(learning_rate), float(clipnorm), int(seed))
        self.readout_lr_scale = float(readout_lr_scale)
        self.readouts, self.norms, self.penalties = {}, {}, {}
        self.alphas = {}
        self.history, self.split = [], None
        self._features_fn = tf.function(self._node_features,
                                        reduce_retracing=True)

    # --- forward ------------------------------------------------------------

    def _node_features(self, images, training=False):
        outputs = self.model.unroll(images, nodes=self.nodes,
                                    training=training)
        out = {}
        for node in self.nodes:
            x = tf.gather(outputs[node], self.steps, axis=1)
            batch = tf.shape(x)[0]
            x = tf.reshape(x, (-1, self.reducers[node].units))
            if self._matrices[node] is not None:
                x = tf.sparse.sparse_dense_matmul(x, self._matrices[node])
            out[node] = tf.reshape(x, (batch, len(self.steps), -1))
        return out

    def _predict_z(self, images, training=False):
        feats = self._node_features(images, training)
        return {a: tf.einsum("nbd,dk->nbk", feats[n], self.readouts[a][0])
                + self.readouts[a][1] for a, n in self.area_nodes.items()}

    def features(self, stimuli, batch_size=32):
        """Reduced features `{node: [N, B, D]}` at the bins' steps."""
        parts = {n: [] for n in self.nodes}
        for start in range(0, len(stimuli), batch_size):
            images = preprocess_stimuli(stimuli[start:start + batch_size],
                                        self.model.graph_input_shape)
            for n, v in self._features_fn(tf.constant(images)).items():
                parts[n].append(v.numpy())
        return {n: np.concatenate(v) for n, v in parts.items()}

    def predict(self, stimuli, batch_size=32):
        """Predicted responses `{area: [N, B, K]}` in recorded units."""
        if not self.readouts:
            raise ValueError("DynamicsFit.predict needs readouts: call fit "
                             "first.")
        feats = self.features(stimuli, batch_size)
        out = {}
        for area, node in self.area_nodes.items():
            w, b = (v.numpy() for v in self.readouts[area])
            mean, std = self.norms[area]
            out[area] = (feats[node] @ w + b) * std + mean
        return out

    # --- training -----------------------------------------------------------

    def _loss(self, preds, targets, penalty=True):
        total = 0.0
        for area in self.area_nodes:
            total += tf.reduce_mean(tf.square(preds[area] - targets[area]))
            if penalty:
                total += self.penalties[area] * tf.reduce_sum(
                    tf.square(self.readouts[area][0]))
        return total

    def _init_readouts(self, stimuli, targets):
        feats = self.features(stimuli)
        for index, (area, node) in enumerate(self.area_nodes.items()):
            fit = neural_readouts.fit_shared_readout(
                feats[node], targets[area], seed=self.seed)
            self.readouts[area] = (
                keras.Variable(fit["weights"].astype(np.float32),
                               name=f"readout_{index}"),
                keras.Variable(fit["bias"].astype(np.float32),
                               name=f"readout_bias_{index}"))
            self.penalties[area] = fit["alpha"] / targets[area].size
            self.alphas[area] = fit["alpha"]

    def _solve_readouts(self, stimuli, targets):
        """Ridge readouts for the current dynamics (penalties kept)."""
        feats = self.features(stimuli)
        for area, node in self.area_nodes.items():
            fit = neural_readouts.ridge_readout(feats[node], targets[area],
                                                self.alphas[area])
            self.readouts[area][0].assign(fit["weights"].astype(np.float32))
            self.readouts[area][1].assign(fit["bias"].astype(np.float32))

    def _variables(self):
        variables = [d.variable for d in self.dynamics]
        masks = [None if d.mask is None else tf.constant(d.mask)
                 for d in self.dynamics]
        for w, b in self.readouts.values():
            variables += [w, b]
            masks += [None, None]
        return variables, masks

    def fit(self, stimuli, responses, epochs=10, batch_size=32,
            validation_fraction=0.15, restore_best=True, verbose=1):
        """Trains dynamics and readouts (the preprocessed stimuli are held
        in memory).

        Args:
            stimuli: uint8 `[N, H, W, 3]` training stimuli.
            responses: dict area -> trial-averaged `[N, B, K]`.
            epochs: passes over the training stimuli.
            batch_size: stimuli per gradient step.
            validation_fraction: share of the stimuli kept aside to pick
                the best epoch (`split` holds the indices).
            restore_best: keep the epoch with the lowest validation error
                (else the last one).
            verbose: 1 prints one line per epoch.

        Returns:
            The per-epoch history (list of dicts).
        """
        n = len(stimuli)
        for value, name, low in ((epochs, "epochs", 0),
                                 (batch_size, "batch_size", 1)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < low:
                raise ValueError(f"{name} must be an int >= {low}, got "
                                 f"{value!r}.")
        if not 0 < validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in (0, 0.5), got "
                             f"{validation_fraction!r}.")
        missing = [a for a in self.area_nodes if a not in responses]
        if missing:
            raise ValueError(f"no responses for area {missing[0]!r}.")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(n)
        n_val = max(2, int(round(validation_fraction * n)))
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        self.split = {"train": train, "validation": val}
        targets = {}
        for area in self.area_nodes:
            y = np.asarray(responses[area], np.float64)
            if y.shape[:2] != (n, len(self.steps)):
                raise ValueError(
                    f"responses of {area!r} have shape {y.shape}; expected "
                    f"[{n}, {len(self.steps)}, K].")
            mean = y[train].mean(axis=(0, 1))
            std = y[train].std(axis=(0, 1)) + 1e-8
            self.norms[area] = (mean, std)
            targets[area] = ((y - mean) / std).astype(np.float32)
        self._init_readouts(stimuli[train],
                            {a: t[train] for a, t in targets.items()})
        images = preprocess_stimuli(stimuli, self.model.graph_input_shape)
        variables, masks = self._variables()
        n_dyn = len(self.dynamics)
        optimizers = (
            keras.optimizers.Adam(self.learning_rate,
                                  global_clipnorm=self.clipnorm),
            keras.optimizers.Adam(
                self.learning_rate * self.readout_lr_scale,
                global_clipnorm=self.clipnorm))
        optimizers[0].build(variables[:n_dyn])
        optimizers[1].build(variables[n_dyn:])

        @tf.function(reduce_retracing=True)
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = self._loss(self._predict_z(x, training=True), y)
            grads = [g if g is None or m is None else g * m
                     for g, m in zip(tape.gradient(loss, variables), masks)]
            parts = [(optimizers[0], slice(0, n_dyn))]
            if self.readout == "gradient":
                parts.append((optimizers[1], slice(n_dyn, None)))
            for opt, part in parts:
                opt.apply_gradients([
                    (g, v) for g, v in zip(grads[part], variables[part])
                    if g is not None])
            return loss

        @tf.function(reduce_retracing=True)
        def val_loss(x, y):
            return self._loss(self._predict_z(x), y, penalty=False)

        def evaluate(idx):
            total = 0.0
            for s in range(0, len(idx), batch_size):
                b = idx[s:s + batch_size]
                total += float(val_loss(images[b], {
                    a: t[b] for a, t in targets.items()})) * len(b)
            return total / len(idx)

        best = (evaluate(val), [v.numpy() for v in variables])
        self.history = [{"epoch": 0, "loss": None, "val_loss": best[0]}]
        for epoch in range(1, epochs + 1):
            perm = rng.permutation(train)
            losses = []
            for s in range(0, len(perm), batch_size):
                b = np.sort(perm[s:s + batch_size])
                losses.append(float(train_step(
                    images[b], {a: t[b] for a, t in targets.items()})))
            if self.readout == "ridge":
                self._solve_readouts(stimuli[train], {
                    a: t[train] for a, t in targets.items()})
            current = evaluate(val)
            self.history.append({"epoch": epoch,
                                 "loss": float(np.mean(losses)),
                                 "val_loss": current})
            if verbose:
                print(f"dynamics epoch {epoch}/{epochs}: loss "
                      f"{np.mean(losses):.4f}, validation {current:.4f}")
            if current < best[0] or not restore_best:
                best = (current, [v.numpy() for v in variables])
        for v, value in zip(variables, best[1]):
            v.assign(value)
        return self.history

    def describe(self):
        """JSON-ready summary of what was trained."""
        roles = {}
        for d in self.dynamics:
            roles[d.role] = roles.get(d.role, 0) + d.size()
        trained = sum(roles.values())
        return {"area_nodes": dict(self.area_nodes),
                "trained_parameters": roles,
                "readout_parameters": {
                    a: int(np.prod(w.shape) + np.prod(b.shape))
                    for a, (w, b) in self.readouts.items()},
                "frozen_parameters": int(self.model.count_params()
                                         - trained),
                "learning_rate": self.learning_rate,
                "readout": self.readout, "clipnorm": self.clipnorm,
                "history": self.history}
