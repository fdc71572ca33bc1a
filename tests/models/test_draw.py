"""DRAW: a gradient check of a whole unrolled pass, training, sampling, checkpoints."""

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.gradcheck import check
from minnet.layers.base import evaluating
from minnet.losses import bernoulli_cross_entropy
from minnet.models import build, restore
from minnet.models.variational import log_mean_exp
from minnet.training.checkpoint import load_checkpoint, save_checkpoint
from tests.cli.conftest import (
    assert_user_error,
    minnet_cli,  # noqa: F401  # the fixture the CLI tests below take
)

TINY = {"steps": 3, "enc_size": 4, "dec_size": 3, "z_size": 2, "read_n": 2, "write_n": 3, "batch_size": 20}


@pytest.fixture(scope="module")
def data():
    return load_mnist("train", binarize="static", limit=200)


def loss_and_gradients(net, x, noise):
    """The objective of the unrolled pass (reconstruction + every KL term, summed over the
    batch) as a closure for :func:`minnet.gradcheck.check`, and its analytic gradients."""

    def forward():
        with evaluating(net):
            canvas, kl, _ = net.forward(x, noise)
        return (bernoulli_cross_entropy(canvas, x)[0] + kl).sum()

    def backward(gys):
        net.zero_grad()
        canvas, _, _ = net.forward(x, noise)
        scale = float(gys[0])
        net.backward(bernoulli_cross_entropy(canvas, x)[1] * scale, scale)
        return net.named_grads()

    return forward, backward


def tiny_network(xp, rng, attention):
    """A float64 DRAW of 3 steps with tiny sizes, its parameters moved off their initial values
    (zero window weights would hide the paths from h^dec into the windows)."""
    net = build("draw", {**TINY, "attention": attention}, seed=0).net.astype(np.float64)
    for p in net.named_parameters().values():
        p[...] += xp.asarray(rng.standard_normal(p.shape) * 0.1)
    x = xp.asarray((rng.random((2, 784)) < 0.3).astype(np.float64))
    noise = xp.asarray(rng.standard_normal((3, 2, TINY["z_size"])))
    return net, x, noise


def test_unrolled_pass_gradients_with_attention(xp, rng):
    """Every parameter of a 3-step pass with attention against central differences, the noise
    held fixed."""
    net, x, noise = tiny_network(xp, rng, attention=True)
    forward, backward = loss_and_gradients(net, x, noise)
    check(forward, backward, net.named_parameters(), rtol=1e-4, atol=1e-7)


def test_unrolled_pass_gradients_without_attention(xp, rng):
    """As above without attention; the three 784-wide weight matrices are checked at 30 random
    elements each (all of them would take minutes), every other parameter whole."""
    net, x, noise = tiny_network(xp, rng, attention=False)
    forward, backward = loss_and_gradients(net, x, noise)
    wide = {"encoder_data.W", "encoder.W", "write_pixels.W"}
    params = net.named_parameters()
    check(forward, backward, {k: v for k, v in params.items() if k not in wide}, rtol=1e-4, atol=1e-7)
    analytic = backward((1.0,))
    for name in wide:
        flat = params[name].reshape(-1)
        for i in rng.choice(flat.size, 30, replace=False):
            original = float(flat[i])
            flat[i] = original + 1e-5
            plus = float(forward())
            flat[i] = original - 1e-5
            minus = float(forward())
            flat[i] = original
            numeric = (plus - minus) / 2e-5
            assert float(analytic[name].reshape(-1)[i]) == pytest.approx(numeric, rel=1e-4, abs=1e-7), name


def _train(data, steps=3, **overrides):
    trainer = build("draw", {**TINY, "steps": 4, "enc_size": 16, "dec_size": 16, "z_size": 4, **overrides}, seed=0)
    logs = [trainer.train_step(x, y) for (x, y), _ in zip(data.batches(20, 0), range(steps))]
    return trainer, logs


@pytest.mark.parametrize("attention", [True, False])
def test_trains_and_samples_in_range(device, data, attention):
    trainer, logs = _train(data, attention=attention)
    for entry in logs:
        assert set(entry) == {"loss", "reconstruction", "kl"}
        assert entry["loss"] == pytest.approx(entry["reconstruction"] + entry["kl"])
        assert all(np.isfinite(v) for v in entry.values())
    assert logs[-1]["loss"] < logs[0]["loss"]
    samples = trainer.sample(7, rng=np.random.default_rng(0))
    assert samples.shape == (7, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1
    for layer in _all_layers(trainer.net):  # every forward was matched by a backward
        assert not layer._saved
    with pytest.raises(MinnetError, match="not conditional"):
        trainer.sample(2, labels=[1, 2])


def _all_layers(layer):
    yield layer
    for child in layer.sublayers().values():
        yield from _all_layers(child)


def test_checkpoint_round_trip_gives_the_same_samples(device, data, tmp_path):
    trainer, _ = _train(data, steps=2)
    save_checkpoint(tmp_path / "c.npz", trainer.state(), {"model": "draw", "config": vars(trainer.config), "seed": 0})
    restored, _, _ = restore(tmp_path / "c.npz")
    a = trainer.sample(5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, restored.sample(5, rng=np.random.default_rng(1)))
    assert restored.rng.bit_generator.state == trainer.rng.bit_generator.state
    x, y = next(iter(data.batches(20, 1)))
    assert trainer.train_step(x, y) == restored.train_step(x, y)  # Adam's moments came along


def test_the_first_windows_tile_the_image_whatever_the_image():
    """Zero window weights and the tiling biases: at h^dec = 0 and at any other state, the read
    window is centred with stride 14, sigma 7 and gamma 10, the write window has stride 5.6 and
    1/gamma^ = 5.6^2 (see "Making attention learn")."""
    net = build("draw", {}, seed=0).net.eval()
    for h in (np.zeros((1, 256), np.float32), np.random.default_rng(0).standard_normal((1, 256)).astype(np.float32)):
        read = [float(v[0]) for v in net.read.read_filters.window(net.read.read_window(h))]
        assert read == pytest.approx([14.5, 14.5, 14.0, 49.0, 10.0], rel=1e-5)
        write = [float(v[0]) for v in net.write.write_filters.window(net.write.write_window(h))]
        assert write == pytest.approx([14.5, 14.5, 5.6, 2.8**2, 5.6**-2], rel=1e-5)


@pytest.mark.parametrize("option,value", [("--read-n", 1), ("--write-n", 29)])
def test_bad_window_sizes_are_one_line_errors(minnet_cli, option, value):  # noqa: F811
    result = minnet_cli("train", "draw", option, value, "--limit", 100, "--out", "run")
    assert_user_error(result, "attention window")


CLI_TINY = ["--steps", 3, "--enc-size", 8, "--dec-size", 8, "--z-size", 3, "--limit", 100, "--batch-size", 50]


def test_resume_after_an_epoch_equals_uninterrupted(minnet_cli, tmp_path):  # noqa: F811
    for out, epochs, extra in [("whole", 2, CLI_TINY), ("split", 1, CLI_TINY), ("split", 2, ["--resume"])]:
        result = minnet_cli("train", "draw", "--epochs", epochs, "--out", out, *extra)
        assert result.exit_code == 0, result.output
    whole, _ = load_checkpoint(tmp_path / "whole/checkpoint.npz")
    split, _ = load_checkpoint(tmp_path / "split/checkpoint.npz")
    assert set(whole) == set(split)
    for name in whole:
        np.testing.assert_array_equal(whole[name], split[name], err_msg=name)


def test_likelihood_contract(device, data):
    """bound_terms and log_importance_weights describe the same bound. With the same seed they
    draw the same z, so -log w - reconstruction = log q(z|x) - log p(z), whose expectation is
    the KL term: over 300 draws their difference averages to about 0 (a sign error would leave
    2 KL). And -log mean w, the importance estimate, is below the mean of -log w."""
    trainer, _ = _train(data, steps=2)
    posterior = trainer.net.posterior.dense.params["W"]  # far enough from the prior that KL shows
    posterior[...] = trainer.to_device(np.random.default_rng(0).standard_normal(posterior.shape) * 0.3)
    images = data.images[:3]
    gaps, kls = [], []
    for seed in range(300):
        terms = trainer.bound_terms(images, np.random.default_rng(seed))
        log_w = trainer.log_importance_weights(images, 1, np.random.default_rng(seed))[:, 0]
        gaps.append(-log_w - terms["reconstruction"] - terms["kl"])
        kls.append(terms["kl"])
    assert np.mean(kls) > 1
    np.testing.assert_allclose(np.mean(gaps, axis=0), 0, atol=0.5)
    log_w = trainer.log_importance_weights(images, 50, np.random.default_rng(0))
    assert log_w.shape == (3, 50) and log_w.dtype == np.float64
    assert np.all(-log_mean_exp(log_w, axis=1) < -log_w.mean(axis=1))
    before = trainer.rng.bit_generator.state
    trainer.bound_terms(images, np.random.default_rng(0))
    assert trainer.rng.bit_generator.state == before  # evaluation leaves the training noise alone


def test_without_attention_a_new_run_starts_its_canvas_at_the_mean_image(data):
    """T writes of the Dense write's starting bias give the logits of the mean image."""
    trainer = build("draw", {**TINY, "attention": False}, seed=0)
    trainer.prepare(data)
    bias = to_numpy(trainer.net.write.write_pixels.params["b"])
    mean = np.clip(data.images.reshape(len(data), -1).mean(axis=0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(1 / (1 + np.exp(-TINY["steps"] * bias)), mean, rtol=1e-4)
