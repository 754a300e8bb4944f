r"""`python -m training.fit_neural`: map a TNN model onto time-binned neurons.

    python -m training.fit_neural --data=data.npz --model=rgc_shallow \
        --image_size=96 --base_dir=runs/fit

    python -m training.make_synthetic_ventral --out=runs/demo/syn.npz
    python -m training.fit_neural --data=runs/demo/syn.npz \
        --gin_files=runs/demo/syn.gin --truth=runs/demo/syn.truth.json \
        --fit_dynamics --base_dir=runs/demo/fit

The model is `--model NAME` (a registered model, presented with the neural
presentation: 26 steps of 10 ms, image off at step 10, images resized to
`--image_size`, default the stimuli's size) or `fit_neural.model_fn` bound
in `--gin_files` (e.g. `@ventral_convrnn`, or `@build_model` with
`build_model.name`); `--weights` (or `fit_neural.weights`) loads trained
weights. Every node but the readout is scored unless `--nodes` names some.

Writes into `base_dir`:

    report.json          per area: best node, raw score, ceiling, ceiled
                         score and its metric version, per-bin curves of
                         every node; the model, data and feature settings;
                         with --fit_dynamics the direct fit of dynamics vs
                         its baselines; with --truth the checks against the
                         generator's ground truth
    sweep.png            score vs time per node (and sqrt of the ceiling)
    trajectories.png     predicted (best node, one held-out split) vs
                         recorded trajectories of example neurons
    dynamics.png, dynamics_trajectories.png   with --fit_dynamics
    logs/                TensorBoard summaries of all curves and the plots
    operative_config.gin the gin bindings in effect
    features.npz         with --save_features (reusable via --features)

Bad input fails with one line: unreadable or invalid data (shapes,
duplicate ids, all-NaN neurons, a single trial, non-increasing bins), a
model whose steps cannot cover the bins, features whose stimulus count or
ids do not match the data.
"""

import json
import os

import gin
import threadpoolctl
from absl import app, flags, logging

from tnn import config as tnn_config
from tnn import neural
from tnn.zoo import registry
from tnn.graphs.tnn_graph import TNNGraph
from tnn.neural.dynamics import compare as neural_compare
from training import report as neural_report
from tnn.neural.synthetic import truth as neural_truth
from tnn.neural import features as nf
from tnn.neural.synthetic import convrnn as neural_synthetic  # noqa: F401  (gin: ventral_convrnn)
from training import train as train_lib
from tnn.neural.dynamics.trainable import dynamics_variables

flags.DEFINE_string("data", None, "Neural data NPZ (tnn.neural format).")
flags.DEFINE_string("model", None, "A registered model name (tnn."
                    "list_models()); alternative to fit_neural.model_fn.")
flags.DEFINE_string("weights", None, "Keras .weights.h5 file to load.")
flags.DEFINE_integer("image_size", None, "Model input size (default: the "
                     "stimuli's for --model, the builder's otherwise).")
flags.DEFINE_list("nodes", None, "Nodes to score (default: all but the "
                  "readout).")
flags.DEFINE_bool("fit_dynamics", None, "Also fit the model's dynamics to "
                  "the best nodes and compare with the baselines.")
flags.DEFINE_string("truth", None, "Ground-truth JSON of a synthetic data "
                    "set: check recovered nodes and ceilings (exit 1 if a "
                    "check fails).")
flags.DEFINE_string("features", None, "Precomputed features NPZ "
                    "(neural_features.save_features) instead of the model.")
flags.DEFINE_bool("save_features", False, "Write base_dir/features.npz.")
flags.DEFINE_integer("verbose", 1, "0: quiet, 1: progress bars.")


def _gin_bound(parameter):
    try:
        gin.query_parameter(parameter)
    except (ValueError, TypeError):
        return False
    return True


def build_neural_model(data, model_name=None, model_fn=None, weights=None,
                       image_size=None):
    """The TNNGraph to fit, with its weights loaded."""
    if model_name and model_fn is not None:
        raise ValueError("pass either --model or fit_neural.model_fn, not "
                         "both.")
    if model_fn is None and not model_name:
        if not _gin_bound("build_model.name"):
            raise ValueError(
                "no model: pass --model NAME (see tnn.list_models()) or a "
                "gin file binding fit_neural.model_fn (or build_model.name).")
        model_fn = tnn_config.build_model
    if model_name:
        size = image_size or int(data.stimuli.shape[1])
        model = registry.create_model(model_name, input_shape=(size, size, 3),
                                      presentation="neural")
    else:
        kwargs = ({} if image_size is None else
                  {"input_shape": (image_size, image_size, 3)})
        model = model_fn(**kwargs)
    if not isinstance(model, TNNGraph):
        raise ValueError(f"the model builder must return a tnn.TNNGraph, got "
                         f"{type(model).__name__}.")
    if weights:
        if not os.path.isfile(weights):
            raise ValueError(f"weights file {weights!r} does not exist.")
        try:
            model.load_weights(weights)
        except (ValueError, KeyError, OSError) as err:
            first = str(err).strip().splitlines()[0]
            raise ValueError(
                f"weights {weights!r} do not fit model {model.name!r} "
                f"({first}); build the architecture they were saved from."
            ) from None
    return model


def _features(model, data, nodes, features_path, settings, verbose):
    if features_path:
        features, ids, info = nf.load_features(features_path)
        if nodes:
            missing = [n for n in nodes if n not in features]
            if missing:
                raise ValueError(f"{features_path!r} has no node "
                                 f"{missing[0]!r}; it has {list(features)}.")
            features = {n: features[n] for n in nodes}
        return features, ids, dict(info, source=features_path)
    nodes = nodes or nf.default_nodes(model)
    reducers = nf.make_reducers(model, nodes, settings["reduction"],
                                settings["dims"], settings["seed"])
    features = nf.extract_features(
        model, data.stimuli, nodes, batch_size=settings["batch_size"],
        reducers=reducers, nodes_per_pass=settings["nodes_per_pass"],
        verbose=verbose)
    info = {"reduction": {n: r.describe() for n, r in reducers.items()},
            "seed": settings["seed"], "times": model.times,
            "image_off": model.image_off, "input_shape":
                list(model.graph_input_shape)}
    return features, data.stimulus_id, info


def _trajectories(features, sweep, data, steps, mapping):
    """Best-node predictions for the first sweep split's test stimuli."""
    split = neural.stimulus_splits(
        data.n_stimuli, data.object_label, sweep["splits"]["n_splits"],
        sweep["splits"]["train_size"], sweep["splits"]["seed"])[0]
    average = data.trial_average()
    curves = {}
    for area, entry in sweep["areas"].items():
        idx = data.area_indices(area)
        with threadpoolctl.threadpool_limits(1):
            test, pred = neural.heldout_predictions(
                features[entry["best_node"]], steps, average[..., idx],
                split, mapping, sweep["mapping"]["shared_across_bins"])
        curves[area] = {"recorded": average[test][..., idx],
                        "neurons": data.neuron_id[idx],
                        entry["best_node"]: pred}
    return curves


@gin.configurable(denylist=["data_path", "base_dir"])
def fit_neural(data_path, base_dir, model_name=None, model_fn=None,
               weights=None, image_size=None, nodes=None, batch_size=32,
               reduction="projection", dims=1024, feature_seed=0,
               nodes_per_pass=None, step_offset=0, mapping="pls",
               shared_across_bins=False, n_splits=10, train_size=0.9,
               split_seed=1, ceiling_splits=10,
               ceiling_version="r2_over_ceiling_2026", selection_ms=None,
               n_neuron_folds=0, fit_dynamics=False, dynamics_epochs=10,
               dynamics_batch_size=32, dynamics_learning_rate=1e-3,
               dynamics_readout="ridge", test_fraction=0.2,
               heldout_fraction=0.25, dynamics_seed=0, truth_path=None,
               features_path=None, save_features=False, verbose=1):
    """Layer sweep (and optionally the direct fit of dynamics); writes all.

    Args:
        data_path: the neural data NPZ.
        base_dir: output folder (module docs).
        model_name, model_fn, weights, image_size: the model
            (`build_neural_model`).
        nodes: nodes to score (default: every node but the readout, or
            every node of the features file).
        batch_size, reduction, dims, feature_seed, nodes_per_pass: feature
            extraction (`neural_features.extract_features`).
        step_offset: bin b <- model step b + step_offset.
        mapping, shared_across_bins, n_splits, train_size, split_seed,
            ceiling_splits, ceiling_version, selection_ms, n_neuron_folds:
            the layer sweep (`tnn.neural.layer_sweep`; mapping "pls" is
            Brain-Score's PLS with 25 components).
        fit_dynamics: also run `neural_compare.compare_dynamics` on the
            best node of each area.
        dynamics_epochs, dynamics_batch_size, dynamics_learning_rate,
            dynamics_readout, test_fraction, heldout_fraction,
            dynamics_seed: its settings.
        truth_path: ground-truth JSON of a synthetic data set (adds
            "truth_checks").
        features_path: precomputed features instead of the model's.
        save_features: write base_dir/features.npz.
        verbose: progress output.

    Returns:
        The report dict (also written to base_dir/report.json).
    """
    data = neural.load_neural_data(data_path)
    truth = None
    if truth_path:
        if not os.path.isfile(truth_path):
            raise ValueError(f"truth file {truth_path!r} does not exist.")
        with open(truth_path) as f:
            truth = json.load(f)
    model = build_neural_model(data, model_name, model_fn, weights,
                               image_size)
    steps = nf.check_bins(model, data.n_bins, step_offset)
    if fit_dynamics:
        dynamics_variables(model)  # a model without dynamics fails now
    nodes = list(nodes) if nodes else None
    os.makedirs(base_dir, exist_ok=True)
    with open(os.path.join(base_dir, "operative_config.gin"), "w") as f:
        f.write(gin.operative_config_str())
    settings = {"reduction": reduction, "dims": dims, "seed": feature_seed,
                "batch_size": batch_size, "nodes_per_pass": nodes_per_pass}
    features, ids, feature_info = _features(model, data, nodes,
                                            features_path, settings, verbose)
    if save_features:
        nf.save_features(os.path.join(base_dir, "features.npz"), features,
                         ids, feature_info)
    mapping = neural.make_mapping(mapping)
    sweep = neural.layer_sweep(
        features, data, mapping=mapping,
        shared_across_bins=shared_across_bins, step_offset=step_offset,
        n_splits=n_splits, train_size=train_size, seed=split_seed,
        ceiling_splits=ceiling_splits, ceiling_version=ceiling_version,
        selection_ms=selection_ms, n_neuron_folds=n_neuron_folds,
        stimulus_ids=ids, progress=print if verbose else None)
    report = {"data": {"path": os.fspath(data_path),
                       "n_stimuli": data.n_stimuli,
                       "n_trials": data.n_trials, "n_bins": data.n_bins,
                       "bin_width_ms": data.bin_width_ms,
                       "neurons": {a: int(data.area_indices(a).size)
                                   for a in data.areas}},
              "model": {"name": model.name, "weights": weights,
                        "input_shape": list(model.graph_input_shape),
                        "times": model.times, "image_off": model.image_off,
                        "first_image_step": {n: model.first_image_step(n)
                                             for n in features
                                             if n in model.graph_nodes}},
              "features": feature_info, **sweep}
    plots = [neural_report.sweep_plot(sweep, os.path.join(base_dir,
                                                          "sweep.png")),
             neural_report.trajectory_plot(
                 _trajectories(features, sweep, data, steps, mapping),
                 data.bin_start_ms, os.path.join(base_dir,
                                                 "trajectories.png"),
                 title="best node, held-out stimuli of split 0")]
    if fit_dynamics:
        best = {a: e["best_node"] for a, e in sweep["areas"].items()}
        dynamics, curves = neural_compare.compare_dynamics(
            data, model, best, step_offset, test_fraction,
            heldout_fraction, dynamics_seed, dynamics_epochs,
            dynamics_batch_size, dynamics_learning_rate, dynamics_readout,
            dims, verbose)
        report["dynamics"] = dynamics
        plots.append(neural_report.dynamics_plot(
            dynamics, data.bin_start_ms, os.path.join(base_dir,
                                                      "dynamics.png")))
        shown = {a: {"recorded": c["recorded"],
                     "neurons": data.neuron_id[data.area_indices(a)][
                         c["neurons"]],
                     **{m: c[m] for m in ("recurrent_fit",
                                          "feedforward_shared",
                                          "time_varied")}}
                 for a, c in curves.items()}
        plots.append(neural_report.trajectory_plot(
            shown, data.bin_start_ms,
            os.path.join(base_dir, "dynamics_trajectories.png"),
            title="direct fit of dynamics vs baselines, test stimuli"))
    if truth is not None:
        report["truth_checks"] = neural_truth.truth_checks(report, truth)
    report["plots"] = [os.path.basename(p) for p in plots]
    report["logs"] = neural_report.write_tensorboard(
        os.path.join(base_dir, "logs"), report, plots)
    with open(os.path.join(base_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


def _fmt(value):
    return "n/a" if value is None else f"{value:.3f}"


def summary(report):
    """A few lines for the terminal."""
    lines = []
    for area, e in report["areas"].items():
        lines.append(
            f"{area}: best node {e['best_node']}, raw "
            f"{_fmt(e['raw_score'])}, ceiling {_fmt(e['ceiling'])}, ceiled "
            f"{_fmt(e['ceiled_score'])} ({e['ceiling_version']})")
    for area, e in report.get("dynamics", {}).get("areas", {}).items():
        for kind in ("heldout_stimuli", "heldout_neurons"):
            if kind in e["recurrent_fit"]:
                means = ", ".join(
                    f"{m} {e[m][kind]['mean']:.3f} "
                    f"({_fmt(e[m][kind]['mean_common_bins'])})"
                    for m in report["dynamics"]["methods"])
                lines.append(f"{area} dynamics, {kind}, mean over all bins "
                             f"(over common bins): {means}")
    for area, c in report.get("truth_checks", {}).items():
        lines.append(
            f"{area} truth: node {c['best_node']} (true {c['true_node']}), "
            f"ceiling {c['ceiling_mean']:.3f} vs true reliability "
            f"{c['true_reliability_mean']:.3f} (|error| "
            f"{c['ceiling_mean_abs_error']:.3f})")
    return "\n".join(lines)


def main(argv):
    del argv
    options = flags.FLAGS
    if not options.base_dir or not options.data:
        raise app.UsageError("--data and --base_dir are required.")
    logging.set_verbosity(logging.WARNING)
    train_lib.parse_gin(options.gin_files, options.gin_bindings)
    overrides = {"model_name": options.model, "weights": options.weights,
                 "image_size": options.image_size, "nodes": options.nodes,
                 "fit_dynamics": options.fit_dynamics,
                 "truth_path": options.truth,
                 "features_path": options.features}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if options.save_features:
        overrides["save_features"] = True
    report = fit_neural(options.data, options.base_dir,
                        verbose=options.verbose, **overrides)
    print(summary(report))
    print(f"Report: {os.path.join(options.base_dir, 'report.json')}")
    print(f"TensorBoard: tensorboard --logdir {report['logs']}")
    failed = neural_truth.failed_checks(report.get("truth_checks", {}))
    if failed:
        raise SystemExit("training.fit_neural: truth checks failed: "
                         + "; ".join(failed))


def run():
    """Console entry point: clear one-line errors instead of tracebacks."""
    try:
        app.run(main)
    except ValueError as err:
        raise SystemExit(f"training.fit_neural: error: "
                         f"{train_lib.error_message(err)}") from None


if __name__ == "__main__":
    run()
