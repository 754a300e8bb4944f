r"""`python -m training.fit_behavior`: i1n, i2n and OSTs of a model.

    python -m training.make_synthetic_behavior --out=runs/beh/syn.npz
    python -m training.fit_behavior --data=runs/beh/syn.npz \
        --features=runs/beh/syn.features.npz --base_dir=runs/beh/truth
    python -m training.fit_behavior --data=runs/beh/syn.npz \
        --model=rgc_shallow --base_dir=runs/beh/rgc

The data are a behaviour NPZ (`tnn.neural.behavior.data`): primate trials
for i1n / i2n (Rajalingham et al. 2018) and per-image OSTs with their i1
thresholds for the OST (Kar et al. 2019). The model (`--model NAME` with
the neural presentation, 26 steps of 10 ms, at `--image_size`, or a
`.keras` file) gives
features over time of `--node` (default: the last node before the
readout); `--features` reads precomputed ones instead. Behaviour uses the
features at `--behavior_step` (default the last step), turned into choice
probabilities by a held-out logistic regression
(`heldout_probabilities`); the OST uses bin b <- step
round(bin_start_ms / --step_ms) + --step_offset. `--feedforward` scores the
feed-forward control (recurrence off, the step of --behavior_step repeated
over time: no time course, so its OST is NaN as in Brain-Score).

Writes into `base_dir`:

    report.json     i1n, i2n (ceiled score, raw, ceiling, per split) and
                    OST (ceiled, raw, per split, predicted OSTs); with a
                    synthetic set's truth, the recovery of it
    dprime.png      per-image i1n, model vs data
    ost.png         predicted vs measured OSTs
"""

import json
import os

import numpy as np
import scipy.stats
import threadpoolctl

from tnn.neural import features as nf
from tnn.neural.behavior import data as bdata
from tnn.neural.behavior import i1i2, ost
from tnn.zoo import registry
from . import cli
from . import model_file


def _model(name, weights, size, image_size=None):
    model_file.check_model_flags(name, image_size)
    size = image_size or size
    if name:
        return registry.create_model(name, input_shape=(size, size, 3),
                                     presentation="neural")
    if weights and model_file.is_model_file(weights):
        return model_file.neural_model(weights, image_size)
    raise ValueError("no model: pass --model NAME (tnn.list_models()), "
                     "--weights X.keras, or --features FILE.")


def model_features(data, node=None, model=None, weights=None,
                   features_path=None, feedforward=False, verbose=0,
                   image_size=None):
    """(features [N, T, D] of one node, node name) in data order."""
    if features_path:
        features, ids, _ = nf.load_features(features_path)
        if list(ids) != list(data["stimulus_id"]):
            raise ValueError(f"{features_path!r} rows do not match the "
                             "data's stimulus_id order.")
    else:
        if "stimuli" not in data:
            raise ValueError("the data have no stimuli to show a model; "
                             "pass --features instead.")
        size = int(data["stimuli"].shape[1])
        net = _model(model, weights, size, image_size)
        nodes = [node] if node else nf.default_nodes(net)[-1:]
        features = nf.extract_features(net, data["stimuli"], nodes,
                                       recurrent=not feedforward,
                                       verbose=verbose)
    node = node or list(features)[-1]
    if node not in features:
        raise ValueError(f"no node {node!r}; have {list(features)}.")
    return np.asarray(features[node], np.float64), node


def _behavior(x, data):
    probabilities = bdata.heldout_probabilities(x, data["image_object"])
    trials = tuple(data[k] for k in bdata.TRIAL_KEYS)
    out = {}
    for metric in ("i1n", "i2n"):
        r = i1i2.behavior_consistency(probabilities, trials,
                                      data["image_object"], metric)
        out[metric] = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                       for k, v in r.items()}
    return out


def ost_steps(bin_start_ms, n_steps, step_ms=10.0, step_offset=0):
    """Model step of each OST bin: round(start / step_ms) + step_offset."""
    steps = np.round(np.asarray(bin_start_ms, float) / step_ms).astype(int)
    steps = steps + int(step_offset)
    if steps.min() < 0 or steps.max() >= n_steps:
        raise ValueError(
            f"the OST bins {np.asarray(bin_start_ms).tolist()} ms need model "
            f"steps {steps.min()}..{steps.max()}, but the features have "
            f"{n_steps} steps; change --step_ms / --step_offset.")
    return steps


def _truth(report, data):
    checks = {}
    if "true_ost" in data and "ost" in report:
        pred = np.asarray(report["ost"]["predicted_ost"], float)
        ok = np.isfinite(pred)
        if ok.sum() > 2:
            checks["ost_spearman_vs_true"] = float(scipy.stats.spearmanr(
                pred[ok], data["true_ost"][ok])[0])
            checks["ost_mean_abs_error_ms"] = float(
                np.abs(pred[ok] - data["true_ost"][ok]).mean())
    if "true_sensitivity" in data and data["has_trials"]:
        i1n = np.asarray(report["i1n"]["data_dprime"], float)
        labels = data["image_object"]
        checks["i1n_spearman_vs_true_sensitivity_within_object"] = float(
            np.nanmean([scipy.stats.spearmanr(
                i1n[labels == o], data["true_sensitivity"][labels == o])[0]
                for o in np.unique(labels)]))
    return checks


def _plots(report, data, base_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    if "i1n" in report:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(report["i1n"]["data_dprime"],
                   report["i1n"]["model_dprime"], s=12,
                   c=data["image_object"], cmap="tab10")
        ax.set(xlabel="primate i1n (d')", ylabel="model i1n (d')",
               title=f"i1n: ceiled {report['i1n']['score']:.3f}")
        paths.append(os.path.join(base_dir, "dprime.png"))
        fig.tight_layout()
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    if "ost" in report:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(data["primate_ost"], report["ost"]["predicted_ost"],
                   s=12)
        ax.set(xlabel="primate OST (ms)", ylabel="model OST (ms)",
               title=f"OST: ceiled {report['ost']['score']:.3f}")
        paths.append(os.path.join(base_dir, "ost.png"))
        fig.tight_layout()
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return [os.path.basename(p) for p in paths]


def fit_behavior(data_path, base_dir, model=None, weights=None, node=None,
                 features_path=None, behavior_step=-1, step_ms=10.0,
                 step_offset=0, feedforward=False, verbose=0,
                 image_size=None):
    """Scores the model on the data; writes and returns the report."""
    data = bdata.load_behavior_data(data_path)
    x, node = model_features(data, node, model, weights, features_path,
                             feedforward, verbose, image_size)
    n_steps = x.shape[1]
    if not -n_steps <= behavior_step < n_steps:
        raise ValueError(f"--behavior_step {behavior_step} is outside the "
                         f"features' {n_steps} steps.")
    if feedforward:
        x = np.repeat(x[:, [behavior_step]], n_steps, axis=1)
    report = {"data": os.fspath(data_path), "node": node,
              "model": model or weights or features_path,
              "feedforward": bool(feedforward),
              "behavior_step": behavior_step}
    os.makedirs(base_dir, exist_ok=True)
    with threadpoolctl.threadpool_limits(1):
        if data["has_trials"]:
            report.update(_behavior(x[:, behavior_step], data))
        if data["has_ost"]:
            bins = data["time_bin_start_ms"]
            steps = ost_steps(bins, n_steps, step_ms, step_offset)
            r = ost.ost_consistency(
                x[:, steps], data["image_object"], data["primate_ost"],
                data["primate_i1"], bins,
                ceiling=float(data.get("ost_ceiling",
                                       ost.KAR2019_OST_CEILING)))
            report["ost"] = {k: (v.tolist() if isinstance(v, np.ndarray)
                                 else v) for k, v in r.items()}
            report["ost"]["model_steps"] = steps.tolist()
    truth = _truth(report, data)
    if truth:
        report["truth_checks"] = truth
    report["plots"] = _plots(report, data, base_dir)
    with open(os.path.join(base_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1, default=float)
    return report


def summary(report):
    """A few lines for the terminal."""
    lines = []
    for key in ("i1n", "i2n", "ost"):
        if key in report:
            r = report[key]
            flag = (" [ABOVE CEILING: the ceiling is underestimated, "
                    "e.g. too few trials]" if r.get("above_ceiling") else "")
            lines.append(f"{key}: ceiled {r['score']:.3f} +- "
                         f"{r['error']:.3f} (raw {r['raw']:.3f}, ceiling "
                         f"{r['ceiling']:.3f}){flag}")
    for key, value in report.get("truth_checks", {}).items():
        lines.append(f"truth {key}: {value:.3f}")
    return "\n".join(lines)


def main(args):
    """Scores with the parsed flags; prints a summary."""
    report = fit_behavior(
        args.data, args.base_dir, args.model, args.weights, args.node,
        args.features, args.behavior_step, args.step_ms, args.step_offset,
        args.feedforward, args.verbose, args.image_size)
    print(summary(report))
    print(f"Report: {os.path.join(args.base_dir, 'report.json')}")


def parser():
    """The flags of `python -m training.fit_behavior`."""
    result = cli.make_parser("training.fit_behavior", __doc__)
    cli.add_base_dir(result)
    cli.add_flags(result, [
        ("data", str, cli.REQUIRED, "Behaviour NPZ "
         "(tnn.neural.behavior.data)."),
        ("model", str, None, "A registered model name (tnn.list_models())."),
        ("weights", str, None, "A .keras model file (neural presentation)."),
        ("image_size", int, None, "Model input size (default: the "
         "stimuli's); the shallow models need >= 65 px."),
        ("features", str, None, "Precomputed features NPZ "
         "(tnn.neural.features.save_features) instead of a model."),
        ("node", str, None, "Node whose features are decoded (default: "
         "the last before the readout)."),
        ("behavior_step", int, -1, "Step of the features for i1n / i2n."),
        ("step_ms", float, 10.0, "Duration of a model step (ms)."),
        ("step_offset", int, 0, "Added to each OST bin's step."),
        ("feedforward", bool, False, "Score the feed-forward control."),
        ("verbose", int, 0, "0: quiet, 1: progress bars.")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
