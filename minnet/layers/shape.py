"""Layers that only move numbers around: Flatten, Reshape, Concat.

Their backward passes undo the forward rearrangement: reshaping the gradient back, or
splitting it into the pieces that were joined.
"""

import itertools

from minnet.backend import xp_of
from minnet.layers.base import Layer


class Flatten(Layer):
    """``(B, d1, d2, ...) -> (B, d1*d2*...)``; backward reshapes ``gy`` to the input shape."""

    def forward(self, x, train=True):
        if train:
            self.push(x.shape)
        return x.reshape(x.shape[0], -1)

    def backward(self, gy):
        (shape,) = self.pop()
        return gy.reshape(shape)


class Reshape(Layer):
    """``(B, ...) -> (B, *shape)``, e.g. ``Reshape((128, 7, 7))`` after a Dense layer."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x, train=True):
        if train:
            self.push(x.shape)
        return x.reshape((x.shape[0],) + self.shape)

    def backward(self, gy):
        (shape,) = self.pop()
        return gy.reshape(shape)

    def __repr__(self):
        return f"Reshape({self.shape})"


class Concat(Layer):
    """Join several arrays along ``axis`` (default 1, the feature or channel axis).

    ``forward([x_1, ..., x_n]) -> y``; ``backward(gy) -> [gx_1, ..., gx_n]``, the slices of
    ``gy`` that each input contributed. Conditional models use it to feed a one-hot label
    (B, 10) beside a noise vector, or label maps (B, 10, H, W) beside an image.
    """

    def __init__(self, axis=1):
        super().__init__()
        self.axis = axis

    def forward(self, xs, train=True):
        if train:
            self.push([x.shape[self.axis] for x in xs])
        return xp_of(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        (sizes,) = self.pop()
        bounds = list(itertools.accumulate(sizes[:-1]))  # where each input's slice begins
        return xp_of(gy).split(gy, bounds, axis=self.axis)

    def __repr__(self):
        return f"Concat(axis={self.axis})"
