"""Features over time: a TNNGraph's node outputs on the stimuli of a data set.

    features = extract_features(model, data.stimuli, nodes=["conv3", "conv5"])
    # {"conv3": [N, T, D], "conv5": [N, T, D]}, T = model.times

The stimuli (uint8 `[N, H, W, 3]`) are scaled to [0, 1], resized to the
model's input (bilinear, antialiased when shrinking), normalised with the
ImageNet mean/std (reference §5.1; grey-scale constants for a 1-channel
model; `tnn.neural.stimuli.preprocess_stimuli`) and presented with the
model's own presentation — for the neural presentation 26 steps of 10 ms,
image on for 10 steps, then the blank of §5.2. Model steps map to neural
bins one-to-one by default (bin b <- step b + step_offset, see
`tnn.neural.bin_steps`); `check_bins` fails early when the model's steps
cannot cover the data's bins.

Memory. Stimuli are processed batch by batch; each batch's node outputs
`[B, T, H, W, C]` are reduced to `D` features per step at once, so only the
reduced features of the whole set are kept (`N * T * D` floats per node).
Reductions (`reduction=`):

- "projection" (default): a node with more than `dims` units is projected
  with a fixed sparse random projection (scikit-learn's
  `SparseRandomProjection`, density 1/sqrt(units), Li et al. 2006), seeded
  by `seed` and the node name; it preserves inner products, so the PLS and
  ridge mappings that follow see nearly the same geometry. Nodes with at
  most `dims` units are kept whole (flattened H, W, C).
- "pool": average pooling over a g x g spatial grid, g the largest with
  g * g * C <= dims (g = 1, i.e. C features, if C > dims).
- "none": the flattened outputs (exact; memory grows with H * W * C).

Movie stimuli (uint8 `[N, F, H, W, 3]` with `frame_ms`) are shown frame
by frame on the model's 10 ms steps, each frame for frame_ms / 10 steps,
then the model's blank up to `times` (`tnn.neural.movie_stimuli`).

`nodes_per_pass` unrolls each batch once per group of nodes, bounding the
per-batch memory of models with many large nodes. With `recurrent=False`
the features are those of the feed-forward control
(`TNNGraph.unroll(..., recurrence="off")`).

`extract_features` runs the library's one extraction path
(`tnn.neural.streaming`): the model's unroll through
`keras.Model.predict_on_batch` (a compiled function on TensorFlow and JAX;
eager on PyTorch), so features can be extracted on any Keras backend; only
the requested nodes and their ancestors are computed, up to the last kept
step. `tnn.neural.extraction.extract_to_disk` streams the same features to
disk, resumably.
"""

import json
import math
import os
import sys
import zlib

import numpy as np
from scipy import sparse
from sklearn import random_projection

from tnn import neural
from tnn.neural.stimuli import preprocess_stimuli  # noqa: F401 (re-export)

REDUCTIONS = ("projection", "pool", "none")


def check_bins(model, n_bins, step_offset=0, model_steps=None):
    """Model step of each neural bin; a clear error if steps run out.

    Args:
        model: a TNNGraph (its `times` steps are unrolled).
        n_bins: number of neural bins.
        step_offset, model_steps: see `tnn.neural.bin_steps`.

    Returns:
        int array `[n_bins]`.
    """
    try:
        return neural.bin_steps(n_bins, model.times, step_offset, model_steps)
    except ValueError as err:
        raise ValueError(
            f"model {model.name!r} (times={model.times}, image_off="
            f"{model.image_off}): {err}") from None


def _node_seed(seed, node):
    sequence = np.random.SeedSequence([int(seed), zlib.crc32(node.encode())])
    return int(sequence.generate_state(1)[0])


class NodeReducer:
    """Maps one node's outputs `[B, T, ...]` to features `[B, T, D]`.

    Every reduction is linear: flattened outputs (row-major H, W, C) times
    a sparse `[units, D]` matrix (`matrix`, None for the identity), so a
    readout on the reduced features is a linear readout of the node.

    Args:
        node: node name (part of the projection seed).
        shape: the node's per-example output shape (H, W, C) or (D,).
        reduction: "projection", "pool" or "none" (see module docs).
        dims: target number of features D.
        seed: projection seed.
    """

    def __init__(self, node, shape, reduction="projection", dims=1024,
                 seed=0):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got "
                             f"{reduction!r}.")
        if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
            raise ValueError(f"dims must be a positive int, got {dims!r}.")
        self.node, self.shape = node, tuple(int(s) for s in shape)
        self.units = int(np.prod(self.shape))
        self.method, self.grid, self.matrix = "none", None, None
        if reduction == "projection" and self.units > dims:
            self.method = "projection"
            projection = random_projection.SparseRandomProjection(
                n_components=dims, density="auto",
                random_state=_node_seed(seed, node))
            projection.fit(np.zeros((1, self.units), np.float32))
            self.matrix = projection.components_.T.tocsr().astype(
                np.float32)
        elif reduction == "pool" and self.units > dims and \
                len(self.shape) == 3:
            self.method = "pool"
            side = int(math.isqrt(max(dims // self.shape[-1], 1)))
            self.grid = min(side, self.shape[0], self.shape[1])
            self.matrix = self._pool_matrix()
        self.dims = (self.units if self.matrix is None
                     else int(self.matrix.shape[1]))

    def _pool_matrix(self):
        height, width, channels = self.shape
        g = self.grid
        rows = np.array_split(np.arange(height), g)
        cols = np.array_split(np.arange(width), g)
        src, dst, val = [], [], []
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                cells = (r[:, None] * width + c[None, :]).ravel()
                for ch in range(channels):
                    src.append(cells * channels + ch)
                    dst.append(np.full(cells.size, (i * g + j) * channels
                                       + ch))
                    val.append(np.full(cells.size, 1.0 / cells.size))
        return sparse.csr_matrix(
            (np.concatenate(val).astype(np.float32),
             (np.concatenate(src), np.concatenate(dst))),
            shape=(self.units, g * g * channels))

    def __call__(self, outputs):
        x = np.asarray(outputs, dtype=np.float32)
        batch, steps = x.shape[:2]
        flat = x.reshape(batch * steps, self.units)
        if self.matrix is not None:
            flat = np.asarray(flat @ self.matrix, np.float32)
        return flat.reshape(batch, steps, self.dims)

    def describe(self):
        """JSON-ready summary of the reduction."""
        return {"method": self.method, "node_shape": list(self.shape),
                "units": self.units, "dims": self.dims,
                "grid": self.grid}


def default_nodes(model):
    """Every node but the readout, in feed-forward order."""
    return [n for n in model.spec.feedforward_order()
            if n != model.output_node]


def make_reducers(model, nodes, reduction="projection", dims=1024, seed=0):
    """`{node: NodeReducer}` for the given nodes of `model`."""
    unknown = [n for n in nodes if n not in model.graph_nodes]
    if unknown:
        raise ValueError(f"model {model.name!r} has no node {unknown[0]!r};"
                         f" its nodes are {model.spec.node_names}.")
    if not nodes:
        raise ValueError("nodes must name at least one model node.")
    return {n: NodeReducer(n, model.output_shapes[n], reduction, dims, seed)
            for n in nodes}


def _groups(nodes, nodes_per_pass):
    if nodes_per_pass is None:
        return [list(nodes)]
    if isinstance(nodes_per_pass, bool) or not isinstance(
            nodes_per_pass, int) or nodes_per_pass < 1:
        raise ValueError(f"nodes_per_pass must be a positive int or None, "
                         f"got {nodes_per_pass!r}.")
    return [list(nodes[i:i + nodes_per_pass])
            for i in range(0, len(nodes), nodes_per_pass)]


def plain_progress(verbose):
    """The Keras `verbose` to use for progress on this process's stdout.

    A progress bar (1, or Keras' "auto") writes ANSI colour codes and
    carriage returns that clutter a log file; when stdout is not a
    terminal it becomes 2 (one plain line per pass or epoch). Other
    values are returned unchanged.
    """
    stdout = sys.stdout
    terminal = hasattr(stdout, "isatty") and stdout.isatty()
    if not terminal and (verbose == "auto" or (
            not isinstance(verbose, str) and verbose == 1)):
        return 2
    return verbose


def extract_features(model, stimuli, nodes=None, batch_size=32,
                     reduction="projection", dims=1024, seed=0,
                     nodes_per_pass=None, recurrent=True, verbose=1,
                     reducers=None, frame_ms=None, steps=None,
                     precision=None):
    """Node features over the model's steps for every stimulus, in memory.

    The library's one extraction path (`tnn.neural.streaming`; to stream
    to disk and resume, `tnn.neural.extraction.extract_to_disk`): only the
    requested nodes and their ancestors are unrolled, up to the last kept
    step.

    Args:
        model: a TNNGraph; its `times` / `image_off` set the presentation.
        stimuli: uint8 `[N, H, W, 3]`, or movies `[N, F, H, W, 3]`.
        nodes: node names (default: every node but the readout).
        batch_size: stimuli per forward pass.
        reduction, dims, seed: per-node reduction to D features (module
            docs); ignored when `reducers` is given.
        nodes_per_pass: unroll at most this many nodes at a time (None:
            all nodes in one unroll).
        recurrent: False gives the feed-forward control's features (no
            state carried over steps, no feedback).
        verbose: 0 is silent; otherwise a plain progress line every 10
            batches with stimuli/s.
        reducers: optional `{node: NodeReducer}` (from `make_reducers`).
        frame_ms: duration of one frame of movie stimuli (a multiple of
            the 10 ms step; module docs); None for still images.
        steps: steps to keep (None: all `model.times`; a list or a slice).
        precision: the forward pass's: None (as the model was built),
            "float32", "mixed_bfloat16" or "auto" (bfloat16 where the
            machine runs it natively; `tnn.neural.extraction`).

    Returns:
        dict node -> float32 `[N, T, D]` (T = kept steps), rows in
        stimulus order.
    """
    from tnn.neural import streaming   # it builds on this module

    nodes = list(default_nodes(model) if nodes is None else nodes)
    if verbose:
        print(f"features of {', '.join(nodes)}", flush=True)
    return streaming.extract_in_memory(
        model, stimuli, nodes, steps, reduction, dims, seed, batch_size,
        progress=bool(verbose), recurrent=recurrent,
        nodes_per_pass=nodes_per_pass, frame_ms=frame_ms, reducers=reducers,
        precision=precision)


def save_features(path, features, stimulus_id, info=None):
    """Writes features to an NPZ (keys `stimulus_id`, `nodes`, `f<i>`).

    Args:
        path: destination .npz.
        features: dict node -> `[N, T, D]`.
        stimulus_id: `[N]` ids of the rows.
        info: optional JSON-ready description, stored as a string.
    """
    nodes = list(features)
    arrays = {f"f{i}": np.asarray(features[n], np.float32)
              for i, n in enumerate(nodes)}
    with open(path, "wb") as handle:
        np.savez(handle, stimulus_id=np.asarray(stimulus_id, dtype=str),
                 nodes=np.asarray(nodes, dtype=str),
                 info=np.asarray(json.dumps(info or {})), **arrays)


def load_features(path):
    """Reads `save_features` output: (features dict, stimulus_id, info)."""
    if not os.path.exists(path):
        raise ValueError(f"features file {path!r} does not exist.")
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in ("stimulus_id", "nodes") if k not in npz.files]
        if missing:
            raise ValueError(
                f"{path!r} is not a features file (lacks {missing}); write "
                "one with tnn.neural.features.save_features.")
        nodes = [str(n) for n in npz["nodes"]]
        features = {n: npz[f"f{i}"] for i, n in enumerate(nodes)}
        ids = npz["stimulus_id"].astype(str)
        info = json.loads(str(npz["info"])) if "info" in npz.files else {}
    return features, ids, info
