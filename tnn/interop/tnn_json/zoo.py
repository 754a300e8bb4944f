"""What convrnns' `model_func` does to a zoo JSON file in Python.

The zoo JSON files leave the cell class open: `model_func` picks the wrapper
from the model name (`str_to_cell`), overrides memory kwargs per layer
(`configs/lstm_shallow.npz` for `lstm_shallow`, `median_rgcell_cfg.py` plus
its own feedback settings for `rgc_intermediate*`) and adds the five
feedback edges of `rgc_intermediate*`. `zoo_settings(name)` returns these
overrides for a registered zoo model.

One addition to `model_func`: for `lstm_shallow` the npz's feed-forward
settings (`ff_weight_decay`, `ff_kernel_initializer_kwargs`) are applied to
the feed-forward convs too, as `tnn.zoo.shallow` does (they govern training,
not outputs; `model_func`, which only evaluates, ignores them).
"""

import dataclasses

from tnn.interop.tnn_json import common as jc
from tnn.zoo import intermediate, shallow

# `str_to_cell`: wrapper per cell type (rgc: median cell in 11-layer models).
WRAPPERS = {
    "timedecay": "GenFuncCell",
    "simplernn": "tnn_ConvNormBasicCell",
    "gru": "convrnns.utils.cells.tnn_ConvGRUCell",
    "lstm": "tnn_ConvLSTMCell",
    "intersectionrnn": "tnn_ConvIntersectionRNNCell",
    "ugrnn": "tnn_ConvUGRNNCell",
    "rgc": "tnn_ReciprocalGateCell",
}
MEDIAN_WRAPPER = "tnn_median_ReciprocalGateCell"
CELL_LAYERS = {6: shallow.CELL_LAYERS, 11: intermediate.CELL_LAYERS}

# `configs/lstm_shallow.npz`, model_params.layer_params[...]["cell_params"]
# (the values are `tnn.zoo.shallow.LSTM_NPZ_CELLS`).
LSTM_SHALLOW_CELL_PARAMS = {
    layer: {"filter_size": float(size), "weight_decay": decay,
            "forget_bias": forget, "kernel_initializer": "variance_scaling",
            "kernel_initializer_kwargs": {"scale": scale},
            "bias_initializer": "constant",
            "bias_initializer_kwargs": {"value": bias},
            "use_peepholes": peep, "out_depth": depth, "layer_norm": True}
    for layer, (depth, size, forget, peep, bias, scale, decay)
    in shallow.LSTM_NPZ_CELLS.items()}
# The npz's model_params.ff_weight_decay / ff_kernel_initializer_kwargs.
LSTM_SHALLOW_FF = {
    "weight_decay": shallow.LSTM_NPZ_FF["weight_decay"],
    "kernel_init_kwargs": {"scale": shallow.LSTM_NPZ_FF["kernel_scale"]}}

# The median cell's settings: `median_rgcell_cfg.py` with the feedback
# overrides of `model_func` (`tnn.zoo.intermediate.MEDIAN_RGC_CONFIG`).
MEDIAN_CELL_PARAMS = intermediate.MEDIAN_RGC_CONFIG


@dataclasses.dataclass
class ZooSettings:
    """The Python-side settings of one zoo model.

    Args:
        wrappers: {node: wrapper name} for the cell layers.
        layer_params: {node: {"cell_params": {...}}} memory overrides.
        extra_edges: feedback edges added after loading.
        ff_overrides: kwargs merged into every feed-forward conv / fc.
        times, image_off: the registered default presentation.
    """

    wrappers: dict
    layer_params: dict
    extra_edges: tuple
    ff_overrides: dict
    times: int
    image_off: object


def zoo_model_names():
    """Registered zoo models `<cell>_<shallow|intermediate>[_tNN]`."""
    from tnn.zoo import registry  # late: tnn.zoo.registry imports tnn.graphs
    return [n for n in registry.list_models()
            if n.split("_")[0] in WRAPPERS
            and n.split("_")[1] in ("shallow", "intermediate")]


def zoo_settings(name, num_nodes, where):
    """`ZooSettings` of the registered zoo model `name` for a JSON graph
    with `num_nodes` nodes (6 shallow, 11 intermediate)."""
    names = zoo_model_names()
    if name not in names:
        jc.fail(where, f"unknown zoo_model {name!r}; zoo models are "
                       f"{names} (decoders such as _tmaxconf are added by "
                       f"tnn.interop.tf1_checkpoint / tnn.readouts, not by "
                       f"the graph).")
    cell_type, depth = name.split("_")[:2]
    layers = 6 if depth == "shallow" else 11
    if num_nodes != layers:
        jc.fail(where, f"zoo_model {name!r} is a {layers}-node "
                       f"architecture but the JSON graph has {num_nodes} "
                       f"nodes; pick the zoo model of this file.")
    wrapper = WRAPPERS[cell_type]
    if cell_type == "rgc" and layers == 11:
        wrapper = MEDIAN_WRAPPER
    cell_layers = CELL_LAYERS[layers]
    layer_params, ff, edges = {}, {}, ()
    if wrapper == MEDIAN_WRAPPER:
        layer_params = {n: {"cell_params": dict(MEDIAN_CELL_PARAMS)}
                        for n in cell_layers}
        edges = intermediate.RGC_FEEDBACK  # median_rgcell_cfg.edges_5
    elif name == "lstm_shallow":
        layer_params = {n: {"cell_params": dict(p)}
                        for n, p in LSTM_SHALLOW_CELL_PARAMS.items()}
        ff = dict(LSTM_SHALLOW_FF)
    from tnn.zoo import registry
    entry = registry.get_entry(name)
    return ZooSettings(
        wrappers={n: wrapper for n in cell_layers}, layer_params=layer_params,
        extra_edges=tuple(edges), ff_overrides=ff, times=entry.times,
        image_off=entry.image_off)


def apply_ff_overrides(op, overrides):
    """Applies `ff_overrides` to one JSON op (component_conv / conv / fc)."""
    if not overrides or op.get("function") not in ("component_conv", "conv",
                                                   "fc"):
        return op
    op = dict(op)
    if "weight_decay" in overrides:
        op["weight_decay"] = overrides["weight_decay"]
    if op.get("kernel_init") == "variance_scaling":
        op["kernel_init_kwargs"] = dict(op.get("kernel_init_kwargs") or {},
                                        **overrides["kernel_init_kwargs"])
    return op
