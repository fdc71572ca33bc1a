"""Losses. Each returns ``(value, gradient)``: the scalar as a 0-d array on the input's
device (call ``float()`` to read it) and its gradient with respect to the first argument.

Reductions, written out so the gradients can be read off:

* ``"mean"``: average over every element; ``"sum"``: the plain sum;
* the variational terms (``gaussian_kl``, ``bernoulli_log_likelihood``) sum over the features
  of each example and average over the batch, the usual convention for bounds on
  log-likelihood in nats per example.

Everything that involves ``log`` or ``exp`` of logits uses the stable forms
``softplus(z) = log(1 + e^z) = logaddexp(0, z)`` and log-sum-exp with the max subtracted.
"""

from minnet.backend import xp_of
from minnet.layers.activations import sigmoid

REDUCTIONS = ("mean", "sum")


def _scale(x, reduction):
    """1/N for "mean" over all N elements, 1 for "sum"."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return 1.0 / x.size if reduction == "mean" else 1.0


def squared_error(prediction, target, reduction="mean"):
    """``L = s * sum (p - t)^2`` with ``s = 1/N`` (mean) or 1 (sum).

    ``dL/dp = 2 s (p - t)``.
    """
    s = _scale(prediction, reduction)
    diff = prediction - target
    return (diff * diff).sum() * s, diff * (2 * s)


def bce_with_logits(logits, targets, reduction="mean"):
    """Binary cross-entropy of targets ``t`` in [0, 1] under probabilities ``sigmoid(z)``.

    ``L = s * sum [softplus(z) - t z]`` (equal to ``-t log sigmoid(z) - (1-t) log(1 - sigmoid(z))``
    but finite for any z); ``dL/dz = s (sigmoid(z) - t)``.
    """
    xp = xp_of(logits)
    s = _scale(logits, reduction)
    value = (xp.logaddexp(0, logits) - targets * logits).sum() * s
    return value, (sigmoid(logits) - targets) * s


def log_softmax(logits):
    """``z_k - log sum_j exp(z_j)`` over the last axis, with the max subtracted first."""
    xp = xp_of(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits, targets):
    """Cross-entropy of ``softmax(z)`` against class labels, averaged over the batch.

    ``logits`` (B, K); ``targets`` either integer labels (B,) or probabilities (B, K) (for
    label smoothing). With ``q`` the target distribution,
    ``L = -(1/B) sum_b sum_k q_bk log softmax(z_b)_k`` and ``dL/dz = (softmax(z) - q) / B``.
    """
    batch = logits.shape[0]
    if targets.ndim == 1:
        targets = one_hot(targets, logits.shape[1], dtype=logits.dtype)
    log_p = log_softmax(logits)
    value = -(targets * log_p).sum() / batch
    return value, (xp_of(logits).exp(log_p) - targets) / batch  # softmax = exp(log_softmax)


def one_hot(labels, num_classes, dtype="float32"):
    """(B,) integer labels -> (B, num_classes) rows of zeros with a one at each label."""
    xp = xp_of(labels)
    out = xp.zeros((labels.shape[0], num_classes), dtype=dtype)
    out[xp.arange(labels.shape[0]), labels] = 1
    return out


def gaussian_kl(mu, logvar):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), summed over features, averaged over batch.

    ``KL = (1/B) sum 1/2 (mu^2 + exp(logvar) - 1 - logvar)``, so
    ``dKL/dmu = mu / B`` and ``dKL/dlogvar = (exp(logvar) - 1) / (2B)``.

    Returns ``(value, (d_mu, d_logvar))``.
    """
    xp = xp_of(mu)
    batch = mu.shape[0]
    var = xp.exp(logvar)
    value = 0.5 * (mu * mu + var - 1 - logvar).sum() / batch
    return value, (mu / batch, (var - 1) / (2 * batch))


def bernoulli_log_likelihood(logits, x):
    """``log p(x | z)`` for pixels ``x`` in [0, 1] under Bernoulli(sigmoid(z)), per example.

    ``log p = (1/B) sum [x z - softplus(z)]`` (the negative of the summed BCE), and
    ``d log p / dz = (x - sigmoid(z)) / B``. This is a quantity to *maximise*; minimise its
    negative.
    """
    xp = xp_of(logits)
    batch = logits.shape[0]
    value = (x * logits - xp.logaddexp(0, logits)).sum() / batch
    return value, (x - sigmoid(logits)) / batch


def bernoulli_cross_entropy(logits, x):
    """``-log p(x | z)`` of each example under Bernoulli(sigmoid(z)), summed over its pixels.

    ``logits`` and ``x`` are (N, ...) with ``x`` in [0, 1]. Returns ``(values, gradient)``:
    ``values`` (N,) with ``values_n = sum_i softplus(z_ni) - x_ni z_ni`` in nats (the
    cross-entropy of binarized pixels, a reconstruction term of a variational bound), and
    ``gradient = sigmoid(z) - x``, the gradient of ``sum_n values_n`` with respect to ``z``
    (scale it by each example's weight, e.g. ``1/N`` for the batch mean).
    """
    xp = xp_of(logits)
    per_pixel = xp.logaddexp(0, logits) - x * logits
    return per_pixel.reshape(len(logits), -1).sum(axis=1), sigmoid(logits) - x
