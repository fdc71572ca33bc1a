import numpy as np
import pytest

from minnet.errors import MinnetError
from minnet.layers.base import Sequential
from minnet.layers.dense import Dense
from minnet.optim import SGD, Adam, FlatParameters, NonFiniteError, clip_by_global_norm


def _net(rng=0):
    return Sequential(Dense(3, 4, rng=rng), Dense(4, 2, rng=rng + 1))


def test_flat_buffer_holds_views(xp):
    net = _net()
    before = net.state_dict()
    flat = FlatParameters(net)
    assert flat.values.size == net.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    flat.values[:] = 7
    assert float(net[1].params["b"][0]) == 7
    net[0].grads["W"] += 1
    assert float(flat.grads[flat.slices["0.W"]].sum()) == 12


def test_sgd_step_and_zeroing(xp):
    net = _net()
    opt = SGD(net, lr=0.1)
    w = net[0].params["W"].copy()
    net[0].grads["W"][...] = 2.0
    opt.step()
    assert np.allclose(net[0].params["W"], w - 0.2)
    assert float(abs(opt.flat.grads).sum()) == 0


def test_sgd_momentum_matches_torch_form(xp):
    net = _net()
    opt = SGD(net, lr=0.5, momentum=0.9)
    w = float(net[1].params["b"][0])
    for _ in range(2):
        net[1].grads["b"][...] = 1.0
        opt.step()
    # v1 = 1, v2 = 0.9 + 1: theta = w - 0.5 * (1 + 1.9)
    assert np.isclose(float(net[1].params["b"][0]), w - 0.5 * 2.9)


def _torch_adam_reference(theta, grads, lr, b1, b2, eps):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def test_adam_matches_reference(xp):
    net = Sequential(Dense(1, 1, rng=0)).astype(np.float64)
    opt = Adam(net, lr=0.01, beta1=0.5, beta2=0.9)
    w0 = float(net[0].params["W"][0, 0])
    grads = [0.3, -1.2, 0.7, 2.0]
    for g in grads:
        net[0].grads["W"][...] = g
        opt.step()
    assert np.isclose(float(net[0].params["W"][0, 0]), _torch_adam_reference(w0, grads, 0.01, 0.5, 0.9, 1e-8))


def test_adam_minimises_a_quadratic(xp):
    net = Sequential(Dense(2, 1, rng=0))
    opt = Adam(net, lr=0.05)
    for _ in range(300):
        w = net[0].params["W"]
        net[0].grads["W"] += 2 * (w - 3.0)  # d/dw (w - 3)^2
        opt.step()
    assert np.allclose(net[0].params["W"], 3.0, atol=1e-2)


def test_clip_by_global_norm(xp):
    g = xp.asarray([3.0, 4.0])
    assert clip_by_global_norm(g, 1.0) == 5.0
    assert np.allclose(g, [0.6, 0.8])
    small = xp.asarray([0.3, 0.4])
    clip_by_global_norm(small, 1.0)
    assert np.allclose(small, [0.3, 0.4])


def test_clipping_applies_in_step(xp):
    net = _net()
    opt = SGD(net, lr=1.0, clip_norm=1.0)
    before = opt.flat.values.copy()
    opt.flat.grads[:] = 10.0
    opt.step()
    assert np.isclose(float(xp.linalg.norm(before - opt.flat.values)), 1.0)
    assert opt.last_grad_norm > 1.0


def test_non_finite_gradient_names_parameter(xp):
    net = _net()
    opt = Adam(net)
    net[1].grads["W"][0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"1\.W"):
        opt.step()


def test_state_round_trip(xp):
    net = _net()
    opt = Adam(net, lr=0.1)
    net[0].grads["b"][...] = 1.0
    opt.step()
    state = opt.state_dict()
    other = Adam(_net(5), lr=0.1)
    other.load_state_dict(state)
    assert other.steps == 1
    np.testing.assert_array_equal(other.state_dict()["m"], state["m"])


def test_bad_learning_rate():
    with pytest.raises(MinnetError, match="learning rate"):
        SGD(_net(), lr=0)


@pytest.mark.parametrize(
    "settings,message",
    [({"clip_norm": -1.0}, "clip_norm must be positive"), ({"beta1": 1.0}, "beta1"), ({"beta2": -0.1}, "beta2")],
)
def test_settings_that_would_break_training_are_refused(rng, settings, message):
    with pytest.raises(MinnetError, match=message):
        Adam(Dense(2, 2, rng=rng), lr=1e-3, **settings)
