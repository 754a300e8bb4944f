"""Graphs of nodes unrolled in time: specs, harbors, nodes, `TNNGraph`."""

from tnn.graphs.spec import GraphSpec, GraphSpecError, NodeSpec
from tnn.graphs.tnn_graph import GraphBuildError, TNNGraph

__all__ = ["GraphSpec", "GraphSpecError", "NodeSpec", "TNNGraph",
           "GraphBuildError"]
