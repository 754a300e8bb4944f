"""`train`: train a TNN model on a task with Keras `fit`, and export it.

The library behind `python -m training.train` (whose docs list what a run
writes into `base_dir`); `training.demo` calls it too. Configure it with
gin: `train.model_fn`, `train.decoders`, `train.optimizer_fn`, ... and the
settings objects `LossSettings`, `ScheduleSettings` and `DeviceSettings`
(`training.settings`). The model is `train.model_fn(input_shape=...,
num_classes=...)` with the task's shape and classes; by default
`build_model` (a zoo model, see gin_configs/models) when a gin file binds
`build_model.name`, else the demo ConvRNN `small_convrnn`.
"""

import os
import sys

import gin
import keras

from tnn import config as tnn_config
from tnn.graphs.tnn_graph import TNNGraph
from tnn.tasks.classifier import TemporalClassifier
from tnn.zoo import small_models
from . import callbacks as callbacks_lib
from . import cli
from . import export as export_lib
from . import movie_outputs, movie_sources, movie_tasks, optimizers, tasks
from . import strategy as strategy_lib
from .settings import (DeviceSettings, LossSettings,
                               ScheduleSettings)

DEFAULT_DECODERS = ("last", "average", "max_conf", "threshold")


def build_backbone(model_fn, task):
    """`model_fn(input_shape, num_classes)` for the task, checked."""
    if model_fn is None:
        named, _ = cli.gin_binding("build_model.name")
        model_fn = (tnn_config.build_model if named
                    else small_models.small_convrnn)
    wanted = {"input_shape": tuple(task.input_shape),
              "num_classes": task.num_classes}
    for parameter, value in wanted.items():
        bound, binding = cli.gin_binding(
            f"{getattr(model_fn, '__name__', None)}.{parameter}")
        if bound and (tuple(binding) if parameter == "input_shape"
                      else binding) != value:
            raise ValueError(
                f"{model_fn.__name__}.{parameter} = {binding!r} is bound, "
                f"but task {task.name!r} has {parameter} {value!r}; remove "
                f"the binding (the task sets it) or change the task (e.g. "
                f"its image_size / channels).")
    backbone = model_fn(**wanted)
    if not isinstance(backbone, TNNGraph):
        raise ValueError(f"train.model_fn must return a tnn.TNNGraph, got "
                         f"{type(backbone).__name__}.")
    return backbone


def _sample_batch(dataset, count):
    for images, labels in dataset.take(1):
        return images.numpy()[:count], labels.numpy()[:count]
    raise ValueError("The evaluation dataset is empty.")


def run_paths(base_dir, strategy):
    """The paths of a run, as this worker sees them.

    The chief writes everything under `base_dir`. Another worker of a
    multi-worker run writes only its BackupAndRestore state and gin config,
    under `base_dir/workers/worker_<i>/` (its "base_dir" here); its log,
    checkpoint and export paths are the chief's, where those outputs are.
    """
    base_dir = os.fspath(base_dir)
    root = base_dir
    if not strategy_lib.is_chief(strategy):
        root = os.path.join(base_dir, "workers",
                            f"worker_{strategy_lib.worker_index(strategy)}")
    return {"base_dir": root,
            "log_dir": os.path.join(base_dir, "logs"),
            "checkpoint_dir": os.path.join(base_dir, "checkpoints"),
            "backup_dir": os.path.join(root, "backup"),
            "export_dir": os.path.join(base_dir, "export"),
            "operative_config": os.path.join(root, cli.OPERATIVE_CONFIG)}


def progress_verbose(verbose):
    """`verbose` for Keras' progress output on this process's stdout.

    Progress bars ("auto" or 1) write ANSI colour codes and carriage
    returns that clutter a log file: when stdout is not a terminal they
    become one plain line per epoch (2). Other values are kept.
    """
    terminal = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    if not terminal and (verbose == "auto" or (
            not isinstance(verbose, str) and verbose == 1)):
        return 2
    return verbose


def _outputs_note(paths, base_dir, strategy):
    if strategy_lib.is_chief(strategy):
        return f"outputs in {paths['base_dir']}"
    return (f"worker {strategy_lib.worker_index(strategy)} (not the chief): "
            f"its backup and gin config in {paths['base_dir']}; the chief "
            f"writes logs, checkpoints and export/ under "
            f"{os.fspath(base_dir)}")


@gin.configurable(denylist=["base_dir", "task"])
def train(base_dir, task=None, model_fn=None, decoders=DEFAULT_DECODERS,
          loss=None, schedule=None, optimizer_fn=optimizers.sgd,
          device=None, seed=0, callbacks=(), verbose="auto",
          num_sample_movies=4, export_times=None, export=True):
    """Trains a `TemporalClassifier` on a task and exports it.

    Args:
        base_dir: output folder (see the module docs).
        task: a `tasks.Task`; default `tasks.make_task()` (gin).
        model_fn: `(input_shape, num_classes) -> TNNGraph`; see module docs.
        decoders: decoders read out and scored (`tnn.readouts`).
        loss: a `LossSettings` (objective and per-step weighting); default
            `LossSettings()` (gin).
        schedule: a `ScheduleSettings` (epochs, steps per epoch,
            validation steps); default `ScheduleSettings()` (gin).
        optimizer_fn: `(total_steps) -> optimizer` (default `sgd`).
        device: a `DeviceSettings` (distribution strategy, TPU, mixed
            precision); default `DeviceSettings()` (gin).
        seed: seed of the weights and of Keras' random ops.
        callbacks: extra Keras callbacks.
        verbose: `fit` verbosity ("auto" = progress bars, or one plain
            line per epoch when stdout is not a terminal).
        num_sample_movies: input movies written to TensorBoard.
        export_times: number of steps of the exported model (default: as
            trained), e.g. to read a feedforward control out over the
            recurrent model's steps.
        export: write the SavedModel to export_dir (`training.search`'s
            trials skip it and keep a `.keras` file instead).

    Returns:
        dict with the trained `model`, the `history` dict and the paths.
    """
    device = device if device is not None else DeviceSettings()
    schedule = schedule if schedule is not None else ScheduleSettings()
    loss = loss if loss is not None else LossSettings()
    epochs = schedule.epochs
    steps_per_epoch = schedule.steps_per_epoch
    dist = strategy_lib.get_strategy(device.strategy, device.tpu)
    paths = run_paths(base_dir, dist)
    os.makedirs(paths["base_dir"], exist_ok=True)
    task = task if task is not None else tasks.make_task()
    previous_policy = keras.config.dtype_policy()
    if device.mixed_precision:
        keras.config.set_dtype_policy(device.mixed_precision)
    try:
        keras.utils.set_random_seed(seed)
        movie = isinstance(task, movie_tasks.MovieTask)
        check = movie_tasks.check_dataset if movie else tasks.check_dataset
        train_ds = check(task.train_dataset(), task.input_shape, "train")
        eval_ds = check(task.eval_dataset(), task.input_shape, "eval")
        batches = steps_per_epoch or tasks.cardinality(train_ds)
        if steps_per_epoch:
            train_ds = train_ds.repeat()
        if schedule.validation_steps:
            eval_ds = eval_ds.take(schedule.validation_steps)
        with dist.scope():
            backbone = build_backbone(model_fn, task)
            optimizer = optimizer_fn(
                total_steps=batches * epochs if batches else None)
            if movie:
                model = task.make_model(backbone)
                model.compile(optimizer=optimizer)
            else:
                model = TemporalClassifier(backbone, decoders)
                model.compile(optimizer=optimizer, objective=loss.objective,
                              step_weighting=loss.step_weighting,
                              gamma=loss.gamma, loss_start=loss.loss_start)
            strategy_lib.enable_multi_worker_fit(model, dist,
                                                 train_ds.element_spec)
        cli.write_operative_config(paths["base_dir"])
        if verbose:
            print(f"Model {backbone.name}: {backbone.count_params():,} "
                  f"parameters, {backbone.times} steps; task {task.name} "
                  f"{tuple(task.input_shape)}; "
                  f"{_outputs_note(paths, base_dir, dist)}", flush=True)
        run_callbacks = _callbacks(paths, model, task, eval_ds,
                                   num_sample_movies, dist)
        run_callbacks.append(
            callbacks_lib.CompactProgbar(progress_verbose(verbose)))
        history = model.fit(train_ds, validation_data=eval_ds, epochs=epochs,
                            steps_per_epoch=steps_per_epoch,
                            callbacks=run_callbacks + list(callbacks),
                            verbose=0, shuffle=False)
        if export and strategy_lib.is_chief(dist) and movie:
            movie_outputs.export_movie_model(
                model, paths["export_dir"], task.frames, task.mean, task.std,
                metadata={"task": task.name,
                          "operative_config": gin.operative_config_str()})
        elif export and strategy_lib.is_chief(dist):
            exported = export_lib.with_times(model, export_times)
            export_lib.export_saved_model(
                exported, paths["export_dir"], task.mean, task.std,
                metadata={"task": task.name,
                          "class_names": list(task.class_names),
                          "operative_config": gin.operative_config_str()})
    finally:
        keras.config.set_dtype_policy(previous_policy)
    return {"model": model, "history": history.history, **paths}


def _callbacks(paths, model, task, eval_ds, num_sample_movies, dist):
    result = [callbacks_lib.StopOnNaN(),
              keras.callbacks.BackupAndRestore(paths["backup_dir"])]
    if not strategy_lib.is_chief(dist):
        return result
    os.makedirs(paths["checkpoint_dir"], exist_ok=True)
    os.makedirs(paths["log_dir"], exist_ok=True)
    backbone = model.backbone
    result += [
        keras.callbacks.ModelCheckpoint(
            os.path.join(paths["checkpoint_dir"], "last.keras")),
        keras.callbacks.ModelCheckpoint(
            os.path.join(paths["checkpoint_dir"], "best.keras"),
            monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(
            os.path.join(paths["log_dir"], "history.csv"), append=True),
        keras.callbacks.TensorBoard(paths["log_dir"], write_graph=False),
    ]
    if isinstance(task, movie_tasks.MovieTask):
        for movies, targets in eval_ds.take(1):   # curves: one batch
            result.append(movie_outputs.MovieSummaries(
                paths["log_dir"], movies.numpy(),
                {k: v.numpy() for k, v in targets.items()},
                task.mean, task.std, model.objectives,
                num_images=num_sample_movies))
        return result
    result.append(callbacks_lib.TimeCurves(paths["log_dir"]))
    if num_sample_movies:
        images, labels = _sample_batch(eval_ds, num_sample_movies)
        result.append(callbacks_lib.SampleMovies(
            paths["log_dir"], images, labels, backbone.times,
            backbone.image_off, backbone.blank_value, task.mean, task.std))
    return result
