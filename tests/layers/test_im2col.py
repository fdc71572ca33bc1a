import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.layers.im2col import col2im, im2col, output_size, to_batch_first, to_batch_last
from minnet.speed import threads

# (B, C, H, W, k, stride, pad): odd sizes, strides above and below k, kernels 1..5
CASES = [
    (1, 1, 1, 1, 1, 1, 0),
    (2, 3, 5, 7, 3, 1, 1),
    (3, 2, 6, 5, 2, 2, 0),
    (2, 2, 7, 7, 4, 2, 1),
    (1, 3, 9, 8, 5, 3, 2),
    (2, 1, 5, 5, 1, 3, 0),  # stride larger than the kernel: some pixels are never seen
    (35, 10, 5, 4, 3, 2, 1),  # more images and channels than one slab of the CPU copies
]


def test_output_size():
    assert output_size(14, 4, 2, 1) == 7
    assert output_size(28, 5, 1, 2) == 28
    assert output_size(7, 3, 3, 0) == 2  # the last column is not covered
    assert output_size(3, 5, 1, 1) == 1  # 3 + 2*1 = 5 fits exactly
    with pytest.raises(ValueError, match="kernel size 5 is larger than the padded input"):
        output_size(2, 5, 1, 1)


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES)
def test_im2col_copies_window_pixels(xp, rng, B, C, H, W, k, stride, pad):
    x = rng.standard_normal((B, C, H, W))
    col = to_numpy(im2col(xp.asarray(x), k, stride, pad, fill=-7.0))
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-7.0)
    Ho, Wo = output_size(H, k, stride, pad), output_size(W, k, stride, pad)
    assert col.shape == (C, k, k, Ho, Wo, B)
    for c, i, j, y, x_, b in np.ndindex(col.shape):
        assert col[c, i, j, y, x_, b] == x_pad[b, c, stride * y + i, stride * x_ + j]


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES)
def test_col2im_is_the_adjoint_of_im2col(xp, rng, B, C, H, W, k, stride, pad):
    """<im2col(x), c> == <x, col2im(c)> for all x and c."""
    x = xp.asarray(rng.standard_normal((B, C, H, W)))
    col_shape = im2col(x, k, stride, pad).shape
    c = xp.asarray(rng.standard_normal(col_shape))
    lhs = float((im2col(x, k, stride, pad) * c).sum())
    rhs = float((x * col2im(c, x.shape, stride, pad)).sum())
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_col2im_counts_overlaps(xp):
    """Summing ones back onto the image counts the windows covering each pixel."""
    ones = xp.ones((1, 3, 3, 2, 2, 1))  # C=1, k=3, a 4x4 image, stride 1, no padding
    counts = to_numpy(col2im(ones, (1, 1, 4, 4), stride=1, pad=0))[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_float32_stays_float32(xp, rng):
    x = xp.asarray(rng.standard_normal((2, 3, 6, 6)), dtype=np.float32)
    col = im2col(x, 3, 2, 1)
    assert col.dtype == np.float32
    assert col2im(col, x.shape, 2, 1).dtype == np.float32


@pytest.mark.parametrize("k,stride,pad", [(1, 1, 0), (3, 2, 1)])
def test_im2col_returns_a_new_writable_array(xp, rng, k, stride, pad):
    """Conv2d's backward overwrites the col it saved, so im2col must never return a view of
    its input or of a buffer it reuses; k=1, stride 1, no padding is a pure reorder."""
    x = xp.asarray(rng.standard_normal((2, 3, 4, 5)))
    col = im2col(x, k, stride, pad)
    before = x.copy()
    col[...] = 0
    assert xp.array_equal(x, before)
    assert float(abs(im2col(x, k, stride, pad)).sum()) > 0


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES + [(3, 7, 9, 9, 3, 2, 1)])
def test_threads_give_the_same_result_as_one(three_threads, rng, B, C, H, W, k, stride, pad):
    """Channels shared out among threads (minnet.speed.threads) change nothing, not even rounding.

    Exact on purpose: the threads split the channels, never a sum, so col2im adds each pixel's
    terms in the same order (kernel offset by offset) however many threads there are."""
    x = rng.standard_normal((B, C, H, W))

    def lower_and_raise():
        col = im2col(x, k, stride, pad)
        return col, col2im(col, x.shape, stride, pad), to_batch_first(to_batch_last(x))

    split = lower_and_raise()  # three threads, however small the arrays
    threads.set_count(1)
    for got, want in zip(split, lower_and_raise(), strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(35, 10, 3, 2), (1, 1, 2, 3), (70, 17, 2, 2)])
def test_reorderings_are_transpositions(xp, rng, shape):
    """to_batch_last and to_batch_first against NumPy's transpose, over several copy slabs."""
    a = rng.standard_normal(shape)
    batch_last = to_numpy(to_batch_last(xp.asarray(a)))
    np.testing.assert_array_equal(batch_last, a.transpose(1, 2, 3, 0))
    np.testing.assert_array_equal(to_numpy(to_batch_first(xp.asarray(batch_last))), a)


def test_gpu_kernels_refuse_arrays_beyond_32_bit_indices():
    from types import SimpleNamespace

    from minnet.layers.im2col import check_32_bit

    check_32_bit(SimpleNamespace(size=2**31 - 1))
    with pytest.raises(ValueError, match="index in 32 bits: an array of 2147483648 elements is too large"):
        check_32_bit(SimpleNamespace(size=2**31))
