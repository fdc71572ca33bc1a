"""The moving average of G's weights: its formula, its use for sampling, its place in checkpoints."""

import numpy as np
import pytest

from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.layers.base import Sequential
from minnet.layers.dense import Dense
from minnet.layers.norm import BatchNorm
from minnet.models import build, restore
from minnet.models.ema import WeightAverage
from minnet.training.checkpoint import save_checkpoint

SMALL = {"batch_size": 64, "channels": 8}


@pytest.fixture(scope="module")
def data():
    return load_mnist("train_full", limit=256)


def _train(data, steps, **overrides):
    trainer = build("cdcgan", {**SMALL, **overrides}, seed=0)
    for (x, y), _ in zip(data.batches(64, 0), range(steps)):
        trainer.train_step(x, y)
    return trainer


def test_the_average_is_the_normalised_exponential_average_of_every_update(rng):
    network = Sequential(Dense(3, 4, rng=rng), BatchNorm(4)).astype(np.float64)
    beta = 0.9
    average = WeightAverage(network, beta)
    history = []
    for _ in range(6):
        for array in [*network.named_parameters().values(), network[1].buffers["running_mean"]]:
            array[...] = rng.standard_normal(array.shape)
        history.append(network.state_dict())
        average.update()
    weights = beta ** np.arange(len(history))[::-1]  # beta^(t - s) for s = 1..t
    for name, value in average.network.state_dict().items():
        expected = sum(w * state[name] for w, state in zip(weights, history)) / weights.sum()
        np.testing.assert_allclose(value, expected, rtol=1e-12, err_msg=name)


def test_the_first_update_copies_the_weights_and_the_source_stays_as_it_is(rng):
    network = Sequential(Dense(3, 4, rng=rng))
    average = WeightAverage(network, 0.999)
    before = network.state_dict()
    network[0].params["W"] += 1.0
    average.update()
    np.testing.assert_array_equal(average.network[0].params["W"], network[0].params["W"])
    assert not np.array_equal(network[0].params["W"], before["0.W"])
    network[0].params["W"] += 1.0  # a later change of the source reaches the average only by update
    assert not np.array_equal(average.network[0].params["W"], network[0].params["W"])


def test_the_average_changes_the_samples_but_not_the_training(data):
    averaged, plain = _train(data, 3, g_average=0.9), _train(data, 3, g_average=0.0)
    for name, value in plain.G.state_dict().items():
        np.testing.assert_array_equal(averaged.G.state_dict()[name], value, err_msg=name)
    assert averaged.rng.bit_generator.state == plain.rng.bit_generator.state
    labels = np.arange(10)
    a = averaged.sample(10, labels=labels, rng=np.random.default_rng(1))
    b = plain.sample(10, labels=labels, rng=np.random.default_rng(1))
    assert not np.allclose(a, b, atol=1e-3)  # drawn by another network
    averaged.G_average.network.load_state_dict(averaged.G.state_dict())
    a = averaged.sample(10, labels=labels, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)  # that network is the average, and only it


def test_a_checkpoint_holds_the_average(data, tmp_path):
    trainer = _train(data, 2, g_average=0.9)
    meta = {"model": "cdcgan", "config": vars(trainer.config), "model_format": trainer.model_format}
    save_checkpoint(tmp_path / "c.npz", trainer.state(), meta)
    restored, _, _ = restore(tmp_path / "c.npz")
    assert restored.G_average.updates == trainer.G_average.updates == 2
    for name, value in trainer.G_average.network.state_dict().items():
        np.testing.assert_array_equal(restored.G_average.network.state_dict()[name], value, err_msg=name)


def test_a_cdcgan_checkpoint_from_before_the_average_is_refused_in_one_line(data, tmp_path):
    trainer = _train(data, 1, g_average=0.0)
    meta = {"model": "cdcgan", "config": vars(trainer.config), "model_format": 1}
    save_checkpoint(tmp_path / "c.npz", trainer.state(), meta)
    with pytest.raises(MinnetError, match="format 1.*moving average of G's weights"):
        restore(tmp_path / "c.npz")
