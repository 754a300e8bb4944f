"""Batches and the epoch bookkeeping of the direct fit of dynamics.

- `EpochBatches`: the training batches of `keras.Model.fit`, in a fixed
  order per epoch (a permutation of the training stimuli, each batch
  sorted), drawn up front so a resumed run sees the same batches.
- `DynamicsTracker`: the first callback of the fit. Before training it
  scores the initial model on the validation stimuli (epoch 0); after each
  epoch it solves the readouts exactly ("ridge" mode), scores the
  validation stimuli (`val_loss` in the epoch logs, for the callbacks that
  follow: progress bar, TensorBoard, checkpoints), records the history and
  keeps the weights of the best epoch, restored when training ends.
"""

import json
import math
import os

import keras
import numpy as np


class EpochBatches(keras.utils.PyDataset):
    """Training batches `(images, {area: targets})`, one order per epoch.

    Args:
        images: float32 `[N, ...]` preprocessed stimuli (all of them).
        targets: dict area -> `[N, B, K]` z-scored responses.
        orders: per epoch, the training stimulus indices in batch order.
        batch_size: stimuli per batch (the last one may be smaller).
    """

    def __init__(self, images, targets, orders, batch_size):
        super().__init__()
        self.images, self.targets = images, targets
        self.orders = [np.asarray(o) for o in orders]
        self.batch_size = int(batch_size)
        self.epoch = 0

    def __len__(self):
        return math.ceil(len(self.orders[0]) / self.batch_size)

    def indices(self, batch):
        """Sorted stimulus indices of batch `batch` of the current epoch."""
        order = self.orders[min(self.epoch, len(self.orders) - 1)]
        start = batch * self.batch_size
        return np.sort(order[start:start + self.batch_size])

    def __getitem__(self, batch):
        index = self.indices(batch)
        return self.images[index], {a: t[index]
                                    for a, t in self.targets.items()}


class DynamicsTracker(keras.callbacks.Callback):
    """Epoch 0, exact readouts, validation, history and the best epoch.

    Args:
        batches: the `EpochBatches` being trained on (its epoch is set
            here, before each epoch's batches are drawn).
        validation: `(images, {area: targets}, batch_size)` of the
            validation stimuli.
        variables: the variables trained (dynamics and readouts), saved
            for the best epoch.
        solve_readouts: callable run after each epoch before validation
            (the "ridge" mode's exact readouts), or None.
        restore_best: restore the epoch with the lowest validation loss
            (epoch 0 included) when training ends; else keep the last.
        state_dir: folder for the tracker's own state (history, best
            weights), kept so that a run resumed by `BackupAndRestore`
            continues its history; removed when training ends. None: no
            state is written.
        verbose: 1 prints the initial model's validation loss.
    """

    def __init__(self, batches, validation, variables, solve_readouts=None,
                 restore_best=True, state_dir=None, verbose=0):
        super().__init__()
        self.batches, self.validation = batches, validation
        self.variables = list(variables)
        self.solve_readouts, self.restore_best = solve_readouts, restore_best
        self.state_dir, self.verbose = state_dir, verbose
        self.history, self.best = [], None

    def _evaluate(self):
        images, targets, batch_size = self.validation
        logs = self.model.evaluate(images, targets, batch_size=batch_size,
                                   verbose=0, return_dict=True)
        return {f"val_{k}": float(v) for k, v in logs.items()}

    def _snapshot(self, val_loss, epoch):
        self.best = {"val_loss": val_loss, "epoch": epoch,
                     "values": [np.array(v.numpy()) for v in self.variables]}

    def _paths(self):
        return (os.path.join(self.state_dir, "dynamics_tracker.json"),
                os.path.join(self.state_dir, "dynamics_best.npz"))

    def _save(self):
        if self.state_dir is None:
            return
        os.makedirs(self.state_dir, exist_ok=True)
        state, weights = self._paths()
        np.savez(weights + ".tmp.npz", *self.best["values"])
        os.replace(weights + ".tmp.npz", weights)
        with open(state + ".tmp", "w") as f:
            json.dump({"history": self.history,
                       "best": {k: self.best[k]
                                for k in ("val_loss", "epoch")}}, f)
        os.replace(state + ".tmp", state)

    def _load(self):
        state, weights = self._paths()
        if not (os.path.exists(state) and os.path.exists(weights)):
            return False
        with open(state) as f:
            saved = json.load(f)
        with np.load(weights) as data:
            values = [data[f"arr_{i}"] for i in range(len(self.variables))]
        self.history = saved["history"]
        self.best = dict(saved["best"], values=values)
        return True

    def on_train_begin(self, logs=None):
        if self.state_dir is not None and self._load():
            return
        val_loss = self._evaluate()["val_loss"]
        self.history = [{"epoch": 0, "loss": None, "val_loss": val_loss}]
        self._snapshot(val_loss, 0)
        if self.verbose:
            print(f"dynamics epoch 0 (initial model): validation "
                  f"{val_loss:.4f}")

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.epoch = epoch
        # a resumed run repeats the epochs after its last backup
        self.history = [h for h in self.history if h["epoch"] <= epoch]

    def on_epoch_end(self, epoch, logs=None):
        _ = self.model  # under JAX, puts the trained state in the variables
        if self.solve_readouts is not None:
            self.solve_readouts()
        val_logs = self._evaluate()
        if logs is not None:
            logs.update(val_logs)
        val_loss = val_logs["val_loss"]
        self.history.append({
            "epoch": epoch + 1,
            "loss": None if logs is None or "loss" not in logs
            else float(logs["loss"]),
            "val_loss": val_loss})
        if val_loss < self.best["val_loss"] or not self.restore_best:
            self._snapshot(val_loss, epoch + 1)
        self._save()

    def on_train_end(self, logs=None):
        if self.best is not None:
            for v, value in zip(self.variables, self.best["values"]):
                v.assign(value)
        if self.state_dir is not None:
            for path in self._paths():
                if os.path.exists(path):
                    os.remove(path)
