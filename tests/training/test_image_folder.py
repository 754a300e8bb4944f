"""Class-subfolder image trees, built from a few tiny PNGs in tmp_path."""

import numpy as np
import pytest
import tensorflow as tf

from training.data import image_folder, preprocessing


def _write_png(path, image):
    tf.io.write_file(str(path), tf.io.encode_png(image))


@pytest.fixture
def tree(tmp_path):
    """3 classes (cat, ant, bee) with 2–3 PNGs of mixed size / channels."""
    rng = np.random.default_rng(0)
    root = tmp_path / "images"
    files = {"cat": [(20, 30, 3), (25, 25, 3), (18, 22, 1)],
             "ant": [(16, 16, 3), (30, 20, 3)],
             "bee": [(24, 24, 1), (21, 27, 3)]}
    for name, shapes in files.items():
        (root / name).mkdir(parents=True)
        for i, shape in enumerate(shapes):
            image = rng.integers(0, 256, shape, dtype=np.uint8)
            _write_png(root / name / f"img{i}.png", image)
    (root / "ant" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return root


def test_listing_sorts_classes_and_skips_non_images(tree):
    paths, labels, classes = image_folder.list_image_folder(tree)
    assert classes == ["ant", "bee", "cat"]
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 2, 2])
    assert all(p.endswith(".png") for p in paths)


def test_eval_pipeline_matches_preprocessing(tree):
    dataset, classes = image_folder.image_folder_dataset(
        tree, training=False, batch_size=4, image_size=12)
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    assert [x.shape for x, _ in batches] == [(4, 12, 12, 3), (3, 12, 12, 3)]
    np.testing.assert_array_equal(
        np.concatenate([y for _, y in batches]), [0, 0, 1, 1, 2, 2, 2])
    paths, _, _ = image_folder.list_image_folder(tree)
    grayscale = tf.io.decode_png(tf.io.read_file(paths[2]))  # bee/img0
    assert grayscale.shape[-1] == 1
    expected = preprocessing.preprocess_for_eval(
        tf.image.grayscale_to_rgb(grayscale), 12)
    np.testing.assert_allclose(batches[0][0][2], expected.numpy(),
                               atol=1e-5)


def test_train_pipeline_is_seeded_and_shuffled(tree):
    def run(seed):
        dataset, _ = image_folder.image_folder_dataset(
            tree, training=True, batch_size=3, image_size=(8, 10), seed=seed)
        return [(x.numpy(), y.numpy()) for x, y in dataset]

    first, again, other = run(1), run(1), run(2)
    assert [x.shape for x, _ in first] == [(3, 8, 10, 3)] * 2  # drop rest
    for (x1, y1), (x2, y2) in zip(first, again):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_allclose(x1, x2)
    assert any(not np.allclose(a[0], b[0]) for a, b in zip(first, other))


def test_grayscale_output(tree):
    dataset, _ = image_folder.image_folder_dataset(
        tree, batch_size=7, image_size=6, channels=1, normalized=False)
    x, _ = next(iter(dataset))
    assert x.shape == (7, 6, 6, 1)
    assert 0.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0


def test_empty_and_single_class_folders(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        image_folder.list_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="has no class subfolders"):
        image_folder.image_folder_dataset(tmp_path)
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match=r"class folder\(s\) \['only'\] "
                       "hold no images"):
        image_folder.list_image_folder(tmp_path)
    _write_png(tmp_path / "only" / "a.png", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match=r"has a single class \('only'\)"):
        image_folder.image_folder_dataset(tmp_path)


def test_bad_arguments(tree):
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        image_folder.image_folder_dataset(tree, channels=4)
    with pytest.raises(ValueError, match="batch_size must be a positive"):
        image_folder.image_folder_dataset(tree, batch_size=-1)
    with pytest.raises(ValueError, match="ratio must satisfy"):
        image_folder.image_folder_dataset(tree, ratio=(2.0, 1.0))
