"""Plots (matplotlib, Agg backend) and TensorBoard summaries of a neural fit.

    sweep_plot(report, path)               score vs time per node, per area
    trajectory_plot(curves, bins, path)    predicted vs recorded trajectories
    dynamics_plot(dynamics, bins, path)    recurrent fit vs baselines
    write_tensorboard(log_dir, report, images)
    ceiled_line(area, entry, rule), dynamics_lines(area, kind, headline)
                                           lines of the terminal summary

The report is `training.fit_neural`'s (the layer sweep's dict, optionally
with "dynamics" from `tnn.neural.dynamics.compare`). In TensorBoard every
per-bin curve is a scalar series whose step is the bin index (its start
in ms is in the tag's description), the dynamics fit's losses are series
over epochs, and the PNG plots are images.
"""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

METHOD_STYLES = {"recurrent_fit": ("C3", "-"),
                 "feedforward_shared": ("C0", "--"),
                 "time_varied": ("C2", ":"),
                 "initial_shared": ("0.5", "-."),
                 "time_varied_initial": ("0.7", ":")}


def _values(values):
    return np.asarray([np.nan if v is None else v for v in values], float)


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def sweep_plot(report, path):
    """Raw score per bin of every node (best bold) and the ceiling."""
    areas = report["areas"]
    bins = _values(report["bins"]["bin_start_ms"])
    fig, axes = plt.subplots(1, len(areas), figsize=(5.5 * len(areas), 4),
                             squeeze=False)
    for ax, (area, entry) in zip(axes[0], areas.items()):
        for node, curves in entry["nodes"].items():
            best = node == entry["best_node"]
            ax.plot(bins, _values(curves["score_per_bin"]), label=node,
                    lw=2.5 if best else 1.0)
        ax.plot(bins, np.sqrt(np.clip(_values(entry["ceiling_per_bin"]), 0,
                                      None)),
                "k--", lw=1, label="sqrt(ceiling)")
        ax.set(title=f"{area}: best {entry['best_node']}",
               xlabel="bin start (ms)", ylabel="median Pearson r")
        ax.legend(fontsize=8)
    return _save(fig, path)


def trajectory_plot(curves, bin_start_ms, path, title="", n_neurons=3,
                    n_stimuli=2):
    """Recorded vs predicted trajectories of example neurons.

    Args:
        curves: dict area -> {"recorded": [m, B, K], "neurons": [K] names,
            label -> predictions [m, B, K]}.
        bin_start_ms: [B] bin starts.
        path: PNG path.
        title: figure title.
        n_neurons: example neurons per area (the first ones).
        n_stimuli: example stimuli per neuron (first held-out stimuli).
    """
    bins = np.asarray(bin_start_ms, float)
    fig, axes = plt.subplots(len(curves), n_neurons,
                             figsize=(3.6 * n_neurons, 2.8 * len(curves)),
                             squeeze=False)
    for row, (area, entry) in zip(axes, curves.items()):
        recorded = entry["recorded"]
        labels = [k for k in entry if k not in ("recorded", "neurons")]
        colors = {label: METHOD_STYLES.get(label, (f"C{i + 1}", "-"))
                  for i, label in enumerate(labels)}
        for k, ax in enumerate(row[:recorded.shape[-1]]):
            for s in range(min(n_stimuli, recorded.shape[0])):
                ax.plot(bins, recorded[s, :, k], "k", lw=2 - s * 0.8,
                        label="recorded" if s == 0 else None)
                for label in labels:
                    color, style = colors[label]
                    ax.plot(bins, entry[label][s, :, k], color=color,
                            ls=style, lw=1.5 - s * 0.6,
                            label=label if s == 0 else None)
            ax.set_title(f"{area} {entry['neurons'][k]}", fontsize=9)
            ax.set_xlabel("bin start (ms)", fontsize=8)
        row[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def dynamics_plot(dynamics, bin_start_ms, path):
    """Held-out score per bin of the recurrent fit and the baselines."""
    areas = dynamics["areas"]
    bins = np.asarray(bin_start_ms, float)
    kinds = ("heldout_stimuli", "heldout_neurons")
    fig, axes = plt.subplots(len(kinds), len(areas),
                             figsize=(5.5 * len(areas), 7), squeeze=False)
    for col, (area, entry) in enumerate(areas.items()):
        for row, kind in enumerate(kinds):
            ax = axes[row][col]
            for method in dynamics["methods"]:
                if kind not in entry[method]:
                    continue
                color, style = METHOD_STYLES.get(method, (None, "-"))
                score = entry[method][kind]
                common = score.get("mean_common_bins")
                label = (f"{method} (common bins {common:.3f})"
                         if common is not None else method)
                ax.plot(bins, _values(score["per_bin"]), color=color,
                        ls=style, label=label)
            ax.set(title=f"{area} ({entry['node']}), {kind.replace('_', ' ')}",
                   xlabel="bin start (ms)", ylabel="median Pearson r")
            ax.legend(fontsize=7)
    return _save(fig, path)


def _fmt(value):
    return "n/a" if value is None else f"{value:.3f}"


def ceiled_line(area, e, rule):
    """The summary line of an area's ceiled score (flags above 1)."""
    summary = e.get("summary", {})
    starts = summary.get("bin_start_ms") or []
    bins = (f"{len(starts)} bins {starts[0]:g}-{starts[-1]:g} ms"
            if starts else "no bin")
    line = (f"{area}: best node {e['best_node']}, raw "
            f"{_fmt(e['raw_score'])}, ceiling {_fmt(e['ceiling'])}; ceiled "
            f"{_fmt(e['ceiled_score'])} ({e['ceiling_version']}) over "
            f"{bins} with ceiling > {rule.get('min_ceiling', 0):g} "
            f"({rule.get('name')} v{rule.get('version')})")
    if e.get("above_ceiling"):
        line += (f" -- ABOVE THE CEILING in bins "
                 f"{summary.get('bins_above_ceiling')} (clipped at 1; "
                 f"unclipped {_fmt(e.get('ceiled_score_unclipped'))}): "
                 "features leaking the data or an overfit mapping?")
    return line


def dynamics_lines(area, kind, headline):
    """The common-bins comparison with its bootstrap intervals."""
    scores = headline["scores"]
    parts = [f"recurrent_fit {_fmt(scores.get('recurrent_fit'))}"]
    for baseline, d in headline["differences"].items():
        if d["mean"] is None:
            parts.append(f"{baseline}: {d['verdict']}")
            continue
        parts.append(
            f"{baseline} {_fmt(scores.get(baseline))} (difference "
            f"{d['mean']:+.3f}, {100 * headline['confidence']:g}% "
            f"[{d['low']:+.3f}, {d['high']:+.3f}]: {d['verdict']})")
    lines = [f"{area} dynamics, {kind}, mean over the "
             f"{len(headline['bins'])} bins where every method is defined: "
             + "; ".join(parts)]
    if not headline["recurrent_fit_wins"]:
        lines.append(f"{area} dynamics, {kind}: the recurrent fit does NOT "
                     "beat every baseline.")
    return lines


def _series(tag, values, description=""):
    for step, value in enumerate(values):
        if value is not None and np.isfinite(value):
            tf.summary.scalar(tag, float(value), step=step,
                              description=description or None)


def write_tensorboard(log_dir, report, images=()):
    """Writes the report's curves and the plots as TensorBoard summaries.

    Args:
        log_dir: the event-file folder.
        report: the fit_neural report.
        images: PNG paths to add as images.
    """
    writer = tf.summary.create_file_writer(log_dir)
    bins = report["bins"]["bin_start_ms"]
    about = f"step = bin index; bins start at {bins} ms"
    with writer.as_default():
        for area, entry in report["areas"].items():
            for node, curves in entry["nodes"].items():
                _series(f"sweep/{area}/{node}/score",
                        curves["score_per_bin"], about)
            _series(f"sweep/{area}/ceiling", entry["ceiling_per_bin"], about)
            for key in ("raw_score", "ceiling", "ceiled_score",
                        "ceiled_score_unclipped"):
                if entry.get(key) is not None:
                    tf.summary.scalar(f"summary/{area}/{key}", entry[key],
                                      step=0)
        dynamics = report.get("dynamics")
        if dynamics:
            for record in dynamics["fit"]["history"]:
                for key in ("loss", "val_loss"):
                    if record[key] is not None:
                        tf.summary.scalar(f"dynamics/{key}", record[key],
                                          step=record["epoch"])
            for area, entry in dynamics["areas"].items():
                for method in dynamics["methods"]:
                    for kind, score in entry[method].items():
                        _series(f"dynamics/{area}/{kind}/{method}",
                                score["per_bin"], about)
        for path in images:
            data = tf.io.read_file(path)
            image = tf.image.decode_png(data, channels=3)[None]
            name = os.path.splitext(os.path.basename(path))[0]
            tf.summary.image(f"plots/{name}", image, step=0)
    writer.flush()
    writer.close()
    return log_dir
