"""tnn.neural.behavior vs brainscore_vision 2.4.2 on identical inputs.

Not part of `make test`. Run in the Brain-Score environment:

    BS_INSTALL_DEPENDENCIES=no /work/bsenv/bin/python -m pytest -q -s \
        tests_brainscore/test_behavior_parity.py

i1/i1n/i2/i2n: the model's d', the data's d', the per-split raw scores,
ceilings and ceiled scores agree to 1e-6. OST: with the same decoder in
both pipelines (ours inside Brain-Score's `OSTCorrelation`, Brain-Score's
TensorFlow classifier inside ours) the per-image OSTs and per-split
Spearman rho agree to 1e-6; each pipeline with its own default decoder is
reported (printed), not asserted equal. Assemblies carry a second
per-image label (`image_label`) besides `stimulus_id`: with `stimulus_id`
alone the presentation dimension is no MultiIndex and Brain-Score's
i-metrics fail (KeyError 'stimulus_id').
"""

import os

os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("brainscore_vision")

from brainscore_core.supported_data_standards.brainio import (  # noqa: E402
    assemblies as bsa)
from brainscore_vision.benchmarks.kar2019.benchmark import (  # noqa: E402
    temporally_varying as bs_temporally_varying)
from brainscore_vision.metrics.i1i2 import metric as bs_i  # noqa: E402
import brainscore_vision.metrics.ost.metric as bs_ost  # noqa: E402

from tnn.neural import behavior  # noqa: E402
from tnn.neural.behavior import i1i2, ost  # noqa: E402

TOL = 1e-6
CLASSES = {"i1": bs_i.I1, "i1n": bs_i.I1n, "i2": bs_i.I2, "i2n": bs_i.I2n}


def names(k):
    return np.array([f"obj{i}" for i in range(k)])


def ids(n):
    return np.array([f"im{i:03d}" for i in range(n)])


def target_assembly(syn):
    obj, img, tr = names(syn.probabilities.shape[1]), ids(
        syn.image_object.size), syn.trials
    truth = obj[syn.image_object[tr["image"]]]
    return bsa.BehavioralAssembly(obj[tr["choice"]], coords={
        "stimulus_id": ("presentation", img[tr["image"]]),
        "image_label": ("presentation", truth),
        "truth": ("presentation", truth),
        "sample_obj": ("presentation", truth),
        "dist_obj": ("presentation", obj[tr["distractor"]]),
    }, dims=["presentation"])


def source_assembly(syn):
    obj, img = names(syn.probabilities.shape[1]), ids(syn.image_object.size)
    return bsa.BehavioralAssembly(syn.probabilities, coords={
        "stimulus_id": ("presentation", img),
        "image_label": ("presentation", obj[syn.image_object]),
        "choice": ("choice", obj)}, dims=["presentation", "choice"])


def as_array(matrix, n, collapse):
    """A Brain-Score d' assembly in our [N] / [N, K] order."""
    order = np.argsort(matrix["stimulus_id"].values)
    values = np.asarray(matrix.values)[order]
    if not collapse:
        cols = np.argsort(matrix["choice"].values)
        values = values[:, cols]
    assert values.shape[0] == n
    return values


def max_diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.abs(a[ok] - b[ok]).max()) if ok.any() else 0.0


DATASETS = {
    # many trials; and few trials, so rates of 0 and 1 (clipped d') and
    # image-distractor pairs without trials in a half occur
    "dense": dict(n_objects=4, images_per_object=8, trials_per_image=60,
                  model_noise=0.5, seed=3),
    "sparse": dict(n_objects=3, images_per_object=6, trials_per_image=12,
                   model_noise=0.5, sensitivity=(1.0, 3.0), seed=6),
}


@pytest.mark.parametrize("data", sorted(DATASETS))
@pytest.mark.parametrize("metric", sorted(CLASSES))
def test_i_metrics_match_brainscore(metric, data):
    syn = behavior.synthetic_behavior(**DATASETS[data])
    n = syn.image_object.size
    collapse, _ = i1i2.METRICS[metric]
    bs = CLASSES[metric]()
    target = target_assembly(syn)
    source = source_assembly(syn)
    bs.add_source_meta(source, target)
    model = bs.dprimes(bs.target_distractor_scores(source))
    model = bs.collapse_distractors(model) if collapse else model
    data_d = bs.dprimes(bs.build_response_matrix_from_responses(target))
    data_d = bs.collapse_distractors(data_d) if collapse else data_d

    ours = i1i2.behavior_consistency(syn.probabilities, syn.trials,
                                     syn.image_object, metric)
    score = bs(source_assembly(syn), target)
    ceiling = bs.ceiling(target, skipna=data == "sparse")
    ceiled = score.raw.values / np.sqrt(ceiling.raw.values)
    diffs = {
        "model_dprime": max_diff(as_array(model, n, collapse),
                                 ours["model_dprime"]),
        "data_dprime": max_diff(as_array(data_d, n, collapse),
                                ours["data_dprime"]),
        "raw": max_diff(score.raw.values, ours["raw_per_split"]),
        "ceiling": max_diff(ceiling.raw.values, ours["ceiling_per_split"]),
        "ceiled": max_diff(ceiled, ours["ceiled_per_split"]),
        "score": max_diff([ceiled.mean()], [ours["score"]]),
        "error": max_diff([ceiled.std()], [ours["error"]]),
    }
    assert np.isfinite(ours["score"])
    clipped = np.sum(np.abs(i1i2.dprimes_from_trials(
        syn.trials, syn.image_object, "i2")) == 5.0)
    print(f"\n{metric} {data}: max abs diff {max(diffs.values()):.2e} "
          f"{diffs}; ceiled score {ours['score']:.4f}, clipped d' "
          f"{clipped}")
    assert max(diffs.values()) <= TOL, diffs


def ost_assemblies(syn):
    n, t, d = syn.features.shape
    obj, img = names(int(syn.image_object.max()) + 1), ids(n)
    label = obj[syn.image_object]
    bins = syn.time_bins.astype(int)
    source = bsa.NeuroidAssembly(
        syn.features.transpose(0, 2, 1).astype(np.float64), coords={
            "stimulus_id": ("presentation", img),
            "image_label": ("presentation", label),
            "truth": ("presentation", label),
            "neuroid_id": ("neuroid", np.arange(d)),
            "layer": ("neuroid", ["IT"] * d),
            "time_bin_start": ("time_bin", bins),
            "time_bin_end": ("time_bin", bins + 10)},
        dims=["presentation", "neuroid", "time_bin"])
    target = bsa.DataAssembly(syn.primate_ost, coords={
        "stimulus_id": ("presentation", img),
        "image_label": ("presentation", label),
        "truth": ("presentation", label),
        "i1": ("presentation", syn.primate_i1)}, dims=["presentation"])
    return source, target


class OursInBrainScore:
    """Our LogisticDecoder behind Brain-Score's classifier interface."""

    def __init__(self):
        self._decoder = ost.LogisticDecoder()

    def fit(self, x, y):
        self._decoder.fit(np.asarray(x.values), np.asarray(y.values))

    def predict_proba(self, x):
        p = self._decoder.predict_proba(np.asarray(x.values))
        coords = {c: (d, v) for c, d, v in bsa.walk_coords(x)
                  if bsa.array_is_element(d, x.dims[0])}
        return bsa.BehavioralAssembly(
            p, coords={**coords, "choice": list(self._decoder.classes_)},
            dims=[x.dims[0], "choice"])

    def close(self):
        pass


class BrainScoreInOurs:
    """Brain-Score's TFProbabilitiesClassifier as our decoder."""

    def fit(self, x, y):
        self._clf = bs_ost.TFProbabilitiesClassifier()
        labels = bsa.DataAssembly(y, coords={"i": ("i", np.arange(len(y)))},
                              dims=["i"])
        self._clf.fit(x, labels)
        self.classes_ = np.asarray(list(self._clf._label_mapping.values()))
        return self

    def predict_proba(self, x):
        xa = bsa.NeuroidAssembly(x, coords={
            "stimulus_id": ("presentation", np.arange(len(x))),
            "image_label": ("presentation", np.zeros(len(x))),
            "neuroid_id": ("neuroid", np.arange(x.shape[1]))},
            dims=["presentation", "neuroid"])
        p = np.asarray(self._clf.predict_proba(xa).values)
        self._clf.close()
        return p


def brainscore_osts(source, target, monkeypatch):
    """Brain-Score's OST per split, with the per-image predictions."""
    found = []
    compute = bs_ost.OSTCorrelation.compute_osts

    def recording(self, train_source, test_source, test_osts):
        pred = compute(self, train_source, test_source, test_osts)
        found.append(dict(zip(test_osts["stimulus_id"].values, pred)))
        return pred

    monkeypatch.setattr(bs_ost.OSTCorrelation, "compute_osts", recording)
    score = bs_ost.OSTCorrelation()(source, target)
    return score.raw.values, found


def compare_osts(ours, theirs, n):
    per_image = 0.0
    img = ids(n)
    for split, found in enumerate(theirs[1]):
        for stimulus, value in found.items():
            # ours averages an image's predictions over splits: rebuild
            # this split's from the per-split record
            mine = ours["per_split_ost"][split][list(img).index(stimulus)]
            per_image = max(per_image, max_diff([value], [mine]))
    return per_image, max_diff(theirs[0], ours["per_split"])


def ours_per_split(syn, decoder, **kwargs):
    """ost_consistency, keeping every split's per-image OSTs."""
    records = []
    solve = ost.solution_times

    def recording(x, labels, i1, bins, train, test, decoder=decoder):
        pred = solve(x, labels, i1, bins, train, test, decoder)
        row = np.full(labels.size, np.nan)
        row[test] = pred
        records.append(row)
        return pred

    ost.solution_times = recording
    try:
        out = ost.ost_consistency(syn.features, syn.image_object,
                                  syn.primate_ost, syn.primate_i1,
                                  syn.time_bins, decoder=decoder, **kwargs)
    finally:
        ost.solution_times = solve
    out["per_split_ost"] = records
    return out


def test_ost_matches_brainscore_with_our_decoder(monkeypatch):
    syn = behavior.synthetic_behavior(n_objects=3, images_per_object=24,
                                      n_features=16, seed=0)
    source, target = ost_assemblies(syn)
    monkeypatch.setattr(bs_ost, "TFProbabilitiesClassifier",
                        OursInBrainScore)
    theirs = brainscore_osts(source, target, monkeypatch)
    ours = ours_per_split(syn, ost.LogisticDecoder)
    per_image, per_split = compare_osts(ours, theirs, syn.image_object.size)
    print(f"\nOST, our decoder in both: max abs diff per-image OST "
          f"{per_image:.2e} ms, per-split rho {per_split:.2e}; "
          f"raw {ours['raw']:.4f} vs {np.nanmean(theirs[0]):.4f}")
    assert per_image <= TOL and per_split <= TOL


def test_ost_matches_brainscore_with_its_tf_decoder(monkeypatch):
    syn = behavior.synthetic_behavior(
        n_objects=3, images_per_object=24, n_features=16, seed=0,
        time_bins=np.arange(100, 200, 20))
    source, target = ost_assemblies(syn)
    theirs = brainscore_osts(source, target, monkeypatch)
    ours = ours_per_split(syn, BrainScoreInOurs)
    per_image, per_split = compare_osts(ours, theirs, syn.image_object.size)
    default = ost.ost_consistency(syn.features, syn.image_object,
                                  syn.primate_ost, syn.primate_i1,
                                  syn.time_bins)
    print(f"\nOST, Brain-Score's TF decoder in both: max abs diff "
          f"per-image OST {per_image:.2e} ms, per-split rho "
          f"{per_split:.2e}; raw {ours['raw']:.4f} vs "
          f"{np.nanmean(theirs[0]):.4f}. Each with its default decoder: "
          f"ours (logistic) raw {default['raw']:.4f}, Brain-Score (TF) "
          f"raw {np.nanmean(theirs[0]):.4f}")
    assert per_image <= TOL and per_split <= TOL


def test_model_without_time_course_is_nan_in_both():
    syn = behavior.synthetic_behavior(n_objects=2, images_per_object=10,
                                      trials_per_image=1, seed=0)
    for features, varying in ((syn.feedforward_features(), False),
                              (syn.features, True)):
        source, _ = ost_assemblies(
            behavior.SyntheticBehavior(**{**vars(syn), "features": features}))
        recordings = source.transpose("presentation", "neuroid", "time_bin")
        assert bool(bs_temporally_varying(recordings)) is varying
        assert ost.temporally_varying(features) is varying
    out = ost.ost_consistency(syn.feedforward_features(), syn.image_object,
                              syn.primate_ost, syn.primate_i1, syn.time_bins)
    assert np.isnan(out["score"])  # Brain-Score: Score(nan) / 0.79
