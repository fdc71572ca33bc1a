"""Dropout."""

import numpy as np

from minnet import init as initializers
from minnet.backend import xp_of
from minnet.distributed.batch import own_rows, whole_shape
from minnet.errors import MinnetError
from minnet.layers.base import Layer


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014): zero each input with probability ``p``.

    In training, with a keep mask ``m`` (1 with probability 1 - p, else 0) shaped like x::

        y     = x * m / (1 - p)           the survivors are scaled up, so E[y] = x
        dL/dx = gy * m / (1 - p)

    In evaluation mode (``layer.eval()``), and whenever ``p == 0``, the layer is the identity: the
    scaling during training is what lets inference skip it.

    Masks come from the layer's own generator: a ``numpy.random.Generator`` for NumPy inputs
    and, for CuPy inputs, a ``cupy.random.RandomState`` seeded from that generator on first
    use. The same seed therefore replays the same masks on the same device (the CPU and GPU
    draw different ones). In data-parallel training the mask is drawn for the whole global
    batch (along ``batch_axis``) and this rank keeps its rows (:mod:`minnet.distributed.batch`),
    so the masks are those of one process. To fix a mask instead, draw it with
    :meth:`draw_mask` and pass it to ``forward`` (a gradient check, or the same mask at every
    step of a recurrent network).

    Shapes: ``x`` and ``y`` any shape, the same.

    Parameters
    ----------
    p : float
        Probability of dropping each element, ``0 <= p < 1``.
    rng : int, numpy.random.Generator or None
        Seed or generator for the masks.
    batch_axis : int
        The axis of x that runs over the images: 0, or 1 for a sequence (T, B, n).
    """

    def __init__(self, p, *, rng=None, batch_axis=0):
        super().__init__()
        if not 0 <= p < 1:
            raise MinnetError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.batch_axis = batch_axis
        self._rng = initializers.as_rng(rng)
        self._gpu_rng = None

    def draw_mask(self, x):
        """A boolean keep mask shaped like ``x``, on ``x``'s device: True with probability 1 - p."""
        xp = xp_of(x)
        if xp is np:
            uniform = self._rng.random(whole_shape(x.shape, self.batch_axis), dtype=np.float32)
        else:
            if self._gpu_rng is None:
                self._gpu_rng = xp.random.RandomState(self._rng.integers(2**63, dtype=np.uint64))
            uniform = self._gpu_rng.random_sample(whole_shape(x.shape, self.batch_axis), dtype=np.float32)
        return own_rows(uniform, self.batch_axis) >= self.p

    def forward(self, x, mask=None):
        """``y = x * mask / (1 - p)``; ``mask`` (boolean or 0/1, shaped like x) defaults to a
        fresh :meth:`draw_mask`."""
        if not self.training or self.p == 0:
            return x
        if mask is None:
            mask = self.draw_mask(x)
        scale = mask.astype(x.dtype) / (1 - self.p)  # m / (1 - p): 0 or 1 / (1 - p)
        self.push(scale)
        return x * scale

    def backward(self, gy):
        if self.p == 0:
            return gy
        (scale,) = self.pop()
        return gy * scale  # dL/dx = gy m / (1 - p)

    def __repr__(self):
        return f"Dropout({self.p})"
