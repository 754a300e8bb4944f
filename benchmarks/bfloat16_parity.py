"""Does bfloat16 change results? (issue 14, item 2)

Two of the project's results, each with 3 seeds in float32 and in
mixed_bfloat16, every run in a fresh process:

  demo    `make demo`'s ConvRNN (gin_configs/tasks/demo_convrnn.gin)
          trained with `train.seed = k` and
          `DeviceSettings.mixed_precision` None or "mixed_bfloat16", its
          SavedModel evaluated on the held-out images: top-1 of the last
          step and of each decoder, and the training time;
  neural  `make neural-demo`'s synthetic V4/IT recordings generated with
          seed k (stimuli, "brain" and noise; the truth's recurrence with
          seed k + 1, so seed 0 is the demo's data set), then `fit_neural`'s layer
          sweep with `FeatureSettings.precision` "float32" or
          "mixed_bfloat16" (the same weights; only the forward pass
          differs): raw and ceiled score and the best node per area.

For every number it prints float32's mean and seed-to-seed standard
deviation, bfloat16's, the paired difference (bfloat16 − float32, same
seed) and whether its mean lies within float32's seed-to-seed SD.

Usage:
  python benchmarks/bfloat16_parity.py                      # both, 3 seeds
  python benchmarks/bfloat16_parity.py --parts neural --seeds 0
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRECISIONS = ("float32", "mixed_bfloat16")


def demo_child(precision, seed, base_dir):
    from training import demo, evaluation
    bindings = [f"train.seed = {seed}"]
    if precision != "float32":
        bindings.append(f'DeviceSettings.mixed_precision = "{precision}"')
    begin = time.perf_counter()
    result = demo.run_model("convrnn", os.path.join(
        base_dir, f"{precision}_seed{seed}"), gin_bindings=bindings)
    seconds = time.perf_counter() - begin
    report = evaluation.evaluate_saved_model(
        result["export_dir"], result["task"].eval_dataset())
    numbers = {"top1 last step": report["steps"]["top1"][-1]}
    for name, entry in report["decoders"].items():
        numbers[f"top1 {name} decoder"] = entry["top1"]
    return {"numbers": numbers, "train_seconds": seconds,
            "top1_per_step": report["steps"]["top1"]}


def neural_child(precision, seed, base_dir):
    import gin

    from training import cli, fit_neural
    from training.make_synthetic_ventral import make_synthetic_ventral
    from training.settings import RENAMED_BINDINGS
    folder = os.path.join(base_dir, f"data_seed{seed}")
    paths = {"data": os.path.join(folder, "synthetic_ventral.npz")}
    if not os.path.isfile(paths["data"]):
        paths = make_synthetic_ventral(paths["data"], seed=seed,
                                       truth_seed=seed + 1)
    else:
        paths["gin"] = paths["data"][:-len(".npz")] + ".gin"
    gin.clear_config()
    cli.parse_gin([paths["gin"]],
                  [f'FeatureSettings.precision = "{precision}"'],
                  RENAMED_BINDINGS)
    report = fit_neural.fit_neural(
        paths["data"], os.path.join(base_dir, f"fit_{precision}_{seed}"),
        similarity=False, verbose=0)
    numbers, best = {}, {}
    for area, entry in report["areas"].items():
        numbers[f"{area} raw score"] = entry["raw_score"]
        numbers[f"{area} ceiled score"] = entry["ceiled_score"]
        best[area] = entry["best_node"]
    return {"numbers": numbers, "best_node": best,
            "precision_recorded": report["features"]["precision"]}


def child(part, precision, seed, base_dir):
    sys.path.insert(0, ROOT)
    os.chdir(ROOT)
    run = {"demo": demo_child, "neural": neural_child}[part]
    result = run(precision, seed, os.path.join(base_dir, part))
    print("RESULT " + json.dumps(result), flush=True)


def measure(part, precision, seed, base_dir):
    command = [sys.executable, os.path.abspath(__file__), "--child", part,
               precision, str(seed), base_dir]
    proc = subprocess.run(command, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-8:]
    raise RuntimeError(f"{part} {precision} seed {seed} failed:\n"
                       + "\n".join(tail))


def mean_sd(values):
    import numpy as np
    values = np.asarray(values, float)
    sd = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    return float(values.mean()), sd


def summarise(part, runs, seeds):
    """Markdown rows: float32 and bfloat16 mean ± SD, paired difference."""
    names = list(runs[("float32", seeds[0])]["numbers"])
    lines = [f"\n{part}: mean ± seed-to-seed SD over seeds {seeds}; "
             f"difference = bfloat16 − float32 per seed",
             "| number | float32 | mixed_bfloat16 | paired difference "
             "(mean; per seed) | within float32's SD? |",
             "|---|---|---|---|---|"]
    for name in names:
        f32 = [runs[("float32", s)]["numbers"][name] for s in seeds]
        bf = [runs[("mixed_bfloat16", s)]["numbers"][name] for s in seeds]
        (m32, s32), (mbf, sbf) = mean_sd(f32), mean_sd(bf)
        diffs = [b - a for a, b in zip(f32, bf)]
        dmean = sum(diffs) / len(diffs)
        within = "yes" if abs(dmean) <= s32 else "**no**"
        lines.append(
            f"| {name} | {m32:.4f} ± {s32:.4f} | {mbf:.4f} ± {sbf:.4f} | "
            f"{dmean:+.4f}; " + ", ".join(f"{d:+.4f}" for d in diffs)
            + f" | {within} |")
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        part, precision, seed, base_dir = argv[1:5]
        return child(part, precision, int(seed), base_dir)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+", default=["neural", "demo"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--base_dir", default=os.path.join(ROOT, "runs",
                                                      "bfloat16_parity"))
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args(argv)
    base_dir = os.path.abspath(args.base_dir)
    print(f"bfloat16 parity: parts {args.parts}, seeds {args.seeds}, load "
          f"{os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs", flush=True)
    raw, lines = {}, []
    for part in args.parts:
        runs = {}
        for seed in args.seeds:   # seed-major: pairs finish together
            for precision in PRECISIONS:
                begin = time.time()
                runs[(precision, seed)] = res = measure(part, precision,
                                                        seed, base_dir)
                print(f"  {part} {precision:14s} seed {seed}: "
                      + json.dumps(res["numbers"])
                      + f" ({time.time() - begin:.0f} s, load "
                      f"{os.getloadavg()[0]:.2f})", flush=True)
                if "best_node" in res:
                    print(f"    best nodes {res['best_node']}, precision "
                          f"recorded {res['precision_recorded']}")
        lines += summarise(part, runs, args.seeds)
        if part == "demo":
            for precision in PRECISIONS:
                seconds = [runs[(precision, s)]["train_seconds"]
                           for s in args.seeds]
                lines.append(f"training time {precision}: "
                             + ", ".join(f"{s:.0f} s" for s in seconds))
        raw[part] = {f"{p}|{s}": v for (p, s), v in runs.items()}
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
