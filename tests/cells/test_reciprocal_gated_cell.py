"""Tests of ReciprocalGatedCell (TNN_REFERENCE §3.7, §4.1, Appendix A)."""

import numpy as np
import pytest
from keras import ops

from tests.interop.expected import APPENDIX_A
from tests.numpy_reference import ACT, np_rgc_step
from tests.test_case import (
    check_invalid_arguments, check_mapping_is_one_to_one, check_numpy_steps,
    randomize, run_cell_test, tf1_shapes, tf1_weights, unroll_cell,
    weight_of, zero_weights)
from tnn.cells.reciprocal_gated_cell import ReciprocalGatedCell

SHALLOW = dict(tau_filter_size=3, gate_filter_size=3, ff_filter_size=3,
               input_to_cell=True, residual_to_out_gate=True,
               tau_nonlinearity="sigmoid", gate_nonlinearity="sigmoid",
               tau_offset=1.0, tau_multiplier=-1.0, gate_offset=1.0,
               gate_multiplier=-1.0, cell_activation="elu",
               out_activation="elu", weight_decay=1e-4)

PARITY_CONFIGS = {
    "rgc_shallow": dict(SHALLOW, filters=4, cell_depth=4,
                        residual_channels=3),
    "feedback_out_layer_norm": dict(
        filters=4, cell_depth=5, ff_filter_size=2, feedback_filter_size=2,
        feedback_channels=3, cell_residual=True, input_to_cell=True,
        input_to_out=True, out_residual=True, layer_norm=True,
        input_activation="elu", feedback_activation="tanh",
        tau_nonlinearity="tanh", gate_nonlinearity="sigmoid", tau_offset=0.8,
        tau_multiplier=-0.5, gate_offset=1.1, gate_multiplier=-0.7,
        residual_channels=3),
    "feedback_input_separable": dict(
        filters=4, cell_depth=3, feedback_entry="input", feedback_channels=2,
        feedback_depth_separable=True, ff_depth_separable=True,
        ff_filter_size=2, tau_depth_separable=True, tau_filter_size=10,
        gate_depth_separable=True, in_out_depth_separable=True,
        input_to_out=True, cell_to_out=True, input_to_cell=True,
        out_residual=True, residual_channels=4),
    "feedback_cell": dict(filters=4, cell_depth=3, feedback_entry="cell",
                          feedback_channels=3, input_to_cell=True),
    # A residual resized from another H×W by the graph: projected although
    # the channel counts agree (the original residual_add's resize branch).
    "resized_residual": dict(filters=4, cell_depth=3, input_to_cell=True,
                             out_residual=True, residual_channels=4,
                             residual_resized=True),
}


@pytest.mark.parametrize("name", sorted(PARITY_CONFIGS))
def test_matches_numpy_reference(name, rng):
    cfg = PARITY_CONFIGS[name]
    cell = ReciprocalGatedCell(**cfg)
    shape = (2, 6, 6, 4)
    cell.build(shape)
    randomize(cell, rng, 0.3, unit_gamma=True)
    w = tf1_weights(cell, scope="ReciprocalGateCell/")

    def np_step(x, u, fb, states):
        c, h = np_rgc_step(cfg, w, x, u, fb, *states)
        return h, [c, h]

    states = [np.zeros((2, 6, 6, cfg["cell_depth"])), np.zeros(shape)]
    check_numpy_steps(cell, np_step, rng, shape, cfg, states,
                      [(1e-4, 2e-5), (1e-4, 2e-5)])


def test_kernels_larger_than_the_map_are_clipped():
    cell = ReciprocalGatedCell(**PARITY_CONFIGS["feedback_input_separable"])
    cell.build((2, 6, 6, 4))
    shapes = {w.name: tuple(w.shape) for w in cell.weights}
    assert shapes["cell_tau_depthwise_kernel"] == (6, 6, 3, 1)   # 10 -> 6
    assert shapes["out_tau_depthwise_kernel"] == (6, 6, 4, 1)


def test_run_cell_test_rgc_shallow_settings():
    run_cell_test(
        ReciprocalGatedCell, dict(SHALLOW, filters=4, cell_depth=4,
                                  residual_channels=3),
        input_shape=(2, 8, 8, 4), expected_output_shape=(2, 8, 8, 4),
        expected_num_trainable_weights=6,
        extra_fn=lambda x: {"residual": ops.tanh(x[..., :3])})


def test_run_cell_test_with_feedback_layer_norm_and_projection():
    run_cell_test(
        ReciprocalGatedCell, PARITY_CONFIGS["feedback_out_layer_norm"],
        input_shape=(2, 8, 8, 4), expected_output_shape=(2, 8, 8, 4),
        # res_to_cell, input_to_cell, cell tau/gate, 2 LN x (gamma, beta),
        # input_to_out kernel (its bias is non-trainable), residual
        # projection, feedback, out tau/gate.
        expected_num_trainable_weights=13,
        extra_fn=lambda x: {"residual": x[..., :3],
                            "feedback": ops.sin(x[..., 1:])})


# --- TF1 variables: rgc_shallow (Appendix A) --------------------------------

# node: (cell input shape, residual channels, out_depth = cell_depth)
RGC_SHALLOW_LAYERS = {"conv3": ((1, 28, 28, 256), 128, 256),
                      "conv4": ((1, 14, 14, 256), 256, 256),
                      "conv5": ((1, 7, 7, 512), 256, 512)}


def expected_variables(model, node):
    """{TF1 name: shape} of the node's cell in Appendix A of the reference."""
    prefix = f"tnn_model/{node}/"
    return {name[len(prefix):]: shape
            for name, (shape, _) in APPENDIX_A[model].items()
            if name.startswith(prefix + "ReciprocalGateCell/")}


@pytest.mark.parametrize("node", sorted(RGC_SHALLOW_LAYERS))
def test_rgc_shallow_variables_match_appendix_a(node):
    shape, residual, depth = RGC_SHALLOW_LAYERS[node]
    cell = ReciprocalGatedCell(**SHALLOW, filters=depth, cell_depth=depth,
                               residual_channels=residual, name=node)
    cell.build(shape)
    assert tf1_shapes(cell) == expected_variables("rgc_shallow", node)
    check_mapping_is_one_to_one(cell)
    # rgc_shallow has no biases at all (the bias bug), only kernels.
    assert all(len(w.shape) == 4 for w in cell.weights)


@pytest.mark.parametrize("name", sorted(PARITY_CONFIGS))
def test_tf1_mapping_covers_every_variable_once(name):
    cell = ReciprocalGatedCell(**PARITY_CONFIGS[name])
    cell.build((2, 6, 6, 4))
    check_mapping_is_one_to_one(cell)


# --- gating and bypass (§3.11) ----------------------------------------------

def zeroed_shallow_cell(depth=4):
    cell = ReciprocalGatedCell(**SHALLOW, filters=depth, cell_depth=depth,
                               residual_channels=3)
    cell.build((2, 6, 6, depth))
    zero_weights(cell)
    return cell


def test_bypass_zero_kernels_pass_the_input_through(rng):
    cell = zeroed_shallow_cell()
    x = rng.standard_normal((1, 2, 6, 6, 4)).astype("float32")
    u = rng.standard_normal((2, 6, 6, 3)).astype("float32")
    out, (c, h) = unroll_cell(cell, x, {"residual": u})
    # 1 - sigmoid(0) = 0.5 scales the input; the memory stays 0.
    np.testing.assert_allclose(out[0], ACT["elu"](0.5 * x[0]), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(c, 0.0)


def test_reciprocal_gate_scales_the_drive(rng):
    """The memory gates the drive of h: h = elu(0.5 h0 + (1 - σ(a c0)) x)."""
    cell = zeroed_shallow_cell()
    x = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    u = np.zeros((2, 6, 6, 3), "float32")
    h0 = rng.standard_normal((2, 6, 6, 4)).astype("float32")
    c0 = np.full((2, 6, 6, 4), 0.5, "float32")
    for alpha, weight in ((0.0, 0.5), (4.0, 1 - 1 / (1 + np.exp(-2.0))),
                          (60.0, 0.0)):
        kernel = np.zeros((3, 3, 4, 4), "float32")
        kernel[1, 1] = alpha * np.eye(4)            # out gate: c -> h
        weight_of(cell, "out_gate_kernel").assign(kernel)
        out, _ = cell(x, [c0, h0], residual=u)
        expected = ACT["elu"](0.5 * h0 + weight * x)
        np.testing.assert_allclose(ops.convert_to_numpy(out), expected,
                                   rtol=1e-5, atol=1e-6)


# --- errors -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=0, cell_depth=4, input_to_cell=True), "filters"),
    (dict(filters=4, cell_depth=4, input_to_cell=False), "input_to_cell"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          tau_nonlinearity="relu"), "tau_nonlinearity"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          feedback_entry="gate"), "feedback_entry"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          cell_activation="nope"), "nope"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          out_activation=np.tanh), "out_activation"),
    (dict(filters=4, cell_depth=4, input_to_cell=True, batch_norm=True),
     "batch norm"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          recurrent_keep_prob=0.9), "recurrent_keep_prob"),
    (dict(filters=4, cell_depth=4, input_to_cell=True, gate_filter_size=0),
     "gate_filter_size"),
    (dict(filters=4, cell_depth=4, input_to_cell=True, weight_decay=-1.0),
     "weight_decay"),
    (dict(filters=4, cell_depth=4, input_to_cell=True,
          residual_channels=0), "residual_channels"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(ReciprocalGatedCell, kwargs, match)


def test_build_errors():
    base = dict(filters=4, cell_depth=3, input_to_cell=True)
    with pytest.raises(ValueError, match="filters=4"):
        ReciprocalGatedCell(**base).build((2, 6, 6, 5))
    with pytest.raises(ValueError, match="residual_channels"):
        ReciprocalGatedCell(**base, out_residual=True).build((2, 6, 6, 4))
    with pytest.raises(ValueError, match="feedback_channels"):
        ReciprocalGatedCell(**base, feedback_entry="cell",
                            feedback_channels=5).build((2, 6, 6, 4))


def test_call_errors_on_missing_or_misshaped_side_inputs():
    x = np.zeros((2, 6, 6, 4), "float32")
    cell = ReciprocalGatedCell(filters=4, cell_depth=3, input_to_cell=True,
                               out_residual=True, residual_channels=3)
    states = cell.get_initial_state(2, x.shape)
    with pytest.raises(ValueError, match="residual=None"):
        cell(x, states)
    with pytest.raises(ValueError, match="feedback_channels=None"):
        cell(x, states, residual=x[..., :3], feedback=x)
    with pytest.raises(ValueError, match="resize"):
        cell(x, states, residual=x[:, :3, :, :3])
    fb_cell = ReciprocalGatedCell(filters=4, cell_depth=3, input_to_cell=True,
                                  feedback_channels=2)
    with pytest.raises(ValueError, match="feedback=None"):
        fb_cell(x, fb_cell.get_initial_state(2, x.shape))


def test_weight_decay_follows_tf1_on_kernels_only(rng):
    cfg = dict(PARITY_CONFIGS["feedback_out_layer_norm"], weight_decay=0.01)
    cell = ReciprocalGatedCell(**cfg)
    cell.build((2, 6, 6, 4))
    randomize(cell, rng, 0.3, unit_gamma=True)
    # TF1 l2_regularizer(s) = s * sum(w**2) / 2; the residual projection,
    # the layer-norm parameters and the biases are not decayed.
    decayed = [w for w in cell.weights if w.name.endswith("_kernel")
               and w.name != "out_res_add_residual_add_kernel"]
    expected = sum(0.005 * np.sum(w.numpy().astype("float64") ** 2)
                   for w in decayed)
    total = sum(float(ops.convert_to_numpy(loss)) for loss in cell.losses)
    assert len(cell.losses) == len(decayed) == 8
    np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_resized_residual_is_always_projected():
    same = ReciprocalGatedCell(**dict(PARITY_CONFIGS["resized_residual"],
                                      residual_resized=False))
    same.build((2, 6, 6, 4))
    assert same.residual_kernel is None       # today's identity residual
    cell = ReciprocalGatedCell(**PARITY_CONFIGS["resized_residual"])
    cell.build((2, 6, 6, 4))
    assert tuple(cell.residual_kernel.shape) == (1, 1, 4, 4)
    assert cell.tf1_variable_names()["out_res_add_residual_add_kernel"] == (
        "ReciprocalGateCell/out/res_add/residual_add_weights")
    config = cell.get_config()
    assert config["residual_resized"] is True
    assert "residual_resized" not in same.get_config()
    clone = ReciprocalGatedCell.from_config(config)
    clone.build((2, 6, 6, 4))
    assert tuple(clone.residual_kernel.shape) == (1, 1, 4, 4)


@pytest.mark.parametrize("flag", ["cell_residual", "residual_to_out_gate"])
def test_resized_residual_refused_where_the_original_cannot_add_it(flag):
    cell = ReciprocalGatedCell(filters=4, cell_depth=3, input_to_cell=True,
                               residual_channels=4, residual_resized=True,
                               **{flag: True})
    with pytest.raises(ValueError, match="out_residual alone"):
        cell.build((2, 6, 6, 4))
