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

so that (a) + (b) − (c) is the build + trace cost of a training step
(`--method keras`). That difference also holds the first run's one-off
costs that are not tracing — graph optimisation (Grappler) and, above all,
the first touch of the memory the step stores for backprop, which grows
with T × batch — and it is a small difference of two large, noisy steps at
T = 64. The default `--method split` therefore times (d) the trace alone:
Keras' own `train_step` traced into a concrete function (graph
construction and autodiff, nothing run), then its first (b) and second (c)
runs; build + trace = (a) + (d), and (a) + (d) + (b) − (c) is printed
beside it.

The model is the issue's: `rgc_shallow` at 128 px, 1000 classes, batch 16,
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
    result = {"build": build.tolist()}
    if cfg.get("split"):
        # The trace alone: Keras' own train step traced into a concrete
        # function (graph construction, autodiff) without running it; then
        # its first run (graph optimisation, kernel creation, first touch
        # of the step's memory) and a second run.
        import tensorflow as tf
        from tnn.graphs.fit_hooks import build_optimizer
        start = clock()
        build_optimizer(model)
        step = tf.function(model.train_step, reduce_retracing=True)
        concrete = step.get_concrete_function(
            (tf.TensorSpec(images.shape, tf.float32),
             tf.TensorSpec(labels.shape, tf.int32)))
        result["trace"] = (clock() - start).tolist()
        result["ops"] = len(concrete.graph.get_operations())
        data = (tf.constant(images), tf.constant(labels))
        for name in ("first", "second"):
            start = clock()
            logs = concrete(data)
            float(np.asarray(logs["loss"]))
            result[name] = (clock() - start).tolist()
    else:
        for name in ("first", "second"):
            start = clock()
            loss = model.train_on_batch(images, labels)
            float(np.asarray(loss))
            result[name] = (clock() - start).tolist()
    # [wall, cpu (user + sys), sys] seconds of each phase.
    print(json.dumps(result))


def measure(cfg):
    cmd = [sys.executable, os.path.abspath(__file__), "--child",
           json.dumps(cfg)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"child {cfg} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- parent ------------------------------------------------------------------

def trace_cost(res):
    """[wall, CPU, sys] seconds of build + trace: (a) + (d) when the trace
    was timed alone (`--method split`), else (a) + (b) - (c)."""
    if "trace" in res:
        return [res["build"][i] + res["trace"][i] for i in range(3)]
    return first_step_cost(res)


def first_step_cost(res):
    """(a) [+ (d)] + (b) - (c): build, trace and the first run's one-off
    costs (graph optimisation, first touch of the step's memory)."""
    return [res["build"][i] + res.get("trace", [0, 0, 0])[i]
            + res["first"][i] - res["second"][i] for i in range(3)]


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
    p.add_argument("--method", choices=["split", "keras"], default="split",
                   help="split: time the trace alone (a concrete function "
                        "of the train step), then its first and second "
                        "run; keras: build + first - second "
                        "train_on_batch")
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
                       times=T, unroll=mode, loop=loop,
                       split=args.method == "split")
            res = measure(cfg)
            res["load"] = load()
            raw[(loop, mode, T)].append(res)
            w, c, s = trace_cost(res)
            log(f"  [{r}] {loop:8s} {mode:11s} T={T:3d}: build "
                f"{res['build'][0]:.2f}s, trace "
                f"{res.get('trace', [float('nan')])[0]:.2f}s, first "
                f"{res['first'][0]:.2f}s, second {res['second'][0]:.2f}s "
                f"-> build+trace {w:.2f}s wall, {c:.2f}s CPU ({s:.2f}s "
                f"sys) (load {res['load']:.2f})")

    split = args.method == "split"
    total_of = "(a) + (d)" if split else "(a) + (b) - (c)"
    log(f"\nmedians; build + trace = {total_of}; with the first run = "
        f"(a) + (d) + (b) - (c); wall | CPU (user + sys) | sys seconds; "
        f"spread = max - min of the wall value:")
    log("| time loop | unroll | T | (a) build | (d) trace | (b) first run "
        "| (c) second run | build + trace | spread | with the first run |")
    log("|---|---|---|---|---|---|---|---|---|---|")

    def fmt(v):
        return f"{v[0]:.2f} / {v[1]:.2f} / {v[2]:.2f}"

    def med(rows, fn):
        values = [fn(x) for x in rows]
        return [median([v[i] for v in values]) for i in range(3)]

    for loop, mode, T in configs:
        rows = raw[(loop, mode, T)]
        parts = {k: med(rows, lambda x, k=k: x.get(k, [float("nan")] * 3))
                 for k in ("build", "trace", "first", "second")}
        costs = [trace_cost(x) for x in rows]
        spread = max(c[0] for c in costs) - min(c[0] for c in costs)
        log(f"| {loop} | {mode} | {T} | {fmt(parts['build'])} | "
            f"{fmt(parts['trace'])} | {fmt(parts['first'])} | "
            f"{fmt(parts['second'])} | **{fmt(med(rows, trace_cost))}** | "
            f"{spread:.2f} | {fmt(med(rows, first_step_cost))} |")
    log(f"\nratios T={long_} / T={short}, median of the per-repeat "
        f"ratios [min, max]:")
    for loop in args.loops:
        for mode in args.modes:
            pairs = list(zip(raw[(loop, mode, short)],
                             raw[(loop, mode, long_)]))
            line = []
            for cost, label in ((trace_cost, "build + trace"),
                                (first_step_cost, "with the first run")):
                for i, what in enumerate(("wall", "CPU")):
                    r = sorted(cost(y)[i] / cost(x)[i] for x, y in pairs)
                    line.append(f"{label} {what} {median(r):.2f} "
                                f"[{r[0]:.2f}, {r[-1]:.2f}]")
            step = median([y["second"][0] / x["second"][0]
                           for x, y in pairs])
            ops = [x.get("ops") for pair in pairs for x in pair]
            log(f"  {loop:8s} {mode:11s}: " + "; ".join(line)
                + f"; steady step {step:.2f}"
                + (f"; ops T={short}/{long_}: {ops[0]}/{ops[1]}"
                   if ops[0] else ""))
    log(f"load at the end {load():.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args),
                       "raw": {"|".join(map(str, k)): v
                               for k, v in raw.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
