"""The 6-layer ("shallow") zoo backbone, §4.1: conv1–conv5 + imnetds.

Identical backbone for the seven cell types; conv3–conv5 carry the cell.
Plain layers' decay-0 `memory` is a pass-through and is omitted (so
`count_params()` equals the trainable count of §4.4; a converter ignores the
non-trainable `memory_decay` variables, which are 0).
"""

from tnn.zoo.layers import DROPOUT, MAX_POOL, XAVIER, conv, readout_init

CELL_LAYERS = ("conv3", "conv4", "conv5")
WIDTHS = {"conv1": 64, "conv2": 128, "conv3": 256, "conv4": 256,
          "conv5": 512}
_DECAY = 1e-4


def _scaled(scale):
    return {"class_name": "VarianceScaling",
            "config": {"scale": scale, "mode": "fan_in",
                       "distribution": "truncated_normal"}}


def _same(cell, **kwargs):
    return {layer: {"cell": cell, "filters": WIDTHS[layer], **kwargs}
            for layer in CELL_LAYERS}


# rgc_shallow's Reciprocal Gated Cell settings (§4.1: sigmoid gates, elu,
# input_to_cell, residual_to_out_gate); `tnn.zoo.small_models` uses them too.
RGC_SETTINGS = {
    "tau_filter_size": 3, "gate_filter_size": 3, "ff_filter_size": 3,
    "input_to_cell": True, "residual_to_out_gate": True,
    "tau_offset": 1.0, "tau_multiplier": -1.0, "gate_offset": 1.0,
    "gate_multiplier": -1.0, "tau_nonlinearity": "sigmoid",
    "gate_nonlinearity": "sigmoid", "cell_activation": "elu",
    "out_activation": "elu"}

# convrnns/configs/lstm_shallow.npz, model_params.layer_params[layer]
# ["cell_params"]: out_depth, filter_size, forget_bias, use_peepholes,
# bias_initializer value, kernel_initializer scale, weight_decay.
LSTM_NPZ_CELLS = {
    "conv3": (128, 2, 1.3561755203084322, False, 1.6427688907776656,
              0.7008842622125534, 5.434329000564743e-06),
    "conv4": (256, 3, 0.977962918535079, True, -1.166018906771675,
              1.8314561102978617, 7.612613874483112e-06),
    "conv5": (256, 4, 0.9249280259963113, False, -1.3495015766804237,
              0.8937636886958731, 3.038054940623377e-06),
}
# The npz's model_params.ff_weight_decay and
# ff_kernel_initializer_kwargs["scale"] (the feed-forward convs).
LSTM_NPZ_FF = {"weight_decay": 3.479540054405051e-06,
               "kernel_scale": 1.7261410620368636}

# §4.1 "Cell settings per model"; lstm from `LSTM_NPZ_CELLS`.
CELLS = {
    "timedecay": {layer: {"cell": "TimeDecayCell", "decay_init": 0.0,
                          "learnable": True} for layer in CELL_LAYERS},
    "simplernn": {
        layer: {"cell": "ConvRNNCell", "variant": "zoo", "filters": f,
                "kernel_size": 3, "layer_norm": True,
                "kernel_initializer": dict(XAVIER),
                "weight_decay": _DECAY, "bias_weight_decay": _DECAY}
        for layer, f in zip(CELL_LAYERS, (128, 256, 256))},
    "gru": _same("ConvGRUCell", kernel_size=3, forget_bias=1.0,
                 kernel_initializer=dict(XAVIER), weight_decay=_DECAY,
                 bias_weight_decay=_DECAY),
    "lstm": {
        layer: {"cell": "ConvLSTMCell", "filters": f, "kernel_size": k,
                "forget_bias": fb, "use_peepholes": peep, "layer_norm": True,
                "bias_initializer": b, "weight_decay": wd,
                "bias_weight_decay": wd,
                # The peepholes are created in the kernel initializer's scope.
                "kernel_initializer": _scaled(scale),
                "peephole_initializer": _scaled(scale)}
        for layer, (f, k, fb, peep, b, scale, wd) in LSTM_NPZ_CELLS.items()},
    "intersectionrnn": _same("ConvIntersectionRNNCell", kernel_size=3,
                             forget_bias=1.0, kernel_initializer=dict(XAVIER),
                             weight_decay=_DECAY, bias_weight_decay=_DECAY),
    "ugrnn": _same("ConvUGRNNCell", kernel_size=3, forget_bias=1.0,
                   kernel_initializer=dict(XAVIER), weight_decay=_DECAY,
                   bias_weight_decay=_DECAY),
    "rgc": {
        layer: {"cell": "ReciprocalGatedCell", "filters": WIDTHS[layer],
                "cell_depth": WIDTHS[layer], **RGC_SETTINGS,
                "kernel_initializer": dict(XAVIER), "weight_decay": _DECAY}
        for layer in CELL_LAYERS},
}

# The RGC model applies elu in its cell layers' pre-memory conv; the others
# feed the cells a linear conv (§4.1 "act in conv").
CELL_INPUT_ACTIVATION = {"rgc": "elu"}
# lstm_shallow's npz overrides the feed-forward convs' decay and init scale.
FF_OVERRIDES = {"lstm": LSTM_NPZ_FF}


def shallow_spec(cell_type, num_classes=1000, input_shape=(224, 224, 3)):
    """The GraphSpec dict of `<cell_type>_shallow`."""
    cells = CELLS[cell_type]
    ff = FF_OVERRIDES.get(cell_type, {})
    cell_act = CELL_INPUT_ACTIVATION.get(cell_type)
    nodes = []
    for i, layer in enumerate(("conv1", "conv2") + CELL_LAYERS):
        is_cell = layer in CELL_LAYERS
        first = conv(WIDTHS[layer], kernel_size=7 if i == 0 else 3,
                     strides=2 if i == 0 else 1,
                     activation=cell_act if is_cell else "elu", **ff)
        node = {"name": layer, "pre_memory": [first, dict(DROPOUT)],
                "cell": dict(cells[layer]) if is_cell else None,
                "post_memory": [dict(MAX_POOL)]}
        if i == 0:
            node["input_shape"] = list(input_shape)
        nodes.append(node)
    nodes.append({
        "name": "imnetds",
        "pre_memory": [dict(DROPOUT),
                       conv(num_classes, kernel_size=2, padding="valid",
                            kernel_initializer=readout_init(), **ff)],
        "post_memory": [{"layer": "global_pool", "kind": "avg"},
                        {"layer": "identity"}]})  # tf.identity "output"
    names = [n["name"] for n in nodes]
    return {"nodes": nodes, "edges": list(zip(names[:-1], names[1:])),
            "output": "imnetds", "input_order": "alphabetical"}
