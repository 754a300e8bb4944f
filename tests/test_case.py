"""Shared test harness for cells (after keras-hub's `run_layer_test`)."""

import json

import keras
import numpy as np
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
