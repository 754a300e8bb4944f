"""MovieModel: per-step heads on a TNNGraph unrolled over a movie."""

import keras
import numpy as np
import pytest

from tnn.tasks.movie_model import MovieModel
from tnn.zoo.small_models import small_convrnn, small_feedforward

OBJECTIVES = {
    "next_frame": {"nodes": ["conv1", "conv2"], "offset": 1, "width": 8},
    "segmentation": {"nodes": ["conv1", "conv3"], "num_classes": 5,
                     "width": 8},
    "classes": {"nodes": ["conv3"], "num_classes": 4},
    "contrastive": {"nodes": ["conv3"], "offset": 2, "units": 8,
                    "hidden": 16},
}


def _backbone(kind=small_convrnn):
    return kind(input_shape=(16, 16, 1), widths=(4, 6, 8), times=5,
                num_classes=4)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(0)
    return MovieModel(_backbone(), OBJECTIVES)


def _movie(seed=0, batch=3):
    return np.random.default_rng(seed).random(
        (batch, 5, 16, 16, 1)).astype("float32")


def test_every_head_gives_an_output_per_step(model):
    out = model(_movie())
    assert out["next_frame"].shape == (3, 5, 16, 16, 1)
    assert out["segmentation"].shape == (3, 5, 16, 16, 5)
    assert out["classes"].shape == (3, 5, 4)
    assert out["contrastive"].shape == (3, 5, 8)
    nf = np.asarray(out["next_frame"])
    assert nf.min() >= 0 and nf.max() <= 1          # sigmoid pixels
    start = model.backbone.first_image_step("conv3")
    assert start == 2
    norms = np.linalg.norm(np.asarray(out["contrastive"]), axis=-1)
    np.testing.assert_allclose(norms[:, start:], 1.0, rtol=1e-5)


def test_outputs_at_step_t_do_not_see_later_frames(model):
    movie = _movie(1)
    later = movie.copy()
    later[:, 2:] = 1.0 - later[:, 2:]
    a, b = model(movie), model(later)
    for key, settings in OBJECTIVES.items():
        np.testing.assert_allclose(np.asarray(a[key])[:, :2],
                                   np.asarray(b[key])[:, :2], atol=1e-6)
        # frame 2 reaches a node d layers deep at step 2 + d - 1
        first = 2 + min(model.backbone.first_image_step(n)
                        for n in settings["nodes"])
        np.testing.assert_allclose(np.asarray(a[key])[:, :first],
                                   np.asarray(b[key])[:, :first], atol=1e-6)
        assert not np.allclose(np.asarray(a[key])[:, first],
                               np.asarray(b[key])[:, first])


def test_recurrence_off_matches_a_per_frame_model():
    keras.utils.set_random_seed(1)
    backbone = _backbone()
    on = MovieModel(backbone, {"classes": OBJECTIVES["classes"]})
    off = MovieModel(backbone, {"classes": OBJECTIVES["classes"]},
                     recurrence="off")
    off.heads["classes"].set_weights(on.heads["classes"].get_weights())
    movie = _movie(2)
    want = np.asarray(backbone.unroll(movie, nodes=["conv3"],
                                      recurrence="off")["conv3"])
    got = np.asarray(off(movie)["classes"])
    dense = off.heads["classes"].dense
    kernel, bias = (np.asarray(w) for w in dense.weights)
    np.testing.assert_allclose(got, want.mean(axis=(2, 3)) @ kernel + bias,
                               rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, np.asarray(on(movie)["classes"]))


def test_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(2)
    model = MovieModel(_backbone(small_feedforward), OBJECTIVES)
    model.compile(keras.optimizers.Adam(1e-3), run_eagerly=True)
    movie = _movie(3, batch=4)
    rng = np.random.default_rng(3)
    y = {"next_frame": movie,
         "segmentation": rng.integers(0, 5, size=(4, 5, 16, 16)),
         "classes": np.eye(4)[rng.integers(0, 4, size=4)],
         "contrastive": np.zeros(4)}
    before = model.evaluate(movie, y, verbose=0, return_dict=True)
    for _ in range(3):
        model.train_on_batch(movie, y)
    after = model.evaluate(movie, y, verbose=0, return_dict=True)
    assert after["loss"] < before["loss"]
    path = str(tmp_path / "movie.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    for key, value in model(movie).items():
        np.testing.assert_allclose(np.asarray(loaded(movie)[key]),
                                   np.asarray(value), atol=1e-6)
    again = loaded.evaluate(movie, y, verbose=0, return_dict=True)
    assert again["loss"] == pytest.approx(after["loss"], rel=1e-5)


@pytest.mark.parametrize("objectives, match", [
    ({"x": {"kind": "optical_flow", "nodes": ["conv1"]}}, "unknown kind"),
    ({"next_frame": {"nodes": ["conv9"]}}, "unknown node"),
    ({"next_frame": {}}, "needs 'nodes'"),
    ({"next_frame": {"nodes": ["readout"]}}, "feature maps"),
    ({}, "non-empty"),
])
def test_bad_objectives_are_named(objectives, match):
    with pytest.raises(ValueError, match=match):
        MovieModel(_backbone(), objectives)
