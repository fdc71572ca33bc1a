"""The recurrent variational core with every read/write pair: the unrolled pass against central
differences, on images small enough to check every weight."""

import numpy as np
import pytest

from minnet.gradcheck import check
from minnet.layers import AttentionRead, AttentionWrite, CanvasRead, LSTMCell, PixelRead, PixelWrite
from minnet.layers.base import evaluating
from minnet.models.recurrent_vae import RecurrentVAE
from minnet.models.variational import GaussianLatent

HEIGHT, WIDTH = 4, 5
PIXELS = HEIGHT * WIDTH
ENC, DEC, Z, LABELS, STEPS = 3, 3, 2, 2, 3

READS = {
    "pixel": lambda rng: PixelRead(PIXELS, 4 * ENC, rng=rng),
    "canvas": lambda rng: CanvasRead(PIXELS, 4 * ENC, n_labels=LABELS, rng=rng),
    "attention": lambda rng: AttentionRead(2, HEIGHT, WIDTH, DEC, gamma=2.0),
}
WRITES = {
    "pixel": lambda rng: PixelWrite(DEC, PIXELS, rng=rng),
    "attention": lambda rng: AttentionWrite(3, HEIGHT, WIDTH, DEC, gamma=0.5, rng=rng),
}


def tiny_core(xp, rng, read, write):
    """A float64 core of 3 steps, its parameters moved off their initial values (zero window
    and posterior weights would hide the paths through them), with data to run it on."""
    labels = LABELS if read == "canvas" else 0  # a conditional model, as avme-cond
    read = READS[read](rng)
    net = RecurrentVAE(
        read,
        LSTMCell(read.n_out + DEC, ENC, rng=rng),
        GaussianLatent(ENC, Z, rng=rng),
        LSTMCell(Z + labels, DEC, rng=rng),
        WRITES[write](rng),
        STEPS,
    ).astype(np.float64)
    for p in net.named_parameters().values():
        p[...] += xp.asarray(rng.standard_normal(p.shape) * 0.1)
    x = xp.asarray((rng.random((2, PIXELS)) < 0.4).astype(np.float64))
    noise = xp.asarray(rng.standard_normal((STEPS, 2, Z)))
    y = xp.asarray(np.eye(labels)[[0, 1]]) if labels else None
    return net, x, noise, y


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("read", READS)
def test_unrolled_pass_gradients_with_every_pair(xp, rng, read, write):
    """dL/dtheta of L = sum(g_canvas c_T) + sum(g_kl KL) for every weight, the noise held fixed."""
    net, x, noise, y = tiny_core(xp, rng, read, write)

    def forward():
        with evaluating(net):
            canvas, kl, _ = net.forward(x, noise, y)
        return canvas, kl

    def backward(gys):
        net.zero_grad()
        net.forward(x, noise, y)
        net.backward(*gys)
        return net.named_grads()

    check(forward, backward, net.named_parameters(), rtol=1e-5, atol=1e-8)
    assert all(not layer._saved for layer in net.walk())  # every step undone


def test_the_pairs_layers_are_named_beside_the_cores():
    """The checkpoints' keys: the core's cells and posterior, then the read's and write's layers."""
    rng = np.random.default_rng(0)
    net, *_ = tiny_core(np, rng, "attention", "attention")
    assert list(net.state_dict()) == [
        "encoder.W", "encoder.b", "posterior.dense.W", "posterior.dense.b", "decoder.W", "decoder.b",
        "read_window.W", "read_window.b", "write_window.W", "write_window.b", "write_patch.W", "write_patch.b",
    ]  # fmt: skip
    net, *_ = tiny_core(np, rng, "pixel", "pixel")
    assert [k for k in net.state_dict() if not k.startswith(("encoder.", "posterior.", "decoder."))] == [
        "encoder_data.W", "write_pixels.W", "write_pixels.b",
    ]  # fmt: skip


def test_a_trace_holds_every_canvas_and_the_windows_placed(rng):
    net, x, noise, y = tiny_core(np, rng, "attention", "pixel")
    trace = []
    with evaluating(net):
        canvas, _, _ = net.forward(x, noise, y, trace=trace)
    assert len(trace) == STEPS
    np.testing.assert_array_equal(trace[-1][0], canvas)
    read_window, write_window = trace[0][1:]
    assert write_window is None
    g_x, g_y, delta, n = read_window
    assert n == 2 and g_x.shape == g_y.shape == delta.shape == (2,)
    generated = []
    net.generate(noise, y, trace=generated)
    assert len(generated) == STEPS and all(read is None and write is None for _, read, write in generated)
