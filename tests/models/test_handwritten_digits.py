"""Paper 004's models: gan (2-node discriminator) and cdcgan, trained a few steps on 256 images."""

import numpy as np
import pytest

from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.layers.base import evaluating
from minnet.losses import bce_with_logits
from minnet.models import build, restore
from minnet.models.gan import discriminator_loss, real_probability
from minnet.optim import NonFiniteError
from minnet.training.checkpoint import save_checkpoint

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
        matching_aware = {"d_wrong_label"} if name == "cdcgan" else set()
        assert set(entry) == {"d_loss", "g_loss", "d_real", "d_fake"} | matching_aware
        assert all(np.isfinite(v) for v in entry.values())
    labels = np.arange(10) if trainer.conditional else None
    samples = trainer.sample(10, labels=labels, rng=np.random.default_rng(0))
    assert samples.shape == (10, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1


@pytest.mark.parametrize("name", ["gan", "cdcgan"])
def test_checkpoint_round_trip_gives_the_same_samples(name, data, tmp_path):
    trainer, _ = _train(name, data, steps=2)
    meta = {"model": name, "config": vars(trainer.config), "seed": 0, "model_format": trainer.model_format}
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
    with evaluating(trainer.G):
        images = [trainer.generate(z, trainer.one_hot([d])) for d in (3, 3, 8)]
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
        assert all(not layer._saved for layer in net.walk())


def test_wrong_labels_are_always_another_digit(data):
    trainer = build("cdcgan", SMALL["cdcgan"], seed=0)
    labels = np.arange(1000) % 10
    wrong = trainer.wrong_labels(labels)
    assert not np.any(wrong == labels)
    assert all(set(wrong[labels == digit]) == set(range(10)) - {digit} for digit in range(10))


@pytest.mark.parametrize("matching_aware", [True, False])
def test_discriminator_gradient_weighs_its_three_passes(data, monkeypatch, matching_aware):
    """D's update follows L_D = CE(D(x, y), real) + 1/2 [CE(D(G(z), y), fake) + CE(D(x, y'), fake)],
    or CE(D(x, y), real) + CE(D(G(z), y), fake) without the wrong-label pass."""
    trainer = build("cdcgan", {**SMALL["cdcgan"], "matching_aware": matching_aware, "g_steps": 1}, seed=0)
    x, y = next(iter(data.batches(64, 0)))
    z = trainer.noise(len(x))
    wrong = (y + 3) % 10
    monkeypatch.setattr(trainer, "noise", lambda n, rng=None: z)
    monkeypatch.setattr(trainer, "wrong_labels", lambda labels: wrong)
    d_optimizer = trainer.optimizers["D"]
    # the gradient of each term, taken before the step changes D
    real = x[:, None] * 2 - 1
    fake = trainer.generate(z, trainer.one_hot(y))  # in training mode, as train_step makes it
    terms = []
    for images, labels, target in [(real, y, 1.0), (fake, y, 0.0), (real, wrong, 0.0)]:
        logits = trainer.discriminate(images, trainer.one_hot(labels))
        trainer.discriminator_backward(discriminator_loss(logits, target)[1])
        terms.append(d_optimizer.gather_gradients().copy())
        d_optimizer.zero_grad()
    expected = terms[0] + (terms[1] + terms[2]) / 2 if matching_aware else terms[0] + terms[1]
    # train_step's G step back-propagates through the forward above
    monkeypatch.setattr(trainer, "generate", lambda z_, onehot: fake)
    seen = []
    monkeypatch.setattr(d_optimizer, "step", lambda: seen.append(d_optimizer.gather_gradients().copy()))
    logs = trainer.train_step(x, y)
    np.testing.assert_allclose(seen[0], expected, rtol=1e-4, atol=1e-6)
    assert ("d_wrong_label" in logs) == matching_aware


def test_a_conditional_model_needs_one_label_per_sample(data):
    trainer = build("cdcgan", SMALL["cdcgan"], seed=0)
    with pytest.raises(MinnetError, match="one label per image"):
        trainer.sample(4)
    with pytest.raises(MinnetError, match="one label per image"):
        trainer.sample(4, labels=[1, 2])
