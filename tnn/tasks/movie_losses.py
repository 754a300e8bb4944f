"""Per-step losses and metrics of the movie objectives (`keras.ops`).

Shapes: predictions carry time as axis 1 (`[B, T, ...]`). Every loss and
metric takes `start`: the steps before it are left out (a head's outputs
before its nodes are image-driven are the same for every clip;
`MovieModel` sets it to `TNNGraph.first_image_step` of the head's nodes).

Next-frame prediction with offset k: the output at step t predicts frame
t + k, so the loss compares `pred[:, :T-k]` with `frames[:, k:]` (the
target is the clip itself, in [0, 1]). PSNR and SSIM use a data range of
1; SSIM follows Wang et al. (2004) with the constants and the 11x11
Gaussian window (sigma 1.5, 'valid' borders) of `tf.image.ssim`, averaged
over channels, pixels, steps and clips. The baseline every predictor must
beat, copying the last seen frame, is `copy_last_frame(frames, k)`.

Segmentation: per-pixel softmax cross-entropy against int classes
`[B, T, H, W]`; `MeanIoU` is the intersection over union of each
non-background class, accumulated over the data set, averaged over the
classes that occur (in the targets or the predictions); `ForegroundIoU`
is the class-agnostic IoU of digit pixels (any class) against background.

Per-step classes: the digits present in a clip as a target distribution
(multi-hot / count); cross-entropy at every step; `PresentTopAccuracy`
counts, at the last step, the share of present classes among the top-D
predictions (D = classes present).

InfoNCE (van den Oord et al. 2018; the symmetric form of SimCLR): the
embedding of step t of a clip must pick out the same clip's embedding at
step t + k among the batch's clips at t + k, with temperature tau;
averaged over t and both directions.
"""

import math

import keras
from keras import ops

SSIM_K1, SSIM_K2, SSIM_SIZE, SSIM_SIGMA = 0.01, 0.03, 11, 1.5


def _pairs(frames, pred, offset, start=0):
    """(predictions at steps start..T-k-1, frames k steps later), folded."""
    steps = pred.shape[1]
    if start + offset >= steps:
        raise ValueError(f"offset {offset} from step {start} leaves no step "
                         f"to predict in {steps} steps; use a longer clip "
                         f"or a smaller offset.")
    p = pred[:, start:steps - offset]
    t = ops.cast(frames[:, start + offset:], p.dtype)
    shape = (-1,) + tuple(p.shape[2:])
    return ops.reshape(t, shape), ops.reshape(p, shape)


def copy_last_frame(frames, offset):
    """The copy baseline: frame t as the prediction of frame t + k."""
    return frames[:, :frames.shape[1] - offset], frames[:, offset:]


def psnr(a, b):
    """Peak signal-to-noise ratio per image, data range 1: `[N]`."""
    err = ops.mean(ops.square(a - b), axis=tuple(range(1, len(a.shape))))
    return 10.0 * ops.log(1.0 / ops.maximum(err, 1e-10)) / math.log(10.0)


def _gaussian_window(channels, dtype):
    coords = ops.arange(SSIM_SIZE, dtype="float32") - (SSIM_SIZE - 1) / 2
    g = ops.exp(-ops.square(coords) / (2 * SSIM_SIGMA ** 2))
    g = g / ops.sum(g)
    window = ops.outer(g, g)[:, :, None, None]
    return ops.cast(ops.tile(window, (1, 1, channels, 1)), dtype)


def ssim(a, b):
    """Structural similarity per image `[N, H, W, C]`, data range 1: `[N]`.

    Equal to `tf.image.ssim(a, b, max_val=1.0)` (same window, constants
    and 'valid' filtering); images need H, W >= 11.
    """
    if a.shape[1] < SSIM_SIZE or a.shape[2] < SSIM_SIZE:
        raise ValueError(f"SSIM needs frames of at least {SSIM_SIZE}x"
                         f"{SSIM_SIZE}, got {tuple(a.shape[1:3])}.")
    window = _gaussian_window(a.shape[-1], a.dtype)

    def blur(x):
        return ops.depthwise_conv(x, window, padding="valid")

    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    luminance = (2 * mu_a * mu_b + c1) / (mu_a * mu_a + mu_b * mu_b + c1)
    contrast = (2 * cov + c2) / (var_a + var_b + c2)
    return ops.mean(luminance * contrast, axis=(1, 2, 3))


@keras.saving.register_keras_serializable(package="tnn")
class NextFrameLoss(keras.losses.Loss):
    """Mean squared pixel error of the output at t against frame t + k."""

    def __init__(self, offset=1, start=0, name="next_frame_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.offset, self.start = int(offset), int(start)

    def call(self, y_true, y_pred):
        t, p = _pairs(y_true, y_pred, self.offset, self.start)
        err = ops.mean(ops.square(p - t), axis=tuple(range(1, len(p.shape))))
        return ops.mean(ops.reshape(err, (-1, y_pred.shape[1] - self.start
                                          - self.offset)), axis=1)

    def get_config(self):
        return {**super().get_config(), "offset": self.offset,
                "start": self.start}


class _MeanOverFrames(keras.metrics.Mean):
    def __init__(self, offset=1, start=0, **kwargs):
        super().__init__(**kwargs)
        self.offset, self.start = int(offset), int(start)

    def update_state(self, y_true, y_pred, sample_weight=None):
        t, p = _pairs(y_true, ops.cast(y_pred, "float32"), self.offset,
                      self.start)
        return super().update_state(self.per_frame(ops.cast(t, "float32"),
                                                   ops.clip(p, 0.0, 1.0)))

    def get_config(self):
        return {**super().get_config(), "offset": self.offset,
                "start": self.start}


@keras.saving.register_keras_serializable(package="tnn")
class FramePSNR(_MeanOverFrames):
    """Mean PSNR (dB) of the predictions, clipped to [0, 1]."""

    per_frame = staticmethod(psnr)


@keras.saving.register_keras_serializable(package="tnn")
class FrameSSIM(_MeanOverFrames):
    """Mean SSIM of the predictions, clipped to [0, 1]."""

    per_frame = staticmethod(ssim)


@keras.saving.register_keras_serializable(package="tnn")
class PixelCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy per pixel and step against int classes.

    `foreground_weight` multiplies the loss of pixels whose class is not 0
    (digits cover a few percent of a frame; unweighted, predicting the
    background everywhere is a deep local minimum). The weighted sum is
    divided by the sum of the weights.
    """

    def __init__(self, start=0, foreground_weight=1.0,
                 name="pixel_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.start = int(start)
        self.foreground_weight = float(foreground_weight)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true[:, self.start:], "int32")
        ce = keras.losses.sparse_categorical_crossentropy(
            labels, y_pred[:, self.start:], from_logits=True)
        weight = 1.0 + (self.foreground_weight - 1.0) * ops.cast(
            labels > 0, ce.dtype)
        axes = tuple(range(1, len(ce.shape)))
        return ops.sum(ce * weight, axis=axes) / ops.sum(weight, axis=axes)

    def get_config(self):
        return {**super().get_config(), "start": self.start,
                "foreground_weight": self.foreground_weight}


@keras.saving.register_keras_serializable(package="tnn")
class MeanIoU(keras.metrics.Metric):
    """IoU of each class except `ignore` (background), class mean."""

    def __init__(self, num_classes, ignore=0, start=0, name="mean_iou",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.ignore = int(num_classes), ignore
        self.start = int(start)
        self.intersection = self.add_variable(
            shape=(self.num_classes,), initializer="zeros",
            name="intersection")
        self.union = self.add_variable(
            shape=(self.num_classes,), initializer="zeros", name="union")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = y_true[:, self.start:], y_pred[:, self.start:]
        true = ops.one_hot(ops.reshape(ops.cast(y_true, "int32"), (-1,)),
                           self.num_classes)
        pred = ops.one_hot(ops.reshape(ops.argmax(y_pred, axis=-1), (-1,)),
                           self.num_classes)
        inter = ops.sum(true * pred, axis=0)
        self.intersection.assign_add(inter)
        self.union.assign_add(ops.sum(true, axis=0) + ops.sum(pred, axis=0)
                              - inter)

    def result(self):
        keep = ops.cast(ops.arange(self.num_classes) != self.ignore,
                        "float32") * ops.cast(self.union > 0, "float32")
        iou = self.intersection / ops.maximum(self.union, 1.0)
        return ops.sum(iou * keep) / ops.maximum(ops.sum(keep), 1.0)

    def reset_state(self):
        for v in (self.intersection, self.union):
            v.assign(ops.zeros_like(v))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore": self.ignore, "start": self.start}


@keras.saving.register_keras_serializable(package="tnn")
class ForegroundIoU(keras.metrics.Metric):
    """IoU of "any digit" vs background (class-agnostic localisation)."""

    def __init__(self, start=0, name="foreground_iou", **kwargs):
        super().__init__(name=name, **kwargs)
        self.start = int(start)
        self.intersection = self.add_variable(
            shape=(), initializer="zeros", name="intersection")
        self.union = self.add_variable(shape=(), initializer="zeros",
                                       name="union")

    def update_state(self, y_true, y_pred, sample_weight=None):
        true = ops.cast(y_true[:, self.start:], "int32") > 0
        pred = ops.argmax(y_pred[:, self.start:], axis=-1) > 0
        self.intersection.assign_add(ops.sum(ops.cast(true & pred,
                                                      "float32")))
        self.union.assign_add(ops.sum(ops.cast(true | pred, "float32")))

    def result(self):
        return self.intersection / ops.maximum(self.union, 1.0)

    def reset_state(self):
        for v in (self.intersection, self.union):
            v.assign(ops.zeros_like(v))

    def get_config(self):
        return {**super().get_config(), "start": self.start}


def _present_distribution(y_true, classes):
    counts = ops.cast(y_true, "float32")
    if len(counts.shape) == 1 or counts.shape[-1] != classes:
        raise ValueError(f"Per-step class targets must be counts or a "
                         f"multi-hot vector [B, {classes}], got shape "
                         f"{tuple(counts.shape)}.")
    return counts / ops.maximum(ops.sum(counts, -1, keepdims=True), 1.0)


@keras.saving.register_keras_serializable(package="tnn")
class PresentClassesLoss(keras.losses.Loss):
    """Cross-entropy of every step's logits with the present classes."""

    def __init__(self, start=0, name="classes_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.start = int(start)

    def call(self, y_true, y_pred):
        dist = _present_distribution(y_true, y_pred.shape[-1])
        logp = ops.log_softmax(y_pred[:, self.start:], axis=-1)
        return -ops.mean(ops.sum(dist[:, None] * logp, axis=-1), axis=1)

    def get_config(self):
        return {**super().get_config(), "start": self.start}


@keras.saving.register_keras_serializable(package="tnn")
class PresentTopAccuracy(keras.metrics.Mean):
    """Share of present classes in the last step's top-D predictions."""

    def __init__(self, name="present_top_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        present = ops.cast(ops.cast(y_true, "float32") > 0, "float32")
        logits = ops.cast(y_pred[:, -1], "float32")
        d = ops.sum(present, axis=-1, keepdims=True)
        # rank of each class among the logits (0 = largest; ties = misses)
        greater = ops.sum(ops.cast(logits[:, None, :] >= logits[:, :, None],
                                   "float32"), axis=-1) - 1.0
        hits = ops.sum(present * ops.cast(greater < d, "float32"), axis=-1)
        return super().update_state(hits / ops.maximum(d[:, 0], 1.0))


def _nce_logits(z, offset, temperature):
    steps = z.shape[1]
    if offset >= steps or offset < 1:
        raise ValueError(f"InfoNCE offset must be in [1, {steps}), got "
                         f"{offset}.")
    a = ops.transpose(z[:, :steps - offset], (1, 0, 2))   # [T', B, d]
    b = ops.transpose(z[:, offset:], (1, 0, 2))
    return ops.matmul(a, ops.transpose(b, (0, 2, 1))) / temperature


@keras.saving.register_keras_serializable(package="tnn")
class InfoNCELoss(keras.losses.Loss):
    """Symmetric InfoNCE between steps t and t + k of the same clip."""

    def __init__(self, offset=1, temperature=0.1, start=0, name="info_nce",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.offset, self.temperature = int(offset), float(temperature)
        self.start = int(start)

    def call(self, y_true, y_pred):
        del y_true  # the positives are the clip's own steps
        logits = _nce_logits(ops.cast(y_pred[:, self.start:], "float32"),
                             self.offset, self.temperature)
        logp_ab = ops.diagonal(ops.log_softmax(logits, axis=-1),
                               axis1=-2, axis2=-1)       # [T', B]
        logp_ba = ops.diagonal(ops.log_softmax(logits, axis=-2),
                               axis1=-2, axis2=-1)
        return -ops.mean(logp_ab + logp_ba, axis=0) / 2   # [B]

    def get_config(self):
        return {**super().get_config(), "offset": self.offset,
                "temperature": self.temperature, "start": self.start}


@keras.saving.register_keras_serializable(package="tnn")
class ContrastiveAccuracy(keras.metrics.Mean):
    """Share of steps whose positive is strictly the most similar clip."""

    def __init__(self, offset=1, start=0, name="contrastive_accuracy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.offset, self.start = int(offset), int(start)

    def update_state(self, y_true, y_pred, sample_weight=None):
        logits = _nce_logits(ops.cast(y_pred[:, self.start:], "float32"),
                             self.offset, 1.0)
        positive = ops.diagonal(logits, axis1=-2, axis2=-1)   # [T', B]
        # a miss if any other clip is at least as similar (ties = misses)
        rivals = ops.sum(ops.cast(logits >= positive[..., None], "float32"),
                         axis=-1) - 1.0
        return super().update_state(ops.cast(rivals == 0, "float32"))

    def get_config(self):
        return {**super().get_config(), "offset": self.offset,
                "start": self.start}
