"""TF1 names of the temporal decoders' variables (reference §6, §8.4).

`convrnns/utils/decoders.py` creates its variables under `tnn_model/`:
`probs/softmax_beta` and `alpha/softmax_beta` (β1, β2 of `compute_alpha`,
every decoder but `conv1d`), `normalize/softmax_beta` (β of the β-softmax
decoders), `decoder_threshold`, `decoder_alpha`, and the layers of the
`mlp_decoder` and `conv1_decoder` scopes. `tnn.readouts` names its Keras
weights after them; `NAME_RULES` maps a Keras weight name to the TF1 name,
per decoder class (a subclass uses the rules of its nearest listed base).
"""

import re

from tnn.readouts import (
    Conv1DDecoder, LastDecoder, LearnedWeightsDecoder, MLPDecoder,
    TemporalDecoder, ThresholdDecoder)
from tnn.readouts.base import BetaDecoder

# (Keras weight name pattern, TF1 name template) pairs.
_ALPHA = ((r"(probs|alpha)_softmax_beta", r"\1/softmax_beta"),)
_BETA = ((r"normalize_softmax_beta", "normalize/softmax_beta"),)

NAME_RULES = {
    TemporalDecoder: _ALPHA,
    BetaDecoder: _ALPHA + _BETA,
    LastDecoder: _ALPHA + _BETA,
    LearnedWeightsDecoder: _ALPHA + ((r"decoder_alpha", "decoder_alpha"),),
    ThresholdDecoder: _ALPHA + _BETA + (
        (r"decoder_threshold", "decoder_threshold"),),
    MLPDecoder: _ALPHA + (
        (r"(fc\d+|fc_final)_(weights|biases)", r"mlp_decoder/\1/\2"),),
    Conv1DDecoder: (
        (r"(c_\d+)_(kernel|bias)", r"conv1_decoder/\1/\2"),
        (r"fc_final_(weights|biases)", r"conv1_decoder/fc_final/\1")),
}
# First TF1 scope component of decoder variables (for mismatch hints).
DECODER_SCOPES = ("probs", "alpha", "normalize", "decoder_threshold",
                  "decoder_alpha", "mlp_decoder", "conv1_decoder")


def _rules(decoder):
    for cls in type(decoder).__mro__:
        if cls in NAME_RULES:
            return NAME_RULES[cls]
    raise ValueError(f"{type(decoder).__name__} is not a temporal decoder "
                     f"of tnn.readouts; it has no TF1 variable names.")


def tf1_variable_names(decoder):
    """Maps each Keras weight name of a built decoder to its TF1 name.

    E.g. `{"probs_softmax_beta": "probs/softmax_beta", ...}`, relative to
    `tnn_model/`. Weights no rule names are left out (the converter then
    reports them).

    Args:
        decoder: a `tnn.readouts.TemporalDecoder`, built.
    """
    rules = _rules(decoder)
    names = {}
    for weight in decoder.weights:
        for pattern, template in rules:
            if re.fullmatch(pattern, weight.name):
                names[weight.name] = re.sub(pattern, template, weight.name)
                break
    return names
