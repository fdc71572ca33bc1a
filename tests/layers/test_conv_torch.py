"""Conv2d, Deconv2d and MaxPool2d against PyTorch with copied weights (skipped without torch)."""

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.layers.conv import Conv2d, Deconv2d
from minnet.layers.pooling import MaxPool2d

torch = pytest.importorskip("torch")

# (B, C_in, C_out, H, W, k, stride, pad)
CASES = [(2, 3, 4, 9, 8, 3, 1, 1), (3, 2, 5, 14, 14, 4, 2, 1), (2, 4, 3, 7, 10, 5, 3, 2)]


def run_minnet(layer, x, gy):
    y = layer.forward(x)
    return y, layer.backward(gy)


def run_torch(module, x, gy):
    x = torch.tensor(to_numpy(x), requires_grad=True)
    y = module(x)
    y.backward(torch.tensor(to_numpy(gy)))
    return y.detach().numpy(), x.grad.numpy()


def compare(layer, module, xp, rng, x_shape):
    x = xp.asarray(rng.standard_normal(x_shape))
    gy = xp.asarray(rng.standard_normal(layer.output_shape(x.shape)))
    y, gx = run_minnet(layer, x, gy)
    y_torch, gx_torch = run_torch(module, x, gy)
    np.testing.assert_allclose(to_numpy(y), y_torch, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gx), gx_torch, rtol=1e-10, atol=1e-12)
    for name, param in zip(("W", "b"), module.parameters()):
        np.testing.assert_allclose(to_numpy(layer.grads[name]), param.grad.numpy(), rtol=1e-10)


def copy_params(layer, module, xp, rng):
    layer.params["b"][...] = xp.asarray(rng.standard_normal(layer.params["b"].shape))
    with torch.no_grad():
        module.weight.copy_(torch.tensor(to_numpy(layer.params["W"])))
        module.bias.copy_(torch.tensor(to_numpy(layer.params["b"])))


@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES)
def test_conv2d_matches_torch(xp, rng, B, C_in, C_out, H, W, k, stride, pad):
    layer = Conv2d(C_in, C_out, k, stride, pad, rng=rng).astype(np.float64)
    module = torch.nn.Conv2d(C_in, C_out, k, stride, pad).double()
    copy_params(layer, module, xp, rng)
    compare(layer, module, xp, rng, (B, C_in, H, W))


@pytest.mark.parametrize("output_padding", [0, 1])
@pytest.mark.parametrize("B,C_in,C_out,H,W,k,stride,pad", CASES[1:])  # strides 2 and 3
def test_deconv2d_matches_torch(xp, rng, B, C_in, C_out, H, W, k, stride, pad, output_padding):
    layer = Deconv2d(C_in, C_out, k, stride, pad, output_padding, rng=rng).astype(np.float64)
    module = torch.nn.ConvTranspose2d(C_in, C_out, k, stride, pad, output_padding).double()
    copy_params(layer, module, xp, rng)
    compare(layer, module, xp, rng, (B, C_in, H, W))


def test_deconv2d_stride_1_matches_torch(xp, rng):
    layer = Deconv2d(3, 4, 3, 1, 1, rng=rng).astype(np.float64)
    module = torch.nn.ConvTranspose2d(3, 4, 3, 1, 1).double()
    copy_params(layer, module, xp, rng)
    compare(layer, module, xp, rng, (2, 3, 9, 8))


@pytest.mark.parametrize("k,stride,pad", [(2, 2, 0), (2, 1, 0), (3, 2, 1)])
def test_maxpool2d_matches_torch(xp, rng, k, stride, pad):
    compare(MaxPool2d(k, stride, pad), torch.nn.MaxPool2d(k, stride, pad), xp, rng, (2, 3, 9, 10))


def test_maxpool2d_ties_match_torch(xp, rng):
    """Small integers tie often; both libraries must send the gradient to the same pixel."""
    x = xp.asarray(rng.integers(0, 3, (2, 3, 9, 10)).astype(np.float64))
    layer, module = MaxPool2d(3, 1, 1), torch.nn.MaxPool2d(3, 1, 1)
    gy = xp.asarray(rng.standard_normal(layer.output_shape(x.shape)))
    _, gx = run_minnet(layer, x, gy)
    _, gx_torch = run_torch(module, x, gy)
    np.testing.assert_allclose(to_numpy(gx), gx_torch, rtol=1e-12)
