"""Which TF1 checkpoint variable fills which Keras weight (reference §8).

Every name is relative to the zoo's `tnn_model/` scope:

    <node>/pre_<i>/weights_basenet   component_conv kernel (the first conv of
                                     a non-readout node's pre-memory); with
                                     several concatenated harbor inputs it is
                                     split per input: `weights_basenet` for
                                     the feed-forward input, `weights_0`,
                                     `weights_1`, ... for the others in
                                     harbor order (§1.5)
    <node>/pre_<i>/weights, bias     any other conv / fc (`post_<i>` alike)
    <node>/post_<i>/residual_add_weights
    <node>/<CellClass>/...           the cell's `tf1_variable_names()`
    <node>/memory_decay              a time-decay cell's decay; in nodes
                                     without a cell the non-trainable decay
                                     of the pass-through memory: optional,
                                     and it must be 0
    probs/softmax_beta, ...          decoder variables (§8.4), named by
                                     `decoder_names`

    <node>/pre_<i>/post_conv_BN/{gamma,beta,moving_mean,moving_variance}
                                     batch norm of a conv / fc op

The TF1 index `i` counts original ops. Graph specs list one layer per
original op (the zoo tables and `tnn.interop.tnn_json` keep dropout layers
of keep_prob 1 for that reason), except that a JSON conv / fc with
`batch_norm` or its own `dropout` adds layers; `tnn.interop.tnn_json` names
those `<pre|post>_<op>_<role>` (e.g. `pre_0_post_conv_BN`), and
`op_layers` reads the op back from that name. Every other layer is one op.
"""

import dataclasses
import re

import keras

from tnn.graphs.layers import FlatDense, ResidualAdd
from tnn.interop.tf1_checkpoint import decoder_names

SCOPE = "tnn_model"
# Keras name of a layer that a JSON op added to its conv / fc.
_EXTRA = re.compile(r"(pre|post)_(\d+)_(\w+)")
_BN_WEIGHTS = ("gamma", "beta", "moving_mean", "moving_variance")


@dataclasses.dataclass
class Target:
    """One Keras weight and its TF1 source(s).

    Args:
        variable: the Keras variable.
        names: TF1 names (without the `tnn_model/` scope); several names are
            concatenated along `axis` (a component_conv kernel split per
            harbor input).
        shapes: expected TF1 shape of each name.
        axis: concatenation axis.
    """

    variable: object
    names: list
    shapes: list
    axis: int = 2


@dataclasses.dataclass
class VariableMap:
    """The TF1 ↔ Keras correspondence of one model (and its decoder).

    Args:
        targets: list of `Target`, one per Keras weight.
        zero_memory: TF1 names of pass-through memories (optional in a
            checkpoint; their value must be 0).
    """

    targets: list
    zero_memory: list

    def expected_shapes(self):
        """{TF1 name: shape} of every variable the model needs."""
        shapes = {}
        for target in self.targets:
            shapes.update(zip(target.names, target.shapes))
        return shapes


class UnmappedWeightError(ValueError):
    """A Keras weight with no known TF1 name."""


def _component_conv_target(model, node_name, layer, prefix):
    """The first pre-memory conv: one kernel slice per harbor input."""
    node = model.graph_nodes[node_name]
    kernel = layer.kernel
    kh, kw, _, out = (int(d) for d in kernel.shape)
    harbor = node.harbor
    names = [f"{prefix}/weights_basenet"]
    shapes = [tuple(int(d) for d in kernel.shape)]
    if (harbor.channel_op == "concat" and not harbor.split_feedback
            and harbor.projection is None and len(node.input_names) > 1):
        names, shapes, k = [], [], 0
        for index, source in enumerate(node.input_names):
            if source in model.graph_nodes:
                channels = model.output_shapes[source][-1]
            else:
                channels = model.graph_input_shape[-1]
            if index == harbor.ff_index:
                names.append(f"{prefix}/weights_basenet")
            else:
                names.append(f"{prefix}/weights_{k}")
                k += 1
            shapes.append((kh, kw, int(channels), out))
    return Target(kernel, names, shapes)


def _single(variable, name):
    return Target(variable, [name], [tuple(int(d) for d in variable.shape)])


def op_layers(layers, position):
    """`(op index, layer)` per layer of a node's pre- or post-memory list.

    A layer named `<position>_<op>_<role>` belongs to original op `<op>`
    (added by `tnn.interop.tnn_json` to that op's conv / fc); every other
    layer is one original op, counted in order.
    """
    ops, count = [], 0
    for layer in layers:
        match = _EXTRA.fullmatch(layer.name)
        if match and match.group(1) == position:
            ops.append((int(match.group(2)), layer))
        else:
            ops.append((count, layer))
            count += 1
    return ops


def _batch_norm_targets(layer, prefix):
    by_name = {w.name: w for w in layer.weights}
    return [_single(by_name[n], f"{prefix}/post_conv_BN/{n}")
            for n in _BN_WEIGHTS if n in by_name]


def _layer_targets(model, node_name, layer, prefix, component):
    if not layer.weights:
        return []
    if isinstance(layer, keras.layers.BatchNormalization):
        return _batch_norm_targets(layer, prefix)
    if isinstance(layer, keras.layers.Conv2D):
        targets = [_component_conv_target(model, node_name, layer, prefix)
                   if component else _single(layer.kernel,
                                             f"{prefix}/weights")]
    elif isinstance(layer, (FlatDense, keras.layers.Dense)):
        targets = [_single(layer.kernel, f"{prefix}/weights")]
    elif isinstance(layer, ResidualAdd):
        return [_single(layer.projection, f"{prefix}/residual_add_weights")]
    else:
        raise UnmappedWeightError(
            f"Layer {layer.path} ({type(layer).__name__}) has weights but no "
            f"TF1 checkpoint names; only conv, fc, batch norm and "
            f"residual_add layers (and the cells) are mapped.")
    if layer.use_bias:
        targets.append(_single(layer.bias, f"{prefix}/bias"))
    return targets


def _cell_targets(node_name, cell):
    names = cell.tf1_variable_names()
    by_path = {w.path[len(cell.path) + 1:]: w for w in cell.weights}
    unnamed = sorted(set(by_path) - set(names))
    if unnamed:
        raise UnmappedWeightError(
            f"{type(cell).__name__} {cell.path}: weights {unnamed} are "
            f"missing from its tf1_variable_names().")
    return [_single(by_path[rel], f"{node_name}/{tf1}")
            for rel, tf1 in names.items()]


def variable_map(model, decoder=None, component_conv_nodes=None):
    """The TF1 names of every weight of a `TNNGraph` (and a decoder).

    Args:
        model: a built `TNNGraph`.
        decoder: optional temporal decoder (`tnn.readouts`), built.
        component_conv_nodes: nodes whose first pre-memory conv is a
            `component_conv` (`weights_basenet`); default: every node but
            the readout, as in all zoo graphs. Pass the set explicitly for
            graphs whose first conv was a plain `conv` (e.g. tnn AlexNet).

    Returns:
        `VariableMap`.
    """
    if component_conv_nodes is None:
        component_conv_nodes = [n for n in model.spec.node_names
                                if n != model.spec.output]
    targets, zero_memory = [], []
    for node_name in model.spec.node_names:
        node = model.graph_nodes[node_name]
        component = node_name in component_conv_nodes
        for position, layers in (("pre", node.pre_memory),
                                 ("post", node.post_memory)):
            for index, layer in op_layers(layers, position):
                first_conv = (component and position == "pre"
                              and isinstance(layer, keras.layers.Conv2D))
                targets += _layer_targets(model, node_name, layer,
                                          f"{node_name}/{position}_{index}",
                                          first_conv)
                if first_conv:
                    component = False
        if node.cell is None:
            zero_memory.append(f"{node_name}/memory_decay")
        else:
            targets += _cell_targets(node_name, node.cell)
    if decoder is not None:
        by_name = {w.name: w for w in decoder.weights}
        names = decoder_names.tf1_variable_names(decoder)
        for keras_name, tf1 in names.items():
            targets.append(_single(by_name[keras_name], tf1))
    _check_complete(model, decoder, targets)
    return VariableMap(targets, zero_memory)


def _check_complete(model, decoder, targets):
    mapped = {id(t.variable) for t in targets}
    weights = list(model.weights) + (list(decoder.weights) if decoder else [])
    left = [w.path for w in weights if id(w) not in mapped]
    if left:
        raise UnmappedWeightError(
            f"Keras weights without a TF1 name: {left}; the converter "
            f"cannot fill them.")
    tf1 = [n for t in targets for n in t.names]
    dupes = sorted({n for n in tf1 if tf1.count(n) > 1})
    if dupes:
        raise UnmappedWeightError(f"TF1 names used twice: {dupes}.")
