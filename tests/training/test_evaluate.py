"""`training.evaluate`: accuracies per step and per decoder, the CLI."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import top_k_accuracy_score

from training import evaluation, export
from tnn.zoo import small_models
from tnn.tasks.classifier import TemporalClassifier
from training.data import preprocessing

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
STORED_CONFIG = """
make_task.task = @digit_debris_task
digit_debris_task.level = 'light'
digit_debris_task.eval_batch_size = 8
"""


def test_top_k_hits_match_scikit_learn(rng):
    scores = rng.normal(size=(200, 7))
    labels = rng.integers(0, 7, 200)
    for k in (1, 3, 5):
        expected = top_k_accuracy_score(labels, scores, k=k,
                                        labels=np.arange(7))
        assert evaluation.top_k_hits(scores, labels, k).mean() == \
            pytest.approx(expected)
    per_step = rng.normal(size=(50, 4, 7))
    step_labels = rng.integers(0, 7, 50)
    hits = evaluation.top_k_hits(per_step, step_labels, 1)
    assert hits.shape == (50, 4)
    np.testing.assert_array_equal(
        hits, per_step.argmax(-1) == step_labels[:, None])


def test_ties_and_nans_are_misses():
    tied = np.zeros((3, 10))
    assert evaluation.top_k_hits(tied, [0, 1, 2], 5).sum() == 0
    assert evaluation.top_k_hits(tied, [0, 1, 2], 10).sum() == 3
    nan = np.full((2, 4), np.nan)
    assert evaluation.top_k_hits(nan, [0, 1], 4).sum() == 0


def test_report_and_table(rng):
    logits = rng.normal(size=(40, 3, 6))
    labels = rng.integers(0, 6, 40)
    report = evaluation.accuracy_report(
        logits, {"last": logits[:, -1]}, labels)
    assert report["num_examples"] == 40
    assert report["steps"]["top1"] == pytest.approx(
        list((logits.argmax(-1) == labels[:, None]).mean(0)))
    assert report["decoders"]["last"]["top1"] == pytest.approx(
        report["steps"]["top1"][-1])
    assert report["decoders"]["last"]["top5"] == pytest.approx(
        report["steps"]["top5"][-1])
    report.update(times=3, first_image_step=1, task="toy")
    table = evaluation.format_report(report)
    assert "toy: 40 examples, 3 steps" in table
    assert table.splitlines()[-1].startswith("t=2")
    small = evaluation.accuracy_report(logits[..., :3],
                                     {"last": logits[:, -1, :3]}, labels % 3)
    assert set(small["steps"]) == {"top1"}  # top-5 of 3 classes: skipped


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A small SavedModel for 32×32 digit debris with a stored config."""
    keras.utils.set_random_seed(0)
    backbone = small_models.small_convrnn(widths=(4, 4, 4), times=4)
    model = TemporalClassifier(backbone, ("last", "average"))
    folder = tmp_path_factory.mktemp("export")
    export.export_saved_model(
        model, folder, preprocessing.GRAYSCALE_MEAN,
        preprocessing.GRAYSCALE_STD,
        metadata={"task": "digit_debris_light",
                  "operative_config": STORED_CONFIG})
    return folder, model


def test_evaluate_saved_model_matches_the_keras_model(saved_model, rng):
    folder, model = saved_model
    images = rng.normal(size=(10, 32, 32, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 10).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    report = evaluation.evaluate_saved_model(folder, data)
    outputs = model(images)
    expected = evaluation.accuracy_report(
        np.asarray(outputs["steps"]),
        {"last": np.asarray(outputs["last"]),
         "average": np.asarray(outputs["average"])}, labels)
    assert report["num_examples"] == 10
    for k in ("top1", "top5"):
        assert report["steps"][k] == pytest.approx(expected["steps"][k])
        for name in ("last", "average"):
            assert report["decoders"][name][k] == pytest.approx(
                expected["decoders"][name][k])
    served = tf.saved_model.load(str(folder)).signatures[
        "serve_normalized"](images=images)
    np.testing.assert_allclose(served["logits"], outputs["steps"],
                               rtol=1e-4, atol=1e-5)
    assert report["first_image_step"] == 3
    with pytest.raises(ValueError, match="model takes"):
        evaluation.evaluate_saved_model(
            folder, data.map(lambda x, y: (x[:, :16], y)))


def test_missing_saved_model(tmp_path):
    data = tf.data.Dataset.from_tensor_slices(
        (np.zeros((2, 4, 4, 1), np.float32), np.zeros(2, np.int32))).batch(2)
    with pytest.raises(ValueError, match="No SavedModel at"):
        evaluation.evaluate_saved_model(tmp_path / "nothing", data)


def test_cli_on_a_saved_model_path(saved_model, tmp_path):
    folder, _ = saved_model
    output = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "training.evaluate",
         f"--saved_model={folder}", f"--output={output}", "--max_batches=2"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "digit_debris_light: 16 examples, 4 steps" in result.stdout
    report = json.loads(output.read_text())
    assert set(report["decoders"]) == {"last", "average"}
    again = subprocess.run(
        [sys.executable, "-m", "training.evaluate", f"--base_dir={folder}",
         f"--output={tmp_path / 'again.json'}", "--max_batches=1"],
        cwd=REPO, capture_output=True, text=True, timeout=180,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((tmp_path / "again.json").read_text())[
        "num_examples"] == 8
    assert len(report["steps"]["top5"]) == 4
    bad = subprocess.run(
        [sys.executable, "-m", "training.evaluate",
         f"--saved_model={tmp_path}"], cwd=REPO, capture_output=True,
        text=True, timeout=180,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith(
        "training.evaluate: error: No SavedModel at")
