"""NPZ format: round trip and one clear error per kind of bad input."""

import numpy as np
import pytest

from tnn.neural import NeuralData, load_neural_data, save_neural_data


def make_fields(rng, n_trials=3, n_stim=6, n_bins=4, n_neurons=5):
    return dict(
        stimuli=rng.integers(0, 256, (n_stim, 8, 8, 3), dtype=np.uint8),
        stimulus_id=np.asarray([f"s{i}" for i in range(n_stim)]),
        responses=rng.standard_normal(
            (n_trials, n_stim, n_bins, n_neurons)).astype(np.float32),
        bin_start_ms=np.arange(n_bins) * 10.0,
        bin_width_ms=10.0,
        neuron_area=np.asarray(["V4"] * 2 + ["IT"] * (n_neurons - 2)),
        neuron_id=np.asarray([f"n{i}" for i in range(n_neurons)]),
        object_label=np.asarray(["a", "b"] * (n_stim // 2)))


def test_round_trip(tmp_path, rng):
    fields = make_fields(rng)
    fields["responses"][0, 1, 2, 3] = np.nan
    data = NeuralData(**fields)
    path = tmp_path / "data.npz"
    save_neural_data(data, path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(fields)
        assert npz["responses"].dtype == np.float32
    loaded = load_neural_data(str(path))
    for key, value in fields.items():
        np.testing.assert_array_equal(getattr(loaded, key), value)
    assert loaded.areas == ["V4", "IT"]
    np.testing.assert_array_equal(loaded.area_indices("IT"), [2, 3, 4])
    assert (loaded.n_trials, loaded.n_stimuli, loaded.n_bins,
            loaded.n_neurons) == (3, 6, 4, 5)
    avg = loaded.trial_average()
    np.testing.assert_allclose(
        avg[1, 2, 3], np.mean(fields["responses"][1:, 1, 2, 3]), rtol=1e-6)
    assert loaded.select_neurons([0, 4]).neuron_id.tolist() == ["n0", "n4"]


def test_object_label_is_optional(tmp_path, rng):
    fields = make_fields(rng)
    del fields["object_label"]
    path = tmp_path / "d.npz"
    save_neural_data(NeuralData(**fields), path, compressed=False)
    assert load_neural_data(str(path)).object_label is None


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.update(stimulus_id=np.asarray(["s0"] * 6)),
     "`stimulus_id` must be unique"),
    (lambda f: f.update(neuron_id=np.asarray(["n0", "n1", "n1", "n3", "n4"])),
     "`neuron_id` must be unique"),
    (lambda f: f["responses"].__setitem__((Ellipsis, 2), np.nan),
     r"only NaN responses \('n2'\)"),
    (lambda f: f.update(responses=f["responses"][:1]),
     "has 1 trial"),
    (lambda f: f.update(bin_start_ms=np.asarray([0.0, 10.0, 10.0, 30.0])),
     "strictly increasing"),
    (lambda f: f.update(stimuli=np.full((6, 8, 8, 3), np.nan)),
     "`stimuli` contain NaN"),
    (lambda f: f.update(stimuli=f["stimuli"].astype(np.float32)),
     "must be uint8"),
    (lambda f: f.update(stimuli=f["stimuli"][:5]),
     "5 images but `responses` has 6 stimuli"),
    (lambda f: f.update(stimulus_id=f["stimulus_id"][:5]),
     "`stimulus_id` has 5 entries but 6 are needed"),
    (lambda f: f.update(neuron_area=np.asarray(["V4"] * 4)),
     "`neuron_area` has 4 entries but 5"),
    (lambda f: f.update(bin_start_ms=np.arange(3) * 10.0),
     r"`bin_start_ms` must have shape \[4\]"),
    (lambda f: f.update(bin_width_ms=0.0), "positive scalar"),
    (lambda f: f["responses"].__setitem__((slice(None), 2, 1, 0), np.nan),
     "no valid trial for stimulus 's2'"),
    (lambda f: f["responses"].__setitem__((slice(1, None), Ellipsis, 4),
                                          np.nan),
     "never have 2 valid trials"),
    (lambda f: f["responses"].__setitem__((0, 0, 0, 0), np.inf), "inf"),
    (lambda f: f.update(responses=f["responses"][0]), r"must be \[trials"),
])
def test_validation_errors(rng, edit, message):
    fields = make_fields(rng)
    edit(fields)
    with pytest.raises(ValueError, match=message):
        NeuralData(**fields)


def test_load_errors(tmp_path, rng):
    fields = make_fields(rng)
    missing = {k: v for k, v in fields.items() if k != "neuron_area"}
    np.savez(tmp_path / "missing.npz", **missing)
    with pytest.raises(ValueError, match=r"lacks key\(s\) \['neuron_area'\]"):
        load_neural_data(str(tmp_path / "missing.npz"))
    np.savez(tmp_path / "extra.npz", notes=np.asarray("x"), **fields)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['notes'\]"):
        load_neural_data(str(tmp_path / "extra.npz"))
    pickled = dict(fields, stimulus_id=np.asarray(
        [f"s{i}" for i in range(6)], dtype=object))
    np.savez(tmp_path / "pickled.npz", **pickled)
    with pytest.raises(ValueError, match="stores Python objects"):
        load_neural_data(str(tmp_path / "pickled.npz"))
    with pytest.raises(ValueError, match="does not exist"):
        load_neural_data(str(tmp_path / "absent.npz"))
    with pytest.raises(ValueError, match="expects a NeuralData"):
        save_neural_data(fields, tmp_path / "x.npz")
    with pytest.raises(ValueError, match="area 'V1' has no neurons"):
        NeuralData(**fields).area_indices("V1")
