"""`training.evaluate --model_file`: a saved TNNGraph (a converted zoo
model) on an image folder or on ImageNet (tfds mock data)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import tnn
from training import evaluate, evaluation
from training.data import imagenet, preprocessing


def _main(*argv):
    return evaluate.main(evaluate.parser().parse_args(list(argv)))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A converted-like model: a zoo architecture at a small size, saved
    with `model.save`, plus a decoder model like convert_tf1's."""
    folder = tmp_path_factory.mktemp("model")
    keras.utils.set_random_seed(0)
    model = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3),
                             num_classes=1000, times=7)
    path = str(folder / "tiny.keras")
    model.save(path)
    decoder = keras.Sequential(
        [keras.Input((7, 1000)),
         tnn.readouts.get_decoder("max_conf", start=5)], name="max_conf")
    decoder.save(str(folder / "tiny.decoder.keras"))
    return path, model


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(1)
    for synset in ("n01440764", "n15075141"):
        (root / synset).mkdir()
        for i in range(3):
            pixels = rng.integers(0, 256, (90, 110, 3)).astype(np.uint8)
            tf.io.write_file(str(root / synset / f"{i}.png"),
                             tf.io.encode_png(pixels))
    return root


def test_image_folder_report_matches_the_documented_preprocessing(
        model_file, image_folder, tmp_path, capsys):
    path, model = model_file
    output = tmp_path / "report.json"
    _main(f"--model_file={path}", f"--image_folder={image_folder}",
          "--batch_size=4", f"--output={output}")
    report = json.loads(output.read_text())
    assert report["num_examples"] == 6 and report["times"] == 7
    assert set(report["decoders"]) == {"last", "max_conf"}
    assert report["decoder_file"].endswith("tiny.decoder.keras")
    assert len(report["steps"]["top1"]) == len(report["steps"]["top5"]) == 7
    assert report["first_image_step"] == 5
    # By hand: decode, [0, 1], resize 256/224 + centre crop, normalise;
    # synset folders map to their ImageNet index (0 and 999).
    files = sorted(image_folder.glob("*/*.png"))
    images = np.stack([preprocessing.preprocess_for_eval(
        tf.io.decode_png(tf.io.read_file(str(f))), 72).numpy()
        for f in files])
    labels = np.array([0] * 3 + [999] * 3)
    logits = np.asarray(model.predict_on_batch(images))
    expected = evaluation.accuracy_report(
        logits, {"last": logits[:, -1]}, labels)
    for k in ("top1", "top5"):
        assert report["steps"][k] == pytest.approx(expected["steps"][k])
        assert report["decoders"]["last"][k] == pytest.approx(
            expected["decoders"]["last"][k])
    assert "image_folder: 6 examples, 7 steps" in capsys.readouterr().out


def test_mocked_imagenet_validation(model_file, tmp_path):
    path, _ = model_file
    manual = tmp_path / "manual"
    manual.mkdir()
    for archive in imagenet.ARCHIVES.values():
        (manual / archive).write_bytes(b"")
    output = tmp_path / "imagenet.json"
    with tfds.testing.mock_data(num_examples=6):
        _main(f"--model_file={path}", f"--imagenet_dir={manual}",
              f"--tfds_data_dir={tmp_path / 'tfds'}", "--batch_size=4",
              "--decoder_file=", f"--output={output}")
    report = json.loads(output.read_text())
    assert report["task"] == "imagenet2012 validation"
    assert report["num_examples"] == 6
    assert set(report["decoders"]["last"]) == {"top1", "top5"}
    assert set(report["decoders"]) == {"last", "max_conf"}


def test_bad_flags_name_the_flag(model_file, image_folder, tmp_path):
    path, _ = model_file
    cases = [
        ([f"--model_file={path}"], "--model_file needs the images"),
        ([f"--model_file={path}", f"--image_folder={image_folder}",
          f"--imagenet_dir={tmp_path}"], "not both"),
        ([f"--model_file={path}", f"--base_dir={tmp_path}",
          f"--image_folder={image_folder}"], "--model_file or --base_dir"),
        ([f"--model_file={tmp_path / 'none.keras'}",
          f"--image_folder={image_folder}"], "--model_file .* does not "
                                             "exist"),
        ([f"--model_file={path}", f"--image_folder={image_folder}",
          f"--decoder_file={path}"], "--decoder_file .*not a decoder"),
    ]
    for argv, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            _main(*argv)
    small = tnn.create_model("timedecay_shallow", input_shape=(72, 72, 3),
                             num_classes=3, times=6)
    small.save(str(tmp_path / "three.keras"))
    with pytest.raises(ValueError, match="has 2 class subfolders but the "
                                         "model has 3 outputs"):
        _main(f"--model_file={tmp_path / 'three.keras'}",
              f"--image_folder={image_folder}")
