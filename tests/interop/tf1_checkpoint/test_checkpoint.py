"""Converting synthetic TF1 checkpoints written with `tf.compat.v1`: exact
values, decoders, and the mismatch report."""

import numpy as np
import pytest

import tnn
from tests.interop.expected import APPENDIX_A
from tests.interop.helpers import write_tf1_checkpoint, zoo_arrays
from tnn.interop.tf1_checkpoint import (
    CheckpointMismatchError, from_tf1_checkpoint, load_tf1_weights,
    variable_map)


def _assert_loaded(model, arrays, decoder=None):
    vmap = variable_map(model, decoder)
    for target in vmap.targets:
        (name,) = target.names
        np.testing.assert_array_equal(target.variable.numpy(),
                                      arrays[f"tnn_model/{name}"])


@pytest.fixture(scope="module")
def timedecay():
    """timedecay_shallow at 72 px (no size-dependent weights) + arrays."""
    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3))
    arrays = zoo_arrays(variable_map(model), np.random.default_rng(1))
    return model, arrays


def test_real_checkpoint_round_trip_with_momentum_and_global_step(
        timedecay, tmp_path):
    _, arrays = timedecay
    names = {n for n in arrays if not n.endswith("/Momentum")} - {
        "global_step"}
    assert names == set(APPENDIX_A["timedecay_shallow"])
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", arrays)
    model = from_tf1_checkpoint(prefix, "timedecay_shallow",
                                input_shape=(72, 72, 3))
    _assert_loaded(model, arrays)
    decay = model.graph_nodes["conv4"].cell.memory_decay
    np.testing.assert_array_equal(decay.numpy(),
                                  arrays["tnn_model/conv4/memory_decay"])
    # Distinct values per variable: no two weights received the same array.
    values = [w.numpy().tobytes() for w in model.weights]
    assert len(set(values)) == len(values)


def test_missing_unexpected_and_wrong_shape_are_all_reported(timedecay):
    model, arrays = timedecay
    broken = dict(arrays)
    del broken["tnn_model/conv2/pre_0/bias"]
    del broken["tnn_model/conv5/memory_decay"]
    broken["tnn_model/conv9/pre_0/bias"] = np.zeros(4, "float32")
    broken["tnn_model/conv3/pre_0/weights_basenet"] = np.zeros(
        (3, 3, 64, 256), "float32")
    with pytest.raises(CheckpointMismatchError) as info:
        load_tf1_weights(model, broken)
    message = str(info.value)
    assert message.splitlines()[0] == (
        "The checkpoint does not match model 'timedecay_shallow': 2 missing, "
        "1 unexpected, 1 wrong-shape variable(s).")
    assert "  tnn_model/conv2/pre_0/bias [128]" in message
    assert "  tnn_model/conv5/memory_decay [1]" in message
    assert "  tnn_model/conv9/pre_0/bias [4]" in message
    assert ("  tnn_model/conv3/pre_0/weights_basenet [3, 3, 64, 256] vs "
            "[3, 3, 128, 256]") in message


def test_nonzero_pass_through_memory_and_decoder_variables_refused(
        timedecay):
    model, arrays = timedecay
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)non-zero.*conv2/memory_decay = \[0\.5\]"):
        load_tf1_weights(model, dict(
            arrays, **{"tnn_model/conv2/memory_decay": np.array(
                [0.5], "float32")}))
    with pytest.raises(CheckpointMismatchError,
                       match=r"decoder variables are present: use the model "
                             r"name with its decoder suffix"):
        load_tf1_weights(model, dict(
            arrays, **{"tnn_model/normalize/softmax_beta": np.ones(
                1, "float32")}))


def test_peephole_shape_depends_on_input_size():
    # Checkpoint shapes from Appendix A (224 input); model built at 72 px.
    arrays = {n: np.zeros(s, "float32")
              for n, (s, _) in APPENDIX_A["lstm_shallow"].items()}
    with pytest.raises(CheckpointMismatchError) as info:
        from_tf1_checkpoint(arrays, "lstm_shallow", input_shape=(72, 72, 3))
    message = str(info.value)
    assert "0 missing, 0 unexpected, 3 wrong-shape" in message
    assert ("tnn_model/conv4/ConvLSTMCell/peepholes/w_f_diag [14, 14, 256] "
            "vs [5, 5, 256]") in message
    assert "trained at (224, 224, 3)" in message


def test_bad_model_name_and_unreadable_prefix(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown model 'rgc_deep'.*"
                                         r"_tmaxconf, _dthresh"):
        from_tf1_checkpoint({}, "rgc_deep")
    with pytest.raises(ValueError, match=r"Cannot read a TF1 checkpoint at "
                                         r".*give the prefix"):
        from_tf1_checkpoint(str(tmp_path / "nothing" / "model.ckpt"),
                            "timedecay_shallow")


@pytest.mark.large
def test_decoder_models(tmp_path):
    """rgc_intermediate_tmaxconf from a real file, _dthresh from arrays."""
    model = tnn.create_model("rgc_intermediate", input_shape=(32, 32, 3))
    rng = np.random.default_rng(2)
    arrays = zoo_arrays(variable_map(model), rng, momentum=False)
    betas = {"tnn_model/probs/softmax_beta": np.ones(1, "float32"),
             "tnn_model/alpha/softmax_beta": np.ones(1, "float32"),
             "tnn_model/normalize/softmax_beta": np.array([0.37], "float32")}
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt",
                                  dict(arrays, **betas))
    model, decoder = from_tf1_checkpoint(prefix, "rgc_intermediate_tmaxconf",
                                         input_shape=(32, 32, 3))
    _assert_loaded(model, dict(arrays, **betas), decoder)
    assert (decoder.start, decoder.end, decoder.trainable_beta) == (11, None,
                                                                    True)
    assert decoder.normalize_softmax_beta.trainable
    assert not decoder.probs_softmax_beta.trainable
    logits = rng.standard_normal((3, model.times, 1000)).astype("float32")
    expected = logits[np.arange(3), 11 + np.argmax(
        _softmax(0.37 * logits[:, 11:]).max(axis=2), axis=1)]
    np.testing.assert_allclose(np.asarray(decoder(logits)), expected)

    thresh = dict(arrays, **betas, **{
        "tnn_model/decoder_threshold": np.array([0.25], "float32")})
    model, decoder = from_tf1_checkpoint(thresh, "rgc_intermediate_dthresh",
                                         input_shape=(32, 32, 3))
    assert float(decoder.decoder_threshold.numpy()[0]) == 0.25
    assert decoder.start == 11
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)1 missing.*tnn_model/decoder_threshold"):
        from_tf1_checkpoint(dict(arrays, **betas),
                            "rgc_intermediate_dthresh",
                            input_shape=(32, 32, 3))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_component_conv_split_per_harbor_input():
    """With an extra conv2 → conv4 input the conv4 kernel is stored per
    input (§1.5): weights_0 for conv2 (first in the harbor's alphabetical
    order), weights_basenet for the feed-forward conv3."""
    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3),
                             extra_edges=[("conv2", "conv4")])
    assert model.input_names["conv4"] == ["conv2", "conv3"]
    vmap = variable_map(model)
    shapes = vmap.expected_shapes()
    assert shapes["conv4/pre_0/weights_0"] == (3, 3, 128, 256)
    assert shapes["conv4/pre_0/weights_basenet"] == (3, 3, 256, 256)
    arrays = zoo_arrays(vmap, np.random.default_rng(10), momentum=False)
    load_tf1_weights(model, arrays)
    kernel = model.graph_nodes["conv4"].pre_memory[0].kernel.numpy()
    np.testing.assert_array_equal(kernel[:, :, :128],
                                  arrays["tnn_model/conv4/pre_0/weights_0"])
    np.testing.assert_array_equal(
        kernel[:, :, 128:], arrays["tnn_model/conv4/pre_0/weights_basenet"])


@pytest.mark.parametrize("suffix", ["tmaxconf", "dthresh"])
def test_absent_compute_alpha_betas_keep_their_default_with_a_warning(
        timedecay, suffix):
    """`probs/softmax_beta`, `alpha/softmax_beta` only feed convrnns'
    diagnostic `compute_alpha` (constant 1): a checkpoint without them still
    converts, with a warning naming them and the default used."""
    from tnn.zoo import released

    model, arrays = timedecay
    decoder = released.make_decoder(suffix, model)
    extra = {"tnn_model/normalize/softmax_beta": np.array([3.0], "float32"),
             "tnn_model/decoder_threshold": np.array([0.5], "float32")}
    if suffix == "tmaxconf":
        extra.pop("tnn_model/decoder_threshold")
    decoder.probs_softmax_beta.assign([0.25])
    with pytest.warns(UserWarning, match=(
            r"no tnn_model/probs/softmax_beta, tnn_model/alpha/softmax_beta"
            r": \w+Decoder keeps the default 1\.0")):
        load_tf1_weights(model, dict(arrays, **extra), decoder)
    assert float(decoder.normalize_softmax_beta.numpy()[0]) == 3.0
    assert float(decoder.probs_softmax_beta.numpy()[0]) == 1.0
    assert float(decoder.alpha_softmax_beta.numpy()[0]) == 1.0
    # The β that selects the step stays required.
    del extra["tnn_model/normalize/softmax_beta"]
    with pytest.raises(CheckpointMismatchError,
                       match=r"(?s)1 missing.*normalize/softmax_beta"):
        load_tf1_weights(model, dict(arrays, **extra), decoder)
