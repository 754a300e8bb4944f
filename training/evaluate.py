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

import os

import gin

from training import cli
from training import export as export_lib
from training import tasks
from training import trainer  # noqa: F401  (the configurables gin names)
from training.evaluation import evaluate_saved_model, format_report, \
    load_saved_model, write_report
from training.settings import RENAMED_BINDINGS


def _renamed(config_text):
    """A stored operative config with pre-`training.settings` names
    (`train.epochs = 4`, ...) rewritten to the new ones."""
    lines = []
    for line in config_text.splitlines():
        name = line.split("=")[0].strip()
        if name in RENAMED_BINDINGS:
            line = line.replace(name, RENAMED_BINDINGS[name], 1)
        lines.append(line)
    return "\n".join(lines)


def load_run_config(base_dir, saved_model, gin_files=(), gin_bindings=()):
    """Parses the run's operative config, then the user's gin on top."""
    gin.clear_config()
    path = os.path.join(base_dir, cli.OPERATIVE_CONFIG) if base_dir \
        else None
    if path and os.path.isfile(path):
        with open(path) as f:
            stored = f.read()
    else:
        stored = export_lib.read_metadata(saved_model).get(
            "operative_config", "")
    # The stored config was valid for training; it may name the user's own
    # configurables, which need not be importable here.
    gin.parse_config(_renamed(stored), skip_unknown=True)
    cli.parse_gin(gin_files, gin_bindings, RENAMED_BINDINGS)


def main(args):
    """Evaluates the run or SavedModel the flags name; writes the report."""
    base_dir = args.base_dir
    saved_model = args.saved_model
    if base_dir and not saved_model and os.path.isfile(
            os.path.join(base_dir, "saved_model.pb")):
        saved_model, base_dir = base_dir, None  # a SavedModel was given
    elif base_dir and not saved_model:
        saved_model = os.path.join(base_dir, "export")
    if not saved_model:
        raise ValueError("Pass --base_dir (a training run) or "
                         "--saved_model.")
    load_saved_model(saved_model)
    load_run_config(base_dir, saved_model, args.gin_files,
                    args.gin_bindings)
    task = tasks.make_task()
    report = evaluate_saved_model(saved_model, task.eval_dataset(),
                                  args.max_batches)
    output = args.output or os.path.join(
        base_dir or os.path.dirname(os.path.abspath(saved_model)),
        "eval_report.json")
    write_report(report, output)
    print(format_report(report))
    print(f"Report: {output}")


def parser():
    """The flags of `python -m training.evaluate`."""
    result = cli.make_parser("training.evaluate", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result, required=False, help="A training run "
                     "(its export/ is evaluated) or a SavedModel folder.")
    cli.add_flags(result, [
        ("saved_model", str, None, "SavedModel folder (default "
         "<base_dir>/export)."),
        ("output", str, None, "Path of the JSON report."),
        ("max_batches", int, None, "Evaluate at most this many batches "
         "(default: the whole evaluation set).")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
