"""The original tnn / convrnns JSON graph files as `GraphSpec`s.

    from tnn.interop.tnn_json import from_tnn_json
    model = from_tnn_json("convrnns_rgc_intermediate.json",
                          zoo_model="rgc_intermediate")
"""

from tnn.interop.tnn_json.importer import (
    TNNJSONError, from_tnn_json, spec_from_tnn_json)

__all__ = ["TNNJSONError", "from_tnn_json", "spec_from_tnn_json"]
