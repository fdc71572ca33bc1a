"""The evaluator classifier: shapes, the shipped weights, their accuracy, and training."""

import dataclasses
import os

import numpy as np
import pytest

from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.evaluation import metrics
from minnet.models import classifier as classifier_module
from minnet.models.classifier import (
    SHIPPED_WEIGHTS,
    Classifier,
    ClassifierConfig,
    load_classifier,
    main,
    random_shifts,
    train_classifier,
)
from minnet.training.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def shipped():
    return load_classifier()


def test_features_and_predictions_have_the_documented_shapes(rng):
    classifier = Classifier(ClassifierConfig(hidden=32), rng=0)
    images = rng.random((7, 28, 28), dtype=np.float32)
    assert isinstance(classifier, metrics.FeatureExtractor)
    features = classifier.features(images)
    assert features.shape == (7, 32) and features.dtype == np.float32
    assert features.min() >= 0  # ReLU outputs
    predictions = classifier.predict(images)
    assert predictions.shape == (7,) and predictions.dtype.kind == "i"
    assert set(predictions) <= set(range(10))


def test_batching_does_not_change_the_results(rng, monkeypatch):
    classifier = Classifier(ClassifierConfig(), rng=0)
    images = rng.random((7, 28, 28), dtype=np.float32)
    whole = classifier.features(images), classifier.logits(images)
    monkeypatch.setattr(classifier_module._inference, "__defaults__", (3,))
    np.testing.assert_allclose(classifier.features(images), whole[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(classifier.logits(images), whole[1], rtol=1e-5, atol=1e-6)


def test_shipped_weights_load_and_are_small(shipped):
    assert os.path.getsize(SHIPPED_WEIGHTS) < 2 * 1024 * 1024
    assert shipped.info["test_accuracy"] >= 0.992
    assert shipped.info["data"]["train"] == 60_000
    assert {"channels", "kernel", "hidden", "epochs", "seed"} <= set(shipped.info)


def test_shipped_classifier_reads_test_digits(shipped):
    test = load_mnist("test", limit=1000)
    assert shipped.accuracy(test.images, test.labels) >= 0.98


def test_training_lowers_the_loss():
    data = load_mnist("train_full", limit=128)
    config = ClassifierConfig(epochs=2, batch_size=32)
    _, losses = train_classifier(data, config, seed=0)
    assert len(losses) == 2
    assert losses[1] < losses[0]


def test_training_is_reproducible():
    data = load_mnist("train_full", limit=64)
    config = ClassifierConfig(epochs=1, batch_size=32)
    first, _ = train_classifier(data, config, seed=3)
    second, _ = train_classifier(data, config, seed=3)
    for name, weights in first.network.state_dict().items():
        np.testing.assert_array_equal(weights, second.network.state_dict()[name], err_msg=name)


def test_random_shifts_move_whole_images(rng):
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 10, 12] = 1
    shifted = random_shifts(np.repeat(image, 50, axis=0), 2, rng)
    rows, cols = np.nonzero(shifted.reshape(50, -1))[1] // 28, np.nonzero(shifted.reshape(50, -1))[1] % 28
    assert len(rows) == 50  # the dot survives in every copy
    assert set(rows - 10) <= {-2, -1, 0, 1, 2} and set(cols - 12) <= {-2, -1, 0, 1, 2}
    assert len(set(zip(rows, cols))) > 5
    assert random_shifts(image, 0, rng) is image


def test_a_checkpoint_of_something_else_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    save_checkpoint(path, {"W": np.zeros(3)}, dataclasses.asdict(ClassifierConfig()))
    with pytest.raises(MinnetError, match="does not hold classifier weights"):
        load_classifier(path)
    with pytest.raises(MinnetError, match="no checkpoint"):
        load_classifier(tmp_path / "missing.npz")


def test_command_line_reports_missing_data_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--epochs", "1", "--out", str(tmp_path / "c.npz"), "--data-dir", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "c.npz").exists()
