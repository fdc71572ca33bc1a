"""input_gradients_only: the same dL/dx as a full backward pass, and no parameter gradient."""

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.layers import (
    BatchNorm,
    Conv2d,
    Deconv2d,
    Dense,
    LabelledConv2d,
    LSTMCell,
    ReLU,
    Sequential,
    input_gradients_only,
)


def _networks(rng):
    """(network, input) pairs covering every layer that has parameters."""
    return [
        (Sequential(Dense(6, 5, rng=rng), ReLU(), Dense(5, 3, rng=rng)), rng.standard_normal((4, 6))),
        (
            Sequential(Conv2d(2, 3, 3, 1, 1, rng=rng), BatchNorm(3), Deconv2d(3, 2, 4, 2, 1, rng=rng)),
            rng.standard_normal((4, 2, 5, 5)),
        ),
        (LabelledConv2d(2, 10, 3, 3, 2, 1, rng=rng), [rng.standard_normal((4, 2, 6, 6)), np.eye(10)[[1, 4, 4, 9]]]),
        (LSTMCell(3, 4, rng=rng), rng.standard_normal((5, 3))),
    ]


def _backward(layer, x, gy):
    return layer.backward(gy) if not isinstance(layer, LSTMCell) else layer.backward(gy, None)[0]


def _forward(layer, x):
    return layer.forward(x) if not isinstance(layer, LSTMCell) else layer.forward(x, None)[0]


def _as_list(g):
    return g if isinstance(g, list) else [g]


@pytest.mark.parametrize("case", range(4))
def test_same_input_gradient_and_parameter_gradients_untouched(case, device, xp):
    rng = np.random.default_rng(case)
    layer, x = _networks(rng)[case]
    layer.to(device).astype(np.float64)
    x = [xp.asarray(a) for a in x] if isinstance(x, list) else xp.asarray(x)
    gy = xp.asarray(rng.standard_normal(_forward(layer, x).shape))
    full = _as_list(_backward(layer, x, gy))
    before = {name: g.copy() for name, g in layer.named_grads().items()}
    assert any(float(abs(g).max()) > 0 for g in before.values())

    _forward(layer, x)
    with input_gradients_only(layer):
        only = _as_list(_backward(layer, x, gy))
    for a, b in zip(full, only):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b))
    for name, g in layer.named_grads().items():
        assert bool((g == before[name]).all()), f"{name} changed inside input_gradients_only"
    assert all(inner.param_grads for inner in layer.walk())  # restored on leaving the block
    assert all(not inner._saved for inner in layer.walk())  # every saved value was used up
