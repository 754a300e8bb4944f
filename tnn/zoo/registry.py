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

from tnn import zoo
from tnn.graphs.tnn_graph import TNNGraph
from tnn.zoo.presets import presentation_settings

_UNSET = object()


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
            `share_pre_stimulus`, `remat`, `name`, `dtype`).
    """
    entry = get_entry(name)
    settings = presentation_settings(presentation, entry.times,
                                     entry.image_off)
    if times is not None:
        settings["times"] = times
    if image_off is not _UNSET:
        settings["image_off"] = image_off
    spec = model_spec(name, num_classes=num_classes, input_shape=input_shape)
    for node_name, cell in (cells or {}).items():
        matches = [n for n in spec["nodes"] if n["name"] == node_name]
        if not matches:
            raise ValueError(f"cells: model {name!r} has no node "
                             f"{node_name!r}; nodes are "
                             f"{[n['name'] for n in spec['nodes']]}.")
        matches[0]["cell"] = dict(cell) if cell is not None else None
    spec["edges"] = list(spec["edges"]) + [tuple(e) for e in extra_edges]
    graph_kwargs.setdefault("name", name)
    return TNNGraph(spec, input_shape=tuple(input_shape), **settings,
                    **graph_kwargs)


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
