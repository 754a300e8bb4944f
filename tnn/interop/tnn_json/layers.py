"""Pre- and post-memory functions of the original JSON graphs → layer specs.

The original resolved a JSON "function" name by trying its cell module,
`model_tool`/`tfutils.model`, `tf.nn`, `tf` and `tf.contrib.layers` in turn
(§1.1). Here an explicit table, `LAYER_FUNCTIONS`, maps every supported name
to a translator that checks the arguments against the original function's
signature and returns layer specs of `tnn.graphs.layers`:

    component_conv, conv   → "conv" (+ a Keras BatchNormalization and an
                             activation when `batch_norm` is set; `conv`'s
                             own `dropout` (a keep probability) → "dropout")
    fc                     → "fc" (same extras)
    residual_add           → "residual_add" (xavier 1×1 projection, no decay)
    elu, relu, relu6, selu, softplus, sigmoid, tanh, swish → activations
    max_pool, avg_pool     → pools; dropout (keep_prob → rate); flatten;
    global_pool; identity; lrn / local_response_normalization

One JSON op gives one layer spec, so `pre_<i>` / `post_<i>` keep the TF1
scope indices, except when an op expands (a conv / fc with `batch_norm` or
its own `dropout`; no zoo graph has such ops). The layers an op adds to its
conv / fc are Keras-serialized dicts named after the op:
`<pre|post>_<op>_dropout`, `<pre|post>_<op>_post_conv_BN` (the TF1 scope of
its variables, `.../pre_<op>/post_conv_BN/{gamma,beta,moving_mean,
moving_variance}`) and `<pre|post>_<op>_<activation>`, so the checkpoint
converter (`tnn.interop.tf1_checkpoint.names`) knows which original op
every layer came from.

Deviations: batch norm uses the convrnns defaults (decay 0.9, epsilon 1e-5;
tnn's own component_conv defaulted to 0.999 / 1e-3: give
`batch_norm_decay` / `batch_norm_epsilon` in the file to match it) and
Keras' training flag (the original's `is_training` defaulted to False, i.e.
moving statistics even while training). The original's one
`weight_decay` of conv / fc / component_conv decays kernel and bias: it
becomes `weight_decay` and `bias_weight_decay` of the layer spec.
"""

from tnn.interop.tnn_json import common as jc

_BN_ARGS = {"is_training": False, "batch_norm_decay": 0.9,
            "batch_norm_epsilon": 1e-5, "init_zero": None,
            "bn_trainable": True}
_UNSUPPORTED = {"data_format": ["channels_last"], "group_norm": [False],
                "time_sep": [False], "time_suffix": [None],
                "crossdevice_bn_kwargs": [{}]}


class OpContext:
    """Where an op sits, and what earlier ops of the node established.

    Args:
        node: node name.
        position: "pre_memory" or "post_memory".
        label: file label for messages.
    """

    def __init__(self, node, position, label):
        self.node = node
        self.position = position
        self.label = label
        self.index = 0          # index of the JSON op
        self.function = None
        self.return_input = False
        self.out_depth = None   # first pre-memory `out_depth` (GenFuncCell)

    @property
    def where(self):
        return (f"{self.label}: node {self.node!r} {self.position}"
                f"[{self.index}] ({self.function})")


def _weight_decay(value, where):
    value = jc.number(value, where, "weight_decay", allow_none=True)
    return None if not value else value


def _decays(value, where):
    """The original conv / fc decay kernel and bias with one scale."""
    decay = _weight_decay(value, where)
    return {"weight_decay": decay, "bias_weight_decay": decay}


def _bias_value(value, where):
    return jc.number(value, where, "bias")


def _extra_name(ctx, role):
    """Keras name of a layer op `ctx.index` adds to its conv / fc."""
    return f"{ctx.position[:-7]}_{ctx.index}_{role}"


def _extra_activation(name, ctx):
    return {"class_name": "Activation", "module": "keras.layers",
            "config": {"name": _extra_name(ctx, name), "activation": name}}


def _extra_dropout(keep_prob, ctx):
    rate = _dropout_spec(keep_prob, ctx.where)["rate"]
    return {"class_name": "Dropout", "module": "keras.layers",
            "config": {"name": _extra_name(ctx, "dropout"), "rate": rate}}


def _batch_norm_spec(kw, activation, ctx, gamma_init=None):
    """Keras BatchNormalization as the original's `batchnorm_corr`: gamma
    starts at zero when the conv has no activation (`init_zero`)."""
    if gamma_init is None:
        init_zero = kw["init_zero"]
        if init_zero is None:
            init_zero = activation is None
        gamma = {"class_name": "Zeros" if init_zero else "Ones",
                 "config": {}}
    else:
        gamma = {"class_name": "Constant",
                 "config": {"value": jc.number(gamma_init, ctx.where,
                                               "batch_norm_gamma_init")}}
    return {"class_name": "BatchNormalization", "module": "keras.layers",
            "config": {"name": _extra_name(ctx, "post_conv_BN"),
                       "momentum": jc.number(kw["batch_norm_decay"],
                                             ctx.where, "batch_norm_decay"),
                       "epsilon": jc.number(kw["batch_norm_epsilon"],
                                            ctx.where, "batch_norm_epsilon"),
                       "gamma_initializer": gamma}}


def _activation_spec(name):
    if name in ("elu", "relu", "tanh", "sigmoid"):
        return {"layer": name}
    return {"layer": "activation", "activation": name}


def _dropout_spec(keep_prob, where):
    keep = jc.number(keep_prob, where, "keep_prob")
    if not 0.0 < keep <= 1.0:
        jc.fail(where, f"keep_prob must be in (0, 1], got {keep_prob!r}.")
    return {"layer": "dropout", "rate": 1.0 - keep}


def _weighted(kw, ctx, make, keep_bias_with_bn):
    """The shared tail of conv / fc: dropout before, BN and activation after
    (`make(activation, use_bias)` builds the weighted layer spec)."""
    where = ctx.where
    act = jc.activation(kw["activation"], where)
    use_bias = jc.boolean(kw["use_bias"], where, "use_bias")
    specs = []
    if kw.get("dropout") is not None:
        specs.append(_extra_dropout(kw["dropout"], ctx))
    if not jc.boolean(kw["batch_norm"], where, "batch_norm"):
        specs.append(make(act, use_bias))
        return specs
    if ctx.function == "fc":
        # model_tool.fc: activation first, then batch norm (no bias).
        specs.append(make(act, False))
        specs.append(_batch_norm_spec(kw, act, ctx))
        return specs
    specs.append(make(None, use_bias and keep_bias_with_bn))
    specs.append(_batch_norm_spec(kw, act, ctx,
                                  kw.get("batch_norm_gamma_init")))
    if act is not None:
        specs.append(_extra_activation(act, ctx))
    return specs


def _conv_spec(kw, ctx, act, use_bias):
    where = ctx.where
    init = jc.initializer(kw["kernel_init"], kw["kernel_init_kwargs"], where)
    spec = {"layer": "conv",
            "filters": jc.positive_int(kw["out_depth"], where, "out_depth"),
            "kernel_size": jc.ksize(kw["ksize"], where),
            "strides": jc.window4(kw["strides"], where, "strides"),
            "padding": jc.padding(kw["padding"], where),
            "activation": act, "kernel_initializer": init,
            "bias_initializer": _bias_value(kw["bias"], where),
            **_decays(kw["weight_decay"], where)}
    if not use_bias:
        spec["use_bias"] = False
    return spec


def component_conv(kwargs, ctx):
    defaults = {"input_name": None, "ksize": [3, 3],
                "strides": [1, 1, 1, 1], "padding": "SAME",
                "kernel_init": "xavier", "kernel_init_kwargs": None,
                "use_bias": True, "bias": 0, "weight_decay": None,
                "activation": None, "batch_norm": False, "num_groups": 32,
                "return_input": False, "name": "component_conv", **_BN_ARGS}
    kw = jc.check_kwargs(kwargs, defaults, ctx.where, _UNSUPPORTED,
                         required=("out_depth", "input_name"))
    if not isinstance(kw["input_name"], str):
        jc.fail(ctx.where, f"input_name must be the name of the feed-forward "
                           f"input (a string), got {kw['input_name']!r}.")
    if jc.boolean(kw["return_input"], ctx.where, "return_input"):
        if ctx.position != "pre_memory":
            jc.fail(ctx.where, "return_input is meaningful in pre_memory "
                               "only.")
        ctx.return_input = True
    # The original component_conv keeps its bias under batch norm.
    return _weighted(kw, ctx, lambda act, bias: _conv_spec(kw, ctx, act,
                                                           bias), True)


def conv(kwargs, ctx):
    defaults = {"ksize": [3, 3], "strides": [1, 1, 1, 1], "padding": "SAME",
                "kernel_init": "xavier", "kernel_init_kwargs": None,
                "use_bias": True, "bias": 0, "weight_decay": None,
                "activation": "relu", "batch_norm": False, "num_groups": 32,
                "batch_norm_gamma_init": None, "dropout": None,
                "dropout_seed": 0, "name": "conv", **_BN_ARGS}
    kw = jc.check_kwargs(kwargs, defaults, ctx.where, _UNSUPPORTED,
                         required=("out_depth",))
    return _weighted(kw, ctx, lambda act, bias: _conv_spec(kw, ctx, act,
                                                           bias), False)


def fc(kwargs, ctx):
    defaults = {"kernel_init": "xavier", "kernel_init_kwargs": None,
                "use_bias": True, "bias": 1, "weight_decay": None,
                "activation": "relu", "batch_norm": False, "dropout": None,
                "dropout_seed": 0, "name": "fc", **_BN_ARGS}
    fixed = {k: v for k, v in _UNSUPPORTED.items()
             if k in ("time_sep", "time_suffix", "crossdevice_bn_kwargs")}
    kw = jc.check_kwargs(kwargs, defaults, ctx.where, fixed,
                         required=("out_depth",))
    where = ctx.where

    def make(act, use_bias):
        spec = {"layer": "fc",
                "units": jc.positive_int(kw["out_depth"], where, "out_depth"),
                "activation": act,
                "kernel_initializer": jc.initializer(
                    kw["kernel_init"], kw["kernel_init_kwargs"], where),
                "bias_initializer": _bias_value(kw["bias"], where),
                **_decays(kw["weight_decay"], where)}
        if not use_bias:
            spec["use_bias"] = False
        return spec

    return _weighted(kw, ctx, make, False)


def residual_add(kwargs, ctx):
    defaults = {"dtype": "float32", "drop_connect_rate": None,
                "kernel_init": "xavier", "kernel_init_kwargs": None,
                "is_training": False, "init_zero": None,
                "batch_norm_decay": 0.9, "batch_norm_epsilon": 1e-5,
                "num_groups": 32, "bn_trainable": True}
    fixed = dict(_UNSUPPORTED, strides=[[1, 1, 1, 1]], padding=["SAME"],
                 batch_norm=[False], sp_resize=[True],
                 drop_connect_rate=[None, 1.0])
    fixed.pop("data_format")
    kw = jc.check_kwargs(kwargs, defaults, ctx.where, fixed)
    if ctx.position != "post_memory":
        jc.fail(ctx.where, "residual_add is a post-memory op (it adds the "
                           "input returned by the pre-memory conv).")
    if not ctx.return_input:
        jc.fail(ctx.where, "residual_add needs a pre-memory component_conv "
                           "with return_input: true (the original has no "
                           "residual otherwise).")
    return [{"layer": "residual_add",
             "kernel_initializer": jc.initializer(
                 kw["kernel_init"], kw["kernel_init_kwargs"], ctx.where)}]


def _activation_fn(name):
    def translate(kwargs, ctx):
        jc.check_kwargs(kwargs, {"name": None}, ctx.where)
        return [_activation_spec(name)]
    return translate


def _pool(layer):
    def translate(kwargs, ctx):
        kw = jc.check_kwargs(kwargs, {"name": None}, ctx.where,
                             {"data_format": ["NHWC"]},
                             required=("ksize", "strides", "padding"))
        return [{"layer": layer,
                 "pool_size": jc.window4(kw["ksize"], ctx.where, "ksize"),
                 "strides": jc.window4(kw["strides"], ctx.where, "strides"),
                 "padding": jc.padding(kw["padding"], ctx.where)}]
    return translate


def dropout(kwargs, ctx):
    kw = jc.check_kwargs(kwargs, {"keep_prob": None, "rate": None,
                                  "seed": None, "name": None},
                         ctx.where, {"noise_shape": [None]})
    if (kw["keep_prob"] is None) == (kw["rate"] is None):
        jc.fail(ctx.where, "give exactly one of keep_prob and rate.")
    if kw["rate"] is not None:
        return [_dropout_spec(1.0 - jc.number(kw["rate"], ctx.where, "rate"),
                              ctx.where)]
    return [_dropout_spec(kw["keep_prob"], ctx.where)]


def flatten(kwargs, ctx):
    jc.check_kwargs(kwargs, {"outputs_collections": None, "scope": None},
                    ctx.where)
    return [{"layer": "flatten"}]


def global_pool(kwargs, ctx):
    kw = jc.check_kwargs(kwargs, {"kind": "avg", "name": None}, ctx.where,
                         {"keep_dims": [False]})
    if kw["kind"] not in ("avg", "max"):
        jc.fail(ctx.where, f"kind must be 'avg' or 'max', got "
                           f"{kw['kind']!r}.")
    return [{"layer": "global_pool", "kind": kw["kind"]}]


def identity(kwargs, ctx):
    jc.check_kwargs(kwargs, {"name": None}, ctx.where)
    return [{"layer": "identity"}]


def lrn(kwargs, ctx):
    kw = jc.check_kwargs(kwargs, {"depth_radius": 5, "bias": 1.0,
                                  "alpha": 1.0, "beta": 0.5, "name": None},
                         ctx.where)
    return [{"layer": "lrn",
             "depth_radius": jc.nonnegative_int(kw["depth_radius"], ctx.where,
                                                "depth_radius"),
             "bias": jc.number(kw["bias"], ctx.where, "bias"),
             "alpha": jc.number(kw["alpha"], ctx.where, "alpha"),
             "beta": jc.number(kw["beta"], ctx.where, "beta")}]


LAYER_FUNCTIONS = {
    "component_conv": component_conv,
    "conv": conv,
    "fc": fc,
    "residual_add": residual_add,
    "max_pool": _pool("max_pool"),
    "avg_pool": _pool("avg_pool"),
    "dropout": dropout,
    "flatten": flatten,
    "global_pool": global_pool,
    "identity": identity,
    "lrn": lrn,
    "local_response_normalization": lrn,
    **{name: _activation_fn(name) for name in jc.ACTIVATIONS
       if name != "identity"},
}

# Function names valid in the other JSON slots (for error messages).
OTHER_FUNCTIONS = {"harbor": ["harbor"], "memory": ["memory"],
                   "input_init / state_init": ["zeros"]}


def supported_functions_message():
    others = "; ".join(f"{slot}: {names}"
                       for slot, names in OTHER_FUNCTIONS.items())
    return (f"supported pre/post-memory functions are "
            f"{sorted(LAYER_FUNCTIONS)} ({others})")


def translate_ops(ops, ctx):
    """JSON op list → layer specs (one per op, except expanding ops)."""
    if not isinstance(ops, list):
        jc.fail(f"{ctx.label}: node {ctx.node!r}",
                f"{ctx.position} must be a list of {{\"function\": ...}} "
                f"dicts, got {ops!r}.")
    specs = []
    for index, op in enumerate(ops):
        ctx.index, ctx.function = index, None
        if not isinstance(op, dict) or not isinstance(op.get("function"),
                                                      str):
            jc.fail(ctx.where, f"each op must be a dict with a "
                               f"\"function\" name, got {op!r}.")
        kwargs = dict(op)
        ctx.function = kwargs.pop("function")
        if ctx.function not in LAYER_FUNCTIONS:
            jc.fail(ctx.where, f"unknown function {ctx.function!r}; "
                               f"{supported_functions_message()}.")
        if (ctx.position == "pre_memory" and ctx.out_depth is None
                and "out_depth" in kwargs):
            ctx.out_depth = kwargs["out_depth"]
        specs.extend(LAYER_FUNCTIONS[ctx.function](kwargs, ctx))
    return specs
