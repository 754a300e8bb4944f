"""Drawing architectures from a `SearchSpace`: every sample is a GraphSpec.

    sample = sample_spec(space, trial, input_shape=(32, 32, 1),
                         num_classes=10)
    model = sample.build()          # a TNNGraph, like any zoo model

`suggest` is anything with `suggest_categorical(name, choices)`: an Optuna
trial, `RandomSuggest(seed)` or `FixedSuggest(params)`. Parameter names:
`<node>.width`, `<node>.kernel_size`, `<node>.cell`,
`<node>.<cell choice>.<hyperparameter>` (only for the chosen cell),
`feedback.<source>-><target>` and `skip.<source>-><target>` (bools),
`times`, `image_off`.

A sample outside the budget, or whose choices do not fit together (e.g.
an `image_off` not before `times`, or a cell that cannot take its
feedback), raises `SampleRejected`; `check_budget` refuses early a budget
that no sample can meet.
"""

import dataclasses
import random

from tnn.graphs.spec import GraphSpec
from tnn.search import space as space_lib
from tnn.search.space import NONE, SearchSpaceError
from tnn.zoo.layers import MAX_POOL, conv, readout_init


class SampleRejected(ValueError):
    """A sample that cannot be trained (outside the budget, or invalid)."""


class BudgetError(SearchSpaceError):
    """A parameter budget that no sample of the space can meet."""


class RandomSuggest:
    """`suggest` drawing uniformly with its own seeded generator."""

    def __init__(self, seed=0):
        self.rng = random.Random(seed)
        self.params = {}

    def suggest_categorical(self, name, choices):
        self.params[name] = self.rng.choice(list(choices))
        return self.params[name]


class FixedSuggest:
    """`suggest` returning given values (`params[name]`), else the first
    choice; records what it returned in `params`."""

    def __init__(self, params=None, default=0):
        self.fixed = dict(params or {})
        self.default = default
        self.params = {}

    def suggest_categorical(self, name, choices):
        choices = list(choices)
        value = self.fixed.get(name, choices[self.default])
        if value not in choices:
            raise SampleRejected(f"{name}={value!r} is not among its "
                                 f"choices {choices}.")
        self.params[name] = value
        return value


@dataclasses.dataclass
class Sample:
    """One architecture: a GraphSpec plus its presentation.

    Attributes:
        spec: the `GraphSpec`.
        times, image_off: the presentation.
        input_shape: `(H, W, C)`.
        params: the choices made (`{name: value}`).
        num_params: parameter count of the built model (None until counted).
    """

    spec: GraphSpec
    times: int
    image_off: object
    input_shape: tuple
    params: dict
    num_params: int = None

    def build(self, name="searched"):
        from tnn.graphs.tnn_graph import TNNGraph
        return TNNGraph(self.spec, input_shape=tuple(self.input_shape),
                        times=self.times, image_off=self.image_off,
                        name=name)

    def to_dict(self):
        return {"spec": self.spec.to_dict(), "times": self.times,
                "image_off": self.image_off,
                "input_shape": list(self.input_shape),
                "params": dict(self.params), "num_params": self.num_params}


def _categorical(suggest, name, choices):
    choices = list(choices)
    if len(choices) == 1:
        return choices[0]          # not a choice: not recorded
    return suggest.suggest_categorical(name, choices)


def _choose(space, suggest):
    """`{node: (width, kernel, cell key, cell combo)}`, edges, times,
    image_off, from `suggest`."""
    nodes = {}
    for node in space.nodes:
        width = _categorical(suggest, f"{node.name}.width", node.widths)
        kernel = _categorical(suggest, f"{node.name}.kernel_size",
                              node.kernel_sizes)
        key = _categorical(suggest, f"{node.name}.cell", node.cells)
        choice = space.cells[key]
        combo = {p: _categorical(suggest, f"{node.name}.{key}.{p}",
                                 choice.options(p))
                 for p in sorted(choice.params)}
        nodes[node.name] = (width, kernel, key, combo)
    edges = [e for e in space.feedback if _categorical(
        suggest, f"feedback.{e[0]}->{e[1]}", (False, True))]
    edges += [e for e in space.skips if _categorical(
        suggest, f"skip.{e[0]}->{e[1]}", (False, True))]
    times = _categorical(suggest, "times", space.times)
    image_off = _categorical(suggest, "image_off", space.image_off)
    return nodes, edges, times, image_off


def make_spec(space, nodes, edges, num_classes, input_shape):
    """The GraphSpec of given choices (`_choose`'s output)."""
    specs = []
    for i, node in enumerate(space.nodes):
        width, kernel, key, combo = nodes[node.name]
        choice = space.cells[key]
        cell = None
        if choice.cell is not None:
            cell = {"cell": choice.cell,
                    **choice.kwargs(width, combo, space.weight_decay)}
        spec = {"name": node.name,
                "pre_memory": [conv(width, kernel_size=kernel,
                                    strides=node.strides,
                                    activation=node.activation,
                                    weight_decay=space.weight_decay)],
                "cell": cell,
                "post_memory": [dict(MAX_POOL)] if node.pool else []}
        if i == 0:
            spec["input_shape"] = list(input_shape)
        specs.append(spec)
    specs.append(_readout(space, num_classes))
    names = [n["name"] for n in specs]
    chain = list(zip(names[:-1], names[1:]))
    return GraphSpec.from_dict({"nodes": specs,
                                "edges": chain + [tuple(e) for e in edges],
                                "output": "readout"})


def _readout(space, num_classes):
    decay = space.weight_decay
    if space.readout == "dense":
        return {"name": "readout",
                "pre_memory": [{"layer": "flatten"},
                               {"layer": "fc", "units": num_classes,
                                "bias_initializer": 0.0,
                                "weight_decay": decay}]}
    return {"name": "readout",
            "pre_memory": [conv(num_classes, kernel_size=2, padding="valid",
                                kernel_initializer=readout_init(),
                                weight_decay=decay)],
            "post_memory": [{"layer": "global_pool", "kind": "avg"}]}


def sample_spec(space, suggest, input_shape, num_classes, count=True):
    """Draws one architecture; returns a `Sample`.

    Args:
        space: a `SearchSpace`.
        suggest: `suggest_categorical(name, choices)` (an Optuna trial).
        input_shape: `(H, W, C)` of the task's images.
        num_classes: readout units.
        count: build the model, count its parameters and check the budget.

    Raises:
        SampleRejected: an invalid sample, or one outside the budget.
    """
    nodes, edges, times, image_off = _choose(space, suggest)
    if image_off is not None and image_off >= times:
        raise SampleRejected(f"image_off={image_off} is not before the "
                             f"last of times={times} steps.")
    try:
        spec = make_spec(space, nodes, edges, num_classes, input_shape)
    except ValueError as err:
        raise SampleRejected(f"invalid sample: {_one_line(err)}") from None
    sample = Sample(spec, times, image_off, tuple(input_shape),
                    dict(getattr(suggest, "params", {}) or {}))
    if count:
        sample.num_params = count_params(sample)
        reason = _outside(space, sample.num_params)
        if reason:
            raise SampleRejected(reason)
    return sample


def count_params(sample):
    """Parameters of the built model; `SampleRejected` if it cannot build."""
    try:
        return int(sample.build().count_params())
    except ValueError as err:
        raise SampleRejected(f"the sample does not build: "
                             f"{_one_line(err)}") from None


def _outside(space, num_params):
    if space.min_params is not None and num_params < space.min_params:
        return (f"{num_params:,} parameters, below the budget's min_params "
                f"{space.min_params:,}")
    if space.max_params is not None and num_params > space.max_params:
        return (f"{num_params:,} parameters, above the budget's max_params "
                f"{space.max_params:,}")
    return None


def _extreme(space, key, largest):
    """Choices of one extreme configuration: every node the smallest (or
    largest) width and kernel, cell `key` where allowed (else its first),
    the first hyperparameter values that build; no (or every) edge."""
    pick = max if largest else min
    nodes = {}
    for node in space.nodes:
        k = key if key in node.cells else node.cells[0]
        combos = space_lib.combinations(space.cells[k], limit=1)
        nodes[node.name] = (pick(node.widths), pick(node.kernel_sizes), k,
                            combos[0] if combos else {})
    edges = list(space.feedback) + list(space.skips) if largest else []
    return nodes, edges


def param_range(space, input_shape, num_classes):
    """`(low, high)`: parameter counts of the extreme configurations.

    An estimate of the space's range: for each cell choice, every node
    takes it (where allowed) at its smallest widths and kernels without
    long-range edges (low) and at its largest with every edge (high).
    Mixed cells and other hyperparameters land in between, or slightly
    outside; each sample is counted exactly by `sample_spec`.
    """
    keys = sorted({k for node in space.nodes for k in node.cells})
    counts = {False: [], True: []}
    for key in keys:
        for largest in (False, True):
            nodes, edges = _extreme(space, key, largest)
            spec = make_spec(space, nodes, edges, num_classes, input_shape)
            times = space.presentations()[0]
            try:
                counts[largest].append(count_params(
                    Sample(spec, times[0], times[1], input_shape, {})))
            except SampleRejected:
                continue
    if not counts[False] or not counts[True]:
        raise SearchSpaceError(
            "No extreme configuration of the search space builds; check "
            "the widths, kernel sizes and the input shape.")
    return min(counts[False]), max(counts[True])


def check_budget(space, input_shape, num_classes):
    """Raises `BudgetError` if no sample can meet the budget; returns
    `param_range`."""
    low, high = param_range(space, input_shape, num_classes)
    lo, hi = space.min_params, space.max_params
    if (hi is not None and low > hi) or (lo is not None and high < lo):
        raise BudgetError(
            f"No sample of search space {space.name!r} meets the parameter "
            f"budget [{lo or 0:,}, {'∞' if hi is None else format(hi, ',')}]"
            f": its models have about {low:,} to {high:,} parameters for "
            f"input {tuple(input_shape)} and {num_classes} classes; widen "
            f"the budget (min_params / max_params) or change the widths.")
    return low, high


def _one_line(err):
    return " ".join(str(err).split())
