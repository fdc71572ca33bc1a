import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import ShapeError
from minnet.gradcheck import check_layer
from minnet.layers import naive
from minnet.layers.pooling import MaxPool2d

# (B, C, H, W, k, stride, pad): non-overlapping, overlapping (2x2 stride 1), gaps, odd sizes
CASES = [
    (2, 3, 6, 6, 2, None, 0),
    (2, 2, 5, 7, 2, 1, 0),
    (1, 3, 7, 6, 3, 2, 1),
    (2, 1, 9, 8, 3, 3, 1),
    (1, 2, 8, 9, 4, 2, 2),
    (2, 2, 7, 5, 1, 2, 0),
    (1, 1, 10, 9, 5, 3, 2),
]


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_maxpool_matches_naive(xp, rng, B, C, H, W, k, stride, pad, dtype):
    x = rng.standard_normal((B, C, H, W)).astype(dtype)
    y = MaxPool2d(k, stride, pad).eval().forward(xp.asarray(x))
    assert y.dtype == dtype
    np.testing.assert_array_equal(to_numpy(y), naive.max_pool2d(x, k, stride or k, pad))


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES)
def test_maxpool_gradients(xp, rng, B, C, H, W, k, stride, pad):
    # continuous random inputs: no ties, and no two values within eps of each other
    check_layer(MaxPool2d(k, stride, pad), xp.asarray(rng.standard_normal((B, C, H, W))))


@pytest.mark.parametrize("B,C,H,W,k,stride,pad", CASES + [(4, 5, 24, 24, 2, 1, 0)])
def test_maxpool_with_ties_matches_naive(xp, rng, B, C, H, W, k, stride, pad):
    """Few distinct values, so many windows tie: forward and backward against the loops.

    On the GPU this checks the fused kernels against the same reference as the NumPy path.
    """
    x = rng.integers(0, 3, size=(B, C, H, W)).astype(np.float32)
    gy_shape = naive.max_pool2d(x, k, stride or k, pad).shape
    gy = rng.standard_normal(gy_shape).astype(np.float32)
    pool = MaxPool2d(k, stride, pad)
    y = pool.forward(xp.asarray(x))
    gx = pool.backward(xp.asarray(gy))
    np.testing.assert_array_equal(to_numpy(y), naive.max_pool2d(x, k, stride or k, pad))
    expected = naive.max_pool2d_backward(x, gy, k, stride or k, pad)
    np.testing.assert_allclose(to_numpy(gx), expected, rtol=1e-6, atol=1e-6)


def test_overlapping_windows_accumulate(xp):
    """A pixel that wins several overlapping windows receives the sum of their gradients."""
    x = xp.asarray([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [2.0, 0.0, 3.0]]]])
    pool = MaxPool2d(2, stride=1)
    np.testing.assert_array_equal(to_numpy(pool.forward(x))[0, 0], [[9, 9], [9, 9]])
    gy = xp.asarray([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_array_equal(to_numpy(pool.backward(gy))[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])


def test_ties_go_to_the_first_maximum(xp):
    x = xp.asarray([[[[5.0, 5.0], [5.0, 5.0]], [[0.0, 1.0], [1.0, 1.0]]]])  # (1, 2, 2, 2)
    pool = MaxPool2d(2)
    pool.forward(x)
    gx = to_numpy(pool.backward(xp.ones((1, 2, 1, 1))))
    np.testing.assert_array_equal(gx[0, 0], [[1, 0], [0, 0]])
    np.testing.assert_array_equal(gx[0, 1], [[0, 1], [0, 0]])


def test_padding_is_never_the_maximum(xp):
    x = -xp.ones((1, 1, 2, 2))
    y = MaxPool2d(2, stride=1, pad=1).eval().forward(x)
    np.testing.assert_array_equal(to_numpy(y), -np.ones((1, 1, 3, 3)))


def test_maxpool_output_shape_and_default_stride(xp):
    assert MaxPool2d(2).forward(xp.zeros((3, 5, 24, 24))).shape == (3, 5, 12, 12)
    assert MaxPool2d(2, 1).forward(xp.zeros((3, 5, 24, 24))).shape == (3, 5, 23, 23)
    assert MaxPool2d(3, 2, 1).forward(xp.zeros((3, 5, 7, 8))).shape == (3, 5, 4, 4)


def test_maxpool_rejects_bad_inputs(xp):
    with pytest.raises(ValueError, match=r"expects input of shape \(B, C, H, W\), got \(5, 8, 8\)"):
        MaxPool2d(2).forward(xp.zeros((5, 8, 8)))
    with pytest.raises(ShapeError, match=r"with H and W at least 3, got \(1, 1, 2, 8\)"):
        MaxPool2d(3).forward(xp.zeros((1, 1, 2, 8)))
    with pytest.raises(ValueError, match=r"padding must be in \[0, k // 2\]"):
        MaxPool2d(2, pad=2)


def test_an_impossible_window_is_refused():
    with pytest.raises(ValueError, match="k >= 1, stride >= 1"):
        MaxPool2d(2, stride=0)
