"""RSA and linear CKA next to the mapping scores of `training.fit_neural`.

For the best node of each area (the layer sweep's), per time bin: RSA
(Spearman between correlation-distance RDMs) and linear CKA between the
node's features at the bin's model step and the trial-averaged responses,
each with its split-half ceiling and ceiled value (raw / ceiling); see
`tnn.neural.similarity` for the definitions. The features are those the
sweep used (random projections of large nodes, which preserve distances
approximately), so RSA and CKA are measured on the same representation.

The report's "similarity" entry, per area: "node", and for "rsa" and
"cka" the per-bin curves ("raw_per_bin", "ceiling_per_bin",
"ceiling_error_per_bin", "ceiled_per_bin") and the summary over the
sweep's selected bins ("raw", "ceiling": means; "ceiled": mean of the
per-bin ceiled values over the selected bins whose ceiling exceeds the
sweep's min_ceiling, unclipped; "bins": those bins).
"""

import numpy as np
import tensorflow as tf

from tnn.neural import similarity
from . import report as neural_report

METRICS = (("rsa", "RSA"), ("cka", "CKA"))


def _jsonable(values):
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        return float(arr) if np.isfinite(arr) else None
    return [_jsonable(v) for v in arr]


def similarity_report(features, data, sweep, n_splits=10, seed=1,
                      min_ceiling=0.1):
    """RSA and CKA per bin for each area's best node.

    Args:
        features: dict node -> [N, T, D] (the sweep's features).
        data: the NeuralData.
        sweep: `tnn.neural.layer_sweep`'s report.
        n_splits, seed: split-halves of the ceilings.
        min_ceiling: bins with a ceiling at or below it are left out of
            the ceiled summary.

    Returns:
        JSON-ready dict (module docs).
    """
    selected = np.asarray(sweep["bins"]["selected"], dtype=int)
    out = {"method": {
        "rsa": "Spearman between upper triangles of 1 - Pearson RDMs",
        "cka": "linear CKA (Kornblith et al. 2019), column-centred",
        "ceiling": "split-half of trials, Spearman-Brown, mean over "
                   f"{int(n_splits)} splits (seed {int(seed)})",
        "ceiled": "raw / ceiling", "min_ceiling": float(min_ceiling)},
        "areas": {}}
    for area, entry in sweep["areas"].items():
        node = entry["best_node"]
        idx = data.area_indices(area)
        result = similarity.similarity_per_bin(
            features[node], data.responses[..., idx],
            sweep["bins"]["model_steps"][node], n_splits, seed)
        area_out = {"node": node}
        for key, _ in METRICS:
            r = result[key]
            ceil = r["ceiling"]
            keep = selected[np.isfinite(ceil[selected])
                            & (ceil[selected] > min_ceiling)]
            area_out[key] = {
                "raw_per_bin": _jsonable(r["raw"]),
                "ceiling_per_bin": _jsonable(ceil),
                "ceiling_error_per_bin": _jsonable(r["error"]),
                "ceiled_per_bin": _jsonable(r["ceiled"]),
                "raw": _jsonable(np.nanmean(r["raw"][selected])
                                 if np.isfinite(r["raw"][selected]).any()
                                 else np.nan),
                "ceiling": _jsonable(np.nanmean(ceil[selected])
                                     if np.isfinite(ceil[selected]).any()
                                     else np.nan),
                "ceiled": _jsonable(np.nan_to_num(r["ceiled"][keep]).mean()
                                    if keep.size else np.nan),
                "bins": keep.tolist()}
        out["areas"][area] = area_out
    return out


def _fmt(value):
    return "n/a" if value is None else f"{value:.3f}"


def area_line(area, entry):
    """One terminal line: RSA and CKA raw / ceiling / ceiled."""
    parts = [f"{name} raw {_fmt(entry[key]['raw'])}, ceiling "
             f"{_fmt(entry[key]['ceiling'])}, ceiled "
             f"{_fmt(entry[key]['ceiled'])} ({len(entry[key]['bins'])} "
             "bins)" for key, name in METRICS]
    return f"{area} similarity, node {entry['node']}: " + "; ".join(parts)


def similarity_plot(report, path):
    """Per area: RSA, CKA (solid) and their ceilings (dashed) per bin,
    with the best node's mapping score (grey) for reference."""
    import matplotlib.pyplot as plt
    areas = report["similarity"]["areas"]
    bins = np.asarray(report["bins"]["bin_start_ms"], float)
    fig, axes = plt.subplots(1, len(areas), figsize=(5.5 * len(areas), 4),
                             squeeze=False)
    for ax, (area, entry) in zip(axes[0], areas.items()):
        for (key, name), color in zip(METRICS, ("C0", "C3")):
            ax.plot(bins, neural_report._values(entry[key]["raw_per_bin"]),
                    color=color, label=f"{name}")
            ax.plot(bins, neural_report._values(
                entry[key]["ceiling_per_bin"]), color=color, ls="--",
                lw=1, label=f"{name} ceiling")
        mapping = report["areas"][area]["nodes"][entry["node"]]
        ax.plot(bins, neural_report._values(mapping["score_per_bin"]),
                color="0.5", lw=1, label="mapping r")
        ax.set(title=f"{area}: {entry['node']}", xlabel="bin start (ms)",
               ylabel="similarity")
        ax.legend(fontsize=8)
    return neural_report._save(fig, path)


def write_tensorboard(log_dir, report):
    """Per-bin series similarity/{area}/{rsa,cka}/{raw,ceiling,ceiled}."""
    writer = tf.summary.create_file_writer(log_dir)
    about = (f"step = bin index; bins start at "
             f"{report['bins']['bin_start_ms']} ms")
    with writer.as_default():
        for area, entry in report["similarity"]["areas"].items():
            for key, _ in METRICS:
                for curve in ("raw", "ceiling", "ceiled"):
                    for step, value in enumerate(
                            entry[key][f"{curve}_per_bin"]):
                        if value is not None:
                            tf.summary.scalar(
                                f"similarity/{area}/{key}/{curve}", value,
                                step=step, description=about)
    writer.flush()
    writer.close()
