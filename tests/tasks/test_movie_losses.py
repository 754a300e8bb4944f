"""Movie objectives' losses and metrics against independent references."""

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import jaccard_score

from tnn.tasks import movie_losses as ml


def _frames(seed, shape=(3, 5, 16, 16, 1)):
    return np.random.default_rng(seed).random(shape).astype("float32")


def test_ssim_and_psnr_equal_tensorflow_image():
    a = _frames(0, (4, 16, 16, 2))
    b = np.clip(a + 0.1 * _frames(1, (4, 16, 16, 2)), 0, 1)
    np.testing.assert_allclose(np.asarray(ml.ssim(a, b)),
                               tf.image.ssim(a, b, max_val=1.0).numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(np.asarray(ml.psnr(a, b)),
                               tf.image.psnr(a, b, max_val=1.0).numpy(),
                               rtol=1e-5)


def test_next_frame_loss_compares_step_t_with_frame_t_plus_k():
    frames = _frames(2)
    k = 2
    perfect = np.zeros_like(frames)
    perfect[:, :-k] = frames[:, k:]          # what step t should output
    loss = ml.NextFrameLoss(offset=k)
    assert float(loss(frames, perfect)) == pytest.approx(0.0, abs=1e-12)
    shifted = np.zeros_like(frames)
    shifted[:, :-k] = frames[:, :-k]         # copy-last-frame prediction
    want = np.mean((frames[:, k:] - frames[:, :-k]) ** 2)
    assert float(loss(frames, shifted)) == pytest.approx(want, rel=1e-5)
    copy_pred, target = ml.copy_last_frame(frames, k)
    np.testing.assert_array_equal(copy_pred, frames[:, :-k])
    np.testing.assert_array_equal(target, frames[:, k:])
    with pytest.raises(ValueError, match="leaves no step"):
        ml.NextFrameLoss(offset=5)(frames, frames)


def test_psnr_metric_is_mean_over_predicted_frames():
    frames = _frames(3)
    pred = np.clip(frames + 0.05, 0, 1)
    metric = ml.FramePSNR(offset=1)
    metric.update_state(frames, pred)
    err = ((pred[:, :-1] - frames[:, 1:]) ** 2).mean(axis=(2, 3, 4))
    assert float(metric.result()) == pytest.approx(
        np.mean(10 * np.log10(1 / err)), rel=1e-5)


def test_mean_iou_equals_scikit_learn_jaccard_over_digit_classes():
    rng = np.random.default_rng(4)
    true = rng.integers(0, 4, size=(2, 3, 8, 8))
    true[true == 3] = 0   # class 3 absent from the targets
    logits = rng.normal(size=(2, 3, 8, 8, 5)).astype("float32")
    pred = logits.argmax(-1)
    metric = ml.MeanIoU(num_classes=5)
    metric.update_state(true[:1], logits[:1])
    metric.update_state(true[1:], logits[1:])    # accumulates over batches
    present = sorted((set(np.unique(true)) | set(np.unique(pred))) - {0})
    want = jaccard_score(true.ravel(), pred.ravel(), labels=present,
                         average="macro")
    assert float(metric.result()) == pytest.approx(want, rel=1e-6)


def test_present_classes_loss_and_accuracy_by_hand():
    counts = np.array([[1, 1, 0, 0], [0, 0, 2, 0]], "float32")
    logits = np.zeros((2, 3, 4), "float32")
    logits[0, -1] = [3, 0, 2, 1]      # top-2 = {0, 2}: one of two present
    logits[1, -1] = [0, 0, 5, 0]      # top-1 = {2}: hit
    acc = ml.PresentTopAccuracy()
    acc.update_state(counts, logits)
    assert float(acc.result()) == pytest.approx((0.5 + 1.0) / 2)
    loss = ml.PresentClassesLoss()(counts, logits)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    dist = counts / counts.sum(-1, keepdims=True)
    want = -(dist[:, None] * logp).sum(-1).mean(1).mean()
    assert float(loss) == pytest.approx(want, rel=1e-6)
    with pytest.raises(ValueError, match="multi-hot"):
        ml.PresentClassesLoss()(np.array([1, 2]), logits)


def test_info_nce_equals_numpy_and_accuracy_counts_strict_wins():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(4, 3, 6)).astype("float32")
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    k, tau = 1, 0.5
    got = float(ml.InfoNCELoss(offset=k, temperature=tau)(np.zeros(4), z))
    total = []
    for t in range(3 - k):
        s = z[:, t] @ z[:, t + k].T / tau
        row = s.diagonal() - np.log(np.exp(s).sum(1))
        col = s.diagonal() - np.log(np.exp(s).sum(0))
        total.append(-(row + col) / 2)
    assert got == pytest.approx(np.mean(total), rel=1e-5)
    same = np.repeat(z[:, :1], 3, axis=1)          # identical steps: all hit
    acc = ml.ContrastiveAccuracy(offset=1)
    acc.update_state(np.zeros(4), same)
    assert float(acc.result()) == 1.0
    tied = np.ones((4, 3, 6), "float32") / np.sqrt(6)   # all equal: misses
    acc.reset_state()
    acc.update_state(np.zeros(4), tied)
    assert float(acc.result()) == 0.0


def test_foreground_iou_is_class_agnostic():
    true = np.array([[[[0, 1, 2, 0]]]])                  # [1, 1, 1, 4]
    logits = np.zeros((1, 1, 1, 4, 3), "float32")
    logits[..., [1, 2, 3], [2, 1, 0]] = 5.0             # pred 0, 2, 1, 0
    metric = ml.ForegroundIoU()
    metric.update_state(true, logits)
    assert float(metric.result()) == pytest.approx(1.0)  # wrong classes
    class_iou = ml.MeanIoU(num_classes=3)
    class_iou.update_state(true, logits)
    assert float(class_iou.result()) == 0.0
