"""Feature extraction for scoring at scale: one path, in memory or on disk.

    store = extract_to_disk(model, stimuli, ["conv3", "conv5"], "feats/",
                            steps=range(5, 17))
    store["conv3"]            # read-only memmap [N, 12, D]

Every feature extraction of the library runs one loop
(`tnn.neural.streaming.run_extraction`): `extract_to_disk` here,
`tnn.neural.features.extract_features` (hence `fit_neural` and the layer
sweep) and the Brain-Score adapter's `FeatureExtractor`. Per batch of
stimuli (`tnn.neural.stimulus_source`: arrays, memory-mapped arrays, image
paths or a callable `(start, stop) -> batch`), the model is unrolled with
`TNNGraph.unroll(nodes=...)` through `keras.Model.predict_on_batch`, which

- computes only the requested nodes and their ancestors through every
  edge (`tnn.graphs.unroll`, "Pruning"), and
- runs only up to the last kept step: outputs at step t do not depend on
  later steps, so `steps=[3, 7]` unrolls 8 steps of the presentation.

Only the kept steps are reduced to D features per step (`NodeReducer`:
the seeded sparse random projection, pooling or none; reduction is linear
and per step, so reducing the kept steps equals keeping the reduced steps)
and written out. The nodes of one batch are reduced and written by worker
threads (one per node, up to 4) while the next batch is unrolled; at most
one batch's outputs wait.

On disk (`extract_to_disk`), each node's features go to
`out_dir/<i>_<node>.npy` (`[N, T_kept, D]`, `dtype` float32 or float16)
written row block by row block with plain file writes, so the process's
memory does not grow with N (no pages of a writable map stay resident).
`manifest.json` records what was extracted (nodes, steps, reduction, seed,
model name with a SHA-1 of its weights, the stimuli's SHA-1 and count; see
`manifest_identity`) and `completed`, the number of stimuli written,
updated (atomically) only after a batch's rows are written. A rerun with
the same arguments resumes after the last completed batch; one with other
arguments fails with a ValueError naming the differences (the batch size
may change). The result is a `FeatureStore`: a dict node -> read-only
`np.memmap`, usable wherever the in-memory features are.

Precision: `precision="mixed_bfloat16"` (or "auto": bfloat16 where the
machine computes it natively, `tnn.graphs.precision.bfloat16_fast`) runs
the forward pass in bfloat16 on a copy of the model whose weights are
rounded to bfloat16, as a model built with `dtype="mixed_bfloat16"`
computes; the features are reduced and written in float32. Per step the
features differ from float32's by about 1-2% of their largest magnitude
(tests/neural/test_extraction_precision.py states the tolerance;
README, "Precision"). None (default) computes as the model was built.

Progress: one plain line every `progress` batches (True: 10) with
stimuli/s and the time left; on a terminal the line is rewritten in place.
"""

import hashlib
import json
import os
import re

import keras
import numpy as np

from tnn.graphs import precision as precision_lib
from tnn.neural.streaming import (Progress, check_steps, extract_in_memory,
                                  prepare, run_extraction)
from tnn.neural.streaming import make_progress

__all__ = ["FeatureStore", "Progress", "check_steps", "extract_in_memory",
           "extract_to_disk", "manifest_identity", "model_key",
           "run_extraction"]

MANIFEST = "manifest.json"
DTYPES = ("float32", "float16")
_FORMAT = 1


def model_key(model):
    """SHA-1 of a model's weights (names, shapes and values)."""
    digest = hashlib.sha1()
    for weight in model.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight.value))
        digest.update(f"{weight.path}{value.shape}{value.dtype}".encode())
        digest.update(value)
    return digest.hexdigest()


def _reducer_key(reducer):
    info = reducer.describe()
    if reducer.matrix is not None:
        matrix = reducer.matrix.tocsr()
        digest = hashlib.sha1()
        for part in (matrix.indptr, matrix.indices, matrix.data):
            digest.update(np.ascontiguousarray(part))
        info["matrix_sha1"] = digest.hexdigest()
    return info


def _file_name(index, node):
    return f"{index:02d}_{re.sub(r'[^A-Za-z0-9_.-]', '_', node)}.npy"


def manifest_identity(model, source, reducers, steps, times, recurrent,
                      dtype, seed, reduction, precision=None):
    """What an extraction computes, as stored in the manifest (a rerun
    resumes only when this is equal). The forward pass's dtype policy
    (`precision` resolved, or the model's own) is recorded unless it is
    float32, so that older float32 manifests still resume."""
    identity = {
        "format": _FORMAT,
        "model": {"name": model.name, "weights_sha1": model_key(model),
                  "input_shape": list(model.graph_input_shape),
                  "image_off": model.image_off,
                  "blank_value": float(model.blank_value),
                  "unroll": model.unroll_mode},
        "nodes": list(reducers), "steps": [int(s) for s in steps],
        "times": int(times), "recurrent": bool(recurrent), "dtype": dtype,
        "reduction": reduction, "seed": seed,
        "reducers": {n: _reducer_key(r) for n, r in reducers.items()},
        "stimuli": {"count": source.count, "sha1": source.key,
                    "movies": source.movies, "frame_ms": source.frame_ms},
        "files": {n: _file_name(i, n) for i, n in enumerate(reducers)},
    }
    policy = precision_lib.effective_precision(model, precision)
    if policy != "float32":
        identity["precision"] = policy
    # as JSON stores it (numpy scalars as numbers), to compare on resume
    return json.loads(json.dumps(identity, default=lambda value: (
        value.item() if isinstance(value, np.generic) else str(value))))


def _write_json(path, data):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)


def _read_manifest(out_dir):
    path = os.path.join(out_dir, MANIFEST)
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise ValueError(f"{path!r} is not a readable features manifest "
                         f"({err}); pass a new out_dir or resume=False.") \
            from None


def _differences(old, new):
    keys = sorted(k for k in set(old) - {"completed", "batch_size"} | set(new)
                  if old.get(k) != new.get(k))
    return "; ".join(f"{k}: stored {old.get(k)!r:.120} vs requested "
                     f"{new.get(k)!r:.120}" for k in keys)


class FeatureStore(dict):
    """Features extracted to a directory: a dict node -> read-only
    `np.memmap` `[N, T_kept, D]`, in the manifest's node order (so it goes
    wherever the in-memory dict of `extract_features` goes, e.g.
    `tnn.neural.sweep.layer_sweep`).

    Attributes:
        path: the directory.
        manifest: the manifest dict (module docs).
        steps: the kept steps (int array).
        completed: stimuli written so far; rows after it are not features.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        self.manifest = _read_manifest(self.path)
        self.steps = np.asarray(self.manifest["steps"], int)
        self.completed = int(self.manifest["completed"])
        files = self.manifest["files"]
        super().__init__(
            (node, np.load(os.path.join(self.path, files[node]),
                           mmap_mode="r"))
            for node in self.manifest["nodes"])

    @property
    def complete(self):
        return self.completed == self.manifest["stimuli"]["count"]


def extract_to_disk(model, stimuli, nodes=None, out_dir=None, steps=None,
                    reduction="projection", dims=1024, seed=0,
                    batch_size=32, dtype="float32", resume=True,
                    progress=True, recurrent=True, nodes_per_pass=None,
                    frame_ms=None, n_stimuli=None, times=None,
                    reducers=None, cache=None, precision=None):
    """Node features of every stimulus, streamed to `out_dir` (module docs).

    Args:
        model: a TNNGraph.
        stimuli: uint8 images `[N, H, W, 3]` / movies `[N, F, H, W, 3]`
            (memory-mapped arrays are read per batch), a list of images or
            image paths, or a callable `(start, stop) -> uint8 batch` with
            `n_stimuli` (`tnn.neural.stimulus_source`).
        nodes: node names (default: every node but the readout).
        out_dir: directory of the `.npy` files and `manifest.json`.
        steps: steps to keep: None (all), a list of step indices or a
            slice of `range(times)`.
        reduction, dims, seed: per-node reduction (`tnn.neural.features`).
        batch_size: stimuli per forward pass.
        dtype: "float32" or "float16" on disk (features are reduced in
            float32 either way).
        resume: continue an interrupted extraction of the same arguments in
            `out_dir` (False: start over, overwriting it).
        progress: True, False or print every this many batches.
        recurrent: False gives the feed-forward control's features.
        nodes_per_pass: unroll at most this many nodes at a time.
        frame_ms: duration of one movie frame (movie stimuli).
        n_stimuli: N, with a callable `stimuli`.
        times: presentation steps (default the model's `times`; more
            extends the presentation, as `TNNGraph.unroll(times=...)`).
        reducers: optional `{node: NodeReducer}` instead of `reduction`.
        cache: optional dict reusing compiled unrollers across calls.
        precision: the forward pass's precision: None (as the model was
            built), "float32", "mixed_bfloat16" or "auto" (bfloat16 where
            the machine runs it natively; module docs).

    Returns:
        a `FeatureStore` (node -> read-only memmap `[N, T_kept, D]`).
    """
    if out_dir is None:
        raise ValueError("out_dir is required: the directory to write the "
                         "features to.")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {DTYPES}, got {dtype!r}.")
    precision = precision_lib.resolve_precision(precision)
    source, reducers, kept, times = prepare(
        model, stimuli, nodes, steps, reduction, dims, seed, batch_size,
        reducers, frame_ms, n_stimuli, times)
    identity = manifest_identity(model, source, reducers, kept, times,
                                 recurrent, dtype, seed, reduction, precision)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.join(out_dir, MANIFEST)
    shapes = {n: (source.count, len(kept), r.dims)
              for n, r in reducers.items()}
    paths = {n: os.path.join(out_dir, f)
             for n, f in identity["files"].items()}
    start = 0
    if resume and os.path.exists(manifest_path):
        stored = _read_manifest(out_dir)
        differences = _differences(stored, identity)
        if differences:
            raise ValueError(
                f"{out_dir!r} holds features extracted with other arguments "
                f"({differences}); pass a new out_dir, or resume=False to "
                "overwrite it.")
        start = int(stored["completed"])
    else:
        if os.path.exists(manifest_path):
            os.remove(manifest_path)
        for node, path in paths.items():
            created = np.lib.format.open_memmap(path, "w+", dtype,
                                                shapes[node])
            del created   # header written, rows allocated (sparse)
        _write_json(manifest_path, dict(identity, completed=0,
                                        batch_size=batch_size))
    handles = {}
    try:
        offsets = {}
        for node, path in paths.items():
            if not os.path.isfile(path):
                raise ValueError(f"{path!r}, listed in {manifest_path!r}, "
                                 "is missing; pass resume=False.")
            header = np.load(path, mmap_mode="r")
            if header.shape != shapes[node] or header.dtype != dtype:
                raise ValueError(
                    f"{path!r} holds {header.dtype} {header.shape}, not "
                    f"{dtype} {shapes[node]}; pass resume=False.")
            offsets[node] = header.offset
            del header
            handles[node] = open(path, "r+b")

        def write(node, begin, values):
            block = np.ascontiguousarray(values, dtype=dtype)
            data = memoryview(block).cast("B")
            offset = offsets[node] + begin * (block.nbytes // len(block))
            while data:   # a write may be partial
                written = os.pwrite(handles[node].fileno(), data, offset)
                data, offset = data[written:], offset + written

        def commit(done):
            _write_json(manifest_path, dict(identity, completed=done,
                                            batch_size=batch_size))

        if start < source.count:
            run_extraction(model, source, reducers, write, commit, kept,
                           times, batch_size, recurrent, nodes_per_pass,
                           start, make_progress(progress, source.count), cache,
                           precision=precision)
    finally:
        for handle in handles.values():
            handle.close()
    return FeatureStore(out_dir)
