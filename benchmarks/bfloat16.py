"""bfloat16 as a fast path (issue 14, item 2): time, memory and parity.

Prints, in one run, for one model and setting (default: the issue's,
rgc_shallow at 128x128, batch 16, T = 16, image off at step 12, 1000
classes, random init):

  inference   step time and peak RSS of float32 vs mixed_bfloat16, the
              latter three ways: "plain" (the model called as is: every
              step casts every weight), "cast once" (inside
              `tnn.graphs.precision.cast_weights_once`, as extraction runs
              it), "copy" (`with_precision(model, "mixed_bfloat16")`: a
              bfloat16 copy beside the float32 model, extraction's
              `precision="mixed_bfloat16"`);
  training    step time and peak RSS of float32 vs mixed_bfloat16 (SGD with
              momentum, per-step cross-entropy, `tf.GradientTape`);
  parity      per-step difference of every node's outputs, bfloat16 vs
              float32 with the same weights: max|d| / max|f32| per step
              (the tests' tolerance is 0.05), RMS(d) / RMS(f32), and how
              often the logits' argmax agrees.

Every time/memory number comes from a fresh subprocess (peak RSS =
VmHWM, which exec resets); configurations run in alternation, `--repeats`
rounds (default 3), and the medians (with min-max) are printed. Step time
in a process is the median of `--steps` steps after one warm-up step.

Usage:
  python benchmarks/bfloat16.py                  # the issue's setting
  python benchmarks/bfloat16.py --quick          # small smoke run
  python benchmarks/bfloat16.py --only infer parity
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

INFER = [("float32", "plain"), ("mixed_bfloat16", "plain"),
         ("mixed_bfloat16", "cast_once"), ("mixed_bfloat16", "copy")]
TRAIN = [("float32", "plain"), ("mixed_bfloat16", "plain")]


def log(*args):
    print(*args, flush=True)


def peak_mib():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only).")


def make_model(args, dtype):
    import keras
    import tnn
    keras.utils.set_random_seed(0)
    return tnn.create_model(args.model, input_shape=(args.size,) * 2 + (3,),
                            num_classes=1000, times=args.times,
                            image_off=args.image_off, dtype=dtype)


def images(args):
    return np.random.default_rng(0).standard_normal(
        (args.batch, args.size, args.size, 3)).astype("float32")


def child(args, task, dtype, variant):
    """One measurement in this (fresh) process: JSON on the last line."""
    import keras
    import tensorflow as tf
    from tnn.graphs import precision

    model = make_model(args, "float32" if variant == "copy" else dtype)
    x = tf.constant(images(args))
    if task == "infer":
        run = (precision.with_precision(model, "mixed_bfloat16")
               if variant == "copy" else model)

        @tf.function
        def step(x):
            if variant == "cast_once":
                with precision.cast_weights_once(run):
                    return run(x, training=False)
            return run(x, training=False)
        args_ = (x,)
    else:
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        optimizer.build(model.trainable_variables)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True)
        labels = tf.constant(np.arange(args.batch) % 1000)

        @tf.function
        def step(x, labels):
            with tf.GradientTape() as tape:
                logits = tf.cast(model(x, training=True), tf.float32)
                loss = loss_fn(tf.repeat(labels[:, None], args.times, 1),
                               logits)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
            return loss
        args_ = (x, labels)
    built = peak_mib()
    durations = []
    for _ in range(args.steps + 1):
        start = time.perf_counter()
        np.asarray(step(*args_))
        durations.append(time.perf_counter() - start)
    print(json.dumps({"peak_mib": peak_mib(), "built_mib": built,
                      "step_s": float(np.median(durations[1:]))}))


def measure(args, task, dtype, variant):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", task, dtype,
           variant] + args.forward
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def spread(values, fmt):
    values = sorted(values)
    return (f"{fmt.format(float(np.median(values)))} "
            f"({fmt.format(values[0])}-{fmt.format(values[-1])})")


def section(args, task, configs, results):
    rows = {c: [] for c in configs}
    for round_ in range(args.repeats):
        for config in configs:
            rows[config].append(measure(args, task, *config))
            got = rows[config][-1]
            log(f"  [{task} round {round_ + 1}] {config[0]} {config[1]}: "
                f"peak {got['peak_mib']:.0f} MiB, step {got['step_s']:.2f} s"
                f" (load {os.getloadavg()[0]:.1f})")
    base = rows[configs[0]]
    base_peak = np.median([r["peak_mib"] for r in base])
    base_step = np.median([r["step_s"] for r in base])
    log(f"\n{task}: median (min-max) of {args.repeats} fresh processes")
    for config, runs in rows.items():
        peaks = [r["peak_mib"] for r in runs]
        steps = [r["step_s"] for r in runs]
        log(f"  {config[0]:>15} {config[1]:<9}  peak RSS "
            f"{spread(peaks, '{:.0f}')} MiB = "
            f"{np.median(peaks) / base_peak:.2f}x float32;  step "
            f"{spread(steps, '{:.2f}')} s = "
            f"{base_step / np.median(steps):.2f}x float32's speed")
    results[task] = {" ".join(c): r for c, r in rows.items()}


def parity(args, results):
    """Per-step difference of every node, bfloat16 copy vs float32."""
    import keras
    from tnn.graphs import precision

    model = make_model(args, "float32")
    half = precision.with_precision(model, "mixed_bfloat16")
    x = images(args)
    want = model.unroll(x)
    got = half.unroll(x)
    log(f"\nparity: {args.model}, {args.size} px, batch {args.batch}, "
        f"T = {args.times}; per node, worst over image-driven steps")
    worst = {}
    for node in want:
        a = np.asarray(keras.ops.cast(got[node], "float32"), np.float64)
        b = np.asarray(want[node], np.float64)
        axes = (0,) + tuple(range(2, b.ndim))
        driven = np.abs(b).max(axis=axes) > 0
        d = a - b
        max_rel = np.abs(d).max(axis=axes) / np.maximum(
            np.abs(b).max(axis=axes), 1e-30)
        rms_rel = np.sqrt((d ** 2).mean(axis=axes)) / np.maximum(
            np.sqrt((b ** 2).mean(axis=axes)), 1e-30)
        step = int(np.argmax(np.where(driven, max_rel, -1)))
        worst[node] = {"max_rel": float(max_rel[driven].max()),
                       "rms_rel": float(rms_rel[driven].max()),
                       "step": step}
        line = (f"  {node:>8}: max|d|/max|f32| {worst[node]['max_rel']:.4f}"
                f" (step {step}), RMS(d)/RMS(f32) "
                f"{worst[node]['rms_rel']:.4f}")
        if node == model.output_node:
            agree = (a.argmax(-1) == b.argmax(-1)).mean(axis=0)
            worst[node]["argmax_agreement"] = agree.tolist()
            line += f", argmax agreement per step min {agree.min():.3f}"
        log(line)
    log(f"  worst over nodes and steps: "
        f"{max(w['max_rel'] for w in worst.values()):.4f}")
    results["parity"] = worst


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="rgc_shallow")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--times", type=int, default=16)
    p.add_argument("--image_off", type=int, default=12)
    p.add_argument("--steps", type=int, default=3,
                   help="timed steps per process (after one warm-up)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--only", nargs="+", default=["infer", "train", "parity"])
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.model, args.size, args.batch, args.times = (
            "rgc_shallow", 72, 2, 6)
        args.image_off, args.steps, args.repeats = 4, 1, 1
    args.forward = [f"--{k}={getattr(args, k)}" for k in (
        "model", "size", "batch", "times", "image_off", "steps")]
    return args


def main(argv=None):
    args = parse(argv)
    if args.child:
        child(args, *args.child)
        return
    log(f"{args.model}, {args.size}x{args.size}, batch {args.batch}, "
        f"T = {args.times}, image off at {args.image_off}; load average "
        f"{os.getloadavg()[0]:.1f} at start")
    results = {}
    if "infer" in args.only:
        section(args, "infer", INFER, results)
    if "train" in args.only:
        section(args, "train", TRAIN, results)
    if "parity" in args.only:
        parity(args, results)
    log(f"load average {os.getloadavg()[0]:.1f} at the end")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
