"""The 14 architectures of the convrnns model zoo as data tables."""

from tnn.zoo.intermediate import intermediate_spec, rgc_intermediate_spec
from tnn.zoo.shallow import shallow_spec

__all__ = ["shallow_spec", "intermediate_spec", "rgc_intermediate_spec"]
