"""`w_avg_t`: learned per-step, per-class weights."""

import keras
from keras import ops

from tnn.api import tnn_export
from tnn.readouts.base import TemporalDecoder, check_bool, linear_normalize


@tnn_export
class LearnedWeightsDecoder(TemporalDecoder):
    """`out_k = Σ_t w_{t,k} L_{t,k}` with `w = σ(A) / Σ_t σ(A)`.

    `A ∈ R^{T×K}` is the variable `decoder_alpha`, initialised U[0, 1) as
    in TF1; the window length T and the class count K must be known when
    the layer is built.

    Deviation: the original `temporal_decoder(name="w_avg_t")` defaults to
    `trainable=False` (a fixed random weighting); here `trainable_alpha`
    defaults to True, the decoder's purpose. Pass False to reproduce the
    original default.

    Args:
        trainable_alpha: learn `A`.
        **kwargs: window (`start`, `end`), `seed` (of the U[0, 1) init) and
            base arguments, see `TemporalDecoder`.
    """

    def __init__(self, trainable_alpha=True, **kwargs):
        check_bool(trainable_alpha, "trainable_alpha")
        super().__init__(**kwargs)
        self.trainable_alpha = trainable_alpha

    def _build_decoder(self, num_steps, num_classes):
        if num_steps is None or num_classes is None:
            raise ValueError(
                f"LearnedWeightsDecoder '{self.name}' needs a known number "
                f"of steps and classes, got {num_steps} steps and "
                f"{num_classes} classes; give the logits a static shape.")
        self.decoder_alpha = self.add_weight(
            name="decoder_alpha", shape=(num_steps, num_classes),
            initializer=keras.initializers.RandomUniform(0.0, 1.0,
                                                         seed=self.seed),
            trainable=self.trainable_alpha)

    def step_weights(self):
        """The normalised weights `w` `[T, K]` (columns sum to 1)."""
        alpha = ops.cast(self.decoder_alpha, self.compute_dtype)
        return linear_normalize(ops.sigmoid(alpha), axis=0)

    def decode(self, logits):
        return ops.sum(self.step_weights()[None] * logits, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(trainable_alpha=self.trainable_alpha)
        return config
