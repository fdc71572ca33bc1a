"""Batch normalisation."""

import numpy as np

from minnet.backend import xp_of
from minnet.distributed import SingleProcess
from minnet.errors import MinnetError, ShapeError
from minnet.layers.base import Layer
from minnet.speed import kernels


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

    In training mode (``layer.training``) mu and var are the batch's, and the buffers ``running_mean``
    (zeros) and ``running_var`` (ones) move towards them as in PyTorch::

        running_mean = (1 - momentum) running_mean + momentum mu
        running_var  = (1 - momentum) running_var  + momentum var N / (N - 1)   (unbiased)

    In evaluation mode (``layer.eval()``) the running statistics take the place of mu and var.

    Backward. Write ``s = 1 / sqrt(var + eps)`` and ``g = gamma * gy = dL/dx_hat``. Every
    ``x_hat_m`` depends on every ``x_j`` of its channel, through mu and var:
    ``d mu / d x_j = 1/N``, ``d var / d x_j = 2 (x_j - mu) / N``, ``d s / d var = -s^3 / 2``, so

        d x_hat_m / d x_j = s (delta_mj - 1/N) - (x_m - mu) s^3 (x_j - mu) / N
                          = s (delta_mj - 1/N - x_hat_m x_hat_j / N)

    and summing ``g_m`` times this over m gives the compact formula (means over the channel)::

        dL/dx     = gamma s (gy - mean(gy) - x_hat mean(gy * x_hat))
        dL/dgamma = sum(gy * x_hat),     dL/dbeta = sum(gy)

    Naive twin: :func:`minnet.layers.naive.batch_norm` and ``batch_norm_backward``, which
    loop over the channels and sum ``gy`` times ``d x_hat_m / d x_j`` over every pair (m, j),
    O(N^2) per channel. Here the compact formula above does it in O(N): two channel sums
    (:func:`channel_sums`, batch axis first for contiguous memory) and one elementwise pass; on
    the GPU three fused kernels replace about 35 launches.

    Data-parallel training (:func:`minnet.training.data_parallel.attach` sets ``communicator``):
    every sum over the batch above is summed over the ranks too, so that mu, var and the two
    means of backward are the global batch's, and N is the global count (what PyTorch calls
    SyncBatchNorm). That takes one allreduce of n numbers for mu, one for var, and one of 2n
    for ``mean(gy)`` and ``mean(gy * x_hat)``; ``dL/dgamma`` and ``dL/dbeta`` stay this rank's
    sums, as the optimizer sums every gradient over the ranks.

    Parameters
    ----------
    n : int
        Number of features (dense input) or channels (image input): ``x.shape[1]``.
    momentum : float
        Weight of the current batch in the running statistics.
    eps : float
        Added to the variance before the square root.
    """

    communicator = SingleProcess()  # whose batch the statistics are of: this process's alone

    def __init__(self, n, *, momentum=0.1, eps=1e-5):
        super().__init__()
        self.n, self.momentum, self.eps = n, momentum, eps
        self.add_param("gamma", np.ones(n, dtype=np.float32))
        self.add_param("beta", np.zeros(n, dtype=np.float32))
        self.add_buffer("running_mean", np.zeros(n, dtype=np.float32))
        self.add_buffer("running_var", np.ones(n, dtype=np.float32))

    def output_shape(self, input_shape):
        """``input_shape`` itself, ``(B, n)`` or ``(B, n, H, W)``; a ShapeError for any other."""
        if len(input_shape) not in (2, 4) or input_shape[1] != self.n:
            raise ShapeError(self, f"(B, {self.n}) or (B, {self.n}, H, W)", input_shape)
        return tuple(input_shape)

    def forward(self, x):
        self.output_shape(x.shape)  # a ShapeError for an input the layer cannot take
        channel = _channel_shape(x)  # (1, n, 1, 1): a per-channel vector that broadcasts over x
        count = x.size // self.n * self.communicator.size  # values per channel in the global batch
        if self.training and count < 2:
            raise MinnetError("BatchNorm in training needs more than one value per channel (batch size 1?)")
        if xp_of(x) is not np:
            return self._forward_gpu(x, count)
        if self.training:
            mean = self._global_sums(channel_sums(x)) / count
            x_hat = x - mean.reshape(channel)  # centred now, normalised below
            var = self._global_sums(channel_sums(x_hat * x_hat)) / count
            self._update_running_statistics(mean, var, count)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
            x_hat = x - mean.reshape(channel)
        inv_std = 1 / xp_of(x).sqrt(var + self.eps)
        x_hat *= inv_std.reshape(channel)
        if self.training:
            self.push(x_hat, inv_std)
        return self.params["gamma"].reshape(channel) * x_hat + self.params["beta"].reshape(channel)

    def _global_sums(self, sums):
        """Per-channel ``sums`` over this rank's batch -> over the global batch (one process: as is)."""
        return self.communicator.allreduce_sum(sums)

    def _update_running_statistics(self, mean, var, count):
        m = self.momentum
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= 1 - m
        running_mean += m * mean
        running_var *= 1 - m
        running_var += (m * count / (count - 1)) * var  # the unbiased batch variance

    def backward(self, gy):
        if xp_of(gy) is not np:
            return self._backward_gpu(gy)
        x_hat, inv_std = self.pop()
        channel = _channel_shape(gy)
        count = gy.size // self.n * self.communicator.size
        g_beta = channel_sums(gy)  # dL/dbeta = sum gy
        g_gamma = channel_sums(gy * x_hat)  # dL/dgamma = sum gy x_hat
        if self.param_grads:
            self.grads["beta"] += g_beta
            self.grads["gamma"] += g_gamma
        # dL/dx = gamma s (gy - mean(gy) - x_hat mean(gy x_hat)); the means are the sums / N
        mean_gy, mean_gy_x_hat = self._global_sums(np.concatenate([g_beta, g_gamma])).reshape(2, -1) / count
        scale = (self.params["gamma"] * inv_std).reshape(channel)
        return scale * (gy - mean_gy.reshape(channel) - x_hat * mean_gy_x_hat.reshape(channel))

    # -- GPU: the same equations in fewer launches -------------------------------------------
    # Every NumPy operation above is a kernel launch on CuPy (about 35 for a forward and a
    # backward), which made the layer launch-bound. There, the statistics are CuPy reductions
    # over all axes but the channel axis at once, and the rest is one kernel each: the running
    # statistics with s, the normalisation with the affine map, and dL/dx.

    def _forward_gpu(self, x, count):
        channel = _channel_shape(x)
        t = x.dtype.type
        if self.training:
            axes = _reduced_axes(x)
            if isinstance(self.communicator, SingleProcess):
                mean = x.mean(axis=axes)
                var = x.var(axis=axes)  # biased; two-pass, as above
            else:  # the global batch's: sums over every rank's share
                mean = self._global_sums(x.sum(axis=axes)) / count
                var = self._global_sums(((x - mean.reshape(channel)) ** 2).sum(axis=axes)) / count
            inv_std = xp_of(x).empty_like(var)
            BATCHNORM_STATISTICS(
                mean, var, t(self.momentum), t(count / (count - 1)), t(self.eps),
                self.buffers["running_mean"], self.buffers["running_var"], inv_std,
            )  # fmt: skip
        else:
            mean = self.buffers["running_mean"]
            inv_std = 1 / xp_of(x).sqrt(self.buffers["running_var"] + self.eps)
        gamma, beta = self.params["gamma"], self.params["beta"]
        x_hat, y = BATCHNORM_FORWARD(
            x, mean.reshape(channel), inv_std.reshape(channel), gamma.reshape(channel), beta.reshape(channel)
        )
        if self.training:
            self.push(x_hat, inv_std)
        return y

    def _backward_gpu(self, gy):
        x_hat, inv_std = self.pop()
        channel = _channel_shape(gy)
        axes = _reduced_axes(gy)
        g_beta = gy.sum(axis=axes)  # dL/dbeta = sum gy
        g_gamma = (gy * x_hat).sum(axis=axes)  # dL/dgamma = sum gy x_hat
        if self.param_grads:
            self.grads["beta"] += g_beta
            self.grads["gamma"] += g_gamma
        count = gy.size // self.n * self.communicator.size
        if not isinstance(self.communicator, SingleProcess):  # the global batch's sums, for the means in dL/dx
            g_beta, g_gamma = self._global_sums(xp_of(gy).concatenate([g_beta, g_gamma])).reshape(2, -1)
        return BATCHNORM_BACKWARD(
            gy, x_hat, self.params["gamma"].reshape(channel), inv_std.reshape(channel),
            g_beta.reshape(channel), g_gamma.reshape(channel), gy.dtype.type(1 / count),
        )  # fmt: skip

    def __repr__(self):
        return f"BatchNorm({self.n}, momentum={self.momentum}, eps={self.eps})"


def _channel_shape(x):
    """The shape ``(1, n, 1, ...)`` in which a per-channel vector broadcasts over ``x``."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _reduced_axes(x):
    """Every axis of ``x`` but the channel axis 1: those the statistics sum over."""
    return (0,) + tuple(range(2, x.ndim))


BATCHNORM_STATISTICS = kernels.elementwise(
    "minnet_batchnorm_statistics",
    "T mean, T var, T momentum, T unbias, T eps",
    "T running_mean, T running_var, T inv_std",
    """
    running_mean = (1 - momentum) * running_mean + momentum * mean;
    running_var = (1 - momentum) * running_var + momentum * unbias * var;
    inv_std = 1 / sqrt(var + eps);
    """,
    scalars="momentum, unbias, eps",
)

BATCHNORM_FORWARD = kernels.elementwise(
    "minnet_batchnorm_forward",
    "T x, T mean, T inv_std, T gamma, T beta",
    "T x_hat, T y",
    """
    x_hat = (x - mean) * inv_std;
    y = gamma * x_hat + beta;
    """,
)

# dL/dx = gamma s (gy - mean(gy) - x_hat mean(gy x_hat)), the means being the sums times 1/N
BATCHNORM_BACKWARD = kernels.elementwise(
    "minnet_batchnorm_backward",
    "T gy, T x_hat, T gamma, T inv_std, T g_beta, T g_gamma, T inv_count",
    "T gx",
    "gx = gamma * inv_std * (gy - g_beta * inv_count - x_hat * g_gamma * inv_count);",
    scalars="inv_count",
)


def channel_sums(a):
    """Sum ``a (B, n)`` or ``a (B, n, H, W)`` over every axis but the channel axis 1: ``(n,)``.

    Summing over the batch first adds whole contiguous images; one ``sum`` over the axes
    (0, 2, 3) at once strides through memory and was about 5 times slower.
    """
    per_channel = a.sum(axis=0)
    return per_channel if a.ndim == 2 else per_channel.reshape(a.shape[1], -1).sum(axis=1)
