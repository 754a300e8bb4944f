"""Speed, compile time and memory of the TNNGraph unroller (issue #2, item 10).

Prints ratios measured in one run:

  (a) machinery overhead: TNNGraph step ÷ a hand-written Python loop that
      calls the same layers over T steps (no harbor/Node/unroll machinery),
      for training and inference, with pre-stimulus sharing off so both do
      the same work;
  (b) shared pre-stimulus steps: FLOPs saved (counted from the traced ops)
      and the measured speed-up of sharing on vs off;
  (c) graph build + first-step trace time at T = 8, 16, 32, 64 for both
      unroll modes;
  (d) peak training memory (RSS of a fresh process) vs T, and gradient
      checkpointing over time (remat) at T = 32: memory and step time;
  (e) achieved GFLOP/s of the training step ÷ the measured conv2d
      throughput of this machine.

Usage:
  python benchmarks/unroll.py                      # the issue's setting
  python benchmarks/unroll.py --quick              # small smoke run
  python benchmarks/unroll.py --only a b           # some sections
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tnn  # noqa: E402
from tnn.graphs.layers import ResidualAdd  # noqa: E402


def log(*args):
    print(*args, flush=True)


# --- models and steps -------------------------------------------------------

def make_model(name, size, times, **kwargs):
    keras.utils.set_random_seed(0)
    return tnn.create_model(name, input_shape=(size, size, 3),
                            num_classes=1000, times=times, **kwargs)


def bare_forward(model, images, times, training):
    """The same layers in a plain Python loop over time (chain graphs).

    Biological unroll by hand: node k at step t reads node k-1's output of
    step t-1; the image for `image_off` steps, then the 0.5 blank.
    """
    order = model.spec.node_names
    nodes = [model.graph_nodes[n] for n in order]
    batch = tf.shape(images)[0]
    outs = [tf.zeros(tf.concat([[batch], model.output_shapes[n]], 0))
            for n in order]
    states = [[tf.zeros(tf.concat([[batch], s], 0))
               for s in model.state_shapes[n]] for n in order]
    blank = tf.fill(tf.shape(images), 0.5)
    logits = []
    for t in range(times):
        frame = images if t < model.image_off else blank
        new = []
        for k, node in enumerate(nodes):
            x = res = frame if k == 0 else outs[k - 1]
            for layer in node.pre_memory:
                x = layer(x, training=training)
            if node.cell is not None:
                extra = {"residual": res} if node.cell.accepts_residual \
                    else {}
                x, states[k] = node.cell(x, states[k], training=training,
                                         **extra)
            for layer in node.post_memory:
                x = (layer(x, res) if isinstance(layer, ResidualAdd)
                     else layer(x, training=training))
            new.append(x)
        outs = new
        logits.append(outs[-1])
    return tf.stack(logits, axis=1)


def make_steps(model, forward):
    optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    optimizer.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = forward(images, True)
            steps = tf.shape(logits)[1]
            loss = loss_fn(tf.repeat(labels[:, None], steps, axis=1),
                           logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    @tf.function
    def infer_step(images):
        return forward(images, False)

    return train_step, infer_step


def timeit(fn, args, repeats):
    fn(*args)  # trace + warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args)
        np.asarray(out)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_interleaved(fns, repeats):
    """Median time of each `(fn, args)`, measured in alternation.

    Every round runs each function once, so drift in the machine's load
    (other processes on a shared CPU) hits all of them alike.
    """
    for fn, args in fns.values():
        np.asarray(fn(*args))  # trace + warm-up
    times = {key: [] for key in fns}
    for _ in range(repeats):
        for key, (fn, args) in fns.items():
            start = time.perf_counter()
            np.asarray(fn(*args))
            times[key].append(time.perf_counter() - start)
    return {key: float(np.median(v)) for key, v in times.items()}


def batch_data(size, batch):
    rng = np.random.default_rng(0)
    images = tf.constant(rng.standard_normal(
        (batch, size, size, 3)).astype("float32"))
    labels = tf.constant(rng.integers(0, 1000, batch).astype("int32"))
    return images, labels


# --- FLOPs ------------------------------------------------------------------

def node_flops(model):
    """Forward FLOPs of one step of each node for one example."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)

    flops = {}
    for name, node in model.graph_nodes.items():
        names = model.input_names[name]
        shapes = [(1,) + (model.graph_input_shape if src == "__input__"
                          else model.output_shapes[src]) for src in names]
        states = [(1,) + s for s in model.state_shapes[name]]

        def step(inputs, st, node=node):
            return node(list(inputs), list(st), training=False)

        specs = ([tf.TensorSpec(s) for s in shapes],
                 [tf.TensorSpec(s) for s in states])
        concrete = tf.function(step).get_concrete_function(*specs)
        frozen = convert_variables_to_constants_v2(concrete)
        opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        opts["output"] = "none"
        info = tf.compat.v1.profiler.profile(graph=frozen.graph,
                                             options=opts)
        flops[name] = int(info.total_float_ops)
    return flops


def conv_throughput():
    """GFLOP/s of a large TF conv2d on this machine (forward)."""
    x = tf.random.normal([16, 32, 32, 256])
    w = tf.random.normal([3, 3, 256, 256])
    f = tf.function(lambda x: tf.nn.conv2d(x, w, 1, "SAME"))
    seconds = timeit(f, (x,), 10)
    return 2 * 16 * 32 * 32 * 256 * 256 * 9 / seconds / 1e9


# --- sections ---------------------------------------------------------------

def section_a_b_e(args, results):
    images, labels = batch_data(args.size, args.batch)
    peak = conv_throughput()
    results["conv2d_gflops"] = peak
    log(f"conv2d throughput (16x32x32x256, 3x3x256): {peak:.1f} GFLOP/s")
    for name in args.models:
        res = results.setdefault(name, {})
        r = args.repeats
        variants = {}
        for loop in ("symbolic", "python"):
            for share in (False, True):
                model = make_model(name, args.size, args.times,
                                   share_pre_stimulus=share, time_loop=loop)
                variants[(loop, share)] = model
        plain = variants[("symbolic", False)]
        for model in variants.values():
            model.set_weights(plain.get_weights())
        bare_train, bare_infer = make_steps(
            plain, lambda x, tr: bare_forward(plain, x, args.times, tr))
        train_fns = {"bare": (bare_train, (images, labels))}
        infer_fns = {"bare": (bare_infer, (images,))}
        for key, model in variants.items():
            train, infer = make_steps(
                model, lambda x, tr, m=model: m(x, training=tr))
            train_fns[key] = (train, (images, labels))
            infer_fns[key] = (infer, (images,))
        train_t = time_interleaved(train_fns, r)
        infer_t = time_interleaved(infer_fns, r)
        t_bare, i_bare = train_t.pop("bare"), infer_t.pop("bare")
        res.update(train_bare_s=t_bare, infer_bare_s=i_bare)
        timings = {key: (train_t[key], infer_t[key]) for key in variants}
        for (loop, share), (t, i) in timings.items():
            key = f"{loop}_{'shared' if share else 'plain'}"
            res[f"train_{key}_s"], res[f"infer_{key}_s"] = t, i
        for loop in ("symbolic", "python"):
            t_tnn, i_tnn = timings[(loop, False)]
            log(f"[{name}] (a) {loop} loop, sharing off: train step "
                f"TNNGraph {t_tnn:.2f}s / bare loop {t_bare:.2f}s = "
                f"{t_tnn / t_bare:.3f}; inference {i_tnn:.2f}s / "
                f"{i_bare:.2f}s = {i_tnn / i_bare:.3f}")
        t_tnn, i_tnn = timings[("python", False)]
        t_shared, i_shared = timings[("python", True)]
        flops = node_flops(plain)
        first = plain.first_image_step()
        T, B = args.times, args.batch
        full = sum(B * T * f for f in flops.values())
        saved = sum((B - 1) * min(first[n], T) * f
                    for n, f in flops.items())
        res.update(forward_gflop_per_batch=full / 1e9,
                   shared_fraction_saved=saved / full)
        log(f"[{name}] (b) forward FLOPs per batch {full / 1e9:.1f} G; "
            f"sharing pre-stimulus steps saves {saved / 1e9:.1f} G "
            f"({100 * saved / full:.1f}%)")
        for loop in ("symbolic", "python"):
            (t0, i0), (t1, i1) = timings[(loop, False)], timings[(loop, True)]
            log(f"[{name}] (b) {loop} loop: sharing speeds up training "
                f"{t0 / t1:.3f}x ({t0:.2f}s -> {t1:.2f}s), inference "
                f"{i0 / i1:.3f}x ({i0:.2f}s -> {i1:.2f}s)")
        achieved = 3 * (full - saved) / t_shared / 1e9
        res.update(train_gflops=achieved)
        log(f"[{name}] (e) training step (python loop, shared) "
            f"{achieved:.1f} GFLOP/s (3x the forward FLOPs computed) / "
            f"conv2d {peak:.1f} = {achieved / peak:.3f}")
        for loop in ("symbolic", "python"):
            log(f"[{name}] images/s, training, {loop} loop, shared: "
                f"{B / timings[(loop, True)][0]:.2f}")


def section_c(args, results):
    images, labels = batch_data(args.size, args.batch)
    for name in args.models:
        for loop in ("symbolic", "python"):
            for mode in ("biological", "feedforward"):
                row = {}
                for T in (8, 16, 32, 64):
                    start = time.perf_counter()
                    model = make_model(name, args.size, T, unroll=mode,
                                       image_off=min(12, T), time_loop=loop)
                    train_step, _ = make_steps(
                        model, lambda x, tr, m=model: m(x, training=tr))
                    train_step.get_concrete_function(images, labels)
                    row[T] = time.perf_counter() - start
                results.setdefault(name, {})[f"trace_{loop}_{mode}"] = row
                log(f"[{name}] (c) {loop} loop, {mode}: build + trace "
                    + ", ".join(f"T={t}: {s:.1f}s" for t, s in row.items())
                    + f"; T=64 / T=8 = {row[64] / row[8]:.2f}")


def measure_memory(name, size, batch, times, remat, loop, steps=2):
    """Runs in a fresh process: peak RSS (GB) and median step time."""
    cmd = [sys.executable, __file__, "--child-memory", name, str(size),
           str(batch), str(times), str(int(remat)), str(steps), loop]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss_gb():
    """Peak resident memory of this process (VmHWM; reset by exec, unlike
    ru_maxrss, which a child inherits from its forking parent)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e6
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def child_memory(name, size, batch, times, remat, steps, loop):
    model = make_model(name, size, times, remat=bool(remat), time_loop=loop)
    images, labels = batch_data(size, batch)
    train_step, _ = make_steps(model, lambda x, tr: model(x, training=tr))
    base = peak_rss_gb()
    durations = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        float(train_step(images, labels))
        durations.append(time.perf_counter() - start)
    peak = peak_rss_gb()
    print(json.dumps({"peak_gb": peak, "before_gb": base,
                      "step_s": float(np.median(durations[1:]))}))


def section_d(args, results):
    for name in args.models:
        for loop in args.memory_loops:
            rows = {}
            times = (args.memory_times if loop == args.memory_loops[0]
                     else [max(args.memory_times)])
            for T in times:
                rows[T] = measure_memory(name, args.size, args.batch, T,
                                         False, loop)
                log(f"[{name}] (d) {loop} loop, T={T}: peak RSS "
                    f"{rows[T]['peak_gb']:.2f} GB (after build "
                    f"{rows[T]['before_gb']:.2f}), step "
                    f"{rows[T]['step_s']:.2f}s")
            T = max(args.memory_times)
            rem = measure_memory(name, args.size, args.batch, T, True, loop)
            base = rows[T]
            log(f"[{name}] (d) {loop} loop, remat, T={T}: peak RSS "
                f"{rem['peak_gb']:.2f} GB ({base['peak_gb'] / rem['peak_gb']:.2f}x "
                f"less), step {rem['step_s']:.2f}s "
                f"({rem['step_s'] / base['step_s']:.2f}x time)")
            results.setdefault(name, {})[f"memory_{loop}"] = {
                "rows": rows, "remat": rem}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child-memory":
        name, size, batch, times, remat, steps, loop = sys.argv[2:9]
        child_memory(name, int(size), int(batch), int(times), int(remat),
                     int(steps), loop)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["rgc_shallow", "lstm_shallow"])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--times", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--memory-times", type=int, nargs="+",
                        default=[8, 16, 32])
    parser.add_argument("--memory-loops", nargs="+",
                        default=["auto", "symbolic"],
                        help="time loops for (d); the first gets every T, "
                             "the others only the largest")
    parser.add_argument("--only", nargs="+", default=["a", "c", "d"],
                        help="sections: a (also b, e), c, d")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes, for a smoke run")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.quick:
        args.size, args.batch, args.times, args.repeats = 72, 2, 8, 1
        args.memory_times = [8, 12]
    log(f"tnn unroll benchmark: {args.models} at {args.size}px, batch "
        f"{args.batch}, T={args.times}; TF {tf.__version__}, keras "
        f"{keras.__version__}, {os.cpu_count()} CPUs")
    results = {"config": vars(args)}
    if "a" in args.only:
        section_a_b_e(args, results)
    if "c" in args.only:
        section_c(args, results)
    if "d" in args.only:
        section_d(args, results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)


if __name__ == "__main__":
    main()
