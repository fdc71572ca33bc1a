"""minnet.models from Python: build, load, and sample with int seeds and one-line errors."""

import numpy as np
import pytest

import minnet
from minnet.errors import MinnetError
from minnet.evaluation.metrics import draw_samples
from minnet.models import TRAINERS, build, load
from minnet.training.checkpoint import save_checkpoint


@pytest.fixture(scope="module", params=list(TRAINERS))
def trainer(request):
    """Every model with the paper's settings, untrained: sampling needs no training."""
    return build(request.param, seed=0)


def labels_for(trainer, n):
    return np.arange(n) % 10 if trainer.conditional else None


def test_an_int_seed_is_a_generator_seeded_with_it(trainer):
    labels = labels_for(trainer, 3)
    by_int = trainer.sample(3, labels=labels, rng=4)
    by_generator = trainer.sample(3, labels=labels, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(by_int, by_generator)
    assert by_int.shape == (3, 28, 28) and by_int.dtype == np.float32
    assert 0 <= by_int.min() and by_int.max() <= 1


@pytest.mark.parametrize(
    "n, rng, message",
    [
        (0, None, "n must be a whole number of images, at least 1; got 0"),
        (2.5, None, "got 2.5"),
        (True, None, "got True"),
        (2, "seven", "rng must be an int seed, a numpy.random.Generator or None; got 'seven'"),
        (2, -1, "rng must be a seed of non-negative ints"),
    ],
)
def test_a_bad_n_or_rng_is_one_line_naming_sample(trainer, n, rng, message):
    with pytest.raises(MinnetError, match=f"^{trainer.name}.sample: .*{message[:20]}"):
        trainer.sample(n, labels=labels_for(trainer, 2), rng=rng)


def test_labels_are_checked_against_the_model(trainer):
    if not trainer.conditional:
        with pytest.raises(MinnetError, match="not conditional and takes no labels"):
            trainer.sample(2, labels=[1, 2])
        return
    for labels, message in [
        ([1], "labels must be one label per image, shape \\(2,\\); got shape \\(1,\\)"),
        ([3, 10], "labels must be digits 0-9; got 3..10"),
        ([-1, 2], "labels must be digits 0-9"),
        ([1.0, 2.0], "labels must be integers 0-9; got float64"),
    ]:
        with pytest.raises(MinnetError, match=f"^{trainer.name}.sample: {message}"):
            trainer.sample(2, labels=labels, rng=0)


def test_a_constructor_takes_an_int_seed():
    cls = TRAINERS["gan"]
    a, b = cls(cls.Config(), 3), cls(cls.Config(), np.random.default_rng(3))
    np.testing.assert_array_equal(a.G.state_dict()["0.W"], b.G.state_dict()["0.W"])
    np.testing.assert_array_equal(a.sample(2, rng=1), b.sample(2, rng=1))


def test_build_refuses_an_unknown_model_or_setting():
    with pytest.raises(MinnetError, match="unknown model 'gann'; choose one of: gan, cdcgan"):
        build("gann")
    with pytest.raises(MinnetError, match="build: gan has no setting 'lrr'; its settings: batch_size, .*lr"):
        build("gan", {"lrr": 1e-3})
    with pytest.raises(MinnetError, match="build: config must be None, a dict or a MLPGAN.Config; got int"):
        build("gan", 3)
    assert build("gan", {"epochs": 2}).config.epochs == 2


def test_load_gives_the_trainer_of_a_saved_run(tmp_path):
    trainer = build("gan", {"hidden": [8]}, seed=5)
    meta = {"model": "gan", "config": {"hidden": [8]}, "seed": 5, "position": {}}
    save_checkpoint(tmp_path / "checkpoint.npz", trainer.state(), meta)
    loaded = minnet.models.load(tmp_path)
    np.testing.assert_array_equal(loaded.sample(4, rng=2), trainer.sample(4, rng=2))


def test_load_of_a_missing_or_corrupt_path_is_one_line(tmp_path):
    with pytest.raises(MinnetError, match=f"^load: no checkpoint at {tmp_path}/nothing"):
        load(tmp_path / "nothing")
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    with pytest.raises(MinnetError, match="^load: .*bad.npz is not a readable minnet checkpoint"):
        load(tmp_path / "bad.npz")


def test_draw_samples_seeds_once_and_batches_in_turn():
    """An int seed makes one generator for all batches: two batches of 3 are not the same 3."""
    trainer = build("gan", {"hidden": [8]}, seed=0)
    drawn = draw_samples(trainer, 6, None, 7, batch_size=3)
    np.testing.assert_array_equal(drawn, draw_samples(trainer, 6, None, np.random.default_rng(7), batch_size=3))
    assert not np.allclose(drawn[:3], drawn[3:])
