import pytest

from tests.graphs.helpers import chain_spec
from tnn.graphs import GraphSpec, GraphSpecError


def test_chain_first_image_steps_biological():
    spec = GraphSpec(**chain_spec(n=4))
    steps = spec.first_image_steps("biological")
    # Node k of a chain (conv1 = 1) is image-driven from step k - 1.
    assert steps == {"conv1": 0, "conv2": 1, "conv3": 2, "conv4": 3,
                     "readout": 4}
    assert spec.longest_path() == 4


def test_feedforward_mode_steps_and_feedback_delay():
    spec = GraphSpec(**chain_spec(n=4, feedback=[("conv4", "conv2")]))
    assert spec.first_image_steps("feedforward") == {
        "conv1": 0, "conv2": 0, "conv3": 0, "conv4": 0, "readout": 0}
    assert spec.feedforward_order() == ["conv1", "conv2", "conv3", "conv4",
                                        "readout"]


def test_skip_edge_shortens_biological_path():
    spec = GraphSpec(**chain_spec(n=4, skip=[("conv1", "conv3")]))
    steps = spec.first_image_steps("biological")
    assert steps["conv3"] == 1 and steps["readout"] == 3
    assert spec.longest_path() == 4


def test_node_reached_only_through_feedback():
    spec = chain_spec(n=3)
    spec["nodes"].insert(1, {"name": "side", "pre_memory": []})
    spec["edges"].append(("conv3", "side"))
    spec["edges"].append(("side", "conv1"))
    g = GraphSpec(**spec)
    assert g.first_image_steps("biological")["side"] == 3
    # In the per-step feed-forward unroll conv3 -> side is feed-forward...
    order = g.feedforward_order()
    assert order.index("conv3") < order.index("side")
    # ...and side -> conv1 is feedback (closes the cycle).
    assert g.first_image_steps("feedforward")["side"] == 0


def test_alphabetical_and_declared_input_order():
    spec = chain_spec(n=10)
    spec["edges"] += [("conv9", "conv6"), ("conv7", "conv6")]
    declared = GraphSpec(**spec)
    assert declared.ordered_inputs("conv6") == ["conv5", "conv9", "conv7"]
    alpha = GraphSpec(**spec, input_order="alphabetical")
    assert alpha.ordered_inputs("conv6") == ["conv5", "conv7", "conv9"]
    spec2 = chain_spec(n=10, feedback=[("conv10", "conv7")])
    alpha2 = GraphSpec(**spec2, input_order="alphabetical")
    # Python string order: "conv10" < "conv6"; split cells keep ff first.
    assert alpha2.ordered_inputs("conv7") == ["conv10", "conv6"]
    assert alpha2.ordered_inputs("conv7", split_feedback=True) == [
        "conv6", "conv10"]


def test_round_trip_dict():
    spec = GraphSpec(**chain_spec(n=3, feedback=[("conv3", "conv1")]))
    again = GraphSpec.from_dict(spec.to_dict())
    assert again.to_dict() == spec.to_dict()


@pytest.mark.parametrize("mutate, message", [
    (lambda s: s["edges"].append(("conv2", "nowhere")),
     r"Edge \('conv2' -> 'nowhere'\) refers to unknown node 'nowhere'"),
    (lambda s: s["nodes"].append({"name": "island"}),
     r"Node 'island' has no incoming edge and no input_shape"),
    (lambda s: (s["nodes"].append({"name": "a"}),
                s["nodes"].append({"name": "b"}),
                s["edges"].extend([("a", "b"), ("b", "a")])),
     r"cannot be reached from the input"),
    (lambda s: s["nodes"].append(dict(s["nodes"][1])),
     r"Duplicate node name 'conv2'"),
    (lambda s: s["nodes"][1].update(shape_from="conv3"),
     r"shape_from='conv3' is not one of its predecessors"),
    (lambda s: s["nodes"][1].update(colour="red"),
     r"unknown keys \['colour'\]"),
    (lambda s: s["nodes"][1].update(cell={"filters": 3}),
     r"'cell' key"),
    (lambda s: s["nodes"][1].update(pre_memory=[{"filters": 3}]),
     r"'layer' key"),
    (lambda s: s["nodes"][1].update(harbor={"channel_op": "mean"}),
     r"channel_op must be one of"),
    (lambda s: s["nodes"][0].update(input_shape=[16, 16]),
     r"input_shape must be \[H, W, C\]"),
    (lambda s: s.update(output="conv9"), r"Readout node 'conv9'"),
    (lambda s: s.update(input_order="random"), r"input_order must be"),
])
def test_bad_specs_raise_clear_errors(mutate, message):
    spec = chain_spec(n=3)
    mutate(spec)
    with pytest.raises(GraphSpecError, match=message):
        GraphSpec(**spec)


def test_ff_order_that_contradicts_edges():
    spec = chain_spec(n=3)
    with pytest.raises(GraphSpecError,
                       match=r"'conv3' comes before its feed-forward input "
                             r"'conv2'"):
        GraphSpec(**spec, ff_order=["conv1", "conv3", "conv2", "readout"])
    with pytest.raises(GraphSpecError, match="every node exactly once"):
        GraphSpec(**spec, ff_order=["conv1", "conv2", "readout"])


def test_shape_from_cycle_is_rejected():
    spec = chain_spec(n=3)
    spec["edges"].append(("conv3", "conv2"))
    spec["nodes"][1]["shape_from"] = "conv3"
    spec["nodes"][2]["shape_from"] = "conv2"
    with pytest.raises(GraphSpecError, match="form a cycle"):
        GraphSpec(**spec)
