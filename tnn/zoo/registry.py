"""Model registry: `create_model(name, **overrides)` and `list_models()`.

Registered models are data: a function returning a `GraphSpec` dict plus
default presentation settings. The 14 convrnns zoo architectures (§4) are
registered here, with the presentation they were trained with (§5.2); the
presets are in `tnn.zoo.presets`, the released checkpoints in
`tnn.zoo.released`.

    import tnn
    tnn.list_models("rgc*")
    model = tnn.create_model("rgc_shallow", input_shape=(128, 128, 3),
                             num_classes=10, presentation="neural")
"""

import dataclasses
import fnmatch
import functools
import numbers

import keras

from tnn import zoo
from tnn.graphs.spec_checks import GraphSpecError
from tnn.graphs.tnn_graph import GraphBuildError, TNNGraph
from tnn.zoo.presets import PRESENTATIONS, presentation_settings

_UNSET = object()
# The `TNNGraph` arguments `create_model` passes on (`**graph_kwargs`).
GRAPH_ARGUMENTS = ("unroll", "blank_value", "share_pre_stimulus", "remat",
                   "time_loop", "dtype", "trainable")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model: a spec builder and its default settings."""

    name: str
    spec_fn: object
    times: int
    image_off: object
    description: str = ""


_REGISTRY = {}


def register_model(name, times, image_off=12, description=""):
    """Decorator registering `fn(num_classes, input_shape) -> spec dict`."""

    def wrap(fn):
        if name in _REGISTRY:
            raise ValueError(f"Model {name!r} is already registered.")
        _REGISTRY[name] = ModelEntry(name, fn, times, image_off, description)
        return fn

    return wrap


def list_models(pattern="*"):
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_entry(name):
    if name not in _REGISTRY:
        raise ValueError(f"Unknown model {name!r}; available models: "
                         f"{', '.join(list_models())}.")
    return _REGISTRY[name]


def model_spec(name, num_classes=1000, input_shape=(224, 224, 3)):
    """The GraphSpec dict of a registered model."""
    return get_entry(name).spec_fn(num_classes=num_classes,
                                   input_shape=tuple(input_shape))


def create_model(name, input_shape=(224, 224, 3), num_classes=1000,
                 presentation="default", times=None, image_off=_UNSET,
                 cells=None, extra_edges=(), **graph_kwargs):
    """Builds a registered model as a `TNNGraph`.

    Every argument is checked here, and an invalid one is named in the
    error as written in this call (not as the layer it would reach).

    Args:
        name: a name from `list_models()`.
        input_shape: `(H, W, C)` of the images (the zoo used 224×224×3; the
            shallow readout needs about ≥ 65 px, the intermediate ≥ 32 px).
        num_classes: readout units.
        presentation: a preset of `tnn.zoo.presets.PRESENTATIONS`:
            "default" (the model's training presentation), "neural" (26
            steps, image off at 10) or "constant".
        times, image_off: override the presentation's values.
        cells: optional `{node: cell spec or None}` replacing the cells of
            those nodes (e.g. `{"conv4": {"cell": "ConvLSTMCell",
            "filters": 256}}`; None removes the cell).
        extra_edges: extra `(source, target)` edges, e.g. long-range
            feedback `("conv5", "conv3")`.
        **graph_kwargs: other `TNNGraph` arguments (`unroll`, `blank_value`,
            `share_pre_stimulus`, `remat`, `time_loop`, `dtype`).
    """
    entry = _check_arguments(name, input_shape, num_classes, presentation,
                             times, image_off, graph_kwargs)
    settings = presentation_settings(presentation, entry.times,
                                     entry.image_off)
    if times is not None:
        settings["times"] = times
    if image_off is not _UNSET:
        settings["image_off"] = image_off
    spec = model_spec(name, num_classes=num_classes, input_shape=input_shape)
    nodes = [n["name"] for n in spec["nodes"]]
    _check_overrides(name, nodes, cells, extra_edges)
    for node_name, cell in (cells or {}).items():
        matches = [n for n in spec["nodes"] if n["name"] == node_name]
        matches[0]["cell"] = dict(cell) if cell is not None else None
    spec["edges"] = list(spec["edges"]) + [tuple(e) for e in extra_edges]
    graph_kwargs.setdefault("name", name)
    try:
        return TNNGraph(spec, input_shape=tuple(input_shape), **settings,
                        **graph_kwargs)
    except GraphSpecError as err:
        if not extra_edges:
            raise
        raise GraphSpecError(f"extra_edges: {err}") from None
    except GraphBuildError as err:
        node = _node_of(str(err), nodes)
        if node in (cells or {}):
            raise GraphBuildError(f"cells[{node!r}]: {err}") from None
        if node in {tuple(e)[1] for e in extra_edges}:
            raise GraphBuildError(f"extra_edges into {node!r}: {err}") \
                from None
        raise GraphBuildError(
            f"input_shape {tuple(input_shape)} does not fit {name!r} "
            f"({err}); the shallow models need about >= 65 px, the "
            f"intermediate >= 32 px (224 as trained).") from None


def _node_of(message, nodes):
    """The node a build error names (`Node 'conv4': ...`), if any."""
    for node in nodes:
        if message.startswith(f"Node {node!r}"):
            return node
    return None


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value,
                                                                  bool)


def _check_arguments(name, input_shape, num_classes, presentation, times,
                     image_off, graph_kwargs):
    """Checks `create_model`'s arguments; returns the model's entry."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"Unknown model name {name!r}; available models: "
                         f"{', '.join(list_models())}.")
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or isinstance(input_shape, str) or not all(
            _is_int(s) and s > 0 for s in shape):
        raise ValueError(f"input_shape must be (H, W, C) positive ints, "
                         f"e.g. (224, 224, 3), got {input_shape!r}.")
    if not _is_int(num_classes) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got "
                         f"{num_classes!r}.")
    if not isinstance(presentation, str) or \
            presentation not in PRESENTATIONS:
        raise ValueError(f"Unknown presentation {presentation!r}; "
                         f"presentation must be one of "
                         f"{sorted(PRESENTATIONS)}.")
    if times is not None and (not _is_int(times) or times < 1):
        raise ValueError(f"times must be a positive int or None (the "
                         f"presentation's), got {times!r}.")
    if image_off is not _UNSET and image_off is not None and (
            not _is_int(image_off) or image_off < 1):
        raise ValueError(f"image_off must be a positive int or None "
                         f"(image always on), got {image_off!r}.")
    unknown = sorted(set(graph_kwargs) - set(GRAPH_ARGUMENTS))
    if unknown:
        raise ValueError(
            f"create_model got an unknown argument {unknown[0]!r}; it takes "
            f"name, input_shape, num_classes, presentation, times, "
            f"image_off, cells, extra_edges and {', '.join(GRAPH_ARGUMENTS)}.")
    _check_graph_kwargs(graph_kwargs)
    return _REGISTRY[name]


def _check_graph_kwargs(kwargs):
    if "blank_value" in kwargs and (
            isinstance(kwargs["blank_value"], bool)
            or not isinstance(kwargs["blank_value"], numbers.Real)):
        raise ValueError(f"blank_value must be a number (normalised units, "
                         f"0.5 in the zoo), got {kwargs['blank_value']!r}.")
    for flag in ("share_pre_stimulus", "remat"):
        if flag in kwargs and not (isinstance(kwargs[flag], bool) or (
                _is_int(kwargs[flag]) and kwargs[flag] in (0, 1))):
            raise ValueError(f"{flag} must be True or False, got "
                             f"{kwargs[flag]!r}.")
    if kwargs.get("dtype") is not None:
        try:
            keras.dtype_policies.get(kwargs["dtype"])
        except (ValueError, TypeError):
            raise ValueError(
                f"dtype must be a float dtype or Keras dtype policy (e.g. "
                f"'float32', 'mixed_float16'), got {kwargs['dtype']!r}."
            ) from None


def _check_overrides(name, nodes, cells, extra_edges):
    """Checks `cells` and `extra_edges` against the model's nodes."""
    if cells is not None and not isinstance(cells, dict):
        raise ValueError(f"cells must be a dict {{node: cell spec dict or "
                         f"None}}, got {cells!r}.")
    for node, cell in (cells or {}).items():
        if node not in nodes:
            raise ValueError(f"cells: model {name!r} has no node {node!r}; "
                             f"nodes are {nodes}.")
        if cell is not None and not (isinstance(cell, dict)
                                     and "cell" in cell):
            raise ValueError(
                f"cells[{node!r}] must be a cell spec dict such as "
                f"{{'cell': 'ConvGRUCell', 'filters': 256}} or None, got "
                f"{cell!r}.")
    try:
        edges = [tuple(e) for e in extra_edges]
    except TypeError:
        edges = None
    if isinstance(extra_edges, str) or edges is None or any(
            len(e) != 2 or isinstance(e, str) for e in edges):
        raise ValueError(f"extra_edges must be (source, target) pairs of "
                         f"node names, e.g. [('conv5', 'conv3')], got "
                         f"{extra_edges!r}.")
    for edge in edges:
        for node in edge:
            if node not in nodes:
                raise ValueError(f"extra_edges: model {name!r} has no node "
                                 f"{node!r} (edge {edge}); nodes are "
                                 f"{nodes}.")


def _register_zoo():
    for cell in zoo.shallow.CELLS:
        register_model(f"{cell}_shallow", times=16, description=(
            f"convrnns 6-layer zoo model with {cell} cells in conv3-5"))(
            functools.partial(zoo.shallow_spec, cell))
    for cell in zoo.intermediate.CELLS:
        register_model(f"{cell}_intermediate", times=17, description=(
            f"convrnns 11-layer zoo model with {cell} cells in conv4-10"))(
            functools.partial(zoo.intermediate_spec, cell))
    register_model("rgc_intermediate", times=17, description=(
        "convrnns 11-layer median-RGC model with 5 feedback edges"))(
        zoo.rgc_intermediate_spec)
    # Same architectures trained with a longer constant presentation.
    register_model("rgc_intermediate_t22", times=22, image_off=None,
                   description="rgc_intermediate, constant image, 22 steps")(
        zoo.rgc_intermediate_spec)
    register_model("ugrnn_intermediate_t30", times=30, image_off=None,
                   description="ugrnn_intermediate, constant image, 30 "
                               "steps")(
        functools.partial(zoo.intermediate_spec, "ugrnn"))


_register_zoo()
