"""Small ConvRNNs for 28–32 px inputs (the demo) and feedforward controls.

`small_convrnn` is a chain `conv1 → … → convN → readout` whose conv
nodes (from `cell_from` on) carry a Reciprocal Gated Cell with the
`rgc_shallow` settings (`tnn.zoo.shallow.RGC_SETTINGS`, §4.1: sigmoid
gates, elu, input_to_cell, residual_to_out_gate), each node followed by
a 2×2 max pool; the readout is a dense layer on the flattened last map.
`small_feedforward` is the same chain with the cells removed and every
conv widened by one common factor so that both models have (nearly) the
same number of parameters, the control of Spoerer et al. (2017, reference
App. D). Both are unrolled over time like any `TNNGraph`; the feedforward
control's readout is constant once the image has reached it.

    model = small_convrnn(input_shape=(32, 32, 1), num_classes=10)
    control = small_feedforward(input_shape=(32, 32, 1), num_classes=10)
"""

import math

import gin

from tnn.graphs.tnn_graph import TNNGraph
from tnn.zoo.layers import MAX_POOL
from tnn.zoo.shallow import RGC_SETTINGS

DEFAULT_WIDTHS = (16, 32, 48)


def _check_widths(widths):
    widths = tuple(widths)
    if not widths or any(isinstance(w, bool) or not isinstance(w, int)
                         or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive "
                         f"ints (channels per conv layer), got {widths!r}.")
    return widths


def _check_cell_from(cell_from, widths):
    if isinstance(cell_from, bool) or not isinstance(cell_from, int) or not (
            1 <= cell_from <= len(widths)):
        raise ValueError(f"cell_from must be an int in [1, {len(widths)}] "
                         f"(the first conv layer with a cell), got "
                         f"{cell_from!r}.")
    return cell_from


def chain_spec(widths, num_classes, input_shape, cells=None,
               weight_decay=1e-4, feedback=()):
    """The GraphSpec dict of a conv chain with optional per-node cells.

    Args:
        widths: channels of conv1 … convN.
        num_classes: readout units.
        input_shape: `(H, W, C)`.
        cells: `{node name: cell spec}` (nodes without an entry: no cell).
        weight_decay: TF1 L2 scale of the convs and the readout.
        feedback: extra `(source, target)` edges.
    """
    widths = _check_widths(widths)
    cells = dict(cells or {})
    nodes = []
    for i, width in enumerate(widths, start=1):
        name = f"conv{i}"
        node = {"name": name,
                "pre_memory": [{"layer": "conv", "filters": width,
                                "kernel_size": 3, "activation": "elu",
                                "weight_decay": weight_decay}],
                "cell": cells.get(name),
                "post_memory": [dict(MAX_POOL)]}
        if i == 1:
            node["input_shape"] = list(input_shape)
        nodes.append(node)
    # Flatten first: tnn's FlatDense flattens too, but its Keras input spec
    # then rejects the unflattened map.
    nodes.append({"name": "readout",
                  "pre_memory": [{"layer": "flatten"},
                                 {"layer": "fc", "units": num_classes,
                                  "bias_initializer": 0.0,
                                  "weight_decay": weight_decay}]})
    names = [n["name"] for n in nodes]
    edges = list(zip(names[:-1], names[1:])) + [tuple(e) for e in feedback]
    return {"nodes": nodes, "edges": edges, "output": "readout"}


def convrnn_spec(widths=DEFAULT_WIDTHS, num_classes=10,
                 input_shape=(32, 32, 1), cell_from=2, weight_decay=1e-4,
                 feedback=()):
    """Spec of the ConvRNN: RGCs (cell depth = width) in conv`cell_from`…."""
    widths = _check_widths(widths)
    _check_cell_from(cell_from, widths)
    cells = {f"conv{i}": {"cell": "ReciprocalGatedCell", "filters": w,
                          "cell_depth": w, "weight_decay": weight_decay,
                          **RGC_SETTINGS}
             for i, w in enumerate(widths, start=1) if i >= cell_from}
    return chain_spec(widths, num_classes, input_shape, cells,
                      weight_decay, feedback)


def feedforward_params(widths, num_classes, input_shape):
    """Parameter count of `chain_spec` without cells (3×3 convs + dense)."""
    height, width_px, previous = input_shape
    total = 0
    for width in widths:
        total += 9 * previous * width + width
        previous = width
        height, width_px = math.ceil(height / 2), math.ceil(width_px / 2)
    flat = height * width_px * previous
    return total + flat * num_classes + num_classes


def matched_widths(widths, target_params, num_classes, input_shape):
    """`widths` scaled by one factor so the plain chain has ~target params.

    The factor is found by bisection on the (monotone) parameter count;
    widths are rounded to ints.
    """
    widths = _check_widths(widths)
    low, high = 0.1, 100.0
    for _ in range(60):
        mid = (low + high) / 2
        scaled = [max(1, round(w * mid)) for w in widths]
        params = feedforward_params(scaled, num_classes, input_shape)
        if params < target_params:
            low = mid
        else:
            high = mid
    best = None
    for factor in (low, high):
        scaled = tuple(max(1, round(w * factor)) for w in widths)
        gap = abs(feedforward_params(scaled, num_classes, input_shape)
                  - target_params)
        if best is None or gap < best[0]:
            best = (gap, scaled)
    return best[1]


@gin.configurable
def small_convrnn(input_shape=(32, 32, 1), num_classes=10,
                  widths=DEFAULT_WIDTHS, cell_from=2, times=12,
                  image_off=None, weight_decay=1e-4, feedback=(),
                  name="small_convrnn"):
    """The demo ConvRNN as a `TNNGraph`.

    Args:
        input_shape: `(H, W, C)` of the (normalised) images.
        num_classes: readout units.
        widths: channels of conv1 … convN (3–4 layers suit 28–32 px).
        cell_from: first conv layer with a Reciprocal Gated Cell.
        times: steps T.
        image_off: first blank step (None: image at every step).
        weight_decay: TF1 L2 scale of every kernel.
        feedback: extra `(source, target)` edges, e.g. `("conv3", "conv2")`.
        name: model name.
    """
    spec = convrnn_spec(widths, num_classes, input_shape, cell_from,
                        weight_decay, feedback)
    return TNNGraph(spec, input_shape=tuple(input_shape), times=times,
                    image_off=image_off, name=name)


@gin.configurable
def small_feedforward(input_shape=(32, 32, 1), num_classes=10,
                      widths=DEFAULT_WIDTHS, cell_from=2, times=12,
                      image_off=None, weight_decay=1e-4,
                      match_params=True, name="small_feedforward"):
    """The parameter-matched feedforward control of `small_convrnn`.

    With `match_params`, `widths` (and `cell_from`) describe the ConvRNN
    to match: its parameter count is computed and the plain chain is
    widened to it (`matched_widths`); otherwise `widths` are used as is.
    Other arguments as in `small_convrnn`.
    """
    widths = _check_widths(widths)
    if match_params:
        target = TNNGraph(convrnn_spec(widths, num_classes, input_shape,
                                       cell_from, weight_decay),
                          input_shape=tuple(input_shape), times=times,
                          image_off=image_off).count_params()
        widths = matched_widths(widths, target, num_classes,
                                tuple(input_shape))
    spec = chain_spec(widths, num_classes, input_shape, None, weight_decay)
    return TNNGraph(spec, input_shape=tuple(input_shape), times=times,
                    image_off=image_off, name=name)
