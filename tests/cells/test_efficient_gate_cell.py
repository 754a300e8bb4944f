"""Tests of EfficientGateCell (TNN_REFERENCE §3.9)."""

import numpy as np
import pytest
from keras import ops

from tests.numpy_reference import np_efficient_step
from tests.test_case import (
    check_invalid_arguments, check_mapping_is_one_to_one, check_numpy_steps,
    randomize, run_cell_test, tf1_shapes, tf1_weights, weight_of)
from tnn.cells.efficient_gate_cell import EfficientGateCell

# name: (constructor kwargs, channels of x)
CONFIGS = {
    "feedback_se_residual": (dict(filters=4, tau_filter_size=3, se_ratio=0.5,
                                  feedback_channels=3, feedback_filter_size=2,
                                  residual_channels=4), 8),
    "bypass_residual_add_res_cell": (dict(
        filters=4, tau_filter_size=2, bypass_state=True, residual_add=True,
        res_cell=True, cell_depth=2, residual_channels=2, se_ratio=1.0,
        activation="elu"), 6),
    "plain": (dict(filters=4), 5),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_matches_numpy_reference(name, rng):
    cfg, channels = CONFIGS[name]
    cell = EfficientGateCell(**cfg)
    shape = (2, 6, 6, channels)
    cell.build(shape)
    randomize(cell, rng, 0.3, unit_gamma=True)
    w = tf1_weights(cell, scope="EfficientGateCell/")

    def np_step(x, u, fb, states):
        out, cell_state, s = np_efficient_step(cfg, w, x, u, fb, *states)
        return out, [cell_state, s]

    states = [np.zeros((2, 6, 6, cfg.get("cell_depth", 0))), np.zeros(shape)]
    check_numpy_steps(cell, np_step, rng, shape, cfg, states,
                      [(1e-4, 2e-5), (1e-5, 1e-6), (1e-4, 2e-5)])


def test_run_cell_test_with_feedback_se_and_residual():
    cfg, channels = CONFIGS["feedback_se_residual"]
    run_cell_test(
        EfficientGateCell, cfg, input_shape=(2, 8, 8, channels),
        expected_output_shape=(2, 8, 8, 4),
        # feedback, depthwise, SE reduce/expand (kernel + bias), projection.
        expected_num_trainable_weights=7,
        extra_fn=lambda x: {"residual": ops.tanh(x[..., :4]),
                            "feedback": x[..., 5:]})


def test_run_cell_test_res_cell_without_feedback():
    cfg, channels = CONFIGS["bypass_residual_add_res_cell"]
    run_cell_test(
        EfficientGateCell, cfg, input_shape=(2, 8, 8, channels),
        expected_output_shape=(2, 8, 8, 4), expected_num_trainable_weights=6,
        extra_fn=lambda x: {"residual": x[..., :2]})


def test_variables_and_tf1_names():
    cell = EfficientGateCell(filters=8, tau_filter_size=5, se_ratio=0.25,
                             residual_channels=8, feedback_channels=5)
    cell.build((1, 14, 14, 32))
    scope = "EfficientGateCell/"
    assert tf1_shapes(cell) == {
        scope + "feedback_to_state/weights": (1, 1, 5, 32),
        scope + "state_to_state/weights": (5, 5, 32, 1),
        scope + "se_reduce/weights": (1, 1, 32, 2),   # int(0.25 * 8)
        scope + "se_reduce/bias": (2,),
        scope + "se_expand/weights": (1, 1, 2, 32),
        scope + "se_expand/bias": (32,),
        scope + "state_to_out/weights": (1, 1, 32, 8)}
    check_mapping_is_one_to_one(cell)
    assert cell.state_size == [(14, 14, 0), (14, 14, 32)]


def test_normal_initializer_is_efficientnet_fan_out():
    cell = EfficientGateCell(filters=256, tau_filter_size=3)
    cell.build((1, 7, 7, 512))
    projection = weight_of(cell, "state_to_out_kernel").numpy()
    std = np.sqrt(2.0 / 256)                        # fan_out = 1 * 1 * 256
    np.testing.assert_allclose(projection.std(), std, rtol=0.02)
    assert np.abs(projection).max() > 3 * std       # not truncated
    depthwise = weight_of(cell, "state_to_state_kernel").numpy()
    np.testing.assert_allclose(depthwise.std(), np.sqrt(2.0 / 9), rtol=0.05)


def test_weight_decay_skips_the_se_convs(rng):
    cfg, channels = CONFIGS["feedback_se_residual"]
    cell = EfficientGateCell(**dict(cfg, weight_decay=0.02))
    cell.build((2, 6, 6, channels))
    randomize(cell, rng, 0.3, unit_gamma=True)
    decayed = [weight_of(cell, name) for name in (
        "feedback_to_state_kernel", "state_to_state_kernel",
        "state_to_out_kernel")]
    expected = sum(0.01 * np.sum(w.numpy().astype("float64") ** 2)
                   for w in decayed)
    total = sum(float(ops.convert_to_numpy(loss)) for loss in cell.losses)
    assert len(cell.losses) == 3
    np.testing.assert_allclose(total, expected, rtol=1e-5)


def test_drop_connect_keeps_or_drops_whole_examples(rng):
    cfg, channels = CONFIGS["feedback_se_residual"]
    cell = EfficientGateCell(**dict(cfg, drop_connect_rate=0.5, seed=3))
    shape = (16, 6, 6, channels)
    cell.build(shape)
    x = rng.standard_normal(shape).astype("float32")
    u = rng.standard_normal((16, 6, 6, 4)).astype("float32")
    fb = rng.standard_normal((16, 6, 6, 3)).astype("float32")
    states = cell.get_initial_state(16)
    branch = ops.convert_to_numpy(
        cell(x, states, residual=u, feedback=fb, training=False)[0]) - u
    dropped = ops.convert_to_numpy(
        cell(x, states, residual=u, feedback=fb, training=True)[0]) - u
    kept = [np.allclose(d, 2 * b, rtol=1e-5, atol=1e-5)
            for d, b in zip(dropped, branch)]
    zero = [np.allclose(d, 0.0, atol=1e-6) for d in dropped]
    assert all(k or z for k, z in zip(kept, zero))
    assert any(kept) and any(zero)


@pytest.mark.parametrize("kwargs, match", [
    (dict(filters=0), "filters"),
    (dict(filters=4, cell_depth=-1), "cell_depth"),
    (dict(filters=4, se_ratio=-0.5), "se_ratio"),
    (dict(filters=4, drop_connect_rate=0.0), "keep probability"),
    (dict(filters=4, drop_connect_rate=1.5), "keep probability"),
    (dict(filters=4, batch_norm=True), "batch_norm"),
    (dict(filters=4, group_norm=True), "group_norm"),
    (dict(filters=4, activation="nope"), "nope"),
    (dict(filters=4, kernel_initializer="nope"), "nope"),
    (dict(filters=4, tau_filter_size=0), "tau_filter_size"),
])
def test_invalid_arguments(kwargs, match):
    check_invalid_arguments(EfficientGateCell, kwargs, match)


def test_build_and_call_errors():
    with pytest.raises(ValueError, match="cell_depth"):
        EfficientGateCell(filters=4, res_cell=True, cell_depth=2,
                          residual_channels=3).build((2, 6, 6, 8))
    with pytest.raises(ValueError, match="<= filters"):
        EfficientGateCell(filters=4, residual_add=True,
                          residual_channels=6).build((2, 6, 6, 8))
    cell = EfficientGateCell(filters=4, residual_channels=4)
    x = np.zeros((2, 6, 6, 8), "float32")
    states = cell.get_initial_state(2, x.shape)
    with pytest.raises(ValueError, match="residual=None"):
        cell(x, states)
    with pytest.raises(ValueError, match="feedback_channels=None"):
        cell(x, states, residual=x[..., :4], feedback=x)
    with pytest.raises(ValueError, match="resize"):
        cell(x, states, residual=x[:, :4, :, :4])
