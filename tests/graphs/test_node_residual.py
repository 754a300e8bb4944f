"""A cell's residual when the pre-memory changes the spatial size.

The original's cells receive `res_input` (the harbor output) at its own
size; their `residual_add(..., sp_resize=True)` resizes it (align-corners
bilinear) and then ALWAYS applies the bias-free 1×1 `residual_add_weights`.
The node does the resize and builds the cell with `residual_resized=True`.
"""

import numpy as np
import pytest

from tests.graphs.helpers import conv
from tnn.graphs import GraphBuildError, TNNGraph
from tnn.graphs.resize import resize_align_corners

RGC = {"cell": "ReciprocalGatedCell", "filters": 4, "cell_depth": 3,
       "input_to_cell": True, "out_residual": True}
MEDIAN = {"cell": "MedianReciprocalGatedCell", "filters": 4}


def one_node(cell, strides):
    spec = {"nodes": [
        {"name": "a", "input_shape": [8, 8, 4],
         "pre_memory": [conv(4, strides=strides)], "cell": cell},
        {"name": "readout", "pre_memory": [{"layer": "global_pool"}]}],
        "edges": [("a", "readout")]}
    return TNNGraph(spec, times=2)


@pytest.mark.parametrize("cell, tf1", [
    (RGC, "ReciprocalGateCell/out/res_add/residual_add_weights"),
    (MEDIAN, "ReciprocalGateCell/out/residual_add_weights")])
def test_resized_residual_is_projected_even_with_equal_channels(cell, tf1,
                                                                rng):
    node = one_node(cell, strides=2).graph_nodes["a"]
    assert node.cell.residual_resized
    kernel = node.cell.residual_kernel
    assert tuple(kernel.shape) == (1, 1, 4, 4)
    assert tf1 in node.cell.tf1_variable_names().values()
    x = rng.standard_normal((2, 8, 8, 4)).astype("float32")
    states = node.cell.get_initial_state(2, (2, 4, 4, 4))
    out, _ = node([x], states)
    # The node hands the cell the residual resized to the cell's 4×4.
    want, _ = node.cell(node.pre_memory[0](x), states,
                        residual=resize_align_corners(x, (4, 4)))
    np.testing.assert_allclose(np.asarray(out), np.asarray(want), rtol=1e-6)


@pytest.mark.parametrize("cell", [RGC, MEDIAN])
def test_same_size_residual_is_unchanged(cell):
    node = one_node(cell, strides=1).graph_nodes["a"]
    assert not node.cell.residual_resized
    assert node.cell.residual_kernel is None       # identity, as before
    assert "residual_resized" not in node.cell.get_config()


def test_rgc_residual_gate_of_another_size_is_refused():
    cell = dict(RGC, residual_to_out_gate=True)
    with pytest.raises(GraphBuildError, match="out_residual alone"):
        one_node(cell, strides=2)


def test_cells_without_resize_support_refuse_a_resized_residual():
    from tnn.cells.efficient_gate_cell import EfficientGateCell
    with pytest.raises(ValueError, match="residual_resized=True is not"):
        EfficientGateCell(filters=4, residual_resized=True)
