"""Streaming feature extraction vs a plain forward (issue 14, item 1).

Side by side, each measurement in a fresh process (peak memory is that
process's `ru_maxrss`), for every N of `--images`:

  ours   `tnn.neural.extraction.extract_to_disk`: the requested nodes (and
         their ancestors) only, up to the last kept step, the kept steps
         reduced (`--reduction`, `--dims`) and streamed to .npy files;
  plain  the stand-in for a plain forward: the same TNNGraph unrolled over
         all steps and all nodes (`unroll(nodes=None)`), every output of a
         batch brought to host memory and dropped;
  peer   PyTorchTNN's `TemporalGraph.forward(..., return_all=True,
         return_activations=True)` (all nodes, all steps kept for the
         batch), when `PEER_PATH` names a checkout of
         github.com/neuroagents-lab/PyTorchTNN and torch imports
         (`PEER_PYTHON`: another interpreter for it, with torch, numpy and
         networkx; torchvision optional, see `torchvision_or_stand_in`;
         the config is written by this interpreter). The peer has no
         rgc_intermediate config: `peer_config` writes one with the same
         layers (widths, kernels, strides, pools, the median RGC's filter
         sizes and depth-separable choices) and feedback edges, an
         equal-work stand-in, not the same function; `PEER_CONFIG` names a
         JSON config to use instead.

Stimuli are made per batch (seeded per row), never held all at once. Each
side runs one warm-up batch (tracing, cuDNN autotune) before the clock
starts; images/s = N / wall time of the N images.

Usage:
  python benchmarks/extraction.py                  # the issue's setting
  python benchmarks/extraction.py --image_size 64 --images 64 128 \
      --batch_size 16 --sides ours plain           # small, on a CPU
  PEER_PATH=~/PyTorchTNN python benchmarks/extraction.py --precision \
      mixed_float16 --peer_precision float16       # on a GPU
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="rgc_intermediate")
    p.add_argument("--image_size", type=int, default=224)
    p.add_argument("--steps", type=int, default=26,
                   help="presentation steps (neural presentation)")
    p.add_argument("--nodes", nargs="+", default=["conv4", "conv7",
                                                  "conv10"])
    p.add_argument("--keep", default=None,
                   help="steps ours keeps, 'a:b' (default: all)")
    p.add_argument("--images", type=int, nargs="+",
                   default=[500, 1000, 2000])
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--reduction", default="projection")
    p.add_argument("--dims", type=int, default=1024)
    p.add_argument("--dtype", default="float32", help="ours, on disk")
    p.add_argument("--precision", default="float32",
                   help="Keras dtype policy (float32, mixed_float16, "
                        "mixed_bfloat16)")
    p.add_argument("--peer_precision", default="float32",
                   help="peer autocast dtype on CUDA (float32, float16, "
                        "bfloat16)")
    p.add_argument("--sides", nargs="+", default=["ours", "plain", "peer"])
    p.add_argument("--out_dir", default=None,
                   help="where ours writes (default: a temporary dir)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def stimuli(start, stop, size):
    """uint8 images of rows start:stop, each seeded by its row."""
    return np.stack([np.random.default_rng(row).integers(
        0, 256, (size, size, 3), dtype=np.uint8) for row in range(start,
                                                                  stop)])


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_model(args):
    import keras
    import tnn
    if args.precision != "float32":
        keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(0)
    size = args.image_size
    return tnn.create_model(args.model, input_shape=(size, size, 3),
                            presentation="neural", times=args.steps)


def run_ours(args, n):
    from tnn.neural import extraction
    model = make_model(args)
    keep = None
    if args.keep:
        a, b = (int(x) if x else None for x in args.keep.split(":"))
        keep = slice(a, b)
    out = args.out_dir or tempfile.mkdtemp(prefix="tnn_extraction_")
    settings = dict(nodes=args.nodes, steps=keep, reduction=args.reduction,
                    dims=args.dims, batch_size=args.batch_size,
                    dtype=args.dtype, resume=False)
    cache = {}
    size = args.image_size
    extraction.extract_to_disk(  # warm-up: compiles, builds reducers
        model, lambda a, b: stimuli(a, b, size), out_dir=f"{out}/warm",
        n_stimuli=args.batch_size, progress=False, cache=cache, **settings)
    begin = time.perf_counter()
    store = extraction.extract_to_disk(
        model, lambda a, b: stimuli(a, b, size), out_dir=f"{out}/run",
        n_stimuli=n, progress=10, cache=cache, **settings)
    seconds = time.perf_counter() - begin
    shapes = {k: list(v.shape) for k, v in store.items()}
    if not args.out_dir:
        del store
        shutil.rmtree(out)
    return {"seconds": seconds, "features": shapes}


def run_plain(args, n):
    import keras

    model = make_model(args)

    class Full(keras.Model):
        def call(self, images):
            return model.unroll(images)   # all nodes, all steps

    full = Full()
    if keras.backend.backend() == "tensorflow":
        full.jit_compile = False
    from tnn.neural.stimuli import preprocess_stimuli
    shape = model.graph_input_shape
    b = args.batch_size
    full.predict_on_batch(preprocess_stimuli(stimuli(0, b, args.image_size),
                                             shape))
    begin = time.perf_counter()
    for start in range(0, n, b):
        images = preprocess_stimuli(stimuli(start, start + b,
                                            args.image_size), shape)
        outputs = full.predict_on_batch(images)
        del outputs
    return {"seconds": time.perf_counter() - begin}


def peer_config(args):
    """A PyTorchTNN config with rgc_intermediate's layers (module docs)."""
    from tnn.zoo import intermediate as zoo
    from tnn.cells.median_reciprocal_gated_cell import (MEDIAN_GATE,
                                                        MEDIAN_TAU)
    rgc = zoo.MEDIAN_RGC_CONFIG
    nodes, prev = [], None
    for layer in zoo.LAYERS:
        width, first = zoo.RGC_WIDTHS[layer], layer == "conv1"
        cell = layer in zoo.CELL_LAYERS
        node = {"name": layer, "shape_from": prev, "out_channels": width,
                "harbor_policy": {"name": "ResizeConcat"},
                "pre_memory": {"name": "Conv2dCell", "out_channels": width,
                               "ksize": [7, 7] if first else [3, 3],
                               "stride": 2 if first else 1,
                               "padding": 3 if first else "same",
                               "init_dict": None, "bias": 0.0,
                               "activation": None if cell else "ELU",
                               "batchnorm": None},
                "recurrent_cell": {"name": "IdentityCell"},
                "post_memory": ({"name": "MaxPool", "ksize": 2, "stride": 2,
                                 "padding": 0}
                                if layer in zoo.RGC_POOLED
                                else {"name": "Identity"})}
        if cell:
            node["recurrent_cell"] = {
                "name": "ReciprocalGatedCell", "out_channels": width,
                "cell_depth": rgc["cell_depth"],
                "tau_filter_size": [7, 7], "gate_filter_size": [7, 7],
                "ff_filter_size": [2, 2], "in_out_filter_size": [3, 3],
                "feedback_filter_size": [1, 1],
                "tau_depth_separable": True, "gate_depth_separable": True,
                "gate_nonlinearity": "Tanh", "input_activation": "ELU",
                "tau_bias": rgc["tau_bias"], "gate_bias": rgc["gate_bias"],
                "tau_offset": MEDIAN_TAU, "tau_multiplier": -MEDIAN_TAU,
                "gate_offset": MEDIAN_GATE, "gate_multiplier": -MEDIAN_GATE,
                "out_residual": True, "residual_to_out_gate": False,
                "input_to_out": True}
        nodes.append(node)
        prev = layer
    nodes.append({"name": "imnetds", "shape_from": prev,
                  "out_channels": 1000,
                  "harbor_policy": {"name": "ResizeConcat"},
                  "pre_memory": {"name": "Conv2dCell", "out_channels": 1000,
                                 "ksize": [1, 1], "stride": 1,
                                 "padding": "valid", "init_dict": None,
                                 "bias": 0.0, "activation": None,
                                 "batchnorm": None},
                  "recurrent_cell": {"name": "IdentityCell"},
                  "post_memory": {"name": "AdaptiveAvgPool",
                                  "output_size": [1, 1]}})
    names = [n["name"] for n in nodes]
    edges = list(zip(names[:-1], names[1:])) + list(zoo.RGC_FEEDBACK)
    return {"nodes": nodes,
            "edges": [{"from": a, "to": b} for a, b in edges],
            "input_nodes": ["conv1"], "output_node": "imnetds",
            "input_shape": [3, args.image_size, args.image_size],
            "num_timesteps": args.steps}


def torchvision_or_stand_in():
    """`torchvision`'s version, or "stand-in" after registering one.

    The peer imports torchvision only for `transforms.Resize` and
    `InterpolationMode` (its ResizeConcat harbor policy). torchvision has no
    build for torch's CPU wheel outside download.pytorch.org (PyPI's is the
    CUDA build; beside CPU torch its import fails with "operator
    torchvision::nms does not exist"). Then this registers a stand-in
    `torchvision.transforms` whose Resize does what torchvision 0.28's does
    on an NCHW tensor with a (height, width) size: unchanged when the size
    already matches, else `interpolate` in float32 (float64 kept),
    align_corners=False and antialias for bilinear/bicubic, cast back
    (rounded for integers; torchvision also clamps bicubic uint8).
    """
    try:
        import torchvision.transforms
        return torchvision.__version__
    except Exception:   # a half-imported torchvision must not linger
        for name in [m for m in sys.modules if m.split(".")[0] ==
                     "torchvision"]:
            del sys.modules[name]
    import enum
    import types
    import torch

    class InterpolationMode(enum.Enum):
        NEAREST = "nearest"
        NEAREST_EXACT = "nearest-exact"
        BILINEAR = "bilinear"
        BICUBIC = "bicubic"

    class Resize(torch.nn.Module):
        def __init__(self, size, interpolation=InterpolationMode.BILINEAR,
                     max_size=None, antialias=True):
            super().__init__()
            if isinstance(size, int) or len(size) != 2 or max_size:
                raise ValueError(
                    f"the torchvision stand-in resizes to a (height, width) "
                    f"pair only, got size={size!r}, max_size={max_size!r}; "
                    f"install torchvision matching torch {torch.__version__}")
            self.size, self.mode = [int(x) for x in size], interpolation.value
            self.antialias = bool(antialias) and self.mode in ("bilinear",
                                                               "bicubic")

        def forward(self, img):
            if list(img.shape[-2:]) == self.size:
                return img
            dtype = img.dtype
            x = img if dtype in (torch.float32, torch.float64) else img.float()
            x = torch.nn.functional.interpolate(
                x, size=self.size, mode=self.mode, antialias=self.antialias,
                align_corners=False if self.mode in ("bilinear", "bicubic")
                else None)
            return x.to(dtype) if dtype.is_floating_point else \
                x.round().to(dtype)

    package = types.ModuleType("torchvision")
    package.transforms = types.ModuleType("torchvision.transforms")
    package.transforms.Resize = Resize
    package.transforms.InterpolationMode = InterpolationMode
    sys.modules["torchvision"] = package
    sys.modules["torchvision.transforms"] = package.transforms
    return "stand-in"


def run_peer(args, n):
    sys.path.insert(0, os.path.expanduser(os.environ["PEER_PATH"]))
    import torch
    torchvision = torchvision_or_stand_in()
    from pt_tnn.recurrent_module import RecurrentModuleRGC
    from pt_tnn.temporal_graph import TemporalGraph

    torch.manual_seed(0)
    path = os.environ.get("PEER_CONFIG")
    config = json.load(open(path)) if path else peer_config(args)
    size, steps = args.image_size, args.steps
    graph = TemporalGraph(model_config_file=config,
                          recurrent_module=RecurrentModuleRGC,
                          input_shape=[3, size, size], num_timesteps=steps)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    graph = graph.cuda() if device == "cuda" else graph
    graph.eval()
    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(
        args.peer_precision)
    mean = torch.tensor(MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=device).view(1, 3, 1, 1)
    blank = (0.5 - mean) / std

    def movie(start, stop):   # the neural presentation: on for 10 steps
        x = torch.from_numpy(stimuli(start, stop, size)).to(device)
        x = (x.permute(0, 3, 1, 2).float() / 255.0 - mean) / std
        frames = [x if t < 10 else blank.expand_as(x) for t in range(steps)]
        return torch.stack(frames, dim=1)

    def forward(start, stop):
        with torch.no_grad(), torch.autocast(
                device, dtype=dtype or torch.float32,
                enabled=dtype is not None):
            out, acts = graph(movie(start, stop), n_times=steps,
                              return_all=True, return_activations=True)
        if device == "cuda":
            torch.cuda.synchronize()
        return out, acts

    b = args.batch_size
    forward(0, b)
    begin = time.perf_counter()
    for start in range(0, n, b):
        out, acts = forward(start, start + b)
        del out, acts
    result = {"seconds": time.perf_counter() - begin, "device": device,
              "torch": torch.__version__, "torchvision": torchvision}
    if device == "cuda":
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def worker(args):
    n = args.n
    result = {"ours": run_ours, "plain": run_plain,
              "peer": run_peer}[args.worker](args, n)
    n_done = n if args.worker == "ours" else -(-n // args.batch_size) * \
        args.batch_size
    result.update(side=args.worker, images=n,
                  images_per_s=n_done / result["seconds"],
                  peak_rss_mib=peak_rss_mib())
    print("RESULT " + json.dumps(result), flush=True)


def measure(side, n, argv):
    python = (os.environ.get("PEER_PYTHON", sys.executable)
              if side == "peer" else sys.executable)
    command = [python, os.path.abspath(__file__), "--worker", side,
               "--n", str(n)] + argv
    env = dict(os.environ)
    if side == "peer" and not env.get("PEER_CONFIG"):
        # written here: PEER_PYTHON need not import tnn (nor keras)
        with tempfile.NamedTemporaryFile("w", suffix=".json",
                                         delete=False) as f:
            json.dump(peer_config(parse_args(argv)), f)
        env["PEER_CONFIG"] = f.name
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              env=env)
    finally:
        if env.get("PEER_CONFIG") != os.environ.get("PEER_CONFIG"):
            os.remove(env["PEER_CONFIG"])
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
    return {"side": side, "images": n, "error": " | ".join(tail)}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    sides = list(args.sides)
    if "peer" in sides and not os.environ.get("PEER_PATH"):
        print("peer: skipped (set PEER_PATH to a PyTorchTNN checkout)")
        sides.remove("peer")
    print(f"{args.model} at {args.image_size} px, {args.steps} steps, nodes "
          f"{args.nodes}, keep {args.keep or 'all'}, batch "
          f"{args.batch_size}, {args.reduction} to {args.dims}, precision "
          f"{args.precision} (peer {args.peer_precision})", flush=True)
    rows = []
    for n in args.images:
        for side in sides:
            row = measure(side, n, argv)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("\n| side | images | images/s | peak RSS (MiB) |\n|---|---|---|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['side']} | {row['images']} | error: "
                  f"{row['error'][:80]} | |")
            continue
        print(f"| {row['side']} | {row['images']} | "
              f"{row['images_per_s']:.2f} | {row['peak_rss_mib']:.0f} |")
    for n in args.images:
        got = {r["side"]: r for r in rows
               if r["images"] == n and "error" not in r}
        if "ours" in got:
            for other in ("plain", "peer"):
                if other in got:
                    ratio = (got["ours"]["images_per_s"]
                             / got[other]["images_per_s"])
                    print(f"N={n}: ours / {other} = {ratio:.2f}x images/s")


if __name__ == "__main__":
    main()
