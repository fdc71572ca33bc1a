"""Paper 004's models: gan (2-node discriminator) and cdcgan, trained a few steps on 256 images."""

import numpy as np
import pytest

from minnet.checkpoint import save_checkpoint
from minnet.data import load_mnist
from minnet.losses import bce_with_logits
from minnet.models import build, restore
from minnet.models.gan import discriminator_loss, real_probability
from minnet.optim import NonFiniteError

SMALL = {"gan": {"batch_size": 64}, "cdcgan": {"batch_size": 64, "channels": 8}}


@pytest.fixture(scope="module")
def data():
    return load_mnist("train_full", limit=256)


def _train(name, data, steps=4, **overrides):
    trainer = build(name, {**SMALL[name], **overrides}, seed=0)
    logs = [trainer.train_step(x, y) for (x, y), _ in zip(data.batches(64, 0), range(steps))]
    return trainer, logs


@pytest.mark.parametrize("name", ["gan", "cdcgan"])
def test_trains_without_nan_and_samples_in_range(name, data):
    trainer, logs = _train(name, data)
    for entry in logs:
        assert set(entry) == {"d_loss", "g_loss", "d_real", "d_fake"}
        assert all(np.isfinite(v) for v in entry.values())
    labels = np.arange(10) if trainer.conditional else None
    samples = trainer.sample(10, labels=labels, rng=np.random.default_rng(0))
    assert samples.shape == (10, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1


@pytest.mark.parametrize("name", ["gan", "cdcgan"])
def test_checkpoint_round_trip_gives_the_same_samples(name, data, tmp_path):
    trainer, _ = _train(name, data, steps=2)
    meta = {"model": name, "config": vars(trainer.config), "seed": 0}
    save_checkpoint(tmp_path / "c.npz", trainer.state(), meta)
    restored, _, _ = restore(tmp_path / "c.npz")
    labels = np.arange(10) if trainer.conditional else None
    a = trainer.sample(10, labels=labels, rng=np.random.default_rng(1))
    b = restored.sample(10, labels=labels, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert restored.rng.bit_generator.state == trainer.rng.bit_generator.state


def test_conditional_samples_follow_the_labels(data):
    trainer, _ = _train("cdcgan", data, steps=1)
    rng = np.random.default_rng(2)
    z = trainer.noise(1, rng)
    images = [trainer.generate(z, trainer.one_hot([d]), train=False) for d in (3, 3, 8)]
    np.testing.assert_array_equal(images[0], images[1])
    assert not np.array_equal(images[0], images[2])  # the label changes the picture


def test_options_stable_and_minimax_train(data):
    _, logs = _train("gan", data, stable=True, g_loss="minimax")
    assert all(np.isfinite(v) for entry in logs for v in entry.values())
    assert logs[0]["g_loss"] < 0  # log(1 - D(G(z))) is negative


def test_two_node_loss_equals_binary_cross_entropy_on_the_logit_difference(rng):
    logits = rng.standard_normal((5, 2))
    difference = logits[:, 1:] - logits[:, :1]
    for target in (0.0, 0.9, 1.0):
        two_node, grad = discriminator_loss(logits, target)
        one_node, grad_one = bce_with_logits(difference, np.full((5, 1), target))
        assert np.isclose(float(two_node), float(one_node))
        np.testing.assert_allclose(grad[:, 1:], grad_one)
        np.testing.assert_allclose(grad[:, :1], -grad_one)
    np.testing.assert_allclose(real_probability(logits), 1 / (1 + np.exp(-difference[:, 0])))


def test_a_nan_weight_stops_with_the_parameter_name(data):
    trainer = build("gan", SMALL["gan"], seed=0)
    trainer.G[0].params["W"][0, 0] = np.nan
    x, y = next(iter(data.batches(64, 0)))
    with pytest.raises(NonFiniteError, match=r"\.W|\.b"):
        trainer.train_step(x, y)


def test_several_generator_steps_per_discriminator_step(data):
    trainer = build("gan", {**SMALL["gan"], "g_steps": 3}, seed=0)
    x, y = next(iter(data.batches(64, 0)))
    logs = trainer.train_step(x, y)
    assert (trainer.optimizers["G"].steps, trainer.optimizers["D"].steps) == (3, 1)
    assert np.isfinite(logs["g_loss"])
    for net in trainer.networks.values():  # every forward was matched by a backward
        assert all(not layer._saved for layer in _all_layers(net))


def _all_layers(layer):
    yield layer
    for child in layer.sublayers().values():
        yield from _all_layers(child)
