"""The 11-layer ("intermediate") zoo backbones, §4.2 and §4.3.

Non-RGC models: every layer from conv2 to conv10 is the ResNet-like unit of
§3.10 (`x = elu(conv(u))`, cell, `conv`, `+ ℛ(u)`, elu); conv4–conv10 carry
the cell. `rgc_intermediate`: a plain backbone with the median reciprocal
gated cell in conv4–conv10 and five long-range feedback edges.
"""

from tnn.cells.median_reciprocal_gated_cell import (
    MEDIAN_GATE, MEDIAN_KERNEL_SCALE, MEDIAN_TAU, MEDIAN_WEIGHT_DECAY)
from tnn.zoo.layers import (
    DROPOUT, ELU, MAX_POOL, XAVIER, conv, readout_init, resnet_unit)

LAYERS = tuple(f"conv{i}" for i in range(1, 11))
CELL_LAYERS = LAYERS[3:]
WIDTHS = dict(zip(LAYERS, (64, 64, 64, 128, 128, 256, 256, 512, 512, 512)))
POOLED = ("conv1", "conv4", "conv6", "conv7", "conv10")
_DECAY = 1e-4


def _cells(cell, **kwargs):
    # No initializer in the zoo JSON: TF1's default, glorot uniform.
    return {layer: {"cell": cell, "filters": WIDTHS[layer],
                    "kernel_initializer": dict(XAVIER), **kwargs}
            for layer in CELL_LAYERS}


CELLS = {
    "timedecay": {layer: {"cell": "TimeDecayCell", "decay_init": 0.0,
                          "learnable": True} for layer in CELL_LAYERS},
    "simplernn": _cells("ConvRNNCell", variant="zoo", kernel_size=3,
                        layer_norm=False, weight_decay=_DECAY,
                        bias_weight_decay=_DECAY),
    "gru": _cells("ConvGRUCell", kernel_size=3, forget_bias=1.0,
                  weight_decay=_DECAY, bias_weight_decay=_DECAY),
    "lstm": _cells("ConvLSTMCell", kernel_size=3, forget_bias=1.0,
                   weight_decay=_DECAY, bias_weight_decay=_DECAY,
                   peephole_initializer=dict(XAVIER)),
    "intersectionrnn": _cells("ConvIntersectionRNNCell", kernel_size=3,
                              forget_bias=1.0, weight_decay=_DECAY,
                              bias_weight_decay=_DECAY),
    "ugrnn": _cells("ConvUGRNNCell", kernel_size=3, forget_bias=1.0,
                    weight_decay=_DECAY, bias_weight_decay=_DECAY),
}

# rgc_intermediate, §4.3: backbone widths and the feedback edges (edges_5).
RGC_WIDTHS = dict(zip(LAYERS, (64, 128, 128, 128, 128, 256, 256, 256, 512,
                               512)))
RGC_POOLED = POOLED
RGC_FEEDBACK = (("conv8", "conv5"), ("conv9", "conv6"), ("conv10", "conv7"),
                ("conv7", "conv6"), ("conv10", "conv9"))

# The median cell of rgc_intermediate in the zoo's own kwargs (the memory
# kwargs of `tnn_median_ReciprocalGateCell`): `median_rgcell_cfg.py` with
# `model_func`'s feedback overrides (identity feedback into "out", 1×1
# plain conv). `MedianReciprocalGatedCell`'s defaults are these values.
MEDIAN_RGC_CONFIG = {
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
    "tau_offset": MEDIAN_TAU, "tau_multiplier": -MEDIAN_TAU,
    "tau_bias": 4.147336708899556, "out_activation": "elu",
    "weight_decay": MEDIAN_WEIGHT_DECAY,
    "kernel_initializer": "variance_scaling",
    "kernel_initializer_kwargs": {"scale": MEDIAN_KERNEL_SCALE},
    "cell_depth": 64, "gate_depth_separable": True, "gate_filter_size": 7.0,
    "gate_offset": MEDIAN_GATE, "gate_multiplier": -MEDIAN_GATE,
    "gate_bias": 2.776542926439013, "cell_activation": "elu"}


def _readout(num_classes):
    return {"name": "imnetds",
            "pre_memory": [{"layer": "global_pool", "kind": "avg"},
                           dict(DROPOUT), {"layer": "flatten"},
                           {"layer": "fc", "units": num_classes,
                            "activation": None, "weight_decay": _DECAY,
                            "bias_weight_decay": _DECAY,
                            "kernel_initializer": readout_init(),
                            "bias_initializer": 1.0}]}


def _chain(nodes, extra_edges=()):
    names = [n["name"] for n in nodes]
    return {"nodes": nodes,
            "edges": list(zip(names[:-1], names[1:])) + list(extra_edges),
            "output": "imnetds", "input_order": "alphabetical"}


def intermediate_spec(cell_type, num_classes=1000,
                      input_shape=(224, 224, 3)):
    """The GraphSpec dict of `<cell_type>_intermediate` (non-RGC)."""
    cells = CELLS[cell_type]
    nodes = [{"name": "conv1", "input_shape": list(input_shape),
              "pre_memory": [conv(64, kernel_size=7, strides=2),
                             dict(DROPOUT)],
              "post_memory": [dict(ELU), dict(MAX_POOL)]}]
    for layer in LAYERS[1:]:
        nodes.append(resnet_unit(layer, WIDTHS[layer], cells.get(layer),
                                 pool=layer in POOLED))
    nodes.append(_readout(num_classes))
    return _chain(nodes)


def rgc_intermediate_cell(layer):
    """The median RGC of §3.8 for one layer (constants are its defaults)."""
    return {"cell": "MedianReciprocalGatedCell",
            "filters": RGC_WIDTHS[layer],
            "kernel_initializer": {
                "class_name": "VarianceScaling",
                "config": {"scale": MEDIAN_KERNEL_SCALE, "mode": "fan_in",
                           "distribution": "truncated_normal"}}}


def rgc_intermediate_spec(num_classes=1000, input_shape=(224, 224, 3)):
    """The GraphSpec dict of `rgc_intermediate` (also `_t22`)."""
    nodes = []
    for layer in LAYERS:
        first = layer == "conv1"
        node = {"name": layer,
                "pre_memory": [conv(RGC_WIDTHS[layer],
                                    kernel_size=7 if first else 3,
                                    strides=2 if first else 1),
                               dict(DROPOUT)]}
        if first:
            node["input_shape"] = list(input_shape)
        if layer in CELL_LAYERS:
            node["cell"] = rgc_intermediate_cell(layer)
            node["post_memory"] = ([dict(MAX_POOL)] if layer in RGC_POOLED
                                   else [])
        else:
            node["post_memory"] = [dict(ELU)] + (
                [dict(MAX_POOL)] if layer in RGC_POOLED else [])
        nodes.append(node)
    nodes.append(_readout(num_classes))
    return _chain(nodes, RGC_FEEDBACK)
