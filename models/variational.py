"""What recurrent variational models of binary MNIST share (AVME, paper 001, and its baseline
DRAW) besides their unrolled core (:mod:`minnet.models.recurrent_vae`): the Gaussian latent
step, the canvas' starting bias, and the honest evaluation of their likelihoods.

The latent step
---------------
:class:`GaussianLatent` maps an encoder state ``h`` (B, n_in) to a diagonal Gaussian
``q(z | h) = N(mu, diag(sigma^2))`` and draws from it with the noise given, so a gradient check
can hold the noise fixed (Kingma & Welling 2014, the reparametrisation)::

    [mu, log sigma] = h W + b               (B, 2L), one Dense layer
    z  = mu + sigma * eps                   eps ~ N(0, I) (B, L), passed in
    KL = 1/2 sum_l (mu^2 + sigma^2 - 1 - 2 log sigma)           (B,) = KL(q(z|h) || N(0, I))
    log_ratio = log N(z; 0, I) - log q(z | h)
              = sum_l (eps^2 - z^2) / 2 + log sigma             (B,), for importance weights

    sample = latent.forward(h, eps)           # LatentSample(z, kl, log_ratio)
    gh = latent.backward(gz, gkl)             # gz = dL/dz (B, L); gkl = dL/dKL, (B,) or a number

The reconstruction term is :func:`minnet.losses.bernoulli_cross_entropy` of the final canvas'
logits: per image ``sum_i softplus(s_i) - x_i s_i`` nats.

Both models add T writes to a canvas that starts at zero. :func:`canvas_bias` starts a write
layer's bias at ``logit(mean image) / T``, so that before training the canvas already gives
every pixel its mean intensity (a data-dependent initialisation neither paper mentions; it
saves the first steps of learning it).

The likelihood contract
-----------------------
A trainer whose model is a sequence of T latent draws ``z = z_1..T`` and a Bernoulli decoder
gets the metrics below, and the per-epoch validation bound, by defining two methods (images are
NumPy (N, 28, 28) arrays of 0s and 1s; ``rng`` a ``numpy.random.Generator`` that draws all the
noise, so the trainer's own generator is left alone; no parameter is changed)::

    bound_terms(images, rng) -> {"reconstruction": (N,), "kl": (N,)}
        one draw of z ~ q(z | x) per image: reconstruction = -log p(x | z) and
        kl = sum_t KL(q(z_t | x, z_<t) || p(z_t)), both NumPy float64 in nats; their sum is
        the negative evidence lower bound, -log p(x) <= E_q[reconstruction + kl].
    log_importance_weights(images, k, rng) -> (N, k)
        for k independent draws of the whole sequence z ~ q(z | x):
        log w = log p(x | z) + sum_t log p(z_t) - log q(z_t | x, z_<t), NumPy float64.

A conditional trainer (``conditional = True``) takes ``labels=`` (N,) in both and bounds
-log p(x | y); the test metrics below skip it, the validation bound is logged for it too.

Metrics (registered with :func:`minnet.evaluation.metrics.register_metric` for every trainer with
``bound_terms``; computed on ``context.binary_test_images``, the statically binarized test
set, in nats per image, lower is better):

* ``nll_bound``: mean of reconstruction + kl over the whole test set (one draw of z per image);
* ``nll_importance``: ``-log (1/k) sum_j w_j`` averaged over the first
  ``context.importance_images`` test images with ``k = context.importance_samples`` (100 and
  1,000 by default): an estimate of -log p(x) that is at most the bound in expectation and
  approaches -log p(x) as k grows (Burda et al. 2016);
* ``reconstruction_nll``: the reconstruction term alone, which is what the AVME paper's
  Table 1 appears to report; not a likelihood.

:func:`validation_bound` gives the mean terms on the validation split, for a trainer's
``end_of_epoch``.
"""

from typing import NamedTuple

import numpy as np

from minnet.backend import to_numpy, xp_of
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.evaluation.metrics import register_metric
from minnet.layers.base import Layer
from minnet.layers.dense import Dense

EVAL_BATCH = 500  # images per call to bound_terms
IMPORTANCE_ROWS = 2_000  # images x samples per call to log_importance_weights
EVAL_SEED = 0  # seeds the latent draws of evaluations, independent of training


class LatentSample(NamedTuple):
    """What :meth:`GaussianLatent.forward` returns."""

    z: object
    """The draw ``mu + sigma * eps``, (B, L)."""
    kl: object
    """``KL(q(z|h) || N(0, I))`` of each example, (B,), nats."""
    log_ratio: object
    """``log N(z; 0, I) - log q(z | h)`` of each example, (B,), nats."""


class GaussianLatent(Layer):
    """The diagonal-Gaussian latent step: ``h -> (mu, log sigma) -> z = mu + sigma * eps``.

    See the module docstring for the equations. Backward, with ``gz = dL/dz`` and
    ``gkl = dL/dKL`` (one weight per example, or one for all)::

        dL/dmu        = gz + gkl * mu
        dL/dlog sigma = gz * sigma * eps + gkl * (sigma^2 - 1)
        dL/dh         = [dL/dmu, dL/dlog sigma] W^T      (and dW, db, by the Dense layer)

    The Dense layer's weights and bias start at zero, so q(z | h) starts as the prior N(0, I)
    whatever h is: KL 0, and z pure noise until the weights learn to say something (neither
    paper gives an initialisation; measured against Glorot weights in "Starting the posterior
    at the prior", docs/models/draw-lab-notes.md).

    Parameters
    ----------
    n_in : int
        Size of the encoder state h.
    n_latent : int
        Dimensions L of z.
    init : the Dense layer's initializer (see :mod:`minnet.init`); zeros by default.
    rng : seed or numpy.random.Generator, for the Dense layer's initial weights.
    """

    def __init__(self, n_in, n_latent, *, init="zeros", rng=None):
        super().__init__()
        self.n_latent = n_latent
        self.dense = Dense(n_in, 2 * n_latent, init=init, rng=rng)

    def sublayers(self):
        return {"dense": self.dense}

    def forward(self, h, eps):
        """``(h (B, n_in), eps (B, L)) -> LatentSample(z, kl, log_ratio)``."""
        xp = xp_of(h)
        parameters = self.dense.forward(h)
        mu, log_sigma = parameters[:, : self.n_latent], parameters[:, self.n_latent :]
        sigma = xp.exp(log_sigma)
        z = mu + sigma * eps
        kl = 0.5 * (mu * mu + sigma * sigma - 1 - 2 * log_sigma).sum(axis=1)
        log_ratio = (0.5 * (eps * eps - z * z) + log_sigma).sum(axis=1)
        if self.training:
            self.push(mu, sigma, eps)
        return LatentSample(z, kl, log_ratio)

    def backward(self, gz, gkl):
        """``(dL/dz (B, L), dL/dKL) -> dL/dh (B, n_in)``; adds into the Dense layer's grads."""
        mu, sigma, eps = self.pop()
        xp = xp_of(gz)
        gkl = xp.asarray(gkl, dtype=gz.dtype).reshape(-1, 1)
        g_mu = gz + gkl * mu
        g_log_sigma = gz * sigma * eps + gkl * (sigma * sigma - 1)
        return self.dense.backward(xp.concatenate((g_mu, g_log_sigma), axis=1))

    def __repr__(self):
        return f"GaussianLatent({self.dense.n_in}, {self.n_latent})"


# -- evaluation ---------------------------------------------------------------------------------


def canvas_bias(dataset, steps):
    """``logit(mean image) / steps`` (784,) float32: a write bias whose ``steps`` writes sum to
    the logits of the data's mean image (means clipped to [1e-3, 1 - 1e-3])."""
    mean = np.clip(dataset.images.reshape(len(dataset), -1).mean(axis=0), 1e-3, 1 - 1e-3)
    return (np.log(mean / (1 - mean)) / steps).astype(np.float32)


def log_mean_exp(values, axis=-1):
    """``log (1/k) sum_j exp(v_j)`` over ``axis`` (k entries), with the max subtracted first."""
    values = np.asarray(values, dtype=np.float64)
    top = values.max(axis=axis, keepdims=True)
    return np.squeeze(top, axis) + np.log(np.mean(np.exp(values - top), axis=axis))


def bound_means(trainer, images, rng, labels=None, batch_size=EVAL_BATCH):
    """Means over ``images`` of the bound and its terms, nats per image.

    Returns ``{"nll_bound", "reconstruction_nll", "kl"}`` as floats, from
    ``trainer.bound_terms`` on batches of ``batch_size`` (given their ``labels`` too, when
    those are given: the bound of a conditional model on -log p(x | y)).
    """
    reconstruction, kl = [], []
    for start in range(0, len(images), batch_size):
        batch = slice(start, start + batch_size)
        given = {} if labels is None else {"labels": labels[batch]}
        terms = trainer.bound_terms(images[batch], rng, **given)
        reconstruction.append(np.asarray(terms["reconstruction"], np.float64))
        kl.append(np.asarray(terms["kl"], np.float64))
    reconstruction, kl = np.concatenate(reconstruction), np.concatenate(kl)
    return {
        "nll_bound": float(np.mean(reconstruction + kl)),
        "reconstruction_nll": float(np.mean(reconstruction)),
        "kl": float(np.mean(kl)),
    }


def importance_nll(trainer, images, k, rng, rows=IMPORTANCE_ROWS):
    """Mean over ``images`` of ``-log (1/k) sum_j w_j``, from ``trainer.log_importance_weights``.

    Images go ``max(1, rows // k)`` at a time, so each call handles about ``rows`` sequences.
    """
    per_call = max(1, rows // k)
    estimates = []
    for start in range(0, len(images), per_call):
        log_w = np.asarray(trainer.log_importance_weights(images[start : start + per_call], k, rng))
        estimates.append(-log_mean_exp(log_w, axis=1))
    return float(np.mean(np.concatenate(estimates)))


def validation_bound(trainer, data_dir=None, limit=None):
    """Mean bound terms on the statically binarized validation split (the last 10,000 training
    images, or its first ``limit``), with latent draws seeded by :data:`EVAL_SEED`:
    ``{"val_nll_bound", "val_reconstruction_nll", "val_kl"}``. A conditional trainer is given
    the labels (its bound is on -log p(x | y))."""
    validation = load_mnist("validation", data_dir=data_dir, binarize="static", limit=limit)
    labels = validation.labels if getattr(trainer, "conditional", False) else None
    means = bound_means(trainer, validation.images, np.random.default_rng(EVAL_SEED), labels)
    return {f"val_{name}": value for name, value in means.items()}


def _binary_test_images(context):
    if context.binary_test_images is None:
        raise MinnetError("likelihoods need the statically binarized test set, and none was loaded")
    return context.binary_test_images


def _has_bound(trainer):
    """Unconditional trainers with the contract: a conditional one's bound is on -log p(x | y),
    which does not compare with the likelihoods of Table 1."""
    return hasattr(trainer, "bound_terms") and not getattr(trainer, "conditional", False)


def _bound_means_of(trainer, context):
    """:func:`bound_means` on the binary test set, computed once per trainer and context."""
    images = _binary_test_images(context)
    return context.shared("bound_means", trainer, lambda t: bound_means(t, images, np.random.default_rng(context.seed)))


@register_metric(
    "nll_bound",
    "variational bound on -log p(x): reconstruction + KL, nats per statically binarized test image",
    applies_to=_has_bound,
)
def _nll_bound(trainer, context):
    return _bound_means_of(trainer, context)["nll_bound"]


@register_metric(
    "nll_importance",
    "importance-sampled estimate of -log p(x), k = {importance_samples} latent sequences per image,"
    " first {importance_images} binarized test images, nats",
    applies_to=_has_bound,
)
def _nll_importance(trainer, context):
    images = _binary_test_images(context)[: context.importance_images]
    return importance_nll(trainer, images, context.importance_samples, np.random.default_rng(context.seed))


@register_metric(
    "reconstruction_nll",
    "reconstruction cross-entropy alone (what the AVME paper reports), nats per binarized test image; not a likelihood",
    applies_to=_has_bound,
)
def _reconstruction_nll(trainer, context):
    return _bound_means_of(trainer, context)["reconstruction_nll"]


def to_numpy64(array):
    """A device array as NumPy float64, for the contract's per-image values."""
    return to_numpy(array).astype(np.float64)
