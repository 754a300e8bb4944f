"""`replication.md` and the plots of `training.replication_report`."""

import os

COMMAND = ("python -m training.replicate --gin_files=replication/small "
           "--base_dir={base_dir} --workers=2")
SEARCH_COMMAND = ("python -m training.search --gin_files=replication/search "
                  "--base_dir={search_dir}")


def _ci(t, digits=3):
    return f"{t['mean']:.{digits}f} [{t['low']:.{digits}f}, {t['high']:.{digits}f}]"


def _signed(t):
    return f"{t['mean']:+.3f} [{t['low']:+.3f}, {t['high']:+.3f}]"


def _p(d):
    return "–" if d["p"] != d["p"] else f"{d['p']:.3g}"


def cells_markdown(report):
    ref = report["reference"]
    lines = [
        "## (a) Cells at a matched parameter budget",
        "",
        f"Held-out top-1 (`last` decoder, averaged over the occlusion "
        f"levels of (b): 1,000 held-out digits each), mean over seeds "
        f"with 95% t interval; the difference to `{ref}` is paired by "
        f"seed (same images), with its 95% interval, paired t-test p and "
        f"the seeds the arm won. Ranked by mean.",
        "",
        f"| rank | arm | params | widths | steps | top-1 [95% CI] | − {ref} "
        f"[95% CI] | p | wins | s/run* |",
        "|---|---|---|---|---|---|---|---|---|---|"]
    for i, row in enumerate(report["cells"], start=1):
        d = row["vs_reference"]
        lines.append(
            f"| {i} | {row['arm']} | {row['num_params']:,} | "
            f"{'/'.join(map(str, row['widths']))} | {row['times']} | "
            f"{_ci(row['top1'])} | "
            f"{'reference' if d is None else _signed(d)} | "
            f"{'' if d is None else _p(d)} | "
            f"{'' if d is None else str(d['wins']) + '/' + str(d['n'])} | "
            f"{row['train_seconds']:.0f} |")
    better = [r["arm"] for r in report["cells"] if r["vs_reference"]
              and r["vs_reference"]["low"] > 0]
    worse = [r["arm"] for r in report["cells"] if r["vs_reference"]
             and r["vs_reference"]["high"] < 0]
    rank = [r["arm"] for r in report["cells"]].index(ref) + 1
    lines += ["", f"`{ref}` ranks {rank} of {len(report['cells'])}. "
              f"Above it (interval of the difference above 0): "
              f"{', '.join(better) or 'none'}; below it: "
              f"{', '.join(worse) or 'none'}; the others are within "
              f"the seed-to-seed spread.", "",
              "*training wall time per run, measured while other jobs "
              "shared the machine: a rough cost, not a benchmark."]
    return lines


def occlusion_markdown(report):
    table = report["occlusion"]
    ref = report["reference"]
    arms = list(table["arms"])
    lines = [
        "## (b) Recurrence under occlusion",
        "",
        f"Held-out top-1 (`last`) at each occlusion level (the share of the "
        f"digit's ink hidden; achieved mean in parentheses), every arm "
        f"trained once per seed on the mixture; `{ref} − none` is the "
        f"paired difference to the parameter-matched feed-forward control.",
        "",
        "| level (achieved) | " + " | ".join(arms) + f" | {ref} − none | "
        "separated? |",
        "|---|" + "---|" * (len(arms) + 2)]
    for i, level in enumerate(table["levels"]):
        cells = [_ci(table["arms"][a][i]) for a in arms]
        diff = table["difference"][i] if table["difference"] else None
        lines.append(
            f"| {float(level):.1f} ({table['coverage'][level]:.2f}) | "
            + " | ".join(cells) + " | "
            + ("" if diff is None else _signed(diff)) + " | "
            + ("" if diff is None else diff["verdict"]) + " |")
    sep = table["separates_from"]
    lines += ["", ("The curves separate (interval of the difference above 0) "
                   f"from level {sep} on." if sep is not None else
                   "At no level does the interval of the difference exclude "
                   "0 in favour of recurrence.")]
    return lines


def searched_markdown(report):
    s = report.get("searched")
    if not s:
        return []
    ref = report["reference"]
    d, b = s["vs_reference"], s["vs_best_hand_designed"]
    return [
        "## (c) Searched vs hand-designed",
        "",
        f"The best trial of the search at the same budget, retrained with "
        f"the same seeds and schedule: {s['num_params']:,} parameters, "
        f"{s['times']} steps; choices `{s['choices']}`.",
        "",
        "| | top-1 [95% CI] | searched − it [95% CI] | p | wins | replicates? |",
        "|---|---|---|---|---|---|",
        f"| searched | {_ci(s['top1'])} | | | | |",
        f"| {ref} (hand-designed) | | {_signed(d)} | {_p(d)} | "
        f"{d['wins']}/{d['n']} | {d['verdict']} |",
        f"| best hand-designed arm ({b['arm']}) | | {_signed(b)} | {_p(b)} | "
        f"{b['wins']}/{b['n']} | |"]


def write_markdown(report, base_dir, search_dir=None):
    search_dir = search_dir or report.get("search_dir")
    lines = ["# Replication of the NeurIPS 2018 findings at small scale", "",
             f"Generated by `training.replicate` on {report['written']} "
             f"({report['machine']}). Seeds per arm: "
             f"{report['seeds_found']}.", ""]
    if report["few_seeds"]:
        lines += [f"**Fewer than 5 seeds for {report['few_seeds']}: not "
                  f"yet evidence.**", ""]
    lines += cells_markdown(report) + [""]
    if "occlusion" in report:
        lines += occlusion_markdown(report) + [""]
    lines += searched_markdown(report) + [""]
    lines += ["Discussion: `benchmarks/RESULTS.md`, \"Architecture search "
              "and replication\".", "", "## Reproduce", "", "```",
              SEARCH_COMMAND.format(search_dir=search_dir or
                                    "<base_dir>/search"),
              COMMAND.format(base_dir=base_dir), "```", ""]
    with open(os.path.join(base_dir, "replication.md"), "w") as f:
        f.write("\n".join(lines))


def plot(report, runs, base_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = report["cells"]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, row in enumerate(rows):
        t = row["top1"]
        seeds = [r["top1"] for r in runs[row["arm"]].values()]
        ax.scatter([i] * len(seeds), seeds, s=10, color="0.6", zorder=2)
        ax.errorbar(i, t["mean"], yerr=[[t["mean"] - t["low"]],
                                        [t["high"] - t["mean"]]],
                    fmt="o", color="C0", capsize=4, zorder=3)
    ax.set_xticks(range(len(rows)), [r["arm"] for r in rows])
    ax.set_ylabel("held-out top-1 (95% CI)")
    ax.set_title("Cells at a matched parameter budget")
    fig.tight_layout()
    fig.savefig(os.path.join(base_dir, "cells.png"), dpi=120)
    plt.close(fig)
    table = report.get("occlusion")
    if not table:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = [table["coverage"][lv] for lv in table["levels"]]
    for arm, values in table["arms"].items():
        mean = [v["mean"] for v in values]
        ax.plot(x, mean, marker="o", label=arm,
                lw=2.5 if arm in (report["reference"], "none") else 1)
        if arm in (report["reference"], "none"):
            ax.fill_between(x, [v["low"] for v in values],
                            [v["high"] for v in values], alpha=0.2)
    ax.set_xlabel("share of the digit hidden (achieved)")
    ax.set_ylabel("held-out top-1")
    ax.legend(fontsize=7)
    ax.set_title("Accuracy against occlusion (95% CI shaded)")
    fig.tight_layout()
    fig.savefig(os.path.join(base_dir, "occlusion.png"), dpi=120)
    plt.close(fig)
