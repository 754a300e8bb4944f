r"""`python -m training.train`: train a TNN model on a task with Keras `fit`.

    python -m training.train \
        --gin_files=gin_configs/tasks/digit_debris.gin \
        --gin_files=gin_configs/tasks/smoke.gin --base_dir=/tmp/tnn_run

    python -m training.train --gin_files=gin_configs/models/rgc_shallow.gin \
        --gin_files=gin_configs/tasks/imagenet.gin \
        --gin_bindings='imagenet_task.manual_dir = "/data/imagenet"' \
        --base_dir=runs/rgc_shallow

Writes into `base_dir`:

    operative_config.gin  the gin bindings in effect, written once the model
                          is built
    logs/                 TensorBoard: train/ and validation/ scalars (loss,
                          top-1/top-5 per decoder and per step), time_curves/
                          (accuracy vs time step), samples/ (input movies);
                          history.csv
    checkpoints/          last.keras (every epoch), best.keras (lowest
                          validation loss)
    backup/               BackupAndRestore state: rerunning the same command
                          after a crash or kill resumes at the last finished
                          epoch (removed when the run completes)
    export/               SavedModel (`training.export`): uint8 images ->
                          per-step logits and decoded class probabilities

With `train.strategy = "multi_worker"` every worker runs the same command
with its own TF_CONFIG; the chief (worker 0) writes the files above, the
others only their backups and gin config, under
`base_dir/workers/worker_<i>/` (`training.strategy` explains the Keras
3.15 workaround this needs).

The model is `train.model_fn(input_shape=..., num_classes=...)` with the
task's shape and classes; by default `build_model` (a zoo model, see
gin_configs/models) when a gin file binds `build_model.name`, else the demo
ConvRNN `small_convrnn`. Unknown gin bindings fail (`skip_unknown=False`).
"""

import os

import gin
import keras
import numpy as np
from absl import app, flags, logging

from tnn import config as tnn_config
from tnn.graphs.tnn_graph import TNNGraph
from training import callbacks as callbacks_lib
from training import export as export_lib
from training import optimizers, tasks
from tnn.zoo import small_models
from training import strategy as strategy_lib
from tnn.tasks.classifier import STEPS, TemporalClassifier

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DECODERS = ("last", "average", "max_conf", "threshold")
MIXED_PRECISION = (None, "mixed_float16", "mixed_bfloat16")

flags.DEFINE_multi_string("gin_files", [], "Gin files, applied in order.")
flags.DEFINE_multi_string("gin_bindings", [],
                          "Gin bindings, e.g. 'train.epochs = 3'.")
flags.DEFINE_string("base_dir", None, "Output folder of the run.")


def parse_gin(files=(), bindings=()):
    """Parses gin files and bindings; unknown names fail with one line."""
    for path in files:
        if not os.path.isfile(path):
            raise ValueError(f"Gin file {path!r} does not exist.")
    gin.add_config_file_search_path(REPO_ROOT)  # for `include` lines
    try:
        tnn_config.parse_gin(files, bindings)
    except (ValueError, KeyError) as err:
        message = " ".join(str(err).split())
        raise ValueError(f"Bad gin configuration: {message}") from None


def _bound_value(fn, parameter):
    name = getattr(fn, "__name__", None)
    try:
        return True, gin.query_parameter(f"{name}.{parameter}")
    except (ValueError, TypeError):
        return False, None


def build_backbone(model_fn, task):
    """`model_fn(input_shape, num_classes)` for the task, checked."""
    if model_fn is None:
        named, _ = _bound_value(tnn_config.build_model, "name")
        model_fn = (tnn_config.build_model if named
                    else small_models.small_convrnn)
    wanted = {"input_shape": tuple(task.input_shape),
              "num_classes": task.num_classes}
    for parameter, value in wanted.items():
        bound, binding = _bound_value(model_fn, parameter)
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
    """Output folders; non-chief workers write under base_dir/workers/."""
    base_dir = os.fspath(base_dir)
    root = base_dir
    if not strategy_lib.is_chief(strategy):
        root = os.path.join(base_dir, "workers",
                            f"worker_{strategy_lib.worker_index(strategy)}")
    return {"base_dir": root,
            "log_dir": os.path.join(root, "logs"),
            "checkpoint_dir": os.path.join(root, "checkpoints"),
            "backup_dir": os.path.join(root, "backup"),
            "export_dir": os.path.join(root, "export"),
            "operative_config": os.path.join(root, "operative_config.gin")}


@gin.configurable(denylist=["base_dir", "task"])
def train(base_dir, task=None, model_fn=None, decoders=DEFAULT_DECODERS,
          objective=STEPS, step_weighting="uniform", gamma=0.9,
          loss_start=None, epochs=10, steps_per_epoch=None,
          validation_steps=None, optimizer_fn=optimizers.sgd,
          strategy="default", tpu=None, mixed_precision=None, seed=0,
          callbacks=(), verbose="auto", num_sample_movies=4,
          export_times=None):
    """Trains a `TemporalClassifier` on a task and exports it.

    Args:
        base_dir: output folder (see the module docs).
        task: a `tasks.Task`; default `tasks.make_task()` (gin).
        model_fn: `(input_shape, num_classes) -> TNNGraph`; see module docs.
        decoders: decoders read out and scored (`tnn.readouts`).
        objective: "steps" (cross-entropy at every step) or a decoder name
            (or a list), see `TemporalClassifier.compile`.
        step_weighting, gamma, loss_start: the per-step loss weighting.
        epochs: training epochs.
        steps_per_epoch: batches per epoch (default: one pass over the
            training set; when set, the training set is repeated).
        validation_steps: evaluation batches per epoch (default: all).
        optimizer_fn: `(total_steps) -> optimizer` (default `sgd`).
        strategy: "default", "mirrored", "multi_worker" or "tpu".
        tpu: TPU name/address for strategy "tpu".
        mixed_precision: None, "mixed_float16" or "mixed_bfloat16" (GPU /
            TPU; the logits, decoders and losses stay float32).
        seed: seed of the weights and of Keras' random ops.
        callbacks: extra Keras callbacks.
        verbose: `fit` verbosity ("auto" = progress bars).
        num_sample_movies: input movies written to TensorBoard.
        export_times: number of steps of the exported model (default: as
            trained), e.g. to read a feedforward control out over the
            recurrent model's steps.

    Returns:
        dict with the trained `model`, the `history` dict and the paths.
    """
    if mixed_precision not in MIXED_PRECISION:
        raise ValueError(f"mixed_precision must be one of {MIXED_PRECISION},"
                         f" got {mixed_precision!r}.")
    for value, name in ((epochs, "epochs"),
                        (steps_per_epoch, "steps_per_epoch"),
                        (validation_steps, "validation_steps")):
        if value is None and name != "epochs":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    dist = strategy_lib.get_strategy(strategy, tpu)
    paths = run_paths(base_dir, dist)
    os.makedirs(paths["base_dir"], exist_ok=True)
    task = task if task is not None else tasks.make_task()
    previous_policy = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy(mixed_precision)
    try:
        keras.utils.set_random_seed(seed)
        train_ds = tasks.check_dataset(task.train_dataset(),
                                       task.input_shape, "train")
        eval_ds = tasks.check_dataset(task.eval_dataset(), task.input_shape,
                                      "eval")
        batches = steps_per_epoch or tasks.cardinality(train_ds)
        if steps_per_epoch:
            train_ds = train_ds.repeat()
        if validation_steps:
            eval_ds = eval_ds.take(validation_steps)
        with dist.scope():
            backbone = build_backbone(model_fn, task)
            model = TemporalClassifier(backbone, decoders)
            optimizer = optimizer_fn(
                total_steps=batches * epochs if batches else None)
            model.compile(optimizer=optimizer, objective=objective,
                          step_weighting=step_weighting, gamma=gamma,
                          loss_start=loss_start)
            strategy_lib.enable_multi_worker_fit(model, dist,
                                                 train_ds.element_spec)
        with open(paths["operative_config"], "w") as f:
            f.write(gin.operative_config_str())
        if verbose:
            print(f"Model {backbone.name}: {backbone.count_params():,} "
                  f"parameters, {backbone.times} steps; task {task.name} "
                  f"{tuple(task.input_shape)}; outputs in "
                  f"{paths['base_dir']}", flush=True)
        run_callbacks = _callbacks(paths, model, task, eval_ds,
                                   num_sample_movies, dist)
        run_callbacks.append(callbacks_lib.CompactProgbar(verbose))
        history = model.fit(train_ds, validation_data=eval_ds, epochs=epochs,
                            steps_per_epoch=steps_per_epoch,
                            callbacks=run_callbacks + list(callbacks),
                            verbose=0, shuffle=False)
        if strategy_lib.is_chief(dist):
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
        callbacks_lib.TimeCurves(paths["log_dir"]),
    ]
    if num_sample_movies:
        images, labels = _sample_batch(eval_ds, num_sample_movies)
        result.append(callbacks_lib.SampleMovies(
            paths["log_dir"], images, labels, backbone.times,
            backbone.image_off, backbone.blank_value, task.mean, task.std))
    return result


def main(argv):
    del argv
    base_dir = flags.FLAGS.base_dir
    if not base_dir:
        raise app.UsageError("--base_dir is required (the run's output "
                             "folder).")
    logging.set_verbosity(logging.WARNING)
    parse_gin(flags.FLAGS.gin_files, flags.FLAGS.gin_bindings)
    result = train(base_dir)
    final = {k: float(np.asarray(v[-1]).reshape(-1)[0])
             for k, v in result["history"].items()
             if k in ("loss", "val_loss") or k.endswith("_top1")}
    print(f"Finished: {final}")
    print(f"SavedModel: {result['export_dir']}")
    print(f"TensorBoard: tensorboard --logdir {result['log_dir']}")


def error_message(err):
    """The message of an error without gin's "In call to ..." lines."""
    lines = [line for line in str(err).splitlines()
             if not line.strip().startswith("In call to configurable")]
    return " ".join(" ".join(lines).split())


def run():
    """Console entry point: clear one-line errors instead of tracebacks."""
    try:
        app.run(main)
    except ValueError as err:
        raise SystemExit(f"training.train: error: {error_message(err)}") \
            from None


if __name__ == "__main__":
    run()
