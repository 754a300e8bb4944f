"""Direct fit of dynamics (seed 002): train a ConvRNN's recurrence on neurons.

Nayebi, Kubilius et al., "Convolutional recurrent neural network models of
dynamics in higher visual cortex": the feed-forward weights stay fixed; the
recurrent and feedback parameters (`trainable.dynamics_variables`),
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
(`readouts.fit_shared_readout`), where the readouts start.

Optimisation (`readout=`):

- "ridge" (default): block-coordinate descent on that loss. Each epoch
  takes Adam steps (global-norm clipping, minibatches of stimuli) on the
  dynamics with the readouts fixed, then solves the readouts exactly
  (ridge, same alpha) for the new dynamics. On small data sets this is
  much steadier than moving both by gradient: a readout that chases each
  minibatch disturbs the gradient the dynamics see.
- "gradient": Adam on dynamics and readouts jointly, the readouts at
  `readout_lr_scale` times the learning rate (the paper's joint training).

Training runs through `keras.Model.fit` on a `DynamicsModel`
(`tnn.neural.dynamics.model`): the batches are `EpochBatches`, the masks,
the per-group clipping and the readouts' learning rate live in the
`DynamicsAdam` optimizer, and `DynamicsTracker`
(`tnn.neural.dynamics.callbacks`), the first callback, solves the "ridge"
readouts after each epoch, scores the validation stimuli (`val_loss`) and
keeps the epoch with the lowest validation error (epoch 0 = the initial
model). User callbacks follow it and see `val_loss`; with `log_dir` the fit
also writes TensorBoard logs, weight checkpoints and a `BackupAndRestore`
backup (a rerun resumes after the last finished epoch). The model is
copied with a symbolic time loop for training (same weights and results;
its gradient graph traces much faster than a Python-unrolled one).

    fit = DynamicsFit(model, {"V4": "conv3", "IT": "conv5"}, steps)
    fit.fit(stimuli, responses, epochs=20, log_dir="runs/dynamics",
            callbacks=[keras.callbacks.EarlyStopping(patience=5)])
    predicted = fit.predict(test_stimuli)  # {area: [N, B, K]}

The graph's own losses (its layers' weight decay) are not part of the
loss. History: "val_loss" is the mean squared error per area (no penalty),
averaged over the validation stimuli; "loss" is Keras's epoch loss, the
training loss (penalty included) averaged over the training stimuli, i.e.
batches weighted by their size (before the move to `Model.fit` it was the
plain mean over batches; both agree when `batch_size` divides the number
of training stimuli).
"""

import os

import keras
import numpy as np

from tnn.graphs.tnn_graph import TNNGraph
from tnn.neural.dynamics import readouts as neural_readouts
from tnn.neural.dynamics.callbacks import DynamicsTracker, EpochBatches
from tnn.neural.dynamics.model import (DynamicsAdam, DynamicsModel,
                                       ReducedFeatures)
from tnn.neural.dynamics.trainable import dynamics_variables
from tnn.neural.features import (make_reducers, plain_progress,
                                 preprocess_stimuli)

READOUT_MODES = ("ridge", "gradient")


def training_copy(model):
    """The same model (same weights) with a symbolic time loop."""
    config = dict(model.get_config(), time_loop="symbolic")
    copy = TNNGraph.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def _check_areas(model, area_nodes):
    if not isinstance(area_nodes, dict) or not area_nodes:
        raise ValueError("area_nodes must be a non-empty dict area -> node.")
    for area, node in area_nodes.items():
        if node not in model.graph_nodes:
            raise ValueError(f"area {area!r}: model {model.name!r} has no "
                             f"node {node!r}; nodes are "
                             f"{model.spec.node_names}.")


def log_callbacks(log_dir):
    """TensorBoard, checkpoints and backup of a fit under `log_dir`.

    Layout (as `training/train.py`'s): `logs/` TensorBoard (train/ and
    validation/ scalars) and history.csv; `checkpoints/last.weights.h5`
    (every epoch) and `best.weights.h5` (lowest `val_loss`), weights of the
    `DynamicsModel`; `backup/` the `BackupAndRestore` state, removed when
    the fit completes.

    Returns:
        (callbacks, backup folder).
    """
    logs = os.path.join(log_dir, "logs")
    checkpoints = os.path.join(log_dir, "checkpoints")
    backup = os.path.join(log_dir, "backup")
    os.makedirs(logs, exist_ok=True)
    os.makedirs(checkpoints, exist_ok=True)
    return [keras.callbacks.ModelCheckpoint(
                os.path.join(checkpoints, "last.weights.h5"),
                save_weights_only=True),
            keras.callbacks.ModelCheckpoint(
                os.path.join(checkpoints, "best.weights.h5"),
                monitor="val_loss", save_best_only=True,
                save_weights_only=True),
            keras.callbacks.CSVLogger(os.path.join(logs, "history.csv"),
                                      append=True),
            keras.callbacks.TensorBoard(logs, write_graph=False),
            keras.callbacks.BackupAndRestore(backup)], backup


class DynamicsFit:
    """Trains a model's dynamics and shared readouts on binned responses.

    Args:
        model: a TNNGraph (copied; the original is left untouched).
        area_nodes: dict area -> node read out for that area.
        steps: `[B]` model step of each bin (`features.check_bins`).
        dims, seed: readout input reduction of large nodes
            (`features.NodeReducer`); `seed` also seeds the validation
            split, the batch order and the readouts' penalty search.
        learning_rate: Adam learning rate of the dynamics.
        readout: "ridge" or "gradient" (module docs).
        readout_lr_scale: readout learning rate / learning_rate
            ("gradient" mode).
        clipnorm: global gradient-norm clip (of the dynamics, and
            separately of the readouts).
        jit_compile: `keras.Model.compile`'s jit_compile.

    Attributes:
        model: the trained copy (a TNNGraph; after `fit`, its best epoch).
        readouts: dict area -> (weights, bias) variables, on z-scored
            responses; `norms`: dict area -> per-neuron (mean, std).
        history: list of per-epoch dicts "epoch", "loss", "val_loss"
            (module docs), epoch 0 = the initial model.
        split: dict "train" / "validation" -> stimulus indices.
        keras_model: the `DynamicsModel` trained (after `fit`).
    """

    def __init__(self, model, area_nodes, steps, dims=1024, seed=0,
                 learning_rate=1e-3, readout="ridge", readout_lr_scale=0.1,
                 clipnorm=1.0, jit_compile="auto"):
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
                f"bin, see features.check_bins), got {steps.tolist()}.")
        self.readout = readout
        self.model = training_copy(model)
        self.area_nodes = dict(area_nodes)
        self.steps = steps.astype(np.int32)
        self.nodes = sorted(set(self.area_nodes.values()))
        self.reducers = make_reducers(self.model, self.nodes, "projection",
                                      dims, seed)
        self.dynamics = dynamics_variables(self.model)
        trained = {id(d.variable) for d in self.dynamics}
        for v in self.model.weights:
            v.trainable = id(v) in trained
        self.learning_rate, self.clipnorm, self.seed = (
            float(learning_rate), float(clipnorm), int(seed))
        self.readout_lr_scale = float(readout_lr_scale)
        self.jit_compile = jit_compile
        self.readouts, self.norms, self.penalties = {}, {}, {}
        self.alphas = {}
        self.history, self.split, self.keras_model = [], None, None
        self._features = ReducedFeatures(self.model, self.steps,
                                         self.reducers)

    # --- forward ------------------------------------------------------------

    def _image_features(self, images, batch_size=32):
        parts = {n: [] for n in self.nodes}
        for start in range(0, len(images), batch_size):
            out = self._features.predict_on_batch(
                images[start:start + batch_size])
            for n in self.nodes:
                parts[n].append(np.asarray(out[n]))
        return {n: np.concatenate(v) for n, v in parts.items()}

    def features(self, stimuli, batch_size=32):
        """Reduced features `{node: [N, B, D]}` at the bins' steps."""
        return self._image_features(preprocess_stimuli(
            stimuli, self.model.graph_input_shape), batch_size)

    def predict(self, stimuli, batch_size=32):
        """Predicted responses `{area: [N, B, K]}` in recorded units."""
        if not self.readouts:
            raise ValueError("DynamicsFit.predict needs readouts: call fit "
                             "first.")
        feats = self.features(stimuli, batch_size)
        out = {}
        for area, node in self.area_nodes.items():
            w, b = (np.asarray(v.numpy()) for v in self.readouts[area])
            mean, std = self.norms[area]
            out[area] = (feats[node] @ w + b) * std + mean
        return out

    # --- training -----------------------------------------------------------

    def _init_readouts(self, images, targets):
        feats = self._image_features(images)
        initial = {}
        for area, node in self.area_nodes.items():
            fit = neural_readouts.fit_shared_readout(
                feats[node], targets[area], seed=self.seed)
            initial[area] = (fit["weights"], fit["bias"])
            self.penalties[area] = fit["alpha"] / targets[area].size
            self.alphas[area] = fit["alpha"]
        return initial

    def _solve_readouts(self, images, targets):
        """Ridge readouts for the current dynamics (penalties kept)."""
        feats = self._image_features(images)
        for area, node in self.area_nodes.items():
            fit = neural_readouts.ridge_readout(feats[node], targets[area],
                                                self.alphas[area])
            self.readouts[area][0].assign(fit["weights"].astype(np.float32))
            self.readouts[area][1].assign(fit["bias"].astype(np.float32))

    def _targets(self, responses, n, train):
        missing = [a for a in self.area_nodes if a not in responses]
        if missing:
            raise ValueError(f"no responses for area {missing[0]!r}.")
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
        return targets

    def _compile(self, initial):
        gradient = self.readout == "gradient"
        model = DynamicsModel(self._features, self.area_nodes, initial,
                              self.penalties, train_readouts=gradient)
        self.readouts = dict(model.readout_variables)
        readout_vars = [v for pair in self.readouts.values() for v in pair]
        groups = [([d.variable for d in self.dynamics], self.clipnorm, 1.0)]
        if gradient:
            groups.append((readout_vars, self.clipnorm,
                           self.readout_lr_scale))
        optimizer = DynamicsAdam(
            self.learning_rate, groups,
            masks=[(d.variable, d.mask) for d in self.dynamics
                   if d.mask is not None])
        model.compile(optimizer=optimizer,
                      loss={a: "mean_squared_error" for a in self.area_nodes},
                      jit_compile=self.jit_compile)
        self.keras_model = model
        return [d.variable for d in self.dynamics] + readout_vars

    def fit(self, stimuli, responses, epochs=10, batch_size=32,
            validation_fraction=0.15, restore_best=True, verbose=1,
            callbacks=None, log_dir=None):
        """Trains dynamics and readouts with `keras.Model.fit` (the
        preprocessed stimuli are held in memory).

        Args:
            stimuli: uint8 `[N, H, W, 3]` training stimuli.
            responses: dict area -> trial-averaged `[N, B, K]`.
            epochs: passes over the training stimuli.
            batch_size: stimuli per gradient step.
            validation_fraction: share of the stimuli kept aside to pick
                the best epoch (`split` holds the indices).
            restore_best: keep the epoch with the lowest validation error
                (else the last one).
            verbose: `keras.Model.fit`'s verbose (1: progress bar, 2: one
                line per epoch; the initial model's line too); 1 becomes 2
                when stdout is not a terminal (`plain_progress`).
            callbacks: extra `keras.callbacks.Callback`s; they run after
                the fit's own bookkeeping, so their epoch logs hold
                "val_loss".
            log_dir: folder for TensorBoard logs, checkpoints and a
                backup to resume from (`log_callbacks`), or None.

        Returns:
            The per-epoch history (list of dicts).
        """
        n = len(stimuli)
        verbose = plain_progress(verbose)
        for value, name, low in ((epochs, "epochs", 0),
                                 (batch_size, "batch_size", 1)):
            if isinstance(value, bool) or not isinstance(value, int) or \
                    value < low:
                raise ValueError(f"{name} must be an int >= {low}, got "
                                 f"{value!r}.")
        if not 0 < validation_fraction < 0.5:
            raise ValueError(f"validation_fraction must be in (0, 0.5), got "
                             f"{validation_fraction!r}.")
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(n)
        n_val = max(2, int(round(validation_fraction * n)))
        val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
        self.split = {"train": train, "validation": val}
        targets = self._targets(responses, n, train)
        images = preprocess_stimuli(stimuli, self.model.graph_input_shape)
        train_targets = {a: t[train] for a, t in targets.items()}
        variables = self._compile(self._init_readouts(images[train],
                                                      train_targets))
        batches = EpochBatches(images, targets,
                               [rng.permutation(train)
                                for _ in range(max(epochs, 1))], batch_size)
        extra, state_dir = [], None
        if log_dir is not None:
            extra, state_dir = log_callbacks(log_dir)
        tracker = DynamicsTracker(
            batches, (images[val], {a: t[val] for a, t in targets.items()},
                      batch_size), variables,
            solve_readouts=None if self.readout != "ridge" else (
                lambda: self._solve_readouts(images[train], train_targets)),
            restore_best=restore_best, state_dir=state_dir, verbose=verbose)
        self.keras_model.fit(batches, epochs=epochs, verbose=verbose,
                             callbacks=[tracker, *(callbacks or ()), *extra],
                             shuffle=False)
        self.history = tracker.history
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
