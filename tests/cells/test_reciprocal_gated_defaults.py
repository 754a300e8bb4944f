"""`ReciprocalGatedCell` works with its defaults (issue 10, first-hour
traps): only `filters` is required."""

import numpy as np
import pytest

from tnn.cells import ReciprocalGatedCell


def test_defaults_build_a_working_cell():
    cell = ReciprocalGatedCell(filters=4)
    assert cell.cell_depth == 4 and cell.input_to_cell
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 4)).astype(
        "float32")
    states = cell.get_initial_state(2, x.shape)
    for _ in range(2):
        out, states = cell(x, states)
    assert tuple(out.shape) == (2, 6, 6, 4)
    assert np.all(np.isfinite(np.asarray(out)))
    config = cell.get_config()
    assert (config["cell_depth"], config["input_to_cell"]) == (4, True)
    assert ReciprocalGatedCell.from_config(config).cell_depth == 4


def test_explicit_drive_choices_are_kept():
    assert not ReciprocalGatedCell(filters=4,
                                   cell_residual=True).input_to_cell
    assert ReciprocalGatedCell(filters=4, cell_depth=2).cell_depth == 2
    with pytest.raises(ValueError, match="input_to_cell=True"):
        ReciprocalGatedCell(filters=4, input_to_cell=False)
    with pytest.raises(TypeError, match="filters"):
        ReciprocalGatedCell()
