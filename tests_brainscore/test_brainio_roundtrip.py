"""Files written by brainscore_core read by `tnn.neural.brainio` identically.

Not part of `make test`; run in the Brain-Score environment:

    /work/bsenv/bin/python -m pytest -q \
        tests_brainscore/test_brainio_roundtrip.py

An assembly (MajajHong2015's layout: dims neuroid x presentation x
time_bin, repetitions as presentations, `region`, `time_bin_start/end`)
and a StimulusSet (CSV + zip) are written with brainscore_core's own
packaging functions (`write_netcdf`, `create_stimulus_zip`,
`create_stimulus_csv`; nothing is uploaded) and read back both with
brainscore_core's loaders and with ours. Then Brain-Score's own
computations on its assembly (repetition averaging, the split-half
internal consistency, split-half RDM and CKA consistency, RDM similarity
and CKA) equal ours on the loaded `NeuralData`.
"""

import os
import zipfile

import numpy as np
import pytest

pytest.importorskip("brainscore_core")
from brainscore_core.supported_data_standards.brainio import (  # noqa: E402
    assemblies as bs_assemblies, packaging as bs_packaging,
    stimuli as bs_stimuli)
from PIL import Image  # noqa: E402

from tnn import neural  # noqa: E402
from tnn.neural import brainio, similarity  # noqa: E402

N_STIM, N_REP = 12, 4
REGIONS = ["V4"] * 5 + ["IT"] * 6


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brainio")
    rng = np.random.default_rng(0)
    ids = [f"stim{i:02d}" for i in range(N_STIM)]
    labels = ["car", "dog", "face"] * (N_STIM // 3)
    image_dir = folder / "source"
    image_dir.mkdir()
    paths = {}
    for sid in ids:
        paths[sid] = str(image_dir / f"{sid}.png")
        Image.fromarray(rng.integers(0, 256, (10, 10, 3), dtype=np.uint8)
                        ).save(paths[sid])
    proto = bs_stimuli.StimulusSet({"stimulus_id": ids,
                                    "object_name": labels})
    proto.stimulus_paths = paths
    zip_path = str(folder / "stimulus_test_Roundtrip.zip")
    _, arcnames = bs_packaging.create_stimulus_zip(proto, zip_path)
    proto["filename"] = arcnames
    csv_path = str(folder / "stimulus_test_Roundtrip.csv")
    bs_packaging.create_stimulus_csv(proto, csv_path)

    stim = np.repeat(np.arange(N_STIM), N_REP)
    order = rng.permutation(stim.size)
    stim = stim[order]
    rep = np.tile(np.arange(N_REP), N_STIM)[order]
    signal = rng.normal(size=(N_STIM, len(REGIONS), 3))
    values = signal[stim] + 0.7 * rng.normal(size=signal[stim].shape)
    assembly = bs_assemblies.NeuroidAssembly(
        values.transpose(1, 0, 2),
        coords={"stimulus_id": ("presentation", np.array(ids)[stim]),
                "repetition": ("presentation", rep),
                "neuroid_id": ("neuroid", [f"n{k}" for k in
                                           range(len(REGIONS))]),
                "region": ("neuroid", REGIONS),
                "animal": ("neuroid", ["m1"] * len(REGIONS)),
                "time_bin_start": ("time_bin", [70, 90, 110]),
                "time_bin_end": ("time_bin", [90, 110, 130])},
        dims=["neuroid", "presentation", "time_bin"])
    assembly.attrs["stimulus_set_identifier"] = "test.Roundtrip"
    nc_path = str(folder / "assy_test_Roundtrip.nc")
    bs_packaging.write_netcdf(assembly, nc_path)
    unzipped = bs_packaging.fetch.unzip(zip_path)
    stimulus_set = bs_stimuli.StimulusSetLoader(
        cls=bs_stimuli.StimulusSet, csv_path=csv_path,
        stimuli_directory=unzipped).load()
    loaded = bs_assemblies.NeuroidAssembly.from_files(
        nc_path, stimulus_set_identifier="test.Roundtrip",
        stimulus_set=stimulus_set)
    return dict(nc=nc_path, csv=csv_path, zip=zip_path, dir=unzipped,
                assembly=loaded, stimulus_set=stimulus_set)


def _center(score):
    """A Score's value (older versions keep an `aggregation` dim)."""
    if "aggregation" in score.dims:
        score = score.sel(aggregation="center")
    return float(score)


def _ours(package, **kwargs):
    return brainio.load_brainio_assembly(package["nc"], **kwargs)


def test_every_array_matches_brainscore_core(package):
    data = _ours(package)  # CSV and the unzipped folder found by name
    from_zip = _ours(package, stimulus_csv=package["csv"],
                     stimulus_dir=package["zip"])
    np.testing.assert_array_equal(data.stimuli, from_zip.stimuli)
    assy = package["assembly"].transpose("presentation", "time_bin",
                                         "neuroid")
    ids = list(data.stimulus_id)
    for p in range(assy.sizes["presentation"]):
        sid = str(assy["stimulus_id"].values[p])
        trial = int(assy["repetition"].values[p])
        np.testing.assert_array_equal(data.responses[trial, ids.index(sid)],
                                      assy.values[p].astype(np.float32))
    np.testing.assert_array_equal(data.neuron_id, assy["neuroid_id"].values)
    np.testing.assert_array_equal(data.neuron_area, assy["region"].values)
    np.testing.assert_array_equal(data.bin_start_ms,
                                  assy["time_bin_start"].values)
    assert data.bin_width_ms == 20.0
    stimulus_set = package["stimulus_set"]
    for n, sid in enumerate(ids):
        with Image.open(stimulus_set.get_stimulus(sid)) as image:
            np.testing.assert_array_equal(data.stimuli[n],
                                          np.asarray(image.convert("RGB")))
        row = stimulus_set[stimulus_set["stimulus_id"] == sid]
        assert data.object_label[n] == row["object_name"].values[0]


def test_brainscore_computations_equal_ours(package):
    from brainscore_vision.benchmark_helpers.neural_common import (
        average_repetition)
    from brainscore_vision.metrics.cka.metric import CKA
    from brainscore_vision.metrics.internal_consistency.ceiling import (
        InternalConsistency)
    from brainscore_vision.metrics.rdm.metric import RDMMetric

    data = _ours(package, sort_stimuli=True)
    assy = package["assembly"].transpose("presentation", "neuroid",
                                         "time_bin")
    average = average_repetition(assy).sortby("stimulus_id")
    np.testing.assert_allclose(
        data.trial_average(), average.transpose(
            "presentation", "time_bin", "neuroid").values, rtol=1e-6)
    for region in ("V4", "IT"):
        idx = data.area_indices(region)
        region_assy = assy.sel(region=region)
        for b in range(data.n_bins):
            one_bin = region_assy.isel(time_bin=b)
            expected = InternalConsistency()(one_bin)
            ours = neural.split_half_ceiling(data.responses[..., idx])
            assert ours["ceiling"][b] == pytest.approx(_center(expected),
                                                       abs=1e-6)
            if b:  # the similarity ceilings on the first bin only
                continue
            rdm_ceiling = InternalConsistency(
                consistency_metric=RDMMetric())(one_bin)
            assert similarity.rsa_ceiling(data.responses[..., idx])[
                "ceiling"][b] == pytest.approx(_center(rdm_ceiling), abs=1e-6)
            cka_ceiling = InternalConsistency(
                consistency_metric=CKA(unbiased=False))(one_bin)
            assert similarity.cka_ceiling(data.responses[..., idx])[
                "ceiling"][b] == pytest.approx(_center(cka_ceiling), abs=1e-6)
    # RDM similarity and CKA between the two areas' averaged patterns
    a = average.sel(region="V4").isel(time_bin=0)
    c = average.sel(region="IT").isel(time_bin=0)
    mean = data.trial_average()[:, 0]
    v4, it = mean[:, data.area_indices("V4")], mean[:, data.area_indices(
        "IT")]
    assert similarity.rsa(similarity.rdm(v4), similarity.rdm(it)) == \
        pytest.approx(float(RDMMetric()(a, c)), abs=1e-6)
    assert similarity.linear_cka(v4, it) == pytest.approx(
        float(CKA(unbiased=False)(a, c)), abs=1e-6)
    assert similarity.linear_cka(v4, it, unbiased=True) == \
        pytest.approx(float(CKA()(a, c)), abs=1e-6)


def test_single_coordinate_dims_are_read(package, tmp_path):
    """brainscore_core's xarray stores a lone coordinate as `<dim>_`."""
    assembly = bs_assemblies.NeuroidAssembly(
        np.arange(8.0).reshape(4, 2),
        coords={"stimulus_id": ("presentation",
                                ["stim00", "stim01", "stim00", "stim01"]),
                "neuroid_id": ("neuroid", ["n0", "n1"])},
        dims=["presentation", "neuroid"])
    path = str(tmp_path / "single.nc")
    bs_packaging.write_netcdf(assembly, path)
    data = brainio.load_brainio_assembly(
        path, stimulus_csv=package["csv"], stimulus_dir=package["zip"],
        default_area="IT")
    np.testing.assert_array_equal(data.stimulus_id, ["stim00", "stim01"])
    np.testing.assert_array_equal(data.neuron_id, ["n0", "n1"])
    np.testing.assert_array_equal(data.responses[1, 0, 0], [4.0, 5.0])
    assert zipfile.is_zipfile(package["zip"]) and os.path.isdir(
        package["dir"])
