"""The released checkpoints (`tnn.zoo.released`) and presentation presets."""

import pathlib
import re

import numpy as np
import pytest

import tnn
from tests.interop.expected import PARAMETER_COUNTS
from tnn.readouts import MaxConfidenceDecoder, ThresholdDecoder
from tnn.zoo import presets, released

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_twenty_released_checkpoints_of_registered_models():
    assert len(released.RELEASED) == 20
    for name, (model, suffix) in released.RELEASED.items():
        assert model in tnn.list_models(), name
        assert suffix is None or suffix in released.SUFFIXES
        assert released.split_model_name(name) == (model, suffix)
    # The 14 architectures (§4.4) and ugrnn_intermediate_t30 are released
    # without a decoder.
    plain = {m for m, s in released.RELEASED.values() if s is None}
    assert plain == set(PARAMETER_COUNTS) | {"ugrnn_intermediate_t30"}


def test_readme_lists_the_released_names():
    text = README.read_text()
    start = text.index("Released names:")
    listed = re.findall(r"`(\w+)`", text[start:text.index("\n\n", start)])
    assert listed == list(released.RELEASED)


def test_split_model_name():
    assert released.split_model_name("rgc_intermediate_t22_tmaxconf") == (
        "rgc_intermediate_t22", "tmaxconf")
    assert released.split_model_name("gru_shallow_dthresh") == (
        "gru_shallow", "dthresh")
    assert released.split_model_name("rgc_shallow") == ("rgc_shallow", None)
    with pytest.raises(ValueError, match="must be a string"):
        released.split_model_name(3)


def test_make_decoder_reads_the_zoo_window():
    model = tnn.create_model("rgc_shallow", input_shape=(72, 72, 3),
                             num_classes=5)
    decoder = released.make_decoder("tmaxconf", model)
    assert isinstance(decoder, MaxConfidenceDecoder)
    assert (decoder.start, decoder.trainable_beta) == (6, True)
    assert decoder.name == "tmaxconf_decoder" and decoder.built
    decoder = released.make_decoder("dthresh", model)
    assert isinstance(decoder, ThresholdDecoder) and decoder.start == 6
    logits = np.zeros((2, model.times, 5), "float32")
    assert np.asarray(decoder(logits)).shape == (2, 5)


def test_released_tmaxconf_is_the_readouts_alias_and_loads_its_beta():
    """`_tmaxconf` builds `get_decoder("tmaxconf")` (trainable β drawn from
    U[0, 1), convrnns `decoders.softmax`); converting a checkpoint replaces
    the random β by the stored one."""
    from tnn.interop.tf1_checkpoint import load_tf1_weights, variable_map

    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3),
                             num_classes=5)
    decoder = released.make_decoder("tmaxconf", model)
    assert decoder.get_config()["trainable_beta"] is True
    assert decoder.normalize_softmax_beta.trainable
    assert 0.0 <= float(decoder.normalize_softmax_beta.numpy()[0]) < 1.0
    vmap = variable_map(model, decoder)
    arrays = {f"tnn_model/{n}": np.full(s, 0.01, "float32")
              for n, s in vmap.expected_shapes().items()}
    arrays["tnn_model/normalize/softmax_beta"] = np.array([2.5], "float32")
    load_tf1_weights(model, arrays, decoder)
    assert float(decoder.normalize_softmax_beta.numpy()[0]) == 2.5
    with pytest.raises(ValueError, match=r"Unknown zoo decoder suffix "
                                         r"'last'"):
        released.make_decoder("last", model)


def test_presets():
    assert presets.presentation_settings("default", 16, 12) == {
        "times": 16, "image_off": 12}
    assert presets.presentation_settings("neural", 16, 12) == {
        "times": 26, "image_off": 10}
    assert presets.presentation_settings("constant", 17, 12) == {
        "times": 17, "image_off": None}
    with pytest.raises(ValueError, match="Unknown presentation 'flash'"):
        presets.presentation_settings("flash", 16, 12)
