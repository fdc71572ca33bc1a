import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.gradcheck import check
from minnet.layers.conditional import LabelledConv2d
from minnet.layers.conv import Conv2d

# (B, C, L, O, H, W, k, stride, pad)
CASES = [
    (3, 1, 10, 4, 8, 8, 4, 2, 1),  # cdcgan's first D layer, small
    (2, 2, 3, 3, 7, 5, 3, 1, 1),
    (4, 1, 2, 2, 6, 6, 2, 2, 0),
    (2, 3, 4, 2, 9, 9, 5, 3, 2),
]


def make(xp, rng, B, C, L, O, H, W, k, stride, pad):
    layer = LabelledConv2d(C, L, O, k, stride, pad, rng=rng).astype(np.float64)
    x = xp.asarray(rng.standard_normal((B, C, H, W)))
    y = xp.asarray(rng.standard_normal((B, L)))  # any weights, not only one-hot
    return layer, x, y


@pytest.mark.parametrize("B,C,L,O,H,W,k,stride,pad", CASES)
def test_equals_a_conv2d_over_the_image_stacked_with_label_maps(xp, rng, B, C, L, O, H, W, k, stride, pad):
    layer, x, y = make(xp, rng, B, C, L, O, H, W, k, stride, pad)
    stacked = Conv2d(C + L, O, k, stride, pad).astype(np.float64)
    stacked.params["W"][...] = xp.concatenate([layer.image.params["W"], layer.label.params["W"]], axis=1)
    stacked.params["b"][...] = layer.image.params["b"]
    maps = xp.broadcast_to(y[:, :, None, None], (B, L, H, W))
    gy = xp.asarray(rng.standard_normal(layer.output_shape([x.shape, y.shape])))

    out = layer.forward([x, y])
    gx, g_labels = layer.backward(gy)
    expected = stacked.forward(xp.concatenate([x, maps], axis=1))
    g_stacked = stacked.backward(gy)

    np.testing.assert_allclose(to_numpy(out), to_numpy(expected), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gx), to_numpy(g_stacked[:, :C]), rtol=1e-10, atol=1e-12)
    # a constant map's gradient is the sum of its pixels' gradients
    np.testing.assert_allclose(to_numpy(g_labels), to_numpy(g_stacked[:, C:].sum(axis=(2, 3))), rtol=1e-10)
    g_weights = to_numpy(stacked.grads["W"])
    np.testing.assert_allclose(to_numpy(layer.image.grads["W"]), g_weights[:, :C], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.label.grads["W"]), g_weights[:, C:], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(layer.image.grads["b"]), to_numpy(stacked.grads["b"]), rtol=1e-10)


@pytest.mark.parametrize("B,C,L,O,H,W,k,stride,pad", CASES)
def test_gradients(xp, rng, B, C, L, O, H, W, k, stride, pad):
    layer, x, y = make(xp, rng, B, C, L, O, H, W, k, stride, pad)

    def forward():
        out = layer.forward([x, y])
        layer.clear()
        return out

    def backward(gys):
        layer.zero_grad()
        layer.forward([x, y])
        gx, g_labels = layer.backward(gys[0])
        return {"image": gx, "labels": g_labels, **layer.named_grads()}

    check(forward, backward, {"image": x, "labels": y, **layer.named_parameters()})


def test_starts_as_the_stacked_conv2d_would(rng):
    layer = LabelledConv2d(1, 10, 8, 4, 2, 1, rng=np.random.default_rng(5))
    stacked = Conv2d(11, 8, 4, 2, 1, rng=np.random.default_rng(5))
    weights = np.concatenate([layer.image.params["W"], layer.label.params["W"]], axis=1)
    np.testing.assert_array_equal(weights, stacked.params["W"])
    assert layer.num_parameters() == stacked.num_parameters()


def test_labels_of_the_wrong_shape_are_refused(xp, rng):
    layer, x, _ = make(xp, rng, *CASES[0])
    with pytest.raises(ValueError, match=r"labels of shape \(3, 10\)"):
        layer.forward([x, xp.zeros((3, 9))])


def test_the_kept_unit_maps_follow_the_image_size_and_dtype(xp, rng):
    """The lowered label maps are made again when the image size or the dtype changes."""
    layer = LabelledConv2d(1, 3, 2, 3, 1, 1, rng=rng).astype(np.float64).eval()
    stacked = Conv2d(4, 2, 3, 1, 1).astype(np.float64).eval()
    stacked.params["W"][...] = xp.concatenate([layer.image.params["W"], layer.label.params["W"]], axis=1)
    stacked.params["b"][...] = layer.image.params["b"]
    for size, dtype in [(6, np.float64), (5, np.float64), (6, np.float64), (6, np.float32)]:
        x = xp.asarray(rng.standard_normal((2, 1, size, size)), dtype=dtype)
        y = xp.asarray(rng.standard_normal((2, 3)), dtype=dtype)
        out = layer.astype(dtype).forward([x, y])
        maps = xp.broadcast_to(y[:, :, None, None], (2, 3, size, size))
        expected = stacked.astype(dtype).forward(xp.concatenate([x, maps], axis=1))
        assert out.dtype == dtype
        np.testing.assert_allclose(to_numpy(out), to_numpy(expected), rtol=1e-5, atol=1e-6)
