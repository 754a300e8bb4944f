"""The shifted-sum depthwise convolution (JAX on CPU) equals Keras'."""

import keras
import numpy as np
import pytest
from keras import ops

from tnn.cells import base


@pytest.mark.parametrize("kernel_size", [(1, 1), (3, 3), (7, 7), (2, 2),
                                         (4, 3)])
def test_shifted_depthwise_equals_keras_depthwise(kernel_size):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 5)).astype("float32")
    kernel = rng.standard_normal(kernel_size + (5, 1)).astype("float32")
    want = ops.convert_to_numpy(ops.depthwise_conv(
        x, kernel, strides=1, padding="same", data_format="channels_last"))
    got = ops.convert_to_numpy(base.shifted_depthwise_conv2d(x, kernel))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        ops.convert_to_numpy(base.depthwise_conv2d(x, kernel)), want,
        rtol=1e-5, atol=1e-5)


def test_only_float32_with_multiplier_one_on_xla_cpu_is_shifted(
        monkeypatch):
    calls = []
    monkeypatch.setattr(base, "shifted_depthwise_conv2d",
                        lambda x, k: calls.append(1) or x)
    x = np.ones((1, 4, 4, 2), "float32")
    kernel = np.ones((3, 3, 2, 1), "float32")
    if keras.backend.backend() != "jax":
        base.depthwise_conv2d(x, kernel)
        assert calls == []
    monkeypatch.setattr(base, "_xla_cpu", lambda: True)
    base.depthwise_conv2d(x, kernel)
    assert calls == [1]
    base.depthwise_conv2d(x, np.ones((3, 3, 2, 2), "float32"))
    base.depthwise_conv2d(x.astype("float16"), kernel.astype("float16"))
    assert calls == [1]
