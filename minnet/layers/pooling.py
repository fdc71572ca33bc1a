"""Max pooling, built on the same im2col/col2im pair as convolution."""

from minnet.layers.base import Layer
from minnet.layers.im2col import check_window, col2im, im2col, to_batch_first, to_batch_last


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
    """

    def __init__(self, k, stride=None, pad=0):
        super().__init__()
        self.k, self.stride, self.pad = k, k if stride is None else stride, pad
        check_window("MaxPool2d", self.k, self.stride, pad)
        if not 0 <= pad <= k // 2:
            raise ValueError(f"MaxPool2d padding must be in [0, k // 2] = [0, {k // 2}], got {pad}")

    def forward(self, x, train=True):
        if x.ndim != 4:
            raise ValueError(f"{self!r} expects input of shape (B, C, H, W), got {tuple(x.shape)}")
        col = im2col(x, self.k, self.stride, self.pad, fill=-float("inf"))
        C, k, _, Ho, Wo, B = col.shape
        windows = col.reshape(C, k * k, Ho, Wo, B)
        y = windows.max(axis=1)  # (C, Ho, Wo, B)
        if train:
            self.push(first_maximum(windows, y), x.shape)
        return to_batch_first(y)

    def backward(self, gy):
        winner, x_shape = self.pop()
        C, _, Ho, Wo, B = winner.shape
        gcol = winner * to_batch_last(gy)[:, None]  # dL/dcol = onehot(argmax) * gy
        # dL/dx = col2im(dL/dcol): sum the window gradients back onto their pixels
        return col2im(gcol.reshape(C, self.k, self.k, Ho, Wo, B), x_shape, self.stride, self.pad)

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
