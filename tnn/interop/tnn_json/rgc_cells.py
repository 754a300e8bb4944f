"""Reciprocal gated cells of the original JSON graphs → cell specs.

Translators of `tnn_ReciprocalGateCell` and `tnn_median_ReciprocalGateCell`
memory kwargs (see `tnn.interop.tnn_json.cells`, whose `WRAPPERS` table
uses them).
"""

from tnn.interop.tnn_json import common as jc
from tnn.interop.tnn_json.zoo import MEDIAN_CELL_PARAMS

# tnn_ReciprocalGateCell's constructor (zoo cells.py) minus `out_depth`.
_RGC_DEFAULTS = {
    "shape": None, "in_out_filter_size": [3, 3], "feedback_filter_size": [3, 3],
    "feedback_entry": "out", "feedback_depth_separable": False,
    "ff_depth_separable": False, "in_out_depth_separable": False,
    "gate_depth_separable": False, "tau_depth_separable": False,
    "tau_nonlinearity": "tanh", "gate_nonlinearity": "tanh",
    "tau_bias": 0.0, "gate_bias": 0.0, "tau_multiplier": -1.0,
    "gate_multiplier": -1.0, "tau_offset": 1.0, "gate_offset": 1.0,
    "input_activation": "identity", "feedback_activation": "identity",
    "cell_activation": "elu", "out_activation": "elu",
    "cell_residual": False, "out_residual": False,
    "residual_to_out_gate": False, "input_to_cell": False,
    "input_to_out": False, "cell_to_out": False,
    "kernel_initializer": "xavier", "kernel_initializer_kwargs": None,
    "weight_decay": None, "layer_norm": False, "norm_gain": 1.0,
    "norm_shift": 0.0, "recurrent_keep_prob": 1.0,
    "total_training_steps": 250000, "batch_norm": False,
    "batch_norm_cell_out": False, "batch_norm_decay": 0.9,
    "batch_norm_epsilon": 1e-5, "bn_trainable": True,
    "gate_tau_bn_gamma_init": 0.1, "edges_init_zero": None,
    "is_training": False, "out_depth": None}
_RGC_FIXED = {
    "cell_tau_filter_size": [None], "ds_repeat": [False],
    "residual_to_cell_tau": [False], "residual_to_cell_gate": [False],
    "residual_to_out_tau": [False], "input_to_tau": [False],
    "input_to_gate": [False], "data_format": ["channels_last"],
    "bias_initializer": [None], "crossdevice_bn_kwargs": [{}]}
_RGC_REQUIRED = ("cell_depth", "tau_filter_size", "gate_filter_size",
                 "ff_filter_size")
_NONLINEARITIES = ("sigmoid", "tanh")


def _rgc_common(kw, ctx, cell):
    where = ctx.where
    out_depth = kw["out_depth"] if kw["out_depth"] is not None else (
        ctx.out_depth)
    if out_depth is None:
        jc.fail(where, f"{cell} needs out_depth (in the memory kwargs or a "
                       f"pre-memory conv).")
    for key in ("tau_nonlinearity", "gate_nonlinearity"):
        if kw[key] not in _NONLINEARITIES:
            jc.fail(where, f"{key}={kw[key]!r}: use one of "
                           f"{list(_NONLINEARITIES)}.")
    uses_residual = (kw["cell_residual"] or kw["out_residual"]
                     or kw["residual_to_out_gate"])
    if uses_residual and not ctx.residual:
        jc.fail(where, "the cell uses the residual input (cell_residual / "
                       "out_residual / residual_to_out_gate) but no "
                       "pre-memory component_conv has return_input: true.")
    spec = {"filters": jc.positive_int(out_depth, where, "out_depth"),
            "cell_depth": jc.positive_int(kw["cell_depth"], where,
                                          "cell_depth")}
    for key in ("tau_filter_size", "gate_filter_size", "ff_filter_size",
                "in_out_filter_size", "feedback_filter_size"):
        spec[key] = jc.ksize(kw[key], where, key)
    for key in ("tau_offset", "tau_multiplier", "gate_offset",
                "gate_multiplier"):
        spec[key] = jc.number(kw[key], where, key)
    for key in ("input_activation", "feedback_activation",
                "cell_activation", "out_activation"):
        spec[key] = jc.activation(kw[key], where, key)
    spec["tau_nonlinearity"] = kw["tau_nonlinearity"]
    spec["gate_nonlinearity"] = kw["gate_nonlinearity"]
    spec["out_residual"] = jc.boolean(kw["out_residual"], where,
                                      "out_residual")
    spec["kernel_initializer"] = jc.initializer(
        kw["kernel_initializer"], kw["kernel_initializer_kwargs"], where,
        "kernel_initializer")
    spec["weight_decay"] = jc.weight_decay(kw["weight_decay"], where)
    return spec


def reciprocal_gated(kw, ctx):
    """`tnn_ReciprocalGateCell` memory kwargs → a `ReciprocalGatedCell`."""
    kw = jc.check_kwargs(kw, dict(_RGC_DEFAULTS), ctx.where,
                         dict(_RGC_FIXED, recurrent_keep_prob=[1.0, 1],
                              batch_norm=[False], batch_norm_cell_out=[False]),
                         required=_RGC_REQUIRED)
    where = ctx.where
    spec = {"cell": "ReciprocalGatedCell",
            **_rgc_common(kw, ctx, "ReciprocalGatedCell")}
    spec["feedback_entry"] = kw["feedback_entry"]
    for key in ("tau_bias", "gate_bias", "norm_gain", "norm_shift"):
        spec[key] = jc.number(kw[key], where, key)
    for key in ("feedback_depth_separable", "ff_depth_separable",
                "in_out_depth_separable", "gate_depth_separable",
                "tau_depth_separable", "cell_residual", "residual_to_out_gate",
                "input_to_cell", "input_to_out", "cell_to_out", "layer_norm"):
        spec[key] = jc.boolean(kw[key], where, key)
    return spec


def median_reciprocal_gated(kw, ctx):
    """The median cell's own defaults are `MEDIAN_CELL_PARAMS`; it
    implements only that structure (separable tau/gate convs, plain 2×2
    input→cell and 3×3 input→out convs, feedback into "out"). `tau_bias` /
    `gate_bias` are accepted but unused, as in the original."""
    fixed = dict(_RGC_FIXED, recurrent_keep_prob=[1.0, 1],
                 batch_norm=[False], batch_norm_cell_out=[False],
                 tau_depth_separable=[True], gate_depth_separable=[True],
                 ff_depth_separable=[False], in_out_depth_separable=[False],
                 feedback_depth_separable=[False], feedback_entry=["out"],
                 input_to_cell=[True], input_to_out=[True],
                 cell_residual=[False], cell_to_out=[False],
                 residual_to_out_gate=[False], layer_norm=[False])
    defaults = dict(_RGC_DEFAULTS)
    defaults.update({k: v for k, v in MEDIAN_CELL_PARAMS.items()
                     if k not in fixed})
    merged = {k: v for k, v in MEDIAN_CELL_PARAMS.items() if k in fixed}
    merged.update(kw)
    kw = jc.check_kwargs(merged, defaults, ctx.where, fixed)
    return {"cell": "MedianReciprocalGatedCell",
            **_rgc_common(kw, ctx, "MedianReciprocalGatedCell")}
