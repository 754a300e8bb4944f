"""The logistic readout equals Brain-Score's `ProbabilitiesMapping`
classifier; the behavioural tasks return Brain-Score's assembly layout."""

import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from PIL import Image

from brainscore_core.supported_data_standards.brainio.assemblies import (
    BehavioralAssembly, NeuroidAssembly)
from brainscore_core.supported_data_standards.brainio.stimuli import (
    StimulusSet)
from brainscore_vision.model_helpers.brain_transformation.behavior import (
    ProbabilitiesMapping)

from tnn.brainscore import LogisticReadout, make_brain_model
from tnn.neural.synthetic.convrnn import ventral_convrnn


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_readout_equals_brainscore_probabilities_classifier(n_classes):
    rng = np.random.default_rng(n_classes)
    labels = np.asarray([f"c{i % n_classes}" for i in range(60)])[
        rng.permutation(60)]
    centers = rng.standard_normal((n_classes, 12))
    index = np.asarray([int(v[1:]) for v in labels])
    features = centers[index] + 1.5 * rng.standard_normal((60, 12))
    test = rng.standard_normal((20, 12))
    coords = {"stimulus_id": ("presentation", np.arange(60).astype(str)),
              "neuroid_id": ("neuroid", np.arange(12).astype(str))}
    theirs = ProbabilitiesMapping.ProbabilitiesClassifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # multi_class deprecation
        theirs.fit(NeuroidAssembly(features, coords=coords,
                                   dims=["presentation", "neuroid"]),
                   xr.DataArray(labels))
    test_coords = {"stimulus_id": ("presentation", np.arange(20).astype(str)),
                   "neuroid_id": ("neuroid", np.arange(12).astype(str))}
    expected = theirs.predict_proba(NeuroidAssembly(
        test, coords=test_coords, dims=["presentation", "neuroid"]))
    ours = LogisticReadout().fit(features, labels)
    assert ours.choices == list(expected["choice"].values)
    np.testing.assert_allclose(ours.predict_proba(test), expected.values,
                               atol=1e-6)


def _stimulus_set(folder, images, labels):
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"{folder.name}_{i:03d}" for i in range(len(images))]
    paths = {}
    for stimulus_id, image in zip(ids, images):
        paths[stimulus_id] = str(folder / f"{stimulus_id}.png")
        Image.fromarray(image).save(paths[stimulus_id])
    stimulus_set = StimulusSet(pd.DataFrame({
        "stimulus_id": ids, "image_label": labels, "object_name": labels}))
    stimulus_set.stimulus_paths = paths
    stimulus_set.identifier = folder.name
    return stimulus_set


def test_tasks_return_brainscore_assemblies(tmp_path):
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(16, 16, 3), widths=(2, 3, 4, 4),
                            times=8, image_off=4)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    labels = np.asarray(["dog", "cat"] * 4)
    fitting = _stimulus_set(tmp_path / "fit", images[:6], labels[:6])
    test = _stimulus_set(tmp_path / "test", images[6:], labels[6:])
    brain_model = make_brain_model(model, region_layers={"IT": "conv4"},
                                   reduction="none", readout_time_bins="last")

    brain_model.start_task("probabilities", fitting)
    proba = brain_model.look_at(test, number_of_trials=2)
    assert isinstance(proba, BehavioralAssembly)
    assert proba.dims == ("presentation", "choice")
    assert list(proba["choice"].values) == ["dog", "cat"]
    assert list(proba["stimulus_id"].values) == list(test["stimulus_id"])
    np.testing.assert_allclose(proba.values.sum(axis=1), 1.0)

    brain_model.start_task("label", fitting)
    choices = brain_model.look_at(test)
    assert choices.dims == ("choice", "presentation")
    assert set(choices.values.ravel()) <= {"dog", "cat"}
    expected = np.asarray(["dog", "cat"])[proba.values.argmax(axis=1)]
    np.testing.assert_array_equal(choices["label"].values, expected)

    brain_model.start_task("probabilities", fitting, time_bins="steps")
    per_step = brain_model.look_at(test)
    assert per_step.dims == ("presentation", "choice", "time_bin")
    assert per_step.sizes["time_bin"] == model.times

    brain_model.start_task("passive")
    assert brain_model.look_at(test) is None
