"""Shared test harness for cells (after keras-hub's `run_layer_test`)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops


def unroll_cell(cell, xs, extra=None, training=False):
    """Runs `cell` over a [T, B, H, W, C] numpy sequence; returns outputs."""
    batch = xs.shape[1]
    states = cell.get_initial_state(batch, xs.shape[1:])
    outputs = []
    for x in xs:
        out, states = cell(ops.convert_to_tensor(x), states,
                           training=training, **(extra or {}))
        outputs.append(ops.convert_to_numpy(out))
    return np.stack(outputs), [ops.convert_to_numpy(s) for s in states]


class _CellModel(keras.Model):
    """Unrolls one cell for a few steps on a constant input (for `fit`)."""

    def __init__(self, cell, steps, extra_fn=None):
        super().__init__(name="cell_model")
        self.cell = cell
        self.steps = steps
        self.extra_fn = extra_fn

    def call(self, x, training=None):
        states = self.cell.get_initial_state(ops.shape(x)[0], x.shape)
        extra = self.extra_fn(x) if self.extra_fn else {}
        out = None
        for _ in range(self.steps):
            out, states = self.cell(x, states, training=training, **extra)
        return ops.mean(out, axis=(1, 2, 3))


def run_cell_test(cls, init_kwargs, input_shape, expected_output_shape,
                  expected_num_trainable_weights, extra_fn=None, steps=3,
                  seed=0):
    """Checks a cell end to end.

    - `get_config` survives a JSON round-trip and `from_config` rebuilds it;
    - build creates `expected_num_trainable_weights` trainable weights;
    - eager and `tf.function` (graph) calls agree and have the expected
      output shape, states keep their declared shapes, no NaNs;
    - one `fit` step runs and changes the weights.

    Args:
        cls: the cell class.
        init_kwargs: constructor arguments.
        input_shape: (B, H, W, C) of the cell input.
        expected_output_shape: (B, H, W, C_out).
        expected_num_trainable_weights: count of trainable variables.
        extra_fn: x -> dict of extra call kwargs (residual=, feedback=).
    """
    cell = cls(**init_kwargs)
    config = cell.get_config()
    config = json.loads(json.dumps(config))
    clone = cls.from_config(config)
    assert clone.get_config() == cell.get_config()

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(input_shape).astype("float32")
    cell.build(input_shape)
    assert len(cell.trainable_weights) == expected_num_trainable_weights, [
        w.path for w in cell.trainable_weights]
    assert tuple(cell.compute_output_shape(input_shape)) == tuple(
        expected_output_shape)

    extra = extra_fn(x) if extra_fn else {}
    xs = np.stack([x] * steps)
    eager_out, eager_states = unroll_cell(cell, xs, extra)
    assert eager_out.shape[1:] == tuple(expected_output_shape)
    assert np.all(np.isfinite(eager_out))
    for s, shape in zip(eager_states, cell.state_size):
        assert s.shape[1:] == tuple(shape)

    @tf.function
    def graph_unroll(x):
        states = cell.get_initial_state(input_shape[0], input_shape)
        outs = []
        for _ in range(steps):
            out, states = cell(x, states, **extra)
            outs.append(out)
        return tf.stack(outs)

    graph_out = graph_unroll(tf.constant(x)).numpy()
    np.testing.assert_allclose(graph_out, eager_out, rtol=1e-5, atol=1e-5)

    # One training step through time.
    model = _CellModel(cls(**init_kwargs), steps, extra_fn)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    y = rng.standard_normal((input_shape[0],)).astype("float32")
    model(x)
    before = [w.numpy().copy() for w in model.trainable_weights]
    history = model.fit(x, y, epochs=1, batch_size=input_shape[0], verbose=0)
    assert np.isfinite(history.history["loss"][0])
    after = [w.numpy() for w in model.trainable_weights]
    assert any(not np.allclose(b, a) for b, a in zip(before, after))
    return cell


# --- helpers shared by the per-cell tests ----------------------------------

def tf1_weights(cell, scope=""):
    """{TF1 name less `scope`: float64 value}; checks that the TF1 mapping
    covers every variable of the cell once."""
    check_mapping_is_one_to_one(cell)
    names = cell.tf1_variable_names()
    return {names[_relative(cell, w)][len(scope):]:
            np.asarray(w.numpy(), np.float64) for w in cell.weights}


def tf1_shapes(cell):
    """{TF1 name: shape} of the cell's variables."""
    names = cell.tf1_variable_names()
    return {names[_relative(cell, w)]: tuple(w.shape) for w in cell.weights}


def check_mapping_is_one_to_one(cell):
    names = cell.tf1_variable_names()
    paths = [_relative(cell, w) for w in cell.weights]
    assert sorted(names) == sorted(paths), (paths, names)
    assert len(set(names.values())) == len(names) == len(cell.weights)


def _relative(cell, weight):
    return weight.path[len(cell.path) + 1:]


def randomize(cell, rng, scale=0.4, unit_gamma=False):
    """Random N(0, scale) weights (layer-norm gains around 1 if asked)."""
    for w in cell.weights:
        value = rng.normal(0.0, scale, w.shape)
        if unit_gamma and w.name == "gamma":
            value += 1.0
        w.assign(value.astype("float32"))


def zero_weights(cell):
    for w in cell.weights:
        w.assign(np.zeros(w.shape, "float32"))


def weight_of(cell, name):
    return next(w for w in cell.weights if w.name == name)


def f32(array):
    return None if array is None else array.astype("float32")


def step(cell, x, *states, **extra):
    """One call on numpy arrays; returns (output, [states]) as numpy."""
    out, new = cell(ops.convert_to_tensor(x),
                    [ops.convert_to_tensor(s) for s in states], **extra)
    return ops.convert_to_numpy(out), [ops.convert_to_numpy(s) for s in new]


def check_output_ignores_input(cell, xs, other_xs, min_abs):
    """No bypass: with zero kernels the output does not depend on the
    input (but is not trivially zero)."""
    out_a, _ = unroll_cell(cell, xs)
    out_b, _ = unroll_cell(cell, other_xs)
    np.testing.assert_allclose(out_a, out_b, atol=1e-6)
    assert np.abs(out_a).max() > min_abs


def check_numpy_steps(cell, np_step, rng, shape, cell_kwargs, states0,
                      tolerances, steps=3):
    """Runs the cell and `np_step(x, u, fb, states) -> (out, states)` side
    by side on random inputs, with a residual / feedback when `cell_kwargs`
    gives `residual_channels` / `feedback_channels`.

    Args:
        tolerances: [(rtol, atol)] for the output, then for each state to
            compare (states beyond the list are not compared).
    """
    states, np_states = cell.get_initial_state(shape[0]), list(states0)
    for _ in range(steps):
        x = rng.standard_normal(shape)
        u, fb = (rng.standard_normal(shape[:3] + (cell_kwargs[key],))
                 if cell_kwargs.get(key) else None
                 for key in ("residual_channels", "feedback_channels"))
        np_out, np_states = np_step(x, u, fb, np_states)
        out, states = cell(f32(x), states, residual=f32(u), feedback=f32(fb))
        pairs = [(out, np_out)] + list(zip(states, np_states))
        for (got, want), (rtol, atol) in zip(pairs, tolerances):
            np.testing.assert_allclose(ops.convert_to_numpy(got), want,
                                       rtol=rtol, atol=atol)


def check_invalid_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
