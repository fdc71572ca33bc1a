"""Max pooling: on the CPU built on the same im2col/col2im pair as convolution, on the GPU
one fused kernel each way.

The NumPy path lowers the windows to columns and takes a few vectorised passes over them; on
CuPy each of those passes would be a kernel launch (about 17 per forward and backward, which
made the layer launch-bound), so there the forward is one kernel that finds each window's
maximum and where it is, and the backward one kernel that gathers, for each pixel, the
gradients of the windows it won. The NumPy path is the reference the GPU one is tested against.
"""

import numpy as np

from minnet.backend import xp_of
from minnet.errors import ShapeError
from minnet.layers.base import Layer
from minnet.layers.im2col import (
    check_32_bit,
    check_window,
    col2im,
    im2col,
    output_size,
    to_batch_first,
    to_batch_last,
)
from minnet.speed import kernels


class MaxPool2d(Layer):
    """2-D max pooling, as torch ``MaxPool2d``: the largest value under each k x k window.

    ``y[n, c, u, v] = max_{i, j} x_pad[n, c, s*u + i, s*v + j]``, where the padding is ``-inf``
    (so it is never the maximum) and the stride ``s`` defaults to ``k``.

    Shapes: ``x (B, C, H, W)``, ``y (B, C, Ho, Wo)`` with ``Ho = (H + 2*pad - k) // s + 1``.
    Windows may overlap (``s < k``, e.g. the 2x2 stride-1 pooling of "Experiments with GANs").

    Backward: ``y`` depends only on the argmax of each window, with slope 1, so

    * ``dL/dx = col2im(onehot(argmax) * gy)``: each ``gy[n, c, u, v]`` goes to the pixel that
      won its window; a pixel winning several overlapping windows receives the sum. Ties go
      to the first maximum in row-major window order, as in torch.

    Naive twin: :func:`minnet.layers.naive.max_pool2d` and ``max_pool2d_backward``, a loop over
    the windows that finds each winner. Here, on the CPU, im2col lays every window out as a
    column (``-inf`` as padding) so the maxima, the one-hot winners and their gradients are a
    few vectorised passes, and ``col2im`` adds the gradients back; on the GPU one fused kernel
    each way, since those passes would be a dozen launches on small arrays.
    """

    def __init__(self, k, stride=None, pad=0):
        super().__init__()
        self.k, self.stride, self.pad = k, k if stride is None else stride, pad
        check_window("MaxPool2d", self.k, self.stride, pad)
        if not 0 <= pad <= k // 2:
            raise ValueError(f"MaxPool2d padding must be in [0, k // 2] = [0, {k // 2}], got {pad}")

    def output_shape(self, input_shape):
        """``(B, C, Ho, Wo)``; a ShapeError unless ``input_shape`` is ``(B, C, H, W)`` with
        H, W >= k - 2*pad."""
        self.expect_shape(input_shape, ("B", "C", "H", "W"))
        smallest = max(self.k - 2 * self.pad, 1)
        if min(input_shape[2:]) < smallest:
            raise ShapeError(self, f"(B, C, H, W) with H and W at least {smallest}", input_shape)
        B, C, H, W = input_shape
        return (B, C, output_size(H, self.k, self.stride, self.pad), output_size(W, self.k, self.stride, self.pad))

    def forward(self, x):
        self.output_shape(x.shape)  # a ShapeError for an input the layer cannot take
        if xp_of(x) is not np:
            return self._forward_gpu(x)
        col = im2col(x, self.k, self.stride, self.pad, fill=-float("inf"))
        C, k, _, Ho, Wo, B = col.shape
        windows = col.reshape(C, k * k, Ho, Wo, B)
        y = windows.max(axis=1)  # (C, Ho, Wo, B)
        if self.training:
            self.push(first_maximum(windows, y), x.shape)
        return to_batch_first(y)

    def backward(self, gy):
        if xp_of(gy) is not np:
            return self._backward_gpu(gy)
        winner, x_shape = self.pop()
        C, _, Ho, Wo, B = winner.shape
        gcol = winner * to_batch_last(gy)[:, None]  # dL/dcol = onehot(argmax) * gy
        # dL/dx = col2im(dL/dcol): sum the window gradients back onto their pixels
        return col2im(gcol.reshape(C, self.k, self.k, Ho, Wo, B), x_shape, self.stride, self.pad)

    def _forward_gpu(self, x):
        import cupy

        B, C, H, W = x.shape
        Ho, Wo = output_size(H, self.k, self.stride, self.pad), output_size(W, self.k, self.stride, self.pad)
        x = cupy.ascontiguousarray(x)
        y = cupy.empty((B, C, Ho, Wo), dtype=x.dtype)
        winner = cupy.empty((B, C, Ho, Wo), dtype=cupy.int32)
        check_32_bit(x)
        MAXPOOL_FORWARD(x, H, W, Ho, Wo, self.k, self.stride, self.pad, y, winner)
        if self.training:
            self.push(winner, x.shape)
        return y

    def _backward_gpu(self, gy):
        import cupy

        winner, x_shape = self.pop()
        _, _, H, W = x_shape
        _, _, Ho, Wo = winner.shape
        gx = cupy.empty(x_shape, dtype=gy.dtype)
        MAXPOOL_BACKWARD(cupy.ascontiguousarray(gy), winner, H, W, Ho, Wo, self.k, self.stride, self.pad, gx)
        return gx

    def __repr__(self):
        return f"MaxPool2d(k={self.k}, stride={self.stride}, pad={self.pad})"


def first_maximum(windows, y):
    """One-hot mask of each window's first maximum, the argmax as torch breaks ties.

    ``windows (C, k*k, Ho, Wo, B)`` with maxima ``y (C, Ho, Wo, B)`` -> boolean array shaped like
    ``windows``, true at the first offset (in row-major window order) where ``windows == y``.

    Marking every maximum and then clearing those after the first takes a few vectorized
    passes; NumPy's ``argmax`` along a short middle axis was about 30 times slower here.
    """
    winner = windows == y[:, None]
    taken = winner[:, 0].copy()
    for offset in range(1, winner.shape[1]):
        winner[:, offset] &= ~taken  # a later maximum loses the tie
        taken |= winner[:, offset]
    return winner


# -- GPU kernels: one thread per output value (forward), one per input pixel (backward) -------
# ``winner`` holds the offset ky*k + kx of each window's first maximum in row-major order (the
# tie rule of :func:`first_maximum`); padding pixels are never read, so never win.

MAXPOOL_FORWARD = kernels.elementwise(
    "minnet_maxpool_forward",
    "raw T x, int32 H, int32 W, int32 Ho, int32 Wo, int32 k, int32 stride, int32 pad",
    "T y, int32 winner",
    r"""
    // i runs over y (B, C, Ho, Wo); plane = b * C + c
    unsigned int r = i;
    const int ox = r % Wo; r /= Wo;
    const int oy = r % Ho; r /= Ho;
    const T* image = &x[r * H * W];
    T best = 0;
    int best_offset = -1;
    for (int ky = 0; ky < k; ++ky) {
        const int h = oy * stride + ky - pad;
        if (h < 0 || h >= H) continue;
        for (int kx = 0; kx < k; ++kx) {
            const int w = ox * stride + kx - pad;
            if (w < 0 || w >= W) continue;
            const T v = image[h * W + w];
            if (best_offset < 0 || v > best) {
                best = v;
                best_offset = ky * k + kx;
            }
        }
    }
    y = best;
    winner = best_offset;
    """,
    scalars="H, W, Ho, Wo, k, stride, pad",
)

MAXPOOL_BACKWARD = kernels.elementwise(
    "minnet_maxpool_backward",
    "raw T gy, raw int32 winner, int32 H, int32 W, int32 Ho, int32 Wo, int32 k, int32 stride, int32 pad",
    "T gx",
    r"""
    // i runs over gx (B, C, H, W): sum gy over the windows whose maximum is this pixel
    unsigned int r = i;
    const int w = r % W; r /= W;
    const int h = r % H; r /= H;
    const unsigned int plane = r * Ho * Wo;
    T sum = 0;
    for (int ky = 0; ky < k; ++ky) {
        const int ty = h + pad - ky;               // = stride * oy when window row oy has h at ky
        if (ty < 0 || ty % stride != 0 || ty / stride >= Ho) continue;
        const int oy = ty / stride;
        for (int kx = 0; kx < k; ++kx) {
            const int tx = w + pad - kx;
            if (tx < 0 || tx % stride != 0 || tx / stride >= Wo) continue;
            const unsigned int out = plane + oy * Wo + tx / stride;
            if (winner[out] == ky * k + kx) sum += gy[out];
        }
    }
    gx = sum;
    """,
    scalars="H, W, Ho, Wo, k, stride, pad",
)
