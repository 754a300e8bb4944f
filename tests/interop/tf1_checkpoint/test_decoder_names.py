"""TF1 names of the temporal decoders' variables (reference §6, §8.4)."""

import keras
import numpy as np
import pytest

from tnn.interop.tf1_checkpoint.decoder_names import tf1_variable_names
from tnn.readouts import get_decoder, list_decoders

B, T, K = 3, 6, 5


def _built(name, **kwargs):
    decoder = get_decoder(name, **kwargs)
    decoder(np.random.default_rng(0).standard_normal((B, T, K)).astype(
        "float32"))
    return decoder


def test_section_8_4_names():
    tmaxconf = _built("tmaxconf", trainable_beta=True)
    assert tf1_variable_names(tmaxconf) == {
        "probs_softmax_beta": "probs/softmax_beta",
        "alpha_softmax_beta": "alpha/softmax_beta",
        "normalize_softmax_beta": "normalize/softmax_beta"}
    dthresh = _built("dthresh")
    assert tf1_variable_names(dthresh) == {
        "probs_softmax_beta": "probs/softmax_beta",
        "alpha_softmax_beta": "alpha/softmax_beta",
        "normalize_softmax_beta": "normalize/softmax_beta",
        "decoder_threshold": "decoder_threshold"}


def test_decoders_with_their_own_weights():
    w_avg_t = _built("w_avg_t")
    assert tf1_variable_names(w_avg_t)["decoder_alpha"] == "decoder_alpha"
    assert tf1_variable_names(_built("mlp")) == {
        "probs_softmax_beta": "probs/softmax_beta",
        "alpha_softmax_beta": "alpha/softmax_beta",
        "fc1_weights": "mlp_decoder/fc1/weights",
        "fc1_biases": "mlp_decoder/fc1/biases",
        "fc_final_weights": "mlp_decoder/fc_final/weights",
        "fc_final_biases": "mlp_decoder/fc_final/biases"}
    names = tf1_variable_names(_built("mlp", hidden_units=(4, 3)))
    assert names["fc2_biases"] == "mlp_decoder/fc2/biases"
    conv = _built("conv1d")
    names = tf1_variable_names(conv)
    assert names["c_6_kernel"] == "conv1_decoder/c_6/kernel"
    assert names["c_2_bias"] == "conv1_decoder/c_2/bias"
    assert names["fc_final_biases"] == "conv1_decoder/fc_final/biases"
    assert len(names) == len(conv.weights) == 12


@pytest.mark.parametrize("name", list_decoders())
def test_every_weight_of_every_decoder_is_named(name):
    decoder = _built(name)
    names = tf1_variable_names(decoder)
    assert sorted(names) == sorted(w.name for w in decoder.weights)
    assert len(set(names.values())) == len(names)


def test_not_a_decoder():
    with pytest.raises(ValueError, match="not a temporal decoder"):
        tf1_variable_names(keras.layers.Dense(3))
