"""Brain-Score's own neural benchmark machinery against `TNNBrainModel`.

Everything is local: stimuli rendered here and written as PNG files with
a StimulusSet; a NeuroidAssembly (presentation x neuroid x time_bin,
repetitions as presentations) of synthetic IT responses from a known
source (`tnn.neural.synthetic`); Brain-Score 2.4.2's `NeuralBenchmark`
with its temporal path (`spantime_pls` metric, `internal_consistency_
temporal` ceiling, `explained_variance`), run through `score_benchmark`
(its memory probe, then the benchmark) with `place_on_screen` (8 -> 10
degrees, gray padding). The model's recordings the benchmark scored are
then scored by `tnn.neural` (PLS, shared across bins, and split-half
ceiling): the numbers must equal Brain-Score's to 1e-6.
"""

import os
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from brainscore_vision import load_ceiling, load_metric
from brainscore_vision.benchmark_helpers.neural_common import (
    NeuralBenchmark, average_repetition)
from brainscore_vision.benchmark_helpers.screen import ImageConverter
from brainscore_core.benchmarks import score_benchmark
from brainscore_core.supported_data_standards.brainio.assemblies import (
    NeuroidAssembly)
from brainscore_core.supported_data_standards.brainio.stimuli import (
    StimulusSet)

from tnn import neural
from tnn.brainscore import TNNBrainModel, make_brain_model, place_on_screen
from tnn.neural.synthetic import generator
from tnn.neural.synthetic.convrnn import ventral_convrnn

SOURCE_DEGREES, MODEL_DEGREES = 8, 10
BINS = [(t, t + 10) for t in range(70, 170, 10)]
TOLERANCE = 1e-6


def _stimulus_set(folder, images, labels, ids):
    folder.mkdir()
    paths = {}
    for image, stimulus_id in zip(images, ids):
        paths[stimulus_id] = str(folder / f"{stimulus_id}.png")
        Image.fromarray(image).save(paths[stimulus_id])
    stimulus_set = StimulusSet(pd.DataFrame({
        "stimulus_id": ids, "object_name": labels, "image_label": labels,
        "filename": [f"{i}.png" for i in ids]}))
    stimulus_set.stimulus_paths = paths
    stimulus_set.identifier = f"tnn-local-{folder.name}"
    return stimulus_set


def _assembly(data, stimulus_set):
    """NeuroidAssembly [R * N, K, B] with repetitions as presentations."""
    n_trials, n_stim, n_bins, n_neurons = data.responses.shape
    values = data.responses.transpose(0, 1, 3, 2).reshape(
        n_trials * n_stim, n_neurons, n_bins)
    tile = lambda v: np.tile(np.asarray(v), n_trials)  # noqa: E731
    bins = np.asarray(BINS)
    assembly = NeuroidAssembly(values, dims=["presentation", "neuroid",
                                             "time_bin"], coords={
        "stimulus_id": ("presentation", tile(data.stimulus_id)),
        "object_name": ("presentation", tile(data.object_label)),
        "image_label": ("presentation", tile(data.object_label)),
        "repetition": ("presentation", np.repeat(np.arange(n_trials),
                                                 n_stim)),
        "neuroid_id": ("neuroid", data.neuron_id),
        "region": ("neuroid", data.neuron_area),
        "time_bin_start": ("time_bin", bins[:, 0]),
        "time_bin_end": ("time_bin", bins[:, 1])})
    assembly.attrs["stimulus_set"] = stimulus_set
    return assembly


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Stimuli, IT data driven by the model's own conv4 (so a correct
    bin -> step mapping predicts it well), their assemblies and the model."""
    images, labels, ids = generator.render_stimuli(10, size=32, seed=0)
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(32, 32, 3), widths=(4, 6, 8, 8))
    source = TNNBrainModel(model, visual_degrees=MODEL_DEGREES,
                           reduction="pool", dims=64)

    def model_features(stimuli):   # the model's steps 0..25, as it sees them
        placed = [place_on_screen(s, SOURCE_DEGREES, MODEL_DEGREES)
                  for s in stimuli]
        return source.extractor(placed, ["conv4"], model.times)

    steps = model_features(images)
    it = generator.AreaSpec("IT", "conv4", n_neurons=24, latency_ms=70.0)
    data, _ = generator.generate_synthetic_ventral(
        lambda _: steps, images, labels, ids, areas=(it,), n_trials=6,
        n_bins=len(BINS), first_bin_ms=BINS[0][0], step_offset=7, seed=0)
    stimulus_set = _stimulus_set(tmp_path_factory.mktemp("bs") / "stimuli",
                                 images, labels, ids)
    repetitions = _assembly(data, stimulus_set)
    return data, stimulus_set, repetitions, model, steps["conv4"]


class Spy:
    """Keeps what the candidate returned to the benchmark."""

    def __init__(self, candidate):
        self.candidate, self.returned = candidate, []
        self.identifier = candidate.identifier

    def visual_degrees(self):
        return self.candidate.visual_degrees()

    def start_recording(self, *args, **kwargs):
        return self.candidate.start_recording(*args, **kwargs)

    def look_at(self, *args, **kwargs):
        out = self.candidate.look_at(*args, **kwargs)
        self.returned.append(out)
        return out


def test_brainscore_temporal_benchmark_equals_tnn_neural(setup):
    data, stimulus_set, repetitions, model, steps = setup
    averaged = average_repetition(repetitions)
    benchmark = NeuralBenchmark(
        identifier="tnn-local.IT-temporal-pls", version=1,
        assembly=averaged, visual_degrees=SOURCE_DEGREES, number_of_trials=1,
        similarity_metric=load_metric(
            "spantime_pls",
            crossvalidation_kwargs=dict(stratification_coord="object_name")),
        ceiling_func=lambda: load_ceiling("internal_consistency_temporal")(
            repetitions), parent="IT")
    brain_model = make_brain_model(model, region_layers={"IT": "conv4"},
                                   visual_degrees=MODEL_DEGREES,
                                   reduction="pool", dims=64)
    spy = Spy(brain_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        score = score_benchmark(benchmark, spy)   # memory probe, then scoring

    recordings = spy.returned[-1]
    assert recordings.dims == ("presentation", "neuroid", "time_bin")
    np.testing.assert_array_equal(recordings["time_bin_start"].values,
                                  np.asarray(BINS)[:, 0])
    assert set(recordings["region"].values) == {"IT"}
    assert recordings["stimulus_path"].values[0].endswith(".png")
    placed_path = recordings["stimulus_path"].values[0]
    assert f"target{MODEL_DEGREES:.2f}" in placed_path

    # The timing rule through Brain-Score's path: bin (70 + 10 b, 80 + 10 b)
    # ms is model step 7 + b of the stimulus as placed on the screen.
    order = pd.Index(recordings["stimulus_id"].values).get_indexer(
        data.stimulus_id)
    features = recordings.transpose("presentation", "time_bin",
                                    "neuroid").values[order]
    np.testing.assert_allclose(features, steps[:, 7:17], rtol=1e-5,
                               atol=1e-5)

    # Brain-Score's numbers: raw score and ceiling per bin, ceiled score.
    raw = score.attrs["raw"]
    ceiling = score.attrs["ceiling"]
    bs_raw = np.asarray(raw.values, np.float64)
    bs_ceiling = np.asarray(ceiling.values, np.float64)
    assert bs_raw.shape == bs_ceiling.shape == (len(BINS),)

    # Ours, on the recordings Brain-Score scored, in the data's order.
    ours = neural.cross_validated_score(
        features, data.trial_average(), object_label=data.object_label,
        shared_across_bins=True)
    ours_ceiling = neural.split_half_ceiling(data.responses)["ceiling"]
    ours_ceiled = neural.ceiled_score(ours["score"], ours_ceiling,
                                      "r2_over_ceiling_2026")

    diffs = {"raw": np.abs(ours["score"] - bs_raw).max(),
             "ceiling": np.abs(ours_ceiling - bs_ceiling).max(),
             "ceiled": np.abs(ours_ceiled - np.asarray(score.values)).max()}
    print(f"\nraw per bin (Brain-Score) {np.round(bs_raw, 4).tolist()}\n"
          f"ceiling per bin (Brain-Score) {np.round(bs_ceiling, 4).tolist()}"
          f"\nmax abs differences tnn.neural vs Brain-Score: {diffs}")
    assert np.isfinite(bs_raw).all() and bs_raw.mean() > 0.2
    assert bs_ceiling.min() > 0.15
    for name, diff in diffs.items():
        assert diff <= TOLERANCE, (name, diff)


def test_placement_equals_brainscore_image_converter(tmp_path):
    rng = np.random.default_rng(0)
    converter = ImageConverter(target_dir=tmp_path)
    for (height, width), source, target in [
            ((32, 32), 8, 10), ((31, 20), 8, 10), ((33, 17), 8, 12.3),
            ((32, 32), 10, 8), ((29, 40), 10, 7.1), ((16, 16), 8, 8)]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        theirs = np.asarray(converter.apply_ratio(
            Image.fromarray(image), target / source).convert("RGB"))
        np.testing.assert_array_equal(
            place_on_screen(image, source, target), theirs)


def test_recordings_equal_the_numpy_core_on_placed_images(setup):
    """The assembly path (files, Brain-Score's placement) equals the numpy
    path (our placement of the arrays)."""
    data, stimulus_set, _, model, _ = setup
    from brainscore_vision.benchmark_helpers.screen import place_on_screen \
        as bs_place
    brain_model = make_brain_model(model, region_layers={"V4": "conv2"},
                                   visual_degrees=MODEL_DEGREES,
                                   reduction="pool", dims=32)
    placed = bs_place(stimulus_set[:6], target_visual_degrees=MODEL_DEGREES,
                      source_visual_degrees=SOURCE_DEGREES)
    brain_model.start_recording("V4", [(0, 10), (50, 150)])
    assembly = brain_model.look_at(placed)
    ours = brain_model.record([place_on_screen(s, SOURCE_DEGREES,
                                               MODEL_DEGREES)
                               for s in data.stimuli[:6]])
    np.testing.assert_allclose(
        assembly.transpose("presentation", "neuroid", "time_bin").values,
        ours.values, rtol=1e-6, atol=1e-6)
    assert os.path.basename(assembly["stimulus_path"].values[0]) == \
        "stim_00000.png"


def test_brainscore_static_benchmark_equals_tnn_neural(setup):
    """The static path of MajajHong2015-style benchmarks: one (70, 170) ms
    bin, the `pls` metric, the `internal_consistency` ceiling."""
    data, stimulus_set, repetitions, model, _ = setup
    window = repetitions.mean("time_bin")          # responses in 70-170 ms
    window = NeuroidAssembly(window.values, dims=["presentation", "neuroid"],
                             coords={c: (window[c].dims[0], window[c].values)
                                     for c in ("stimulus_id", "object_name",
                                               "image_label", "repetition",
                                               "neuroid_id", "region")})
    window = window.expand_dims("time_bin")
    window["time_bin_start"] = ("time_bin", [70])
    window["time_bin_end"] = ("time_bin", [170])
    window = NeuroidAssembly(window).squeeze("time_bin")
    window.attrs["stimulus_set"] = stimulus_set
    averaged = average_repetition(window)
    benchmark = NeuralBenchmark(
        identifier="tnn-local.IT-pls", version=1, assembly=averaged,
        visual_degrees=SOURCE_DEGREES, number_of_trials=1,
        similarity_metric=load_metric(
            "pls",
            crossvalidation_kwargs=dict(stratification_coord="object_name")),
        ceiling_func=lambda: load_ceiling("internal_consistency")(window),
        parent="IT")
    brain_model = make_brain_model(model, region_layers={"IT": "conv4"},
                                   visual_degrees=MODEL_DEGREES,
                                   reduction="pool", dims=64)
    spy = Spy(brain_model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        score = score_benchmark(benchmark, spy)
    recordings = spy.returned[-1]
    assert recordings.sizes["time_bin"] == 1
    order = pd.Index(recordings["stimulus_id"].values).get_indexer(
        data.stimulus_id)
    features = recordings.squeeze("time_bin").transpose(
        "presentation", "neuroid").values[order]
    responses = data.responses.mean(axis=2)        # [R, N, K]
    ours = neural.cross_validated_score(
        features, np.nanmean(responses, axis=0),
        object_label=data.object_label)["score"][0]
    ours_ceiling = neural.split_half_ceiling(responses)["ceiling"][0]
    bs_raw = float(score.attrs["raw"].values)
    bs_ceiling = float(score.attrs["ceiling"].values)
    print(f"\nstatic: raw {bs_raw:.4f} ceiling {bs_ceiling:.4f}; max abs "
          f"differences raw {abs(ours - bs_raw):.2e} ceiling "
          f"{abs(ours_ceiling - bs_ceiling):.2e} ceiled "
          f"{abs(ours ** 2 / ours_ceiling - float(score.values)):.2e}")
    assert bs_raw > 0.5 and bs_ceiling > 0.5
    assert abs(ours - bs_raw) <= TOLERANCE
    assert abs(ours_ceiling - bs_ceiling) <= TOLERANCE
    assert abs(ours ** 2 / ours_ceiling - float(score.values)) <= TOLERANCE


def test_kar2019_time_bins_and_its_temporal_check(setup):
    """Kar2019's 10 ms bins 70-250 ms and its quick rejection of recordings
    that do not change over time, on a one-stimulus slice as it does."""
    from brainscore_vision.benchmarks.kar2019.benchmark import (
        TIME_BINS, temporally_varying)

    _, stimulus_set, _, model, _ = setup
    brain_model = make_brain_model(model, region_layers={"IT": "conv4"},
                                   reduction="pool", dims=16)
    brain_model.start_recording("IT", time_bins=TIME_BINS)
    check = stimulus_set[:1]
    check.identifier = None
    recordings = brain_model.look_at(check, number_of_trials=44)
    assert recordings.dims == ("presentation", "neuroid", "time_bin")
    assert recordings.sizes["presentation"] == 1
    assert recordings.sizes["time_bin"] == len(TIME_BINS)
    assert bool(temporally_varying(recordings))
