"""Alternating back-propagation (paper 002): Langevin inference, the Z-gradient, training, resume."""

import json

import numpy as np
import pytest

from minnet import backend
from minnet.data import load_mnist
from minnet.gradcheck import compare, numerical_gradient
from minnet.layers.base import Sequential, evaluating
from minnet.layers.dense import Dense
from minnet.models import build
from minnet.models.abp import build_generator, langevin_step, log_posterior_gradient
from minnet.training.runner import EPOCHS, load_run, train

TINY = {"z_dim": 4, "hidden": 8, "channels": (2, 3), "eval_steps": 5, "eval_images": 32, "batch_size": 32}


def test_one_langevin_step_by_hand(device):
    """f(Z) = Z W: df/dZ is W, so the step is Z + (delta^2/2)[(Y - Z W) W^T / sigma^2 - Z] + delta e."""
    rng = np.random.default_rng(0)
    W, z, y, noise = (rng.standard_normal(shape) for shape in [(3, 5), (2, 3), (2, 5), (2, 3)])
    G = Sequential(Dense(3, 5, bias=False)).astype(np.float64)
    G[0].params["W"][...] = backend.to_device(W)
    sigma, delta = 0.3, 0.1
    stepped = langevin_step(G, *map(backend.to_device, (z, y)), sigma, delta, backend.to_device(noise))
    by_hand = np.empty_like(z)
    for i in range(2):  # image by image, element by element
        for k in range(3):
            residual_along_k = sum((y[i, j] - z[i] @ W[:, j]) * W[k, j] for j in range(5))
            by_hand[i, k] = z[i, k] + delta**2 / 2 * (residual_along_k / sigma**2 - z[i, k]) + delta * noise[i, k]
    np.testing.assert_allclose(backend.to_numpy(stepped), by_hand, rtol=1e-12)
    assert not G[0].grads["W"].any()  # W fixed: no parameter gradient gathered
    noiseless = langevin_step(G, *map(backend.to_device, (z, y)), sigma, delta)
    np.testing.assert_allclose(backend.to_numpy(noiseless), by_hand - delta * noise, rtol=1e-12)


@pytest.mark.parametrize("masked", [False, True])
def test_log_posterior_gradient_of_the_convnet(device, masked):
    """d/dZ of -||M (Y - f(Z))||^2 / (2 sigma^2) - ||Z||^2 / 2 against central differences, float64."""
    config = build("abp", TINY, seed=0).config
    G = build_generator(config, np.random.default_rng(1)).astype(np.float64)
    rng = np.random.default_rng(2)
    xp = backend.xp()
    z = xp.asarray(rng.standard_normal((2, config.z_dim)))
    y = xp.asarray(rng.uniform(-1, 1, (2, 1, 28, 28)))
    mask = xp.asarray((rng.random((1, 28, 28)) < 0.7).astype(np.float64)) if masked else None
    sigma = 0.3

    def log_p():
        with evaluating(G):
            residual = y - G.forward(z)
        if mask is not None:
            residual = residual * mask
        return float(-(residual**2).sum() / (2 * sigma**2) - (z**2).sum() / 2)

    analytic, _ = log_posterior_gradient(G, z, y, sigma, mask)
    numeric = numerical_gradient(log_p, z) if device == "cpu" else _numerical_on_device(log_p, z)
    compare("dlogp/dZ", analytic, numeric, rtol=1e-5, atol=1e-6)


def _numerical_on_device(objective, array, eps=1e-6):
    """Central differences for a CuPy array (numerical_gradient's loop, element by element)."""
    grad = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        original = float(array[index])
        array[index] = original + eps
        plus = objective()
        array[index] = original - eps
        minus = objective()
        array[index] = original
        grad[index] = (plus - minus) / (2 * eps)
    return grad


def test_training_lowers_the_reconstruction_error(device):
    data = load_mnist("train_full", limit=256)
    trainer = build("abp", {**TINY, "channels": (8, 8), "eval_steps": 20, "lr": 3e-3, "batch_size": 64}, seed=0)
    trainer.prepare(data)
    before = trainer.reconstruct(data.images)[2].mean()
    logs = [
        trainer.train_step(x, y, rows)
        for epoch in range(3)
        for x, y, rows in data.batches(64, np.random.default_rng(epoch), with_indices=True)
    ]
    after = trainer.reconstruct(data.images)[2].mean()
    assert after < 0.7 * before, (before, after)
    assert logs[-1]["recon_error"] < 0.8 * logs[0]["recon_error"]
    assert backend.to_numpy(trainer.per_example["z"]).shape == (256, 4)


def test_gradient_inference_draws_no_noise():
    trainer = build("abp", {**TINY, "inference": "gradient"}, seed=0)
    data = load_mnist("train_full", limit=32)
    trainer.prepare(data)
    state = trainer.rng.bit_generator.state
    trainer.train_step(data.images, data.labels, np.arange(32))
    assert trainer.rng.bit_generator.state == state


def test_samples_are_images():
    trainer = build("abp", TINY, seed=0)
    drawn = trainer.sample(7, rng=np.random.default_rng(0))
    assert drawn.shape == (7, 28, 28) and drawn.min() >= 0 and drawn.max() <= 1


def _run(directory, data, epochs, position=None, trainer=None):
    if trainer is None:
        trainer = build("abp", TINY, seed=0)
        trainer.data = {"digits": [0, 1, 2, 3, 4]}
        trainer.prepare(data)
    directory.mkdir(exist_ok=True)
    meta = {"model": "abp", "config": {}, "seed": 0}
    train(trainer, data, str(directory), meta, epochs=epochs, position=position, say=lambda *_: None)
    return trainer


def test_checkpoint_round_trip_and_exact_resume(tmp_path):
    """Weights, optimizer, every image's Z and the random state survive; resuming is exact."""
    data = load_mnist("train_full", limit=64, digits=(0, 1, 2, 3, 4))
    straight = _run(tmp_path / "straight", data, epochs=2)
    _run(tmp_path / "halves", data, epochs=1)
    arrays, _, position = load_run(str(tmp_path / "halves"))
    assert arrays["per_example/z"].shape == (64, 4)
    resumed = build("abp", TINY, seed=99)
    resumed.load_state(arrays)
    resumed.data = {"digits": [0, 1, 2, 3, 4]}
    np.testing.assert_array_equal(backend.to_numpy(resumed.per_example["z"]), arrays["per_example/z"])
    _run(tmp_path / "halves", data, epochs=2, position=position, trainer=resumed)

    ours, theirs = resumed.state(), straight.state()
    assert set(ours) == set(theirs)
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    lines = {
        run: [json.loads(line) for line in (tmp_path / run / EPOCHS).read_text().splitlines()]
        for run in ("straight", "halves")
    }
    halves, straight = ([line["recon_error_test"] for line in lines[run]] for run in ("halves", "straight"))
    assert halves == straight
    last = lines["straight"][-1]
    assert {"recon_error_train", "recon_error_test", "recon_error_negative"} <= set(last)
    for figure in ("reconstruction.png", "interpolation.png", "inpainting.png", "recon_errors.png"):
        assert (tmp_path / "straight" / figure).is_file(), figure


def test_fresh_inference_is_repeatable_and_leaves_training_noise_alone():
    trainer = build("abp", TINY, seed=0)
    pixels = load_mnist("test", limit=8).images
    state = trainer.rng.bit_generator.state
    first, second = trainer.reconstruct(pixels), trainer.reconstruct(pixels[:4])
    # Image k starts from the same code in any set. Sets of eight and of four images multiply
    # matrices of different heights, which BLAS may sum in another order (float32 round-off:
    # 1e-7 on codes near 1); image k + 1's start given to image k moves the inferred codes by
    # 1.16, 1e4 times the tolerance.
    np.testing.assert_allclose(first[0][:4], second[0], rtol=0, atol=1e-4)
    assert trainer.rng.bit_generator.state == state
