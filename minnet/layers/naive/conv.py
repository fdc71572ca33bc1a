"""Convolution and transposed convolution as loops over every connection: the twins of
:class:`minnet.layers.Conv2d` and :class:`minnet.layers.Deconv2d`.

Both layers connect pixels through a k x k window. :func:`taps` lists the connections once:
pixel ``(u, v)`` of the *small* grid meets pixel ``(s*u + i - p, s*v + j - p)`` of the *large*
grid through kernel entry ``(i, j)``, for every such pixel that is inside the large grid.
Padding is the connections left out, not a padded copy. A convolution reads the large grid
(its input) and writes the small one (its output); a transposed convolution reads the small
grid (its input) and writes the large one, which is why one is the other's input gradient.

Every forward and backward below is one loop over the same taps, each adding one product:
the forward ``y += W x``; the backward sends ``gy`` back along the same connection to the
input (``dL/dx += W gy``) and to the weight (``dL/dW += x gy``).
"""

import numpy as np


def taps(small, large, k, stride, pad):
    """``(u, v, i, j, h, w)`` for every connection: small-grid pixel ``(u, v)``, kernel entry
    ``(i, j)`` and large-grid pixel ``(h, w) = (s*u + i - p, s*v + j - p)`` inside ``large``.

    ``small`` and ``large`` are ``(height, width)`` pairs.
    """
    for u in range(small[0]):
        for v in range(small[1]):
            for i in range(k):
                for j in range(k):
                    h, w = stride * u + i - pad, stride * v + j - pad
                    if 0 <= h < large[0] and 0 <= w < large[1]:
                        yield u, v, i, j, h, w


def conv_output_size(size, k, stride, pad):
    """``(size + 2 pad - k) // stride + 1``: how many windows fit along one side."""
    return (size + 2 * pad - k) // stride + 1


def conv2d(x, W, b, stride, pad):
    """``y[n, o, u, v] = b[o] + sum_{c, i, j} W[o, c, i, j] x[n, c, s*u + i - p, s*v + j - p]``.

    ``x (B, C, H, W)``, ``W (O, C, k, k)``, ``b (O,)`` -> ``y (B, O, Ho, Wo)`` with
    ``Ho = (H + 2p - k) // s + 1`` (cross-correlation, as torch ``Conv2d``), for ``stride`` s
    and zero padding ``pad`` p.
    """
    B, C, H, W_ = x.shape
    O, _, k, _ = W.shape
    Ho, Wo = conv_output_size(H, k, stride, pad), conv_output_size(W_, k, stride, pad)
    y = np.zeros((B, O, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for o in range(O):
            y[n, o] = b[o]
            for c in range(C):
                for u, v, i, j, h, w in taps((Ho, Wo), (H, W_), k, stride, pad):
                    y[n, o, u, v] += W[o, c, i, j] * x[n, c, h, w]
    return y


def conv2d_backward(x, W, gy, stride, pad):
    """``(dL/dx, dL/dW, dL/db)`` of :func:`conv2d` for ``gy = dL/dy (B, O, Ho, Wo)``.

    Each term ``W[o, c, i, j] x[n, c, h, w]`` of ``y[n, o, u, v]`` sends ``gy[n, o, u, v]`` to
    both factors: ``dL/dx[n, c, h, w] += W[o, c, i, j] gy``, ``dL/dW[o, c, i, j] += x[n, c, h, w] gy``;
    ``dL/db[o]`` sums ``gy`` over images and positions. ``x``, ``W``, ``stride`` and ``pad`` as
    given to the forward.
    """
    B, C, H, W_ = x.shape
    O, _, k, _ = W.shape
    _, _, Ho, Wo = gy.shape
    gx, gW, gb = np.zeros_like(x), np.zeros_like(W), np.zeros(O, dtype=gy.dtype)
    for n in range(B):
        for o in range(O):
            gb[o] += gy[n, o].sum()
            for c in range(C):
                for u, v, i, j, h, w in taps((Ho, Wo), (H, W_), k, stride, pad):
                    gx[n, c, h, w] += W[o, c, i, j] * gy[n, o, u, v]
                    gW[o, c, i, j] += x[n, c, h, w] * gy[n, o, u, v]
    return gx, gW, gb


def conv_transpose2d(x, W, b, stride, pad, output_padding=0):
    """Scatter form: ``y[n, o, s*h + i - p, s*w + j - p] += x[n, c, h, w] W[c, o, i, j]``, plus ``b[o]``.

    ``x (B, C, H, W)``, ``W (C, O, k, k)``, ``b (O,)`` -> ``y (B, O, Ho, Wo)`` with
    ``Ho = (H - 1) s - 2p + k + output_padding`` (as torch ``ConvTranspose2d``), for ``stride`` s
    and ``pad`` p, the padding cropped from each side of the output.
    """
    B, C, H, W_ = x.shape
    _, O, k, _ = W.shape
    Ho = (H - 1) * stride - 2 * pad + k + output_padding
    Wo = (W_ - 1) * stride - 2 * pad + k + output_padding
    y = np.zeros((B, O, Ho, Wo), dtype=x.dtype)
    for n in range(B):
        for o in range(O):
            y[n, o] = b[o]
            for c in range(C):
                for h, w, i, j, oy, ox in taps((H, W_), (Ho, Wo), k, stride, pad):
                    y[n, o, oy, ox] += x[n, c, h, w] * W[c, o, i, j]
    return y


def conv_transpose2d_backward(x, W, gy, stride, pad):
    """``(dL/dx, dL/dW, dL/db)`` of :func:`conv_transpose2d` for ``gy = dL/dy (B, O, Ho, Wo)``.

    The same connections as the forward, with ``gy`` flowing back along each:
    ``dL/dx[n, c, h, w] += W[c, o, i, j] gy[n, o, oy, ox]`` (a convolution of ``gy``) and
    ``dL/dW[c, o, i, j] += x[n, c, h, w] gy[n, o, oy, ox]``. ``x``, ``W``, ``stride`` and ``pad``
    as given to the forward.
    """
    B, C, H, W_ = x.shape
    _, O, k, _ = W.shape
    _, _, Ho, Wo = gy.shape
    gx, gW, gb = np.zeros_like(x), np.zeros_like(W), np.zeros(O, dtype=gy.dtype)
    for n in range(B):
        for o in range(O):
            gb[o] += gy[n, o].sum()
            for c in range(C):
                for h, w, i, j, oy, ox in taps((H, W_), (Ho, Wo), k, stride, pad):
                    gx[n, c, h, w] += W[c, o, i, j] * gy[n, o, oy, ox]
                    gW[c, o, i, j] += x[n, c, h, w] * gy[n, o, oy, ox]
    return gx, gW, gb
