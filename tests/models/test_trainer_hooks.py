"""The trainer hooks the runner drives: per-image state, batch indices and end_of_epoch.

A toy trainer keeps one number per training image (how often it has been visited) and a
per-epoch measure, which is all the runner needs to show that the hooks are called with the
right arguments and that per-image state survives a checkpoint and an exact resume.
"""

import json

import numpy as np
import pytest

from minnet import backend
from minnet.data import load_mnist
from minnet.models.base import Config, Trainer
from minnet.training.runner import EPOCHS, checkpoint_path, load_run, train


class VisitCounter(Trainer):
    name = "visit-counter"
    epoch_curves = {"visits.png": ["mean_visits"]}

    def prepare(self, dataset):
        self.per_example["visits"] = backend.to_device(np.zeros(len(dataset), dtype=np.float32))

    def train_step(self, images, labels, indices=None):
        np.testing.assert_array_equal(images, self.pixels[indices])  # indices name these images
        self.per_example["visits"][indices] += 1
        return {"loss": float(self.rng.random())}

    def sample(self, n, labels=None, rng=None, size=None):
        return np.zeros((n, 28, 28), dtype=np.float32)  # the runner draws a grid each epoch

    def end_of_epoch(self, run):
        assert run.epoch >= 1 and run.dataset is not None
        return {"mean_visits": float(self.per_example["visits"].mean())}


def _run(tmp_path, data, epochs, position=None, trainer=None):
    trainer = trainer or VisitCounter(Config(batch_size=32), np.random.default_rng(0))
    trainer.pixels = data.images  # for train_step's check of the indices
    if position is None:
        trainer.prepare(data)
    meta = {"model": "visit-counter", "config": {}, "seed": 0}
    tmp_path.mkdir(exist_ok=True)
    train(trainer, data, str(tmp_path), meta, epochs=epochs, position=position, say=lambda *_: None)
    return trainer


def test_indices_per_image_state_and_epoch_values(tmp_path):
    data = load_mnist("train_full", limit=100)
    trainer = _run(tmp_path, data, epochs=2)
    visits = backend.to_numpy(trainer.per_example["visits"])
    assert set(np.unique(visits)) <= {0, 1, 2} and visits.sum() == 2 * 96  # 3 full batches of 32 per epoch
    lines = [json.loads(line) for line in (tmp_path / EPOCHS).read_text().splitlines()]
    assert [line["mean_visits"] for line in lines] == pytest.approx([0.96, 1.92])
    assert (tmp_path / "visits.png").is_file()
    arrays, _, _ = load_run(checkpoint_path(str(tmp_path)))
    np.testing.assert_array_equal(arrays["per_example/visits"], visits)


def test_resume_restores_per_image_state_exactly(tmp_path):
    data = load_mnist("train_full", limit=100)
    straight = _run(tmp_path / "straight", data, epochs=2)
    _run(tmp_path / "halves", data, epochs=1)
    arrays, _, position = load_run(checkpoint_path(str(tmp_path / "halves")))
    resumed = VisitCounter(Config(batch_size=32), np.random.default_rng(99))
    resumed.load_state(arrays)
    _run(tmp_path / "halves", data, epochs=2, position=position, trainer=resumed)
    np.testing.assert_array_equal(
        backend.to_numpy(resumed.per_example["visits"]), backend.to_numpy(straight.per_example["visits"])
    )
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state
