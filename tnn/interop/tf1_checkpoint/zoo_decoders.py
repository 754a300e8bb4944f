"""The temporal decoders of the released zoo checkpoints (reference §6, §8.4).

Released names with a decoder (convrnns `loader.MODEL_TO_KWARGS`):
`rgc_intermediate_tmaxconf`, `rgc_intermediate_t22_tmaxconf`,
`rgc_intermediate_dthresh`, `ugrnn_intermediate_t30_tmaxconf`,
`ugrnn_intermediate_t30_dthresh`. `_tmaxconf` is `max_conf` built with
`trainable=True` (β = `normalize/softmax_beta` trainable, the compute_alpha
β's fixed); `_dthresh` is `thresh` with everything fixed. Both read the
readout over the window `[num_layers, T)` (`model_func`'s `decoder_start`).
"""

from tnn.readouts import MaxConfidenceDecoder, ThresholdDecoder

DECODERS = {
    "tmaxconf": (MaxConfidenceDecoder, {"trainable_beta": True}),
    "dthresh": (ThresholdDecoder, {}),
}
SUFFIXES = tuple(DECODERS)
# First TF1 scope component of decoder variables (for mismatch hints).
DECODER_SCOPES = ("probs", "alpha", "normalize", "decoder_threshold",
                  "decoder_alpha", "mlp_decoder", "conv1_decoder")


def split_model_name(name):
    """`"rgc_intermediate_tmaxconf"` → `("rgc_intermediate", "tmaxconf")`;
    no decoder suffix → `(name, None)`."""
    if not isinstance(name, str):
        raise ValueError(f"A model name must be a string, got {name!r}.")
    for suffix in SUFFIXES:
        if name.endswith("_" + suffix):
            return name[:-len(suffix) - 1], suffix
    return name, None


def make_decoder(suffix, model):
    """The built decoder of a zoo model for `model` (a `TNNGraph`)."""
    cls, kwargs = DECODERS[suffix]
    num_layers = len(model.spec.node_names)
    decoder = cls(start=num_layers, name=f"{suffix}_decoder", **kwargs)
    num_classes = model.output_shapes[model.spec.output][-1]
    decoder.build((None, model.times, num_classes))
    return decoder
