"""tnn.search: spaces as data, samples as GraphSpecs, bad input."""

import json

import gin
import pytest

from tnn.graphs.spec import GraphSpec
from tnn.search import (BudgetError, CellChoice, FixedSuggest, NodeChoices,
                        RandomSuggest, SampleRejected, SearchSpace,
                        SearchSpaceError, STANDARD_CELLS, check_budget,
                        demo_space, sample_spec, searched_model)
from tnn.zoo.small_models import feedforward_params

SHAPE = (16, 16, 1)
FEEDBACK = (("conv3", "conv2"), ("conv3", "conv1"))


def tiny_space(**overrides):
    kwargs = dict(widths=((4,), (4, 8), (8,)), kernel_sizes=(3,),
                  cells=("rgc", "gru", "timedecay", "none"),
                  feedback=FEEDBACK, skips=(("conv1", "conv3"),),
                  times=(4, 5), image_off=(None, 3), max_params=None)
    kwargs.update(overrides)
    return demo_space(**kwargs)


def draw(space, seed):
    return sample_spec(space, RandomSuggest(seed), SHAPE, 10)


def test_sampling_is_deterministic_and_yields_specs_that_build():
    space = tiny_space()
    first = [draw(space, seed) for seed in range(6)]
    again = [draw(space, seed) for seed in range(6)]
    assert [s.to_dict() for s in first] == [s.to_dict() for s in again]
    assert len({json.dumps(s.to_dict(), sort_keys=True)
                for s in first}) > 1
    for sample in first:
        assert isinstance(sample.spec, GraphSpec)
        GraphSpec.from_dict(json.loads(json.dumps(sample.spec.to_dict())))
        model = sample.build()
        assert model.times == sample.times
        assert model.image_off == sample.image_off
        assert model.count_params() == sample.num_params > 0


def test_sampled_edges_are_the_chain_plus_candidates():
    space = tiny_space()
    chain = [("conv1", "conv2"), ("conv2", "conv3"), ("conv3", "readout")]
    seen = set()
    for seed in range(12):
        spec = draw(space, seed).spec
        assert spec.edges[:3] == chain
        extra = spec.edges[3:]
        assert set(extra) <= set(FEEDBACK) | {("conv1", "conv3")}
        seen |= set(extra)
        feedback = spec.feedback_sources()
        for src, dst in extra:
            # the graph itself classifies them: feedback goes backwards
            assert (src in feedback[dst]) == ((src, dst) in FEEDBACK)
    assert seen == set(FEEDBACK) | {("conv1", "conv3")}


def test_plain_chain_count_matches_the_closed_form():
    space = tiny_space()
    sample = sample_spec(space, FixedSuggest({
        "conv2.width": 8, "conv2.cell": "none", "conv3.cell": "none",
        "feedback.conv3->conv2": False, "feedback.conv3->conv1": False,
        "skip.conv1->conv3": False}), SHAPE, 10)
    # 3x3 convs + biases, 2x2 pools, dense readout on 2x2x8 (hand formula)
    assert sample.num_params == feedforward_params((4, 8, 8), 10, SHAPE)
    assert sample.num_params == (9 * 4 + 4) + (9 * 4 * 8 + 8) + (
        9 * 8 * 8 + 8) + (2 * 2 * 8 * 10 + 10)


def test_cell_hyperparameters_reach_the_spec():
    sample = sample_spec(tiny_space(), FixedSuggest({
        "conv2.cell": "rgc", "conv2.rgc.gating": "off",
        "conv2.rgc.memory_drive": "residual",
        "conv2.rgc.tau_filter_size": 1}), SHAPE, 10)
    cell = sample.spec.node("conv2").cell
    assert cell["cell"] == "ReciprocalGatedCell"
    assert (cell["tau_multiplier"], cell["gate_multiplier"]) == (0.0, 0.0)
    assert (cell["cell_residual"], cell["input_to_cell"]) == (True, False)
    assert cell["tau_filter_size"] == 1
    assert cell["filters"] == cell["cell_depth"] == 4
    assert sample.spec.node("conv1").cell is None


def test_searched_model_rebuilds_a_sample_from_gin_bindings():
    sample = draw(tiny_space(), 3)
    gin.clear_config()
    try:
        gin.bind_parameter("searched_model.spec", sample.spec.to_dict())
        gin.bind_parameter("searched_model.times", sample.times)
        gin.bind_parameter("searched_model.image_off", sample.image_off)
        model = searched_model(input_shape=SHAPE, num_classes=10)
    finally:
        gin.clear_config()
    assert model.count_params() == sample.num_params
    assert (model.times, model.image_off) == (sample.times, sample.image_off)


def test_space_round_trips_through_json():
    space = tiny_space()
    data = json.loads(json.dumps(space.to_dict()))
    again = SearchSpace.from_dict(data)
    assert [draw(again, s).to_dict() for s in range(2)] == \
        [draw(space, s).to_dict() for s in range(2)]


def test_budget_rejects_samples_and_impossible_budgets():
    space = tiny_space(max_params=3000)
    outcomes = []
    for seed in range(10):
        try:
            outcomes.append(draw(space, seed).num_params)
        except SampleRejected as err:
            assert "above the budget's max_params 3,000" in str(err)
            outcomes.append(None)
    assert None in outcomes and any(o is not None for o in outcomes)
    assert all(o is None or o <= 3000 for o in outcomes)
    low, high = check_budget(space, SHAPE, 10)
    assert low <= min(o for o in outcomes if o) and low < high
    with pytest.raises(BudgetError, match=r"No sample of search space "
                       r"'demo' meets the parameter budget \[0, 100\]"):
        check_budget(tiny_space(max_params=100), SHAPE, 10)
    with pytest.raises(BudgetError, match="widen the budget"):
        check_budget(tiny_space(min_params=10**8, max_params=None), SHAPE,
                     10)


def test_image_off_after_the_last_step_is_rejected():
    space = tiny_space(times=(4, 6), image_off=(5,))
    with pytest.raises(SampleRejected, match="image_off=5 is not before"):
        sample_spec(space, FixedSuggest({"times": 4}), SHAPE, 10)


NO_DRIVE = CellChoice(cell="ReciprocalGatedCell",
                      width_args=("filters",),
                      fixed={"input_to_cell": False},
                      params={"cell_residual": (False,),
                              "out_residual": (False, True)})
DEAD_VALUE = CellChoice(cell="ReciprocalGatedCell", width_args=("filters",),
                        params={"feedback_entry": ("out", "sideways")})


def space_with(**changes):
    base = dict(nodes=[NodeChoices("conv1", (4,)),
                       NodeChoices("conv2", (8,), cells=("rgc", "none"))],
                cells=dict(STANDARD_CELLS), times=(4,))
    base.update(changes)
    return SearchSpace(**base)


@pytest.mark.parametrize("changes,message", [
    ({"nodes": []}, "has no nodes"),
    ({"nodes": [NodeChoices("conv1", ())]}, "conv1' widths: no choices"),
    ({"nodes": [NodeChoices("conv1", (4, 0))]}, "positive ints, got 0"),
    ({"nodes": [NodeChoices("conv1", (4,), cells=())]},
     "has no cell choices"),
    ({"nodes": [NodeChoices("conv1", (4,), cells=("lstmm",))]},
     r"names cell choices \['lstmm'\]"),
    ({"cells": {}}, "names cell choices"),
    ({"cells": {"rgc": CellChoice(cell="Nope"), "none": CellChoice()}},
     "unknown cell 'Nope'"),
    ({"cells": {"rgc": NO_DRIVE, "none": CellChoice()}},
     "Contradictory cell choice 'rgc'.*memory needs a drive"),
    ({"cells": {"rgc": DEAD_VALUE, "none": CellChoice()}},
     "feedback_entry='sideways' never builds"),
    ({"feedback": [("conv2", "v4")]}, "'v4' is not a node"),
    ({"feedback": [("conv1", "conv2")]}, "does not go from a later"),
    ({"feedback": [("conv2", "conv2")]}, "does not go from a later"),
    ({"skips": [("conv2", "conv1")]}, "must go forward past"),
    ({"feedback": [("conv2", "conv1"), ("conv2", "conv1")]},
     "listed twice"),
    ({"times": ()}, "times: no choices"),
    ({"times": (4,), "image_off": (4, 6)}, "Contradictory presentation"),
    ({"times": (2, 4)}, r"times \[2\] too few"),
    ({"min_params": 10, "max_params": 5}, "Contradictory budget"),
    ({"readout": "softmax"}, "readout must be one of"),
])
def test_bad_spaces_name_the_problem(changes, message):
    with pytest.raises(SearchSpaceError, match=message):
        space_with(**changes)
