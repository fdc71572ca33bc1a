"""Layers that only move numbers around: Flatten, Reshape, Concat.

Their backward passes undo the forward rearrangement: reshaping the gradient back, or
splitting it into the pieces that were joined.
"""

import itertools
import math

from minnet.backend import xp_of
from minnet.errors import ShapeError
from minnet.layers.base import Layer


class Flatten(Layer):
    """``(B, d1, d2, ...) -> (B, d1*d2*...)``; backward reshapes ``gy`` to the input shape."""

    def output_shape(self, input_shape):
        return (input_shape[0], math.prod(input_shape[1:]))

    def forward(self, x):
        if self.training:
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

    def output_shape(self, input_shape):
        """``(B, *shape)`` for ``input_shape`` (B, ...); a ShapeError unless the input holds as many
        numbers per example."""
        per_example = math.prod(input_shape[1:])
        if -1 in self.shape:
            known = -math.prod(self.shape)  # the product of the other sizes
            if per_example % known:
                raise ShapeError(self, f"(B, ...) with a multiple of {known} numbers per example", input_shape)
            return (input_shape[0], *(per_example // known if size == -1 else size for size in self.shape))
        if per_example != math.prod(self.shape):
            raise ShapeError(self, f"(B, ...) with {math.prod(self.shape)} numbers per example", input_shape)
        return (input_shape[0], *self.shape)

    def forward(self, x):
        if self.training:
            self.push(x.shape)
        return x.reshape(self.output_shape(x.shape))

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

    def output_shape(self, input_shapes):
        """The common shape of ``input_shapes`` (a list, one per input) with their sizes along
        ``axis`` added up; a ShapeError when they differ along another axis."""
        first = tuple(input_shapes[0])
        for shape in input_shapes[1:]:
            other_axes = [i for i in range(len(first)) if i != self.axis % len(first)]
            if len(shape) != len(first) or any(shape[i] != first[i] for i in other_axes):
                expected = ", ".join(str(first[i]) if i in other_axes else "*" for i in range(len(first)))
                raise ShapeError(self, f"({expected}) (* any size), as the first", shape, "every input")
        total = sum(shape[self.axis] for shape in input_shapes)
        return tuple(total if i == self.axis % len(first) else size for i, size in enumerate(first))

    def forward(self, xs):
        """``xs``, a list of arrays, joined along ``axis`` into one."""
        self.output_shape([x.shape for x in xs])  # a ShapeError for inputs that do not fit together
        if self.training:
            self.push([x.shape[self.axis] for x in xs])
        return xp_of(xs[0]).concatenate(xs, axis=self.axis)

    def backward(self, gy):
        (sizes,) = self.pop()
        bounds = list(itertools.accumulate(sizes[:-1]))  # where each input's slice begins
        return xp_of(gy).split(gy, bounds, axis=self.axis)

    def __repr__(self):
        return f"Concat(axis={self.axis})"
