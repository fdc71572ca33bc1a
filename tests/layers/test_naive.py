"""The naive loops of minnet.layers.naive agree with their fast twins, forward and backward.

Both sides are float64 NumPy; the sums run in different orders, so they agree to rounding.
(The forward passes of conv, deconv, pooling and the LSTM are also compared over more shapes
in each family's own test file.)
"""

import numpy as np
import pytest

from minnet.layers import BatchNorm, Conv2d, Deconv2d, Dense, LSTMCell, MaxPool2d, naive

TOLERANCE = {"rtol": 1e-10, "atol": 1e-12}


def float64_layer(layer, rng):
    """``layer`` in float64 with every parameter random (no zero bias hiding a mistake)."""
    layer.astype(np.float64)
    for array in layer.params.values():
        array[...] = rng.standard_normal(array.shape)
    return layer


def fast_gradients(layer, x, gy):
    """``(y, dL/dx, {param: dL/dparam})`` from the fast layer's forward and backward."""
    layer.zero_grad()
    y = layer.forward(x)
    gx = layer.backward(gy)
    return y, gx, layer.grads


def assert_all_close(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, **TOLERANCE)


def test_dense(rng):
    layer = float64_layer(Dense(5, 3), rng)
    x, gy = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    y, gx, grads = fast_gradients(layer, x, gy)
    W, b = layer.params["W"], layer.params["b"]
    assert_all_close([naive.dense(x, W, b)], [y])
    assert_all_close(naive.dense_backward(x, W, gy), [gx, grads["W"], grads["b"]])


@pytest.mark.parametrize("k, stride, pad", [(3, 1, 1), (3, 2, 1), (4, 2, 0), (2, 3, 1)])
def test_conv2d(rng, k, stride, pad):
    layer = float64_layer(Conv2d(3, 4, k, stride, pad), rng)
    x = rng.standard_normal((2, 3, 7, 6))
    gy = rng.standard_normal(layer.output_shape(x.shape))
    y, gx, grads = fast_gradients(layer, x, gy)
    W, b = layer.params["W"], layer.params["b"]
    assert_all_close([naive.conv2d(x, W, b, stride, pad)], [y])
    assert_all_close(naive.conv2d_backward(x, W, gy, stride, pad), [gx, grads["W"], grads["b"]])


@pytest.mark.parametrize("k, stride, pad", [(3, 1, 1), (3, 2, 1), (4, 2, 1), (2, 3, 0)])
def test_conv_transpose2d(rng, k, stride, pad):
    layer = float64_layer(Deconv2d(3, 2, k, stride, pad), rng)
    x = rng.standard_normal((2, 3, 4, 3))
    gy = rng.standard_normal(layer.output_shape(x.shape))
    y, gx, grads = fast_gradients(layer, x, gy)
    W, b = layer.params["W"], layer.params["b"]
    assert_all_close([naive.conv_transpose2d(x, W, b, stride, pad)], [y])
    assert_all_close(naive.conv_transpose2d_backward(x, W, gy, stride, pad), [gx, grads["W"], grads["b"]])


@pytest.mark.parametrize("k, stride, pad", [(2, 2, 0), (3, 1, 1), (3, 2, 1)])
def test_max_pool2d(rng, k, stride, pad):
    layer = MaxPool2d(k, stride, pad)
    x = rng.standard_normal((2, 3, 7, 6))
    gy = rng.standard_normal(layer.output_shape(x.shape))
    y, gx, _ = fast_gradients(layer, x, gy)
    assert_all_close([naive.max_pool2d(x, k, stride, pad), naive.max_pool2d_backward(x, gy, k, stride, pad)], [y, gx])


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 3, 2)])
def test_batch_norm(rng, shape):
    layer = float64_layer(BatchNorm(shape[1]), rng)
    x, gy = rng.standard_normal(shape) * 2 + 1, rng.standard_normal(shape)
    y, gx, grads = fast_gradients(layer, x, gy)
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    assert_all_close([naive.batch_norm(x, gamma, beta, layer.eps)], [y])
    assert_all_close(naive.batch_norm_backward(x, gamma, gy, layer.eps), [gx, grads["gamma"], grads["beta"]])


def test_lstm_step(rng):
    cell = float64_layer(LSTMCell(4, 3), rng)
    x, h_prev, c_prev, gh, gc = (rng.standard_normal(shape) for shape in [(2, 4)] + [(2, 3)] * 4)
    cell.zero_grad()
    h, c = cell.forward(x, (h_prev, c_prev))
    gx, (gh_prev, gc_prev) = cell.backward(gh, gc)
    W, b = cell.params["W"], cell.params["b"]
    assert_all_close(naive.lstm_step(x, h_prev, c_prev, W, b), [h, c])
    expected = [gx, gh_prev, gc_prev, cell.grads["W"], cell.grads["b"]]
    assert_all_close(naive.lstm_step_backward(x, h_prev, c_prev, W, b, gh, gc), expected)
