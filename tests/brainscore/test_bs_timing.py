"""Time bins (ms) -> model steps: hand-computed maps, extension, errors."""

import warnings

import numpy as np
import pytest

from tnn.brainscore import timing


def _nonzero(row):
    return {int(t): round(float(w), 6) for t, w in enumerate(row) if w}


@pytest.mark.parametrize("bins, latency, expected", [
    ([(70, 80)], 0, [{7: 1.0}]),
    ([(0, 10), (250, 260)], 0, [{0: 1.0}, {25: 1.0}]),
    ([(70, 170)], 0, [{t: 0.1 for t in range(7, 17)}]),
    ([(75, 85)], 0, [{7: 0.5, 8: 0.5}]),
    ([(72, 75)], 0, [{7: 1.0}]),
    ([(70, 100)], 70, [{0: 1 / 3, 1: 1 / 3, 2: 1 / 3}]),
    ([(95, 110)], 70, [{2: 1 / 3, 3: 2 / 3}]),
])
def test_bins_map_to_hand_computed_step_weights(bins, latency, expected):
    weights = timing.time_bin_weights(bins, 26, latency_ms=latency)
    assert weights.shape == (len(bins), 26)
    got = [_nonzero(row) for row in weights]
    assert got == [{t: round(w, 6) for t, w in e.items()} for e in expected]


def test_brainscore_time_bin_objects_are_accepted():
    bins = np.empty(2, dtype=object)
    bins[:] = [(70, 80), (80, 90)]   # what assembly['time_bin'].values holds
    np.testing.assert_array_equal(timing.check_time_bins(bins),
                                  [[70, 80], [80, 90]])
    squeezed = np.empty((), dtype=object)
    squeezed[()] = (70, 170)          # one bin of a squeezed assembly
    np.testing.assert_array_equal(timing.check_time_bins([squeezed]),
                                  [[70, 170]])


def test_bins_past_the_last_step_extend_the_presentation_with_a_warning():
    with pytest.warns(timing.PresentationExtendedWarning,
                      match="need 30 steps .* unrolls 26; extending"):
        weights = timing.time_bin_weights([(70, 80), (290, 300)], 26,
                                          model_name="model 'm'")
    assert weights.shape == (2, 30)
    assert _nonzero(weights[1]) == {29: 1.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert timing.time_bin_weights([(250, 260)], 26).shape == (1, 26)
    assert timing.steps_needed([(250, 260)]) == 26


@pytest.mark.parametrize("bins, kwargs, message", [
    ([(-50, 0)], {}, r"starts before the model's first step"),
    ([(60, 80)], {"latency_ms": 70}, r"\(60, 80\) ms starts before"),
    ([(70, 1200)], {}, r"need 120 steps .* max_steps=100"),
    ([(80, 70)], {}, r"ends before it starts"),
    ([(70, 70)], {}, r"ends before it starts"),
    ([], {}, r"non-empty list"),
    ([(70, 80, 90)], {}, r"pairs"),
    ("70-170", {}, r"pairs"),
    ([(70, 80)], {"step_ms": 0}, r"step_ms must be a positive number"),
])
def test_bins_that_cannot_be_covered_fail_clearly(bins, kwargs, message):
    with pytest.raises(ValueError, match=message):
        timing.time_bin_weights(bins, 26, **kwargs)


def test_bin_features_average_the_weighted_steps():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((3, 26, 4)).astype(np.float32)
    weights = timing.time_bin_weights([(70, 80), (75, 85), (70, 170)], 26)
    out = timing.bin_features(features, weights)
    np.testing.assert_array_equal(out[:, 0], features[:, 7])
    np.testing.assert_allclose(out[:, 1], (features[:, 7] + features[:, 8])
                               / 2, rtol=1e-6)
    np.testing.assert_allclose(out[:, 2], features[:, 7:17].mean(axis=1),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="must cover the 26 steps"):
        timing.bin_features(features[:, :20], weights)
