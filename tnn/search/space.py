"""Search spaces as data: what an architecture search may choose.

A `SearchSpace` describes a family of ConvRNNs over one backbone, a chain
`node_1 → … → node_N → readout` (every node `conv → [cell] → [pool]`):

- per node: the channel width and kernel size of its conv, and which cell
  it carries, from named `CellChoice`s (the cell class and the ranges of
  its hyperparameters: the gating and bypass switches of the Reciprocal
  Gated Cell family, kernel sizes, ...; "none" is a plain conv layer);
- which long-range edges exist, among declared candidates: `feedback`
  (from a later node to an earlier one) and `skips` (from an earlier node
  to a later, non-adjacent one);
- the presentation: `times` (steps) and `image_off` (first blank step;
  None shows the image at every step);
- a parameter budget (`min_params`, `max_params`).

Every sample is an ordinary `GraphSpec` plus `times` and `image_off`
(`tnn.search.sample`), so it is built, saved, converted and scored like a
zoo model. The space is plain data (`to_dict` / `from_dict`, JSON-safe);
`validate` names the first problem and its fix.

This follows the search of Nayebi et al. (NeurIPS 2018), which chose
local cells (gating, bypassing, kernel sizes) and long-range feedback on a
fixed feed-forward backbone; the original's space description is not in
the released code, so the ranges here are ours (gin_configs/search/).
"""

import dataclasses
import itertools
import re

from tnn.cells import get_cell_class, list_cells

NONE = "none"          # the cell choice "no cell" (a plain conv node)
READOUTS = ("dense", "conv_avg")
MAX_COMBINATIONS = 4096  # per cell choice, for the contradiction check
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class SearchSpaceError(ValueError):
    """A search space that cannot be sampled (its message names the fix)."""


@dataclasses.dataclass(frozen=True)
class CellChoice:
    """One cell option of a node, with the ranges of its hyperparameters.

    Args:
        cell: a registered cell name (`tnn.cells.list_cells()`), or None
            for no cell.
        width_args: constructor arguments set to the node's width (e.g.
            `("filters", "cell_depth")`; none for `TimeDecayCell`).
        fixed: constructor arguments every sample gets.
        params: `{argument: tuple of choices}`, or `{switch name: {option
            name: {argument: value, ...}}}` for a switch that sets several
            arguments at once (e.g. "gating": sigmoid / tanh / off).
        weight_decay: pass the space's `weight_decay` to the cell.
    """

    cell: str = None
    width_args: tuple = ("filters",)
    fixed: dict = dataclasses.field(default_factory=dict)
    params: dict = dataclasses.field(default_factory=dict)
    weight_decay: bool = True

    def options(self, name):
        """The categorical choices of hyperparameter `name`."""
        values = self.params[name]
        return tuple(values) if isinstance(values, dict) else tuple(values)

    def kwargs(self, width, chosen, weight_decay):
        """Constructor kwargs for `chosen` = `{param: choice}`."""
        kwargs = dict(self.fixed)
        for name, choice in chosen.items():
            values = self.params[name]
            if isinstance(values, dict):
                kwargs.update(values[choice])
            else:
                kwargs[name] = choice
        for arg in self.width_args:
            kwargs[arg] = width
        if self.weight_decay and weight_decay is not None:
            kwargs["weight_decay"] = weight_decay
        return kwargs


@dataclasses.dataclass(frozen=True)
class NodeChoices:
    """The choices of one backbone node.

    Args:
        name: node name (letters, digits, `_`, `-`, `.`).
        widths: candidate channel counts of its conv.
        kernel_sizes: candidate kernel sizes of its conv.
        cells: candidate cell choice names (keys of `SearchSpace.cells`).
        strides: the conv's stride (fixed).
        pool: a 2×2 max pool after the cell.
        activation: the conv's activation.
    """

    name: str
    widths: tuple
    kernel_sizes: tuple = (3,)
    cells: tuple = (NONE,)
    strides: int = 1
    pool: bool = True
    activation: str = "elu"


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A search space over one chain backbone (module docstring).

    Args:
        nodes: `NodeChoices` (or dicts), input first.
        cells: `{choice name: CellChoice (or dict)}` the nodes refer to.
        feedback: candidate `(source, target)` edges, source after target.
        skips: candidate `(source, target)` edges, source before target
            and not adjacent (adjacent nodes are already connected).
        times: candidate numbers of steps.
        image_off: candidate first blank steps (None: image throughout).
        min_params, max_params: the parameter budget (None: unbounded).
        readout: "dense" (flatten + dense) or "conv_avg" (a 2×2 valid conv
            to the classes + global average pool, the zoo's `imnetds`).
        weight_decay: TF1 L2 scale of every conv, cell and the readout.
        name: a short name for reports.
    """

    nodes: tuple
    cells: dict
    feedback: tuple = ()
    skips: tuple = ()
    times: tuple = (12,)
    image_off: tuple = (None,)
    min_params: int = None
    max_params: int = None
    readout: str = "dense"
    weight_decay: float = 1e-4
    name: str = "search"

    def __post_init__(self):
        nodes = tuple(n if isinstance(n, NodeChoices) else _make(
            NodeChoices, n, "node") for n in _seq(self.nodes, "nodes"))
        cells = {k: c if isinstance(c, CellChoice) else _make(
            CellChoice, c, f"cell choice {k!r}")
            for k, c in dict(self.cells or {}).items()}
        set_ = object.__setattr__
        set_(self, "nodes", nodes)
        set_(self, "cells", cells)
        for field in ("feedback", "skips"):
            set_(self, field, tuple(tuple(e) for e in _seq(
                getattr(self, field), field)))
        set_(self, "times", tuple(_seq(self.times, "times")))
        set_(self, "image_off", tuple(_seq(self.image_off, "image_off")))
        self.validate()

    @property
    def node_names(self):
        return [n.name for n in self.nodes]

    def presentations(self):
        """The valid `(times, image_off)` pairs."""
        return [(t, off) for t in self.times for off in self.image_off
                if off is None or off < t]

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        if isinstance(data, SearchSpace):
            return data
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SearchSpaceError(f"Unknown search space keys {unknown}; "
                                   f"allowed keys are {sorted(known)}.")
        return cls(**data)

    def validate(self):
        """Raises `SearchSpaceError` naming the first problem and its fix."""
        from tnn.search import checks
        checks.check_space(self)


def _seq(value, name):
    if isinstance(value, (str, bytes, dict)) or not hasattr(
            value, "__iter__"):
        raise SearchSpaceError(f"{name} must be a list or tuple, got "
                               f"{value!r}.")
    return list(value)


def _make(cls, data, what):
    if not isinstance(data, dict):
        raise SearchSpaceError(f"A {what} must be a dict or "
                               f"{cls.__name__}, got {data!r}.")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SearchSpaceError(f"{what}: unknown keys {unknown}; allowed "
                               f"keys are {sorted(known)}.")
    data = dict(data)
    for key in ("widths", "kernel_sizes", "cells", "width_args"):
        if key in data and isinstance(data[key], list):
            data[key] = tuple(data[key])
    return cls(**data)


def combinations(choice, limit=MAX_COMBINATIONS):
    """Up to `limit` `{param: choice}` dicts of a `CellChoice`, in order."""
    names = sorted(choice.params)
    product = itertools.product(*(choice.options(n) for n in names))
    return [dict(zip(names, values))
            for values in itertools.islice(product, limit)]


def cell_class(choice, key):
    """The cell class of a `CellChoice` (None for no cell), checked."""
    if choice.cell is None:
        return None
    if choice.cell not in list_cells():
        raise SearchSpaceError(
            f"Cell choice {key!r}: unknown cell {choice.cell!r}; available "
            f"cells are {list_cells()} (or None for no cell).")
    return get_cell_class(choice.cell)


def valid_name(name):
    return isinstance(name, str) and bool(_NAME.match(name))
