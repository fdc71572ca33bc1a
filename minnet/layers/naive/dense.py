"""The fully connected layer as loops: the twin of :class:`minnet.layers.Dense`."""

import numpy as np


def dense(x, W, b):
    """``y[n, o] = b[o] + sum_i x[n, i] W[i, o]``.

    ``x (B, n_in)``, ``W (n_in, n_out)``, ``b (n_out,)`` -> ``y (B, n_out)``.
    """
    B, n_in = x.shape
    n_out = W.shape[1]
    y = np.zeros((B, n_out), dtype=x.dtype)
    for n in range(B):
        for o in range(n_out):
            total = b[o]
            for i in range(n_in):
                total += x[n, i] * W[i, o]
            y[n, o] = total
    return y


def dense_backward(x, W, gy):
    """``(dL/dx, dL/dW, dL/db)`` for ``gy = dL/dy (B, n_out)``.

    ``y[n, o]`` depends on ``x[n, i]`` through ``W[i, o]`` and on ``W[i, o]`` through
    ``x[n, i]``, so each product term sends ``gy[n, o]`` back along both::

        dL/dx[n, i] = sum_o gy[n, o] W[i, o]
        dL/dW[i, o] = sum_n x[n, i] gy[n, o]      (every example adds to the one W)
        dL/db[o]    = sum_n gy[n, o]
    """
    B, n_in = x.shape
    n_out = W.shape[1]
    gx, gW, gb = np.zeros_like(x), np.zeros_like(W), np.zeros(n_out, dtype=gy.dtype)
    for n in range(B):
        for o in range(n_out):
            gb[o] += gy[n, o]
            for i in range(n_in):
                gx[n, i] += gy[n, o] * W[i, o]
                gW[i, o] += x[n, i] * gy[n, o]
    return gx, gW, gb
