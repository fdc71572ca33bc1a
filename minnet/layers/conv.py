"""2-D convolution and transposed convolution, each lowered to one matrix product.

Convolution (cross-correlation, as torch ``Conv2d``) with weights ``W (O, C, k, k)``, stride
``s`` and zero padding ``p`` computes

    y[n, o, u, v] = sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*u + i, s*v + j]

for image ``n``, output channel ``o`` and output position ``(u, v)``.

**im2col lowering.** ``col = im2col(x)`` (see :mod:`minnet.layers.im2col`) copies the pixels
under every window into a column, ``col[c, i, j, u, v, n] = x_pad[n, c, s*u + i, s*v + j]``.
Viewed as matrices, ``Wm = W.reshape(O, C*k*k)`` and ``colm = col.reshape(C*k*k, Ho*Wo*B)``,
the convolution is a single product:

    ym = Wm · colm                       (O, Ho*Wo*B), then reordered to y (B, O, Ho, Wo).

Back-propagating through a product is two more products (``gym`` is ``gy`` as an
``(O, Ho*Wo*B)`` matrix):

    dL/dWm   = gym · colm^T              (O, C*k*k)
    dL/dcolm = Wm^T · gym                (C*k*k, Ho*Wo*B),   dL/dx = col2im(dL/dcol),

because ``col2im`` (adding each column entry back onto the pixel it was copied from) is the
adjoint of the copy ``im2col``.

**The conv/deconv duality.** Call ``x -> conv(x) = Wm · im2col(x)`` the linear map ``A``. Its
input gradient is the adjoint ``A^T: gy -> col2im(Wm^T · gym)``: it satisfies
``<A x, y> = <x, A^T y>`` for all ``x, y``. A transposed convolution ("deconvolution", torch
``ConvTranspose2d``) *is* ``A^T`` used as a forward pass: it spreads every input pixel,
weighted by the kernel, over a k x k patch of a larger output,

    y[n, o, s*h + i - p, s*w + j - p] += sum_c x[n, c, h, w] * W[c, o, i, j],

so its output size is ``(H - 1)*s - 2p + k``. Hence a Deconv2d's forward is a Conv2d's input
gradient, and its input gradient is a Conv2d's forward. The two layers below are built from
the same three functions, :func:`correlate` (``A``), :func:`correlate_adjoint` (``A^T``) and
:func:`kernel_gradient` (the weight gradient, shared too), so each is written once. A Deconv2d
with weights ``W (C_in, C_out, k, k)`` is the adjoint of a Conv2d from ``C_out`` to ``C_in``
channels with the same array ``W``, which is why torch stores the two layouts that way.
"""

import itertools

from minnet import init as initializers
from minnet.backend import xp_of
from minnet.errors import ShapeError
from minnet.layers.base import Layer
from minnet.layers.im2col import (
    check_window,
    col2im,
    im2col,
    output_size,
    to_batch_first,
    to_batch_last,
    window_positions,
)
from minnet.layers.norm import channel_sums


def correlate(col, W, bias=None):
    """Cross-correlate lowered windows with the kernels: ``y = Wm · colm (+ b)`` in NCHW.

    ``col (C, k, k, Ho, Wo, B)`` from :func:`im2col`, ``W (O, C, k, k)``, ``bias (O,)`` or None
    -> ``y (B, O, Ho, Wo)``.
    """
    C, k, _, Ho, Wo, B = col.shape
    O = W.shape[0]
    y = W.reshape(O, C * k * k) @ col.reshape(C * k * k, Ho * Wo * B)  # (O, Ho*Wo*B)
    return to_batch_first(y.reshape(O, Ho, Wo, B), bias=bias)


def correlate_adjoint(gy_matrix, W, image_shape, stride, pad, out=None):
    """The adjoint of ``x -> correlate(im2col(x), W)``: ``col2im(Wm^T · gym)``.

    ``gy_matrix (O, Ho*Wo*B)`` from :func:`as_channel_matrix`, ``W (O, C, k, k)``,
    ``image_shape (B, C, H, W)`` -> an array of that shape.

    ``Wm^T · gym`` is as large as ``im2col``'s output. ``out``, a C-contiguous
    ``(C, k, k, Ho, Wo, B)`` array that is no longer needed (Conv2d's backward passes the
    ``col`` it saved), receives it instead of a new array: allocating ~25 MB afresh on each
    call costs a page fault on every 4 KiB page of it, about a tenth of Conv2d's step.
    """
    O, C, k, _ = W.shape
    B, _, height, width = image_shape
    Ho, Wo = output_size(height, k, stride, pad), output_size(width, k, stride, pad)
    xp = xp_of(gy_matrix)
    if out is None:
        out = xp.empty((C, k, k, Ho, Wo, B), dtype=gy_matrix.dtype)
    xp.matmul(W.reshape(O, C * k * k).T, gy_matrix, out=out.reshape(C * k * k, -1))  # Wm^T · gym
    return col2im(out, image_shape, stride, pad)


def kernel_gradient(gy_matrix, col):
    """Gradient of ``sum(correlate(col, W) * gy)`` w.r.t. ``W``: ``gym · colm^T``, as (O, C, k, k)."""
    C, k = col.shape[:2]
    O = gy_matrix.shape[0]
    return (gy_matrix @ col.reshape(C * k * k, -1).T).reshape(O, C, k, k)


def as_channel_matrix(a):
    """Reorder ``a (B, O, Ho, Wo)`` into the ``(O, Ho*Wo*B)`` matrix the products use (a copy)."""
    return to_batch_last(a).reshape(a.shape[1], -1)


class _Convolution(Layer):
    """What Conv2d and Deconv2d share: the window, making the weights and bias, the shape check
    and the repr. (Each adds its bias and its gradient where that is cheapest for it: Conv2d
    inside its matrix product's reordering, Deconv2d after it.)

    ``weight_shape`` is ``(C_out, C_in, k, k)`` for a Conv2d and ``(C_in, C_out, k, k)`` for a
    Deconv2d; either way the initializer sees the fans ``C_in*k*k`` and ``C_out*k*k``. A
    subclass gives :meth:`output_side`, the side of its output for an input side.
    """

    def __init__(self, c_in, c_out, k, stride, pad, weight_shape, *, init, bias, rng):
        super().__init__()
        check_window(type(self).__name__, k, stride, pad)
        self.c_in, self.c_out, self.k, self.stride, self.pad = c_in, c_out, k, stride, pad
        rng = initializers.as_rng(rng)
        self.add_param("W", initializers.resolve(init)(rng, weight_shape, c_in * k * k, c_out * k * k))
        if bias:
            self.add_param("b", initializers.zeros((c_out,)))

    def output_side(self, side):
        raise NotImplementedError

    def output_shape(self, input_shape):
        """``(B, C_out, Ho, Wo)`` for ``input_shape`` ``(B, C_in, H, W)``; a ShapeError for
        another number of channels or dimensions, or an input too small to give an output."""
        expected = f"(B, {self.c_in}, H, W)"
        if len(input_shape) != 4 or input_shape[1] != self.c_in:
            raise ShapeError(self, expected, input_shape)
        B, _, H, W = input_shape
        Ho, Wo = self.output_side(H), self.output_side(W)
        if Ho < 1 or Wo < 1:
            raise ShapeError(self, f"{expected} with H and W at least {self.smallest_side()}", input_shape)
        return (B, self.c_out, Ho, Wo)

    def smallest_side(self):
        """The smallest input side with an output (output sides grow with input sides)."""
        return next(side for side in itertools.count(1) if self.output_side(side) >= 1)

    def __repr__(self):
        return f"{type(self).__name__}({self.c_in}, {self.c_out}, k={self.k}, stride={self.stride}, pad={self.pad})"


class Conv2d(_Convolution):
    """2-D convolution (cross-correlation), as torch ``Conv2d``.

    ``y[n, o, u, v] = b[o] + sum_{c, i, j} W[o, c, i, j] * x_pad[n, c, s*u + i, s*v + j]`` (``b``: the bias)

    Shapes: ``x (B, C_in, H, W)``, ``W (C_out, C_in, k, k)``, ``b (C_out,)``,
    ``y (B, C_out, Ho, Wo)`` with ``Ho = (H + 2*pad - k) // stride + 1`` (``Wo`` likewise).

    Backward, with ``Wm = W.reshape(C_out, C_in*k*k)``, ``gy = dL/dy`` as the matrix
    ``gym (C_out, Ho*Wo*B)`` and ``col = im2col(x)`` saved by the forward:

    * ``dL/dW = gym · colm^T``                 (C_out, C_in*k*k)
    * ``dL/db = sum over n, u, v of gy``       (C_out,)
    * ``dL/dx = col2im(Wm^T · gym)``           (B, C_in, H, W)

    Naive twin: :func:`minnet.layers.naive.conv2d` and ``conv2d_backward``, one loop over every
    connection between an input and an output pixel. Here :func:`~minnet.layers.im2col.im2col`
    first copies every window into a column (batch-last, so the copies run over contiguous rows
    whatever the channel count), and the seven nested loops become one matrix product, what
    BLAS and GPUs do fastest; the copies are shared among threads on the CPU
    (:mod:`minnet.speed.threads`) and are one CUDA kernel each on the GPU
    (:mod:`minnet.speed.kernels`); the backward writes ``Wm^T · gym`` into the saved ``col``
    rather than a fresh array of that size.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    k, stride, pad : int
        Kernel side, stride and zero padding.
    init : str or callable
        Initializer of ``W`` (see :mod:`minnet.init`), given the fans ``c_in*k*k`` and ``c_out*k*k``.
    bias : bool
        Whether the layer has ``b`` (zeros at the start).
    rng : int, numpy.random.Generator or None
        Seed or generator of the initial weights.
    """

    def __init__(self, c_in, c_out, k, stride=1, pad=0, *, init="glorot", bias=True, rng=None):
        super().__init__(c_in, c_out, k, stride, pad, (c_out, c_in, k, k), init=init, bias=bias, rng=rng)

    def output_side(self, side):
        """``(side + 2*pad - k) // stride + 1``, or less than 1 when the kernel does not fit."""
        return window_positions(side, self.k, self.stride, self.pad)

    def forward(self, x):
        self.output_shape(x.shape)  # a ShapeError for an input the layer cannot take
        col = im2col(x, self.k, self.stride, self.pad)
        y = correlate(col, self.params["W"], self.params.get("b"))
        if self.training:
            self.push(col, x.shape)
        return y

    def backward(self, gy):
        col, x_shape = self.pop()
        gy_matrix = as_channel_matrix(gy)
        if self.param_grads:
            self.grads["W"] += kernel_gradient(gy_matrix, col)  # dL/dW = gym · colm^T
            if "b" in self.grads:
                self.grads["b"] += gy_matrix.sum(axis=1)  # dL/db = gy summed over n, u, v: rows of gym
        # dL/dx = col2im(Wm^T · gym); col is used up, so Wm^T · gym overwrites it
        return correlate_adjoint(gy_matrix, self.params["W"], x_shape, self.stride, self.pad, out=col)


class Deconv2d(_Convolution):
    """2-D transposed convolution, as torch ``ConvTranspose2d``: the adjoint of a Conv2d.

    ``y[n, o, s*h + i - p, s*w + j - p] += sum_c x[n, c, h, w] * W[c, o, i, j]``, plus the bias ``b[o]``;
    in matrix form ``y = col2im(Wm^T · xm)`` with ``Wm = W.reshape(C_in, C_out*k*k)``.

    Shapes: ``x (B, C_in, H, W)``, ``W (C_in, C_out, k, k)``, ``b (C_out,)``,
    ``y (B, C_out, Ho, Wo)`` with ``Ho = (H - 1)*stride - 2*pad + k + output_padding``.
    ``output_padding`` (less than ``stride``) adds rows and columns at the bottom and right that
    no input reaches, to choose between the output sizes that a stride-s Conv2d maps to ``H``.

    Backward, with ``gy = dL/dy`` and ``col = im2col(gy)``:

    * ``dL/dx = Wm · colm``, a Conv2d forward  (B, C_in, H, W)
    * ``dL/dW = xm · colm^T``                  (C_in, C_out*k*k)
    * ``dL/db = sum over n, u, v of gy``       (C_out,)

    Naive twin: :func:`minnet.layers.naive.conv_transpose2d` and ``conv_transpose2d_backward``,
    which scatter each input pixel over a k x k patch of the output. Here the forward is a
    Conv2d's input gradient, a matrix product and then ``col2im``, which gathers the patches
    (each output pixel sums what reaches it), so on the GPU no two threads write one pixel;
    the backward is a Conv2d forward, im2col and one product, as in :class:`Conv2d`.

    Parameters
    ----------
    c_in, c_out : int
        Input and output channels.
    k, stride, pad : int
        Kernel side, stride and the padding cropped from each side of the output.
    init : str or callable
        Initializer of ``W`` (see :mod:`minnet.init`), given the fans ``c_in*k*k`` and ``c_out*k*k``.
    bias : bool
        Whether the layer has ``b`` (zeros at the start).
    rng : int, numpy.random.Generator or None
        Seed or generator of the initial weights.
    output_padding : int
        Extra rows and columns at the bottom and right, less than ``stride``.
    """

    def __init__(self, c_in, c_out, k, stride=1, pad=0, output_padding=0, *, init="glorot", bias=True, rng=None):
        super().__init__(c_in, c_out, k, stride, pad, (c_in, c_out, k, k), init=init, bias=bias, rng=rng)
        if not 0 <= output_padding < stride:
            raise ValueError(f"output_padding must be in [0, stride) = [0, {stride}), got {output_padding}")
        self.output_padding = output_padding

    def output_side(self, side):
        """``(side - 1)*stride - 2*pad + k + output_padding``."""
        return (side - 1) * self.stride - 2 * self.pad + self.k + self.output_padding

    def forward(self, x):
        y_shape = self.output_shape(x.shape)  # a ShapeError for an input the layer cannot take
        x_matrix = as_channel_matrix(x)
        y = correlate_adjoint(x_matrix, self.params["W"], y_shape, self.stride, self.pad)
        if "b" in self.params:
            y += self.params["b"][:, None, None]
        if self.training:
            self.push(x_matrix)
        return y

    def backward(self, gy):
        (x_matrix,) = self.pop()
        col = im2col(gy, self.k, self.stride, self.pad)
        if self.param_grads:
            self.grads["W"] += kernel_gradient(x_matrix, col)  # dL/dW = xm · colm^T
            if "b" in self.grads:
                self.grads["b"] += channel_sums(gy)  # dL/db = gy summed over n, u, v
        return correlate(col, self.params["W"])  # dL/dx = Wm · im2col(gy), a Conv2d forward

    def __repr__(self):
        extra = f", output_padding={self.output_padding})" if self.output_padding else ")"
        return super().__repr__()[:-1] + extra
