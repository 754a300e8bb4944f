r"""`python -m training.make_synthetic_behavior`: demo data for fit_behavior.

    python -m training.make_synthetic_behavior --out=runs/beh/syn.npz

Draws `tnn.neural.behavior.synthetic_behavior` (images with known
sensitivity and object solution times, primate trials, OSTs and their i1
thresholds, model-like features over time) and renders one shape stimulus
per image (`tnn.neural.synthetic.generator.render_stimuli`, one shape per
object), so that a model can be run on it. Writes:

    <stem>.npz            the behaviour data (tnn.neural.behavior.data),
                          with the truth (true_sensitivity, true_ost);
                          OSTs without measurement noise, ost_ceiling 1
    <stem>.features.npz   the generator's features over time (node
                          "synthetic"), one step per OST bin: pass it as
                          fit_behavior --features to recover the truth
"""

import os

import numpy as np

from tnn.neural import features as nf
from tnn.neural.behavior import data as bdata
from tnn.neural.behavior import synthetic
from tnn.neural.synthetic import generator
from . import cli


def make_synthetic_behavior(out, n_objects=3, images_per_object=24,
                            trials_per_image=100, size=32, seed=0):
    """Writes the two files; returns their paths."""
    out = os.fspath(out)
    if not out.endswith(".npz"):
        raise ValueError(f"--out must end with .npz, got {out!r}.")
    if not 2 <= n_objects <= len(generator.CATEGORIES):
        raise ValueError(f"--n_objects must be in [2, "
                         f"{len(generator.CATEGORIES)}], got {n_objects}.")
    syn = synthetic.synthetic_behavior(
        n_objects=n_objects, images_per_object=images_per_object,
        trials_per_image=trials_per_image, n_features=16, seed=seed)
    stimuli, _, ids = generator.render_stimuli(
        images_per_object, size=size,
        categories=generator.CATEGORIES[:n_objects], seed=seed)
    paths = {"data": out, "features": out[:-4] + ".features.npz"}
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    bdata.save_behavior_data(
        out, stimulus_id=ids, stimuli=stimuli,
        image_object=syn.image_object,  # both in category order
        object_names=np.asarray(generator.CATEGORIES[:n_objects]),
        trial_image=syn.trials["image"],
        trial_distractor=syn.trials["distractor"],
        trial_choice=syn.trials["choice"], primate_ost=syn.primate_ost,
        primate_i1=syn.primate_i1, time_bin_start_ms=syn.time_bins,
        true_sensitivity=syn.true_sensitivity, true_ost=syn.true_ost,
        ost_ceiling=1.0)  # noiseless OSTs: no ceiling below 1
    # one feature step per OST bin: bin b <- step round(start / 10 ms)
    steps = np.round(syn.time_bins / 10.0).astype(int)
    x = np.zeros((syn.features.shape[0], steps.max() + 1,
                  syn.features.shape[2]), np.float32)
    x[:, steps] = syn.features
    x[:, :steps[0]] = syn.features[:, :1]
    nf.save_features(paths["features"], {"synthetic": x}, ids,
                     {"source": "tnn.neural.behavior.synthetic",
                      "seed": seed})
    return paths


def main(args):
    """Writes the data set the flags describe; prints the paths."""
    paths = make_synthetic_behavior(args.out, args.n_objects,
                                    args.images_per_object,
                                    args.trials_per_image, args.size,
                                    args.seed)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


def parser():
    """The flags of `python -m training.make_synthetic_behavior`."""
    result = cli.make_parser("training.make_synthetic_behavior", __doc__)
    cli.add_flags(result, [
        ("out", str, cli.REQUIRED, "Output .npz path."),
        ("n_objects", int, 3, "Objects (shape categories)."),
        ("images_per_object", int, 24, "Images per object."),
        ("trials_per_image", int, 100, "Primate trials per image."),
        ("size", int, 32, "Stimulus size (px)."),
        ("seed", int, 0, "Seed of the generator and the stimuli.")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
