import numpy as np
import pytest

from minnet import losses
from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.gradcheck import check


def _check_loss(fn, x, *args):
    def forward():
        return fn(x, *args)[0]

    def backward(gys):
        return {"x": fn(x, *args)[1] * gys[0]}

    check(forward, backward, {"x": x})


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 1, 5, 5)])
def test_squared_error(xp, rng, reduction, shape):
    p, t = (xp.asarray(rng.standard_normal(shape)) for _ in range(2))
    _check_loss(lambda a, b: losses.squared_error(a, b, reduction), p, t)
    value, _ = losses.squared_error(p, t, reduction)
    expected = ((p - t) ** 2).sum() / (p.size if reduction == "mean" else 1)
    assert np.isclose(float(value), float(expected))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_with_logits(xp, rng, reduction):
    z = xp.asarray(rng.standard_normal((4, 3)) * 3)
    t = xp.asarray(rng.uniform(size=(4, 3)))
    _check_loss(lambda a, b: losses.bce_with_logits(a, b, reduction), z, t)


def test_bce_with_logits_matches_definition_and_is_finite(xp):
    z = xp.asarray([-2.0, 0.5, 3.0])
    t = xp.asarray([0.0, 1.0, 1.0])
    p = 1 / (1 + xp.exp(-z))
    expected = -(t * xp.log(p) + (1 - t) * xp.log(1 - p)).mean()
    assert np.isclose(float(losses.bce_with_logits(z, t)[0]), float(expected))
    extreme = losses.bce_with_logits(xp.asarray([-1000.0, 1000.0]), xp.asarray([1.0, 0.0]))
    assert np.isclose(float(extreme[0]), 1000.0)


def test_softmax_cross_entropy(xp, rng):
    z = xp.asarray(rng.standard_normal((5, 4)))
    labels = xp.asarray([0, 3, 1, 1, 2])
    _check_loss(losses.softmax_cross_entropy, z, labels)
    soft = xp.asarray(rng.dirichlet(np.ones(4), size=5))
    _check_loss(losses.softmax_cross_entropy, z, soft)
    hard = losses.softmax_cross_entropy(z, labels)[0]
    onehot = losses.softmax_cross_entropy(z, losses.one_hot(labels, 4, dtype=np.float64))[0]
    assert np.isclose(float(hard), float(onehot))


def test_gaussian_kl(xp, rng):
    mu = xp.asarray(rng.standard_normal((3, 4)))
    logvar = xp.asarray(rng.standard_normal((3, 4)) * 0.5)

    def forward():
        return losses.gaussian_kl(mu, logvar)[0]

    def backward(gys):
        _, (g_mu, g_logvar) = losses.gaussian_kl(mu, logvar)
        return {"mu": g_mu * gys[0], "logvar": g_logvar * gys[0]}

    check(forward, backward, {"mu": mu, "logvar": logvar})
    zero = losses.gaussian_kl(xp.zeros((2, 3)), xp.zeros((2, 3)))[0]
    assert float(zero) == 0.0


def test_bernoulli_log_likelihood(xp, rng):
    z = xp.asarray(rng.standard_normal((3, 6)))
    x = xp.asarray((rng.uniform(size=(3, 6)) > 0.5).astype(np.float64))
    _check_loss(losses.bernoulli_log_likelihood, z, x)
    value = losses.bernoulli_log_likelihood(z, x)[0]
    assert np.isclose(float(value), -float(losses.bce_with_logits(z, x, "sum")[0]) / 3)


@pytest.mark.parametrize("loss", [losses.squared_error, losses.bce_with_logits, losses.softmax_cross_entropy])
def test_bad_reduction(xp, loss):
    with pytest.raises(MinnetError, match=f"{loss.__name__}: reduction must be one of mean, sum, got 'median'"):
        targets = xp.zeros(2, dtype=np.int64) if loss is losses.softmax_cross_entropy else xp.zeros((2, 3))
        loss(xp.zeros((2, 3)), targets, "median")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_cross_entropy_reductions(xp, rng, reduction):
    z = xp.asarray(rng.standard_normal((5, 4)))
    labels = xp.asarray([0, 3, 1, 1, 2])
    _check_loss(lambda a, b: losses.softmax_cross_entropy(a, b, reduction), z, labels)
    total, g_total = losses.softmax_cross_entropy(z, labels, "sum")
    mean, g_mean = losses.softmax_cross_entropy(z, labels)
    assert float(total) == pytest.approx(5 * float(mean))
    np.testing.assert_allclose(to_numpy(g_total), 5 * to_numpy(g_mean), rtol=1e-12)


@pytest.mark.parametrize(
    "targets,message",
    [
        (np.array([0.0, 2.0, 1.0]), "expects integer labels, got float64"),
        (np.array([0, 4, 1]), r"expects labels in 0\.\.3 for 4 logits, got 4"),
        (np.array([0, -1, 1]), r"expects labels in 0\.\.3 for 4 logits, got -1"),
        (np.zeros((3, 5)), r"expects integer labels \(3,\) or probabilities \(3, 4\), got targets of shape \(3, 5\)"),
        ([0, 1, 2], "expects targets as an array, got list"),
    ],
)
def test_softmax_cross_entropy_refuses_bad_labels_in_one_line(xp, targets, message):
    targets = xp.asarray(targets) if isinstance(targets, np.ndarray) else targets
    with pytest.raises(MinnetError, match=f"softmax_cross_entropy {message}"):
        losses.softmax_cross_entropy(xp.zeros((3, 4)), targets)


@pytest.mark.parametrize(
    "loss,names",
    [
        (losses.squared_error, "target shaped like prediction"),
        (losses.bce_with_logits, "targets shaped like logits"),
        (losses.bernoulli_log_likelihood, "x shaped like logits"),
        (losses.bernoulli_cross_entropy, "x shaped like logits"),
        (losses.gaussian_kl, "logvar shaped like mu"),
    ],
)
def test_targets_that_would_broadcast_are_refused(xp, loss, names):
    with pytest.raises(MinnetError, match=rf"{loss.__name__} expects {names} \(4, 1\), got \(4,\)"):
        loss(xp.zeros((4, 1)), xp.zeros(4))
    loss(xp.zeros((4, 1)), xp.zeros((4, 1)))  # the same shape is fine


def test_bernoulli_cross_entropy_per_example(xp, rng):
    z = xp.asarray(rng.standard_normal((3, 2, 4)) * 3)
    x = xp.asarray((rng.uniform(size=(3, 2, 4)) < 0.5).astype(np.float64))
    values, grad = losses.bernoulli_cross_entropy(z, x)
    p = 1 / (1 + np.exp(-to_numpy(z)))
    expected = -(to_numpy(x) * np.log(p) + (1 - to_numpy(x)) * np.log(1 - p)).sum(axis=(1, 2))
    np.testing.assert_allclose(to_numpy(values), expected)
    check(lambda: losses.bernoulli_cross_entropy(z, x)[0], lambda gys: {"z": grad * gys[0][:, None, None]}, {"z": z})
    extreme, _ = losses.bernoulli_cross_entropy(xp.asarray([[-1000.0, 1000.0]]), xp.asarray([[1.0, 0.0]]))
    assert np.isclose(float(extreme[0]), 2000.0)
