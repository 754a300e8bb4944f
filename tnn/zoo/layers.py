"""Layer-spec shorthands shared by the zoo tables (plain dicts)."""

FF_WEIGHT_DECAY = 1e-4
DROPOUT = {"layer": "dropout", "rate": 0.0}  # keep_prob 1.0 in the zoo
MAX_POOL = {"layer": "max_pool", "pool_size": 2, "strides": 2,
            "padding": "same"}
ELU = {"layer": "elu"}
# TF1's get_variable default (glorot uniform): the cells' kernel init when
# the zoo JSON gives none, and residual_add's projection init.
XAVIER = {"class_name": "GlorotUniform", "config": {}}


def conv(filters, kernel_size=3, strides=1, activation=None,
         weight_decay=FF_WEIGHT_DECAY, kernel_scale=1.0, padding="same",
         kernel_initializer=None):
    """The zoo's component_conv / conv: SAME, bias init 0, variance scaling,
    `weight_decay` on the kernel and the bias (as the original)."""
    init = kernel_initializer or {
        "class_name": "VarianceScaling",
        "config": {"scale": kernel_scale, "mode": "fan_in",
                   "distribution": "truncated_normal"}}
    return {"layer": "conv", "filters": filters, "kernel_size": kernel_size,
            "strides": strides, "padding": padding, "activation": activation,
            "kernel_initializer": init, "bias_initializer": 0.0,
            "weight_decay": weight_decay, "bias_weight_decay": weight_decay}


def readout_init():
    return {"class_name": "RandomNormal",
            "config": {"mean": 0.0, "stddev": 0.01}}


def resnet_unit(name, width, cell=None, pool=False,
                weight_decay=FF_WEIGHT_DECAY):
    """A node wrapped in the ResNet-like unit of §3.10 (a node spec dict).

        x   = elu(W_a * u + b_a)        pre-memory 3×3 conv (u: harbor input)
        y   = cell(x, state)            (pass-through when `cell` is None)
        z   = W_b * y + b_b             post-memory 3×3 conv, no activation
        out = elu(z + ℛ(u))  [→ 2×2 max-pool]

    ℛ is the identity, or a bias-free 1×1 projection when the channel
    count changes. The cell thus sits in a residual branch: a bypass around
    any cell, which every non-RGC intermediate zoo model has.
    """
    post = [conv(width, weight_decay=weight_decay),
            # The original residual_add: xavier init, no weight decay.
            {"layer": "residual_add", "kernel_initializer": dict(XAVIER)},
            dict(ELU)]
    if pool:
        post.append(dict(MAX_POOL))
    return {"name": name,
            "pre_memory": [conv(width, activation="elu",
                                weight_decay=weight_decay), dict(DROPOUT)],
            "cell": dict(cell) if cell is not None else None,
            "post_memory": post}
