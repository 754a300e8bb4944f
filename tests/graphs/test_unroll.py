"""Timing and semantics of the time loop against a numpy recursion."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.graphs.helpers import chain_spec, conv
from tnn.graphs import GraphSpec, TNNGraph

SIZE = 6


def linear_spec(feedback=True):
    """conv1 -> conv2 -> conv3 -> readout, skip conv1 -> conv3, feedback
    conv3 -> conv1; every node a 1×1 conv + time-decay memory."""
    def node(name, filters, decay):
        return {"name": name, "pre_memory": [conv(filters, kernel_size=1)],
                "cell": {"cell": "TimeDecayCell", "decay_init": decay}}
    nodes = [dict(node("conv1", 3, 0.5), input_shape=[SIZE, SIZE, 2]),
             node("conv2", 4, 0.25), node("conv3", 2, 0.0),
             node("readout", 3, 0.75)]
    edges = [("conv1", "conv2"), ("conv2", "conv3"), ("conv1", "conv3"),
             ("conv3", "readout")]
    if feedback:
        edges.append(("conv3", "conv1"))
    return {"nodes": nodes, "edges": edges}


def numpy_unroll(model, images, times, image_off, blank, mode):
    """Independent re-implementation of §2.1 / §2.2 for linear nodes."""
    spec = model.spec
    weights = {}
    for name, node in model.graph_nodes.items():
        kernel, bias = node.pre_memory[0].get_weights()
        decay = node.cell.get_weights()[0][0]
        weights[name] = (kernel[0, 0], bias, decay)
    order = (spec.node_names if mode == "biological"
             else spec.feedforward_order())
    pos = {n: i for i, n in enumerate(order)}
    batch = images.shape[0]
    outs = {n: np.zeros((batch,) + model.output_shapes[n]) for n in order}
    states = {n: np.zeros_like(outs[n]) for n in order}
    history = {n: [] for n in order}
    for t in range(times):
        frame = images if (image_off is None or t < image_off) else \
            np.full_like(images, blank)
        new = dict(outs)
        for n in order:
            parts = [frame] if n in spec.input_nodes else []
            for p in spec.ordered_inputs(n):
                same = mode == "feedforward" and pos[p] < pos[n]
                parts.append(new[p] if same else outs[p])
            x = np.concatenate(parts, axis=-1)
            kernel, bias, decay = weights[n]
            y = x @ kernel + bias
            states[n] = decay * states[n] + y
            new[n] = states[n]
            history[n].append(new[n])
        outs = new
    return {n: np.stack(v, axis=1) for n, v in history.items()}


@pytest.mark.parametrize("loop", ["symbolic", "python"])
@pytest.mark.parametrize("mode", ["biological", "feedforward"])
@pytest.mark.parametrize("share", [True, False])
def test_matches_numpy_recursion(mode, share, loop):
    keras.utils.set_random_seed(1)
    model = TNNGraph(linear_spec(), times=7, image_off=4, blank_value=0.5,
                     unroll=mode, share_pre_stimulus=share, time_loop=loop)
    images = np.random.default_rng(0).standard_normal(
        (3, SIZE, SIZE, 2)).astype("float32")
    got = model.unroll(images)
    want = numpy_unroll(model, images, 7, 4, 0.5, mode)
    for name in want:
        np.testing.assert_allclose(np.asarray(got[name]), want[name],
                                   rtol=1e-5, atol=1e-5, err_msg=name)


def test_constant_presentation_and_movie():
    keras.utils.set_random_seed(2)
    model = TNNGraph(linear_spec(), times=6, image_off=None)
    images = np.random.default_rng(1).standard_normal(
        (2, SIZE, SIZE, 2)).astype("float32")
    got = model.unroll(images)["readout"]
    want = numpy_unroll(model, images, 6, None, 0.5, "biological")
    np.testing.assert_allclose(np.asarray(got), want["readout"], atol=1e-5)
    # The same presentation given as an explicit movie.
    movie = np.stack([images] * 3 + [np.full_like(images, 0.5)] * 3, axis=1)
    model.image_off = 3
    static = np.asarray(model(images))
    moving = np.asarray(model(movie))
    np.testing.assert_allclose(moving, static, atol=1e-6)


def first_divergence(model, nodes):
    """First step at which each node's output depends on the image."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((1,) + model.graph_input_shape).astype("float32")
    b = rng.standard_normal((1,) + model.graph_input_shape).astype("float32")
    out_a = model.unroll(a, nodes=nodes)
    out_b = model.unroll(b, nodes=nodes)
    first = {}
    for n in nodes:
        diff = np.abs(np.asarray(out_a[n]) - np.asarray(out_b[n]))
        diff = diff.reshape(diff.shape[1], -1).max(axis=1)
        first[n] = int(np.argmax(diff > 0)) if (diff > 0).any() else None
    return first


def test_first_image_step_is_observed_timing():
    keras.utils.set_random_seed(4)
    spec = chain_spec(n=4, size=8, feedback=[("conv4", "conv2")])
    for mode in ("biological", "feedforward"):
        model = TNNGraph(spec, times=7, image_off=None, unroll=mode,
                         time_loop="symbolic")
        observed = first_divergence(model, model.spec.node_names)
        assert observed == model.first_image_step(), mode
    bio = TNNGraph(spec, times=7)
    assert bio.first_image_step() == {"conv1": 0, "conv2": 1, "conv3": 2,
                                      "conv4": 3, "readout": 4}


def test_pre_stimulus_outputs_are_shared_junk_not_zero():
    keras.utils.set_random_seed(5)
    model = TNNGraph(chain_spec(n=3, size=8), times=5)
    images = np.random.default_rng(0).standard_normal(
        (4, 8, 8, 3)).astype("float32")
    out = np.asarray(model.unroll(images, nodes=["readout"])["readout"])
    junk = out[:, :model.first_image_step("readout")]
    assert np.allclose(junk, junk[:1])       # identical across examples
    assert np.abs(junk).max() > 0            # fc bias init 1: not zero


@pytest.mark.parametrize("loop", ["symbolic", "python"])
def test_sharing_gives_same_values_and_gradients(loop):
    keras.utils.set_random_seed(6)
    spec = chain_spec(n=3, size=8, feedback=[("conv3", "conv1")],
                      cell={"cell": "TimeDecayCell", "decay_init": 0.3})
    shared = TNNGraph(spec, times=6, image_off=3, time_loop=loop)
    plain = TNNGraph(spec, times=6, image_off=3, share_pre_stimulus=False,
                     time_loop=loop)
    plain.set_weights(shared.get_weights())
    x = tf.constant(np.random.default_rng(1).standard_normal(
        (3, 8, 8, 3)).astype("float32"))

    def loss_and_grads(model):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(x, training=True)))
        return loss, tape.gradient(loss, model.trainable_variables)

    l1, g1 = loss_and_grads(shared)
    l2, g2 = loss_and_grads(plain)
    np.testing.assert_allclose(l1.numpy(), l2.numpy(), rtol=1e-5)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=2e-4,
                                   atol=1e-5)


@pytest.mark.parametrize("loop", ["symbolic", "python"])
def test_remat_gives_same_gradients(loop):
    keras.utils.set_random_seed(7)
    spec = chain_spec(n=3, size=8,
                      cell={"cell": "TimeDecayCell", "decay_init": 0.3})
    base = TNNGraph(spec, times=6, time_loop=loop)
    remat = TNNGraph(spec, times=6, remat=True, time_loop=loop)
    remat.set_weights(base.get_weights())
    x = tf.constant(np.random.default_rng(2).standard_normal(
        (2, 8, 8, 3)).astype("float32"))

    @tf.function
    def grads(model):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(model(x, training=True)))
        return tape.gradient(loss, model.trainable_variables)

    for a, b in zip(grads(base), grads(remat)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_times_shorter_than_path_warns_with_first_valid_step():
    with pytest.warns(UserWarning, match=r"first carries image-driven "
                                         r"signal at step 4"):
        TNNGraph(chain_spec(n=4, size=8), times=3)
    model = TNNGraph(chain_spec(n=4, size=8), times=6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.unroll(np.zeros((1, 8, 8, 3), "float32"), times=6)


def test_default_times_is_longest_path_plus_one_node():
    model = TNNGraph(chain_spec(n=4, size=8))
    assert model.times == 6          # 5 nodes on the path, plus one


def test_unknown_node_and_bad_inputs():
    model = TNNGraph(chain_spec(n=2, size=8), times=4)
    with pytest.raises(ValueError, match="Unknown node 'conv9'"):
        model.unroll(np.zeros((1, 8, 8, 3), "float32"), nodes=["conv9"])
    with pytest.raises(ValueError, match=r"built for \(8, 8, 3\)"):
        model(np.zeros((1, 9, 8, 3), "float32"))
    with pytest.raises(ValueError, match=r"Expected images \[B, H, W, C\]"):
        model(np.zeros((8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="times=3 but the movie has 4"):
        model.unroll(np.zeros((1, 4, 8, 8, 3), "float32"), times=3)


def test_feedforward_spec_validation_for_graph():
    spec = GraphSpec(**linear_spec())
    assert spec.feedforward_order() == ["conv1", "conv2", "conv3", "readout"]


@pytest.mark.parametrize("remat", [False, True])
def test_python_time_loop_matches_symbolic(remat):
    keras.utils.set_random_seed(8)
    spec = chain_spec(n=3, size=8, feedback=[("conv3", "conv1")],
                      cell={"cell": "TimeDecayCell", "decay_init": 0.3})
    symbolic = TNNGraph(spec, times=6, image_off=4, remat=remat,
                        time_loop="symbolic")
    python = TNNGraph(spec, times=6, image_off=4, remat=remat,
                      time_loop="python")
    python.set_weights(symbolic.get_weights())
    x = tf.constant(np.random.default_rng(3).standard_normal(
        (2, 8, 8, 3)).astype("float32"))

    @tf.function
    def run(model):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = tf.reduce_sum(tf.square(out))
        return out, tape.gradient(loss, model.trainable_variables)

    out_s, g_s = run(symbolic)
    out_p, g_p = run(python)
    np.testing.assert_allclose(out_p.numpy(), out_s.numpy(), atol=1e-6)
    for a, b in zip(g_s, g_p):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4,
                                   atol=1e-6)


def test_auto_time_loop_resolution():
    from tnn.graphs import time_loop

    # This test machine has no GPU: TensorFlow on CPU unrolls in Python.
    assert time_loop.resolve_mode("auto", times=16) == "python"
    assert time_loop.resolve_mode("auto", times=64) == "symbolic"
    assert time_loop.resolve_mode("auto", times=16, remat=True) == "symbolic"
    assert time_loop.resolve_mode("symbolic") == "symbolic"
    with pytest.raises(ValueError, match="time_loop must be"):
        time_loop.resolve_mode("scan")


def test_sharing_stays_on_in_training_with_zero_rate_dropout():
    import tnn

    zoo = tnn.create_model("rgc_shallow", input_shape=(72, 72, 3))
    assert not zoo._has_batch_dependent_layers()    # keep_prob-1 dropouts
    spec = chain_spec(n=2, size=8)
    spec["nodes"][1]["pre_memory"].append({"layer": "dropout", "rate": 0.5})
    assert TNNGraph(spec, times=4)._has_batch_dependent_layers()
    spec["nodes"][1]["pre_memory"][-1] = {"layer": "batch_norm"}
    assert TNNGraph(spec, times=4)._has_batch_dependent_layers()
