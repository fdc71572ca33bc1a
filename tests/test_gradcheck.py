"""The gradient checker itself must fail on wrong gradients, or every layer test is hollow."""

import numpy as np
import pytest

from minnet.gradcheck import GradientCheckError, check_layer, numerical_gradient
from minnet.layers.base import Layer
from minnet.layers.dense import Dense


class WrongDense(Dense):
    """Dense whose weight gradient is off by a factor of two."""

    def backward(self, gy):
        gx = super().backward(gy)
        self.grads["W"] *= 2
        return gx


class WrongInputGradient(Layer):
    def forward(self, x):
        if self.training:
            self.push(x)
        return x * x

    def backward(self, gy):
        (x,) = self.pop()
        return gy * x  # should be 2 x gy


class NaNGradient(Layer):
    def forward(self, x):
        if self.training:
            self.push(x)
        return x

    def backward(self, gy):
        self.pop()
        return gy * np.nan


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(numerical_gradient(lambda: float((x**3).sum()), x), 3 * x**2, rtol=1e-6)


def test_catches_a_wrong_parameter_gradient(rng):
    layer = WrongDense(3, 2, rng=rng).astype(np.float64)
    with pytest.raises(GradientCheckError, match="W"):
        check_layer(layer, rng.standard_normal((4, 3)))


def test_catches_a_wrong_input_gradient(rng):
    with pytest.raises(GradientCheckError, match="input"):
        check_layer(WrongInputGradient(), rng.standard_normal((2, 3)))


def test_catches_nan(rng):
    with pytest.raises(GradientCheckError, match="NaN"):
        check_layer(NaNGradient(), rng.standard_normal((2, 3)))


class LogOfInput(Layer):
    """log(x), whose backward claims a zero gradient: wrong, and NaN-valued for x < 0."""

    def forward(self, x):
        return np.log(x)

    def backward(self, gy):
        return np.zeros_like(gy)


def test_catches_a_nan_numerical_gradient():
    with pytest.raises(GradientCheckError, match="numerical gradient has NaN"), np.errstate(invalid="ignore"):
        check_layer(LogOfInput(), -np.ones((2, 3)))


def test_refuses_float32(rng):
    with pytest.raises(TypeError, match="float64"):
        check_layer(Dense(2, 2, rng=rng), rng.standard_normal((2, 2)).astype(np.float32))
