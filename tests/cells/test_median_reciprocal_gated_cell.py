"""Tests of MedianReciprocalGatedCell (TNN_REFERENCE §3.8, §4.3, §8.3,
Appendix A `rgc_intermediate`)."""

import numpy as np
import pytest
from keras import ops

from tests.cells.test_reciprocal_gated_cell import expected_variables
from tests.numpy_reference import ACT, np_median_step
from tests.test_case import (
    check_invalid_arguments, check_mapping_is_one_to_one, check_numpy_steps,
    randomize, run_cell_test, tf1_shapes, tf1_weights, unroll_cell,
    weight_of, zero_weights)
from tnn.cells.median_reciprocal_gated_cell import (
    MEDIAN_GATE, MEDIAN_KERNEL_SCALE, MEDIAN_TAU, MEDIAN_WEIGHT_DECAY,
    MedianReciprocalGatedCell)


# name: (constructor kwargs, map size)
PARITY = {
    "projection_feedback": (dict(filters=4, cell_depth=3, residual_channels=3,
                                 feedback_channels=2), 8),
    "identity_residual_clipped": (dict(filters=4, cell_depth=5,
                                       residual_channels=4), 5),
}


@pytest.mark.parametrize("name", sorted(PARITY))
def test_matches_numpy_reference(name, rng):
    kwargs, size = PARITY[name]
    cell = MedianReciprocalGatedCell(**kwargs)
    shape = (2, size, size, 4)
    cell.build(shape)
    randomize(cell, rng, 0.3, unit_gamma=True)
    w = tf1_weights(cell, scope="ReciprocalGateCell/")

    def np_step(x, u, fb, states):
        c, h = np_median_step(w, x, u, fb, *states)
        return h, [c, h]

    states = [np.zeros((2, size, size, kwargs["cell_depth"])),
              np.zeros(shape)]
    check_numpy_steps(cell, np_step, rng, shape, kwargs, states,
                      [(1e-4, 2e-5), (1e-4, 2e-5)])


def test_depthwise_kernels_are_clipped_to_the_map():
    cell = MedianReciprocalGatedCell(**PARITY["identity_residual_clipped"][0])
    cell.build((2, 5, 5, 4))
    shapes = {w.name: tuple(w.shape) for w in cell.weights}
    assert shapes["cell_tau_depthwise_kernel"] == (5, 5, 5, 1)
    assert shapes["out_gate_depthwise_kernel"] == (5, 5, 5, 1)
    assert shapes["cell_input_to_cell_kernel"] == (2, 2, 4, 5)


def test_run_cell_test_with_projection_and_feedback():
    run_cell_test(
        MedianReciprocalGatedCell, PARITY["projection_feedback"][0],
        input_shape=(2, 8, 8, 4), expected_output_shape=(2, 8, 8, 4),
        # input->cell (2), 4 separable convs (3 each), input->out (2),
        # residual projection (1), feedback (2).
        expected_num_trainable_weights=19,
        extra_fn=lambda x: {"residual": ops.tanh(x[..., :3]),
                            "feedback": x[..., 2:]})


# --- TF1 variables: rgc_intermediate conv4-conv10 (Appendix A) ---------------

# node: (cell input shape, residual channels, feedback channels)
RGC_INTERMEDIATE_LAYERS = {
    "conv4": ((1, 56, 56, 128), 128, None),
    "conv5": ((1, 28, 28, 128), 128, 256),
    "conv6": ((1, 28, 28, 256), 128, 768),
    "conv7": ((1, 14, 14, 256), 256, 512),
    "conv8": ((1, 7, 7, 256), 256, None),
    "conv9": ((1, 7, 7, 512), 256, 512),
    "conv10": ((1, 7, 7, 512), 512, None),
}


@pytest.mark.parametrize("node", sorted(RGC_INTERMEDIATE_LAYERS))
def test_rgc_intermediate_variables_match_appendix_a(node):
    shape, residual, feedback = RGC_INTERMEDIATE_LAYERS[node]
    cell = MedianReciprocalGatedCell(filters=shape[-1],
                                     residual_channels=residual,
                                     feedback_channels=feedback, name=node)
    cell.build(shape)
    assert tf1_shapes(cell) == expected_variables("rgc_intermediate", node)
    check_mapping_is_one_to_one(cell)


# --- defaults, initialization and weight decay ------------------------------

def test_defaults_are_the_median_config():
    config = MedianReciprocalGatedCell(filters=8).get_config()
    assert config["cell_depth"] == 64
    assert config["ff_filter_size"] == (2, 2)
    assert config["in_out_filter_size"] == (3, 3)
    assert config["tau_filter_size"] == config["gate_filter_size"] == (7, 7)
    assert config["feedback_filter_size"] == (1, 1)
    assert config["tau_offset"] == -config["tau_multiplier"] == \
        0.9219348064291611
    assert config["gate_offset"] == -config["gate_multiplier"] == \
        0.7006566684988862
    assert (config["tau_nonlinearity"], config["gate_nonlinearity"]) == (
        "sigmoid", "tanh")
    assert config["input_activation"] == "elu"
    assert config["feedback_activation"] is None
    assert config["out_residual"] is True
    assert config["weight_decay"] == 0.0002033999204146308


def test_initialization_follows_the_tf1_config():
    cell = MedianReciprocalGatedCell(filters=512, residual_channels=256,
                                     feedback_channels=512)
    cell.build((1, 7, 7, 512))
    # variance_scaling(scale=0.6393...): fan-in, truncated normal.
    kernel = weight_of(cell, "out_input_to_out_kernel").numpy()
    std = np.sqrt(MEDIAN_KERNEL_SCALE / (3 * 3 * 512))
    np.testing.assert_allclose(kernel.std(), std, rtol=0.01)
    assert np.abs(kernel).max() <= 2 * std / 0.87962566103423978 + 1e-6
    # residual_add uses xavier (glorot uniform).
    projection = weight_of(cell, "out_residual_add_kernel").numpy()
    limit = np.sqrt(6.0 / (256 + 512))
    assert np.abs(projection).max() <= limit
    np.testing.assert_allclose(projection.std(), limit / np.sqrt(3),
                               rtol=0.02)
    for w in cell.weights:
        if w.name.endswith("_bias"):
            np.testing.assert_array_equal(w.numpy(), 0.0)


def test_weight_decay_on_kernels_only(rng):
    cell = MedianReciprocalGatedCell(**PARITY["projection_feedback"][0])
    cell.build((2, 8, 8, 4))
    randomize(cell, rng, 0.3, unit_gamma=True)
    decayed = [w for w in cell.weights if w.name.endswith("_kernel")
               and w.name != "out_residual_add_kernel"]
    expected = sum(MEDIAN_WEIGHT_DECAY / 2 * np.sum(
        w.numpy().astype("float64") ** 2) for w in decayed)
    total = sum(float(ops.convert_to_numpy(loss)) for loss in cell.losses)
    assert len(cell.losses) == len(decayed) == 11
    np.testing.assert_allclose(total, expected, rtol=1e-5)


# --- bypass and gating (§3.11) ----------------------------------------------

def zeroed_cell(**kwargs):
    cell = MedianReciprocalGatedCell(filters=4, cell_depth=4, **kwargs)
    cell.build((2, 6, 6, 4))
    zero_weights(cell)
    return cell


def test_bypass_output_contains_the_residual(rng):
    cell = zeroed_cell(residual_channels=4)
    x = rng.standard_normal((1, 2, 6, 6, 4)).astype("float32")
    u = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    out, (c, _) = unroll_cell(cell, x, {"residual": u})
    np.testing.assert_allclose(out[0], ACT["elu"](MEDIAN_GATE * u),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c, 0.0)


def test_bypass_through_the_residual_projection(rng):
    cell = zeroed_cell(residual_channels=3)
    projection = rng.standard_normal((1, 1, 3, 4)).astype("float32")
    weight_of(cell, "out_residual_add_kernel").assign(projection)
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    u = rng.standard_normal((2, 6, 6, 3)).astype("float32")
    out, _ = cell(x, cell.get_initial_state(2), residual=u)
    np.testing.assert_allclose(
        ops.convert_to_numpy(out),
        ACT["elu"](MEDIAN_GATE * (u @ projection[0, 0])), rtol=1e-5,
        atol=1e-6)


def test_reciprocal_gate_scales_the_drive(rng):
    """h = elu(F_tau(0) h0 + 0.7007 (1 - tanh(alpha c0)) u): the previous
    memory shuts (alpha > 0) or amplifies (alpha < 0) the drive."""
    cell = zeroed_cell(residual_channels=4)
    kernel = weight_of(cell, "out_gate_depthwise_kernel")
    assert tuple(kernel.shape) == (6, 6, 4, 1)          # 7x7 clipped to 6x6
    depthwise = np.zeros(kernel.shape, "float32")
    depthwise[2, 2] = 1.0        # the tap over the pixel (TF SAME, even k)
    kernel.assign(depthwise)
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    u = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    h0 = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    c0 = np.full((2, 6, 6, 4), 0.5, "float32")
    for alpha in (0.0, 1.0, 40.0, -40.0):
        pointwise = (alpha * np.eye(4, dtype="float32"))[None, None]
        weight_of(cell, "out_gate_pointwise_kernel").assign(pointwise)
        out, _ = cell(x, [c0, h0], residual=u)
        factor = MEDIAN_GATE * (1 - np.tanh(alpha * 0.5))
        expected = ACT["elu"](MEDIAN_TAU * 0.5 * h0 + factor * u)
        np.testing.assert_allclose(ops.convert_to_numpy(out), expected,
                                   rtol=1e-5, atol=1e-6)


# --- errors -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=4, cell_depth=-1), "cell_depth"),
    (dict(filters=4, ff_filter_size=0), "ff_filter_size"),
    (dict(filters=4, gate_nonlinearity="relu"), "gate_nonlinearity"),
    (dict(filters=4, out_activation="nope"), "nope"),
    (dict(filters=4, weight_decay=-1.0), "weight_decay"),
    (dict(filters=4, feedback_channels=2.5), "feedback_channels"),
    (dict(filters=4, kernel_initializer="nope"), "nope"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(MedianReciprocalGatedCell, kwargs, match)


def test_build_and_call_errors():
    with pytest.raises(ValueError, match="filters=4"):
        MedianReciprocalGatedCell(filters=4, residual_channels=4).build(
            (2, 6, 6, 8))
    with pytest.raises(ValueError, match="residual_channels"):
        MedianReciprocalGatedCell(filters=4).build((2, 6, 6, 4))
    cell = MedianReciprocalGatedCell(filters=4, cell_depth=2,
                                     residual_channels=4)
    x = np.zeros((2, 6, 6, 4), "float32")
    states = cell.get_initial_state(2, x.shape)
    with pytest.raises(ValueError, match="residual=None"):
        cell(x, states)
    with pytest.raises(ValueError, match="feedback_channels=None"):
        cell(x, states, residual=x, feedback=x)
    with pytest.raises(ValueError, match="residual must be NHWC"):
        cell(x, states, residual=x[..., :3])
