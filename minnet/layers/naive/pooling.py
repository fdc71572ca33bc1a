"""Max pooling as loops over every window: the twin of :class:`minnet.layers.MaxPool2d`."""

import numpy as np

from minnet.layers.naive.conv import conv_output_size


def window(x, n, c, u, v, k, stride, pad):
    """The pixels ``(h, w)`` under output ``(u, v)``'s window, in row-major order, padding left out."""
    H, W_ = x.shape[2:]
    pixels = [(stride * u + i - pad, stride * v + j - pad) for i in range(k) for j in range(k)]
    return [(h, w) for h, w in pixels if 0 <= h < H and 0 <= w < W_]


def winner(x, n, c, u, v, k, stride, pad):
    """The pixel holding the window's maximum; the first in row-major order on a tie, as torch."""
    return max(window(x, n, c, u, v, k, stride, pad), key=lambda hw: x[n, c, hw[0], hw[1]])


def max_pool2d(x, k, stride, pad):
    """``y[n, c, u, v] = max x[n, c, h, w]`` over the window at ``(s*u - p, s*v - p)``.

    ``x (B, C, H, W)`` -> ``y (B, C, Ho, Wo)``, ``Ho = (H + 2p - k) // s + 1`` for window side
    ``k``, ``stride`` s and ``pad`` p; padding is never the maximum.
    """
    B, C, H, W_ = x.shape
    Ho, Wo = conv_output_size(H, k, stride, pad), conv_output_size(W_, k, stride, pad)
    y = np.zeros((B, C, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for c in range(C):
            for u in range(Ho):
                for v in range(Wo):
                    h, w = winner(x, n, c, u, v, k, stride, pad)
                    y[n, c, u, v] = x[n, c, h, w]
    return y


def max_pool2d_backward(x, gy, k, stride, pad):
    """``dL/dx`` (B, C, H, W): each ``gy[n, c, u, v]`` goes to the pixel that won its window
    (slope 1 there, 0 elsewhere); a pixel winning several overlapping windows receives their
    sum. ``x``, ``k``, ``stride`` and ``pad`` as given to :func:`max_pool2d`."""
    B, C, _, _ = x.shape
    _, _, Ho, Wo = gy.shape
    gx = np.zeros_like(x)
    for n in range(B):
        for c in range(C):
            for u in range(Ho):
                for v in range(Wo):
                    h, w = winner(x, n, c, u, v, k, stride, pad)
                    gx[n, c, h, w] += gy[n, c, u, v]
    return gx
