r"""`python -m training.make_synthetic_ventral`: demo data for fit_neural.

    python -m training.make_synthetic_ventral --out=runs/demo/syn.npz

Renders shape stimuli and generates V4/IT-like time-binned responses whose
ground truth is a ConvRNN (`tnn.neural.synthetic.convrnn`: V4 <- conv2,
IT <- conv4 of a conv-LSTM `ventral_convrnn` with conv4 -> conv2 feedback,
recurrent weights different from the model a user fits). Writes, next to
each other (`<stem>` = the --out path without .npz):

    <stem>.npz          the neural data (tnn.neural NPZ format)
    <stem>.truth.json   ground truth: driving node, latency, true per-bin
                        split-half reliability of each area; model settings
    <stem>.weights.h5   the weights of the model to fit (not the truth's)
    <stem>.gin          bindings that rebuild that model for fit_neural:
                        python -m training.fit_neural --data=<stem>.npz \
                            --gin_files=<stem>.gin --base_dir=...
"""

import json
import os

from tnn import neural
from tnn.neural.synthetic import convrnn as neural_synthetic
from . import cli


def output_paths(out):
    """The four output paths for an --out path ending in .npz."""
    out = os.fspath(out)
    if not out.endswith(".npz"):
        raise ValueError(f"--out must end with .npz, got {out!r}.")
    stem = out[:-4]
    return {"data": out, "truth": f"{stem}.truth.json",
            "weights": f"{stem}.weights.h5", "gin": f"{stem}.gin"}


def gin_text(info, weights_path):
    """Gin bindings rebuilding the model to fit (see module docs)."""
    m = info["model"]
    feedback = tuple(tuple(e) for e in m["feedback"])
    return "\n".join([
        "# Written by training.make_synthetic_ventral: the model to fit.",
        "fit_neural.model_fn = @ventral_convrnn",
        f"fit_neural.weights = {json.dumps(os.path.abspath(weights_path))}",
        f"ventral_convrnn.input_shape = {tuple(m['input_shape'])}",
        f"ventral_convrnn.widths = {tuple(m['widths'])}",
        f"ventral_convrnn.feedback = {feedback}",
        f"ventral_convrnn.times = {m['times']}",
        f"ventral_convrnn.image_off = {m['image_off']}", ""])


def make_synthetic_ventral(out, n_per_category=80, size=32, n_trials=20,
                           n_neurons=40, seed=0, truth_seed=1, mix=0.5):
    """Generates and writes the demo data set; returns the output paths."""
    paths = output_paths(out)
    folder = os.path.dirname(os.path.abspath(paths["data"]))
    os.makedirs(folder, exist_ok=True)
    data, info, model, _ = neural_synthetic.generate_convrnn_ventral(
        n_per_category=n_per_category, size=size, n_trials=n_trials,
        seed=seed, truth_seed=truth_seed, mix=mix, n_neurons=n_neurons)
    neural.save_neural_data(data, paths["data"])
    model.save_weights(paths["weights"])
    with open(paths["truth"], "w") as f:
        json.dump(info, f, indent=1)
    with open(paths["gin"], "w") as f:
        f.write(gin_text(info, paths["weights"]))
    return paths


def main(args):
    """Writes the data set the flags describe; prints the paths."""
    paths = make_synthetic_ventral(
        args.out, args.n_per_category, args.size, args.n_trials,
        args.n_neurons, args.seed, args.truth_seed, args.mix)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


def parser():
    """The flags of `python -m training.make_synthetic_ventral`."""
    result = cli.make_parser("training.make_synthetic_ventral", __doc__)
    cli.add_flags(result, [
        ("out", str, cli.REQUIRED, "Output .npz path."),
        ("n_per_category", int, 80, "Stimuli per category (6)."),
        ("size", int, 32, "Stimulus and model input size (px)."),
        ("n_trials", int, 20, "Trials per stimulus."),
        ("n_neurons", int, 40, "Neurons per area."),
        ("seed", int, 0, "Seed of stimuli, model and noise."),
        ("truth_seed", int, 1, "Seed of the truth's recurrence."),
        ("mix", float, 0.5, "How far the truth's recurrent weights are from "
         "the model's (0 < mix <= 1; 1 = a new draw).")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
