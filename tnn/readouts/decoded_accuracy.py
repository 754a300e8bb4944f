"""Top-k accuracy of a temporal decoder's output, as a Keras metric."""

import keras

from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder
from tnn.readouts.registry import LEARNED, get_decoder, resolve_decoder_name
from tnn.readouts.step_accuracy import check_k, top_k_matches


@tnn_export
class DecodedTopKAccuracy(keras.metrics.Mean):
    """Top-k accuracy of `decoder(logits)` for per-step logits `[B, T, K]`.

    Lets one model output (the per-step logits) be scored under several
    decoders at once. Decoders with learned weights (`w_avg_t`, `mlp`,
    `conv1d`) must be given as the trained layer instance (shared with the
    model); by name only decoders without learned weights are accepted
    (their β / θ scalars take the defaults of §6 unless `decoder_kwargs`
    set them). The decoder is built on the first update.

    Args:
        decoder: a decoder name (see `list_decoders`) or a `TemporalDecoder`.
        k: top-k.
        decoder_kwargs: constructor arguments when `decoder` is a name.
        name: metric name (default "top{k}_{decoder name}").
        dtype: metric dtype.
    """

    def __init__(self, decoder, k=1, decoder_kwargs=None, name=None,
                 dtype=None):
        check_k(k)
        decoder_kwargs = dict(decoder_kwargs or {})
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        if isinstance(decoder, TemporalDecoder):
            if decoder_kwargs:
                raise ValueError("decoder_kwargs apply only to a decoder "
                                 "given by name.")
            label = decoder.name
        else:
            key, _, _ = resolve_decoder_name(decoder)
            if key in LEARNED:
                raise ValueError(
                    f"Decoder {decoder!r} has learned weights; pass the "
                    f"trained layer instance (e.g. the model's decoder), "
                    f"not its name.")
            label = decoder
            decoder = get_decoder(decoder, **decoder_kwargs)
        super().__init__(name=name or f"top{k}_{label}", dtype=dtype)
        self.decoder = decoder
        self.k = k

    def update_state(self, y_true, y_pred, sample_weight=None):
        decoded = self.decoder(y_pred)
        matches = top_k_matches(y_true, decoded, self.k)
        return super().update_state(matches, sample_weight=sample_weight)

    def get_config(self):
        return {"decoder": keras.saving.serialize_keras_object(self.decoder),
                "k": self.k, "name": self.name, "dtype": self.dtype}
