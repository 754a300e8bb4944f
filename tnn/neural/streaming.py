"""The extraction loop every feature extraction of the library runs.

`run_extraction` unrolls a TNNGraph on a `StimulusSource` batch by batch
(`keras.Model.predict_on_batch`), keeps the requested steps, reduces each
node's outputs (`tnn.neural.features.NodeReducer`) and hands the features
to a `write` callback, then calls `commit` once a batch's rows are
written; `extract_in_memory` collects them in arrays,
`tnn.neural.extraction.extract_to_disk` streams them to `.npy` files. See
`tnn.neural.extraction` for what is computed and why it is exact.
"""

import concurrent.futures
import sys
import time
import warnings

import keras
import numpy as np

from tnn.graphs import precision as precision_lib
from tnn.neural import features as nf
from tnn.neural.stimulus_source import StimulusSource, stimulus_source

# The precisions extraction takes (for callers outside tnn.graphs' layer).
resolve_precision = precision_lib.resolve_precision


def check_steps(steps, times):
    """Kept steps as an int array (None: all `times`; a list or a slice)."""
    every = np.arange(int(times))
    if steps is None:
        return every
    if isinstance(steps, slice):
        kept = every[steps]
    else:
        kept = np.asarray(list(steps) if isinstance(steps, range)
                          else steps)
        if kept.ndim != 1 or (kept.size and not np.issubdtype(
                kept.dtype, np.integer)):
            raise ValueError(f"steps must be a list of step indices or a "
                             f"slice, got {steps!r}.")
        kept = kept.astype(int)
        bad = kept[(kept < 0) | (kept >= times)]
        if bad.size:
            raise ValueError(f"steps {bad.tolist()} are outside the "
                             f"{times} steps of the presentation (0.."
                             f"{times - 1}).")
        if np.unique(kept).size != kept.size:
            raise ValueError(f"steps must not repeat, got {kept.tolist()}.")
    if kept.size == 0:
        raise ValueError(f"steps {steps!r} keep none of the {times} steps.")
    return kept


class Progress:
    """Plain progress lines: stimuli done, stimuli/s, time left."""

    def __init__(self, total, every=10, label="features", stream=None):
        self.total, self.every, self.label = total, every, label
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.batches, self.begin, self.start = 0, None, None

    def update(self, done):
        if self.begin is None:
            self.begin, self.start = time.perf_counter(), done
            return
        self.batches += 1
        if self.batches % self.every == 0 or done >= self.total:
            self._line(done)

    def _line(self, done):
        elapsed = max(time.perf_counter() - self.begin, 1e-9)
        rate = (done - self.start) / elapsed
        left = (self.total - done) / rate if rate > 0 else float("inf")
        text = (f"{self.label}: {done}/{self.total} stimuli, {rate:.1f} "
                f"stimuli/s, {left:.0f} s left")
        end = "\n" if not self.tty or done >= self.total else ""
        self.stream.write(("\r" if self.tty else "") + text + end)
        self.stream.flush()


class _Unroller(keras.Model):
    """`model.unroll(images, nodes, times, recurrence)` as a Keras model,
    run with `predict_on_batch` (compiled on TensorFlow and JAX)."""

    def __init__(self, model, nodes, times, recurrence):
        super().__init__(name=f"{model.name}_features")
        self.graph, self.nodes = model, list(nodes)
        self.steps, self.recurrence = int(times), recurrence
        if keras.backend.backend() == "tensorflow":
            self.jit_compile = False   # a plain tf.function

    def call(self, images):
        # `unroll` casts a mixed-precision model's weights once per call
        # (tnn.graphs.precision.cast_weights_once), not once per step.
        return self.graph.unroll(images, nodes=self.nodes, times=self.steps,
                                 recurrence=self.recurrence)


def _unroller(cache, model, group, times, recurrence):
    key = (tuple(group), int(times), recurrence, model.compute_dtype)
    if cache is None:
        return _Unroller(model, group, times, recurrence)
    if key not in cache:
        cache[key] = _Unroller(model, group, times, recurrence)
    return cache[key]


def run_extraction(model, source, reducers, write, commit, steps, times,
                   batch_size=32, recurrent=True, nodes_per_pass=None,
                   start=0, progress=None, cache=None, workers=4,
                   precision=None):
    """The extraction loop shared by every caller (module docs).

    Batch k + 1 is unrolled while the nodes of batch k are reduced and
    written by up to `workers` threads (one node each); `commit` follows
    once every node of a batch is written. After an error the batches
    already unrolled are still written and committed, then it is raised.

    Args:
        model: a TNNGraph.
        source: a `StimulusSource`.
        reducers: `{node: NodeReducer}`; their order is the nodes'.
        write: `write(node, start, features [B, T_kept, D])`.
        commit: `commit(done)`, called after a batch's rows are written.
        steps: kept steps (`check_steps`), within the `times` steps.
        times: steps of the presentation (the model's, or more).
        batch_size: stimuli per forward pass (the last batch is padded).
        recurrent: False for the feed-forward control.
        nodes_per_pass: unroll at most this many nodes at a time.
        start: first stimulus (resume).
        progress: a `Progress` or None.
        cache: optional dict reusing unrollers across calls.
        workers: threads reducing and writing nodes.
        precision: None (the model's own), "float32", "mixed_bfloat16" or
            "auto" (`tnn.graphs.precision.resolve_precision`); the
            features are float32 either way.
    """
    model = _model_in(model, precision, cache)
    nodes = list(reducers)
    groups = nf._groups(nodes, nodes_per_pass)
    n = source.count
    size = min(batch_size, n)
    run_times = int(np.max(steps)) + 1
    whole = np.array_equal(steps, np.arange(run_times))
    recurrence = "on" if recurrent else "off"
    runs = [_unroller(cache, model, g, run_times, recurrence)
            for g in groups]

    def reduce(node, outputs, begin, count):
        out = outputs[:count]
        write(node, begin, reducers[node](out if whole else out[:, steps]))

    pool = concurrent.futures.ThreadPoolExecutor(min(len(nodes), workers))
    pending, pending_done = [], None

    def settle():
        """Waits for the reductions under way; commits a finished batch."""
        nonlocal pending, pending_done
        for future in pending:
            future.result()
        pending = []
        if pending_done is not None:
            commit(pending_done)
            if progress is not None:
                progress.update(pending_done)
            pending_done = None

    if progress is not None:
        progress.update(start)
    try:
        for begin in range(start, n, size):
            inputs = source.inputs(begin, min(begin + size, n))
            count = len(inputs)
            if count < size:   # same batch shape: no retracing
                inputs = np.concatenate([inputs, np.zeros(
                    (size - count,) + inputs.shape[1:], inputs.dtype)])
            if inputs.ndim == 5:
                inputs = inputs[:, :run_times]
            for group, run in zip(groups, runs):
                with warnings.catch_warnings():
                    if run_times < times:   # only the kept steps are short
                        warnings.filterwarnings(
                            "ignore", message=r"times=\d+ is shorter")
                    outputs = run.predict_on_batch(inputs)
                settle()   # the previous group's (or batch's) reductions
                pending = [pool.submit(reduce, node, outputs[node], begin,
                                       count) for node in group]
            pending_done = begin + count
        settle()
    except BaseException:
        try:   # an interruption keeps the batches already computed
            settle()
        except Exception:  # noqa: BLE001 - the first error is raised
            pass
        raise
    finally:
        pool.shutdown(wait=True)


def _model_in(model, precision, cache):
    """`model` computing in `precision`: itself or a copy (kept in `cache`
    with its weights refreshed from `model` on every call)."""
    policy = precision_lib.resolve_precision(precision)
    key = ("precision", policy)
    held = None if cache is None else cache.get(key)
    if held is not None and held[0] is model:
        precision_lib.sync_weights(held[1], model)
        return held[1]
    copy = precision_lib.with_precision(model, policy)
    if cache is not None and copy is not model:
        cache[key] = (model, copy)
    return copy


def prepare(model, stimuli, nodes=None, steps=None, reduction="projection",
            dims=1024, seed=0, batch_size=32, reducers=None, frame_ms=None,
            n_stimuli=None, times=None):
    """(source, reducers, kept steps, times) with the arguments checked."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or \
            batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got "
                         f"{batch_size!r}.")
    nodes = list(dict.fromkeys(nf.default_nodes(model) if nodes is None
                               else nodes))
    reducers = dict(reducers) if reducers else nf.make_reducers(
        model, nodes, reduction, dims, seed)
    missing = [n for n in nodes if n not in reducers]
    if missing:
        raise ValueError(f"no reducer for node {missing[0]!r}.")
    reducers = {n: reducers[n] for n in nodes}
    if isinstance(stimuli, StimulusSource):
        source = stimuli
        times = source.times if times is None else times
    else:
        source = stimulus_source(model, stimuli, n_stimuli, frame_ms, times,
                                 batch_size)
        times = source.times
    return source, reducers, check_steps(steps, times), int(times)


def extract_in_memory(model, stimuli, nodes=None, steps=None,
                      reduction="projection", dims=1024, seed=0,
                      batch_size=32, progress=False, recurrent=True,
                      nodes_per_pass=None, frame_ms=None, n_stimuli=None,
                      times=None, reducers=None, cache=None, precision=None):
    """`extract_to_disk` without the disk: dict node -> float32
    `[N, T_kept, D]` arrays (the path `extract_features` takes)."""
    source, reducers, kept, times = prepare(
        model, stimuli, nodes, steps, reduction, dims, seed, batch_size,
        reducers, frame_ms, n_stimuli, times)
    out = {n: np.empty((source.count, len(kept), r.dims), np.float32)
           for n, r in reducers.items()}

    def write(node, begin, values):
        out[node][begin:begin + len(values)] = values

    run_extraction(model, source, reducers, write, lambda done: None, kept,
                   times, batch_size, recurrent, nodes_per_pass,
                   progress=make_progress(progress, source.count), cache=cache,
                   precision=precision)
    return out


def make_progress(progress, total):
    if progress is False or progress is None or progress == 0:
        return None
    every = 10 if progress is True else int(progress)
    return Progress(total, every=max(every, 1))
