"""TNNBrainModel on a tiny model with plain arrays (no Brain-Score needed)."""

import importlib.util

import keras
import numpy as np
import pytest
from PIL import Image

from tnn.brainscore import PresentationExtendedWarning, TNNBrainModel
from tnn.brainscore import assemblies
from tnn.neural import PLSMapping
from tnn.neural.features import make_reducers
from tnn.neural.stimuli import preprocess_stimuli
from tnn.neural.synthetic import generator
from tnn.neural.synthetic.convrnn import ventral_convrnn


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(16, 16, 3), widths=(2, 3, 4, 4),
                            times=8, image_off=4)
    images = np.random.default_rng(0).integers(0, 256, (6, 20, 20, 3),
                                               dtype=np.uint8)
    return model, images


def test_recordings_are_the_binned_node_outputs(tiny):
    model, images = tiny
    brain_model = TNNBrainModel(model, region_layers={"IT": ["conv3",
                                                             "conv4"]},
                                reduction="pool", dims=8)
    brain_model.start_recording("IT", [(0, 10), (30, 50), (65, 80)])
    rec = brain_model.record(images)
    steps = model.unroll(preprocess_stimuli(images, (16, 16, 3)),
                         nodes=["conv3", "conv4"])
    reducers = make_reducers(model, ["conv3", "conv4"], "pool", 8)
    feats = np.concatenate([reducers[n](keras.ops.convert_to_numpy(
        steps[n])) for n in ("conv3", "conv4")], axis=-1)   # [N, T, K]
    expected = np.stack([feats[:, 0], feats[:, 3:5].mean(1),
                         (feats[:, 6] + 2 * feats[:, 7]) / 3], axis=-1)
    assert rec.values.shape == (6, feats.shape[-1], 3)
    np.testing.assert_allclose(rec.values, expected, rtol=1e-5, atol=1e-6)
    assert rec.neuroid["neuroid_id"][0] == "conv3.0"
    assert list(np.unique(rec.neuroid["layer"])) == ["conv3", "conv4"]
    assert set(rec.neuroid["region"]) == {"IT"}
    np.testing.assert_array_equal(rec.time_bin["time_bin_end"], [10, 50, 80])
    assert rec.presentation["stimulus_id"][1] == "stimulus_00001"


def test_paths_and_extended_presentations(tiny, tmp_path):
    model, images = tiny
    paths = []
    for i, image in enumerate(images[:2]):
        paths.append(str(tmp_path / f"s{i}.png"))
        Image.fromarray(image).save(paths[-1])
    brain_model = TNNBrainModel(model, region_layers={"V4": "conv2"},
                                reduction="none")
    with pytest.warns(PresentationExtendedWarning, match="unrolls 8"):
        brain_model.start_recording("V4", [(70, 80), (110, 120)])
    rec = brain_model.record(paths)
    expected = model.unroll(preprocess_stimuli(images[:2], (16, 16, 3)),
                            nodes=["conv2"], times=12)["conv2"]
    expected = keras.ops.convert_to_numpy(expected).reshape(2, 12, -1)
    np.testing.assert_allclose(rec.values, expected[:, [7, 11]].transpose(
        0, 2, 1), rtol=1e-5, atol=1e-6)
    assert list(rec.presentation["stimulus_path"]) == paths


def test_bad_input_messages(tiny, tmp_path):
    model, images = tiny
    brain_model = TNNBrainModel(model, region_layers={"V4": "conv2"})
    with pytest.raises(ValueError, match="region 'IT' has no committed node"
                       ".*commit_regions"):
        brain_model.start_recording("IT", [(70, 170)])
    with pytest.raises(ValueError, match="starts before"):
        brain_model.start_recording("V4", [(-20, 0)])
    with pytest.raises(ValueError, match="max_steps=100"):
        brain_model.start_recording("V4", [(70, 2000)])
    brain_model.start_recording("V4", [(70, 80)])
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ValueError, match="broken.png' cannot be read"):
        brain_model.record([str(tmp_path / "broken.png")])
    with pytest.raises(ValueError, match="no such file"):
        brain_model.record([str(tmp_path / "absent.jpg")])
    with pytest.raises(ValueError, match="fitting stimuli have one class"):
        brain_model.start_task("probabilities", (images, ["cat"] * 6))
    with pytest.raises(ValueError, match="needs labelled fitting stimuli"):
        brain_model.start_task("label", ["cat", "dog"])
    with pytest.raises(ValueError, match="not supported.*'passive'"):
        brain_model.start_task("odd_one_out")
    with pytest.raises(ValueError, match="no node \\['conv9'\\]"):
        TNNBrainModel(model, region_layers={"IT": "conv9"})


def test_probabilities_from_plain_arrays(tiny):
    model, images = tiny
    brain_model = TNNBrainModel(model, region_layers={"IT": "conv4"},
                                reduction="none")
    labels = np.asarray(["a", "b", "c"] * 2)
    with pytest.warns(PresentationExtendedWarning, match="170 ms"):
        brain_model.start_task("probabilities", (images, labels))  # 70-170
    values, dims, coords = brain_model.behave(images)
    assert dims == ["presentation", "choice"] and values.shape == (6, 3)
    np.testing.assert_allclose(values.sum(1), 1.0)
    assert list(coords["choice"]["choice"]) == ["a", "b", "c"]
    with pytest.warns(PresentationExtendedWarning):
        brain_model.start_task("label", (images, labels),
                               time_bins=[(0, 10), (160, 170)])
    values, dims, _ = brain_model.behave(images)
    assert dims == ["choice", "presentation", "time_bin"]
    assert values.shape == (1, 6, 2)


def test_commit_regions_finds_the_driving_node(tiny):
    model, _ = tiny
    images, _, ids = generator.render_stimuli(4, size=16, seed=1)
    brain_model = TNNBrainModel(model, reduction="pool", dims=16)
    bins = np.stack([np.arange(30, 80, 10), np.arange(40, 90, 10)], 1)
    nodes = ["conv1", "conv2", "conv4"]      # one compiled unroll for all
    truth = brain_model.binned_features(list(images), nodes, bins)

    def features_fn(_):   # steps 3..7 of conv2 are the data's bins 30..80
        out = np.zeros((len(images), 8, truth["conv2"].shape[-1]),
                       np.float32)
        out[:, 3:8] = truth["conv2"]
        return {"conv2": out}

    area = generator.AreaSpec("V4", "conv2", n_neurons=12, latency_ms=0.0)
    data, _ = generator.generate_synthetic_ventral(
        features_fn, images, None, ids, areas=(area,), n_trials=4,
        n_bins=5, first_bin_ms=30.0, step_offset=3, seed=0)
    report = brain_model.commit_regions(data, nodes=nodes,
                                        mapping=PLSMapping(n_components=4))
    assert brain_model.region_layers == {"V4": ["conv2"]}
    assert report["areas"]["V4"]["best_node"] == "conv2"


@pytest.mark.skipif(importlib.util.find_spec("brainscore_core") is not None,
                    reason="Brain-Score is installed")
def test_assemblies_need_brainscore_with_a_clear_message(tiny):
    model, images = tiny
    brain_model = TNNBrainModel(model, region_layers={"V4": "conv2"})
    brain_model.start_recording("V4", [(70, 80)])
    with pytest.raises(ModuleNotFoundError, match=r"tnn\[brainscore\]"):
        brain_model.look_at(images)
    with pytest.raises(ModuleNotFoundError, match=r"tnn\[brainscore\]"):
        assemblies.brainio()
