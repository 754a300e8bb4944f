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

# `str_to_cell`: wrapper per cell type (rgc: median cell in 11-layer models).
WRAPPERS = {
    "timedecay": "GenFuncCell",
    "simplernn": "tnn_ConvNormBasicCell",
    "gru": "tnn_ConvGRUCell",
    "lstm": "tnn_ConvLSTMCell",
    "intersectionrnn": "tnn_ConvIntersectionRNNCell",
    "ugrnn": "tnn_ConvUGRNNCell",
    "rgc": "tnn_ReciprocalGateCell",
}
MEDIAN_WRAPPER = "tnn_median_ReciprocalGateCell"
CELL_LAYERS = {6: ("conv3", "conv4", "conv5"),
               11: tuple(f"conv{i}" for i in range(4, 11))}

# `configs/lstm_shallow.npz`, model_params.layer_params[...]["cell_params"].
LSTM_SHALLOW_CELL_PARAMS = {
    layer: {"filter_size": float(size), "weight_decay": decay,
            "forget_bias": forget, "kernel_initializer": "variance_scaling",
            "kernel_initializer_kwargs": {"scale": scale},
            "bias_initializer": "constant",
            "bias_initializer_kwargs": {"value": bias},
            "use_peepholes": peep, "out_depth": depth, "layer_norm": True}
    for layer, size, decay, forget, scale, bias, peep, depth in (
        ("conv3", 2, 5.434329000564743e-06, 1.3561755203084322,
         0.7008842622125534, 1.6427688907776656, False, 128),
        ("conv4", 3, 7.612613874483112e-06, 0.977962918535079,
         1.8314561102978617, -1.166018906771675, True, 256),
        ("conv5", 4, 3.038054940623377e-06, 0.9249280259963113,
         0.8937636886958731, -1.3495015766804237, False, 256))}
# The npz's model_params.ff_weight_decay / ff_kernel_initializer_kwargs.
LSTM_SHALLOW_FF = {"weight_decay": 3.479540054405051e-06,
                   "kernel_init_kwargs": {"scale": 1.7261410620368636}}

# The median cell's settings: `median_rgcell_cfg.py` with the feedback
# overrides of `model_func` (identity feedback into "out", 1×1 plain conv).
MEDIAN_CELL_PARAMS = {
    "tau_depth_separable": True, "tau_filter_size": 7.0,
    "residual_to_out_gate": False, "feedback_activation": "identity",
    "residual_to_cell_gate": False, "out_residual": True,
    "feedback_depth_separable": False, "tau_nonlinearity": "sigmoid",
    "ff_depth_separable": False, "gate_nonlinearity": "tanh",
    "cell_to_out": False, "input_to_cell": True, "cell_residual": False,
    "in_out_depth_separable": False, "layer_norm": False,
    "input_activation": "elu", "ff_filter_size": 2.0,
    "feedback_filter_size": 1, "feedback_entry": "out",
    "input_to_out": True, "in_out_filter_size": 3.0,
    "tau_offset": 0.9219348064291611, "tau_multiplier": -0.9219348064291611,
    "tau_bias": 4.147336708899556, "out_activation": "elu",
    "weight_decay": 0.0002033999204146308,
    "kernel_initializer": "variance_scaling",
    "kernel_initializer_kwargs": {"scale": 0.6393378386273998},
    "cell_depth": 64, "gate_depth_separable": True, "gate_filter_size": 7.0,
    "gate_offset": 0.7006566684988862, "gate_multiplier": -0.7006566684988862,
    "gate_bias": 2.776542926439013, "cell_activation": "elu"}

# `median_rgcell_cfg.edges_5`.
RGC_FEEDBACK_EDGES = (("conv8", "conv5"), ("conv9", "conv6"),
                      ("conv10", "conv7"), ("conv7", "conv6"),
                      ("conv10", "conv9"))


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
                       f"tnn.interop.tf1_checkpoint / tnn.readouts, not by the graph).")
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
        edges = RGC_FEEDBACK_EDGES
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
