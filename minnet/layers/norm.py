"""Batch normalisation."""

import numpy as np

from minnet.backend import xp_of
from minnet.errors import MinnetError
from minnet.layers.base import Layer


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015), per feature or per channel.

    Input ``x (B, n)`` (features) or ``x (B, n, H, W)`` (channels); output ``y`` of the same
    shape. Each feature/channel k is normalised with statistics over the N values it takes in
    the batch (N = B, or B·H·W), then scaled and shifted by learned ``gamma (n,)`` (ones) and
    ``beta (n,)`` (zeros)::

        mu     = mean(x)                          over the N values of channel k
        var    = mean((x - mu)^2)                 biased, as used for normalising
        x_hat  = (x - mu) / sqrt(var + eps)
        y      = gamma * x_hat + beta

    In training (``train=True``) mu and var are the batch's, and the buffers ``running_mean``
    (zeros) and ``running_var`` (ones) move towards them as in PyTorch::

        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var N / (N - 1)   (unbiased)

    In inference (``train=False``) the running statistics take the place of mu and var.

    Backward. Write ``s = 1 / sqrt(var + eps)`` and ``g = gamma * gy = dL/dx_hat``. Every
    ``x_hat_m`` depends on every ``x_j`` of its channel, through mu and var:
    ``d mu / d x_j = 1/N``, ``d var / d x_j = 2 (x_j - mu) / N``, ``d s / d var = -s^3 / 2``, so

        d x_hat_m / d x_j = s (delta_mj - 1/N) - (x_m - mu) s^3 (x_j - mu) / N
                          = s (delta_mj - 1/N - x_hat_m x_hat_j / N)

    and summing ``g_m`` times this over m gives the compact formula (means over the channel)::

        dL/dx     = gamma s (gy - mean(gy) - x_hat mean(gy * x_hat))
        dL/dgamma = sum(gy * x_hat),     dL/dbeta = sum(gy)

    Parameters
    ----------
    n : int
        Number of features (dense input) or channels (image input): ``x.shape[1]``.
    momentum : float
        Weight of the current batch in the running statistics.
    eps : float
        Added to the variance before the square root.
    """

    def __init__(self, n, *, momentum=0.1, eps=1e-5):
        super().__init__()
        self.n, self.momentum, self.eps = n, momentum, eps
        self.add_param("gamma", np.ones(n, dtype=np.float32))
        self.add_param("beta", np.zeros(n, dtype=np.float32))
        self.add_buffer("running_mean", np.zeros(n, dtype=np.float32))
        self.add_buffer("running_var", np.ones(n, dtype=np.float32))

    def forward(self, x, train=True):
        if x.ndim < 2 or x.shape[1] != self.n:
            raise MinnetError(f"BatchNorm({self.n}) got an input of shape {x.shape}")
        channel = _channel_shape(x)  # (1, n, 1, 1): a per-channel vector that broadcasts over x
        count = x.size // self.n
        if train:
            mean = channel_sums(x) / count
            x_hat = x - mean.reshape(channel)  # centred now, normalised below
            var = channel_sums(x_hat * x_hat) / count
            self._update_running_statistics(mean, var, count)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            x_hat = x - mean.reshape(channel)
        inv_std = 1 / xp_of(x).sqrt(var + self.eps)
        x_hat *= inv_std.reshape(channel)
        if train:
            self.push(x_hat, inv_std)
        return self.params["gamma"].reshape(channel) * x_hat + self.params["beta"].reshape(channel)

    def _update_running_statistics(self, mean, var, count):
        if count < 2:
            raise MinnetError(
                "BatchNorm in training needs more than one value per channel (batch size 1?)"
            )
        m = self.momentum
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - m
        running_mean += m * mean
        running_var *= 1 - m
        running_var += (m * count / (count - 1)) * var  # the unbiased batch variance

    def backward(self, gy):
        x_hat, inv_std = self.pop()
        channel = _channel_shape(gy)
        count = gy.size // self.n
        g_beta = channel_sums(gy)  # dL/dbeta = sum gy
        g_gamma = channel_sums(gy * x_hat)  # dL/dgamma = sum gy x_hat
        if self.param_grads:
            self.grads["beta"] += g_beta
            self.grads["gamma"] += g_gamma
        # dL/dx = gamma s (gy - mean(gy) - x_hat mean(gy x_hat)); the means are the sums / N
        mean_gy, mean_gy_x_hat = (g / count for g in (g_beta, g_gamma))
        scale = (self.params["gamma"] * inv_std).reshape(channel)
        return scale * (gy - mean_gy.reshape(channel) - x_hat * mean_gy_x_hat.reshape(channel))

    def __repr__(self):
        return f"BatchNorm({self.n}, momentum={self.momentum}, eps={self.eps})"


def _channel_shape(x):
    """The shape ``(1, n, 1, ...)`` in which a per-channel vector broadcasts over ``x``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def channel_sums(a):
    """Sum ``a (B, n)`` or ``a (B, n, H, W)`` over every axis but the channel axis 1: ``(n,)``.

    Summing over the batch first adds whole contiguous images; one ``sum`` over the axes
    (0, 2, 3) at once strides through memory and was about 5 times slower.
    """
    per_channel = a.sum(axis=0)
    return per_channel if a.ndim == 2 else per_channel.reshape(a.shape[1], -1).sum(axis=1)
