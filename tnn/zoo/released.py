"""The released convrnns checkpoints and their temporal decoders.

The zoo released 20 checkpoints (`get_checkpoints.sh`; ImageNet accuracies
in reference §10.1): the 14 architectures of §4 and six variants. A
released name is a registered model, optionally followed by a decoder
suffix (convrnns `loader.MODEL_TO_KWARGS`, reference §6 and §8.4):

- `_tmaxconf`: `max_conf` built with `trainable=True` (β =
  `normalize/softmax_beta` trainable, drawn from U[0, 1) as
  `tf.initializers.random_uniform`; the compute_alpha β's fixed);
- `_dthresh`: `thresh` with everything fixed.

Both are the `tnn.readouts` aliases of the same names (one definition,
`tnn.readouts.get_decoder("tmaxconf")`); a checkpoint's values replace the
initial ones (`tnn.interop.tf1_checkpoint`).

Both read the readout over the window `[num_layers, T)` (`model_func`'s
`decoder_start`).

    from tnn.zoo import released
    released.split_model_name("rgc_intermediate_t22_tmaxconf")
    # ("rgc_intermediate_t22", "tmaxconf")
"""

from tnn.readouts import get_decoder

# Decoder suffixes: `tnn.readouts` aliases that carry the zoo's settings.
SUFFIXES = ("tmaxconf", "dthresh")

# Released checkpoint name → (registered model, decoder suffix or None).
RELEASED = {
    "timedecay_shallow": ("timedecay_shallow", None),
    "simplernn_shallow": ("simplernn_shallow", None),
    "gru_shallow": ("gru_shallow", None),
    "lstm_shallow": ("lstm_shallow", None),
    "intersectionrnn_shallow": ("intersectionrnn_shallow", None),
    "ugrnn_shallow": ("ugrnn_shallow", None),
    "rgc_shallow": ("rgc_shallow", None),
    "timedecay_intermediate": ("timedecay_intermediate", None),
    "simplernn_intermediate": ("simplernn_intermediate", None),
    "gru_intermediate": ("gru_intermediate", None),
    "lstm_intermediate": ("lstm_intermediate", None),
    "intersectionrnn_intermediate": ("intersectionrnn_intermediate", None),
    "ugrnn_intermediate": ("ugrnn_intermediate", None),
    "ugrnn_intermediate_t30": ("ugrnn_intermediate_t30", None),
    "ugrnn_intermediate_t30_tmaxconf": ("ugrnn_intermediate_t30",
                                        "tmaxconf"),
    "ugrnn_intermediate_t30_dthresh": ("ugrnn_intermediate_t30", "dthresh"),
    "rgc_intermediate": ("rgc_intermediate", None),
    "rgc_intermediate_tmaxconf": ("rgc_intermediate", "tmaxconf"),
    "rgc_intermediate_dthresh": ("rgc_intermediate", "dthresh"),
    "rgc_intermediate_t22_tmaxconf": ("rgc_intermediate_t22", "tmaxconf"),
}


def split_model_name(name):
    """Splits off a decoder suffix.

    Any registered model may carry one, released or not:
    `"rgc_intermediate_tmaxconf"` → `("rgc_intermediate", "tmaxconf")`; a
    name without a suffix → `(name, None)`.

    Raises:
        ValueError: `name` is not a string.
    """
    if not isinstance(name, str):
        raise ValueError(f"A model name must be a string, got {name!r}.")
    for suffix in SUFFIXES:
        if name.endswith("_" + suffix):
            return name[:-len(suffix) - 1], suffix
    return name, None


def make_decoder(suffix, model):
    """The built zoo decoder `suffix` for `model` (a `TNNGraph`).

    It reads the readout logits `[B, T, K]` from step `num_layers` on.
    """
    if suffix not in SUFFIXES:
        raise ValueError(f"Unknown zoo decoder suffix {suffix!r}; the "
                         f"released checkpoints use {list(SUFFIXES)}.")
    num_layers = len(model.spec.node_names)
    decoder = get_decoder(suffix, start=num_layers, name=f"{suffix}_decoder")
    num_classes = model.output_shapes[model.spec.output][-1]
    decoder.build((None, model.times, num_classes))
    return decoder
