"""The shared pieces of the variational models: the Gaussian latent step and the likelihoods."""

import math

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.evaluation import metrics
from minnet.gradcheck import check
from minnet.layers.base import evaluating
from minnet.models.variational import GaussianLatent, importance_nll, log_mean_exp


def test_latent_step_gradient_with_the_noise_held_fixed(xp, rng):
    layer = GaussianLatent(5, 3, init="glorot", rng=0).astype(np.float64)
    h = xp.asarray(rng.standard_normal((4, 5)))
    eps = xp.asarray(rng.standard_normal((4, 3)))

    def forward():
        with evaluating(layer):
            sample = layer.forward(h, eps)
        return sample.z, sample.kl

    def backward(gys):
        layer.zero_grad()
        layer.forward(h, eps)
        gh = layer.backward(gys[0], gys[1])
        return {"h": gh, **layer.named_grads()}

    check(forward, backward, {"h": h, **layer.named_parameters()})


def test_kl_and_log_ratio_match_closed_forms(xp, rng):
    layer = GaussianLatent(5, 3, init="glorot", rng=0).astype(np.float64)
    h = xp.asarray(rng.standard_normal((4, 5)))
    eps = xp.asarray(rng.standard_normal((4, 3)))
    sample = layer.eval().forward(h, eps)
    params = to_numpy(h @ layer.dense.params["W"] + layer.dense.params["b"])
    mu, log_sigma = params[:, :3], params[:, 3:]
    sigma = np.exp(log_sigma)
    np.testing.assert_allclose(to_numpy(sample.z), mu + sigma * to_numpy(eps))
    # KL(N(mu, sigma^2) || N(0, 1)) = log(1/sigma) + (sigma^2 + mu^2)/2 - 1/2 per dimension
    expected_kl = (-log_sigma + (sigma**2 + mu**2) / 2 - 0.5).sum(axis=1)
    np.testing.assert_allclose(to_numpy(sample.kl), expected_kl)
    z = to_numpy(sample.z)
    log_prior = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(axis=1)
    log_q = (-0.5 * ((z - mu) / sigma) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)).sum(axis=1)
    np.testing.assert_allclose(to_numpy(sample.log_ratio), log_prior - log_q)


def test_kl_is_the_expected_log_ratio_monte_carlo(rng):
    layer = GaussianLatent(2, 2, init="glorot", rng=0).astype(np.float64)
    h = np.repeat(rng.standard_normal((1, 2)), 200_000, axis=0)
    sample = layer.eval().forward(h, rng.standard_normal((200_000, 2)))
    assert np.isclose(-sample.log_ratio.mean(), sample.kl[0], rtol=0.01)  # KL = E_q[log q - log p]


def test_the_posterior_starts_as_the_prior(rng):
    layer = GaussianLatent(5, 3, rng=0)
    eps = rng.standard_normal((4, 3)).astype(np.float32)
    sample = layer.eval().forward(rng.standard_normal((4, 5)).astype(np.float32), eps)
    np.testing.assert_array_equal(sample.z, eps)
    np.testing.assert_array_equal(sample.kl, np.zeros(4))


def test_log_mean_exp_is_stable():
    values = np.array([[1000.0, 1000.0], [-1000.0, -1000.0 + math.log(3)]])
    np.testing.assert_allclose(log_mean_exp(values, axis=1), [1000.0, -1000.0 + math.log(2)])


class _Exact:
    """A stand-in with known weights: log w = log p(x) + noise whose exp has mean 1."""

    def log_importance_weights(self, images, k, rng):
        sigma = 1.0
        noise = rng.standard_normal((len(images), k)) * sigma - sigma**2 / 2  # E[exp] = 1
        return -80.0 + noise


@pytest.mark.parametrize("k", [1, 50])
def test_importance_estimate_is_at_least_the_true_nll_and_tightens_with_k(k):
    estimate = importance_nll(_Exact(), np.zeros((400, 2)), k, np.random.default_rng(0))
    assert estimate >= 80.0 - 0.05
    if k == 50:
        assert estimate < importance_nll(_Exact(), np.zeros((400, 2)), 1, np.random.default_rng(0))


class _StandIn(_Exact):
    """A trainer with the likelihood contract and nothing else."""

    def bound_terms(self, images, rng):
        return {"reconstruction": np.full(len(images), 70.0), "kl": np.full(len(images), 15.0)}


def test_the_likelihood_metrics_apply_to_the_contract_and_read_the_context():
    context = metrics.EvaluationContext(
        None, None, binary_test_images=np.zeros((30, 28, 28)), importance_samples=7, importance_images=12
    )
    trainer = _StandIn()
    found = {metric.name: metric for metric in metrics.metrics_for(trainer)}
    assert found["nll_bound"].compute(trainer, context) == 85.0
    assert found["reconstruction_nll"].compute(trainer, context) == 70.0
    importance = found["nll_importance"]
    assert "k = 7" in importance.describe(context) and "first 12" in importance.describe(context)
    assert 79 < importance.compute(trainer, context) < 81
    assert "nll_bound" not in [metric.name for metric in metrics.metrics_for(object())]
