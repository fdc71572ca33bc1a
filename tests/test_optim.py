import numpy as np
import pytest

from minnet.errors import MinnetError
from minnet.layers.base import Sequential
from minnet.layers.dense import Dense
from minnet.optim import SGD, Adam, NonFiniteError, clip_by_global_norm


def _net(rng=0):
    return Sequential(Dense(3, 4, rng=rng), Dense(4, 2, rng=rng + 1))


def _fill_grads(net, value):
    for grad in net.named_grads().values():
        grad[...] = value


def test_a_reference_taken_before_the_optimizer_sees_the_step(xp):
    net = _net()
    w = net[0].params["W"]  # held by the user before the optimizer exists
    start = w.copy()
    opt = SGD(net, lr=0.1)
    net[0].grads["W"][...] = 2.0
    opt.step()
    assert net[0].params["W"] is w
    np.testing.assert_allclose(w, start - 0.1 * 2.0)


def test_step_zeroes_the_layers_gradients(xp):
    net = _net()
    opt = SGD(net, lr=0.1)
    _fill_grads(net, 1.0)
    opt.step()
    assert all(float(abs(g).sum()) == 0 for g in net.named_grads().values())


def test_two_optimizers_over_one_network_both_update(xp):
    net = _net()
    b = net[1].params["b"]
    start = b.copy()
    first, second = SGD(net, lr=0.1), SGD(net, lr=0.5)
    net[1].grads["b"][...] = 1.0
    first.step()
    np.testing.assert_allclose(b, start - 0.1)
    net[1].grads["b"][...] = 1.0
    second.step()
    np.testing.assert_allclose(b, start - 0.1 - 0.5)
    assert net[1].params["b"] is b


def test_a_list_of_layers_is_optimised_and_a_shared_layer_once(xp):
    shared = Dense(2, 2, rng=0)
    a, b = Sequential(shared, Dense(2, 1, rng=1)), Sequential(shared)
    opt = SGD([a, b], lr=1.0)
    assert list(opt.slices) == ["0.0.W", "0.0.b", "0.1.W", "0.1.b"]
    start = shared.params["W"].copy()
    shared.grads["W"][...] = 1.0
    opt.step()
    np.testing.assert_allclose(shared.params["W"], start - 1.0)


@pytest.mark.parametrize(
    "model,given", [("arrays", "a list of ndarray"), ({}, "dict"), (None, "NoneType"), ([], "a list of nothing")]
)
def test_anything_but_layers_is_refused_in_one_line(rng, model, given):
    if model == "arrays":
        model = [rng.standard_normal((3, 2)), rng.standard_normal(2)]
    with pytest.raises(MinnetError, match=f"Adam expects a Layer or a list of Layers to optimise, got {given}"):
        Adam(model)


def _replace_by_hand(net):
    net[0].params["W"] = net[0].params["W"].copy()


@pytest.mark.parametrize("replace", [lambda net: net.astype(np.float64), _replace_by_hand])
def test_arrays_replaced_after_building_are_refused_at_the_next_step(replace):
    net = _net()
    opt = Adam(net)
    replace(net)
    with pytest.raises(MinnetError, match=r"Adam: parameter 0\.W was replaced .* build the optimizer after astype/to"):
        opt.step()


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


def test_adam_matches_reference_on_every_array(xp):
    net = _net().astype(np.float64)
    opt = Adam(net, lr=0.01, beta1=0.5, beta2=0.9)
    w0, b0 = float(net[0].params["W"][1, 2]), float(net[1].params["b"][1])
    grads = [0.3, -1.2, 0.7, 2.0]
    for g in grads:
        net[0].grads["W"][...] = g
        net[1].grads["b"][...] = -g
        opt.step()
    settings = (0.01, 0.5, 0.9, 1e-8)
    assert np.isclose(float(net[0].params["W"][1, 2]), _torch_adam_reference(w0, grads, *settings))
    assert np.isclose(float(net[1].params["b"][1]), _torch_adam_reference(b0, [-g for g in grads], *settings))


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


def test_clipping_applies_in_step_over_all_parameters_together(xp):
    net = _net()
    opt = SGD(net, lr=1.0, clip_norm=1.0)
    before = {name: p.copy() for name, p in net.named_parameters().items()}
    _fill_grads(net, 10.0)
    opt.step()
    moved = [(before[name] - p).reshape(-1) for name, p in net.named_parameters().items()]
    assert np.isclose(float(xp.linalg.norm(xp.concatenate(moved))), 1.0)
    assert opt.last_grad_norm == pytest.approx(10.0 * np.sqrt(net.num_parameters()))


def test_non_finite_gradient_names_parameter(xp):
    net = _net()
    opt = Adam(net)
    net[1].grads["W"][0, 0] = np.nan
    with pytest.raises(NonFiniteError, match=r"1\.W"):
        opt.step()


def test_gathered_gradients_and_the_reduction_hook(xp):
    """step() hands the flat gradient to reduce_gradients before clipping and the update, which
    averages it over the processes: with a second process whose gradient is 3 times this one's,
    the mean, and so the step, is twice this process's."""

    class TwoProcesses:
        size = 2

        def allreduce_sum(self, buffer):
            self.seen = buffer.copy()
            buffer *= 4  # this process's gradient + the other's, 3 times it

    net = _net()
    opt = SGD(net, lr=0.1)
    opt.communicator = TwoProcesses()
    start = net[1].params["b"].copy()
    _fill_grads(net, 0.0)
    net[1].grads["b"][...] = 1.0
    opt.step()
    np.testing.assert_allclose(net[1].params["b"], start - 0.1 * 2)
    flat = opt.communicator.seen
    assert flat.shape == (net.num_parameters(),)
    assert float(flat[opt.slices["1.b"]].sum()) == 2 and float(abs(flat).sum()) == 2


def test_state_round_trip(xp):
    net = _net()
    opt = Adam(net, lr=0.1)
    net[0].grads["b"][...] = 1.0
    opt.step()
    state = opt.state_dict()
    assert state["m"].shape == state["v"].shape == (net.num_parameters(),)
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


def test_help_shows_every_argument_and_that_step_zeroes():
    for cls in (SGD, Adam):
        assert "clip_norm" in cls.__doc__ and "lr" in cls.__doc__
    assert "zeroes" in SGD.step.__doc__
