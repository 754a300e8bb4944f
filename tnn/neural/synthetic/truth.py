"""Checks of a neural fit against the ground truth of synthetic data.

`truth_checks(report, truth)` compares a `training.fit_neural` report with
the truth written by `training.make_synthetic_ventral`, per area:

- node recovery: the sweep's best node is the node that drives the area;
- ceiling: the estimated split-half ceiling averaged over the selected
  bins vs the true reliability averaged over the same bins (tolerance
  0.02), plus per-bin errors (mean over bins; maximum over the reliable
  bins, true reliability >= 0.5) for information;
- with the dynamics fit: whether it beats both baselines on held-out
  stimuli and on held-out neurons (`beats_baselines` of the report's
  headline: on the bins where every method is defined, every bootstrap
  interval of the difference above 0).

`failed_checks` lists what failed; the entry point exits with status 1
when something did. Node recovery and the ceiling check the pipeline
against a known answer; whether the recurrent fit beats its baselines is
a scientific result, not a check of the pipeline: it is reported (and
printed with its intervals) but never fails the run.
"""

import numpy as np


def truth_checks(report, truth, tolerance=0.02):
    """Recovered nodes and ceilings against a synthetic truth.

    Args:
        report: a fit_neural report (needs "areas", "bins"; "dynamics"
            optional).
        truth: the truth dict (per area "node", "reliability_per_bin").
        tolerance: allowed |ceiling mean - true reliability mean|.

    Returns:
        dict area -> JSON-ready check results (module docs).
    """
    checks = {}
    selected = report["bins"]["selected"]
    for area, entry in report["areas"].items():
        if area not in truth["areas"]:
            continue
        true = truth["areas"][area]
        rel = np.asarray(true["reliability_per_bin"], float)
        est = np.asarray([np.nan if v is None else v
                          for v in entry["ceiling_per_bin"]], float)
        reliable = [b for b in selected if rel[b] >= 0.5]
        mean_error = abs(float(np.nanmean(est[selected]))
                         - float(rel[selected].mean()))
        checks[area] = {
            "true_node": true["node"], "best_node": entry["best_node"],
            "node_recovered": entry["best_node"] == true["node"],
            "true_reliability_mean": float(rel[selected].mean()),
            "ceiling_mean": float(np.nanmean(est[selected])),
            "ceiling_mean_abs_error": mean_error,
            "ceiling_within_tolerance": mean_error <= tolerance,
            "tolerance": tolerance,
            "reliable_bins": reliable,
            "max_abs_error_reliable_bins": (
                float(np.nanmax(np.abs(est[reliable] - rel[reliable])))
                if reliable else None),
            "mean_abs_error_per_bin": float(np.nanmean(np.abs(
                est[selected] - rel[selected])))}
        dynamics = report.get("dynamics", {}).get("areas", {}).get(area)
        if dynamics:
            checks[area]["recurrent_fit_beats_baselines"] = dynamics[
                "beats_baselines"]
    return checks


def failed_checks(checks):
    """One message per failed check (empty when all pass)."""
    failed = []
    for area, c in checks.items():
        if not c["node_recovered"]:
            failed.append(f"{area}: best node {c['best_node']} != "
                          f"{c['true_node']}")
        if not c["ceiling_within_tolerance"]:
            failed.append(f"{area}: ceiling off by "
                          f"{c['ceiling_mean_abs_error']:.3f}")
    return failed
