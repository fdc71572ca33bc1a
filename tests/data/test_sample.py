"""The bundled sample: size, balance, order, and that make_sample reproduces it."""

import numpy as np
import pytest

from minnet.data import catalog
from minnet.data.folder import read_part
from minnet.data.make_sample import PER_CLASS, draw_indices, main
from minnet.data.sample import SAMPLE_PATH, TRAIN_DIGITS, read_sample_part
from minnet.data.splits import VALIDATION_SIZE
from tests.data.helpers import FULL_SET_DIR, needs_full_set


def test_sample_is_small_and_compressed():
    assert SAMPLE_PATH.stat().st_size < 6_000_000


def test_sample_is_balanced_and_not_sorted():
    train_images, train_labels = read_sample_part("train")
    test_images, test_labels = read_sample_part("test")
    assert train_images.shape == (TRAIN_DIGITS, 28, 28) == (30_000, 28, 28) and train_images.dtype == np.uint8
    assert test_images.shape == (1_000, 28, 28) and test_labels.dtype == np.uint8
    n_validation = VALIDATION_SIZE["sample"]
    assert n_validation == 10 * PER_CLASS["validation"]
    assert np.all(np.bincount(train_labels[:-n_validation]) == PER_CLASS["train"])
    assert np.all(np.bincount(train_labels[-n_validation:]) == PER_CLASS["validation"])
    assert np.all(np.bincount(test_labels) == PER_CLASS["test"])
    assert len(np.unique(train_labels[:30])) > 5  # the first few are of mixed digits


@needs_full_set
def test_sample_is_real_mnist_drawn_as_documented():
    full_train_images, full_train_labels = read_part(FULL_SET_DIR, "train")
    full_test_images, full_test_labels = read_part(FULL_SET_DIR, "test")
    train_indices, test_indices = draw_indices(full_train_labels, full_test_labels)
    with np.load(SAMPLE_PATH) as stored:
        np.testing.assert_array_equal(stored["train_indices"], train_indices)
        np.testing.assert_array_equal(stored["test_indices"], test_indices)
        np.testing.assert_array_equal(stored["train_images"], full_train_images[train_indices])
        np.testing.assert_array_equal(stored["test_labels"], full_test_labels[test_indices])
    assert len(np.unique(train_indices)) == 30_000


def test_make_sample_writes_a_sample_from_a_verified_folder(fake_mnist, tmp_path, monkeypatch):
    monkeypatch.setitem(PER_CLASS, "train", 0)  # the fake set has too few digits per class
    monkeypatch.setitem(PER_CLASS, "validation", 0)
    monkeypatch.setitem(PER_CLASS, "test", 0)
    out = tmp_path / "sample.npz"
    main(["--from", str(fake_mnist.directory), "--out", str(out)])
    with np.load(out) as written:
        assert written["train_images"].shape == (0, 28, 28)


def test_make_sample_refuses_files_that_are_not_mnist(fake_mnist, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        catalog,
        "FILES",
        tuple(
            catalog.MnistFile(entry.part, entry.kind, entry.name, "0" * 64)
            for entry in catalog.FILES
        ),
    )
    with pytest.raises(SystemExit) as stopped:
        main(["--from", str(fake_mnist.directory), "--out", str(tmp_path / "sample.npz")])
    assert stopped.value.code == 2
    assert "is not MNIST's" in capsys.readouterr().err
    assert not (tmp_path / "sample.npz").exists()
