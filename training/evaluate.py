r"""`python -m training.evaluate`: top-1/top-5 per decoder and per time step.

    python -m training.evaluate --base_dir=/tmp/tnn_run
    python -m training.evaluate --saved_model=/tmp/tnn_run/export \
        --output=/tmp/report.json
    python -m training.evaluate --base_dir=/tmp/tnn_run/export  # same

Evaluates a SavedModel exported by `training.train` (`<base_dir>/export`
by default) on its task's evaluation set. The task is rebuilt from the
run's operative gin config (`<base_dir>/operative_config.gin`, else the
copy stored with the SavedModel), then `--gin_files` / `--gin_bindings`
are applied on top (e.g. `--gin_bindings='digit_debris_task.level =
"light"'`). Prints a table and writes a JSON report (default
`<base_dir>/eval_report.json`, or next to the SavedModel):

    {"num_examples": 1000, "times": 12, "first_image_step": 3,
     "decoders": {"last": {"top1": 0.61, "top5": 0.93}, ...},
     "steps": {"top1": [0.1, ..., 0.61], "top5": [...]}, ...}

Accuracies are computed in numpy from the SavedModel's outputs: a top-k hit
when at most k classes, the true one included, score at least as high as
the true class (ties count as misses; Keras' `in_top_k`-based metrics in
the training logs count them as hits, which shows as accuracy 1.0 at steps
where all logits are still equal).
"""

import json
import os

import gin
import numpy as np
import tensorflow as tf
from absl import app, flags

from tnn.readouts.step_accuracy import top_k_matches
from training import export as export_lib
from training import tasks
from training import train as train_lib  # also registers the configurables

flags.DEFINE_string("saved_model", None,
                    "SavedModel folder (default <base_dir>/export).")
flags.DEFINE_string("output", None, "Path of the JSON report.")
flags.DEFINE_integer("max_batches", None, "Evaluate at most this many "
                     "batches (default: the whole evaluation set).")

TOP_K = (1, 5)


def top_k_hits(scores, labels, k):
    """1.0 where at most k classes (the label's included) score >= it.

    The rule of `tnn.readouts.top_k_matches` (ties count as misses), on
    numpy scores of any leading shape `[..., K]`.
    """
    scores = np.asarray(scores, np.float32)
    labels = np.asarray(labels).reshape(-1)
    flat = scores.reshape(labels.shape[0], -1, scores.shape[-1])
    steps = flat.shape[1]
    hits = top_k_matches(np.repeat(labels, steps),
                         flat.reshape(-1, scores.shape[-1]), k)
    return np.asarray(hits, np.float64).reshape(scores.shape[:-1])


def accuracy_report(logits, probabilities, labels, ks=TOP_K):
    """Top-k per step and per decoder from collected outputs (numpy).

    Args:
        logits: per-step logits `[N, T, K]`.
        probabilities: `{decoder: [N, K]}`.
        labels: int labels `[N]`.
        ks: the k values (those above K are skipped).
    """
    num_classes = logits.shape[-1]
    ks = [k for k in ks if k <= num_classes]
    steps = {f"top{k}": top_k_hits(logits, labels, k).mean(axis=0).tolist()
             for k in ks}
    decoders = {
        name: {f"top{k}": float(top_k_hits(p, labels, k).mean())
               for k in ks}
        for name, p in probabilities.items()}
    return {"num_examples": int(len(labels)), "steps": steps,
            "decoders": decoders}


def _load(saved_model):
    saved_model = os.fspath(saved_model)
    if not os.path.isfile(os.path.join(saved_model, "saved_model.pb")):
        raise ValueError(f"No SavedModel at {saved_model!r}; pass the export "
                         f"folder of a run (<base_dir>/export).")
    metadata = export_lib.read_metadata(saved_model)
    loaded = tf.saved_model.load(saved_model)
    return loaded, metadata


def evaluate_saved_model(saved_model, dataset, max_batches=None):
    """Runs a SavedModel over `(normalised images, labels)` batches.

    Returns:
        The report dict (see module docs).
    """
    loaded, metadata = _load(saved_model)
    tasks.check_dataset(dataset, metadata["input_shape"], "eval")
    serve = loaded.signatures[export_lib.SERVE_NORMALIZED]
    logits, labels = [], []
    probabilities = {name: [] for name in metadata["decoders"]}
    for i, (images, batch_labels) in enumerate(dataset):
        if max_batches is not None and i >= max_batches:
            break
        outputs = serve(images=tf.cast(images, tf.float32))
        logits.append(outputs["logits"].numpy())
        for name in probabilities:
            probabilities[name].append(
                outputs[export_lib.probability_key(name)].numpy())
        labels.append(batch_labels.numpy())
    if not labels:
        raise ValueError("The evaluation dataset is empty.")
    report = accuracy_report(
        np.concatenate(logits),
        {n: np.concatenate(p) for n, p in probabilities.items()},
        np.concatenate(labels))
    report.update(saved_model=os.fspath(saved_model),
                  times=metadata["times"],
                  first_image_step=metadata["first_image_step"],
                  image_off=metadata["image_off"],
                  task=metadata.get("task"))
    return report


def format_report(report):
    """A plain-text table of a report."""
    ks = sorted(report["steps"])
    lines = [f"{report.get('task') or 'task'}: {report['num_examples']} "
             f"examples, {report['times']} steps (readout image-driven from "
             f"step {report['first_image_step']})",
             "decoder      " + "  ".join(f"{k:>6}" for k in ks)]
    for name, scores in report["decoders"].items():
        lines.append(f"{name:<12} " + "  ".join(
            f"{scores[k]:6.3f}" for k in ks))
    lines.append("step         " + "  ".join(f"{k:>6}" for k in ks))
    for t in range(report["times"]):
        lines.append(f"t={t:<10} " + "  ".join(
            f"{report['steps'][k][t]:6.3f}" for k in ks))
    return "\n".join(lines)


def write_report(report, path):
    """Writes a report as JSON; returns the path."""
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    return path


def load_run_config(base_dir, saved_model, gin_files=(), gin_bindings=()):
    """Parses the run's operative config, then the user's gin on top."""
    gin.clear_config()
    path = os.path.join(base_dir, "operative_config.gin") if base_dir \
        else None
    if path and os.path.isfile(path):
        with open(path) as f:
            stored = f.read()
    else:
        stored = export_lib.read_metadata(saved_model).get(
            "operative_config", "")
    # The stored config was valid for training; it may name the user's own
    # configurables, which need not be importable here.
    gin.parse_config(stored, skip_unknown=True)
    train_lib.parse_gin(gin_files, gin_bindings)


def main(argv):
    del argv
    options = flags.FLAGS
    base_dir = options.base_dir
    saved_model = options.saved_model
    if base_dir and not saved_model and os.path.isfile(
            os.path.join(base_dir, "saved_model.pb")):
        saved_model, base_dir = base_dir, None  # a SavedModel was given
    elif base_dir and not saved_model:
        saved_model = os.path.join(base_dir, "export")
    if not saved_model:
        raise app.UsageError("Pass --base_dir (a training run) or "
                             "--saved_model.")
    _load(saved_model)
    load_run_config(base_dir, saved_model, options.gin_files,
                    options.gin_bindings)
    task = tasks.make_task()
    report = evaluate_saved_model(saved_model, task.eval_dataset(),
                                  options.max_batches)
    output = options.output or os.path.join(
        base_dir or os.path.dirname(os.path.abspath(saved_model)),
        "eval_report.json")
    write_report(report, output)
    print(format_report(report))
    print(f"Report: {output}")


def run():
    try:
        app.run(main)
    except ValueError as err:
        raise SystemExit(f"training.evaluate: error: "
                         f"{train_lib.error_message(err)}") from None


if __name__ == "__main__":
    run()
