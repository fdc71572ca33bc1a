"""Losses. Each returns ``(value, gradient)``: the scalar as a 0-d array on the input's
device (call ``float()`` to read it) and its gradient with respect to the first argument.

Reductions, written out so the gradients can be read off:

* ``"mean"``: average over every element (``softmax_cross_entropy``: over the examples, each
  row being one distribution); ``"sum"``: the plain sum;
* the variational terms (``gaussian_kl``, ``bernoulli_log_likelihood``) sum over the features
  of each example and average over the batch, the usual convention for bounds on
  log-likelihood in nats per example.

Everything that involves ``log`` or ``exp`` of logits uses the stable forms
``softplus(z) = log(1 + e^z) = logaddexp(0, z)`` and log-sum-exp with the max subtracted.

Targets of the wrong shape (which NumPy would broadcast into a silently wrong loss), labels
that are not integers or lie outside the classes, and unknown reductions are a one-line
:class:`~minnet.errors.MinnetError` naming the loss.
"""

import numpy as np

from minnet.backend import to_numpy, xp_of
from minnet.errors import MinnetError
from minnet.layers.activations import sigmoid

__all__ = [
    "bce_with_logits",
    "bernoulli_cross_entropy",
    "bernoulli_log_likelihood",
    "gaussian_kl",
    "log_softmax",
    "one_hot",
    "softmax_cross_entropy",
    "squared_error",
]

REDUCTIONS = ("mean", "sum")


def _require_reduction(loss, reduction):
    if reduction not in REDUCTIONS:
        raise MinnetError(f"{loss}: reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


def _scale(loss, x, reduction):
    """1/N for "mean" over all N elements of ``x``, 1 for "sum"."""
    _require_reduction(loss, reduction)
    return 1.0 / x.size if reduction == "mean" else 1.0


def _require_same_shape(loss, x, target, names):
    """``target`` must be a number or shaped like ``x``; ``names`` = (x's name, target's name)."""
    given = tuple(np.shape(target))
    if given not in ((), tuple(x.shape)):
        raise MinnetError(f"{loss} expects {names[1]} shaped like {names[0]} {tuple(x.shape)}, got {given}")


def squared_error(prediction, target, reduction="mean"):
    """``L = s * sum (p - t)^2`` for ``prediction`` p and ``target`` t of one shape, with
    ``s = 1/N`` (``reduction="mean"``, over all N elements) or 1 (``"sum"``).

    Returns ``(L, dL/dp)``: ``dL/dp = 2 s (p - t)``, shaped like p.
    """
    _require_same_shape("squared_error", prediction, target, ("prediction", "target"))
    s = _scale("squared_error", prediction, reduction)
    diff = prediction - target
    return (diff * diff).sum() * s, diff * (2 * s)


def bce_with_logits(logits, targets, reduction="mean"):
    """Binary cross-entropy of ``targets`` t in [0, 1] under probabilities ``sigmoid(z)`` of
    ``logits`` z (same shape).

    ``L = s * sum [softplus(z) - t z]`` (equal to ``-t log sigmoid(z) - (1-t) log(1 - sigmoid(z))``
    but finite for any z), ``s`` from ``reduction`` as in :func:`squared_error`. Returns
    ``(L, dL/dz)`` with ``dL/dz = s (sigmoid(z) - t)``.
    """
    _require_same_shape("bce_with_logits", logits, targets, ("logits", "targets"))
    xp = xp_of(logits)
    s = _scale("bce_with_logits", logits, reduction)
    value = (xp.logaddexp(0, logits) - targets * logits).sum() * s
    return value, (sigmoid(logits) - targets) * s


def log_softmax(logits):
    """``z_k - log sum_j exp(z_j)`` of ``logits`` z over the last axis, with the max subtracted
    first; the same shape as z."""
    xp = xp_of(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_cross_entropy(logits, targets, reduction="mean"):
    """Cross-entropy of ``softmax(z)`` against class labels.

    ``logits`` (B, K); ``targets`` either integer labels (B,) in ``0..K-1`` or probabilities
    (B, K) (for label smoothing). With ``q`` the target distribution and ``s = 1/B`` for
    ``reduction="mean"`` (the average over the examples) or 1 for ``"sum"``::

        L = -s sum_b sum_k q_bk log softmax(z_b)_k,     dL/dz = s (softmax(z) - q)

    Returns ``(L, dL/dz)``. Float labels, labels out of range or targets of another shape are
    a MinnetError.
    """
    _require_reduction("softmax_cross_entropy", reduction)
    if logits.ndim != 2:
        raise MinnetError(f"softmax_cross_entropy expects logits of shape (B, K), got {tuple(logits.shape)}")
    batch, classes = logits.shape
    if not hasattr(targets, "dtype"):
        raise MinnetError(f"softmax_cross_entropy expects targets as an array, got {type(targets).__name__}")
    if targets.shape == (batch,):
        _require_labels(targets, classes)
        targets = one_hot(targets, classes, dtype=logits.dtype)
    elif targets.shape != logits.shape:
        raise MinnetError(
            f"softmax_cross_entropy expects integer labels ({batch},) or probabilities {tuple(logits.shape)}, "
            f"got targets of shape {tuple(targets.shape)}"
        )
    log_p = log_softmax(logits)
    divisor = batch if reduction == "mean" else 1
    value = -(targets * log_p).sum() / divisor
    return value, (xp_of(logits).exp(log_p) - targets) / divisor  # softmax = exp(log_softmax)


def _require_labels(labels, classes):
    """Integer class labels in ``0..classes-1``, else a MinnetError naming softmax_cross_entropy."""
    if labels.dtype.kind not in "iu":
        raise MinnetError(f"softmax_cross_entropy expects integer labels, got {labels.dtype} ones")
    low, high = (int(to_numpy(bound)) for bound in (labels.min(), labels.max())) if labels.size else (0, 0)
    if low < 0 or high >= classes:
        bad = low if low < 0 else high
        raise MinnetError(f"softmax_cross_entropy expects labels in 0..{classes - 1} for {classes} logits, got {bad}")


def one_hot(labels, num_classes, dtype="float32"):
    """(B,) integer ``labels`` -> (B, ``num_classes``) rows of zeros with a one at each label,
    of ``dtype``."""
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
    _require_same_shape("gaussian_kl", mu, logvar, ("mu", "logvar"))
    xp = xp_of(mu)
    batch = mu.shape[0]
    var = xp.exp(logvar)
    value = 0.5 * (mu * mu + var - 1 - logvar).sum() / batch
    return value, (mu / batch, (var - 1) / (2 * batch))


def bernoulli_log_likelihood(logits, x):
    """``log p(x | z)`` for pixels ``x`` in [0, 1] under Bernoulli(sigmoid(z)) of ``logits`` z,
    per example.

    ``log p = (1/B) sum [x z - softplus(z)]`` (the negative of the summed BCE), and
    ``d log p / dz = (x - sigmoid(z)) / B``. This is a quantity to *maximise*; minimise its
    negative.
    """
    _require_same_shape("bernoulli_log_likelihood", logits, x, ("logits", "x"))
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
    _require_same_shape("bernoulli_cross_entropy", logits, x, ("logits", "x"))
    xp = xp_of(logits)
    per_pixel = xp.logaddexp(0, logits) - x * logits
    return per_pixel.reshape(len(logits), -1).sum(axis=1), sigmoid(logits) - x
