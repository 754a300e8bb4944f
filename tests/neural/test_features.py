"""Features over time: preprocessing, reductions, extraction vs unroll, the
feed-forward control, step/bin coverage and the features file."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn import random_projection

from tnn.neural import features as nf
from tnn.neural import stimuli as nstim
from training.data import preprocessing
from tnn.neural.synthetic.convrnn import ventral_convrnn


@pytest.fixture(scope="module")
def small():
    keras.utils.set_random_seed(0)
    model = ventral_convrnn(input_shape=(16, 16, 3), widths=(2, 3, 4, 4),
                            times=8, image_off=4)
    stimuli = np.random.default_rng(0).integers(
        0, 256, size=(5, 16, 16, 3), dtype=np.uint8)
    return model, stimuli


def test_preprocess_normalises_resizes_and_greys():
    rng = np.random.default_rng(1)
    stimuli = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
    out = nf.preprocess_stimuli(stimuli, (8, 8, 3))
    mean, std = np.asarray(preprocessing.IMAGENET_MEAN), \
        np.asarray(preprocessing.IMAGENET_STD)
    np.testing.assert_allclose(out, (stimuli / 255.0 - mean) / std,
                               rtol=1e-5, atol=1e-5)
    flat = np.full((1, 8, 8, 3), 51, np.uint8)
    small = nf.preprocess_stimuli(flat, (4, 4, 3))
    assert small.shape == (1, 4, 4, 3)
    np.testing.assert_allclose(small[0, 0, 0], (0.2 - mean) / std, rtol=1e-5)
    grey = nf.preprocess_stimuli(stimuli, (8, 8, 1))
    luma = stimuli / 255.0 @ np.asarray([0.2989, 0.587, 0.114])
    np.testing.assert_allclose(
        grey[..., 0], (luma - preprocessing.GRAYSCALE_MEAN[0])
        / preprocessing.GRAYSCALE_STD[0], atol=1e-3)
    with pytest.raises(ValueError, match="stimuli must be uint8"):
        nf.preprocess_stimuli(stimuli.astype(np.float32), (8, 8, 3))
    with pytest.raises(ValueError, match="2-channel images"):
        nf.preprocess_stimuli(stimuli, (8, 8, 2))


def _tf_preprocess(stimuli, input_shape):
    """The TensorFlow preprocessing `preprocess_stimuli` replaces."""
    images = preprocessing.to_unit_range(tf.constant(stimuli))
    if tuple(images.shape[1:3]) != tuple(input_shape[:2]):
        images = tf.image.resize(images, input_shape[:2], method="bilinear",
                                 antialias=True)
    if input_shape[2] == 1:
        images = tf.image.rgb_to_grayscale(images)
    return preprocessing.normalize(images).numpy()


@pytest.mark.parametrize("shape", [(16, 16, 3), (32, 30, 3), (21, 19, 1),
                                   (10, 40, 1), (7, 7, 3)])
def test_preprocess_matches_the_tensorflow_pipeline(shape):
    stimuli = np.random.default_rng(3).integers(
        0, 256, size=(3, 21, 19, 3), dtype=np.uint8)
    out = nf.preprocess_stimuli(stimuli, shape)
    assert out.dtype == np.float32 and out.shape == (3,) + shape
    np.testing.assert_allclose(out, _tf_preprocess(stimuli, shape),
                               rtol=1e-6, atol=1e-6)
    for name in ("IMAGENET_MEAN", "IMAGENET_STD", "GRAYSCALE_MEAN",
                 "GRAYSCALE_STD"):
        assert getattr(nstim, name) == getattr(preprocessing, name)


def test_extract_equals_unroll_per_batch_and_pass(small):
    model, stimuli = small
    nodes = ["conv1", "conv2", "conv4"]
    out = nf.extract_features(model, stimuli, nodes, batch_size=2,
                              reduction="none", nodes_per_pass=1, verbose=0)
    ref = model.unroll(nf.preprocess_stimuli(stimuli, (16, 16, 3)),
                       nodes=nodes)
    for node in nodes:
        expected = ref[node].numpy().reshape(5, 8, -1)
        assert out[node].shape == expected.shape == (
            5, 8, int(np.prod(model.output_shapes[node])))
        np.testing.assert_allclose(out[node], expected, atol=1e-5)
        first = model.first_image_step(node)
        # before its first image-driven step a node ignores the stimulus
        if first:
            assert np.ptp(out[node][:, :first], axis=0).max() < 1e-6
        assert np.ptp(out[node][:, first], axis=0).max() > 1e-4
    assert nf.default_nodes(model) == ["conv1", "conv2", "conv3", "conv4"]


def test_projection_matches_sklearn_and_pool_averages_blocks(rng):
    x = rng.standard_normal((3, 2, 6, 6, 5)).astype(np.float32)
    proj = nf.NodeReducer("conv7", (6, 6, 5), "projection", dims=20,
                          seed=3)
    reference = random_projection.SparseRandomProjection(
        n_components=20, random_state=nf._node_seed(3, "conv7"))
    expected = reference.fit_transform(x.reshape(6, -1))
    np.testing.assert_allclose(proj(x).reshape(6, 20), expected, rtol=1e-4,
                               atol=1e-4)
    assert proj.describe()["method"] == "projection"
    other = nf.NodeReducer("conv8", (6, 6, 5), "projection", 20, 3)
    assert (other.matrix != proj.matrix).nnz > 0
    whole = nf.NodeReducer("conv7", (6, 6, 5), "projection", dims=180)
    assert whole.method == "none" and whole.dims == 180
    pool = nf.NodeReducer("c", (5, 5, 5), "pool", dims=20)
    assert pool.grid == 2 and pool.dims == 20
    blocks = [(slice(0, 3), slice(0, 3)), (slice(0, 3), slice(3, 5)),
              (slice(3, 5), slice(0, 3)), (slice(3, 5), slice(3, 5))]
    y = x[:, :, :5, :5]
    expected = np.stack([y[:, :, r, c].mean(axis=(2, 3))
                         for r, c in blocks], axis=2)
    np.testing.assert_allclose(pool(y), expected.reshape(3, 2, 20),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="reduction must be one of"):
        nf.NodeReducer("c", (4, 4, 1), "pca")
    with pytest.raises(ValueError, match="dims must be a positive int"):
        nf.NodeReducer("c", (4, 4, 1), dims=0)


def _node_step(model, name, inputs):
    node = model.graph_nodes[name]
    states = [tf.zeros((inputs[0].shape[0],) + tuple(s))
              for s in model.state_shapes[name]]
    return node(inputs, states)[0]


def test_feedforward_control_is_the_zero_state_recursion(small):
    model, stimuli = small
    images = nf.preprocess_stimuli(stimuli, (16, 16, 3))
    out = model.unroll(images, ["conv2", "conv3"], recurrence="off")
    fb = tf.zeros((5,) + model.output_shapes["conv4"])
    for frame, window in ((images, range(2, 6)),
                          (np.full_like(images, 0.5), range(6, 8))):
        c1 = _node_step(model, "conv1", [frame])
        c2 = _node_step(model, "conv2", [c1, fb])
        c3 = _node_step(model, "conv3", [c2])
        for t in window:
            np.testing.assert_allclose(out["conv3"][:, t], c3, atol=1e-5)
        np.testing.assert_allclose(out["conv2"][:, window[0] - 1], c2,
                                   atol=1e-5)
    assert model.spec.feedback_sources()["conv2"] == {"conv4"}
    feats = nf.extract_features(model, stimuli, ["conv3"], reduction="none",
                                recurrent=False, verbose=0)
    np.testing.assert_allclose(feats["conv3"],
                               out["conv3"].numpy().reshape(5, 8, -1),
                               atol=1e-5)


def test_check_bins_and_bad_arguments(small):
    model, stimuli = small
    np.testing.assert_array_equal(nf.check_bins(model, 6, step_offset=2),
                                  np.arange(2, 8))
    with pytest.raises(ValueError, match="times=8, image_off=4.*cannot "
                                         "cover the 10 neural bins"):
        nf.check_bins(model, 10)
    with pytest.raises(ValueError, match="has no node 'v9'"):
        nf.extract_features(model, stimuli, ["v9"], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        nf.extract_features(model, stimuli, ["conv1"], batch_size=0,
                            verbose=0)
    with pytest.raises(ValueError, match="nodes_per_pass must be"):
        nf.extract_features(model, stimuli, ["conv1"], nodes_per_pass=0,
                            verbose=0)
    with pytest.raises(ValueError, match="Unknown node 'v9'"):
        model.unroll(np.zeros((1, 16, 16, 3)), ["v9"], recurrence="off")


def test_features_file_roundtrip(tmp_path, rng):
    feats = {"a": rng.standard_normal((3, 4, 2)).astype(np.float32),
             "b": rng.standard_normal((3, 4, 5)).astype(np.float32)}
    path = str(tmp_path / "f.npz")
    nf.save_features(path, feats, ["x", "y", "z"], {"seed": 1})
    loaded, ids, info = nf.load_features(path)
    assert list(loaded) == ["a", "b"] and info == {"seed": 1}
    np.testing.assert_array_equal(ids, ["x", "y", "z"])
    np.testing.assert_array_equal(loaded["b"], feats["b"])
    np.savez(str(tmp_path / "other.npz"), x=np.zeros(2))
    with pytest.raises(ValueError, match="is not a features file"):
        nf.load_features(str(tmp_path / "other.npz"))
    with pytest.raises(ValueError, match="does not exist"):
        nf.load_features(str(tmp_path / "none.npz"))
