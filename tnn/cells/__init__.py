"""Local recurrent circuits ("cells") of the original TNN / convrnns code.

Every cell is a Keras layer stepping once per call:
`output, new_states = cell(inputs, states, training=None)`.
`CELLS` names them for graph specs, gin and the JSON importer; built-in
classes load on first use, and `register_cell` adds user-defined cells:

    @tnn.register_cell
    class LeakyCell(tnn.cells.RecurrentCell):
        ...

    tnn.create_model("rgc_shallow", cells={"conv4": {"cell": "LeakyCell"}})
"""

from tnn.cells.base import RecurrentCell
from tnn.cells.layer_norm import TNNLayerNorm
from tnn.cells.registry import (CELLS, cell_name, get_cell_class,
                                list_cells, register_cell)

__all__ = ["RecurrentCell", "TNNLayerNorm", "CELLS", "cell_name",
           "get_cell_class", "list_cells", "register_cell"]


def __getattr__(name):
    if name in CELLS:
        return get_cell_class(name)
    raise AttributeError(f"module 'tnn.cells' has no attribute {name!r}")
