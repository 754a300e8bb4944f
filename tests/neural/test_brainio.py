"""Brain-Score BrainIO assemblies -> NeuralData, on files written here.

The assemblies are written the way brainscore_core's `write_netcdf` does
(MultiIndexes gathered, then `reset_index` into plain coordinates,
`to_dataset(name="data")`, zlib-compressed), with a StimulusSet CSV
(`stimulus_id`, `filename`, metadata) and PNG images.
"""

import csv
import os
import sys
import zipfile

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")
Image = pytest.importorskip("PIL.Image")

from tnn.neural import brainio, similarity  # noqa: E402

N_STIM, N_REP, N_NEURON = 6, 3, 4


def write_assembly(path, values, presentation, neuroid, time_bin=None,
                   dims=("presentation", "neuroid", "time_bin"),
                   compress=True, attrs=None):
    """Writes values [P, K(, B)] as brainscore_core's write_netcdf would."""
    names = ["presentation", "neuroid"] + (["time_bin"] if time_bin else [])
    coords = {**{k: ("presentation", v) for k, v in presentation.items()},
              **{k: ("neuroid", v) for k, v in neuroid.items()},
              **{k: ("time_bin", v) for k, v in (time_bin or {}).items()}}
    da = xr.DataArray(values, dims=names, coords=coords,
                      attrs=dict(attrs or {}))
    groups = {"presentation": list(presentation), "neuroid": list(neuroid)}
    if time_bin:
        groups["time_bin"] = list(time_bin)
    da = da.set_index(append=True, **groups)  # BrainIO's gather_indexes
    da = da.transpose(*[d for d in dims if d in names])
    da = da.reset_index(list(da.indexes))
    if compress:
        ds = da.to_dataset(name="data", promote_attrs=True)
        ds.to_netcdf(path, engine="h5netcdf",
                     encoding={"data": {"zlib": True, "complevel": 9}})
    else:
        da.to_netcdf(path, engine="h5netcdf")
    return path


def write_stimulus_set(folder, ids, labels, size=(8, 8), seed=0,
                       id_column="stimulus_id"):
    """CSV + PNGs as a StimulusSet unpacked from its zip; returns images."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(len(ids),) + size + (3,),
                          dtype=np.uint8)
    store = os.path.join(folder, "stimulus_test_set")
    os.makedirs(store, exist_ok=True)
    with open(os.path.join(folder, "stimulus_test_set.csv"), "w",
              newline="") as f:
        writer = csv.writer(f)
        writer.writerow([id_column, "object_name", "filename"])
        for sid, label, image in zip(ids, labels, images):
            Image.fromarray(image).save(os.path.join(store, f"{sid}.png"))
            writer.writerow([sid, label, f"{sid}.png"])
    return images


@pytest.fixture
def temporal(tmp_path):
    """3-D assembly, presentations shuffled, neuroid-first dim order,
    bins stored in reverse order."""
    rng = np.random.default_rng(1)
    ids = [f"im{i}" for i in range(N_STIM)]
    stim = np.repeat(np.arange(N_STIM), N_REP)
    rep = np.tile(np.arange(N_REP) + 10, N_STIM)
    order = rng.permutation(stim.size)
    stim, rep = stim[order], rep[order]
    values = rng.normal(size=(stim.size, N_NEURON, 2))
    path = write_assembly(
        str(tmp_path / "assy_test.nc"), values,
        {"stimulus_id": np.array(ids)[stim], "repetition": rep},
        {"neuroid_id": ["a", "b", "c", "d"],
         "region": ["V4", "V4", "IT", "IT"]},
        {"time_bin_start": [80, 70], "time_bin_end": [90, 80]},
        dims=("neuroid", "presentation", "time_bin"),
        attrs={"stimulus_set_identifier": "test.set"})
    labels = ["car", "dog"] * (N_STIM // 2)
    images = write_stimulus_set(str(tmp_path), ids, labels)
    return dict(path=path, ids=ids, stim=stim, rep=rep, values=values,
                images=images, labels=labels, folder=tmp_path)


def test_reads_every_array_of_a_temporal_assembly(temporal):
    data = brainio.load_brainio_assembly(temporal["path"])  # found CSV
    first = list(dict.fromkeys(np.array(temporal["ids"])[temporal["stim"]]))
    np.testing.assert_array_equal(data.stimulus_id, first)
    index = [temporal["ids"].index(s) for s in first]
    np.testing.assert_array_equal(data.stimuli, temporal["images"][index])
    np.testing.assert_array_equal(data.object_label,
                                  np.array(temporal["labels"])[index])
    np.testing.assert_array_equal(data.bin_start_ms, [70.0, 80.0])
    assert data.bin_width_ms == 10.0
    np.testing.assert_array_equal(data.neuron_id, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(data.neuron_area, ["V4", "V4", "IT", "IT"])
    assert data.responses.shape == (N_REP, N_STIM, 2, N_NEURON)
    for p, (s, r) in enumerate(zip(temporal["stim"], temporal["rep"])):
        n = first.index(temporal["ids"][s])
        expected = temporal["values"][p][:, ::-1].T  # bins sorted, [B, K]
        np.testing.assert_allclose(data.responses[r - 10, n], expected,
                                   rtol=1e-6)
    ordered = brainio.load_brainio_assembly(temporal["path"],
                                            sort_stimuli=True)
    np.testing.assert_array_equal(ordered.stimulus_id,
                                  sorted(temporal["ids"]))


def test_two_dim_legacy_assembly_zip_and_presentation_order(tmp_path):
    ids = ["x1", "x2", "x3", "x4"]
    stim = np.array([0, 1, 2, 3, 3, 2, 1, 0])
    values = np.arange(16, dtype=float).reshape(8, 2)
    path = write_assembly(
        str(tmp_path / "assy.nc"), values,
        {"image_id": np.array(ids)[stim],
         "category_name": np.array(["a", "b", "a", "b"])[stim]},
        {"neuroid_id": ["n1", "n2"], "region": ["IT", "IT"]},
        compress=False)
    images = write_stimulus_set(str(tmp_path), ids, ["-"] * 4,
                                id_column="image_id")
    store = tmp_path / "stimulus_test_set"
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as z:
        for name in os.listdir(store):
            z.write(store / name, arcname=name)
    data = brainio.load_brainio_assembly(
        path, stimulus_csv=str(tmp_path / "stimulus_test_set.csv"),
        stimulus_dir=str(tmp_path / "images.zip"), label_coord=None)
    np.testing.assert_array_equal(data.stimuli, images)
    assert data.object_label is None
    np.testing.assert_array_equal(data.bin_start_ms, [70.0])
    assert data.bin_width_ms == 100.0
    np.testing.assert_array_equal(data.responses[:, 3, 0, :],
                                  [[6, 7], [8, 9]])  # x4: trials by order
    labelled = brainio.load_brainio_assembly(
        path, label_coord="category_name", window_ms=(50, 250))
    np.testing.assert_array_equal(labelled.object_label,
                                  ["a", "b", "a", "b"])
    assert labelled.bin_width_ms == 200.0
    resized = brainio.load_brainio_assembly(path, image_size=5)
    assert resized.stimuli.shape == (4, 5, 5, 3)


def test_unequal_repetitions_are_nan_padded_with_a_warning(tmp_path):
    stim = np.array([0, 0, 0, 1, 1])
    path = write_assembly(
        str(tmp_path / "assy.nc"), np.ones((5, 2)),
        {"stimulus_id": np.array(["s0", "s1"])[stim],
         "repetition": [0, 1, 2, 0, 1]},
        {"neuroid_id": ["n1", "n2"], "region": ["IT", "IT"]})
    write_stimulus_set(str(tmp_path), ["s0", "s1"], ["a", "b"])
    with pytest.warns(UserWarning, match="1 of 2 stimuli have fewer than 3"):
        data = brainio.load_brainio_assembly(path)
    assert np.isnan(data.responses[2, 1]).all()
    assert np.isfinite(data.responses[:2]).all()


def _simple(tmp_path, **overrides):
    spec = dict(presentation={"stimulus_id": ["s0", "s0", "s1", "s1"],
                              "repetition": [0, 1, 0, 1]},
                neuroid={"neuroid_id": ["n1", "n2"], "region": ["V4", "V4"]})
    spec.update(overrides)
    path = write_assembly(str(tmp_path / "assy.nc"), np.ones((4, 2)),
                          spec["presentation"], spec["neuroid"])
    write_stimulus_set(str(tmp_path), ["s0", "s1"], ["a", "b"])
    return path


@pytest.mark.parametrize("overrides, message", [
    ({"neuroid": {"region": ["V4", "V4"], "depth": [1, 2]}},
     "no neuroid id coordinate"),
    ({"neuroid": {"neuroid_id": ["n1", "n2"], "animal": ["m", "m"]}},
     "no 'region' coordinate on neuroid"),
    ({"presentation": {"stimulus_id": ["s0", "s1", "s0", "s1"],
                       "repetition": [0, 0, 0, 1]}},
     "presented twice with the same repetition"),
    ({"presentation": {"stimulus_id": ["s0", "s1", "s2", "s3"],
                       "object_name": ["a", "b", "a", "b"]}},
     "one presentation per stimulus"),
])
def test_bad_assemblies_fail_with_one_clear_line(tmp_path, overrides,
                                                 message):
    with pytest.raises(ValueError, match=message):
        brainio.load_brainio_assembly(_simple(tmp_path, **overrides))


def test_unreadable_inputs_name_the_file(tmp_path):
    path = _simple(tmp_path)
    store = tmp_path / "stimulus_test_set"
    (store / "s1.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"s1\.png.*cannot be read"):
        brainio.load_brainio_assembly(path)
    os.remove(store / "s1.png")
    with pytest.raises(ValueError, match=r"s1\.png.*does not exist"):
        brainio.load_brainio_assembly(path)
    with pytest.raises(ValueError, match="different sizes"):
        Image.fromarray(np.zeros((3, 4, 3), np.uint8)).save(store / "s1.png")
        brainio.load_brainio_assembly(path)
    with open(tmp_path / "other.csv", "w") as f:
        f.write("stimulus_id,filename\ns0,s0.png\n")
    with pytest.raises(ValueError, match="cannot tell which StimulusSet"):
        brainio.load_brainio_assembly(path)
    with pytest.raises(ValueError, match=r"not in .*other\.csv"):
        brainio.load_brainio_assembly(
            path, stimulus_csv=str(tmp_path / "other.csv"))
    (tmp_path / "bad.nc").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read .*bad.nc.* NetCDF"):
        brainio.load_brainio_assembly(str(tmp_path / "bad.nc"))
    with pytest.raises(ValueError, match="does not exist"):
        brainio.load_brainio_assembly(str(tmp_path / "none.nc"))


def test_unknown_dims_and_missing_xarray(tmp_path, monkeypatch):
    ost = xr.DataArray(np.ones((2, 3)), dims=["decoder", "presentation"])
    ost.to_dataset(name="data").to_netcdf(tmp_path / "ost.nc",
                                          engine="h5netcdf")
    with pytest.raises(ValueError, match=r"dims \('decoder', "
                                         r"'presentation'\).*Kar2019"):
        brainio.load_brainio_assembly(str(tmp_path / "ost.nc"))
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ValueError, match=r"tnn\[brainio\]"):
        brainio.load_brainio_assembly(str(tmp_path / "ost.nc"))


def _write_neural_data(data, folder):
    """A NeuralData as a BrainIO assembly + StimulusSet (CSV, PNGs)."""
    n_trials, n_stim = data.responses.shape[:2]
    values = data.responses.reshape((n_trials * n_stim,)
                                    + data.responses.shape[2:])
    path = write_assembly(
        os.path.join(folder, "assy_syn.nc"), values.transpose(0, 2, 1),
        {"stimulus_id": np.tile(data.stimulus_id, n_trials),
         "repetition": np.repeat(np.arange(n_trials), n_stim)},
        {"neuroid_id": data.neuron_id, "region": data.neuron_area},
        {"time_bin_start": data.bin_start_ms,
         "time_bin_end": data.bin_start_ms + data.bin_width_ms})
    store = os.path.join(folder, "stimulus_syn")
    os.makedirs(store)
    with open(store + ".csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["stimulus_id", "object_name", "filename"])
        for sid, label, image in zip(data.stimulus_id, data.object_label,
                                     data.stimuli):
            Image.fromarray(image).save(os.path.join(store, f"{sid}.png"))
            writer.writerow([sid, label, f"{sid}.png"])
    return path


def test_fit_neural_scores_a_brainio_assembly_with_rsa_and_cka(
        tmp_path, monkeypatch):
    """A written .nc through `training.fit_neural` (precomputed features of
    two nodes, a registered model for the presentation's 26 steps)."""
    import json

    import gin

    from tnn import neural
    from tnn.neural import features as nf
    from training import fit_neural
    rng = np.random.default_rng(7)
    n_stim, n_bins = 20, 3
    feats = {n: rng.normal(size=(n_stim, 26, 8)) for n in ("a", "b")}
    weights = rng.normal(size=(8, 6))
    signal = np.stack([feats["a"][:, b] @ weights for b in range(n_bins)], 1)
    npz = neural.NeuralData(
        stimuli=rng.integers(0, 256, (n_stim, 32, 32, 3), dtype=np.uint8),
        stimulus_id=[f"s{i:02d}" for i in range(n_stim)],
        responses=signal + 0.5 * rng.normal(size=(4,) + signal.shape),
        bin_start_ms=[70.0, 80.0, 90.0], bin_width_ms=10.0,
        neuron_area=["V4"] * 3 + ["IT"] * 3,
        neuron_id=[f"n{k}" for k in range(6)],
        object_label=["car", "dog"] * (n_stim // 2))
    path = _write_neural_data(npz, str(tmp_path))
    data = brainio.load_brainio_assembly(path)
    for key in ("stimuli", "stimulus_id", "responses", "bin_start_ms",
                "neuron_area", "neuron_id", "object_label"):
        np.testing.assert_array_equal(getattr(data, key), getattr(npz, key))
    assert data.bin_width_ms == npz.bin_width_ms
    features = str(tmp_path / "features.npz")
    nf.save_features(features, feats, npz.stimulus_id)
    base = str(tmp_path / "fit")
    smoke = os.path.join(os.path.dirname(fit_neural.__file__), os.pardir,
                         "gin_configs", "neural", "smoke.gin")
    gin.clear_config()
    monkeypatch.setattr(sys, "argv", [
        "fit_neural", f"--data={path}", "--model=rgc_shallow",
        "--image_size=72", f"--features={features}", f"--gin_files={smoke}",
        "--gin_bindings=SweepSettings.mapping = 'ridge'", "--verbose=0",
        f"--base_dir={base}"])
    fit_neural.run()
    with open(os.path.join(base, "report.json")) as f:
        report = json.load(f)
    assert report["data"]["path"] == path
    for area in ("V4", "IT"):
        entry = report["similarity"]["areas"][area]
        assert entry["node"] == report["areas"][area]["best_node"] == "a"
        responses = data.responses[..., data.area_indices(area)]
        for key, fn in (("rsa", similarity.rsa_per_bin),
                        ("cka", similarity.cka_per_bin)):
            np.testing.assert_allclose(entry[key]["raw_per_bin"],
                                       fn(feats["a"], responses, [0, 1, 2]),
                                       rtol=1e-5)
            assert len(entry[key]["ceiling_per_bin"]) == n_bins
    assert os.path.isfile(os.path.join(base, "similarity.png"))
    text = fit_neural.summary(report)
    assert "IT similarity, node a: RSA raw" in text
