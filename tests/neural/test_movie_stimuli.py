"""Movie stimuli in the neural format, their presentation on the model's
10 ms steps, and `training.fit_neural` on movie data."""

import json
import os
import sys

import gin
import keras
import numpy as np
import pytest

from tnn.neural import data as ndata
from tnn.neural import features as nf
from tnn.neural import movie_stimuli
from tnn.neural.stimuli import preprocess_stimuli
from tnn.neural.synthetic.convrnn import ventral_convrnn
from training import fit_neural

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MODEL = dict(input_shape=(8, 8, 3), widths=(2, 3, 3, 4), times=8,
             image_off=4)


def _data(movies, responses, frame_ms=20.0):
    n, bins, k = responses.shape[1], responses.shape[2], responses.shape[3]
    return ndata.NeuralData(
        stimuli=movies, stimulus_id=[f"m{i}" for i in range(n)],
        responses=responses, bin_start_ms=10.0 * np.arange(bins),
        bin_width_ms=10.0, neuron_area=["IT"] * k,
        neuron_id=[f"n{i}" for i in range(k)], frame_ms=frame_ms)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return ventral_convrnn(**MODEL)


def test_movie_data_round_trip_and_bad_frame_ms(tmp_path):
    rng = np.random.default_rng(0)
    movies = rng.integers(0, 256, (3, 4, 8, 8, 3), dtype=np.uint8)
    data = _data(movies, rng.normal(size=(2, 3, 5, 2)))
    ndata.save_neural_data(data, tmp_path / "m.npz")
    back = ndata.load_neural_data(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.stimuli, movies)
    assert back.frame_ms == 20.0 and back.stimuli.shape == (3, 4, 8, 8, 3)
    with pytest.raises(ValueError, match="need `frame_ms`"):
        _data(movies, data.responses, frame_ms=None)
    with pytest.raises(ValueError, match="need `frame_ms`"):
        _data(movies, data.responses, frame_ms=-5)
    with pytest.raises(ValueError, match="still images"):
        _data(movies[:, 0], data.responses)
    # A still-image file stays as before: no frame_ms key.
    still = _data(movies[:, 0], data.responses, frame_ms=None)
    ndata.save_neural_data(still, tmp_path / "s.npz")
    with np.load(tmp_path / "s.npz") as npz:
        assert "frame_ms" not in npz.files


def test_frame_of_step_by_hand():
    # 3 frames of 20 ms = 2 steps each, then the blank (-1) up to step 8.
    np.testing.assert_array_equal(movie_stimuli.frame_of_step(3, 20, 8),
                                  [0, 0, 1, 1, 2, 2, -1, -1])
    np.testing.assert_array_equal(movie_stimuli.frame_of_step(2, 10, 3),
                                  [0, 1, -1])
    with pytest.raises(ValueError, match="frame_ms=25 .* 20 ms or 30 ms"):
        movie_stimuli.steps_per_frame(25)
    with pytest.raises(ValueError, match="frame_ms=5 .* 10 ms"):
        movie_stimuli.steps_per_frame(5)


def test_movies_are_presented_frame_by_frame_then_blank(model):
    rng = np.random.default_rng(1)
    movies = rng.integers(0, 256, (2, 3, 8, 8, 3), dtype=np.uint8)
    movies[1, :2] = movies[0, :2]   # same first two frames, then differ
    nodes = ["conv1", "conv4"]
    feats = nf.extract_features(model, movies, nodes, reduction="none",
                                verbose=0, frame_ms=20)
    # Reference: each frame preprocessed, repeated 2 steps, blank after.
    frames = preprocess_stimuli(movies.reshape(-1, 8, 8, 3), (8, 8, 3))
    frames = np.repeat(frames.reshape(2, 3, 8, 8, 3), 2, axis=1)
    blank = np.full((2, 2, 8, 8, 3), model.blank_value, np.float32)
    direct = model.unroll(np.concatenate([frames, blank], axis=1),
                          nodes=nodes)
    for node in nodes:
        np.testing.assert_allclose(
            feats[node], np.asarray(direct[node]).reshape(2, 8, -1),
            rtol=1e-5, atol=1e-6)
    # Step s depends only on the frames shown up to s: frame 2 starts at
    # step 4, so the two movies agree before it and differ from it on.
    for node in nodes:
        np.testing.assert_array_equal(feats[node][0, :4], feats[node][1, :4])
    assert not np.allclose(feats["conv1"][0, 4], feats["conv1"][1, 4])
    assert not np.allclose(feats["conv4"][0, -1], feats["conv4"][1, -1])


def test_bad_movie_presentation_is_reported(model):
    movies = np.zeros((1, 5, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="need frame_ms"):
        nf.extract_features(model, movies, ["conv1"], verbose=0)
    with pytest.raises(ValueError, match="frame_ms=25"):
        nf.extract_features(model, movies, ["conv1"], verbose=0,
                            frame_ms=25)
    with pytest.raises(ValueError, match="applies to movie stimuli"):
        nf.extract_features(model, movies[:, 0], ["conv1"], verbose=0,
                            frame_ms=20)
    with pytest.raises(ValueError, match="--fit_dynamics takes still"):
        movie_stimuli.check_still_images(movies, "--fit_dynamics")
    movie_stimuli.check_still_images(movies[:, 0], "--fit_dynamics")
    with pytest.warns(UserWarning, match="last 1 frames are not shown"):
        nf.extract_features(model, movies, ["conv1"], verbose=0,
                            frame_ms=20)


def test_fit_neural_maps_movie_responses(model, tmp_path, monkeypatch):
    """Responses = a known linear map of conv3's features to the movies
    (+ noise): the sweep, unchanged, recovers them on held-out movies."""
    rng = np.random.default_rng(2)
    n, k = 40, 3
    movies = rng.integers(0, 256, (n, 3, 8, 8, 3), dtype=np.uint8)
    feats = nf.extract_features(model, movies, ["conv3"], reduction="none",
                                verbose=0, frame_ms=20)["conv3"]
    signal = feats @ rng.normal(size=(feats.shape[-1], k))
    signal /= signal.std(axis=(0, 1), keepdims=True)
    responses = signal[None] + 0.1 * rng.normal(size=(2,) + signal.shape)
    ndata.save_neural_data(_data(movies, responses.astype(np.float32)),
                           tmp_path / "movies.npz")
    model.save_weights(tmp_path / "model.weights.h5")
    bindings = ["fit_neural.model_fn = @ventral_convrnn",
                f"fit_neural.weights = '{tmp_path / 'model.weights.h5'}'",
                "fit_neural.similarity = False",
                "SweepSettings.mapping = 'ridge'"] + [
        f"ventral_convrnn.{key} = {value!r}" for key, value in MODEL.items()]
    gin.clear_config()
    monkeypatch.setattr(sys, "argv", [
        "fit_neural", f"--data={tmp_path / 'movies.npz'}",
        f"--base_dir={tmp_path / 'fit'}", "--nodes=conv1,conv3",
        f"--gin_files={os.path.join(REPO, 'gin_configs/neural/smoke.gin')}",
        "--verbose=0"] + [f"--gin_bindings={b}" for b in bindings])
    try:
        fit_neural.run()
    finally:
        gin.clear_config()
    with open(tmp_path / "fit" / "report.json") as f:
        report = json.load(f)
    entry = report["areas"]["IT"]
    assert entry["best_node"] == "conv3"
    # conv3 (3 layers deep) is driven by the movie from step 2 on; before
    # that its features, hence the signal, are the same for every movie.
    true, other = (np.asarray(entry["nodes"][n]["score_per_bin"][3:],
                              float) for n in ("conv3", "conv1"))
    assert true.min() > 0.8 and true.mean() > np.nanmean(other) + 0.1
    # conv1 (no recurrence) sees the same blank for every movie after the
    # 3 frames x 2 steps: no variance, no score in bins 6 and 7.
    assert np.isnan(other[-2:]).all()
