"""Build + first-step trace time flat in T (issue 14, item 3).

Target: graph build + first-step trace of a training step at T = 64 at most
1.5 × that at T = 8, in both unroll modes, with the default time loop.

Every measurement runs in a fresh process (no trace cache, no warm
allocator) and times

  (a) model construction + build (`tnn.create_model`, weights created),
  (b) the first training step (`train_on_batch`: Keras traces and
      optimises its train function, creates the optimizer's variables and
      runs the step),
  (c) a second training step (the step alone),

so that (a) + (b) − (c) is the build + trace cost of a training step. The
model is the issue's: `rgc_shallow` at 128 px, 1000 classes, batch 16,
cross-entropy of the last step's logits, SGD with momentum 0.9. The
configurations are run in alternation, `--repeats` times; medians (and the
spread) of each are printed, then the ratios T=64 / T=8 per unroll mode and
time loop, and the steady-state step (c) at each T.

Usage:
  python benchmarks/trace_time.py                   # the issue's setting
  python benchmarks/trace_time.py --loops auto      # default loop only
  python benchmarks/trace_time.py --batch 2 --repeats 1   # quick look
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ("biological", "feedforward")


def log(*args):
    print(*args, flush=True)


# --- child: one measurement in a fresh process -------------------------------

def child(cfg):
    sys.path.insert(0, ROOT)
    import keras
    import numpy as np

    import tnn

    rng = np.random.default_rng(0)
    images = rng.standard_normal(
        (cfg["batch"], cfg["size"], cfg["size"], 3)).astype("float32")
    labels = rng.integers(0, 1000, cfg["batch"]).astype("int32")

    def last_step_ce(y_true, logits):
        return keras.losses.sparse_categorical_crossentropy(
            y_true, logits[:, -1], from_logits=True)

    def clock():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return np.array([time.perf_counter(), r.ru_utime + r.ru_stime,
                         r.ru_stime])

    keras.utils.set_random_seed(0)
    start = clock()
    model = tnn.create_model(
        cfg["model"], input_shape=(cfg["size"], cfg["size"], 3),
        num_classes=1000, times=cfg["times"],
        image_off=min(12, cfg["times"]), unroll=cfg["unroll"],
        time_loop=cfg["loop"])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=last_step_ce)
    build = clock() - start
    steps = []
    for _ in range(2):
        start = clock()
        loss = model.train_on_batch(images, labels)
        float(np.asarray(loss))
        steps.append(clock() - start)
    # [wall, cpu (user + sys), sys] seconds of each phase.
    print(json.dumps({"build": build.tolist(), "first": steps[0].tolist(),
                      "second": steps[1].tolist()}))


def measure(cfg):
    cmd = [sys.executable, os.path.abspath(__file__), "--child",
           json.dumps(cfg)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"child {cfg} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- parent ------------------------------------------------------------------

def trace_cost(res):
    """(a) + (b) - (c): [wall, CPU, sys] seconds of build + trace."""
    return [res["build"][i] + res["first"][i] - res["second"][i]
            for i in range(3)]


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return (values[mid] if len(values) % 2
            else (values[mid - 1] + values[mid]) / 2)


def load():
    return os.getloadavg()[0]


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(json.loads(sys.argv[2]))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="rgc_shallow")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--times", type=int, nargs=2, default=[8, 64])
    p.add_argument("--modes", nargs="+", default=list(MODES))
    p.add_argument("--loops", nargs="+", default=["auto", "symbolic",
                                                   "python"])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", help="also write the raw results here")
    args = p.parse_args()
    short, long_ = args.times
    configs = [(loop, mode, T) for loop in args.loops
               for mode in args.modes for T in (short, long_)]
    log(f"trace time: {args.model} at {args.size}px, batch {args.batch}, "
        f"T={short} vs T={long_}, loops {args.loops}, modes {args.modes}, "
        f"{args.repeats} repeats; load {load():.2f}, {os.cpu_count()} CPUs")
    raw = {c: [] for c in configs}
    for r in range(args.repeats):
        for loop, mode, T in configs:
            cfg = dict(model=args.model, size=args.size, batch=args.batch,
                       times=T, unroll=mode, loop=loop)
            res = measure(cfg)
            res["load"] = load()
            raw[(loop, mode, T)].append(res)
            w, c, s = trace_cost(res)
            log(f"  [{r}] {loop:8s} {mode:11s} T={T:3d}: build "
                f"{res['build'][0]:.2f}s, first {res['first'][0]:.2f}s, "
                f"second {res['second'][0]:.2f}s -> build+trace {w:.2f}s "
                f"wall, {c:.2f}s CPU ({s:.2f}s sys) (load {res['load']:.2f})")

    log("\nmedians; build + trace = (a) + (b) - (c); wall | CPU (user + "
        "sys) | sys seconds; spread = max - min of the wall value:")
    log("| time loop | unroll | T | (a) build | (b) first step | "
        "(c) second step | build + trace | spread |")
    log("|---|---|---|---|---|---|---|---|")

    def fmt(v):
        return f"{v[0]:.2f} / {v[1]:.2f} / {v[2]:.2f}"

    for loop, mode, T in configs:
        rows = raw[(loop, mode, T)]
        parts = {k: [median([x[k][i] for x in rows]) for i in range(3)]
                 for k in ("build", "first", "second")}
        costs = [trace_cost(x) for x in rows]
        total = [median([c[i] for c in costs]) for i in range(3)]
        spread = max(c[0] for c in costs) - min(c[0] for c in costs)
        log(f"| {loop} | {mode} | {T} | {fmt(parts['build'])} | "
            f"{fmt(parts['first'])} | {fmt(parts['second'])} | "
            f"**{fmt(total)}** | {spread:.2f} |")
    log(f"\nratios T={long_} / T={short}, median of the per-repeat "
        f"ratios [min, max]:")
    for loop in args.loops:
        for mode in args.modes:
            pairs = list(zip(raw[(loop, mode, short)],
                             raw[(loop, mode, long_)]))
            line = []
            for i, what in enumerate(("wall", "CPU")):
                r = sorted(trace_cost(y)[i] / trace_cost(x)[i]
                           for x, y in pairs)
                line.append(f"{what} {median(r):.2f} [{r[0]:.2f}, "
                            f"{r[-1]:.2f}]")
            step = median([y["second"][0] / x["second"][0]
                           for x, y in pairs])
            log(f"  {loop:8s} {mode:11s}: build + trace "
                + ", ".join(line) + f"; steady step {step:.2f}")
    log(f"load at the end {load():.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args),
                       "raw": {"|".join(map(str, k)): v
                               for k, v in raw.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
