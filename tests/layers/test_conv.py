import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import ShapeError
from minnet.gradcheck import check_layer
from minnet.layers import naive
from minnet.layers.base import evaluating
from minnet.layers.conv import Conv2d, Deconv2d

# (B, C_in, C_out, H, W, k, stride, pad): odd image sizes, kernels 1..5, strides 1..3, pads 0..2
CASES = [
    (1, 1, 1, 3, 3, 1, 1, 0),
    (2, 2, 3, 5, 4, 3, 1, 1),
    (2, 3, 2, 6, 7, 2, 2, 0),
    (1, 2, 2, 7, 7, 4, 2, 1),
    (2, 1, 3, 5, 6, 5, 3, 2),
    (1, 2, 1, 4, 5, 3, 3, 2),
]


def make(layer_class, xp, rng, C_in, C_out, k, stride, pad, dtype=np.float64, **kw):
    """A layer in ``dtype`` with a nonzero bias, so its gradient is exercised too."""
    layer = layer_class(C_in, C_out, k, stride, pad, rng=rng, **kw).astype(dtype)
    layer.params["b"][...] = xp.asarray(rng.standard_normal(C_out))
    return layer


def normal(xp, rng, shape, dtype=np.float64):
    return xp.asarray(rng.standard_normal(shape), dtype=dtype)


# -- Conv2d --------------------------------------------------------------------------------


@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_conv_gradients(xp, rng, B, C_in, C_out, H, W, k, stride, pad):
    layer = make(Conv2d, xp, rng, C_in, C_out, k, stride, pad)
    check_layer(layer, normal(xp, rng, (B, C_in, H, W)))


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_conv_matches_naive(xp, rng, B, C_in, C_out, H, W, k, stride, pad, dtype, tol):
    layer = make(Conv2d, xp, rng, C_in, C_out, k, stride, pad, dtype).eval()
    x = normal(xp, rng, (B, C_in, H, W), dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    W_, b = (to_numpy(layer.params[name]).astype(np.float64) for name in ("W", "b"))
    expected = naive.conv2d(to_numpy(x).astype(np.float64), W_, b, stride, pad)
    np.testing.assert_allclose(to_numpy(y), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "H,k,stride,pad,expected", [(28, 4, 2, 1, 14), (14, 4, 2, 1, 7), (28, 5, 1, 2, 28), (7, 3, 3, 0, 2)]
)
def test_conv_output_shape(xp, H, k, stride, pad, expected):
    layer = Conv2d(2, 3, k, stride, pad)
    assert layer.forward(xp.zeros((4, 2, H, H), dtype=np.float32)).shape == (4, 3, expected, expected)


def test_conv_float32_backward_stays_float32(xp, rng):
    layer = Conv2d(3, 4, 3, 2, 1, rng=rng)
    x = normal(xp, rng, (2, 3, 7, 7), np.float32)
    y = layer.forward(x)
    gx = layer.backward(xp.ones_like(y))
    assert y.dtype == gx.dtype == layer.grads["W"].dtype == np.float32


def test_conv_without_bias(xp, rng):
    layer = Conv2d(2, 3, 3, bias=False, rng=rng).astype(np.float64)
    assert set(layer.params) == {"W"}
    check_layer(layer, normal(xp, rng, (2, 2, 4, 4)))


def test_deconv_without_bias(xp, rng):
    layer = Deconv2d(2, 3, 3, 2, 1, bias=False, rng=rng).astype(np.float64)
    assert set(layer.params) == {"W"}
    check_layer(layer, normal(xp, rng, (2, 2, 4, 4)))


def test_conv_shared_weights_accumulate(xp, rng):
    """Two forwards then two backwards give the sum of the two weight gradients."""
    layer = make(Conv2d, xp, rng, 2, 3, 3, 1, 1)
    x1, x2 = normal(xp, rng, (2, 2, 5, 5)), normal(xp, rng, (2, 2, 5, 5))
    gy = normal(xp, rng, (2, 3, 5, 5))
    single = []
    for x in (x1, x2):
        layer.zero_grad()
        layer.forward(x)
        layer.backward(gy)
        single.append(layer.grads["W"].copy())
    layer.zero_grad()
    layer.forward(x1)
    layer.forward(x2)
    layer.backward(gy)
    layer.backward(gy)
    assert xp.allclose(layer.grads["W"], single[0] + single[1])


def test_conv_backward_reuses_only_its_own_col(xp, rng):
    """Backward writes Wm^T · gym into the col it popped: with two forwards pending, each
    backward must still see its own col intact and give what a lone forward/backward gives."""
    layer = make(Conv2d, xp, rng, 2, 3, 4, 2, 1)
    xs = [normal(xp, rng, (2, 2, 6, 7)) for _ in range(2)]
    gys = [normal(xp, rng, (2, 3, 3, 3)) for _ in range(2)]
    alone = []
    for x, gy in zip(xs, gys):
        layer.zero_grad()
        layer.forward(x)
        alone.append((layer.backward(gy), {name: g.copy() for name, g in layer.grads.items()}))
    layer.zero_grad()
    for x in xs:
        layer.forward(x)
    gx_second, gx_first = layer.backward(gys[1]), layer.backward(gys[0])
    assert xp.allclose(gx_first, alone[0][0]) and xp.allclose(gx_second, alone[1][0])
    for name, g in layer.grads.items():
        assert xp.allclose(g, alone[0][1][name] + alone[1][1][name])


def test_conv_rejects_bad_inputs(xp):
    layer = Conv2d(3, 4, 5, pad=1)
    with pytest.raises(ValueError, match=r"expects input of shape \(B, 3, H, W\), got \(3, 8, 8\)"):
        layer.forward(xp.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match=r"expects input of shape \(B, 3, H, W\), got \(2, 1, 8, 8\)"):
        layer.forward(xp.zeros((2, 1, 8, 8)))
    with pytest.raises(ShapeError, match=r"with H and W at least 3, got \(2, 3, 2, 8\)"):
        layer.forward(xp.zeros((2, 3, 2, 8)))


# -- Deconv2d ------------------------------------------------------------------------------


@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_deconv_gradients(xp, rng, B, C_in, C_out, H, W, k, stride, pad):
    layer = make(Deconv2d, xp, rng, C_in, C_out, k, stride, pad)
    # a small input: the deconv's output is about stride times larger per side
    check_layer(layer, normal(xp, rng, (B, C_in, (H + 1) // 2, (W + 1) // 2)))


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_deconv_matches_naive(xp, rng, B, C_in, C_out, H, W, k, stride, pad, dtype, tol):
    layer = make(Deconv2d, xp, rng, C_in, C_out, k, stride, pad, dtype).eval()
    x = normal(xp, rng, (B, C_in, H, W), dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    W_, b = (to_numpy(layer.params[name]).astype(np.float64) for name in ("W", "b"))
    expected = naive.conv_transpose2d(to_numpy(x).astype(np.float64), W_, b, stride, pad)
    np.testing.assert_allclose(to_numpy(y), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("stride,output_padding", [(2, 1), (3, 2)])
def test_deconv_output_padding(xp, rng, stride, output_padding):
    layer = make(Deconv2d, xp, rng, 2, 3, 3, stride, 1, output_padding=output_padding)
    x = normal(xp, rng, (2, 2, 4, 3))
    W_, b = (to_numpy(layer.params[name]) for name in ("W", "b"))
    expected = naive.conv_transpose2d(to_numpy(x), W_, b, stride, 1, output_padding)
    with evaluating(layer):
        np.testing.assert_allclose(to_numpy(layer.forward(x)), expected, rtol=1e-12)
    check_layer(layer, x)


@pytest.mark.parametrize(
    "H,k,stride,pad,expected", [(7, 4, 2, 1, 14), (14, 4, 2, 1, 28), (28, 5, 1, 2, 28), (3, 3, 3, 0, 9)]
)
def test_deconv_output_shape(xp, H, k, stride, pad, expected):
    """out = (in - 1) * stride - 2 * pad + k."""
    layer = Deconv2d(2, 3, k, stride, pad)
    x = xp.zeros((4, 2, H, H), dtype=np.float32)
    assert layer.output_shape(x.shape) == (4, 3, expected, expected)
    assert layer.forward(x).shape == (4, 3, expected, expected)


def test_deconv_rejects_bad_inputs(xp):
    layer = Deconv2d(3, 4, 2, stride=1, pad=1)
    with pytest.raises(ValueError, match=r"expects input of shape \(B, 3, H, W\), got \(2, 4, 5, 5\)"):
        layer.forward(xp.zeros((2, 4, 5, 5)))
    with pytest.raises(ShapeError, match=r"with H and W at least 2, got \(2, 3, 1, 5\)"):
        layer.forward(xp.zeros((2, 3, 1, 5)))
    with pytest.raises(ValueError, match="output_padding must be in"):
        Deconv2d(3, 4, 3, stride=2, output_padding=2)


# -- the duality ---------------------------------------------------------------------------


def assert_adjoint(xp, rng, conv, deconv, x_shape):
    """<conv(x), y> == <x, deconv(y)> for random x of ``x_shape`` and y."""
    x = normal(xp, rng, x_shape)
    conv_x = conv.eval().forward(x)
    y = normal(xp, rng, conv_x.shape)
    deconv_y = deconv.eval().forward(y)
    assert deconv_y.shape == x.shape
    assert float((conv_x * y).sum()) == pytest.approx(float((x * deconv_y).sum()), rel=1e-12)


@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_deconv_is_the_adjoint_of_conv(xp, rng, B, C_in, C_out, H, W, k, stride, pad):
    """With shared W and no bias, Deconv2d(C_out, C_in) is the adjoint of Conv2d(C_in, C_out)
    on the images it produces, of size (Ho - 1)*stride - 2*pad + k."""
    conv = Conv2d(C_in, C_out, k, stride, pad, bias=False).astype(np.float64)
    deconv = Deconv2d(C_out, C_in, k, stride, pad, bias=False).astype(np.float64)
    deconv.params["W"] = conv.params["W"]  # (C_out, C_in, k, k) serves both layouts
    Ho, Wo = ((n + 2 * pad - k) // stride + 1 for n in (H, W))
    assert_adjoint(xp, rng, conv, deconv, deconv.output_shape((B, C_out, Ho, Wo)))


@pytest.mark.parametrize("H,k,stride,pad", [(8, 3, 2, 1), (9, 2, 3, 0), (6, 3, 3, 1)])
def test_deconv_with_output_padding_is_the_adjoint_of_conv(xp, rng, H, k, stride, pad):
    """output_padding = (H + 2*pad - k) % stride restores the rows a strided conv reads last
    but an output_padding=0 deconv would not produce."""
    leftover = (H + 2 * pad - k) % stride
    assert leftover > 0
    conv = Conv2d(2, 3, k, stride, pad, bias=False).astype(np.float64)
    deconv = Deconv2d(3, 2, k, stride, pad, leftover, bias=False).astype(np.float64)
    deconv.params["W"] = conv.params["W"]
    assert_adjoint(xp, rng, conv, deconv, (2, 2, H, H))


@pytest.mark.parametrize("make", [Conv2d, Deconv2d])
@pytest.mark.parametrize("k,stride,pad", [(0, 1, 0), (3, 0, 1), (3, 1, -1)])
def test_impossible_windows_are_refused(make, k, stride, pad):
    with pytest.raises(ValueError, match="k >= 1, stride >= 1 and pad >= 0"):
        make(2, 3, k, stride, pad)


@pytest.mark.parametrize("make_layer,reference", [(Conv2d, naive.conv2d), (Deconv2d, naive.conv_transpose2d)])
def test_threaded_copies_match_naive(three_threads, rng, make_layer, reference):
    """With the copies split among three threads, the layers still match the naive loops."""
    layer = make_layer(6, 5, 4, 2, 1, rng=rng).astype(np.float64).eval()
    x = rng.standard_normal((3, 6, 7, 7))
    W_, b = layer.params["W"], layer.params["b"]
    np.testing.assert_allclose(layer.forward(x), reference(x, W_, b, 2, 1), rtol=1e-10, atol=1e-12)
