"""The `memory` slot of the original JSON graphs → a cell spec.

Every JSON node names `"function": "memory"`. With the default wrapper
(`GenFuncCell`) that is the decaying memory `s' = memory_decay · s + x`:
a pass-through (no cell) when `memory_decay` is 0 and not trainable, else a
`TimeDecayCell`. The original swapped the node's wrapper class in Python
(`attr['cell'] = tnn_ConvLSTMCell`, ...); the memory kwargs then are that
cell's constructor arguments. `WRAPPERS` maps each wrapper name to a
translator onto the cells of `tnn.cells`:

    GenFuncCell                    memory / TimeDecayCell
    tnn_ConvLSTMCell               ConvLSTMCell
    convrnns.utils.cells.tnn_ConvGRUCell
                                   ConvGRUCell (zoo)
    tnn.convrnn.tnn_ConvGRUCell    ConvGRUCell(forget_bias=0) (tnn library)
    tnn_ConvUGRNNCell              ConvUGRNNCell
    tnn_ConvIntersectionRNNCell    ConvIntersectionRNNCell
    tnn_ConvNormBasicCell          ConvRNNCell(variant="zoo")  (simplernn)
    tnn_ConvBasicCell              ConvRNNCell(variant="tnn") (tnn library;
                                   also `tnn.convrnn.tnn_ConvBasicCell`)
    tnn_ReciprocalGateCell         ReciprocalGatedCell
    tnn_median_ReciprocalGateCell  MedianReciprocalGatedCell

Any cell of `tnn.cells` (e.g. one added with `tnn.register_cell`) is
selectable by name, as the wrapper (`cell_wrappers={"conv4": "LeakyCell"}`)
or as the memory function (`"memory": {"function": "LeakyCell", ...}`);
the memory kwargs, less `shape` and `name`, are then its constructor's.

Argument semantics follow the convrnns versions of the cells (e.g. the
LSTM's `weight_decay` also regularizes its bias; a missing initializer is
TF1's default, glorot uniform for kernels and 0 for biases; the GRU's gate
bias starts at 1), except for the two wrappers that exist only, or
differently, in the tnn library (`tnn/convrnn.py`), whose constructors
pass just `shape`, `filter_size` and `out_depth` to the cell and ignore
every other memory kwarg (a warning lists them): `tnn_ConvBasicCell`
(always tanh) and `tnn.convrnn.tnn_ConvGRUCell` (no +1 on the reset gate,
gate bias 1, candidate bias and kernels xavier, no weight decay). Both
libraries name their GRU wrapper `tnn_ConvGRUCell`, and a JSON file does
not say which one read it, so the bare name is refused: give it with its
module, `convrnns.utils.cells.tnn_ConvGRUCell` (the zoo's; what
`zoo_model="gru_*"` uses) or `tnn.convrnn.tnn_ConvGRUCell`.

The memory `shape` ([H, W]) is not needed (sizes are inferred);
`from_tnn_json` checks it when the graph is built at the file's own input
size.
"""

import inspect
import warnings

from tnn import cells as cells_lib
from tnn.interop.tnn_json import common as jc
from tnn.interop.tnn_json import rgc_cells

_XAVIER = {"class_name": "GlorotUniform", "config": {}}
_NORM = {"norm_gain": [1.0, 1], "norm_shift": [0.0, 0]}
MEMORY_KEYS = ("memory_decay", "trainable", "name", "no_state",
               "max_internal_time")


class CellContext:
    """What the node's pre-memory established.

    Args:
        where: location for messages.
        out_depth: the first pre-memory `out_depth` (the wrappers' default
            cell width).
        residual: whether a pre-memory component_conv has
            `return_input: true` (the cells' residual input).
    """

    def __init__(self, where, out_depth, residual):
        self.where = where
        self.out_depth = out_depth
        self.residual = residual


def _kernel_init(kw, where, key="kernel_initializer"):
    if kw.get(key) is None:
        return dict(_XAVIER)
    return jc.initializer(kw[key], kw.get(f"{key}_kwargs"), where, key)


def _bias_init(kw, where, default=0.0, key="bias_initializer"):
    """A number when the initializer is a constant (as the zoo tables)."""
    if kw.get(key) is None:
        return default
    init = jc.initializer(kw[key], kw.get(f"{key}_kwargs"), where, key)
    constants = {"Zeros": 0.0, "Ones": 1.0}
    if init["class_name"] in constants:
        return constants[init["class_name"]]
    if init["class_name"] == "Constant":
        return init["config"]["value"]
    return init


def _common(kw, where):
    return {"filters": jc.positive_int(kw["out_depth"], where, "out_depth"),
            "kernel_size": jc.ksize(kw["filter_size"], where, "filter_size")}


def _memory(kw, ctx):
    kw = jc.check_kwargs(kw, {"memory_decay": 0.0, "trainable": False,
                              "name": "memory", "no_state": False,
                              "max_internal_time": None}, ctx.where)
    decay = jc.number(kw["memory_decay"], ctx.where, "memory_decay")
    learnable = jc.boolean(kw["trainable"], ctx.where, "trainable")
    if jc.boolean(kw["no_state"], ctx.where, "no_state") or (
            decay == 0.0 and not learnable):
        return None
    return {"cell": "TimeDecayCell", "decay_init": decay,
            "learnable": learnable}


_GATED_DEFAULTS = {"shape": None, "weight_decay": 0.0, "forget_bias": 1.0,
                   "kernel_initializer": None,
                   "kernel_initializer_kwargs": None,
                   "bias_initializer": None, "bias_initializer_kwargs": None}


def _lstm(kw, ctx):
    kw = jc.check_kwargs(kw, dict(_GATED_DEFAULTS, use_peepholes=False,
                                  state_is_tuple=False, activation="tanh",
                                  layer_norm=False),
                         ctx.where, _NORM, required=("filter_size",
                                                     "out_depth"))
    where = ctx.where
    kernel = _kernel_init(kw, where)
    decay = jc.weight_decay(kw["weight_decay"], where)
    return {"cell": "ConvLSTMCell", **_common(kw, where),
            "forget_bias": jc.number(kw["forget_bias"], where, "forget_bias"),
            "use_peepholes": jc.boolean(kw["use_peepholes"], where,
                                        "use_peepholes"),
            "layer_norm": jc.boolean(kw["layer_norm"], where, "layer_norm"),
            "activation": jc.activation(kw["activation"], where) or "linear",
            "kernel_initializer": kernel,
            "bias_initializer": _bias_init(kw, where),
            # The peepholes are created under the kernel initializer scope.
            "peephole_initializer": kernel,
            "weight_decay": decay, "bias_weight_decay": decay}


def _gru(kw, ctx):
    kw = jc.check_kwargs(kw, dict(_GATED_DEFAULTS, layer_norm=False),
                         ctx.where, dict(_NORM, activation=["tanh"]),
                         required=("filter_size", "out_depth"))
    where = ctx.where
    decay = jc.weight_decay(kw["weight_decay"], where)
    # No bias initializer: gate bias 1.0, candidate bias 0 (zoo GRU).
    gate_bias = _bias_init(kw, where, default=1.0)
    return {"cell": "ConvGRUCell", **_common(kw, where),
            "forget_bias": jc.number(kw["forget_bias"], where, "forget_bias"),
            "layer_norm": jc.boolean(kw["layer_norm"], where, "layer_norm"),
            "gate_bias_initializer": gate_bias,
            "bias_initializer": _bias_init(kw, where),
            "kernel_initializer": _kernel_init(kw, where),
            "weight_decay": decay, "bias_weight_decay": decay}


def _single_kernel(cell):
    def translate(kw, ctx):
        kw = jc.check_kwargs(kw, dict(_GATED_DEFAULTS), ctx.where,
                             dict(_NORM, layer_norm=[False]),
                             required=("filter_size", "out_depth"))
        where = ctx.where
        decay = jc.weight_decay(kw["weight_decay"], where)
        return {"cell": cell, **_common(kw, where),
                "forget_bias": jc.number(kw["forget_bias"], where,
                                         "forget_bias"),
                "kernel_initializer": _kernel_init(kw, where),
                "bias_initializer": _bias_init(kw, where),
                "weight_decay": decay, "bias_weight_decay": decay}
    return translate


def _norm_basic(kw, ctx):
    # The wrapper passes exactly these six memory kwargs to the cell (other
    # keys would be ignored silently, so they are refused here).
    kw = jc.check_kwargs(kw, {}, ctx.where, required=(
        "shape", "filter_size", "out_depth", "layer_norm",
        "kernel_regularizer", "bias_regularizer"))
    where = ctx.where
    return {"cell": "ConvRNNCell", "variant": "zoo", **_common(kw, where),
            "layer_norm": jc.boolean(kw["layer_norm"], where, "layer_norm"),
            "kernel_initializer": dict(_XAVIER), "bias_initializer": 0.0,
            "weight_decay": jc.weight_decay(kw["kernel_regularizer"], where,
                                   "kernel_regularizer"),
            "bias_weight_decay": jc.weight_decay(kw["bias_regularizer"], where,
                                        "bias_regularizer")}


def _tnn_library_kwargs(kw, ctx, wrapper):
    """The three memory kwargs a tnn-library wrapper passes to its cell
    (`ConvGRUCell(memory[1]['shape'], memory[1]['filter_size'],
    memory[1]['out_depth'])`); the others are ignored, as there."""
    kw = dict(kw)
    ignored = sorted(set(kw) - {"shape", "filter_size", "out_depth"})
    if ignored:
        warnings.warn(
            f"{ctx.where}: the tnn library's {wrapper} (neuroailab/tnn "
            f"tnn/convrnn.py) passes only shape, filter_size and out_depth "
            f"to its cell; the memory "
            f"kwargs {ignored} are ignored, as in the original. Use the "
            f"convrnns wrapper if the file was meant for the zoo's cells.",
            stacklevel=2)
    kw = {k: v for k, v in kw.items() if k not in ignored}
    return jc.check_kwargs(kw, {"shape": None}, ctx.where,
                           required=("filter_size", "out_depth"))


def _tnn_gru(kw, ctx):
    # tnn `ConvGRUCell`: r, u = split(sigmoid(W_g * [x, h] + b_g)), no
    # forget bias; b_g starts at 1 (the cell's `bias_ones`); the candidate
    # bias and the kernels get `_conv_linear`'s default, xavier.
    kw = _tnn_library_kwargs(kw, ctx, "tnn.convrnn.tnn_ConvGRUCell")
    return {"cell": "ConvGRUCell", **_common(kw, ctx.where),
            "forget_bias": 0.0, "layer_norm": False,
            "gate_bias_initializer": 1.0,
            "bias_initializer": dict(_XAVIER),
            "kernel_initializer": dict(_XAVIER)}


def _basic(kw, ctx):
    # tnn `ConvBasicCell`: tanh(W * [x, h] + b), activation fixed by the
    # wrapper; kernel and bias get `_conv_linear`'s default, xavier.
    kw = _tnn_library_kwargs(kw, ctx, "tnn_ConvBasicCell")
    return {"cell": "ConvRNNCell", "variant": "tnn",
            **_common(kw, ctx.where), "activation": "tanh",
            "kernel_initializer": dict(_XAVIER),
            "bias_initializer": dict(_XAVIER)}


WRAPPERS = {
    "GenFuncCell": _memory,
    "tnn_ConvLSTMCell": _lstm,
    "convrnns.utils.cells.tnn_ConvGRUCell": _gru,
    "tnn.convrnn.tnn_ConvGRUCell": _tnn_gru,
    "tnn_ConvUGRNNCell": _single_kernel("ConvUGRNNCell"),
    "tnn_ConvIntersectionRNNCell": _single_kernel("ConvIntersectionRNNCell"),
    "tnn_ConvNormBasicCell": _norm_basic,
    "tnn_ConvBasicCell": _basic,
    "tnn.convrnn.tnn_ConvBasicCell": _basic,
    "tnn_ReciprocalGateCell": rgc_cells.reciprocal_gated,
    "tnn_median_ReciprocalGateCell": rgc_cells.median_reciprocal_gated,
}
_SAME_KWARGS = ("tnn_ConvLSTMCell", "convrnns.utils.cells.tnn_ConvGRUCell",
                "tnn.convrnn.tnn_ConvGRUCell", "tnn_ConvUGRNNCell",
                "tnn_ConvIntersectionRNNCell", "tnn_ConvBasicCell")
# Wrapper names both libraries use for different cells.
AMBIGUOUS = {"tnn_ConvGRUCell": (
    "convrnns.utils.cells.tnn_ConvGRUCell",
    "tnn.convrnn.tnn_ConvGRUCell",
    "the zoo's GRU adds forget_bias (default 1) to the reset gate and reads "
    "weight_decay, layer_norm and initializers; the tnn library's has no "
    "+1 and ignores every memory kwarg but shape, filter_size and "
    "out_depth")}


def guess_wrapper(kwargs):
    """The wrapper the memory kwargs unambiguously belong to, else None.

    Rules: only `memory` arguments → GenFuncCell; RGC-only arguments
    (`cell_depth`, `tau_filter_size`, `gate_filter_size`) →
    tnn_ReciprocalGateCell; `kernel_regularizer` / `bias_regularizer` →
    tnn_ConvNormBasicCell; `use_peepholes` / `state_is_tuple` →
    tnn_ConvLSTMCell. Other cell kwargs (`filter_size`, `out_depth`, ...)
    fit several wrappers.
    """
    keys = set(kwargs)
    if keys <= set(MEMORY_KEYS):
        return "GenFuncCell"
    if keys & {"cell_depth", "tau_filter_size", "gate_filter_size"}:
        return "tnn_ReciprocalGateCell"
    if keys & {"kernel_regularizer", "bias_regularizer"}:
        return "tnn_ConvNormBasicCell"
    if keys & {"use_peepholes", "state_is_tuple"}:
        return "tnn_ConvLSTMCell"
    return None


def check_wrapper(name, where):
    if name in AMBIGUOUS:
        zoo, library, why = AMBIGUOUS[name]
        jc.fail(where, f"cell wrapper {name!r} is ambiguous: convrnns and "
                       f"neuroailab/tnn both define it and their cells "
                       f"differ ({why}). Name the one the file was written "
                       f"for: {zoo!r} (convrnns zoo) or {library!r} (tnn "
                       f"library), or pass zoo_model= for a zoo file.")
    if name not in WRAPPERS and name not in cells_lib.CELLS:
        jc.fail(where, f"unknown cell wrapper {name!r}; supported wrappers "
                       f"are {sorted(WRAPPERS)} and the cells "
                       f"{cells_lib.list_cells()} (tnn.register_cell).")
    return name


def _named_cell(name, kwargs, ctx):
    kwargs = {k: v for k, v in kwargs.items() if k not in ("shape", "name")}
    params = inspect.signature(cells_lib.get_cell_class(name)).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        jc.fail(ctx.where, f"{unknown}: not arguments of {name}.")
    return {"cell": name, **kwargs}


def memory_to_cell(memory, wrapper, cell_params, ctx, node):
    """Translates a node's `memory` entry.

    Args:
        memory: the JSON `memory` dict.
        wrapper: wrapper name (None: `guess_wrapper`).
        cell_params: kwargs overriding the memory kwargs (as `model_func`
            does with `layer_params[node]["cell_params"]`).
        ctx: `CellContext`.
        node: node name (for the error message).

    Returns:
        (cell spec or None, declared memory `shape` [H, W] or None).
    """
    where = ctx.where
    function = memory.get("function") if isinstance(memory, dict) else None
    if function != "memory" and function not in cells_lib.CELLS:
        jc.fail(where, f"memory must be {{\"function\": \"memory\", ...}} "
                       f"or name a cell of tnn.cells, got {memory!r}.")
    kwargs = {k: v for k, v in memory.items() if k != "function"}
    kwargs.update(cell_params or {})
    if function != "memory" and wrapper not in (None, function):
        jc.fail(where, f"memory function {function!r} but wrapper "
                       f"{wrapper!r}: give one of them.")
    wrapper = wrapper if function == "memory" else function
    guessed = wrapper is None
    if guessed:
        wrapper = guess_wrapper(kwargs)
        if wrapper is None:
            jc.fail(where, f"the memory kwargs {sorted(kwargs)} are the "
                           f"constructor arguments of a tnn_* cell wrapper "
                           f"but do not say which ({', '.join(_SAME_KWARGS)} "
                           f"all take them); choose with cell_wrappers="
                           f"{{{node!r}: 'tnn_ConvLSTMCell'}} (or one wrapper "
                           f"name for every such node), or pass zoo_model= "
                           f"for a convrnns zoo file.")
    check_wrapper(wrapper, where)
    ctx.where = f"{where} ({wrapper})"
    try:
        cell = (WRAPPERS[wrapper](kwargs, ctx) if wrapper in WRAPPERS
                else _named_cell(wrapper, kwargs, ctx))
    except jc.TNNJSONError as err:
        if not guessed or wrapper == "GenFuncCell":
            raise
        raise jc.TNNJSONError(
            f"{err} (The wrapper was inferred from the kwargs; choose it with "
            f"cell_wrappers=, or pass zoo_model= for a convrnns zoo file.)"
        ) from None
    shape = kwargs.get("shape") if wrapper != "GenFuncCell" else None
    if shape is not None:
        if not isinstance(shape, (list, tuple)) or len(shape) != 2:
            jc.fail(ctx.where, f"memory shape must be [height, width], got "
                               f"{shape!r}.")
        shape = [jc.positive_int(s, ctx.where, "memory shape") for s in shape]
    return cell, shape
