"""DRAW's attention: the filterbank against its Gaussians written out, gradient checks, errors."""

import math

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.gradcheck import check
from minnet.layers.attention import Filterbank, Read, Write, initial_window
from minnet.layers.base import evaluating

WINDOWS = [(2, 5, 4), (3, 6, 6), (5, 4, 7)]  # (N, H, W)


def window_parameters(xp, rng, batch):
    """Attention parameters around a centred window, so the filters land on the image."""
    p = rng.standard_normal((batch, 5)) * 0.3
    p[:, 2] += 0.5  # sigma of about 1.3 pixels
    return xp.asarray(p)


def direct_filterbank(p, n, height, width):
    """Eqs. 19-26 one filter and one pixel at a time, 1-based as in the paper."""
    batch = len(p)
    f_x, f_y = np.zeros((batch, n, width)), np.zeros((batch, n, height))
    for b in range(batch):
        g_x = (width + 1) / 2 * (p[b, 0] + 1)
        g_y = (height + 1) / 2 * (p[b, 1] + 1)
        sigma2 = math.exp(p[b, 2])
        delta = (max(height, width) - 1) / (n - 1) * math.exp(p[b, 3])
        for i in range(1, n + 1):
            mu_x = g_x + (i - n / 2 - 0.5) * delta
            mu_y = g_y + (i - n / 2 - 0.5) * delta
            for a in range(1, width + 1):
                f_x[b, i - 1, a - 1] = math.exp(-((a - mu_x) ** 2) / (2 * sigma2))
            for a in range(1, height + 1):
                f_y[b, i - 1, a - 1] = math.exp(-((a - mu_y) ** 2) / (2 * sigma2))
    f_x /= f_x.sum(axis=2, keepdims=True)
    f_y /= f_y.sum(axis=2, keepdims=True)
    return f_x, f_y, np.exp(p[:, 4])


@pytest.mark.parametrize("n,height,width", WINDOWS)
def test_filterbank_is_the_papers_gaussians(xp, rng, n, height, width):
    p = window_parameters(xp, rng, 3)
    f_x, f_y, gamma = Filterbank(n, height, width).eval().forward(p)
    expected = direct_filterbank(to_numpy(p), n, height, width)
    for got, want in zip((f_x, f_y, gamma), expected):
        np.testing.assert_allclose(to_numpy(got), want, rtol=1e-10, atol=1e-12)


def test_narrow_filters_far_off_the_image_stay_normalised(xp):
    """exp underflows for every pixel here; the softmax form still gives rows summing to 1."""
    p = xp.asarray([[4.0, -4.0, -8.0, 0.0, 0.0]])
    f_x, f_y, _ = Filterbank(3, 28, 28).eval().forward(p)
    for f in (f_x, f_y):
        assert np.all(np.isfinite(to_numpy(f)))
        np.testing.assert_allclose(to_numpy(f.sum(axis=2)), 1.0)


def test_the_grid_is_centred_and_the_initial_window_tiles_the_image(xp):
    n, side = 2, 28
    layer = Filterbank(n, side, side).eval()
    p = xp.asarray([initial_window(n, side, side)])
    g_x, g_y, delta, sigma2, gamma = (float(v[0]) for v in layer.window(p))
    assert g_x == g_y == pytest.approx(14.5)  # the middle of pixels 1..28
    assert delta == pytest.approx(14.0) and math.sqrt(sigma2) == pytest.approx(7.0) and gamma == 1.0
    f_x, _, _ = layer.forward(p)
    halves = to_numpy(f_x[0, :, : side // 2].sum(axis=1))
    assert halves[0] > 0.8 and halves[1] < 0.2  # one filter for each half of the image
    # the paper's delta~ = 1 with N = 2 puts the filters on the first and last pixels
    corners = xp.asarray([[0.0, 0.0, 0.0, 0.0, 0.0]])
    f_x, _, _ = layer.forward(corners)
    np.testing.assert_allclose(to_numpy(f_x.argmax(axis=2))[0], [0, side - 1])


@pytest.mark.parametrize("n,height,width", WINDOWS)
def test_filterbank_gradients(xp, rng, n, height, width):
    layer = Filterbank(n, height, width)
    p = window_parameters(xp, rng, 3)

    def forward():
        with evaluating(layer):
            return layer.forward(p)

    def backward(gys):
        layer.forward(p)
        return {"p": layer.backward(list(gys))}

    check(forward, backward, {"p": p})


def test_filterbank_backward_takes_none_for_unused_outputs(xp, rng):
    layer = Filterbank(2, 5, 5)
    p = window_parameters(xp, rng, 2)
    f_x, _, _ = layer.forward(p)
    gp = layer.backward([xp.ones_like(f_x), None, None])
    assert gp.shape == (2, 5) and float(abs(gp[:, 1]).sum()) == 0 and float(abs(gp[:, 4]).sum()) == 0


def filters(xp, rng, batch, n, height, width):
    """Random positive filterbanks (rows need not sum to 1 for the read and write layers)."""
    f_x = xp.asarray(rng.random((batch, n, width)))
    f_y = xp.asarray(rng.random((batch, n, height)))
    gamma = xp.asarray(rng.random(batch) + 0.5)
    return f_x, f_y, gamma


def check_multi_input(layer, inputs):
    names = ["input", "F_X", "F_Y", "gamma"]

    def forward():
        with evaluating(layer):
            return layer.forward(inputs)

    def backward(gys):
        layer.forward(inputs)
        return dict(zip(names, layer.backward(gys[0])))

    check(forward, backward, dict(zip(names, inputs)))


@pytest.mark.parametrize("n,height,width", WINDOWS)
@pytest.mark.parametrize("channels", [1, 2])
def test_read_gradients(xp, rng, n, height, width, channels):
    x = xp.asarray(rng.standard_normal((3, channels, height, width)))
    check_multi_input(Read(), [x, *filters(xp, rng, 3, n, height, width)])


@pytest.mark.parametrize("n,height,width", WINDOWS)
def test_write_gradients(xp, rng, n, height, width):
    w = xp.asarray(rng.standard_normal((3, n, n)))
    check_multi_input(Write(), [w, *filters(xp, rng, 3, n, height, width)])


def test_read_and_write_against_loops_and_each_other(xp, rng):
    """read(x) = gamma F_Y x F_X^T per image; at gamma = 1 write is read's adjoint."""
    n, height, width = 3, 5, 6
    f_x, f_y, gamma = filters(xp, rng, 2, n, height, width)
    x = xp.asarray(rng.standard_normal((2, 1, height, width)))
    w = xp.asarray(rng.standard_normal((2, n, n)))
    glimpse, patch = Read().eval()([x, f_x, f_y, gamma]), Write().eval()([w, f_x, f_y, gamma])
    for b in range(2):
        fx, fy, g = to_numpy(f_x[b]), to_numpy(f_y[b]), float(gamma[b])
        np.testing.assert_allclose(to_numpy(glimpse[b, 0]), g * fy @ to_numpy(x[b, 0]) @ fx.T)
        np.testing.assert_allclose(to_numpy(patch[b]), fy.T @ to_numpy(w[b]) @ fx / g)
    ones = xp.ones(2)
    read = Read().eval()([x, f_x, f_y, ones])[:, 0]
    write = Write().eval()([w, f_x, f_y, ones])
    assert float((read * w).sum()) == pytest.approx(float((x[:, 0] * write).sum()))


@pytest.mark.parametrize(
    "n,height,width,message",
    [
        (1, 28, 28, "needs N >= 2"),
        (0, 28, 28, "needs N >= 2"),
        (29, 28, 28, "larger than the 28x28 image"),
        (2, 1, 28, "at least 2x2 pixels"),
    ],
)
def test_bad_window_sizes_are_one_line_errors(n, height, width, message):
    for make in (lambda: Filterbank(n, height, width), lambda: initial_window(n, height, width)):
        with pytest.raises(MinnetError, match=message) as info:
            make()
        assert "\n" not in str(info.value)
