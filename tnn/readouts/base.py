"""Shared base of the temporal decoders (reference §6).

A temporal decoder turns per-step readout logits `L` of shape
`[batch, time, classes]` into one logit vector per example, `[batch,
classes]`. Every decoder takes an optional window `[start, end)` of steps
(Python slice semantics, negative indices allowed); the formulas of §6 are
applied to `L[:, start:end, :]`.

Notation (as in `convrnns/utils/decoders.py`):

    softmax_β(z, axis) = exp(β (z − max z)) / Σ exp(β (z − max z))

Every original decoder except `conv1d` also calls `compute_alpha`, which
creates the scalar variables `probs/softmax_beta` (β1) and
`alpha/softmax_beta` (β2); the decoders here create them too (as
`probs_softmax_beta` and `alpha_softmax_beta`; a TF1 checkpoint maps one
to one, see `tnn.interop.tf1_checkpoint.decoder_names`), and expose the
diagnostic as `compute_alpha(logits)`.
"""

import keras
from keras import ops


def beta_softmax(x, beta, axis):
    """`softmax_β(x, axis)` exactly as the original (max-shifted)."""
    beta = ops.cast(beta, x.dtype)
    shifted = x - ops.max(x, axis=axis, keepdims=True)
    e = ops.exp(beta * shifted)
    return e / ops.sum(e, axis=axis, keepdims=True)


def linear_normalize(x, axis):
    """`x / Σ x` along `axis` (the original's "linear" normalization)."""
    return x / ops.sum(x, axis=axis, keepdims=True)


def _check_index(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int (a time-step index, "
                         f"negative counts from the end) or None, "
                         f"got {value!r}.")
    return value


def check_optional_float(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number or None, got {value!r}.")
    return float(value)


class TemporalDecoder(keras.layers.Layer):
    """Base class: window selection, shape checks, compute_alpha variables.

    Subclasses implement `_build_decoder(num_steps, num_classes)` (create
    weights; `num_steps` is the window length, None if unknown) and
    `decode(logits)`: the formula, applied to the windowed `[B, T, K]`
    logits (`call` is `decode(window(logits))`).

    Args:
        start: first step of the decoding window (inclusive). Default 0.
        end: end of the window (exclusive); None = up to the last step.
        alpha_betas: initial value of the compute_alpha β1, β2 (None = 1.0,
            or U[0, 1) when `trainable_alpha_betas`).
        trainable_alpha_betas: make β1, β2 trainable (as the original's
            `compute_alpha(logits, trainable=True)`).
        seed: seed of the U[0, 1) initializers of trainable scalars.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).
    """

    creates_alpha_variables = True

    def __init__(self, start=0, end=None, alpha_betas=None,
                 trainable_alpha_betas=False, seed=None, **kwargs):
        start = _check_index(start, "start")
        end = _check_index(end, "end")
        if start is None:
            start = 0
        if end is not None and (end == 0 or (
                (start >= 0) == (end > 0) and end <= start)):
            raise ValueError(
                f"The decoding window [start, end) = [{start}, {end}) is "
                f"empty; use end > start (or end=None for the last step).")
        alpha_betas = check_optional_float(alpha_betas, "alpha_betas")
        if seed is not None and (isinstance(seed, bool)
                                 or not isinstance(seed, int)):
            raise ValueError(f"seed must be an int or None, got {seed!r}.")
        super().__init__(**kwargs)
        self.start = start
        self.end = end
        self.alpha_betas = alpha_betas
        self.trainable_alpha_betas = check_bool(trainable_alpha_betas,
                                                "trainable_alpha_betas")
        self.seed = seed
        self.num_steps = None
        self.num_classes = None

    # --- helpers -----------------------------------------------------------

    def _check_logits_shape(self, shape):
        shape = tuple(shape)
        if len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects per-step "
                f"logits of shape [batch, time, classes] (rank 3), got "
                f"shape {shape}; stack the per-step readouts along axis 1.")
        return shape

    def _scalar_initializer(self, value, trainable):
        """TF1 convention: constant `value` (default 1), or U[0, 1)."""
        if value is not None:
            return keras.initializers.Constant(value)
        if trainable:
            return keras.initializers.RandomUniform(0.0, 1.0, seed=self.seed)
        return keras.initializers.Constant(1.0)

    def _add_scalar(self, name, value, trainable):
        return self.add_weight(
            name=name, shape=(1,),
            initializer=self._scalar_initializer(value, trainable),
            trainable=trainable)

    def _window_length(self, num_steps):
        if num_steps is None:
            return None
        length = len(range(num_steps)[self.start:self.end])
        if length == 0:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': the window "
                f"[{self.start}, {self.end}) selects no step of the "
                f"{num_steps} available; choose start/end inside "
                f"[0, {num_steps}).")
        return length

    # --- Keras API ---------------------------------------------------------

    def build(self, input_shape):
        shape = self._check_logits_shape(input_shape)
        self.num_steps = self._window_length(shape[1])
        self.num_classes = shape[2]
        if self.creates_alpha_variables:
            self.probs_softmax_beta = self._add_scalar(
                "probs_softmax_beta", self.alpha_betas,
                self.trainable_alpha_betas)
            self.alpha_softmax_beta = self._add_scalar(
                "alpha_softmax_beta", self.alpha_betas,
                self.trainable_alpha_betas)
        self._build_decoder(self.num_steps, self.num_classes)
        super().build(input_shape)

    def _build_decoder(self, num_steps, num_classes):
        """Creates the decoder's own weights (none by default)."""

    def window(self, logits):
        """`logits[:, start:end, :]` (after a rank check)."""
        self._check_logits_shape(logits.shape)
        return logits[:, self.start:self.end, :]

    def call(self, logits):
        return self.decode(self.window(logits))

    def compute_alpha(self, logits):
        """The original's diagnostic α `[B, T]` over the window.

        `P = softmax_β1(L, classes)`, `m_t = max_k P_{t,k}`,
        `α = softmax_β2(m, time)`.
        """
        if not self.creates_alpha_variables:
            raise ValueError(f"{type(self).__name__} has no compute_alpha "
                             f"variables (the original conv1d decoder does "
                             f"not call compute_alpha).")
        logits = ops.convert_to_tensor(logits, dtype=self.compute_dtype)
        if not self.built:
            self.build(logits.shape)
        window = self.window(logits)
        probs = beta_softmax(window, self.probs_softmax_beta, axis=2)
        max_probs = ops.max(probs, axis=2)
        return beta_softmax(max_probs, self.alpha_softmax_beta, axis=1)

    def compute_output_shape(self, input_shape):
        shape = self._check_logits_shape(input_shape)
        return (shape[0], shape[2])

    def get_config(self):
        config = super().get_config()
        config.update(start=self.start, end=self.end,
                      alpha_betas=self.alpha_betas,
                      trainable_alpha_betas=self.trainable_alpha_betas,
                      seed=self.seed)
        return config


class BetaDecoder(TemporalDecoder):
    """A decoder with a softmax inverse temperature β (`normalize/softmax_beta`).

    Args:
        beta: value of β; None = 1.0 if fixed, U[0, 1) if trainable (TF1).
        trainable_beta: mark β trainable.
        **kwargs: window (`start`, `end`) and base arguments, see
            `TemporalDecoder`.
    """

    def __init__(self, beta=None, trainable_beta=False, **kwargs):
        beta = check_optional_float(beta, "beta")
        check_bool(trainable_beta, "trainable_beta")
        super().__init__(**kwargs)
        self.beta = beta
        self.trainable_beta = trainable_beta

    def _build_decoder(self, num_steps, num_classes):
        self.normalize_softmax_beta = self._add_scalar(
            "normalize_softmax_beta", self.beta, self.trainable_beta)

    @staticmethod
    def take_steps(logits, steps):
        """`L[b, steps[b]]` `[B, K]` for int steps `[B]`."""
        picked = ops.take_along_axis(logits, steps[:, None, None], axis=1)
        return picked[:, 0, :]

    def get_config(self):
        config = super().get_config()
        config.update(beta=self.beta, trainable_beta=self.trainable_beta)
        return config


def check_bool(value, name):
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}.")
    return value


def check_weight_decay(value):
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            value < 0):
        raise ValueError(f"weight_decay must be a number >= 0 (TF1 "
                         f"l2_regularizer scale), got {value!r}.")
    return float(value)
