import numpy as np

from minnet.gradcheck import check, check_layer
from minnet.layers.activations import Tanh
from minnet.layers.base import Sequential
from minnet.layers.dense import Dense
from minnet.layers.shape import Concat, Flatten, Reshape


def test_flatten_and_reshape_gradients(xp, rng):
    check_layer(Flatten(), xp.asarray(rng.standard_normal((2, 3, 4, 5))))
    check_layer(Reshape((2, 3)), xp.asarray(rng.standard_normal((4, 6))))
    assert Reshape((128, 7, 7))(xp.zeros((2, 6272))).shape == (2, 128, 7, 7)


def test_concat_gradients(xp, rng):
    layer = Concat(axis=1)
    a = xp.asarray(rng.standard_normal((3, 2, 4, 4)))
    b = xp.asarray(rng.standard_normal((3, 5, 4, 4)))

    def forward():
        y = layer.forward([a, b])
        layer.clear()
        return y

    def backward(gys):
        layer.forward([a, b])
        ga, gb = layer.backward(gys[0])
        return {"a": ga, "b": gb}

    check(forward, backward, {"a": a, "b": b})


def test_sequential_gradients_and_names(xp, rng):
    net = Sequential(Dense(4, 6, rng=rng), Tanh(), Dense(6, 3, rng=rng)).astype(np.float64)
    assert list(net.named_parameters()) == ["0.W", "0.b", "2.W", "2.b"]
    check_layer(net, xp.asarray(rng.standard_normal((5, 4))))


def test_nested_sequential_state_round_trip(xp, rng):
    net = Sequential(Sequential(Dense(2, 3, rng=1)), Dense(3, 1, rng=2))
    state = net.state_dict()
    assert set(state) == {"0.0.W", "0.0.b", "1.W", "1.b"}
    other = Sequential(Sequential(Dense(2, 3, rng=5)), Dense(3, 1, rng=6))
    other.load_state_dict(state)
    for name, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[name])
