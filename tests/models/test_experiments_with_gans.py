"""The four GANs of paper 003 (Kapoor & Orozco, Experiments with GANs)."""

import itertools
import math

import numpy as np
import pytest

from minnet import gradcheck
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.layers.dense import Dense
from minnet.layers.dropout import Dropout
from minnet.models import build, restore
from minnet.models.base import config_to_dict
from minnet.models.experiments_with_gans import (
    EachStep,
    ImageToRows,
    LastStep,
    RepeatSteps,
    RowsToImage,
)
from minnet.training.checkpoint import save_checkpoint
from tests.cli.conftest import assert_user_error, minnet_cli  # noqa: F401  (minnet_cli is a fixture)

# Small networks, so that a few steps of each model take well under a second.
SMALL = {
    "gan-linear": {"g_hidden": (32, 64), "d_hidden": (64, 32)},
    "gan-conv": {"channels": 2},
    "gan-conv-pool": {"channels": 2},
    "gan-lstm": {"units": 8},
}
BATCH = 64


@pytest.fixture(scope="module")
def images():
    dataset = load_mnist("train_full", limit=256)
    return list(dataset.batches(BATCH, np.random.default_rng(0)))


@pytest.fixture(scope="module", params=list(SMALL))
def trained(request, images):
    """``(trainer, logs of every step)`` after one pass over 256 images in batches of 64."""
    trainer = build(request.param, {"batch_size": BATCH, **SMALL[request.param]}, seed=0)
    logs = [trainer.train_step(x, y) for x, y in images]
    return trainer, logs


def test_trains_without_nan(trained):
    trainer, logs = trained
    assert len(logs) == 4
    for step in logs:
        assert {"d_loss", "g_loss", "d_real", "d_fake"} <= set(step)
        assert all(math.isfinite(value) for value in step.values()), step
    assert trainer.optimizers["G"].steps == trainer.optimizers["D"].steps == 4


def test_samples_are_images_in_unit_range(trained):
    trainer, _ = trained
    samples = trainer.sample(7, rng=np.random.default_rng(1))
    assert samples.shape == (7, 28, 28)
    assert samples.min() >= 0 and samples.max() <= 1
    assert samples.std() > 0  # not a constant picture


def test_checkpoint_round_trip_gives_the_same_samples(trained, tmp_path):
    trainer, _ = trained
    meta = {"model": trainer.name, "config": config_to_dict(trainer.config), "seed": 0}
    save_checkpoint(tmp_path / "checkpoint.npz", trainer.state(), meta)
    restored, meta_back, _ = restore(tmp_path / "checkpoint.npz")
    assert type(restored) is type(trainer) and meta_back["model"] == trainer.name
    np.testing.assert_array_equal(
        restored.sample(5, rng=np.random.default_rng(2)), trainer.sample(5, rng=np.random.default_rng(2))
    )


# -- the paper's settings ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(SMALL))
def test_defaults_are_table_1(name):
    trainer = build(name, {}, seed=0)
    cfg = trainer.config
    assert (cfg.batch_size, cfg.z_dim, cfg.lr, cfg.epochs) == (256, 100, 1e-4, 500)
    assert (cfg.beta1, cfg.z_dist, cfg.dropout, cfg.g_dropout) == (0.9, "uniform", 0.5, 0.0)
    expected_clip = None if name == "gan-linear" else 5.0  # "all models besides the linear model"
    assert trainer.optimizers["G"].clip_norm == trainer.optimizers["D"].clip_norm == expected_clip
    d_dropouts = [layer.p for layer in trainer.D.layers if isinstance(layer, Dropout)]
    assert d_dropouts == [0.5, 0.5]  # after each of D's two hidden layers
    assert not any(isinstance(layer, Dropout) for layer in trainer.G.layers)
    z = trainer.noise(1000, np.random.default_rng(0))
    assert z.shape == (1000, 100) and -1 <= z.min() and z.max() <= 1


def test_conv_defaults_are_the_best_configuration():
    cfg = build("gan-conv-pool", {}, seed=0).config
    assert (cfg.layers, cfg.channels, cfg.filter_size, cfg.stride) == (2, 5, 3, 1)
    assert (cfg.pool_size, cfg.pool_stride) == (2, 1)


def test_g_dropout_puts_dropout_in_g():
    trainer = build("gan-linear", {"g_dropout": 0.3}, seed=0)
    assert [layer.p for layer in trainer.G.layers if isinstance(layer, Dropout)] == [0.3, 0.3]


# -- convolution shapes ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["gan-conv", "gan-conv-pool"])
def test_every_valid_conv_configuration_maps_28x28(name):
    z = np.zeros((2, 100), dtype=np.float32)
    real = np.zeros((2, 1, 28, 28), dtype=np.float32)
    built = 0
    for k, padding, layers in itertools.product(range(1, 8), ["same", "valid"], [1, 2, 3]):
        for stride in range(1, k + 1):
            options = {"filter_size": k, "stride": stride, "padding": padding, "layers": layers, "channels": 1}
            try:
                trainer = build(name, options, seed=0)
            except MinnetError as err:
                assert "leave no pixels" in str(err), options  # only vanishing maps are refused here
                continue
            assert trainer.G.eval().forward(z).shape == (2, 1, 28, 28), options
            assert trainer.D.eval().forward(real).shape == (2, 1), options
            built += 1
    assert built == {"gan-conv": 143, "gan-conv-pool": 114}[name]  # of 168; refusals are tested below


@pytest.mark.parametrize(
    "name, options, fragment",
    [
        ("gan-conv", {"filter_size": 2, "stride": 3}, "--stride 3 is larger than --filter-size 2"),
        ("gan-conv", {"filter_size": 29, "padding": "valid"}, "after convolution 1"),
        ("gan-conv", {"filter_size": 5, "stride": 5, "padding": "valid", "layers": 3}, "28 -> 5 -> 1 -> 0"),
        ("gan-conv-pool", {"filter_size": 14, "padding": "valid", "layers": 2}, "convolution and pooling 2"),
        ("gan-conv-pool", {"pool_size": 2, "pool_stride": 3}, "--pool-stride 3"),
    ],
)
def test_conv_options_that_cannot_make_28x28_are_refused(name, options, fragment):
    with pytest.raises(MinnetError, match=fragment):
        build(name, options, seed=0)


def test_command_line_refuses_them_in_one_line(minnet_cli):  # noqa: F811
    result = minnet_cli("train", "gan-conv", "--filter-size", 9, "--stride", 9, "--padding", "valid")
    assert_user_error(result, "leave no pixels")


def test_command_line_trains_a_paper_003_model(minnet_cli, tmp_path):  # noqa: F811
    args = ["--epochs", 1, "--limit", 128, "--batch-size", 64, "--channels", 2, "--filter-size", 2, "--out", "run"]
    result = minnet_cli("train", "gan-conv-pool", *args)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "checkpoint.npz").is_file()
    trainer, meta, _ = restore(tmp_path / "run")
    assert meta["config"]["filter_size"] == 2 and trainer.config.channels == 2


# -- the sequence layers of the LSTM model ---------------------------------------------


@pytest.mark.parametrize(
    "layer, shape",
    [
        (ImageToRows(), (2, 1, 4, 3)),
        (RowsToImage(), (4, 2, 3)),
        (RepeatSteps(4), (2, 3)),
        (LastStep(), (4, 2, 3)),
        (EachStep(Dense(3, 5, rng=0)), (4, 2, 3)),
    ],
)
def test_sequence_layers_gradients(layer, shape):
    layer.astype(np.float64)
    x = np.random.default_rng(0).standard_normal(shape)
    gradcheck.check_layer(layer, x)
    layer.eval().forward(x)
    assert layer._saved == [] and all(not child._saved for child in layer.sublayers().values())


def test_rows_round_trip_and_order():
    image = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 1, 28, 28)
    rows = ImageToRows().forward(image)
    assert rows.shape == (28, 2, 28)
    np.testing.assert_array_equal(rows[5, 1], image[1, 0, 5])  # step t is row t
    np.testing.assert_array_equal(RowsToImage().forward(rows), image)
