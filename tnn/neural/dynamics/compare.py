"""The direct fit of dynamics against its baselines, on held-out data.

One split of the stimuli into training and test stimuli (stratified by
object label) and, per area, of the neurons into fitted and held-out
neurons. Methods, all scored on the test stimuli (Pearson r per neuron and
bin over stimuli, median over neurons):

- "recurrent_fit": `tnn.neural.dynamics.fit.DynamicsFit` trained on the
  training stimuli and the fitted neurons (its own shared readouts).
- "feedforward_shared": the feed-forward control
  (`model.unroll(..., recurrence="off")`: the same model with recurrence
  and feedback zeroed) with a ridge readout shared across bins.
- "time_varied": an independent PLS mapping (25 components) per bin from
  the feed-forward control's features, the paper's "time-varied mapping".
- "initial_shared" and "time_varied_initial": the same two mappings from
  the model before the fit (its initial recurrent weights), for reference.

Held-out neurons: the dynamics were trained without them; every method
fits their mapping on the training stimuli (the recurrent fit: a shared
ridge readout of its trained model) and is scored on the test stimuli.

The headline ("headline", "beats_baselines") compares the methods on the
bins where every method's score is defined only (a baseline whose
predictions are constant in a bin has no score there; counting it as 0
would favour the recurrent fit) and gives a 95% paired bootstrap interval
over the test stimuli for the difference recurrent fit - baseline: the
recurrent fit wins only where the whole interval is above 0
(`compare_on_common_bins`). "mean" (over all bins, undefined = 0) stays in
the report for reference only.
"""

import math

import numpy as np
import threadpoolctl
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from tnn import neural
from tnn.neural import metrics as neural_metrics
from tnn.neural.dynamics import readouts as neural_readouts
from tnn.neural.dynamics.fit import DynamicsFit
from tnn.neural.features import check_bins, extract_features

BASELINES = ("feedforward_shared", "time_varied")
KINDS = ("heldout_stimuli", "heldout_neurons")
N_BOOTSTRAP = 1000
CONFIDENCE = 0.95
# method -> (features it maps: the fitted model, the feed-forward control
# or the initial model; per-bin PLS (True) or shared ridge readout (False))
SOURCES = {"recurrent_fit": ("fitted", False),
           "feedforward_shared": ("feedforward", False),
           "time_varied": ("feedforward", True),
           "initial_shared": ("initial", False),
           "time_varied_initial": ("initial", True)}
METHODS = ("recurrent_fit",) + BASELINES + ("initial_shared",
                                            "time_varied_initial")


def split_stimuli(n, object_label=None, test_fraction=0.2, seed=0):
    """(train, test) sorted stimulus indices of one stratified split."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got "
                         f"{test_fraction!r}.")
    if object_label is None:
        splitter = ShuffleSplit(1, test_size=test_fraction,
                                random_state=seed)
    else:
        splitter = StratifiedShuffleSplit(1, test_size=test_fraction,
                                          random_state=seed)
    train, test = next(splitter.split(np.zeros(n), object_label))
    return np.sort(train), np.sort(test)


def split_neurons(n_neurons, heldout_fraction=0.25, seed=0):
    """(fitted, held-out) neuron indices within an area."""
    if not 0 <= heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in [0, 1), got "
                         f"{heldout_fraction!r}.")
    order = np.random.default_rng(seed).permutation(n_neurons)
    n_held = int(math.ceil(heldout_fraction * n_neurons))
    if n_neurons - n_held < 1:
        raise ValueError(f"an area of {n_neurons} neurons leaves none to "
                         "fit; lower heldout_fraction.")
    return np.sort(order[n_held:]), np.sort(order[:n_held])


def _shared(features, target, train, test, seed):
    readout = neural_readouts.fit_shared_readout(features[train],
                                                 target[train], seed=seed)
    return neural_readouts.predict_shared(features[test], readout)


def _time_varied(features, target, train, test):
    with threadpoolctl.threadpool_limits(1):
        _, pred = neural.heldout_predictions(
            features, np.arange(features.shape[1]), target, (train, test),
            neural.PLSMapping(), shared_across_bins=False)
    return pred


def _curve(pred, truth):
    score = neural_readouts.score_curve(pred, truth)
    return {"mean": score["mean"], "per_bin": _jsonable(score["per_bin"])}


def _jsonable(values):
    return [None if not np.isfinite(v) else float(v)
            for v in np.asarray(values, np.float64)]


def compare_dynamics(data, model, area_nodes, step_offset=0,
                     test_fraction=0.2, heldout_fraction=0.25, seed=0,
                     epochs=10, batch_size=32, learning_rate=1e-3,
                     readout="ridge", dims=1024,
                     verbose=1, log_dir=None, callbacks=None):
    """Fits the model's dynamics and scores it and the baselines.

    Args:
        data: a `tnn.neural.NeuralData`.
        model: a TNNGraph (not modified).
        area_nodes: dict area -> node (e.g. the sweep's best nodes).
        step_offset: bin b <- model step b + step_offset.
        test_fraction: share of stimuli held out.
        heldout_fraction: share of each area's neurons held out.
        seed: seed of the splits, readout folds and training.
        epochs, batch_size, learning_rate, readout: training of the fit
            (`tnn.neural.dynamics.fit.DynamicsFit`).
        dims: readout input size of large nodes (`NodeReducer`).
        verbose: progress output.
        log_dir, callbacks: the fit's TensorBoard logs, checkpoints and
            backup folder, and extra Keras callbacks (`DynamicsFit.fit`).

    Returns:
        (report, trajectories): report is JSON-ready: "split", "methods",
        "areas" -> area -> method -> {"heldout_stimuli", "heldout_neurons"}
        -> {"mean", "per_bin", "mean_common_bins"}, "headline" -> kind ->
        `compare_on_common_bins`, "beats_baselines" -> kind -> whether the
        recurrent fit wins the headline, and the fit's description;
        trajectories: area -> {"test_index", "neurons", "recorded"
        [m, B, K], method -> predictions [m, B, K]} for the fitted
        neurons.
    """
    steps = check_bins(model, data.n_bins, step_offset)
    train, test = split_stimuli(data.n_stimuli, data.object_label,
                                test_fraction, seed)
    average = data.trial_average()
    neurons = {a: split_neurons(data.area_indices(a).size, heldout_fraction,
                                seed) for a in area_nodes}
    fit = DynamicsFit(model, area_nodes, steps, dims=dims, seed=seed,
                      learning_rate=learning_rate, readout=readout)
    nodes = fit.nodes
    feats = {}
    for kind, recurrent in (("feedforward", False), ("initial", True)):
        full = extract_features(model, data.stimuli, nodes=nodes,
                                reducers=fit.reducers, recurrent=recurrent,
                                verbose=verbose)
        feats[kind] = {n: v[:, steps] for n, v in full.items()}
    targets = {a: average[..., data.area_indices(a)] for a in area_nodes}
    fitted = {a: targets[a][..., neurons[a][0]] for a in area_nodes}
    fit.fit(data.stimuli[train], {a: y[train] for a, y in fitted.items()},
            epochs=epochs, batch_size=batch_size, verbose=verbose,
            callbacks=callbacks, log_dir=log_dir)
    predicted = fit.predict(data.stimuli[test])
    feats["fitted"] = fit.features(data.stimuli)
    report = {"split": {"n_train": int(train.size), "n_test": int(test.size),
                        "seed": int(seed), "test_fraction": test_fraction,
                        "heldout_fraction": heldout_fraction},
              "methods": list(METHODS), "areas": {},
              "fit": fit.describe()}
    trajectories = {}
    for area, node in area_nodes.items():
        keep, held = neurons[area]
        y = targets[area]
        preds = {"recurrent_fit": predicted[area],
                 "feedforward_shared": _shared(
                     feats["feedforward"][node], y[..., keep], train, test,
                     seed),
                 "time_varied": _time_varied(
                     feats["feedforward"][node], y[..., keep], train, test),
                 "initial_shared": _shared(
                     feats["initial"][node], y[..., keep], train, test, seed),
                 "time_varied_initial": _time_varied(
                     feats["initial"][node], y[..., keep], train, test)}
        area_report = {"node": node, "n_fitted": int(keep.size),
                       "n_heldout": int(held.size)}
        scored = {"heldout_stimuli": (preds, y[test][..., keep])}
        if held.size:
            scored["heldout_neurons"] = ({}, y[test][..., held])
        for method in METHODS:
            kind, per_bin = SOURCES[method]
            entry = {"heldout_stimuli": _curve(preds[method],
                                               y[test][..., keep])}
            if held.size:
                x = feats[kind][node]
                pred_h = (_time_varied(x, y[..., held], train, test)
                          if per_bin else
                          _shared(x, y[..., held], train, test, seed))
                entry["heldout_neurons"] = _curve(pred_h, y[test][..., held])
                scored["heldout_neurons"][0][method] = pred_h
            area_report[method] = entry
        _add_common_bins(area_report)
        area_report["headline"] = {
            key: compare_on_common_bins(p, truth, seed=seed)
            for key, (p, truth) in scored.items()}
        area_report["beats_baselines"] = {
            key: h["recurrent_fit_wins"]
            for key, h in area_report["headline"].items()}
        report["areas"][area] = area_report
        trajectories[area] = {"test_index": test, "neurons": keep,
                              "recorded": y[test][..., keep], **preds}
    return report, trajectories


def _add_common_bins(area_report):
    """Means over the bins where every method's score is defined.

    A method whose predictions are the same for every stimulus in a bin
    (the feed-forward control once the blank reaches the node; every
    method before the image does) has no defined score there and counts
    as 0 in "mean"; "mean_common_bins" compares the methods only where all
    are defined.
    """
    for key in KINDS:
        if key not in area_report["recurrent_fit"]:
            continue
        curves = {m: np.asarray([np.nan if v is None else v for v in
                                 area_report[m][key]["per_bin"]])
                  for m in METHODS}
        common = np.all([np.isfinite(c) for c in curves.values()], axis=0)
        area_report[f"common_bins_{key}"] = np.flatnonzero(common).tolist()
        for m, c in curves.items():
            area_report[m][key]["mean_common_bins"] = (
                float(c[common].mean()) if common.any() else None)


def _verdict(low, high):
    if low > 0:
        return "recurrent_fit wins"
    if high < 0:
        return "baseline wins"
    return "no clear winner"


def compare_on_common_bins(predictions, responses, methods=None,
                           baselines=BASELINES, n_bootstrap=N_BOOTSTRAP,
                           confidence=CONFIDENCE, seed=0):
    """Recurrent fit vs baselines on common bins, with a bootstrap interval.

    Each method's score is its per-bin median over neurons of the Pearson
    r over test stimuli, averaged over the bins where every method's
    score is defined. The interval of each difference recurrent fit -
    baseline resamples the test stimuli with replacement (the same
    resample for every method, 2-sided percentile interval); it costs no
    refit, only the already computed held-out predictions.

    Args:
        predictions: dict method -> [m, B, K] predictions for m test
            stimuli; must hold "recurrent_fit" and every baseline.
        responses: [m, B, K] recorded (trial-averaged) responses.
        methods: methods whose defined bins make the common bins (default
            all of `predictions`).
        baselines: the methods the recurrent fit must beat.
        n_bootstrap: bootstrap resamples of the test stimuli.
        confidence: the interval's coverage.
        seed: seed of the resamples.

    Returns:
        JSON-ready dict: "bins" (common bins), "scores" method -> mean over
        them (None without common bins), "differences" baseline ->
        {"mean", "low", "high", "verdict"}, "recurrent_fit_wins" (every
        interval above 0), "n_bootstrap", "confidence", "method".
    """
    methods = list(predictions if methods is None else methods)
    responses = np.asarray(responses, np.float64)
    per_bin = {m: neural_readouts.score_curve(predictions[m],
                                              responses)["per_bin"]
               for m in methods}
    common = np.flatnonzero(np.all(
        [np.isfinite(c) for c in per_bin.values()], axis=0))
    out = {"bins": common.tolist(), "n_bootstrap": int(n_bootstrap),
           "confidence": float(confidence),
           "method": "paired bootstrap over test stimuli, percentile "
                     "interval of the difference of means over the "
                     "common bins",
           "scores": {m: (float(c[common].mean()) if common.size else None)
                      for m, c in per_bin.items()},
           "differences": {}, "recurrent_fit_wins": False}
    if not common.size:
        for b in baselines:
            out["differences"][b] = {"mean": None, "low": None,
                                     "high": None,
                                     "verdict": "no common bins"}
        return out
    m = responses.shape[0]
    picks = np.random.default_rng(seed).integers(0, m, (n_bootstrap, m))
    y = responses[:, common]
    boot = {}
    for method in ("recurrent_fit",) + tuple(baselines):
        p = np.asarray(predictions[method], np.float64)[:, common]
        values = []
        for chunk in np.array_split(picks, max(1, n_bootstrap // 50)):
            r = neural_metrics.pearson_per_neuron(p[chunk], y[chunk], axis=1)
            med = np.nan_to_num(neural_metrics.nanmedian(r, axis=-1))
            values.append(med.mean(-1))
        boot[method] = np.concatenate(values)
    tail = 100 * (1 - confidence) / 2
    for b in baselines:
        diff = boot["recurrent_fit"] - boot[b]
        low, high = np.percentile(diff, [tail, 100 - tail])
        out["differences"][b] = {
            "mean": out["scores"]["recurrent_fit"] - out["scores"][b],
            "low": float(low), "high": float(high),
            "verdict": _verdict(low, high)}
    out["recurrent_fit_wins"] = all(
        d["verdict"] == "recurrent_fit wins"
        for d in out["differences"].values())
    return out
