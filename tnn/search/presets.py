"""Cell choices and search spaces shipped with tnn (gin-configurable).

`STANDARD_CELLS` are the local cells of the search, each with the
hyperparameter ranges a search may choose:

- "rgc": the Reciprocal Gated Cell with rgc_shallow's settings
  (`tnn.zoo.shallow.RGC_SETTINGS`) and switches for its gating (sigmoid
  or tanh gates, or none: multipliers 0, so memory and output simply
  accumulate) and bypassing (the input enters the output directly or
  through a conv, `input_to_out`; the residual gates the output or is
  added to it; the memory is driven by the input or the residual), and
  the kernel sizes of its self (tau) and reciprocal gate convs;
- "lstm", "gru", "ugrnn", "simplernn": the conv cells of §3 with their
  kernel size (and the LSTM's peepholes);
- "timedecay": the learnable leaky memory of timedecay_shallow;
- "none": no cell (a plain conv node).

`demo_space` is the small digit-debris ConvRNN of `make demo`
(`tnn.zoo.small_models`) with these choices at conv2 and conv3;
`shallow_space` is the 6-layer zoo backbone (§4.1) at ImageNet scale with
the choices at conv3–conv5.
"""

import gin

from tnn.search.space import NONE, CellChoice, NodeChoices, SearchSpace
from tnn.zoo.shallow import RGC_SETTINGS

_RGC_FIXED = {k: v for k, v in RGC_SETTINGS.items()
              if k not in ("tau_filter_size", "gate_filter_size",
                           "tau_nonlinearity", "gate_nonlinearity",
                           "residual_to_out_gate", "input_to_cell")}

STANDARD_CELLS = {
    "rgc": CellChoice(
        cell="ReciprocalGatedCell", width_args=("filters", "cell_depth"),
        fixed=_RGC_FIXED,
        params={
            "gating": {
                "sigmoid": {"tau_nonlinearity": "sigmoid",
                            "gate_nonlinearity": "sigmoid"},
                "tanh": {"tau_nonlinearity": "tanh",
                         "gate_nonlinearity": "tanh"},
                "off": {"tau_multiplier": 0.0, "gate_multiplier": 0.0}},
            "input_to_out": (False, True),
            "residual": {
                "to_out_gate": {"residual_to_out_gate": True},
                "add_to_out": {"out_residual": True},
                "none": {}},
            "memory_drive": {
                "input": {"input_to_cell": True},
                "residual": {"input_to_cell": False, "cell_residual": True},
                "both": {"input_to_cell": True, "cell_residual": True}},
            "tau_filter_size": (1, 3),
            "gate_filter_size": (1, 3)}),
    "lstm": CellChoice(cell="ConvLSTMCell",
                       params={"kernel_size": (2, 3),
                               "use_peepholes": (False, True)}),
    "gru": CellChoice(cell="ConvGRUCell", params={"kernel_size": (1, 3)}),
    "ugrnn": CellChoice(cell="ConvUGRNNCell",
                        params={"kernel_size": (1, 3)}),
    "simplernn": CellChoice(cell="ConvRNNCell",
                            fixed={"activation": "elu"},
                            params={"kernel_size": (1, 3)}),
    "timedecay": CellChoice(cell="TimeDecayCell", width_args=(),
                            weight_decay=False),
    NONE: CellChoice(cell=None),
}
ALL_CELLS = ("rgc", "lstm", "gru", "ugrnn", "simplernn", "timedecay", NONE)


@gin.configurable
def demo_space(widths=((8, 16), (16, 32), (24, 48)), kernel_sizes=(3, 5),
               cells=ALL_CELLS, cell_from=2,
               feedback=(("conv3", "conv2"), ("conv3", "conv1")),
               skips=(), times=(8, 12), image_off=(None, 6),
               min_params=None, max_params=150_000, readout="dense",
               weight_decay=1e-4):
    """The demo ConvRNN's space: conv1 → … → convN → dense readout.

    Args:
        widths: per node, the candidate channel counts (N = its length).
        kernel_sizes: candidate kernel sizes of every conv.
        cells: the cell choices of nodes conv`cell_from`…convN (keys of
            `STANDARD_CELLS`); earlier nodes have none.
        cell_from: the first node with a cell.
        feedback, skips: candidate long-range edges.
        times, image_off: candidate presentations.
        min_params, max_params: the parameter budget.
        readout: "dense" or "conv_avg".
        weight_decay: TF1 L2 scale.
    """
    nodes = [NodeChoices(name=f"conv{i}", widths=tuple(w),
                         kernel_sizes=tuple(kernel_sizes),
                         cells=tuple(cells) if i >= cell_from else (NONE,))
             for i, w in enumerate(widths, start=1)]
    return SearchSpace(nodes=nodes, cells=dict(STANDARD_CELLS),
                       feedback=feedback, skips=skips, times=times,
                       image_off=image_off, min_params=min_params,
                       max_params=max_params, readout=readout,
                       weight_decay=weight_decay, name="demo")


@gin.configurable
def shallow_space(widths=((64,), (128,), (128, 256), (256,), (256, 512)),
                  cells=ALL_CELLS, kernel_sizes=(3,),
                  feedback=(("conv5", "conv3"), ("conv4", "conv3"),
                            ("conv5", "conv4"), ("conv4", "conv2"),
                            ("conv5", "conv2")),
                  skips=(("conv2", "conv4"), ("conv3", "conv5")),
                  times=(16,), image_off=(12,), min_params=None,
                  max_params=10_000_000, weight_decay=1e-4):
    """The 6-layer zoo backbone (§4.1): conv1 7×7/2, conv2–conv5 3×3, each
    with a 2×2 max pool, the `imnetds` readout (2×2 conv + average pool);
    cells at conv3–conv5; feedback and skips among conv2–conv5. Presentation
    as the zoo's training (`times` 16, `image_off` 12, reference §5.2).
    """
    nodes = [NodeChoices(name="conv1", widths=tuple(widths[0]),
                         kernel_sizes=(7,), strides=2)]
    nodes += [NodeChoices(name=f"conv{i}", widths=tuple(w),
                          kernel_sizes=tuple(kernel_sizes),
                          cells=tuple(cells) if i >= 3 else (NONE,))
              for i, w in enumerate(widths[1:], start=2)]
    return SearchSpace(nodes=nodes, cells=dict(STANDARD_CELLS),
                       feedback=feedback, skips=skips, times=times,
                       image_off=image_off, min_params=min_params,
                       max_params=max_params, readout="conv_avg",
                       weight_decay=weight_decay, name="shallow")
