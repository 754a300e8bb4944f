"""Layer-spec shorthands shared by the zoo tables (plain dicts)."""

FF_WEIGHT_DECAY = 1e-4
DROPOUT = {"layer": "dropout", "rate": 0.0}  # keep_prob 1.0 in the zoo
MAX_POOL = {"layer": "max_pool", "pool_size": 2, "strides": 2,
            "padding": "same"}
ELU = {"layer": "elu"}


def conv(filters, kernel_size=3, strides=1, activation=None,
         weight_decay=FF_WEIGHT_DECAY, kernel_scale=1.0, padding="same",
         kernel_initializer=None):
    """The zoo's component_conv / conv: SAME, bias init 0, variance scaling."""
    init = kernel_initializer or {
        "class_name": "VarianceScaling",
        "config": {"scale": kernel_scale, "mode": "fan_in",
                   "distribution": "truncated_normal"}}
    return {"layer": "conv", "filters": filters, "kernel_size": kernel_size,
            "strides": strides, "padding": padding, "activation": activation,
            "kernel_initializer": init, "bias_initializer": 0.0,
            "weight_decay": weight_decay}


def readout_init():
    return {"class_name": "RandomNormal",
            "config": {"mean": 0.0, "stddev": 0.01}}
