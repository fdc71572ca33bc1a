import numpy as np
import pytest

from minnet.errors import MinnetError
from minnet.gradcheck import check_layer
from minnet.layers.dense import Dense


@pytest.mark.parametrize("batch,n_in,n_out", [(1, 1, 1), (3, 5, 4), (7, 2, 9)])
def test_dense_gradients(xp, rng, batch, n_in, n_out):
    layer = Dense(n_in, n_out, rng=rng).astype(np.float64)
    layer.params["b"][...] = xp.asarray(rng.standard_normal(n_out))
    check_layer(layer, xp.asarray(rng.standard_normal((batch, n_in))))


def test_dense_without_bias(xp, rng):
    layer = Dense(3, 2, bias=False, rng=rng).astype(np.float64)
    assert set(layer.params) == {"W"}
    check_layer(layer, xp.asarray(rng.standard_normal((4, 3))))


def test_dense_matches_formula(xp, rng):
    layer = Dense(4, 3, rng=rng)
    x = xp.asarray(rng.standard_normal((2, 4)), dtype=np.float32)
    expected = x @ layer.params["W"] + layer.params["b"]
    assert xp.allclose(layer.eval().forward(x), expected)


def test_same_seed_same_weights():
    a, b = Dense(6, 5, rng=3), Dense(6, 5, rng=3)
    np.testing.assert_array_equal(a.params["W"], b.params["W"])
    assert a.params["W"].dtype == np.float32


def test_shared_weights_accumulate(xp, rng):
    layer = Dense(3, 2, rng=rng).astype(np.float64)
    x1 = xp.asarray(rng.standard_normal((4, 3)))
    x2 = xp.asarray(rng.standard_normal((4, 3)))
    gy = xp.ones((4, 2))
    layer.forward(x1)
    layer.forward(x2)
    layer.backward(gy)  # pops x2
    layer.backward(gy)  # pops x1
    assert xp.allclose(layer.grads["W"], x1.T @ gy + x2.T @ gy)
    with pytest.raises(MinnetError, match="no forward ran"):
        layer.backward(gy)
