"""The feed-forward control: `unroll(..., recurrence="off")` against a numpy
recursion (zero state at every step, feedback replaced by zeros, feed-forward
and skip inputs on the unroll mode's timing)."""

import keras
import numpy as np
import pytest

from tests.graphs.helpers import chain_spec, conv
from tnn.graphs import GraphSpec, TNNGraph

SIZE = 6


def linear_spec():
    """conv1 -> conv2 -> conv3 -> readout, skip conv1 -> conv3, feedback
    conv3 -> conv1, self-loop conv2 -> conv2; every node a 1×1 conv +
    time-decay memory (which, from a zero state, passes its input)."""
    def node(name, filters, decay):
        return {"name": name, "pre_memory": [conv(filters, kernel_size=1)],
                "cell": {"cell": "TimeDecayCell", "decay_init": decay}}
    nodes = [dict(node("conv1", 3, 0.5), input_shape=[SIZE, SIZE, 2]),
             node("conv2", 4, 0.25), node("conv3", 2, 0.5),
             node("readout", 3, 0.75)]
    edges = [("conv1", "conv2"), ("conv2", "conv3"), ("conv1", "conv3"),
             ("conv3", "readout"), ("conv3", "conv1"), ("conv2", "conv2")]
    return {"nodes": nodes, "edges": edges}


FEEDBACK = {"conv1": {"conv3"}, "conv2": {"conv2"}, "conv3": set(),
            "readout": set()}


def numpy_control(model, images, times, image_off, blank, mode):
    """Independent feed-forward control of a graph of linear nodes."""
    spec = model.spec
    weights = {n: node.pre_memory[0].get_weights()
               for n, node in model.graph_nodes.items()}
    order = (spec.node_names if mode == "biological"
             else spec.feedforward_order())
    pos = {n: i for i, n in enumerate(order)}
    batch = images.shape[0]
    zeros = {n: np.zeros((batch,) + model.output_shapes[n]) for n in order}
    outs = dict(zeros)
    history = {n: [] for n in order}
    for t in range(times):
        frame = images if (image_off is None or t < image_off) else \
            np.full_like(images, blank)
        new = dict(outs)
        for n in order:
            parts = [frame] if n in spec.input_nodes else []
            for p in spec.ordered_inputs(n):
                if p in FEEDBACK[n]:
                    parts.append(zeros[p])
                else:
                    same = mode == "feedforward" and pos[p] < pos[n]
                    parts.append(new[p] if same else outs[p])
            kernel, bias = weights[n]
            new[n] = np.concatenate(parts, axis=-1) @ kernel[0, 0] + bias
            history[n].append(new[n])
        outs = new
    return {n: np.stack(v, axis=1) for n, v in history.items()}


def _images(seed=0, batch=3):
    return np.random.default_rng(seed).standard_normal(
        (batch, SIZE, SIZE, 2)).astype("float32")


def test_feedback_sources_are_edges_against_the_feedforward_order():
    spec = GraphSpec(**linear_spec())
    assert spec.feedback_sources() == FEEDBACK
    assert GraphSpec(**chain_spec(n=2)).feedback_sources() == {
        "conv1": set(), "conv2": set(), "readout": set()}


@pytest.mark.parametrize("remat", [False, True])
@pytest.mark.parametrize("loop", ["symbolic", "python"])
@pytest.mark.parametrize("mode", ["biological", "feedforward"])
@pytest.mark.parametrize("share", [True, False])
def test_matches_numpy_control(mode, loop, share, remat):
    keras.utils.set_random_seed(1)
    model = TNNGraph(linear_spec(), times=7, image_off=4, blank_value=0.5,
                     unroll=mode, share_pre_stimulus=share, remat=remat,
                     time_loop=loop)
    images = _images()
    got = model.unroll(images, recurrence="off")
    want = numpy_control(model, images, 7, 4, 0.5, mode)
    assert sorted(got) == sorted(want)
    for name in want:
        np.testing.assert_allclose(np.asarray(got[name]), want[name],
                                   rtol=1e-6, atol=1e-6, err_msg=name)
    # a subset of nodes: the same values
    part = model.unroll(images, nodes=["conv3"], recurrence="off")
    assert list(part) == ["conv3"]
    np.testing.assert_allclose(np.asarray(part["conv3"]), want["conv3"],
                               rtol=1e-6, atol=1e-6)
    # recurrence "on" is untouched and differs (feedback, self-loop)
    full = np.asarray(model.unroll(images, nodes=["conv3"])["conv3"])
    assert np.abs(full - want["conv3"]).max() > 1e-3


def test_movie_and_times():
    keras.utils.set_random_seed(2)
    model = TNNGraph(linear_spec(), times=6, image_off=3)
    images = _images(1, batch=2)
    want = numpy_control(model, images, 8, 3, 0.5, "biological")
    longer = model.unroll(images, times=8, recurrence="off")
    np.testing.assert_allclose(np.asarray(longer["readout"]),
                               want["readout"], rtol=1e-6, atol=1e-6)
    movie = np.stack([images] * 3 + [np.full_like(images, 0.5)] * 5,
                     axis=1)
    moving = model.unroll(movie, recurrence="off")
    np.testing.assert_allclose(np.asarray(moving["readout"]),
                               want["readout"], rtol=1e-6, atol=1e-6)


def test_without_cells_or_feedback_the_control_is_the_model():
    keras.utils.set_random_seed(3)
    plain = TNNGraph(chain_spec(n=3, size=8, channels=2), times=6,
                     image_off=3)
    x = np.random.default_rng(2).standard_normal((2, 8, 8, 3))
    ref = plain.unroll(x, nodes=["conv3"])["conv3"]
    np.testing.assert_allclose(
        plain.unroll(x, ["conv3"], recurrence="off")["conv3"], ref,
        atol=1e-6)


def test_harbor_inputs_and_node_inputs():
    keras.utils.set_random_seed(4)
    model = TNNGraph(linear_spec(), times=6, image_off=3)
    assert model.harbor_inputs("conv1") == [None, "conv3"]
    assert model.harbor_inputs("conv3") == ["conv2", "conv1"]
    assert model.harbor_inputs("conv2") == ["conv1", "conv2"]
    images = _images(5, batch=2)
    for recurrence in ("off", "on"):
        outs = model.unroll(images, recurrence=recurrence)
        for name in model.spec.node_names:
            node = model.graph_nodes[name]
            for step in range(6):
                inputs = model.node_inputs(outs, name, step, images,
                                           recurrence=recurrence)
                assert len(inputs) == len(model.harbor_inputs(name))
                if recurrence == "on" and node.cell is not None:
                    continue   # the output also depends on the state
                states = [np.zeros((2,) + tuple(s), "float32")
                          for s in model.state_shapes[name]]
                got = node(inputs, states)[0]
                np.testing.assert_allclose(
                    np.asarray(got), np.asarray(outs[name][:, step]),
                    rtol=1e-6, atol=1e-6, err_msg=f"{name} {step}")
    frame, fb = model.node_inputs(outs, "conv1", 4, images, "off")
    np.testing.assert_array_equal(np.asarray(frame), np.full_like(images,
                                                                  0.5))
    np.testing.assert_array_equal(np.asarray(fb), 0.0)
    _, fb = model.node_inputs(outs, "conv1", 4, images, "on")
    np.testing.assert_array_equal(np.asarray(fb),
                                  np.asarray(outs["conv3"][:, 3]))
    with pytest.raises(ValueError, match="Unknown node 'v9'"):
        model.harbor_inputs("v9")
    with pytest.raises(ValueError,
                       match="lacks 'conv2', an input of node 'conv3'"):
        model.node_inputs({"conv3": outs["conv3"]}, "conv3", 2, images)


def test_bad_recurrence_and_unknown_node():
    model = TNNGraph(chain_spec(n=2, size=8), times=4)
    x = np.zeros((1, 8, 8, 3), "float32")
    with pytest.raises(ValueError, match="recurrence must be 'on' or "
                                         "'off', got 'none'"):
        model.unroll(x, recurrence="none")
    with pytest.raises(ValueError, match="recurrence must be"):
        model.unroll(x, recurrence=False)
    with pytest.raises(ValueError, match="Unknown node 'v9'"):
        model.unroll(x, ["v9"], recurrence="off")
