"""ImageNet through tfds `imagenet2012`, tested on `tfds.testing.mock_data`."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from training.data import imagenet, preprocessing


@pytest.fixture
def manual_dir(tmp_path):
    """A manual_dir holding (empty stand-ins for) both archives."""
    folder = tmp_path / "manual"
    folder.mkdir()
    for archive in imagenet.ARCHIVES.values():
        (folder / archive).write_bytes(b"")
    return folder


def _batches(dataset):
    return [(x.numpy(), y.numpy()) for x, y in dataset]


def test_train_pipeline_on_mocked_imagenet(manual_dir, tmp_path):
    with tfds.testing.mock_data(num_examples=10):
        dataset = imagenet.imagenet_dataset(
            "train", manual_dir=manual_dir, data_dir=tmp_path / "tfds",
            batch_size=4, image_size=32, seed=3)
        batches = _batches(dataset)
        again = _batches(imagenet.imagenet_dataset(
            "train", manual_dir=manual_dir, data_dir=tmp_path / "tfds",
            batch_size=4, image_size=32, seed=3))
    assert [x.shape for x, _ in batches] == [(4, 32, 32, 3)] * 2
    assert all(x.dtype == np.float32 and y.dtype == np.int32
               for x, y in batches)
    labels = np.concatenate([y for _, y in batches])
    assert labels.min() >= 0 and labels.max() < imagenet.NUM_CLASSES
    images = np.concatenate([x for x, _ in batches])
    lo = -np.array(preprocessing.IMAGENET_MEAN) / np.array(
        preprocessing.IMAGENET_STD)
    assert np.all(images >= lo - 1e-4) and images.std() > 0.1
    for (x1, y1), (x2, y2) in zip(batches, again):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_allclose(x1, x2)


def test_validation_pipeline_keeps_order_and_last_batch(manual_dir,
                                                        tmp_path):
    with tfds.testing.mock_data(num_examples=10):
        builder = tfds.builder("imagenet2012", data_dir=tmp_path / "tfds")
        raw = list(builder.as_dataset(
            split="validation", as_supervised=True,
            decoders={"image": tfds.decode.SkipDecoding()}))
        batches = _batches(imagenet.imagenet_dataset(
            "validation", manual_dir=manual_dir, data_dir=tmp_path / "tfds",
            batch_size=4, image_size=(16, 24)))
    assert [x.shape[0] for x, _ in batches] == [4, 4, 2]
    assert batches[0][0].shape[1:] == (16, 24, 3)
    labels = np.concatenate([y for _, y in batches])
    np.testing.assert_array_equal(labels, [int(y) for _, y in raw])
    first = preprocessing.preprocess_for_eval(
        tf.io.decode_jpeg(raw[0][0], channels=3), (16, 24))
    np.testing.assert_allclose(batches[0][0][0], first.numpy(), atol=1e-4)


def test_prepared_dataset_needs_no_manual_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds.core.DatasetBuilder, "is_prepared",
                        lambda self: True)
    with tfds.testing.mock_data(num_examples=3):
        batches = _batches(imagenet.imagenet_dataset(
            "validation[:3]", data_dir=tmp_path, batch_size=3,
            image_size=8))
    assert batches[0][0].shape == (3, 8, 8, 3)


def test_missing_manual_dir_says_where_archives_go(tmp_path):
    with pytest.raises(ValueError) as error:
        imagenet.imagenet_dataset("train", data_dir=tmp_path / "tfds")
    message = str(error.value)
    assert "no manual_dir was given" in message
    assert "ILSVRC2012_img_train.tar" in message
    assert "ILSVRC2012_img_val.tar" in message
    assert "\n" not in message
    with pytest.raises(ValueError, match="does not exist"):
        imagenet.prepare_imagenet(["train"], manual_dir=tmp_path / "nope",
                                  data_dir=tmp_path / "tfds")


def test_empty_manual_dir_names_the_missing_archive(tmp_path):
    empty = tmp_path / "manual"
    empty.mkdir()
    with pytest.raises(ValueError, match="lacks ILSVRC2012_img_val.tar;"):
        imagenet.imagenet_dataset("validation", manual_dir=empty,
                                  data_dir=tmp_path / "tfds")
    (empty / "ILSVRC2012_img_val.tar").write_bytes(b"")
    with pytest.raises(ValueError, match="lacks ILSVRC2012_img_train.tar;"):
        imagenet.check_manual_dir(empty, ["train", "validation"])
    assert imagenet.check_manual_dir(empty, ["validation"]) == str(empty)


def test_split_names_and_bad_arguments(manual_dir, tmp_path):
    assert imagenet.split_names("train[:10%]") == ["train"]
    assert imagenet.split_names("train+validation[:5]") == [
        "train", "validation"]
    with pytest.raises(ValueError, match="Unknown ImageNet split 'test'"):
        imagenet.split_names("test")
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        imagenet.imagenet_dataset("train", manual_dir=manual_dir,
                                  batch_size=0)
    with pytest.raises(ValueError, match="crop_fraction must be in"):
        imagenet.imagenet_dataset("validation", manual_dir=manual_dir,
                                  crop_fraction=0.0)


def test_pipeline_is_prefetched_and_parallel(manual_dir, tmp_path):
    with tfds.testing.mock_data(num_examples=4):
        dataset = imagenet.imagenet_dataset(
            "train", manual_dir=manual_dir, data_dir=tmp_path / "tfds",
            batch_size=2, image_size=8)
    ops_seen = {type(d).__name__.lstrip("_") for d in _upstream(dataset)}
    assert {"PrefetchDataset", "BatchDataset",
            "ParallelMapDataset", "ShuffleDataset"} <= ops_seen


def _upstream(dataset):
    """The chain of dataset objects feeding `dataset`."""
    seen, stack = [], [dataset]
    while stack:
        d = stack.pop()
        seen.append(d)
        stack.extend(getattr(d, "_inputs", lambda: [])())
    return seen
