"""Arms at a matched parameter budget (`tnn.search.matched`)."""

import pytest

from tnn.search import matched
from tnn.search.sample import SampleRejected
from tnn.zoo import small_models

DEBRIS = (32, 32, 1)


def test_reference_arm_is_the_demo_convrnn():
    arm = matched.arm_sample("rgc", (16, 32, 48), DEBRIS, times=12)
    demo = small_models.small_convrnn(input_shape=DEBRIS)
    assert arm.num_params == demo.count_params() == 194_554
    assert matched.arm_widths(arm) == (16, 32, 48)
    cells = [n.cell for n in arm.spec.nodes if n.cell]
    assert [c["cell"] for c in cells] == ["ReciprocalGatedCell"] * 2
    # rgc_shallow's settings, as the demo ConvRNN
    assert all(c["tau_filter_size"] == 3 and c["input_to_cell"]
               and c["residual_to_out_gate"] for c in cells)


@pytest.mark.parametrize("cell", ["lstm", "gru", "ugrnn", "simplernn",
                                  "timedecay", "none"])
def test_arms_within_five_percent(cell):
    target = 194_554
    arm = matched.matched_arm(cell, target, input_shape=DEBRIS)
    assert abs(arm.num_params - target) <= 0.05 * target
    assert arm.build().count_params() == arm.num_params
    widths = matched.arm_widths(arm)
    assert widths[0] < widths[1] < widths[2]


def test_feedforward_arm_equals_the_demo_control():
    control = small_models.small_feedforward(input_shape=DEBRIS,
                                             match_params=True)
    arm = matched.matched_arm("none", 194_554, input_shape=DEBRIS)
    assert arm.num_params == pytest.approx(control.count_params(), rel=0.01)


def test_errors_name_the_problem():
    with pytest.raises(SampleRejected, match="unknown arm cell 'cnn'"):
        matched.arm_sample("cnn")
    with pytest.raises(SampleRejected, match="cannot be matched to 50"):
        matched.matched_arm("rgc", 50, input_shape=DEBRIS)
