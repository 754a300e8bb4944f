"""Tables, statistics and plots of `training.replicate`.

Every number is a mean over seeds with its 95% confidence interval
(Student t, n − 1 degrees of freedom). Arms are compared per seed (the
same images for every arm of a seed): differences to the reference arm
are paired, with their own 95% interval, a paired t-test p-value and the
number of seeds the arm won. A claim "replicates" here when the interval
of the difference excludes zero in the claimed direction; otherwise the
table says it does not, with the numbers.

Writes into `base_dir`: `report.json`, `replication.md` (the tables and
how to reproduce them), `cells.png` and `occlusion.png`.
"""

import glob
import json
import math
import os
import platform
import time

import numpy as np

MIN_SEEDS = 5


def interval(values, confidence=0.95):
    """`{"mean", "low", "high", "sd", "n"}` (t interval; NaN bounds n<2)."""
    from scipy import stats
    values = np.asarray(values, np.float64)
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    if n < 2:
        return {"mean": mean, "low": math.nan, "high": math.nan,
                "sd": math.nan, "n": n}
    sd = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "sd": sd,
            "n": n}


def paired(values, reference):
    """Paired difference `values − reference` over common seeds."""
    from scipy import stats
    seeds = sorted(set(values) & set(reference))
    diff = np.array([values[s] - reference[s] for s in seeds])
    result = interval(diff)
    result["wins"] = int((diff > 0).sum())
    result["p"] = (float(stats.ttest_rel([values[s] for s in seeds],
                                         [reference[s] for s in seeds]).pvalue)
                   if len(seeds) > 1 and diff.std() > 0 else math.nan)
    return result


def verdict(diff, direction=1):
    """"yes" if the interval excludes 0 in `direction`, "opposite" if it
    excludes 0 the other way, else "no (interval includes 0)"."""
    if math.isnan(diff["low"]):
        return "undetermined (fewer than 2 seeds)"
    lo, hi = sorted((direction * diff["low"], direction * diff["high"]))
    if lo > 0:
        return "yes"
    if hi < 0:
        return "opposite (interval excludes 0 the other way)"
    return "no (interval includes 0)"


def load_runs(base_dir):
    """`{arm: {seed: record}}` of the written runs."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(base_dir, "runs", "*",
                                              "seed*.json"))):
        with open(path) as f:
            record = json.load(f)
        runs.setdefault(record["arm"], {})[record["seed"]] = record
    return runs


def _top1(runs, arm, level=None):
    if level is None:
        return {s: r["top1"] for s, r in runs.get(arm, {}).items()}
    return {s: r["levels"][level]["top1"]
            for s, r in runs.get(arm, {}).items() if level in r["levels"]}


def cells_table(runs, arms, reference):
    rows = []
    ref = _top1(runs, reference)
    for arm in arms:
        if arm not in runs:
            continue
        values = _top1(runs, arm)
        records = list(runs[arm].values())
        rows.append({"arm": arm, "top1": interval(list(values.values())),
                     "vs_reference": None if arm == reference else
                     paired(values, ref),
                     "num_params": records[0]["num_params"],
                     "widths": records[0]["widths"],
                     "times": records[0]["times"],
                     "train_seconds": float(np.mean(
                         [r["train_seconds"] for r in records]))})
    rows.sort(key=lambda r: -r["top1"]["mean"])
    return rows


def occlusion_table(runs, arms, reference, feedforward="none"):
    levels = sorted({lv for arm in runs.values() for r in arm.values()
                     for lv in r["levels"]}, key=float)
    table = {"levels": levels, "arms": {}, "difference": [],
             "coverage": {}}
    for arm in arms:
        if arm in runs:
            table["arms"][arm] = [interval(list(_top1(runs, arm, lv)
                                                .values())) for lv in levels]
    for lv in levels:
        cov = [r["levels"][lv]["coverage"] for arm in runs.values()
               for r in arm.values() if lv in r["levels"]]
        table["coverage"][lv] = float(np.mean([c for c in cov
                                               if c is not None] or [0.0]))
        if reference in runs and feedforward in runs:
            diff = paired(_top1(runs, reference, lv),
                          _top1(runs, feedforward, lv))
            diff["verdict"] = verdict(diff)
            table["difference"].append(diff)
    separated = [lv for lv, d in zip(levels, table["difference"])
                 if d["verdict"] == "yes"]
    table["separates_from"] = separated[0] if separated else None
    return table


def write_report(base_dir, claims, arms, reference, seeds, search_dir=None):
    runs = load_runs(base_dir)
    report = {"claims": list(claims), "reference": reference,
              "search_dir": search_dir,
              "seeds_requested": seeds,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
              "written": time.strftime("%Y-%m-%d %H:%M"),
              "seeds_found": {a: len(r) for a, r in runs.items()}}
    report["cells"] = cells_table(runs, list(arms), reference)
    if "occlusion" in claims:
        report["occlusion"] = occlusion_table(runs, list(arms), reference)
    if "searched" in claims and "searched" in runs:
        searched, ref = _top1(runs, "searched"), _top1(runs, reference)
        best_hand = max((r for r in report["cells"] if r["arm"] != "none"),
                        key=lambda r: r["top1"]["mean"])
        diff = paired(searched, ref)
        diff["verdict"] = verdict(diff)
        record = next(iter(runs["searched"].values()))
        report["searched"] = {
            "top1": interval(list(searched.values())),
            "vs_reference": diff,
            "vs_best_hand_designed": dict(
                paired(searched, _top1(runs, best_hand["arm"])),
                arm=best_hand["arm"]),
            "num_params": record["num_params"], "choices": record["choices"],
            "times": record["times"]}
    report["few_seeds"] = sorted(a for a, n in report["seeds_found"].items()
                                 if n < MIN_SEEDS)
    with open(os.path.join(base_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    from . import replication_tables
    replication_tables.write_markdown(report, base_dir)
    replication_tables.plot(report, runs, base_dir)
    return report


def summary(report):
    lines = [f"{'arm':<10} {'top-1':>7}  95% CI           vs {report['reference']}"]
    for row in report["cells"]:
        t, d = row["top1"], row["vs_reference"]
        vs = "" if d is None else f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
        lines.append(f"{row['arm']:<10} {t['mean']:7.3f}  [{t['low']:.3f}, "
                     f"{t['high']:.3f}]  {vs}")
    if report.get("few_seeds"):
        lines.append(f"fewer than {MIN_SEEDS} seeds: {report['few_seeds']}")
    return "\n".join(lines)
