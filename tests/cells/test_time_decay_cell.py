"""TimeDecayCell: harness, Appendix C recursion, bypass, TF1 names."""

import numpy as np
import pytest

from tests.test_case import run_cell_test, unroll_cell
from tnn.cells.time_decay_cell import TimeDecayCell

B, H, W, C = 2, 8, 8, 4


def test_harness():
    run_cell_test(TimeDecayCell, {"decay_init": 0.5}, (B, H, W, C),
                  (B, H, W, C), 1)


def test_decay_half_over_six_steps():
    """Appendix C (original tnn test): s_t = 0.5 s_{t-1} + x_t exactly."""
    cell = TimeDecayCell(decay_init=0.5)
    cell.build((B, H, W, C))
    xs = np.random.default_rng(0).normal(size=(6, B, H, W, C))
    out, states = unroll_cell(cell, xs.astype("float32"))
    s = np.zeros((B, H, W, C))
    for t, x in enumerate(xs):
        s = 0.5 * s + x
        np.testing.assert_allclose(out[t], s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states[0], s, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("decay", [0.0, 0.9, -1.3])
def test_bypass_input_reaches_output_unchanged(decay):
    cell = TimeDecayCell(decay_init=decay)
    cell.build((B, H, W, C))
    x = np.random.default_rng(1).normal(size=(1, B, H, W, C))
    out, _ = unroll_cell(cell, x.astype("float32"))
    np.testing.assert_allclose(out[0], x[0], rtol=1e-6)


def test_zero_decay_is_a_pass_through():
    cell = TimeDecayCell(learnable=False)
    cell.build((B, H, W, C))
    xs = np.random.default_rng(2).normal(size=(3, B, H, W, C))
    out, _ = unroll_cell(cell, xs.astype("float32"))
    np.testing.assert_allclose(out, xs, rtol=1e-6)


@pytest.mark.parametrize("learnable", [True, False])
def test_variable_and_tf1_name(learnable):
    cell = TimeDecayCell(decay_init=0.25, learnable=learnable)
    cell.build((1, 28, 28, 256))
    assert [w.path[len(cell.path) + 1:] for w in cell.weights] == [
        "memory_decay"]
    assert cell.tf1_variable_names() == {"memory_decay": "memory_decay"}
    assert tuple(cell.weights[0].shape) == (1,)  # Appendix A: memory_decay [1]
    assert len(cell.trainable_weights) == int(learnable)
    np.testing.assert_allclose(cell.weights[0].numpy(), [0.25])
    assert cell.state_size == [(28, 28, 256)]


@pytest.mark.parametrize("kwargs,match", [
    ({"decay_init": "0.5"}, "decay_init must be a number"),
    ({"decay_init": None}, "decay_init must be a number"),
    ({"learnable": 1}, "learnable must be True or False"),
])
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeDecayCell(**kwargs)


def test_rejects_input_without_feature_axes():
    with pytest.raises(ValueError, match=r"needs an input of known shape"):
        TimeDecayCell().build((2,))


def test_works_on_vectors_like_the_original_memory():
    cell = TimeDecayCell(decay_init=0.5)
    cell.build((3, 7))
    assert cell.state_size == [(7,)]
    states = cell.get_initial_state(3)
    x = np.arange(21, dtype="float32").reshape(3, 7)
    for _ in range(2):
        out, states = cell(x, states)
    np.testing.assert_allclose(np.asarray(out), 1.5 * x)
