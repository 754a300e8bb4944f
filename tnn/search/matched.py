"""Hand-designed arms at a matched parameter budget (cell comparisons).

A fair comparison of local cells (Nayebi et al. 2018, Fig. 2: gated cells
with bypass beat LSTM, GRU and vanilla RNN cells *at matched parameters*)
gives every arm the same backbone and the same number of parameters:

    sample = matched_arm("lstm", target_params=150_000)
    sample.num_params            # within ±5% of 150,000
    model = sample.build()

`matched_arm` puts one cell choice of `STANDARD_CELLS` (with the
hand-designed hyperparameters `HAND_DESIGNED`) in nodes `cell_from`… of the
demo chain (`tnn.search.demo_space`: conv → [cell] → 2×2 pool per node,
dense readout) and scales every conv's width by one common factor until
the built model's parameter count is the closest to `target_params`; an
arm that cannot come within `tolerance` raises `SampleRejected`. The arm
"none" is the parameter-matched feed-forward control (no cells).
"""

from tnn.search import presets
from tnn.search.sample import FixedSuggest, SampleRejected, sample_spec
from tnn.search.space import NONE

# The hand-designed cells: the Reciprocal Gated Cell with rgc_shallow's
# settings (sigmoid gates, 3×3 tau and gate convs, input into the memory,
# residual gating the output; as `tnn.zoo.small_models`), and the standard
# cells with 3×3 kernels (no LSTM peepholes).
HAND_DESIGNED = {
    "rgc": {"gating": "sigmoid", "input_to_out": False,
            "residual": "to_out_gate", "memory_drive": "input",
            "tau_filter_size": 3, "gate_filter_size": 3},
    "lstm": {"kernel_size": 3, "use_peepholes": False},
    "gru": {"kernel_size": 3},
    "ugrnn": {"kernel_size": 3},
    "simplernn": {"kernel_size": 3},
    "timedecay": {},
    NONE: {},
}
BASE_WIDTHS = (16, 32, 48)


def arm_sample(cell, widths=BASE_WIDTHS, input_shape=(32, 32, 1),
               num_classes=10, cell_from=2, times=12, image_off=None,
               kernel_size=3, hyperparameters=None, count=True):
    """The chain with `cell` (a `STANDARD_CELLS` key) at the given widths.

    Args:
        cell: "rgc", "lstm", "gru", "ugrnn", "simplernn", "timedecay" or
            "none".
        widths: channels of conv1…convN.
        input_shape, num_classes: the task's.
        cell_from: first node with a cell.
        times, image_off: the presentation.
        kernel_size: of every conv.
        hyperparameters: the cell's choices (default `HAND_DESIGNED`).
        count: build the model and count its parameters.
    """
    if cell not in HAND_DESIGNED:
        raise SampleRejected(f"unknown arm cell {cell!r}; choose one of "
                             f"{sorted(HAND_DESIGNED)}.")
    space = presets.demo_space(
        widths=tuple((int(w),) for w in widths), kernel_sizes=(kernel_size,),
        cells=(cell,), cell_from=cell_from, feedback=(), times=(times,),
        image_off=(image_off,), max_params=None)
    chosen = dict(HAND_DESIGNED[cell] if hyperparameters is None
                  else hyperparameters)
    fixed = {f"conv{i}.{cell}.{name}": value
             for i in range(cell_from, len(widths) + 1)
             for name, value in chosen.items()}
    return sample_spec(space, FixedSuggest(fixed), tuple(input_shape),
                       num_classes, count=count)


def scaled_widths(widths, scale):
    """`widths` times `scale`, rounded, at least 1."""
    return tuple(max(1, int(round(w * scale))) for w in widths)


def matched_arm(cell, target_params, widths=BASE_WIDTHS, tolerance=0.05,
                **kwargs):
    """`arm_sample(cell, …)` with widths scaled to `target_params`.

    Bisects the common scale factor of `widths` (on a log scale, 0.1–10)
    and keeps the closest count; raises `SampleRejected` if it is more
    than `tolerance` (relative) away.
    """
    def count(scale):
        sample = arm_sample(cell, scaled_widths(widths, scale), **kwargs)
        return sample, sample.num_params

    low, high = 0.1, 10.0
    best = None
    for _ in range(24):
        scale = (low * high) ** 0.5
        sample, params = count(scale)
        if best is None or abs(params - target_params) < abs(
                best.num_params - target_params):
            best = sample
        if params == target_params:
            break
        if params < target_params:
            low = scale
        else:
            high = scale
        if high / low < 1.0005:
            break
    error = abs(best.num_params - target_params) / target_params
    if error > tolerance:
        raise SampleRejected(
            f"arm {cell!r} cannot be matched to {target_params:,} parameters "
            f"within {tolerance:.0%}: the closest has {best.num_params:,} "
            f"({error:.1%} off); change widths or the target.")
    return best


def arm_widths(sample):
    """The conv widths of a chain sample, in node order."""
    return tuple(node.pre_memory[0]["filters"] for node in sample.spec.nodes
                 if node.name != "readout")
