import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.gradcheck import check_layer
from minnet.layers.norm import BatchNorm


def make_layer(xp, rng, n):
    """A float64 BatchNorm with random gamma and beta, so both enter the gradients."""
    layer = BatchNorm(n).astype(np.float64)
    layer.params["gamma"][...] = xp.asarray(rng.uniform(0.5, 2.0, n))
    layer.params["beta"][...] = xp.asarray(rng.standard_normal(n))
    return layer


@pytest.mark.parametrize(
    "shape", [(2, 1), (5, 3), (8, 6), (2, 3, 4, 4), (3, 2, 1, 5), (1, 4, 3, 2)]
)
def test_train_mode_gradients(xp, rng, shape):
    layer = make_layer(xp, rng, shape[1])
    check_layer(layer, xp.asarray(rng.standard_normal(shape) * 3 + 1))


@pytest.mark.parametrize("shape", [(64, 3), (16, 2, 5, 5)])
def test_train_mode_normalises_each_channel(xp, rng, shape):
    layer = BatchNorm(shape[1])
    x = xp.asarray(rng.standard_normal(shape) * 5 + 3, dtype=np.float32)
    y = to_numpy(layer.forward(x))
    axes = (0, *range(2, len(shape)))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=axes), 1, rtol=1e-3)


def test_running_statistics_follow_torch_rule(xp, rng):
    momentum, n = 0.3, 4
    layer = BatchNorm(n, momentum=momentum).astype(np.float64)
    expected_mean, expected_var = np.zeros(n), np.ones(n)
    for batch in (rng.standard_normal((6, n, 2, 2)) + 2, rng.standard_normal((3, n, 2, 2)) * 4):
        layer.forward(xp.asarray(batch))
        values = batch.transpose(1, 0, 2, 3).reshape(n, -1)  # every value of each channel
        count = values.shape[1]
        batch_mean = values.sum(axis=1) / count
        unbiased_var = ((values - batch_mean[:, None]) ** 2).sum(axis=1) / (count - 1)
        expected_mean = (1 - momentum) * expected_mean + momentum * batch_mean
        expected_var = (1 - momentum) * expected_var + momentum * unbiased_var
    np.testing.assert_allclose(to_numpy(layer.buffers["running_mean"]), expected_mean, rtol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.buffers["running_var"]), expected_var, rtol=1e-12)


def test_eval_mode_uses_running_statistics(xp, rng):
    layer = make_layer(xp, rng, 3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    layer.buffers["running_mean"][...] = xp.asarray(mean)
    layer.buffers["running_var"][...] = xp.asarray(var)
    x = rng.standard_normal((5, 3))
    gamma, beta = (to_numpy(layer.params[k]) for k in ("gamma", "beta"))
    expected = gamma * (x - mean) / np.sqrt(var + layer.eps) + beta
    y = layer.eval().forward(xp.asarray(x))
    np.testing.assert_allclose(to_numpy(y), expected, rtol=1e-12)
    np.testing.assert_array_equal(to_numpy(layer.buffers["running_mean"]), mean)  # untouched
    with pytest.raises(MinnetError, match="eval mode"):
        layer.backward(y)


def test_parameters_buffers_and_errors():
    layer = BatchNorm(3)
    assert set(layer.named_parameters()) == {"gamma", "beta"}
    assert set(layer.state_dict()) == {"gamma", "beta", "running_mean", "running_var"}
    with pytest.raises(MinnetError, match="more than one value"):
        layer.forward(np.ones((1, 3), dtype=np.float32))
    with pytest.raises(MinnetError, match="shape"):
        layer.forward(np.ones((4, 2), dtype=np.float32))


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2, 5)])
def test_matches_torch(xp, rng, shape):
    torch = pytest.importorskip("torch")
    layer = make_layer(xp, rng, shape[1])
    reference = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(shape[1])
    reference = reference.double()
    with torch.no_grad():
        reference.weight.copy_(torch.from_numpy(to_numpy(layer.params["gamma"])))
        reference.bias.copy_(torch.from_numpy(to_numpy(layer.params["beta"])))
    x, gy = rng.standard_normal(shape), rng.standard_normal(shape)
    tx = torch.tensor(x, requires_grad=True)
    t_y = reference(tx)
    t_y.backward(torch.from_numpy(gy))
    y = layer.forward(xp.asarray(x))
    gx = layer.backward(xp.asarray(gy))
    pairs = [
        (y, t_y),
        (layer.buffers["running_var"], reference.running_var),
        (gx, tx.grad),
        (layer.grads["gamma"], reference.weight.grad),
        (layer.grads["beta"], reference.bias.grad),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(to_numpy(ours), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)
