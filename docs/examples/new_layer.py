"""A new layer, Swish ``y = x sigmoid(x)``, and a check of its backward pass against central differences.

A built-in layer is checked the same way from the shell:  minnet gradcheck dense  (or conv2d, lstmcell, ...)
"""

import numpy as np

from minnet.gradcheck import layer_closures, measure
from minnet.layers import Layer
from minnet.layers.activations import sigmoid


class Swish(Layer):
    """``y = x * sigmoid(x)`` elementwise, any shape; ``dy/dx = s + x s (1 - s)`` with ``s = sigmoid(x)``."""

    def forward(self, x):
        s = sigmoid(x)
        if self.training:  # only training mode saves what backward needs
            self.push(x, s)
        return x * s

    def backward(self, gy):
        x, s = self.pop()
        return gy * (s + x * s * (1 - s))  # dL/dx = dL/dy * dy/dx


class ForgetfulSwish(Swish):
    def backward(self, gy):
        x, s = self.pop()
        return gy * s  # forgets the x s (1 - s) term: the check must catch this


x = np.random.default_rng(0).standard_normal((4, 5))  # float64: central differences need it
for layer in (Swish(), ForgetfulSwish()):
    for c in measure(*layer_closures(layer, x)):
        print(f"{type(layer).__name__} d/d{c.name}: max abs error {c.max_abs:.1e} -> {'ok' if c.ok else 'WRONG'}")
