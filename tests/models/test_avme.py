"""Paper 001's AVME: the unrolled pass against central differences, likelihoods, sampling, runs."""

import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.gradcheck import check
from minnet.layers.activations import sigmoid
from minnet.layers.base import evaluating
from minnet.models import build, restore
from minnet.models.avme import AVMENetwork
from minnet.models.variational import bound_means, importance_nll
from minnet.training.checkpoint import save_checkpoint

TINY = {"hidden": 6, "z_dim": 3, "steps": 3, "batch_size": 50}


@pytest.fixture(scope="module")
def data():
    return load_mnist("train", binarize="static", limit=300)


@pytest.mark.parametrize("n_labels", [0, 2])
def test_unrolled_pass_gradient_with_the_noise_held_fixed(xp, n_labels):
    """Three steps, tiny sizes, float64: dL/dtheta for every weight against central
    differences of L = sum(gs * s_K) + sum(gkl * KL)."""
    rng = np.random.default_rng(0)
    net = AVMENetwork(hidden=3, z_size=2, steps=3, n_labels=n_labels, pixels=5, rng=rng).astype(np.float64)
    for p in net.named_parameters().values():  # off the zero start of the posterior's weights
        p[...] += xp.asarray(rng.standard_normal(p.shape) * 0.1)
    x = xp.asarray((rng.random((4, 5)) < 0.5).astype(np.float64))
    noise = xp.asarray(rng.standard_normal((3, 4, 2)))
    y = xp.asarray(np.eye(n_labels)[rng.integers(0, n_labels, 4)]) if n_labels else None

    def forward():
        with evaluating(net):
            canvas, kl, _ = net.forward(x, noise, y)
        return canvas, kl

    def backward(gys):
        net.zero_grad()
        net.forward(x, noise, y)
        net.backward(gys[0], gys[1])
        return net.named_grads()

    check(forward, backward, net.named_parameters())
    assert all(not layer._saved for layer in net.walk())  # every step undone


def test_bound_terms_are_the_closed_forms(data):
    trainer = build("avme", TINY, seed=0)
    images = data.images[:20]
    for _ in range(2):  # the posterior off its start at the prior (KL 0)
        trainer.train_step(images, data.labels[:20])
    terms = trainer.bound_terms(images, np.random.default_rng(5))
    x, _ = trainer._inputs(images, None)
    with evaluating(trainer.net):
        canvas, kl, _ = trainer.net.forward(x, trainer.noise(20, np.random.default_rng(5)))
    p = np.clip(to_numpy(sigmoid(canvas)).astype(np.float64), 1e-12, 1 - 1e-12)
    flat = images.reshape(20, -1)
    bce = -(flat * np.log(p) + (1 - flat) * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(terms["reconstruction"], bce, rtol=1e-4)
    np.testing.assert_allclose(terms["kl"], to_numpy(kl), rtol=1e-6)
    assert np.all(terms["kl"] > 0)


def test_importance_estimate_is_not_above_the_bound_on_a_trained_model(data):
    trainer = build("avme", {**TINY, "hidden": 32, "z_dim": 8, "lr": 3e-3}, seed=0)
    for epoch in range(8):
        for x, y in data.batches(50, np.random.default_rng(epoch)):
            logs = trainer.train_step(x, y)
    assert logs["loss"] < 250 and logs["kl"] > 1  # it has learned, and uses its latents
    images = data.images[:40]
    bound = bound_means(trainer, images, np.random.default_rng(1))["nll_bound"]
    estimate = importance_nll(trainer, images, 50, np.random.default_rng(2))
    single = importance_nll(trainer, images, 1, np.random.default_rng(2))
    assert estimate < bound
    assert np.isclose(single, bound, rtol=0.05)  # k = 1 is one draw of the bound


def test_conditional_samples_follow_the_labels_in_order(data):
    trainer = build("avme-cond", TINY, seed=0)
    for x, y in data.batches(50, np.random.default_rng(0)):
        trainer.train_step(x, y)
    canvases = trainer.canvases(4, np.array([3, 8, 3, 1]), np.random.default_rng(0))
    assert canvases.shape == (3, 4, 28, 28) and canvases.dtype == np.float32
    assert canvases.min() >= 0 and canvases.max() <= 1
    alone = trainer.sample(1, np.array([3]), np.random.default_rng(0))
    # sample i: labels[i], its own noise. A batch of four and a batch of one multiply matrices of
    # different heights, which BLAS may sum in another order (6e-8 apart on Haswell kernels); the
    # wrong label or the wrong row of noise moves pixels by 1e-2 or more.
    np.testing.assert_allclose(canvases[-1, 0], alone[0], rtol=0, atol=1e-5)
    other = trainer.sample(1, np.array([8]), np.random.default_rng(0))
    assert not np.array_equal(alone[0], other[0])


def test_checkpoint_round_trip_gives_the_same_samples_and_bound(data, tmp_path):
    trainer = build("avme", TINY, seed=0)
    x, y = next(iter(data.batches(50, 0)))
    trainer.train_step(x, y)
    meta = {"model": "avme", "config": vars(trainer.config), "seed": 0, "model_format": 2}
    save_checkpoint(tmp_path / "c.npz", trainer.state(), meta)
    restored, _, _ = restore(tmp_path / "c.npz")
    a = trainer.sample(5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, restored.sample(5, rng=np.random.default_rng(1)))
    for model in (trainer, restored):
        assert model.bound_terms(x, np.random.default_rng(2))["kl"].sum() == pytest.approx(
            trainer.bound_terms(x, np.random.default_rng(2))["kl"].sum()
        )


@pytest.mark.parametrize("name", ["avme", "avme-cond"])
def test_trains_samples_and_measures_on_the_device(device, data, name):
    trainer = build(name, TINY, seed=0)
    x, y = next(iter(data.batches(50, 0)))
    logs = trainer.train_step(x, y)
    assert set(logs) == {"loss", "reconstruction", "kl"} and np.isclose(
        logs["loss"], logs["reconstruction"] + logs["kl"]
    )
    labels = y if trainer.conditional else None
    terms = trainer.bound_terms(x, np.random.default_rng(0), labels=labels)
    assert terms["reconstruction"].shape == terms["kl"].shape == (50,) and terms["kl"].dtype == np.float64
    weights = trainer.log_importance_weights(x[:4], 3, np.random.default_rng(0), None if labels is None else labels[:4])
    assert isinstance(weights, np.ndarray) and weights.shape == (4, 3) and np.all(np.isfinite(weights))
    samples = trainer.sample(6, labels=np.arange(6) if trainer.conditional else None, rng=np.random.default_rng(0))
    assert samples.shape == (6, 28, 28) and samples.dtype == np.float32


def test_a_new_run_starts_its_canvas_at_the_mean_image(data):
    trainer = build("avme", TINY, seed=0)
    trainer.prepare(data)
    x = trainer.to_device(np.zeros((1, 28 * 28)))
    with evaluating(trainer.net):
        canvas, _, _ = trainer.net.forward(x, trainer.noise(1))
    write = trainer.net.write.write_pixels.params["b"]
    mean = np.clip(data.images.reshape(len(data), -1).mean(axis=0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(to_numpy(sigmoid(3 * write)), mean, rtol=1e-4)
    assert 0.01 < float(np.mean(to_numpy(sigmoid(canvas)))) < 0.5  # near the data's, not 0.5


def test_a_checkpoint_from_before_the_recurrent_core_is_refused(tmp_path):
    """Format 1 named the posterior ``latent`` and the write ``write``: restore says why it
    cannot load such a run, in one line."""
    trainer = build("avme", TINY, seed=0)
    state = trainer.state()
    for old, new in (("latent.", "posterior."), ("write.", "write_pixels.")):
        state = {key.replace(f"avme/{new}", f"avme/{old}"): value for key, value in state.items()}
    save_checkpoint(tmp_path / "old.npz", state, {"model": "avme", "config": TINY, "seed": 0})
    with pytest.raises(MinnetError, match=r"format 1, .* reads format 2 .*posterior.*train it again"):
        restore(tmp_path / "old.npz")
