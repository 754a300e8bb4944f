"""Local recurrent circuits ("cells") of the original TNN / convrnns code.

Every cell is a Keras layer stepping once per call:
`output, new_states = cell(inputs, states, training=None)`.
`CELLS` names them for graph specs and gin; classes load on first use.
"""

import importlib

from tnn.cells.base import RecurrentCell
from tnn.cells.layer_norm import TNNLayerNorm

__all__ = ["RecurrentCell", "TNNLayerNorm", "CELLS", "get_cell_class",
           "list_cells"]

# name -> module defining it (one public cell per module).
CELLS = {
    "TimeDecayCell": "tnn.cells.time_decay_cell",
    "ConvRNNCell": "tnn.cells.conv_rnn_cell",
    "ConvGRUCell": "tnn.cells.conv_gru_cell",
    "ConvLSTMCell": "tnn.cells.conv_lstm_cell",
    "ConvUGRNNCell": "tnn.cells.conv_ugrnn_cell",
    "ConvIntersectionRNNCell": "tnn.cells.conv_intersection_rnn_cell",
    "ReciprocalGatedCell": "tnn.cells.reciprocal_gated_cell",
    "MedianReciprocalGatedCell": "tnn.cells.median_reciprocal_gated_cell",
    "EfficientGateCell": "tnn.cells.efficient_gate_cell",
}


def get_cell_class(cell):
    """Resolves a cell name from `CELLS` (a RecurrentCell class passes)."""
    if isinstance(cell, type) and issubclass(cell, RecurrentCell):
        return cell
    if cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}; available cells are "
                         f"{sorted(CELLS)}.")
    module = importlib.import_module(CELLS[cell])
    return getattr(module, cell)


def list_cells():
    return sorted(CELLS)


def __getattr__(name):
    if name in CELLS:
        return get_cell_class(name)
    raise AttributeError(f"module 'tnn.cells' has no attribute {name!r}")
