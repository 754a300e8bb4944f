import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests marked `extended` run only with TNN_EXTENDED_TESTS=1 (`make
    test-extended`): end-to-end runs whose parts other tests cover, kept
    out of `make test` to keep CI within its time budget."""
    if os.environ.get("TNN_EXTENDED_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="extended: make test-extended "
                            "(TNN_EXTENDED_TESTS=1) runs it")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
