"""The `original_graphs` marker and fixture of the interop tests.

A test that reads the original tnn / convrnns JSON graphs takes the
`original_graphs` fixture (the folder, a `pathlib.Path`); it is marked
`original_graphs` (select or deselect with `-m`) and skipped with a clear
reason where the folder is absent. An explicitly marked test is skipped
alike.
"""

import pytest

from tests.interop import helpers

MARKER = "original_graphs"


def pytest_collection_modifyitems(items):
    for item in items:
        if MARKER in getattr(item, "fixturenames", ()):
            item.add_marker(getattr(pytest.mark, MARKER))


def pytest_runtest_setup(item):
    if item.get_closest_marker(MARKER) and not helpers.GRAPHS.is_dir():
        pytest.skip(helpers.GRAPHS_MISSING)


@pytest.fixture(scope="session")
def original_graphs():
    """The folder of the original JSON graphs (skips if absent)."""
    if not helpers.GRAPHS.is_dir():
        pytest.skip(helpers.GRAPHS_MISSING)
    return helpers.GRAPHS
