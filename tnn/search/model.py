"""`searched_model`: a search sample as a gin-configurable model function.

The gin files `training.search` exports for its best trials bind it:

    train.model_fn = @searched_model
    searched_model.spec = {"nodes": [...], "edges": [...], ...}
    searched_model.times = 8
    searched_model.image_off = None
"""

import gin

from tnn.graphs.spec import GraphSpec


@gin.configurable
def searched_model(input_shape, num_classes, spec=gin.REQUIRED, times=12,
                   image_off=None, name="searched"):
    """The `TNNGraph` of a GraphSpec dict, for `train.model_fn`.

    Args:
        input_shape: `(H, W, C)`; overrides the spec's input node's.
        num_classes: must equal the spec's readout units (checked by
            `training.train`'s build).
        spec: the `GraphSpec` dict (`GraphSpec.to_dict()`).
        times, image_off: the presentation.
        name: model name.
    """
    from tnn.graphs.tnn_graph import TNNGraph
    del num_classes  # fixed by the spec's readout
    return TNNGraph(GraphSpec.from_dict(spec), input_shape=tuple(input_shape),
                    times=times, image_off=image_off, name=name)
