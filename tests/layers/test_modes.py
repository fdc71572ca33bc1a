"""Training and evaluation modes, and the gradient-shape check every backward makes."""

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import MinnetError, ShapeError
from minnet.layers.activations import ReLU, Tanh
from minnet.layers.base import Sequential, evaluating
from minnet.layers.conv import Conv2d
from minnet.layers.dense import Dense
from minnet.layers.dropout import Dropout
from minnet.layers.norm import BatchNorm
from minnet.layers.pooling import MaxPool2d
from minnet.layers.recurrent import LSTM, LSTMCell
from minnet.layers.shape import Flatten


def _conv_net(rng):
    return Sequential(
        Conv2d(1, 3, 3, 1, 1, rng=rng), BatchNorm(3), ReLU(), MaxPool2d(2), Flatten(),
        Dropout(0.5, rng=rng), Dense(3 * 4 * 4, 5, rng=rng), Tanh(),
    )  # fmt: skip


def _modes(net):
    return [layer.training for layer in net.walk()]


def test_a_new_layer_trains_and_the_switches_are_recursive(rng):
    net = _conv_net(rng)
    assert all(_modes(net))
    assert net.eval() is net and not any(_modes(net))
    assert net.train() is net and all(_modes(net))
    assert not any(_modes(net.train(False)))


def test_evaluating_restores_each_layers_own_mode(rng):
    net = _conv_net(rng)
    net[5].eval()  # one layer already in eval mode before the block
    before = _modes(net)
    with evaluating(net):
        assert not any(_modes(net))
    assert _modes(net) == before
    with pytest.raises(KeyError), evaluating(net):
        raise KeyError  # restored on the way out of an exception too
    assert _modes(net) == before


def test_an_eval_forward_saves_nothing(xp, rng):
    net = _conv_net(rng)
    x = xp.asarray(rng.standard_normal((4, 1, 8, 8)), dtype=np.float32)
    with evaluating(net):
        net.forward(x)
    assert all(not layer._saved for layer in net.walk())
    net.forward(x)
    assert all(layer._saved for layer in net.walk() if layer is not net)


def test_backward_after_an_eval_forward_says_so(xp, rng):
    net = _conv_net(rng).eval()
    y = net.forward(xp.asarray(rng.standard_normal((4, 1, 8, 8)), dtype=np.float32))
    with pytest.raises(MinnetError, match="Tanh.backward has nothing to undo: the forward ran in eval mode"):
        net.backward(xp.ones_like(y))


def test_eval_mode_turns_dropout_off_and_batch_norm_to_running_statistics(xp, rng):
    net = Sequential(Dense(6, 6, rng=rng), Dropout(0.5, rng=rng), BatchNorm(6))
    net[2].buffers["running_mean"][...] = xp.asarray(rng.standard_normal(6))
    x = xp.asarray(rng.standard_normal((5, 6)), dtype=np.float32)
    with evaluating(net):
        first, second = net.forward(x), net.forward(x)
    np.testing.assert_array_equal(to_numpy(first), to_numpy(second))  # no random mask
    h = x @ net[0].params["W"] + net[0].params["b"]
    expected = (h - net[2].buffers["running_mean"]) / xp.sqrt(net[2].buffers["running_var"] + net[2].eps)
    np.testing.assert_allclose(to_numpy(first), to_numpy(expected), rtol=1e-5, atol=1e-6)


def test_a_dropout_net_in_eval_mode_is_the_net_without_dropout(xp, rng):
    dense = [Dense(8, 16, rng=rng), Dense(16, 3, rng=rng)]
    with_dropout = Sequential(dense[0], ReLU(), Dropout(0.4, rng=rng), dense[1])
    without = Sequential(dense[0], ReLU(), dense[1])
    x = xp.asarray(rng.standard_normal((10, 8)), dtype=np.float32)
    trained = with_dropout.forward(x)
    assert not np.allclose(to_numpy(trained), to_numpy(without.forward(x)))  # dropout acts in training
    np.testing.assert_array_equal(to_numpy(with_dropout.eval().forward(x)), to_numpy(without.forward(x)))


def test_a_wrong_gradient_shape_names_the_layer_before_any_arithmetic(xp, rng):
    layer = Dense(7, 10, rng=rng)
    x = xp.asarray(rng.standard_normal((4, 7)), dtype=np.float32)
    layer.forward(x)
    with pytest.raises(ShapeError, match=r"Dense\(7, 10\) expects gradient of shape \(4, 10\), got \(4, 7\)"):
        layer.backward(xp.ones((4, 7), dtype=np.float32))
    assert float(abs(layer.grads["W"]).sum()) == 0  # nothing was added
    assert layer.backward(xp.ones((4, 10), dtype=np.float32)).shape == (4, 7)  # the forward is still there


def test_the_check_follows_sequences_and_several_outputs(xp, rng):
    net = Sequential(Dense(3, 4, rng=rng), Tanh(), Dense(4, 2, rng=rng))
    net.forward(xp.ones((5, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"Dense\(4, 2\) expects gradient of shape \(5, 2\), got \(3, 2\)"):
        net.backward(xp.ones((3, 2), dtype=np.float32))
    cell = LSTMCell(3, 4, rng=rng)
    h, c = cell.forward(xp.ones((2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"LSTMCell\(3, 4\) expects gradient of shape \(2, 4\), got \(2, 3\)"):
        cell.backward(h, xp.ones((2, 3), dtype=np.float32))
    cell.backward(h, None)  # no gradient for c is fine
    lstm = LSTM(3, 4, rng=rng)
    hs = lstm.forward(xp.ones((6, 2, 3), dtype=np.float32))
    with pytest.raises(ShapeError, match=r"LSTM\(3, 4\) expects gradient of shape \(6, 2, 4\)"):
        lstm.backward(hs[:5])
