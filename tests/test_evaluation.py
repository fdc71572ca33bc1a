"""The metrics with the real shipped classifier: real digits score like real digits.

A stand-in "model" that returns real test digits should score near the FID floor, read as
the digits it was asked for exactly as often as the classifier is right on them, and cover
all ten classes; noise should score far above the floor. Samples are a few hundred images
and the reference at most a few thousand, so this runs in seconds.
"""

import math

import numpy as np
import pytest

from minnet.data import load_mnist
from minnet.evaluation import metrics
from minnet.models.classifier import load_classifier

N_SAMPLES = 300
N_POOL = 500  # test digits the stand-in models draw from; those after them are the reference
N_REFERENCE = 3_000  # at most: the bundled sample's test split has 1,000 digits in all


class RealDigits:
    """A conditional "model" whose samples are real test digits of the asked-for labels."""

    conditional = True

    def __init__(self, images, labels):
        self.images, self.labels = images, labels

    def sample(self, n, labels=None, rng=None):
        rng = rng or np.random.default_rng(0)
        labels = rng.integers(0, 10, n) if labels is None else labels
        return np.stack([self.images[rng.choice(np.flatnonzero(self.labels == label))] for label in labels])


class Noise:
    """An unconditional "model" drawing uniform noise."""

    def sample(self, n, labels=None, rng=None):
        return (rng or np.random.default_rng(0)).random((n, 28, 28), dtype=np.float32)


@pytest.fixture(scope="module")
def setting():
    classifier = load_classifier()
    test = load_mnist("test", limit=N_POOL + N_REFERENCE)
    pool = RealDigits(test.images[:N_POOL], test.labels[:N_POOL])
    reference = test.images[N_POOL : N_POOL + N_REFERENCE]
    context = metrics.EvaluationContext(classifier, reference, n_samples=N_SAMPLES, batch_size=150)
    train = load_mnist("train_full", limit=5_000)
    floor = metrics.fid_floor(classifier, train.images, context.reference_statistics(), n=N_SAMPLES)
    return classifier, pool, context, floor


def test_real_digits_score_near_the_floor_and_noise_far_above(setting):
    _, pool, context, floor = setting
    real = metrics.evaluate(pool, context)["fid"]
    noise = metrics.evaluate(Noise(), context)["fid"]
    assert floor > 0
    assert real < 2 * floor
    assert noise > 20 * floor


def test_conditional_accuracy_of_real_digits_is_the_classifiers_accuracy(setting):
    classifier, pool, context, _ = setting
    values = metrics.evaluate(pool, context)
    images, labels = context.samples(pool)
    # evaluate classifies in batches of 150, accuracy in batches of 500: float32 logits that may
    # differ in the last bit, so an image on the fence between two digits may go either way. The
    # tolerance lets one image (1/300) do so; labels misaligned with the images would cost ~0.9.
    one_image = 1 / N_SAMPLES
    assert values["conditional_accuracy"] == pytest.approx(classifier.accuracy(images, labels), abs=1.5 * one_image)
    assert values["conditional_accuracy"] > 0.97


def test_real_digits_cover_every_class(setting):
    _, pool, context, _ = setting
    assert metrics.evaluate(pool, context)["class_coverage"] > 0.98 * math.log(10)
