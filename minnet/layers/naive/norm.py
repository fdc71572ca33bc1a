"""Batch normalisation in training mode as loops: the twin of :class:`minnet.layers.BatchNorm`.

The backward here does not use the compact formula of the fast layer: it sums ``gy`` times
the full derivative ``d x_hat_m / d x_j`` over every pair of values m, j of a channel, the
step that formula is derived from (O(N^2) per channel, fine for the tests' sizes).
"""

import numpy as np


def channel_values(x, c):
    """Every value of channel ``c`` in ``x (B, n)`` or ``x (B, n, H, W)``, as a flat array (N,)."""
    return x[:, c].reshape(-1)


def batch_norm(x, gamma, beta, eps):
    """``y = gamma x_hat + beta`` with ``x_hat = (x - mu) / sqrt(var + eps)`` per channel.

    ``mu`` and the biased ``var`` are over the N values of each channel (N = B, or B·H·W).
    ``x (B, n)`` or ``(B, n, H, W)``, ``gamma (n,)``, ``beta (n,)`` -> ``y`` like ``x``.
    """
    y = np.zeros_like(x)
    for c in range(x.shape[1]):
        values = channel_values(x, c)
        N = len(values)
        mu = sum(values) / N
        var = sum((value - mu) ** 2 for value in values) / N
        normalised = [(value - mu) / np.sqrt(var + eps) for value in values]
        y[:, c] = np.reshape([gamma[c] * v + beta[c] for v in normalised], y[:, c].shape)
    return y


def batch_norm_backward(x, gamma, gy, eps):
    """``(dL/dx, dL/dgamma, dL/dbeta)`` of :func:`batch_norm` for ``gy = dL/dy``.

    With ``s = 1 / sqrt(var + eps)``, every ``x_hat_m`` of a channel depends on every ``x_j``
    of it through mu and var: ``d x_hat_m / d x_j = s (delta_mj - 1/N - x_hat_m x_hat_j / N)``,
    and ``dL/dx_j = sum_m gamma gy_m d x_hat_m / d x_j``. ``x``, ``gamma`` and ``eps`` as given
    to the forward; the gradients have the shapes of ``x``, ``gamma`` and ``beta``.
    """
    gx = np.zeros_like(x)
    n = x.shape[1]
    g_gamma, g_beta = np.zeros(n, dtype=gy.dtype), np.zeros(n, dtype=gy.dtype)
    for c in range(n):
        values, g = channel_values(x, c), channel_values(gy, c)
        N = len(values)
        mu = sum(values) / N
        s = 1 / np.sqrt(sum((value - mu) ** 2 for value in values) / N + eps)
        x_hat = [(value - mu) * s for value in values]
        g_beta[c] = sum(g)
        g_gamma[c] = sum(g[m] * x_hat[m] for m in range(N))
        grads = np.zeros(N, dtype=x.dtype)
        for j in range(N):
            for m in range(N):
                delta = 1.0 if m == j else 0.0
                grads[j] += gamma[c] * g[m] * s * (delta - 1 / N - x_hat[m] * x_hat[j] / N)
        gx[:, c] = grads.reshape(gx[:, c].shape)
    return gx, g_gamma, g_beta
