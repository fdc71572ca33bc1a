import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.gradcheck import check_layer
from minnet.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, sigmoid

SHAPES = [(4, 7), (2, 3, 5, 5), (1, 1)]


@pytest.mark.parametrize("make", [ReLU, lambda: LeakyReLU(0.2), lambda: LeakyReLU(1.5), Tanh, Sigmoid, Softmax])
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_gradients(xp, rng, make, shape):
    x = xp.asarray(rng.standard_normal(shape))
    # keep inputs away from the kinks of ReLU-like units, where central differences straddle 0
    x = xp.where(xp.abs(x) < 1e-3, 0.5, x)
    check_layer(make(), x)


def test_leaky_relu_values(xp):
    x = xp.asarray([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(to_numpy(LeakyReLU(0.1)(x)), [-0.2, 0.0, 3.0])
    np.testing.assert_allclose(to_numpy(LeakyReLU(2.0)(x)), [-4.0, 0.0, 3.0])  # a slope above 1


def test_leaky_relu_rejects_non_positive_slope():
    with pytest.raises(ValueError, match="positive"):
        LeakyReLU(0.0)


def test_sigmoid_does_not_overflow(xp):
    x = xp.asarray([-1000.0, 0.0, 1000.0], dtype=np.float32)
    with np.errstate(over="raise"):
        y = sigmoid(x)
    assert float(y[0]) == 0.0 and float(y[1]) == 0.5 and float(y[2]) == 1.0


def test_softmax_is_stable_and_normalised(xp):
    x = xp.asarray([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0]])
    y = Softmax().eval()(x)
    assert bool(xp.isfinite(y).all())
    assert xp.allclose(y.sum(axis=1), 1.0)
    assert xp.allclose(y[0], xp.asarray([0.5, 0.5, 0.0]))


def test_float32_stays_float32(xp, rng):
    x = xp.asarray(rng.standard_normal((3, 4)), dtype=np.float32)
    for layer in (ReLU(), LeakyReLU(), Tanh(), Sigmoid(), Softmax()):
        y = layer(x)
        assert y.dtype == np.float32
        assert layer.backward(xp.ones_like(y)).dtype == np.float32
