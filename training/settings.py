"""Settings that travel together, as small gin-configurable dataclasses.

Each is built where it is used (`train`, `fit_neural`) unless passed in,
so a gin binding reaches every instance; bind them as

    # training.train
    LossSettings.objective = "steps"        # objective, step_weighting,
    LossSettings.gamma = 0.9                #   gamma, loss_start
    ScheduleSettings.epochs = 4             # epochs, steps_per_epoch,
    ScheduleSettings.steps_per_epoch = 2    #   validation_steps
    DeviceSettings.strategy = "mirrored"    # strategy, tpu, mixed_precision

    # training.fit_neural
    FeatureSettings.dims = 1024             # batch_size, reduction, dims,
                                            #   seed, nodes_per_pass
    SweepSettings.n_splits = 10             # mapping, shared_across_bins,
                                            #   n_splits, train_size, seed,
                                            #   ceiling_splits, ...
    DynamicsSettings.epochs = 10            # epochs, batch_size,
                                            #   learning_rate, readout, ...

`RENAMED_BINDINGS` maps the bindings these replaced (`train.epochs`,
`fit_neural.n_splits`, ...) to the new ones; a gin file still using an old
name fails with a message naming the new one (`training.cli.parse_gin`).
Defaults are those of the old parameters.
"""

import dataclasses
from typing import Optional

import gin

from tnn.graphs.precision import PRECISIONS
from tnn.tasks.classifier import STEPS
from .data.pipeline import check_positive_int

MIXED_PRECISION = (None, "mixed_float16", "mixed_bfloat16")


def _settings(cls):
    """A frozen dataclass, gin-configurable under its class name."""
    return gin.configurable(dataclasses.dataclass(frozen=True)(cls))


def _check_count(value, name, optional=False):
    if not (optional and value is None):
        check_positive_int(value, name)


@_settings
class LossSettings:
    """The training objective (`TemporalClassifier.compile`).

    Attributes:
        objective: "steps" (cross-entropy at every step) or a decoder name
            (or a list of them).
        step_weighting, gamma, loss_start: the per-step loss weighting.
    """

    objective: object = STEPS
    step_weighting: str = "uniform"
    gamma: float = 0.9
    loss_start: Optional[int] = None


@_settings
class ScheduleSettings:
    """How long `train` runs.

    Attributes:
        epochs: training epochs.
        steps_per_epoch: batches per epoch (default: one pass over the
            training set; when set, the training set is repeated).
        validation_steps: evaluation batches per epoch (default: all).
    """

    epochs: int = 10
    steps_per_epoch: Optional[int] = None
    validation_steps: Optional[int] = None

    def __post_init__(self):
        _check_count(self.epochs, "epochs")
        _check_count(self.steps_per_epoch, "steps_per_epoch", True)
        _check_count(self.validation_steps, "validation_steps", True)


@_settings
class DeviceSettings:
    """Where and in which precision `train` runs.

    Attributes:
        strategy: "default", "mirrored", "multi_worker" or "tpu".
        tpu: TPU name/address for strategy "tpu".
        mixed_precision: None, "mixed_float16" or "mixed_bfloat16" (GPU /
            TPU; the logits, decoders and losses stay float32).
    """

    strategy: str = "default"
    tpu: Optional[str] = None
    mixed_precision: Optional[str] = None

    def __post_init__(self):
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be one of "
                             f"{MIXED_PRECISION}, got "
                             f"{self.mixed_precision!r}.")


@_settings
class FeatureSettings:
    """Feature extraction of `fit_neural` (`tnn.neural.features`).

    Attributes:
        batch_size: stimuli per forward pass.
        reduction: how node features are reduced ("projection", ...).
        dims: dimensions kept per node (also the dynamics fit's).
        seed: seed of the random projections.
        nodes_per_pass: nodes extracted per pass over the stimuli (default
            all at once).
        precision: the forward pass's: None (as the model was built),
            "float32", "mixed_bfloat16", or "auto" (bfloat16 where the
            machine computes it natively; `tnn.graphs.precision`). Scores
            from bfloat16 features agree with float32's within their
            seed-to-seed spread (benchmarks/RESULTS.md); the precision used
            is recorded in the report's "features".
    """

    batch_size: int = 32
    reduction: str = "projection"
    dims: int = 1024
    seed: int = 0
    nodes_per_pass: Optional[int] = None
    precision: Optional[str] = None

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"FeatureSettings.precision must be one of "
                             f"{PRECISIONS}, got {self.precision!r}.")


@_settings
class SweepSettings:
    """The layer sweep of `fit_neural` (`tnn.neural.layer_sweep`).

    Attributes:
        mapping: "pls" (Brain-Score's PLS, 25 components) or "ridge".
        shared_across_bins: one mapping for all bins instead of one per
            bin.
        n_splits, train_size, seed: the stratified stimulus splits.
        ceiling_splits: split-halves of the ceiling.
        ceiling_version: the ceiled-score metric version.
        selection_ms: the bins (ms) that select the best node and bound
            the summary (default all).
        n_neuron_folds: folds over held-out neurons (0: none).
        min_ceiling: the ceiled summary averages only the selected bins
            whose ceiling exceeds this (`tnn.neural.metrics.summary_bins`).
    """

    mapping: str = "pls"
    shared_across_bins: bool = False
    n_splits: int = 10
    train_size: float = 0.9
    seed: int = 1
    ceiling_splits: int = 10
    ceiling_version: str = "r2_over_ceiling_2026"
    selection_ms: Optional[object] = None
    n_neuron_folds: int = 0
    min_ceiling: float = 0.1


@_settings
class DynamicsSettings:
    """The direct fit of dynamics of `fit_neural --fit_dynamics`
    (`tnn.neural.dynamics.compare.compare_dynamics`).

    Attributes:
        epochs, batch_size, learning_rate: the fit's training.
        readout: the readout of the fitted nodes ("ridge", ...).
        test_fraction: share of stimuli held out.
        heldout_fraction: share of neurons held out.
        seed: seed of the splits and the fit.
    """

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    readout: str = "ridge"
    test_fraction: float = 0.2
    heldout_fraction: float = 0.25
    seed: int = 0


def _renamed(old_fn, cls, names):
    return {f"{old_fn}.{old}": f"{cls.__name__}.{new}"
            for old, new in names.items()}


RENAMED_BINDINGS = {
    **_renamed("train", LossSettings, {
        n: n for n in ("objective", "step_weighting", "gamma",
                       "loss_start")}),
    **_renamed("train", ScheduleSettings, {
        n: n for n in ("epochs", "steps_per_epoch", "validation_steps")}),
    **_renamed("train", DeviceSettings, {
        n: n for n in ("strategy", "tpu", "mixed_precision")}),
    **_renamed("fit_neural", FeatureSettings, {
        "batch_size": "batch_size", "reduction": "reduction",
        "dims": "dims", "feature_seed": "seed",
        "nodes_per_pass": "nodes_per_pass"}),
    **_renamed("fit_neural", SweepSettings, {
        "mapping": "mapping", "shared_across_bins": "shared_across_bins",
        "n_splits": "n_splits", "train_size": "train_size",
        "split_seed": "seed", "ceiling_splits": "ceiling_splits",
        "ceiling_version": "ceiling_version",
        "selection_ms": "selection_ms", "n_neuron_folds": "n_neuron_folds"}),
    **_renamed("fit_neural", DynamicsSettings, {
        "dynamics_epochs": "epochs", "dynamics_batch_size": "batch_size",
        "dynamics_learning_rate": "learning_rate",
        "dynamics_readout": "readout", "test_fraction": "test_fraction",
        "heldout_fraction": "heldout_fraction", "dynamics_seed": "seed"}),
}
