r"""Architecture search with Optuna: `python -m training.search`.

    python -m training.search --gin_files=search/demo --base_dir=runs/search
    python -m training.search --gin_files=search/demo --base_dir=runs/search \
        --report_only                  # the report of the study so far

Samples architectures from a search space (`tnn.search`: cells and their
gating / bypass switches, widths, kernel sizes, long-range feedback and
skip edges, presentation, within a parameter budget), trains each with
`training.train`'s `train` (gin: the task, `ScheduleSettings.epochs` =
epochs per trial, the optimizer) and maximises the per-epoch validation
`metric` with Optuna's TPE sampler, pruning poor trials after each epoch
(median or Hyperband pruner).

The study lives in a relational database (`search.storage`, default
`sqlite:///<base_dir>/study.db`): run the same command again to resume it
after a crash, or on several processes or machines at once to share it
(SQLite on one machine; a server database such as
`postgresql://user@host/db` across machines). Each process runs trials
until the study holds `n_trials` finished (complete or pruned while
training; samples rejected for the budget do not count) ones;
workers started together may finish one extra trial each. Workers send
heartbeats: the trial of a killed worker is marked failed once its
heartbeat is `grace_period` seconds old and retried (same parameters) by
the next trial to start; completed trials are never lost.

Writes into `base_dir`: `study.db`; `trials/<number>/` per trial (the
TensorBoard logs in `logs/`, `checkpoints/`, `spec.json` (the sample),
`model.keras` (the trained TNNGraph), `operative_config.gin`); and the
report (`training.search_report`): `report.json`, `trials.csv`, the plots
`accuracy_vs_params.png` (with the Pareto front), `history.png`,
`importances.png`, and `best/<rank>_trial<n>.gin` + `.keras` for the top
trials (retrain one with `python -m training.train --gin_files=<task gin>
--gin_files=best/1_trial<n>.gin`).
"""

import contextlib
import json
import os
import socket
import time
import warnings

import gin

from tnn.search import sample as sample_lib
from tnn.search import space as space_lib
from . import cli, tasks, trainer
from . import search_report
from .callbacks import NaNLossError
from .settings import RENAMED_BINDINGS, ScheduleSettings

PRUNERS = ("median", "hyperband", "none")
TRIALS = "trials"


def _optuna():
    try:
        import optuna
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "training.search needs Optuna: pip install optuna (a "
            "requirement of tnn; reinstall tnn).") from None
    return optuna


def make_pruner(pruner, max_epochs):
    """The Optuna pruner named `pruner` for trials of `max_epochs`."""
    optuna = _optuna()
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3)
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1,
                                              max_resource=max_epochs)
    if pruner == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"search.pruner must be one of {PRUNERS}, got "
                     f"{pruner!r}.")


def shown_url(url):
    """The storage URL with any password hidden."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL sqlalchemy can parse: shown as given
        return url


def open_storage(url, heartbeat_interval=None, grace_period=None,
                 max_retry=3):
    """An Optuna `RDBStorage` at `url`, with heartbeats and retries.

    Raises:
        ValueError: the database cannot be reached (naming the URL).
    """
    optuna = _optuna()
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    engine_kwargs = None
    if url.startswith("sqlite"):   # wait for other workers' write locks
        engine_kwargs = {"connect_args": {"timeout": 60}}
    try:
        with warnings.catch_warnings():  # heartbeats are "experimental"
            warnings.simplefilter("ignore",
                                  optuna.exceptions.ExperimentalWarning)
            retry = RetryHeartbeatStaleTrialCallback(max_retry=max_retry)
            for attempt in range(5):
                try:
                    return RDBStorage(
                        url, engine_kwargs=engine_kwargs,
                        heartbeat_interval=heartbeat_interval,
                        grace_period=grace_period,
                        heartbeat_stale_trial_callback=(
                            retry if heartbeat_interval else None))
                except Exception as err:
                    # Workers starting together on a new database race to
                    # create its tables: the losers try again.
                    if attempt == 4 or not _creation_race(err):
                        raise
                    time.sleep(0.5 + attempt)
    except Exception as err:  # sqlalchemy / driver errors of every kind
        raise ValueError(
            f"Cannot open the study storage {shown_url(url)!r}: "
            f"{type(err).__name__}: {cli.error_message(err)[:300]}. Check "
            f"the URL (e.g. sqlite:///runs/search/study.db, "
            f"postgresql://user:password@host/db), that the server is "
            f"reachable and that its Python driver is installed."
        ) from None
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)


def _creation_race(err):
    text = str(err)
    return type(err).__name__ == "IntegrityError" or (
        "locked" in text or "already exists" in text)


def open_study(storage, study_name, seed, pruner):
    """Creates or loads the study (maximising the metric).

    The TPE seed is `seed` plus the number of trials already in the study,
    so that a second worker or a resumed run does not replay the first
    one's random draws.
    """
    optuna = _optuna()
    existing = 0
    try:
        existing = len(optuna.load_study(study_name=study_name,
                                         storage=storage).trials)
    except KeyError:  # a new study
        pass
    sampler = optuna.samplers.TPESampler(seed=seed + existing,
                                         n_startup_trials=4)
    return optuna.create_study(storage=storage, study_name=study_name,
                               load_if_exists=True, direction="maximize",
                               sampler=sampler, pruner=pruner)


def fail_stale_trials(study):
    """Marks the running trials of dead workers failed (and retries them,
    `open_storage`); Optuna also does this whenever a trial starts."""
    optuna = _optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def finished(study):
    """Trials that count towards `n_trials`: complete, or pruned while
    training (not the samples rejected before it)."""
    states = _optuna().trial.TrialState
    return [t for t in study.get_trials(deepcopy=False)
            if t.state == states.COMPLETE or (
                t.state == states.PRUNED and "rejected" not in t.user_attrs)]


def _pruning_callback(trial, metric):
    import keras
    optuna = _optuna()

    class ReportToTrial(keras.callbacks.Callback):
        """Reports `metric` after each epoch; prunes the trial if asked."""

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            if metric not in logs:
                raise ValueError(
                    f"search.metric {metric!r} is not logged; logged: "
                    f"{sorted(logs)}.")
            trial.report(float(logs[metric]), epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(
                    f"{metric}={logs[metric]:.4f} after epoch {epoch + 1}")
    return ReportToTrial()


def make_objective(space, task, base_dir, metric, run_eagerly=False):
    """The Optuna objective: sample, train, return the last `metric`."""
    optuna = _optuna()
    worker = f"{socket.gethostname()}:{os.getpid()}"

    def objective(trial):
        trial.set_user_attr("worker", worker)
        try:
            sample = sample_lib.sample_spec(space, trial, task.input_shape,
                                            task.num_classes)
        except sample_lib.SampleRejected as err:
            # Pruned, not failed: TPE then ranks the region last (it ignores
            # failed trials), and Optuna logs one line, not a traceback.
            trial.set_user_attr("rejected", str(err))
            raise optuna.TrialPruned(f"rejected: {err}") from None
        trial.set_user_attr("num_params", sample.num_params)
        trial.set_user_attr("times", sample.times)
        trial.set_user_attr("image_off", sample.image_off)
        trial_dir = os.path.join(base_dir, TRIALS, str(trial.number))
        os.makedirs(trial_dir, exist_ok=True)
        with open(os.path.join(trial_dir, "spec.json"), "w") as f:
            json.dump(sample.to_dict(), f, indent=1)

        def model_fn(input_shape, num_classes):
            return sample.build(name=f"trial{trial.number}")
        with _eager(run_eagerly):
            result = trainer.train(
                trial_dir, task=task, model_fn=model_fn, verbose=0,
                callbacks=[_pruning_callback(trial, metric)], export=False)
        model_file = os.path.join(trial_dir, "model.keras")
        result["model"].backbone.save(model_file)
        trial.set_user_attr("model_file", os.path.relpath(model_file,
                                                          base_dir))
        return float(result["history"][metric][-1])
    return objective


@contextlib.contextmanager
def _eager(run_eagerly):
    import tensorflow as tf
    if run_eagerly:   # tf.data's functions are traced anyway: no warning
        warnings.filterwarnings("ignore", message="Even though the `tf.con")
    previous = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(bool(run_eagerly) or previous)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(previous)


@gin.configurable(denylist=["base_dir"])
def search(base_dir, space=gin.REQUIRED, task=None, storage=None,
           study_name="tnn_search", n_trials=10, timeout=None, seed=0,
           pruner="median", metric="val_last_top1", top_k=3,
           heartbeat_interval=60, grace_period=None, max_retry=3,
           max_rejections=100, run_eagerly=False, report_only=False):
    """Runs (or resumes, or joins) a study; writes the report.

    Args:
        base_dir: output folder (module docs).
        space: a `tnn.search.SearchSpace`, or a function returning one
            (e.g. `@demo_space`).
        task: a `tasks.Task`; default `tasks.make_task()` (gin).
        storage: an Optuna / SQLAlchemy database URL; default
            `sqlite:///<base_dir>/study.db`.
        study_name: the study in that database.
        n_trials: finished (complete or pruned) trials the study should
            hold; this process stops once it does.
        timeout: seconds after which this process starts no new trial.
        seed: TPE sampler seed (`open_study`).
        pruner: "median", "hyperband" or "none".
        metric: the per-epoch validation log maximised (reported each
            epoch for pruning; the trial's value is its last).
        top_k: best trials exported to `best/`.
        heartbeat_interval, grace_period: seconds between a worker's
            heartbeats, and age of the last heartbeat after which its
            running trial counts as failed (default 2 intervals); None
            disables heartbeats (and the retry of killed trials).
        max_retry: retries of a trial whose worker died.
        max_rejections: this process stops after this many samples in a
            row outside the budget or invalid.
        run_eagerly: run each trial's steps eagerly, without tracing
            (`tf.config.run_functions_eagerly`): quicker only for tiny
            models trained for a few steps (gin_configs/search/smoke.gin).
        report_only: write the report of the study so far, run nothing.

    Returns:
        the report dict (`search_report.write_report`).
    """
    base_dir = os.fspath(base_dir)
    os.makedirs(base_dir, exist_ok=True)
    storage = storage or "sqlite:///" + os.path.abspath(
        os.path.join(base_dir, "study.db"))
    if callable(space) and not isinstance(space, space_lib.SearchSpace):
        space = space()
    if not isinstance(space, space_lib.SearchSpace):
        raise ValueError(f"search.space must be a SearchSpace or a function "
                         f"returning one (e.g. @demo_space), got {space!r}.")
    epochs = ScheduleSettings().epochs
    rdb = open_storage(storage, heartbeat_interval, grace_period, max_retry)
    if report_only and study_name not in [
            *_optuna().get_all_study_names(rdb)]:
        raise ValueError(f"No study {study_name!r} in {shown_url(storage)!r}"
                         f" to report on; check --base_dir / --storage and "
                         f"search.study_name.")
    study = open_study(rdb, study_name, seed, make_pruner(pruner, epochs))
    fail_stale_trials(study)
    if not report_only:
        task = task if task is not None else tasks.make_task()
        sample_lib.check_budget(space, task.input_shape, task.num_classes)
        cli.write_operative_config(base_dir)
        _optimize(study, make_objective(space, task, base_dir, metric,
                                        run_eagerly),
                  n_trials, timeout, max_rejections)
    return search_report.write_report(
        study, base_dir, metric=metric, top_k=top_k,
        info={"space": space.name, "task": getattr(task, "name", None),
              "storage": shown_url(storage), "n_trials": n_trials,
              "epochs_per_trial": epochs, "pruner": pruner})


def _optimize(study, objective, n_trials, timeout, max_rejections):
    optuna = _optuna()
    if len(finished(study)) >= n_trials:
        return
    rejected = []

    def stop_when_done(study, trial):
        if "rejected" in trial.user_attrs:
            rejected.append(trial.number)
        else:
            rejected.clear()
        done = len(finished(study))
        print(_progress(trial, done, n_trials), flush=True)
        if done >= n_trials:
            study.stop()
        elif len(rejected) >= max_rejections:
            print(f"training.search: {len(rejected)} samples in a row were "
                  f"outside the budget or invalid; stopping (widen the "
                  f"budget or narrow the space).", flush=True)
            study.stop()
    study.optimize(objective, timeout=timeout, callbacks=[stop_when_done],
                   catch=(NaNLossError,),
                   gc_after_trial=True)


def _progress(trial, done, n_trials):
    """One line per trial, e.g. `trial 3: COMPLETE 0.4512, 61,234
    parameters, 41 s (4/12 finished)`."""
    attrs = trial.user_attrs
    text = f"trial {trial.number}: {trial.state.name}"
    if trial.value is not None:
        text += f" {trial.value:.4f}"
    if attrs.get("num_params"):
        text += f", {attrs['num_params']:,} parameters"
    if trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start)
        text += f", {seconds.total_seconds():.0f} s"
    if "rejected" in attrs:
        text += f" (rejected: {attrs['rejected']})"
    return f"{text} ({done}/{n_trials} finished)"


def main(args):
    bindings = list(args.gin_bindings)
    for flag, binding in (("n_trials", "search.n_trials = {}"),
                          ("storage", "search.storage = {!r}"),
                          ("study_name", "search.study_name = {!r}")):
        if getattr(args, flag) is not None:
            bindings.append(binding.format(getattr(args, flag)))
    if args.report_only:
        bindings.append("search.report_only = True")
    cli.parse_gin(args.gin_files, bindings, RENAMED_BINDINGS)
    report = search(args.base_dir)
    print(search_report.summary(report))


def parser():
    """The flags of `python -m training.search`."""
    result = cli.make_parser("training.search", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result, help="Output folder of the study (its "
                     "SQLite database by default, trials, report).")
    cli.add_flags(result, [
        ("n_trials", int, None, "Finished trials the study should hold "
         "(search.n_trials)."),
        ("storage", str, None, "Study database URL (search.storage), e.g. "
         "postgresql://user@host/db to share a study across machines."),
        ("study_name", str, None, "Study name (search.study_name)."),
        ("report_only", bool, False, "Only write the report of the study "
         "so far.")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
