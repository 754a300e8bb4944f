"""Tests of the layer table: conv / fc weight decay and ResidualAdd (§1.5)."""

import numpy as np
import pytest
import tensorflow as tf

from tnn.graphs.layers import ResidualAdd, build_layer


def _l2(*arrays):
    return sum(float(np.sum(np.asarray(a, "float64") ** 2)) for a in arrays)


@pytest.mark.parametrize("spec, shape", [
    ({"layer": "conv", "filters": 3, "kernel_size": 2}, (1, 4, 4, 2)),
    ({"layer": "fc", "units": 3}, (1, 2, 2, 2))])
def test_bias_weight_decay_is_tf1_l2_on_the_bias(spec, shape):
    # TF1 l2_regularizer(s) adds s * sum(w**2) / 2, on kernel and bias in
    # the original conv / fc / component_conv.
    layer = build_layer(dict(spec, weight_decay=0.1, bias_weight_decay=0.3,
                             bias_initializer=0.5), "layer")
    layer.build(shape)
    total = sum(float(loss) for loss in layer.losses)
    np.testing.assert_allclose(
        total, 0.05 * _l2(layer.kernel) + 0.15 * _l2(layer.bias), rtol=1e-6)
    kernel_only = build_layer(dict(spec, weight_decay=0.1), "layer")
    kernel_only.build(shape)
    assert len(kernel_only.losses) == 1


def _residual(x_shape, res_shape, rng):
    layer = ResidualAdd(kernel_initializer="glorot_uniform")
    x = rng.standard_normal(x_shape).astype("float32")
    res = rng.standard_normal(res_shape).astype("float32")
    layer.build(x.shape, res.shape)
    return layer, x, res, np.asarray(layer(x, res))


def test_residual_same_shape_is_the_identity(rng):
    layer, x, res, out = _residual((2, 4, 4, 3), (2, 4, 4, 3), rng)
    assert layer.projection is None and not layer.weights
    np.testing.assert_allclose(out, x + res)


def test_residual_of_other_channels_is_projected_without_resize(rng):
    layer, x, res, out = _residual((2, 4, 4, 3), (2, 4, 4, 5), rng)
    kernel = np.asarray(layer.projection)
    assert kernel.shape == (1, 1, 5, 3)
    np.testing.assert_allclose(out, x + res @ kernel[0, 0], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("res_channels", [3, 5])
def test_residual_of_other_size_is_resized_then_always_projected(
        res_channels, rng):
    # convrnns cell_utils.residual_add, spatial mismatch: resize_images
    # (align_corners=True), then the bias-free 1×1 residual_add_weights,
    # even when the channel counts agree.
    layer, x, res, out = _residual((2, 4, 4, 3), (2, 7, 7, res_channels),
                                   rng)
    kernel = np.asarray(layer.projection)
    assert kernel.shape == (1, 1, res_channels, 3)
    assert layer.projection.path.endswith("residual_add_weights")
    assert not layer.losses                        # no decay (original)
    resized = tf.compat.v1.image.resize_bilinear(res, (4, 4),
                                                 align_corners=True).numpy()
    np.testing.assert_allclose(out, x + resized @ kernel[0, 0], rtol=1e-5,
                               atol=1e-5)


def test_residual_of_another_rank_is_a_clear_error():
    layer = ResidualAdd()
    with pytest.raises(ValueError, match="rank"):
        layer.build((2, 4, 4, 3), (2, 3))
