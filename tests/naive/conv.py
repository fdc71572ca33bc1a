"""Convolution, transposed convolution and max pooling as plain loops over every index.

The references the im2col-based layers are tested against: slow, NumPy only, and written to be
obviously right rather than fast. Padding is handled by skipping out-of-range pixels rather
than by building a padded copy, so no code is shared with the layers under test.
"""

import numpy as np


def conv2d(x, W, b, stride, pad):
    """``y[n, o, y, x] = b[o] + sum_{c, i, j} W[o, c, i, j] * x[n, c, s*y + i - p, s*x + j - p]``.

    ``x (B, C, H, W)``, ``W (O, C, k, k)``, ``b (O,)`` -> ``y (B, O, Ho, Wo)``.
    """
    B, C, H, W_ = x.shape
    O, _, k, _ = W.shape
    Ho = (H + 2 * pad - k) // stride + 1
    Wo = (W_ + 2 * pad - k) // stride + 1
    y = np.zeros((B, O, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for o in range(O):
            for oy in range(Ho):
                for ox in range(Wo):
                    total = b[o]
                    for c in range(C):
                        for i in range(k):
                            for j in range(k):
                                h, w = stride * oy + i - pad, stride * ox + j - pad
                                if 0 <= h < H and 0 <= w < W_:
                                    total += W[o, c, i, j] * x[n, c, h, w]
                    y[n, o, oy, ox] = total
    return y


def conv_transpose2d(x, W, b, stride, pad, output_padding=0):
    """Scatter form: ``y[n, o, s*h + i - p, s*w + j - p] += x[n, c, h, w] * W[c, o, i, j]``.

    ``x (B, C, H, W)``, ``W (C, O, k, k)``, ``b (O,)`` -> ``y (B, O, Ho, Wo)`` with
    ``Ho = (H - 1)*s - 2p + k + output_padding``.
    """
    B, C, H, W_ = x.shape
    _, O, k, _ = W.shape
    Ho = (H - 1) * stride - 2 * pad + k + output_padding
    Wo = (W_ - 1) * stride - 2 * pad + k + output_padding
    y = np.zeros((B, O, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for o in range(O):
            y[n, o] = b[o]
    for n in range(B):
        for c in range(C):
            for h in range(H):
                for w in range(W_):
                    for o in range(O):
                        for i in range(k):
                            for j in range(k):
                                oy, ox = stride * h + i - pad, stride * w + j - pad
                                if 0 <= oy < Ho and 0 <= ox < Wo:
                                    y[n, o, oy, ox] += x[n, c, h, w] * W[c, o, i, j]
    return y


def max_pool2d(x, k, stride, pad):
    """``y[n, c, y, x] = max over the k x k window at (s*y - p, s*x - p)``, padding ignored."""
    B, C, H, W_ = x.shape
    Ho = (H + 2 * pad - k) // stride + 1
    Wo = (W_ + 2 * pad - k) // stride + 1
    y = np.zeros((B, C, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for c in range(C):
            for oy in range(Ho):
                for ox in range(Wo):
                    best = -np.inf
                    for i in range(k):
                        for j in range(k):
                            h, w = stride * oy + i - pad, stride * ox + j - pad
                            if 0 <= h < H and 0 <= w < W_:
                                best = max(best, x[n, c, h, w])
                    y[n, c, oy, ox] = best
    return y


def max_pool2d_backward(x, gy, k, stride, pad):
    """``dL/dx``: each ``gy[n, c, oy, ox]`` added onto the first maximum (row-major) of its window."""
    B, C, H, W_ = x.shape
    _, _, Ho, Wo = gy.shape
    gx = np.zeros_like(x)
    for n in range(B):
        for c in range(C):
            for oy in range(Ho):
                for ox in range(Wo):
                    pixels = [(stride * oy + i - pad, stride * ox + j - pad) for i in range(k) for j in range(k)]
                    pixels = [(h, w) for h, w in pixels if 0 <= h < H and 0 <= w < W_]
                    h, w = max(pixels, key=lambda hw: x[n, c, hw[0], hw[1]])  # max keeps the first of ties
                    gx[n, c, h, w] += gy[n, c, oy, ox]
    return gx
