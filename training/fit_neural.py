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
`build_model.name`); `--weights` (`fit_neural.weights`) loads a
`.weights.h5` or `.keras` file (a `.keras` alone is the model itself).
Every node but the readout is scored unless `--nodes` names some.

`--data` is our NPZ (`tnn.neural.data`) or a Brain-Score BrainIO assembly
(`.nc`, e.g. MajajHong2015) with its StimulusSet CSV and images
(`--stimulus_csv`, `--stimulus_dir`; default: found next to it), read by
`tnn.neural.brainio.load_brainio_assembly` (needs `tnn[brainio]`).

Writes into `base_dir`:

    report.json          per area: best node, raw score, ceiling, ceiled
                         score (summary rule "summary_rule": per-bin
                         ratios over the bins with a reliable ceiling,
                         clipped at 1, "above_ceiling" flagged) and its
                         metric version, per-bin curves of every node;
                         the model, data and feature settings; with
                         --fit_dynamics the direct fit of dynamics vs its
                         baselines (headline: common bins, 95% bootstrap
                         intervals); with --truth the checks against the
                         generator's ground truth
    sweep.png            score vs time per node (and sqrt of the ceiling)
    similarity.png       RSA and linear CKA per bin of each area's best
                         node, with their split-half ceilings (report
                         "similarity", training.similarity_report)
    trajectories.png     predicted (best node, one held-out split) vs
                         recorded trajectories of example neurons
    dynamics.png, dynamics_trajectories.png   with --fit_dynamics
    logs/                TensorBoard summaries of all curves and the plots
    dynamics/            with --fit_dynamics, the training of the dynamics
                         (keras Model.fit): logs/ (TensorBoard,
                         history.csv), checkpoints/, backup/ (resume)
    operative_config.gin the gin bindings in effect
    features.npz         with --save_features (reusable via --features)

Bad input fails with one line: unreadable or invalid data (shapes,
duplicate ids, all-NaN neurons, a single trial, non-increasing bins), a
model whose steps cannot cover the bins, features whose stimulus count or
ids do not match the data.

Settings that travel together are gin-configurable objects
(`training.settings`): `FeatureSettings` (feature extraction),
`SweepSettings` (mapping, splits, ceilings) and `DynamicsSettings` (the
direct fit of dynamics), e.g. `--gin_bindings='SweepSettings.n_splits =
5'` (`gin_configs/neural/smoke.gin` shrinks all three).
"""

import json
import os

import gin
import threadpoolctl

from tnn import config as tnn_config
from tnn import neural
from tnn.graphs import precision as precision_lib
from tnn.graphs.tnn_graph import TNNGraph
from tnn.neural import brainio as neural_brainio
from tnn.neural import features as nf
from tnn.neural import movie_stimuli
from tnn.neural.dynamics import compare as neural_compare
from tnn.neural.dynamics.trainable import dynamics_variables
# Registers the gin configurable `ventral_convrnn` (synthetic data sets).
from tnn.neural.synthetic import convrnn as neural_synthetic  # noqa: F401
from tnn.neural.synthetic import truth as neural_truth
from tnn.zoo import registry
from . import cli
from . import model_file
from . import report as neural_report
from . import similarity_report
from .settings import (RENAMED_BINDINGS, DynamicsSettings,
                               FeatureSettings, SweepSettings)

def build_neural_model(data, model_name=None, model_fn=None, weights=None,
                       image_size=None):
    """The TNNGraph to fit, with its weights (.weights.h5 or .keras)."""
    if model_name and model_fn is not None:
        raise ValueError("pass either --model or fit_neural.model_fn, not "
                         "both.")
    model_file.check_model_flags(model_name, image_size)
    if model_fn is None and not model_name:
        if not cli.gin_binding("build_model.name")[0]:
            if model_file.is_model_file(weights):  # the file's model
                return model_file.neural_model(weights, image_size)
            raise ValueError(
                "no model: pass --model NAME (tnn.list_models()), --weights "
                "X.keras or gin's fit_neural.model_fn / build_model.name.")
        model_fn = tnn_config.build_model
    if model_name:
        size = image_size or int(data.stimuli.shape[-3])
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
        if model_file.is_model_file(weights):  # by order, not by name
            return model_file.load_weights_into(model, weights)
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
    reducers = nf.make_reducers(model, nodes, settings.reduction,
                                settings.dims, settings.seed)
    features = nf.extract_features(
        model, data.stimuli, nodes, batch_size=settings.batch_size,
        reducers=reducers, nodes_per_pass=settings.nodes_per_pass,
        verbose=verbose, frame_ms=data.frame_ms,
        precision=settings.precision)
    info = {"reduction": {n: r.describe() for n, r in reducers.items()},
            "precision": precision_lib.effective_precision(
                model, settings.precision),
            "seed": settings.seed, "times": model.times,
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
               weights=None, image_size=None, nodes=None, step_offset=0,
               features=None, sweep=None, fit_dynamics=False,
               dynamics=None, truth_path=None, features_path=None,
               save_features=False, stimulus_csv=None, stimulus_dir=None,
               similarity=True, verbose=1):
    """Layer sweep (and optionally the direct fit of dynamics); writes all.

    Args:
        data_path: the neural data NPZ, or a BrainIO assembly (.nc).
        base_dir: output folder (module docs).
        model_name, model_fn, weights, image_size: the model
            (`build_neural_model`).
        nodes: nodes to score (default: every node but the readout, or
            every node of the features file).
        step_offset: bin b <- model step b + step_offset.
        features: a `FeatureSettings` (feature extraction,
            `tnn.neural.features.extract_features`); default
            `FeatureSettings()` (gin).
        sweep: a `SweepSettings` (the layer sweep, `tnn.neural.layer_sweep`;
            mapping "pls" is Brain-Score's PLS with 25 components); default
            `SweepSettings()` (gin).
        fit_dynamics: also run `neural_compare.compare_dynamics` on the
            best node of each area.
        dynamics: a `DynamicsSettings` (its settings); default
            `DynamicsSettings()` (gin).
        truth_path: ground-truth JSON of a synthetic data set (adds
            "truth_checks").
        features_path: precomputed features instead of the model's.
        save_features: write base_dir/features.npz.
        stimulus_csv, stimulus_dir: a .nc assembly's StimulusSet CSV and
            image folder (or zip); default found next to it.
        similarity: add RSA and linear CKA of each area's best node.
        verbose: progress output.

    Returns:
        The report dict (also written to base_dir/report.json).
    """
    feature_settings = (features if features is not None
                        else FeatureSettings())
    sweep_settings = sweep if sweep is not None else SweepSettings()
    dynamics_settings = (dynamics if dynamics is not None
                         else DynamicsSettings())
    data = neural_brainio.load_neural_file(data_path, stimulus_csv,
                                           stimulus_dir, image_size)
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
        movie_stimuli.check_still_images(data.stimuli, "--fit_dynamics")
    nodes = list(nodes) if nodes else None
    os.makedirs(base_dir, exist_ok=True)
    cli.write_operative_config(base_dir)
    features, ids, feature_info = _features(model, data, nodes,
                                            features_path, feature_settings,
                                            verbose)
    if save_features:
        nf.save_features(os.path.join(base_dir, "features.npz"), features,
                         ids, feature_info)
    mapping = neural.make_mapping(sweep_settings.mapping)
    sweep = neural.layer_sweep(
        features, data, mapping=mapping,
        shared_across_bins=sweep_settings.shared_across_bins,
        step_offset=step_offset, n_splits=sweep_settings.n_splits,
        train_size=sweep_settings.train_size, seed=sweep_settings.seed,
        ceiling_splits=sweep_settings.ceiling_splits,
        ceiling_version=sweep_settings.ceiling_version,
        selection_ms=sweep_settings.selection_ms,
        n_neuron_folds=sweep_settings.n_neuron_folds,
        min_ceiling=sweep_settings.min_ceiling, stimulus_ids=ids,
        progress=print if verbose else None)
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
    if similarity:
        report["similarity"] = similarity_report.similarity_report(
            features, data, sweep, sweep_settings.ceiling_splits, 1,
            sweep_settings.min_ceiling)
        plots.append(similarity_report.similarity_plot(
            report, os.path.join(base_dir, "similarity.png")))
    if fit_dynamics:
        best = {a: e["best_node"] for a, e in sweep["areas"].items()}
        fit = dynamics_settings
        dynamics, curves = neural_compare.compare_dynamics(
            data, model, best, step_offset, fit.test_fraction,
            fit.heldout_fraction, fit.seed, fit.epochs, fit.batch_size,
            fit.learning_rate, fit.readout, feature_settings.dims, verbose,
            log_dir=os.path.join(base_dir, "dynamics"))
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
    if similarity:
        similarity_report.write_tensorboard(report["logs"], report)
    with open(os.path.join(base_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    return report


def summary(report):
    """A few lines for the terminal."""
    lines = []
    rule = report.get("summary_rule", {})
    for area, e in report["areas"].items():
        lines.append(neural_report.ceiled_line(area, e, rule))
        if area in report.get("similarity", {}).get("areas", {}):
            lines.append(similarity_report.area_line(
                area, report["similarity"]["areas"][area]))
    for area, e in report.get("dynamics", {}).get("areas", {}).items():
        for kind, headline in e.get("headline", {}).items():
            lines.extend(neural_report.dynamics_lines(area, kind,
                                                      headline))
    for area, c in report.get("truth_checks", {}).items():
        lines.append(
            f"{area} truth: node {c['best_node']} (true {c['true_node']}), "
            f"ceiling {c['ceiling_mean']:.3f} vs true reliability "
            f"{c['true_reliability_mean']:.3f} (|error| "
            f"{c['ceiling_mean_abs_error']:.3f})")
    return "\n".join(lines)


def main(args):
    """Fits with the parsed flags; prints a summary, exits 1 if a truth
    check fails."""
    cli.parse_gin(args.gin_files, args.gin_bindings, RENAMED_BINDINGS)
    overrides = {"model_name": args.model, "weights": args.weights,
                 "image_size": args.image_size, "nodes": args.nodes,
                 "fit_dynamics": args.fit_dynamics,
                 "truth_path": args.truth,
                 "features_path": args.features,
                 "stimulus_csv": args.stimulus_csv,
                 "stimulus_dir": args.stimulus_dir}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.save_features:
        overrides["save_features"] = True
    report = fit_neural(args.data, args.base_dir, verbose=args.verbose,
                        **overrides)
    print(summary(report))
    print(f"Report: {os.path.join(args.base_dir, 'report.json')}")
    print(f"TensorBoard: tensorboard --logdir {report['logs']}")
    failed = neural_truth.failed_checks(report.get("truth_checks", {}))
    if failed:
        raise SystemExit("training.fit_neural: truth checks failed: "
                         + "; ".join(failed))


def parser():
    """The flags of `python -m training.fit_neural`."""
    result = cli.make_parser("training.fit_neural", __doc__)
    cli.add_gin_flags(result)
    cli.add_base_dir(result)
    cli.add_flags(result, [
        ("data", str, cli.REQUIRED, "Neural data NPZ (tnn.neural format) "
         "or BrainIO assembly (.nc)."),
        ("stimulus_csv", str, None, "StimulusSet CSV of a .nc assembly "
         "(default: next to it)."),
        ("stimulus_dir", str, None, "Image folder or zip of a .nc "
         "assembly's StimulusSet (default: next to the CSV)."),
        ("model", str, None, "A registered model name (tnn.list_models()); "
         "alternative to fit_neural.model_fn."),
        ("weights", str, None, "A .weights.h5 or .keras file; a .keras "
         "file without --model is the model (neural presentation)."),
        ("image_size", int, None, "Model input size (default: the "
         "stimuli's for --model, the builder's otherwise)."),
        ("nodes", list, None, "Nodes to score (default: all but the "
         "readout)."),
        ("fit_dynamics", bool, None, "Also fit the model's dynamics to the "
         "best nodes and compare with the baselines."),
        ("truth", str, None, "Ground-truth JSON of a synthetic data set: "
         "check recovered nodes and ceilings (exit 1 if a check fails)."),
        ("features", str, None, "Precomputed features NPZ "
         "(tnn.neural.features.save_features) instead of the model."),
        ("save_features", bool, False, "Write base_dir/features.npz."),
        ("verbose", int, 1, "0: quiet, 1: progress bars.")])
    return result


run = cli.entry_point(main, parser)

if __name__ == "__main__":
    run()
