"""Gin bindings for building models.

Gin files in `gin_configs/` bind `build_model`, whose arguments are those of
`tnn.create_model` (a registered architecture by name, plus cell overrides,
extra feedback edges and presentation). Cell classes (built-in, and those
added with `tnn.register_cell`) are gin configurables, so a binding may
inject a class:

    build_model.name = "rgc_shallow"
    build_model.cells = {"conv4": {"cell": @ConvLSTMCell, "filters": 256}}
    build_model.extra_edges = [("conv5", "conv3")]

Unknown bindings fail (`skip_unknown=False`), as they should.
"""

import gin

from tnn.cells import registry as cell_registry
from tnn.zoo import registry
from tnn.graphs.tnn_graph import TNNGraph
from tnn.search import model as _search_model  # noqa: F401  (registers
# `searched_model`, which the gin files of training.search's best trials bind)


@gin.configurable
def build_model(name=gin.REQUIRED, **overrides):
    """`tnn.create_model(name, **overrides)`, configurable by gin."""
    return registry.create_model(name, **overrides)


cell_registry.register_builtin_gin_cells()
gin.external_configurable(TNNGraph, module="tnn")


def parse_gin(files=(), bindings=()):
    """Parses gin files and bindings; unknown names raise."""
    gin.parse_config_files_and_bindings(list(files), list(bindings),
                                        skip_unknown=False)
