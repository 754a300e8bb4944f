"""The cell registry: names -> cell classes, for specs, gin and JSON.

Built-in classes load on first use; `register_cell` adds user-defined
cells (see `tnn.cells`).
"""

import importlib

import gin
import keras

from tnn.cells.base import RecurrentCell

# name -> module defining it (one public cell per module), or the class of
# a cell added with `register_cell`.
CELLS = {
    "TimeDecayCell": "tnn.cells.time_decay_cell",
    "ConvRNNCell": "tnn.cells.conv_rnn_cell",
    "ConvGRUCell": "tnn.cells.conv_gru_cell",
    "ConvLSTMCell": "tnn.cells.conv_lstm_cell",
    "ConvUGRNNCell": "tnn.cells.conv_ugrnn_cell",
    "ConvIntersectionRNNCell": "tnn.cells.conv_intersection_rnn_cell",
    "ReciprocalGatedCell": "tnn.cells.reciprocal_gated_cell",
    "MedianReciprocalGatedCell": "tnn.cells.median_reciprocal_gated_cell",
    "EfficientGateCell": "tnn.cells.efficient_gate_cell",
}

# What the graph code uses of a cell, beyond `keras.layers.Layer`.
_INTERFACE = ("state_shapes", "get_initial_state", "compute_output_shape",
              "call", "build", "get_config", "accepts_residual",
              "accepts_feedback")


def _is_cell_class(cls):
    """A Keras layer class following the `RecurrentCell` contract."""
    return (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)
            and all(hasattr(cls, attr) for attr in _INTERFACE))


def get_cell_class(cell):
    """Resolves a cell name from `CELLS`; a cell class passes through.

    Args:
        cell: a name from `list_cells()`, or a cell class (e.g. injected by
            gin as `@ConvLSTMCell`).

    Raises:
        ValueError: for an unknown name (the message lists the cells).
    """
    if isinstance(cell, type) and (issubclass(cell, RecurrentCell)
                                   or _is_cell_class(cell)):
        return cell
    if not isinstance(cell, str) or cell not in CELLS:
        raise ValueError(f"Unknown cell {cell!r}; available cells are "
                         f"{list_cells()} (add one with "
                         f"tnn.register_cell).")
    entry = CELLS[cell]
    if isinstance(entry, type):
        return entry
    return getattr(importlib.import_module(entry), cell)


def cell_name(cls):
    """The name `cls` (or the class gin made from it) is registered under.

    A spec that stores a cell class by name should use this rather than
    `cls.__name__`, which differs when a cell is registered under another
    name.
    """
    for klass in cls.__mro__:
        for name, entry in CELLS.items():
            if entry is klass or (isinstance(entry, str)
                                  and name == klass.__name__
                                  and entry == klass.__module__):
                return name
    raise ValueError(f"{cls!r} is not a registered cell; available cells "
                     f"are {list_cells()}.")


def list_cells():
    """Names of the built-in and registered cells, sorted."""
    return sorted(CELLS)


def register_cell(name=None, *, override=False, package="tnn"):
    """Registers a user-defined cell under a name (a class decorator).

    The cell then works wherever a built-in cell name does: a `GraphSpec`
    node (`{"cell": name, **kwargs}`), `tnn.create_model(..., cells=...)`,
    gin (a configurable `name`, injected as `@name`), and the JSON importer
    (`cell_wrappers=name`, or `"memory": {"function": name, ...}`; the memory
    kwargs are then the cell's constructor arguments). The class is also
    registered for Keras serialization as `"<package>><name>"`, so a saved
    model holding the cell reloads once the defining module is imported.

        @tnn.register_cell
        class LeakyCell(tnn.cells.RecurrentCell): ...

        @tnn.register_cell("Leaky", override=True)
        class LeakyCell(tnn.cells.RecurrentCell): ...

    Args:
        name: the registered name (default: the class name), or the class
            itself when used as a bare decorator.
        override: replace a cell already registered under `name` (built-in
            or not); without it a duplicate name raises.
        package: Keras serialization package.

    Returns:
        The class unchanged (or a decorator returning it).

    Raises:
        TypeError: the object is not a cell class: a `keras.layers.Layer`
            subclass of `RecurrentCell`, or one implementing its interface
            (`state_shapes`, `get_initial_state`, `compute_output_shape`,
            `call`, `build`, `get_config`, `accepts_residual`,
            `accepts_feedback`).
        ValueError: the name is taken (and `override` is False) or is not
            an identifier.
    """
    if isinstance(name, type):
        return _register(name, name.__name__, override, package)

    def decorator(cls):
        return _register(cls, cls.__name__ if name is None else name,
                         override, package)
    return decorator


def _register(cls, name, override, package):
    if not _is_cell_class(cls):
        missing = ([a for a in _INTERFACE if not hasattr(cls, a)]
                   if isinstance(cls, type) else None)
        raise TypeError(
            f"register_cell({name!r}) needs a cell class: a keras.layers."
            f"Layer subclass of tnn.cells.RecurrentCell (or implementing "
            f"its interface {list(_INTERFACE)}), got {cls!r}"
            + (f", which lacks {missing}." if missing else "."))
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"register_cell: the name must be an identifier "
                         f"(it is a gin name too), got {name!r}.")
    if name in CELLS and not override and CELLS[name] is not cls:
        raise ValueError(
            f"A cell named {name!r} is already registered "
            f"({CELLS[name]!r}); choose another name or pass "
            f"register_cell({name!r}, override=True) to replace it.")
    CELLS[name] = cls
    keras.saving.register_keras_serializable(package=package,
                                             name=name)(cls)
    register_gin_cell(name, cls, override=override)
    return cls


_GIN_CELLS = {}


def register_gin_cell(name, cls, override=False):
    """Makes cell class `cls` the gin configurable `name` (module
    `tnn.cells`), so bindings may inject `@name`. Registering the same
    class again is a no-op."""
    if _GIN_CELLS.get(name) is cls:
        return
    if override and name in _GIN_CELLS:
        # gin refuses a different class under a taken name outside its
        # interactive mode, the documented way to re-register.
        with gin.config.interactive_mode():
            gin.external_configurable(cls, name=name, module="tnn.cells")
    else:
        gin.external_configurable(cls, name=name, module="tnn.cells")
    _GIN_CELLS[name] = cls


def register_builtin_gin_cells():
    """Makes every cell in `CELLS` a gin configurable (`tnn.config`)."""
    for name in list_cells():
        register_gin_cell(name, get_cell_class(name))
