"""The report of a `training.search` study: tables, plots, best trials.

Writes into the study's `base_dir`:

- `trials.csv`: one row per trial (number, state, value, parameters
  counted, presentation, worker, duration, why rejected, every choice);
- `report.json`: counts per state, the best trials, the Pareto front of
  accuracy against parameters, hyperparameter importances (Optuna's
  fANOVA over the complete trials), and the run's settings;
- `accuracy_vs_params.png` (complete trials, the Pareto front: no other
  trial is both more accurate and smaller), `history.png` (value per
  trial and the best so far), `importances.png`;
- `best/<rank>_trial<n>.gin` and `.keras` (`training.search_export`).
"""

import csv
import json
import os
import shutil

from . import search_export

PLOTS = ("accuracy_vs_params.png", "history.png", "importances.png")


def _states():
    import optuna
    return optuna.trial.TrialState


def complete_trials(study):
    states = _states()
    return [t for t in study.get_trials(deepcopy=False)
            if t.state == states.COMPLETE and t.value is not None]


def pareto_front(trials):
    """Trials no other trial beats on both value (higher) and parameter
    count (lower), sorted by parameters."""
    front, best = [], None
    for t in sorted(trials, key=lambda t: (t.user_attrs["num_params"],
                                           -t.value)):
        if best is None or t.value > best:
            front.append(t)
            best = t.value
    return front


def importances(study, trials):
    """`{param: importance}` (fANOVA), or `{}` with a reason."""
    if len(trials) < 3:
        return {}, "fewer than 3 complete trials"
    import warnings

    import optuna
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return dict(optuna.importance.get_param_importances(
                study, evaluator=evaluator)), None
    except (RuntimeError, ValueError) as err:
        return {}, " ".join(str(err).split())


def _write_csv(study, path):
    trials = study.get_trials(deepcopy=False)
    names = sorted({p for t in trials for p in t.params})
    columns = ["number", "state", "value", "num_params", "times",
               "image_off", "worker", "duration_s", "rejected",
               "retry_of"] + names
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for t in trials:
            duration = (t.datetime_complete - t.datetime_start).total_seconds(
            ) if t.datetime_complete and t.datetime_start else None
            attrs = t.user_attrs
            writer.writerow(
                [t.number, t.state.name, t.value, attrs.get("num_params"),
                 attrs.get("times"), attrs.get("image_off"),
                 attrs.get("worker"), duration, attrs.get("rejected"),
                 t.system_attrs.get("failed_trial")]
                + [t.params.get(n) for n in names])


def _plots(study, trials, front, scores, base_dir, metric):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    if trials:
        ax.scatter([t.user_attrs["num_params"] for t in trials],
                   [t.value for t in trials], label="complete trials")
        ax.step([t.user_attrs["num_params"] for t in front],
                [t.value for t in front], where="post", color="C3",
                label="Pareto front")
        for t in front:
            ax.annotate(str(t.number), (t.user_attrs["num_params"], t.value),
                        fontsize=7)
    ax.set(xscale="log", xlabel="parameters", ylabel=metric,
           title="accuracy vs parameters")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(base_dir, PLOTS[0]), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    ordered = sorted(trials, key=lambda t: t.number)
    if ordered:
        best, running = [], None
        for t in ordered:
            running = t.value if running is None else max(running, t.value)
            best.append(running)
        ax.plot([t.number for t in ordered], [t.value for t in ordered],
                "o", label="trial")
        ax.plot([t.number for t in ordered], best, "-", label="best so far")
    pruned = [t for t in study.get_trials(deepcopy=False)
              if t.state == _states().PRUNED and t.intermediate_values]
    if pruned:
        ax.plot([t.number for t in pruned],
                [t.intermediate_values[max(t.intermediate_values)]
                 for t in pruned], "x", color="grey",
                label="pruned (last report)")
    ax.set(xlabel="trial", ylabel=metric, title="optimisation history")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(os.path.join(base_dir, PLOTS[1]), dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 1 + 0.3 * max(1, len(scores))))
    if scores:
        names = sorted(scores, key=scores.get)
        ax.barh(names, [scores[n] for n in names])
        ax.set(xlabel="importance (fANOVA)")
    else:
        ax.text(0.5, 0.5, "not enough complete trials", ha="center")
        ax.set_axis_off()
    ax.set_title("hyperparameter importances")
    fig.tight_layout()
    fig.savefig(os.path.join(base_dir, PLOTS[2]), dpi=100)
    plt.close(fig)


def _trial_entry(t, base_dir):
    return {"number": t.number, "value": t.value,
            "num_params": t.user_attrs.get("num_params"),
            "params": t.params, "times": t.user_attrs.get("times"),
            "image_off": t.user_attrs.get("image_off"),
            "trial_dir": os.path.join(base_dir, "trials", str(t.number))}


def write_report(study, base_dir, metric, top_k=3, info=None):
    """Writes the report files; returns the report dict."""
    trials = complete_trials(study)
    front = pareto_front(trials)
    scores, why = importances(study, trials)
    counts = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    ranked = sorted(trials, key=lambda t: -t.value)[:top_k]
    shutil.rmtree(os.path.join(base_dir, search_export.BEST),
                  ignore_errors=True)   # a previous report's best
    best = []
    for rank, t in enumerate(ranked, start=1):
        entry = _trial_entry(t, base_dir)
        entry.update(search_export.export_trial(t, rank, base_dir, metric,
                                                study.study_name))
        best.append(entry)
    report = {"study": study.study_name, "metric": metric,
              "direction": "maximize", **(info or {}),
              "counts": counts,
              "rejected": sum("rejected" in t.user_attrs
                              for t in study.get_trials(deepcopy=False)),
              "best": best,
              "pareto_front": [_trial_entry(t, base_dir) for t in front],
              "importances": scores, "importances_note": why,
              "base_dir": base_dir,
              "files": ["report.json", "trials.csv", *PLOTS]}
    _write_csv(study, os.path.join(base_dir, "trials.csv"))
    _plots(study, trials, front, scores, base_dir, metric)
    with open(os.path.join(base_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1, default=str)
    return report


def summary(report):
    """A few lines for the terminal."""
    lines = [f"Study {report['study']!r}: {report['counts']} "
             f"({report['rejected']} samples rejected before training)."]
    for entry in report["best"]:
        lines.append(
            f"  #{entry['rank']} trial {entry['number']}: "
            f"{report['metric']} {entry['value']:.4f}, "
            f"{entry['num_params']:,} parameters -> {entry['gin_file']}")
    if report["importances"]:
        top = sorted(report["importances"].items(), key=lambda kv: -kv[1])
        lines.append("  most important: " + ", ".join(
            f"{k} {v:.2f}" for k, v in top[:3]))
    lines.append(f"Report: {os.path.join(report['base_dir'], 'report.json')}"
                 f" (plots and trials.csv beside it)")
    return "\n".join(lines)
