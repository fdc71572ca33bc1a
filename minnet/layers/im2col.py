"""im2col and col2im: the two data movements that turn convolution into one matrix product.

A k x k kernel sliding with stride ``s`` over an image zero-padded by ``p`` pixels on each side
visits ``Ho x Wo`` positions, where

    Ho = (H + 2p - k) // s + 1,        Wo = (W + 2p - k) // s + 1.

``im2col`` copies the pixels under every window position into one column each:

    col[c, i, j, u, v, n] = x_pad[n, c, s*u + i, s*v + j]          col: (C, k, k, Ho, Wo, B)

so that, reshaped without copying into a (C*k*k, Ho*Wo*B) matrix, a convolution is the product
of the (C_out, C*k*k) weight matrix with it. ``col2im`` is its adjoint: it adds every entry of
such a column array back onto the pixel it was copied from,

    img_pad[n, c, s*u + i, s*v + j] += col[c, i, j, u, v, n]     for all c, i, j, u, v, n,

and crops the padding. A pixel covered by several windows (k > s) receives the sum of its
copies, which is exactly what back-propagating through the copy requires.

Why this layout. Channels and kernel offsets lead, so the matrix the product needs is a plain
reshape. The batch is the innermost axis, so on the CPU both the copy in ``im2col`` and the
additions in ``col2im`` run over contiguous rows of B numbers whatever the number of channels
(a layer with one input channel is as fast per element as one with 64). The price is one
transposition between NCHW and batch-last at each end (:func:`to_batch_last`,
:func:`to_batch_first`), which is cheap next to the rest. On the benchmark layer (B=128,
64 -> 128 channels, k=4, s=2, 14x14), forward and backward together were about 15% faster
than with the batch leading, (C, k, k, B, Ho, Wo), and as fast as channels-last rows
(B*Ho*Wo, C*k*k), which are slow when C is small.

CPU: ``im2col`` pads into a batch-last buffer, takes a ``sliding_window_view`` of it (no copy)
and copies that once; ``col2im`` adds k*k strided slices, one per kernel offset. Both, and the
two reorderings, share the channels out among threads (:mod:`minnet.speed.threads`), since NumPy
copies on one core while the matrix products use them all.
GPU (CuPy): one kernel each (:mod:`minnet.speed.kernels`). ``col2im`` *gathers* — each image pixel
sums the column entries that came from it — so no two threads write the same address and no
atomics are needed; its threads run over the pixels batch-last, so that the reads of ``col``
(four per pixel for k=4, s=2) are coalesced and only the one write per pixel is strided.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minnet.backend import xp_of
from minnet.speed import kernels, threads


def window_positions(size, k, stride, pad):
    """``(size + 2*pad - k) // stride + 1``: the positions of a window along one axis, the side
    of a convolution's or pooling's output; 0 or less when the kernel does not fit."""
    return (size + 2 * pad - k) // stride + 1


def output_size(size, k, stride, pad):
    """:func:`window_positions`, raising ``ValueError`` when the kernel does not fit in the padded input."""
    if k > size + 2 * pad:
        raise ValueError(f"kernel size {k} is larger than the padded input ({size} + 2*{pad} = {size + 2 * pad})")
    return window_positions(size, k, stride, pad)


def check_window(layer, k, stride, pad):
    """Refuse a window geometry no layer can use: ``k`` and ``stride`` at least 1, ``pad`` at least 0."""
    if not (k >= 1 and stride >= 1 and pad >= 0):
        raise ValueError(f"{layer} needs k >= 1, stride >= 1 and pad >= 0, got k={k}, stride={stride}, pad={pad}")


def im2col(x, k, stride=1, pad=0, fill=0.0):
    """Lower image windows to columns.

    Parameters
    ----------
    x : array (B, C, H, W)
    k, stride, pad : int
        Kernel size, stride and padding (the same along both axes).
    fill : float
        Value of the padding pixels: 0 for convolution, ``-inf`` for max pooling.

    Returns
    -------
    col : array (C, k, k, Ho, Wo, B), C-contiguous, same dtype as ``x``
        ``col[c, i, j, u, v, n] = x_pad[n, c, stride*u + i, stride*v + j]``. A new, writable
        array that shares memory with nothing, so its owner may overwrite it once done with it.
    """
    B, C, H, W = x.shape
    Ho, Wo = output_size(H, k, stride, pad), output_size(W, k, stride, pad)  # checks k fits
    if xp_of(x) is np:
        return _im2col_cpu(x, k, stride, pad, fill)
    return _im2col_gpu(x, k, stride, pad, fill, Ho, Wo)


def col2im(col, image_shape, stride=1, pad=0):
    """Sum columns back onto the image they were taken from (the adjoint of :func:`im2col`).

    Parameters
    ----------
    col : array (C, k, k, Ho, Wo, B)
    image_shape : tuple (B, C, H, W)
        Shape of the un-padded image; ``Ho, Wo`` must be its :func:`output_size`.
    stride, pad : int

    Returns
    -------
    img : array (B, C, H, W), C-contiguous
        ``img[n, c, h, w] = sum of col[c, i, j, u, v, n] over all (i, j, u, v) with
        stride*u + i - pad == h and stride*v + j - pad == w``.
    """
    if xp_of(col) is np:
        return _col2im_cpu(col, image_shape, stride, pad)
    return _col2im_gpu(col, image_shape, stride, pad)


def to_batch_last(a, out=None):
    """Copy ``a (B, C, H, W)`` into batch-last order ``(C, H, W, B)``: the order of ``col``.

    Writes into ``out`` (any view of that shape, e.g. the interior of a padded buffer) when
    given, else into a new array, and returns it. On the CPU the channels are shared out
    among threads (:mod:`minnet.speed.threads`); on the GPU it is one transposed copy.
    """
    xp = xp_of(a)
    if out is None:
        out = xp.empty(a.shape[1:] + a.shape[:1], dtype=a.dtype)
    if xp is not np:
        out[...] = a.transpose(1, 2, 3, 0)
        return out

    def copy(c0, c1):
        _copy_to_batch_last(a[:, c0:c1], out[c0:c1])

    threads.for_each_range(copy, a.shape[1], item_size=a[:, 0].size)
    return out


def to_batch_first(a, out=None, bias=None):
    """Copy ``a (C, H, W, B)`` (a view is fine) into batch-first order ``(B, C, H, W)``.

    The inverse of :func:`to_batch_last`: writes into ``out`` when given, else into a new
    C-contiguous array, and returns it. Threaded over channels on the CPU, like it. With
    ``bias (C,)``, adds ``bias[c]`` to channel ``c`` (on the GPU in the same pass as the copy).
    """
    xp = xp_of(a)
    if out is None:
        out = xp.empty(a.shape[3:] + a.shape[:3], dtype=a.dtype)
    if xp is not np:
        if bias is None:
            out[...] = a.transpose(3, 0, 1, 2)
        else:
            xp.add(a.transpose(3, 0, 1, 2), bias[:, None, None], out=out)
        return out

    def copy(c0, c1):
        _copy_to_batch_first(a[c0:c1], out[:, c0:c1])

    threads.for_each_range(copy, a.shape[0], item_size=a[0].size)
    if bias is not None:
        out += bias[:, None, None]
    return out


def _copy_to_batch_last(a, out):
    """``out[...] = a.transpose(1, 2, 3, 0)`` on one thread, a slab of the batch at a time.

    A plain transposed copy reads, for each run of B numbers it writes, B addresses a whole
    image apart. Copying 32 images at a time keeps what is read in cache, which made this copy
    about twice as fast.
    """
    for start in range(0, len(a), _BATCH_SLAB):
        out[..., start : start + _BATCH_SLAB] = a[start : start + _BATCH_SLAB].transpose(1, 2, 3, 0)


def _copy_to_batch_first(a, out):
    """``out[...] = a.transpose(3, 0, 1, 2)`` on one thread, a few channels at a time (as above)."""
    for start in range(0, len(a), _CHANNEL_SLAB):
        out[:, start : start + _CHANNEL_SLAB] = a[start : start + _CHANNEL_SLAB].transpose(3, 0, 1, 2)


# Slab sizes for the CPU copies above, measured on (128, 64, 14, 14) float32 images.
_BATCH_SLAB = 32
_CHANNEL_SLAB = 8


# -- CPU (NumPy) ---------------------------------------------------------------------------
# Both functions work channel by channel: the channels' pixels never mix, so threads each take
# a range of channels and write disjoint parts of the padded buffer and of the result.


def _im2col_cpu(x, k, stride, pad, fill):
    B, C, H, W = x.shape
    Ho, Wo = output_size(H, k, stride, pad), output_size(W, k, stride, pad)
    padded = np.empty((C, H + 2 * pad, W + 2 * pad, B), dtype=x.dtype)
    col = np.empty((C, k, k, Ho, Wo, B), dtype=x.dtype)

    def lower(c0, c1):
        slab = padded[c0:c1]
        if pad:  # fill the border only: the copy below writes the interior
            slab[:, :pad], slab[:, -pad:], slab[:, :, :pad], slab[:, :, -pad:] = fill, fill, fill, fill
        _copy_to_batch_last(x[:, c0:c1], slab[:, pad : pad + H, pad : pad + W, :])
        # windows[c, y0, x0, b, i, j] = slab[c, y0 + i, x0 + j, b]: every stride-1 window, no copy
        windows = sliding_window_view(slab, (k, k), axis=(1, 2))
        col[c0:c1] = windows[:, ::stride, ::stride].transpose(0, 4, 5, 1, 2, 3)  # (c, k, k, Ho, Wo, B)

    threads.for_each_range(lower, C, item_size=col[0].size)
    return col


def _col2im_cpu(col, image_shape, stride, pad):
    B, C, H, W = image_shape
    _, k, _, Ho, Wo, _ = col.shape
    padded = np.empty((C, H + 2 * pad, W + 2 * pad, B), dtype=col.dtype)
    img = np.empty(image_shape, dtype=col.dtype)

    def accumulate(c0, c1):
        slab = padded[c0:c1]
        slab.fill(0)
        for i in range(k):
            for j in range(k):
                # the pixels that kernel offset (i, j) saw: rows i, i+s, ..., columns j, j+s, ...
                slab[:, i : i + stride * Ho : stride, j : j + stride * Wo : stride, :] += col[c0:c1, i, j]
        _copy_to_batch_first(slab[:, pad : pad + H, pad : pad + W, :], img[:, c0:c1])

    threads.for_each_range(accumulate, C, item_size=col[0].size)
    return img


# -- GPU (CuPy) ----------------------------------------------------------------------------
# Index arithmetic is in 32 bits (64-bit division is several times slower on a GPU):
# _check_32_bit refuses arrays of 2**31 elements or more.

IM2COL_KERNEL = kernels.elementwise(
    "minnet_im2col",
    "raw T x, int32 C, int32 H, int32 W, int32 k, int32 Ho, int32 Wo, int32 B, int32 stride, int32 pad, T fill",
    "T col",
    r"""
    // i runs over col (C, k, k, Ho, Wo, B) in C order, so neighbouring threads write
    // neighbouring addresses; read the pixel this entry copies.
    unsigned int r = i;
    const int b = r % B;   r /= B;
    const int ox = r % Wo; r /= Wo;
    const int oy = r % Ho; r /= Ho;
    const int kx = r % k;  r /= k;
    const int ky = r % k;  r /= k;
    const int c = r;
    const int h = oy * stride + ky - pad;
    const int w = ox * stride + kx - pad;
    col = (0 <= h && h < H && 0 <= w && w < W) ? x[((b * C + c) * H + h) * W + w] : fill;
    """,
    scalars="C, H, W, k, Ho, Wo, B, stride, pad, fill",
)

COL2IM_KERNEL = kernels.elementwise(
    "minnet_col2im",
    "raw T col, int32 C, int32 H, int32 W, int32 k, int32 Ho, int32 Wo, int32 B, int32 stride, int32 pad",
    "raw T img",
    r"""
    // i runs over the pixels in batch-last order (C, H, W, B), so neighbouring threads read
    // neighbouring column entries; each sums every entry copied from its pixel (a gather: no
    // two threads write the same address) and stores it at img[b, c, h, w].
    unsigned int r = i;
    const int b = r % B; r /= B;
    const int w = r % W; r /= W;
    const int h = r % H; r /= H;
    const int c = r;
    T sum = 0;
    for (int ky = 0; ky < k; ++ky) {
        const int ty = h + pad - ky;               // = stride * oy when offset ky saw row h
        if (ty < 0 || ty % stride != 0 || ty / stride >= Ho) continue;
        const int oy = ty / stride;
        for (int kx = 0; kx < k; ++kx) {
            const int tx = w + pad - kx;
            if (tx < 0 || tx % stride != 0 || tx / stride >= Wo) continue;
            const int ox = tx / stride;
            sum += col[((((c * k + ky) * k + kx) * Ho + oy) * Wo + ox) * B + b];
        }
    }
    img[((b * C + c) * H + h) * W + w] = sum;
    """,
    scalars="C, H, W, k, Ho, Wo, B, stride, pad",
)


def check_32_bit(*arrays):
    """Refuse arrays too large for the GPU kernels' 32-bit index arithmetic."""
    for a in arrays:
        if a.size >= 2**31:
            raise ValueError(f"the GPU kernels index in 32 bits: an array of {a.size} elements is too large")


def _im2col_gpu(x, k, stride, pad, fill, Ho, Wo):
    import cupy

    B, C, H, W = x.shape
    x = cupy.ascontiguousarray(x)
    col = cupy.empty((C, k, k, Ho, Wo, B), dtype=x.dtype)
    check_32_bit(col, x)
    IM2COL_KERNEL(x, C, H, W, k, Ho, Wo, B, stride, pad, x.dtype.type(fill), col)
    return col


def _col2im_gpu(col, image_shape, stride, pad):
    import cupy

    B, C, H, W = image_shape
    _, k, _, Ho, Wo, _ = col.shape
    col = cupy.ascontiguousarray(col)
    img = cupy.empty(image_shape, dtype=col.dtype)
    check_32_bit(col, img)
    COL2IM_KERNEL(col, C, H, W, k, Ho, Wo, B, stride, pad, img, size=img.size)
    return img
