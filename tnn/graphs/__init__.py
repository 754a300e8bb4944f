"""Graphs of nodes unrolled in time: specs, harbors, nodes, `TNNGraph`."""

from tnn.graphs.spec import GraphSpec, GraphSpecError, NodeSpec
from tnn.graphs.tnn_graph import GraphBuildError, TNNGraph
from tnn.graphs.from_json import (  # noqa: E402
    TNNJSONError, from_tnn_json, spec_from_tnn_json)

__all__ = ["GraphSpec", "GraphSpecError", "NodeSpec", "TNNGraph",
           "GraphBuildError", "TNNJSONError", "from_tnn_json",
           "spec_from_tnn_json"]
