"""Layer sweep: score every candidate node over time, pick the best per area.

Model steps map to neural bins one-to-one by default (bin b <- step
b + step_offset, as Nayebi et al. map 10 ms steps onto 10 ms bins); pass
`model_steps` for any other alignment. The best node of an area is the one
with the highest raw score averaged over the selected bins (all bins by
default, or those starting inside `selection_ms`).

The summary ceiled score follows Brain-Score's time-binned benchmarks
(`tnn.neural.metrics.SUMMARY_RULE`: ceil each bin, average over declared
bins) restricted to the selected bins whose ceiling exceeds `min_ceiling`,
with each bin clipped at 1 and bins above the ceiling flagged
(`metrics.ceiled_summary`); the rule, its version and the bins used are
part of the report.
"""

import contextlib
import math

import numpy as np
import threadpoolctl

from tnn.neural import ceiling as ceiling_lib
from tnn.neural import crossval, metrics
from tnn.neural.data import NeuralData
from tnn.neural.mapping import make_mapping
from tnn.neural.splits import stimulus_splits


def bin_steps(n_bins, n_steps, step_offset=0, model_steps=None):
    """Model step feeding each neural bin.

    Args:
        n_bins: number of neural bins B.
        n_steps: number of model steps T available in the features.
        step_offset: bin b uses step b + step_offset (one-to-one mapping).
        model_steps: explicit [B] steps instead (overrides step_offset).

    Returns:
        int array [B].
    """
    if model_steps is not None:
        steps = np.asarray(model_steps)
        if steps.shape != (n_bins,) or steps.dtype.kind not in "iu":
            raise ValueError(
                f"model_steps must be {n_bins} integers (one per neural bin),"
                f" got {np.asarray(model_steps).tolist()}.")
    else:
        steps = int(step_offset) + np.arange(n_bins)
    bad = (steps < 0) | (steps >= n_steps)
    if bad.any():
        b = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"the model's {n_steps} time steps cannot cover the {n_bins} "
            f"neural bins: bin {b} needs step {int(steps[b])} (steps "
            f"{int(steps.min())}..{int(steps.max())}, offset {step_offset}). "
            f"Unroll the model for at least {int(steps.max()) + 1} steps, "
            "lower step_offset, or drop the late bins.")
    return steps.astype(int)


def _check_features(features, data, stimulus_ids):
    if not isinstance(features, dict) or not features:
        raise ValueError(
            "features must be a non-empty dict node -> array [N, T, D].")
    shapes = {}
    for node, value in features.items():
        arr = np.asarray(value)
        if arr.ndim != 3:
            raise ValueError(
                f"features of node {node!r} must be [stimuli, steps, dims], "
                f"got shape {arr.shape}; flatten each step's map to D dims.")
        if arr.shape[0] != data.n_stimuli:
            raise ValueError(
                f"node {node!r} has features for {arr.shape[0]} stimuli but "
                f"the neural data has {data.n_stimuli}; extract features for "
                "exactly the data's stimuli, in its order.")
        if not np.isfinite(arr).all():
            raise ValueError(f"features of node {node!r} contain NaN or inf.")
        shapes[node] = arr.shape
    if stimulus_ids is not None:
        ids = np.asarray(stimulus_ids).astype(str)
        if ids.shape != data.stimulus_id.shape:
            raise ValueError(
                f"{ids.size} feature stimulus ids for {data.n_stimuli} "
                "stimuli in the neural data.")
        wrong = np.flatnonzero(ids != data.stimulus_id)
        if wrong.size:
            i = int(wrong[0])
            hint = ("same ids in another order: reorder the features"
                    if set(ids) == set(data.stimulus_id) else
                    "different stimuli")
            raise ValueError(
                f"feature row {i} is stimulus {str(ids[i])!r} but the neural data "
                f"has {str(data.stimulus_id[i])!r} there ({wrong.size} "
                f"mismatches; {hint}).")
    return shapes


def _selected_bins(data, selection_ms):
    if selection_ms is None:
        return np.arange(data.n_bins)
    lo, hi = selection_ms
    sel = np.flatnonzero((data.bin_start_ms >= lo) & (data.bin_start_ms < hi))
    if sel.size == 0:
        raise ValueError(
            f"selection_ms={selection_ms} selects no bin; bins start at "
            f"{data.bin_start_ms.tolist()} ms.")
    return sel


def _jsonable(x):
    """float / list of floats with NaN -> None."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return None if not math.isfinite(float(arr)) else float(arr)
    return [_jsonable(v) for v in arr]


def _bin_mean(values, sel):
    """Mean over the selected bins (last axis); undefined bins count as 0.

    A bin is undefined (NaN) when the node's features or predictions are
    constant there, e.g. before a deep node's first output step; it has no
    predictivity, so it counts as 0 rather than being skipped (skipping
    would favour nodes that start late).
    """
    return np.nan_to_num(np.asarray(values)[..., sel], nan=0.0).mean(-1)


def _node_report(result, ceil, sel, summary, version):
    per_split_mean = _bin_mean(result["per_split"], sel)
    mean, err = metrics.split_mean_and_sem(per_split_mean)
    ceiled = metrics.ceiled_score(result["score"], ceil, version)
    ceiled_mean = metrics.ceiled_summary(result["score"], ceil, summary,
                                         version)
    report = {"score_per_bin": _jsonable(result["score"]),
              "error_per_bin": _jsonable(result["error"]),
              "ceiled_per_bin": _jsonable(ceiled),
              "mean_score": _jsonable(mean), "mean_error": _jsonable(err),
              "mean_ceiled": _jsonable(ceiled_mean["ceiled_score"]),
              "mean_ceiled_unclipped": _jsonable(
                  ceiled_mean["ceiled_score_unclipped"]),
              "above_ceiling": ceiled_mean["above_ceiling"]}
    if "heldout" in result:
        held = result["heldout"]
        report["heldout_score_per_bin"] = _jsonable(held["score"])
        report["heldout_error_per_bin"] = _jsonable(held["error"])
        report["heldout_mean_score"] = _jsonable(_bin_mean(held["score"],
                                                           sel))
    return report


def _summary_rule(selection_ms, min_ceiling):
    window = None if selection_ms is None else [float(v) for v in
                                                selection_ms]
    return {"name": metrics.SUMMARY_RULE,
            "version": metrics.SUMMARY_RULE_VERSION,
            "window_ms": window, "min_ceiling": float(min_ceiling),
            "clip_per_bin": 1.0,
            "description": (
                "mean over the bins starting in window_ms (all if None) "
                "whose ceiling > min_ceiling of the per-bin ceiled score "
                "(Brain-Score: explained_variance per time bin, mean over "
                "the benchmark's bins), each bin clipped at 1; "
                "ceiled_score_unclipped keeps Brain-Score's unclipped "
                "mean and above_ceiling flags any bin above 1")}


def _summary(raw, ceil, bins, bin_start_ms, version):
    """The best node's summary bins, with their raw score and ceiling."""
    out = metrics.ceiled_summary(raw, ceil, bins, version)
    raw = np.nan_to_num(np.asarray(raw, np.float64), nan=0.0)
    return {"bins": bins.tolist(),
            "bin_start_ms": _jsonable(np.asarray(bin_start_ms)[bins]),
            "raw_score": _jsonable(raw[bins].mean() if bins.size
                                   else np.nan),
            "ceiling": _jsonable(ceil[bins].mean() if bins.size
                                 else np.nan),
            "bins_above_ceiling": out["bins_above_ceiling"]}


def layer_sweep(features, data, areas=None, mapping="pls",
                shared_across_bins=False, step_offset=0, model_steps=None,
                n_splits=10, train_size=0.9, seed=1, ceiling_splits=10,
                ceiling_seed=1, ceiling_version="r2_over_ceiling_2026",
                selection_ms=None, n_neuron_folds=0, stimulus_ids=None,
                blas_threads=1, progress=None,
                min_ceiling=metrics.DEFAULT_MIN_CEILING):
    """Scores every node against every area over time; picks the best node.

    Args:
        features: dict node -> [N, T, D] features over model steps, rows in
            the order of `data.stimulus_id`.
        data: a NeuralData.
        areas: areas to score (default: all, in order of appearance).
        mapping: "pls", "ridge", or a PLSMapping / RidgeMapping.
        shared_across_bins: one mapping for all bins (Brain-Score
            "spantime") instead of one per bin.
        step_offset: bin b uses model step b + step_offset.
        model_steps: explicit [B] model steps, overriding step_offset.
        n_splits, train_size, seed: stimulus splits (Brain-Score: 10, 0.9,
            1; stratified by `data.object_label` when present).
        ceiling_splits, ceiling_seed: split-halves of the ceiling.
        ceiling_version: ceiled-score definition (metrics.CEILING_VERSIONS).
        selection_ms: (start, end) window of bin starts used to rank nodes
            and to average the summary numbers; None uses every bin.
        min_ceiling: the ceiled summary averages only the selected bins
            whose ceiling exceeds this (`metrics.summary_bins`).
        n_neuron_folds: >= 2 adds held-out-neuron scores per node.
        stimulus_ids: optional [N] ids of the feature rows, checked against
            `data.stimulus_id`.
        blas_threads: BLAS threads while fitting (the batched fits run many
            medium-sized products, where BLAS threading costs more than it
            gains, badly so on a loaded machine); None keeps the setting.
        progress: optional callable receiving one message per node.

    Returns:
        A JSON-ready dict: "mapping", "splits", "ceiling", "bins" and
        "areas" -> area -> {"best_node", "raw_score", "raw_error",
        "ceiling", "ceiled_score", "ceiling_version", "ceiling_per_bin",
        "ceiling_error_per_bin", "n_neurons", "summary", "nodes" -> node ->
        per-bin curves}; "raw_score" and "ceiling" average the selected
        bins, "ceiled_score" (clipped per bin at 1),
        "ceiled_score_unclipped", "above_ceiling" and "summary" (its bins,
        raw score and ceiling) the summary bins; "summary_rule" names the
        rule; NaN appears as None.
    """
    if not isinstance(data, NeuralData):
        raise ValueError(f"data must be a NeuralData, got {type(data)}.")
    metrics.check_ceiling_version(ceiling_version)
    metrics.summary_bins(np.zeros(1), [], min_ceiling)  # checks it
    mapping = make_mapping(mapping)
    shapes = _check_features(features, data, stimulus_ids)
    areas = list(data.areas if areas is None else areas)
    indices = {a: data.area_indices(a) for a in areas}
    steps = {node: bin_steps(data.n_bins, shape[1], step_offset, model_steps)
             for node, shape in shapes.items()}
    sel = _selected_bins(data, selection_ms)
    splits = stimulus_splits(data.n_stimuli, data.object_label, n_splits,
                             train_size, seed)
    average = data.trial_average()
    targets = {a: average[..., idx] for a, idx in indices.items()}
    ceilings = {a: ceiling_lib.split_half_ceiling(
        data.responses[..., idx], ceiling_splits, ceiling_seed)
        for a, idx in indices.items()}
    limit = (contextlib.nullcontext() if blas_threads is None else
             threadpoolctl.threadpool_limits(int(blas_threads)))
    scores = {}
    with limit:
        for node, value in features.items():
            if progress is not None:
                progress(f"scoring node {node!r}")
            scores[node] = crossval.node_scores(
                value, steps[node], targets, splits, mapping,
                shared_across_bins, n_neuron_folds)
    report = {
        "mapping": dict(mapping.describe(),
                        shared_across_bins=bool(shared_across_bins)),
        "splits": {"n_splits": int(n_splits), "train_size": float(train_size),
                   "seed": int(seed),
                   "stratified": data.object_label is not None},
        "ceiling": {"method": "split-half Spearman-Brown, median over "
                              "neurons, mean over splits",
                    "n_splits": int(ceiling_splits),
                    "seed": int(ceiling_seed)},
        "bins": {"bin_start_ms": _jsonable(data.bin_start_ms),
                 "bin_width_ms": float(data.bin_width_ms),
                 "model_steps": {n: s.tolist() for n, s in steps.items()},
                 "selected": sel.tolist()},
        "summary_rule": _summary_rule(selection_ms, min_ceiling),
        "areas": {}}
    for area in areas:
        ceil = ceilings[area]["ceiling"]
        summary = metrics.summary_bins(ceil, sel, min_ceiling)
        nodes = {node: _node_report(scores[node][area], ceil, sel, summary,
                                    ceiling_version) for node in features}
        means = [_bin_mean(scores[n][area]["score"], sel) for n in features]
        best = list(features)[int(np.argmax(means))]
        best_report = nodes[best]
        report["areas"][area] = {
            "n_neurons": int(indices[area].size), "best_node": best,
            "raw_score": best_report["mean_score"],
            "raw_error": best_report["mean_error"],
            "ceiling": _jsonable(ceil[sel].mean()),
            "ceiled_score": best_report["mean_ceiled"],
            "ceiled_score_unclipped": best_report["mean_ceiled_unclipped"],
            "above_ceiling": best_report["above_ceiling"],
            "ceiling_version": ceiling_version,
            "summary": _summary(scores[best][area]["score"], ceil, summary,
                                data.bin_start_ms, ceiling_version),
            "ceiling_per_bin": _jsonable(ceil),
            "ceiling_error_per_bin": _jsonable(ceilings[area]["error"]),
            "nodes": nodes}
    return report
