"""The same model under TensorFlow, JAX and PyTorch (issue #11, item 1).

`rgc_shallow` (72×72×3, the shallow readout needs >= 65 px; batch 8; the
zoo presentation: 16 steps, image off at step 12; 1000 classes) under each Keras backend, each in its own
subprocess (the backend is fixed per process):

  inference step   `model.predict_on_batch(images)`: Keras' compiled
                   predict function (TensorFlow: `tf.function`; JAX:
                   `jax.jit`; PyTorch: eager);
  training step    `model.train_on_batch(images, labels)`: SGD on the
                   per-step cross-entropy of the `[B, T, 1000]` logits.

Each backend runs as Keras runs it by default (`jit_compile="auto"`: XLA
off for TensorFlow on a CPU-only machine, `jax.jit` for JAX, eager
PyTorch), and TensorFlow also with `jit_compile=True` (XLA). Times are the
median of `--steps` steps after `--warmup` steps (which include tracing
and compilation); the table gives them as ratios to TensorFlow's default,
all measured in one run of this script. Same weights on every backend
(one initialisation saved by the first process), so every backend computes
the same function; the printout also gives each backend's first inference
output's max relative difference to TensorFlow's.

Usage:
  python benchmarks/backends.py                    # TF, TF+XLA, JAX, torch
  python benchmarks/backends.py --backends tensorflow,jax --steps 3
  python benchmarks/backends.py --size 128 --steps 5  # larger images
  python benchmarks/backends.py --quick            # 72 px, batch 2, T = 8
A backend whose package is not installed is reported as skipped.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CONFIGS = {  # name -> (KERAS_BACKEND, jit_compile)
    "tensorflow": ("tensorflow", "auto"),
    "tensorflow+xla": ("tensorflow", True),
    "jax": ("jax", "auto"),
    "torch": ("torch", "auto"),
}
PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def _parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default=",".join(CONFIGS),
                        help=f"comma-separated, of {', '.join(CONFIGS)}")
    parser.add_argument("--model", default="rgc_shallow")
    parser.add_argument("--size", type=int, default=72)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--times", type=int, default=None,
                        help="steps T (default: the zoo presentation's)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="72 px, batch 2, 8 steps T, 2 timed steps")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    return parser


def _median_seconds(fn, steps, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def worker(args):
    """One configuration, in this process; prints one JSON line."""
    backend, jit = CONFIGS[args.worker]
    import keras
    import numpy as np

    import tnn

    assert keras.backend.backend() == backend
    shape = (args.size, args.size, 3)
    keras.utils.set_random_seed(0)
    model = tnn.create_model(args.model, input_shape=shape,
                             times=args.times)
    weights = os.path.join(args.folder, "weights.weights.h5")
    if os.path.exists(weights):
        model.load_weights(weights)
    else:
        model.save_weights(weights)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((args.batch,) + shape).astype("float32")
    labels = np.repeat(rng.integers(0, 1000, (args.batch, 1)), model.times,
                       axis=1).astype("int32")
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(
                      from_logits=True), jit_compile=jit)
    start = time.perf_counter()
    first = np.asarray(keras.ops.convert_to_numpy(
        model.predict_on_batch(images)))
    first_call = time.perf_counter() - start
    reference = os.path.join(args.folder, "outputs.npy")
    if not os.path.exists(reference):
        np.save(reference, first)
    ref = np.load(reference)
    rel = float(np.max(np.abs(first - ref))
                / max(float(np.max(np.abs(ref))), 1e-30))
    infer = _median_seconds(lambda: keras.ops.convert_to_numpy(
        model.predict_on_batch(images)), args.steps, args.warmup)
    train = _median_seconds(lambda: model.train_on_batch(images, labels),
                            args.steps, args.warmup)
    print(json.dumps({"config": args.worker, "inference_s": infer,
                      "train_s": train, "first_inference_s": first_call,
                      "rel_to_tensorflow": rel, "times": model.times,
                      "versions": _versions(backend)}), flush=True)


def _versions(backend):
    import keras

    module = importlib.import_module(PACKAGES[backend])
    return {"keras": keras.__version__, backend: module.__version__}


def _run(config, args, folder):
    backend, _ = CONFIGS[config]
    if importlib.util.find_spec(PACKAGES[backend]) is None:
        return {"config": config, "skipped": f"{PACKAGES[backend]!r} is "
                                             f"not installed"}
    command = [sys.executable, os.path.abspath(__file__), "--worker", config,
               "--folder", folder, "--model", args.model, "--size",
               str(args.size), "--batch", str(args.batch), "--steps",
               str(args.steps), "--warmup", str(args.warmup)]
    if args.times is not None:
        command += ["--times", str(args.times)]
    env = {**os.environ, "KERAS_BACKEND": backend,
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(command, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        return {"config": config, "skipped": "failed: " +
                result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.quick:
        args.size, args.batch, args.times = 72, 2, 8
        args.steps, args.warmup = 2, 1
    if args.worker:
        return worker(args)
    configs = [c.strip() for c in args.backends.split(",") if c.strip()]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown or not configs:
        raise SystemExit(f"--backends: unknown {unknown}; choose from "
                         f"{', '.join(CONFIGS)}.")
    # TensorFlow first: it saves the weights and the reference output.
    configs.sort(key=lambda c: not c.startswith("tensorflow"))
    print(f"{args.model} {args.size}x{args.size}x3, batch {args.batch}, "
          f"median of {args.steps} steps after {args.warmup} warm-up",
          flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for config in configs:
            rows.append(_run(config, args, folder))
            print(json.dumps(rows[-1]), flush=True)
    base = next((r for r in rows if r["config"] == "tensorflow"
                 and "skipped" not in r), None)
    print(f"\n{'backend':16s} {'infer s':>8s} {'train s':>8s} "
          f"{'infer/TF':>9s} {'train/TF':>9s} {'rel diff':>9s}")
    for row in rows:
        if "skipped" in row:
            print(f"{row['config']:16s} skipped: {row['skipped']}")
            continue
        ratio = ((f"{row['inference_s'] / base['inference_s']:9.2f} "
                  f"{row['train_s'] / base['train_s']:9.2f}")
                 if base else f"{'-':>9s} {'-':>9s}")
        print(f"{row['config']:16s} {row['inference_s']:8.3f} "
              f"{row['train_s']:8.3f} {ratio} "
              f"{row['rel_to_tensorflow']:9.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
