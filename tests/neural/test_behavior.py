"""Behavioural metrics: hand-computed d', i1n/i2n, OSTs, synthetic truth."""

import numpy as np
import pytest
import scipy.stats
from threadpoolctl import threadpool_limits

from tnn.neural import behavior
from tnn.neural.behavior import data as bdata
from tnn.neural.behavior import dprime as dp
from tnn.neural.behavior import i1i2
from tnn.neural.behavior import ost

z = scipy.stats.norm.ppf

# Objects A=0, B=1; images 0, 1 of A, image 2 of B; 4 trials per image.
LABELS = np.array([0, 0, 1])
TRIALS = {
    "image": np.repeat([0, 1, 2], 4),
    "distractor": np.array([1] * 8 + [0] * 4),
    # image 0 chose B once, image 1 twice, image 2 chose A once
    "choice": np.array([1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1]),
}


def test_false_alarm_rates_and_dprime_by_hand():
    far = dp.false_alarm_rates_from_trials(**TRIALS, image_object=LABELS)
    np.testing.assert_array_equal(np.isnan(far),
                                  [[1, 0], [1, 0], [0, 1]])
    np.testing.assert_allclose(far[[0, 1, 2], [1, 1, 0]], [.25, .5, .25])
    d = dp.dprime_matrix(far, LABELS)
    # d'[i, c] = z(1 - far[i, c]) - z(mean far of c's images vs o_i)
    expected = [z(.75) - z(.25), z(.5) - z(.25), z(.75) - z(.375)]
    np.testing.assert_allclose(d[[0, 1, 2], [1, 1, 0]], expected)
    i2n = i1i2.dprimes_from_trials(TRIALS, LABELS, "i2n")
    mean_a = (expected[0] + expected[1]) / 2
    np.testing.assert_allclose(i2n[[0, 1, 2], [1, 1, 0]],
                               [expected[0] - mean_a, expected[1] - mean_a,
                                0.0], atol=1e-12)
    # two objects: one distractor, so i1 is i2's only defined entry
    np.testing.assert_allclose(i1i2.dprimes_from_trials(TRIALS, LABELS, "i1"),
                               expected)


def test_probabilities_collapse_and_normalisation():
    p = np.array([[.6, .3, .1], [.5, .25, .25], [.2, .7, .1],
                  [.1, .1, .8], [.3, .3, .4], [.4, .4, .2]])
    labels = np.array([0, 0, 1, 2, 2, 1])
    far = dp.false_alarm_rates_from_probabilities(p, labels)
    assert far[0, 1] == pytest.approx(.3 / .9)
    assert far[2, 2] == pytest.approx(.1 / .8)
    d2 = i1i2.dprimes_from_probabilities(p, labels, "i2")
    # image 0 vs c=2: FA = mean over images of object 2 of far[j, 0]
    fa = np.mean([.1 / .9, .3 / .7])
    assert d2[0, 2] == pytest.approx(z(1 - .1 / .7) - z(fa))
    np.testing.assert_allclose(
        i1i2.dprimes_from_probabilities(p, labels, "i1"),
        np.nanmean(d2, axis=1))
    d2n = i1i2.dprimes_from_probabilities(p, labels, "i2n")
    for o in range(3):  # zero mean per (object, distractor)
        np.testing.assert_allclose(np.nansum(d2n[labels == o], 0), 0,
                                   atol=1e-12)
    # i1n normalises before collapsing (Brain-Score's order)
    np.testing.assert_allclose(
        i1i2.dprimes_from_probabilities(p, labels, "i1n"),
        np.nanmean(d2n, axis=1))


def test_infinite_dprime_is_clipped_and_undefined_stays_nan():
    labels = np.array([0, 1, 1])
    far = np.array([[np.nan, 0.0], [0.5, np.nan], [0.5, np.nan]])
    d = dp.dprime_matrix(far, labels)
    assert d[0, 1] == 5.0  # z(1) = inf
    assert d[1, 0] == 5.0  # object FA of 0: z(.5) - z(0) = inf
    far[0, 1] = 1.0  # z(0) - z(FA) = -inf -> -5
    assert dp.dprime_matrix(far, labels)[0, 1] == -5.0
    far = np.array([[np.nan, 0.0], [0.0, np.nan]])  # inf - (-inf) -> 5
    assert dp.dprime_matrix(far, np.array([0, 1]))[0, 1] == 5.0
    far = np.array([[np.nan, 0.0], [1.0, np.nan]])  # inf - inf -> NaN
    assert np.isnan(dp.dprime_matrix(far, np.array([0, 1]))[0, 1])
    far = np.array([[np.nan, .9], [.9, np.nan]])  # z(.1) - z(.9) = -2.56
    np.testing.assert_array_equal(
        dp.dprime_matrix(far, np.array([0, 1]), cap=2.0), [[np.nan, -2.0],
                                                           [-2.0, np.nan]])


def test_halves_and_reliability():
    halves = i1i2.trial_halves(7, n_repetitions=2, seed=0)
    state = np.random.RandomState(0)
    for half1, half2 in halves:
        order = list(range(7))
        state.shuffle(order)
        np.testing.assert_array_equal(np.r_[half1, half2], order)
        assert half1.size == 3
    d = i1i2.dprimes_from_trials(TRIALS, LABELS, "i2")
    assert i1i2.correlate(d, d.copy()) == pytest.approx(1.0)
    assert i1i2.correlate(d, -d) == pytest.approx(-1.0)


def test_synthetic_difficulty_is_recovered():
    syn = behavior.synthetic_behavior(n_objects=4, images_per_object=16,
                                      trials_per_image=300, seed=0)
    i1n = i1i2.dprimes_from_trials(syn.trials, syn.image_object, "i1n")
    # i1n ranks images within an object by their true sensitivity a_i
    obj = syn.image_object
    rho = [scipy.stats.spearmanr(i1n[obj == o],
                                 syn.true_sensitivity[obj == o])[0]
           for o in range(4)]
    assert min(rho) > 0.85, rho
    truth = syn.expected_dprime("i2n")
    ok = np.isfinite(truth)
    data = i1i2.dprimes_from_trials(syn.trials, syn.image_object, "i2n")
    assert np.corrcoef(data[ok], truth[ok])[0, 1] > 0.85
    # a noiseless model shares the image-level pattern; noise destroys it
    good = i1i2.behavior_consistency(syn.probabilities, syn.trials,
                                     syn.image_object, "i2n")
    assert good["score"] > 0.85 and 0.4 < good["ceiling"] < 1.0
    noisy = behavior.synthetic_behavior(n_objects=4, images_per_object=16,
                                        trials_per_image=300, seed=0,
                                        model_noise=100.0)
    bad = i1i2.behavior_consistency(noisy.probabilities, noisy.trials,
                                    noisy.image_object, "i2n")
    assert abs(bad["score"]) < 0.2
    assert bad["ceiling"] == good["ceiling"]  # same trials, same halves
    np.testing.assert_allclose(
        good["ceiled_per_split"],
        np.asarray(good["raw_per_split"]) / np.sqrt(good["ceiling_per_split"]))


def test_ceiling_grows_with_trials():
    ceilings = [i1i2.behavior_consistency(
        s.probabilities, s.trials, s.image_object, "i1n")["ceiling"]
        for s in (behavior.synthetic_behavior(trials_per_image=n, seed=1)
                  for n in (30, 3000))]
    assert ceilings[0] < ceilings[1] and ceilings[1] > 0.95, ceilings


class TableDecoder:
    """Stub decoder: the features of the test images are their choice
    probabilities over classes 0..K-1."""

    def fit(self, x, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, x):
        return x


def test_solution_times_by_hand():
    # two test images (objects 0, 1) with symmetric probabilities, so
    # i1 = z(1 - f) - z(f) = -2 z(f) for their false-alarm rate f
    def features(rates):
        x = np.zeros((4, len(rates), 2))
        for t, f in enumerate(rates):
            x[:, t] = [[1 - f, f], [f, 1 - f], [1 - f, f], [f, 1 - f]]
        return x

    labels = np.array([0, 1, 0, 1])
    train, test = np.array([0, 1]), np.array([2, 3])
    bins = np.array([70.0, 80.0, 90.0])
    x = features([.5, .3, .1])
    d = -2 * z(np.array([.5, .3, .1]))

    def osts(threshold, x=x):
        return ost.solution_times(x, labels, np.full(4, threshold), bins,
                                  train, test, decoder=TableDecoder)

    np.testing.assert_allclose(osts(2.0), 80 + (2.0 - d[1]) / (d[2] - d[1])
                               * 10)
    np.testing.assert_allclose(osts(0.0), 70.0)  # hit in the first bin
    assert np.isnan(osts(6.0)).all()  # never reached (d' is clipped at 5)
    # interpolation from the highest sub-threshold i1 seen, not the last
    x2 = features([.3, .5, .1])
    np.testing.assert_allclose(osts(2.0, x2),
                               70 + (2.0 - d[1]) / (d[2] - d[1]) * 20)


def test_synthetic_solution_times_are_recovered():
    syn = behavior.synthetic_behavior(n_objects=3, images_per_object=24,
                                      n_features=16, seed=0)
    with threadpool_limits(1):
        out = ost.ost_consistency(syn.features, syn.image_object,
                                  syn.primate_ost, syn.primate_i1,
                                  syn.time_bins)
    pred = out["predicted_ost"]
    ok = np.isfinite(pred)
    assert ok.sum() > 36  # held out in some split and solved
    assert scipy.stats.spearmanr(pred[ok], syn.true_ost[ok])[0] > 0.8
    assert np.abs(pred[ok] - syn.true_ost[ok]).mean() < 25.0  # ms
    assert out["raw"] > 0.6
    assert out["score"] == pytest.approx(out["raw"] / 0.79)
    assert len(out["per_split"]) == 10


@pytest.mark.parametrize("steps", [1, 5])
def test_model_without_time_course_scores_nan(steps):
    syn = behavior.synthetic_behavior(n_objects=2, images_per_object=10,
                                      trials_per_image=1, seed=0)
    x = syn.feedforward_features()[:, :steps]
    out = ost.ost_consistency(x, syn.image_object, syn.primate_ost,
                              syn.primate_i1, syn.time_bins[:steps])
    assert np.isnan(out["score"]) and not out["temporally_varying"]
    assert "time course" in out["reason"]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="single object"):
        dp.false_alarm_rates_from_probabilities(np.ones((3, 2)), [0, 0, 0])
    with pytest.raises(ValueError, match=r"\[N=3, K\]"):
        i1i2.dprimes_from_probabilities(np.ones((2, 2)), LABELS)
    with pytest.raises(ValueError, match="NaN"):
        i1i2.dprimes_from_probabilities(np.full((3, 2), np.nan), LABELS)
    with pytest.raises(ValueError, match="one length"):
        dp.false_alarm_rates_from_trials([0, 1], [1], [0, 1], LABELS)
    with pytest.raises(ValueError, match="neither"):
        dp.false_alarm_rates_from_trials([0], [1], [2], np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer"):
        dp.false_alarm_rates_from_trials([0.0], [1], [1], LABELS)
    with pytest.raises(ValueError, match="metric must be one of"):
        i1i2.dprimes_from_trials(TRIALS, LABELS, "i3")
    syn = behavior.synthetic_behavior(n_objects=2, images_per_object=10,
                                      trials_per_image=1, seed=0)
    args = (syn.image_object, syn.primate_ost, syn.primate_i1, syn.time_bins)
    with pytest.raises(ValueError, match=r"\[N, T, D\]"):
        ost.ost_consistency(syn.features[:, 0], *args)
    with pytest.raises(ValueError, match="primate_ost has shape"):
        ost.ost_consistency(syn.features, args[0], args[1][:5], *args[2:])
    with pytest.raises(ValueError, match="distinct bin starts"):
        ost.ost_consistency(syn.features, *args[:3], args[3][:3])
    bad = syn.features.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ost.ost_consistency(bad, *args)


def test_heldout_probabilities_and_data_file(tmp_path, rng):
    labels = np.repeat([0, 1, 2], 10)
    x = np.eye(3)[labels] * 4 + rng.standard_normal((30, 3))
    with threadpool_limits(1):
        p = bdata.heldout_probabilities(x, labels)
        np.testing.assert_allclose(p.sum(1), 1.0)
        assert (p.argmax(1) == labels).mean() > 0.9
        # pure noise in 60 dimensions: a decoder that saw an image would
        # memorise it; held out, it is near chance
        noise = rng.standard_normal((30, 60))
        held = bdata.heldout_probabilities(noise, labels).argmax(1)
        assert (held == labels).mean() < 0.6
        with pytest.raises(ValueError, match="fewer than n_folds"):
            bdata.heldout_probabilities(x[:12], labels[:12])
    base = {"stimulus_id": np.array(["a", "b", "c"]),
            "image_object": LABELS}
    trials = {f"trial_{k}": v for k, v in TRIALS.items()}
    data = bdata.save_behavior_data(tmp_path / "ok.npz", **base, **trials)
    assert data["has_trials"] and not data["has_ost"]
    np.savez(tmp_path / "partial.npz", **base, trial_image=[0])
    with pytest.raises(ValueError, match="lacks"):
        bdata.load_behavior_data(str(tmp_path / "partial.npz"))
    np.savez(tmp_path / "empty.npz", **base)
    with pytest.raises(ValueError, match="nothing to score"):
        bdata.load_behavior_data(str(tmp_path / "empty.npz"))


def test_scores_above_the_ceiling_are_flagged_not_clipped():
    # 5 trials per image: the split-half ceiling is underestimated and a
    # noiseless model's ceiled i1n exceeds 1 (as Brain-Score reports it)
    few = behavior.synthetic_behavior(trials_per_image=5, seed=0)
    result = i1i2.behavior_consistency(few.probabilities, few.trials,
                                       few.image_object, "i1n")
    assert result["above_ceiling"] and result["score"] > 1.0
    many = behavior.synthetic_behavior(trials_per_image=300, seed=0)
    result = i1i2.behavior_consistency(many.probabilities, many.trials,
                                       many.image_object, "i1n")
    assert not result["above_ceiling"] and result["score"] <= 1.0
