"""Fréchet distance against closed forms, label-based measures and the metric registry,
with a stand-in classifier and stand-in trainers."""

import math

import numpy as np
import pytest
import scipy.linalg

from minnet.errors import MinnetError
from minnet.evaluation import metrics


class StandInClassifier:
    """A :class:`metrics.FeatureExtractor` whose answers are known.

    Features: a fixed random projection of the pixels to 8 numbers. Prediction: the digit
    written into pixel (0, 0) as ``digit / 9`` by :func:`images_of_digits`.
    """

    def __init__(self):
        self.projection = np.random.default_rng(0).standard_normal((28 * 28, 8))
        self.images_predicted = 0

    def features(self, images):
        return images.reshape(len(images), -1) @ self.projection

    def predict(self, images):
        self.images_predicted += len(images)
        return np.rint(images[:, 0, 0] * 9).astype(int)


def images_of_digits(digits, rng):
    """Noise images (N, 28, 28) that :class:`StandInClassifier` reads as ``digits``."""
    images = rng.random((len(digits), 28, 28)) * 0.5
    images[:, 0, 0] = np.asarray(digits) / 9
    return images


class StandInTrainer:
    """A trainer that draws random digits, or the asked-for ones when ``conditional``."""

    def __init__(self, conditional):
        self.conditional = conditional
        self.rng = np.random.default_rng(7)
        self.sample_calls = 0

    def sample(self, n, labels=None, rng=None):
        self.sample_calls += 1
        rng = rng or self.rng
        digits = labels if labels is not None else rng.integers(0, 10, n)
        return images_of_digits(digits, rng)


def sqrtm_frechet_distance(mu1, sigma1, mu2, sigma2):
    """The textbook formula with scipy's general matrix square root, as a reference."""
    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    return np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * root.real)


def random_covariance(rng, dimension):
    factor = rng.standard_normal((dimension, dimension))
    return factor @ factor.T / dimension + 0.1 * np.eye(dimension)


# ---------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance_of_diagonal_gaussians_has_a_closed_form(rng):
    # With Sigma = diag(s^2): d^2 = |mu1 - mu2|^2 + sum_i (s1_i - s2_i)^2.
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    std1, std2 = rng.uniform(0.1, 2, 5), rng.uniform(0.1, 2, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((std1 - std2) ** 2)
    distance = metrics.frechet_distance(mu1, np.diag(std1**2), mu2, np.diag(std2**2))
    assert distance == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_identical_gaussians_is_zero(rng):
    mu, sigma = rng.standard_normal(6), random_covariance(rng, 6)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0, abs=1e-10)


def test_frechet_distance_matches_the_sqrtm_formula_and_is_symmetric(rng):
    mu1, mu2 = rng.standard_normal(10), rng.standard_normal(10)
    sigma1, sigma2 = random_covariance(rng, 10), random_covariance(rng, 10)
    distance = metrics.frechet_distance(mu1, sigma1, mu2, sigma2)
    assert distance == pytest.approx(sqrtm_frechet_distance(mu1, sigma1, mu2, sigma2), rel=1e-9)
    assert metrics.frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(distance, rel=1e-9)


def test_frechet_distance_handles_singular_covariances(rng):
    mu1, mu2 = rng.standard_normal(4), rng.standard_normal(4)
    sigma = random_covariance(rng, 4)
    # A point mass against a Gaussian: the cross term vanishes.
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma)
    distance = metrics.frechet_distance(mu1, np.zeros((4, 4)), mu2, sigma)
    assert distance == pytest.approx(expected, rel=1e-10)
    # The same rank-one Gaussian twice (fewer samples than dimensions look like this).
    direction = rng.standard_normal((4, 1))
    rank_one = direction @ direction.T
    # Rounding leaves eigenvalues ~1e-16 * scale, whose square roots are ~1e-8 * scale.
    scale = np.trace(rank_one)
    assert metrics.frechet_distance(mu1, rank_one, mu1, rank_one) == pytest.approx(
        0, abs=1e-6 * scale
    )


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="mismatched"):
        metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2))


def test_estimates_from_samples_approach_the_closed_form(rng):
    mu1, std1 = np.array([0.0, 1.0, -1.0]), np.array([1.0, 0.5, 2.0])
    mu2, std2 = np.array([1.0, 1.0, 0.0]), np.array([2.0, 0.5, 1.0])
    exact = np.sum((mu1 - mu2) ** 2) + np.sum((std1 - std2) ** 2)  # = 4
    errors = []
    for count in (100, 100_000):
        first = metrics.feature_statistics(mu1 + std1 * rng.standard_normal((count, 3)))
        second = metrics.feature_statistics(mu2 + std2 * rng.standard_normal((count, 3)))
        errors.append(abs(metrics.frechet_distance(*first, *second) - exact))
    assert errors[1] < 0.05 * exact
    assert errors[1] < errors[0]


def test_feature_statistics_are_float64_mean_and_unbiased_covariance(rng):
    features = rng.standard_normal((50, 3)).astype(np.float32)
    mu, sigma = metrics.feature_statistics(features)
    assert mu.dtype == sigma.dtype == np.float64
    assert sigma.shape == (3, 3)
    np.testing.assert_allclose(mu, features.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(sigma, np.cov(features.astype(np.float64).T))
    with pytest.raises(MinnetError, match="at least 2"):
        metrics.feature_statistics(features[:1])


def test_classifier_frechet_distance_is_zero_for_the_same_images_and_batch_independent(rng):
    classifier = StandInClassifier()
    real = images_of_digits(rng.integers(0, 10, 300), rng)
    darker = real * 0.5
    assert metrics.classifier_frechet_distance(classifier, real, real) == pytest.approx(0, abs=1e-6)
    whole = metrics.classifier_frechet_distance(classifier, darker, real, batch_size=1000)
    batched = metrics.classifier_frechet_distance(classifier, darker, real, batch_size=7)
    assert whole > 1 and batched == pytest.approx(whole, rel=1e-9)


def test_fid_floor_compares_real_images_and_needs_enough_of_them(rng):
    classifier = StandInClassifier()
    train = images_of_digits(rng.integers(0, 10, 400), rng)
    test = images_of_digits(rng.integers(0, 10, 400), rng)
    test_statistics = metrics.image_statistics(classifier, test)
    floor = metrics.fid_floor(classifier, train, test_statistics, n=300)
    assert 0 < floor < metrics.classifier_frechet_distance(classifier, train * 0.5, test)
    assert metrics.fid_floor(classifier, train, test_statistics, n=300) == floor  # seeded: reproducible
    with pytest.raises(MinnetError, match="needs 500 training images"):
        metrics.fid_floor(classifier, train, test_statistics, n=500)


# ---------------------------------------------------------------------------- labels


def test_conditional_accuracy_counts_matching_predictions(rng):
    classifier = StandInClassifier()
    labels = np.arange(100) % 10
    images = images_of_digits(labels, rng)
    assert metrics.conditional_accuracy(classifier, images, labels) == 1.0
    half_wrong = np.where(np.arange(100) < 50, labels, (labels + 1) % 10)
    assert metrics.conditional_accuracy(classifier, images, half_wrong, batch_size=16) == 0.5


def test_class_coverage_is_ln10_when_balanced_and_0_for_one_class(rng):
    classifier = StandInClassifier()
    balanced = metrics.class_coverage(classifier, images_of_digits(np.arange(200) % 10, rng))
    assert balanced.entropy == pytest.approx(math.log(10))
    np.testing.assert_array_equal(balanced.counts, np.full(10, 20))
    collapsed = metrics.class_coverage(classifier, images_of_digits(np.full(50, 3), rng))
    assert collapsed.entropy == 0.0
    assert collapsed.counts[3] == 50 and collapsed.counts.sum() == 50
    two_classes = metrics.class_coverage(classifier, images_of_digits([1, 2] * 10, rng))
    assert two_classes.entropy == pytest.approx(math.log(2))


# ---------------------------------------------------------------------------- registry


def _context(rng, n_samples=200):
    test_images = images_of_digits(np.arange(300) % 10, rng)
    return metrics.EvaluationContext(
        StandInClassifier(), test_images, n_samples=n_samples, batch_size=64
    )


def test_conditional_accuracy_is_selected_only_for_conditional_trainers():
    conditional = [m.name for m in metrics.metrics_for(StandInTrainer(conditional=True))]
    unconditional = [m.name for m in metrics.metrics_for(StandInTrainer(conditional=False))]
    assert conditional == ["fid", "conditional_accuracy", "class_coverage"]
    assert unconditional == ["fid", "class_coverage"]
    assert [m.name for m in metrics.metrics_for(object())] == ["fid", "class_coverage"]


def test_evaluate_runs_the_builtin_metrics_on_one_shared_set_of_samples(rng):
    trainer, context = StandInTrainer(conditional=True), _context(rng)
    results = metrics.evaluate(trainer, context)
    assert set(results) == {"fid", "conditional_accuracy", "class_coverage"}
    assert results["conditional_accuracy"] == 1.0
    assert results["class_coverage"] == pytest.approx(math.log(10))  # labels asked for evenly
    assert trainer.sample_calls == math.ceil(200 / 64)  # drawn once, in batches
    assert context.extractor.images_predicted == 200  # classified once for both digit metrics
    images, labels = context.samples(trainer)
    direct = metrics.classifier_frechet_distance(context.extractor, images, context.test_images)
    assert results["fid"] == pytest.approx(direct, rel=1e-9)
    assert images.shape == (200, 28, 28)
    np.testing.assert_array_equal(labels, np.arange(200) % 10)


def test_unconditional_samples_carry_no_labels_and_are_seeded(rng):
    images, labels = _context(rng, n_samples=30).samples(StandInTrainer(conditional=False))
    assert images.shape == (30, 28, 28) and labels is None
    again, _ = _context(rng, n_samples=30).samples(StandInTrainer(conditional=False))
    np.testing.assert_array_equal(again, images)


def test_descriptions_state_the_sample_count(rng):
    (fid,) = [m for m in metrics.metrics_for(object()) if m.name == "fid"]
    assert "10,000 samples" in fid.describe(metrics.EvaluationContext(StandInClassifier(), None))
    assert "200 samples" in fid.describe(_context(rng))


def test_a_model_can_register_its_own_metric(rng, monkeypatch):
    monkeypatch.setattr(metrics, "_REGISTRY", dict(metrics._REGISTRY))

    @metrics.register_metric(
        "test_mean_intensity",
        "mean test-image intensity, a stand-in for a likelihood bound",
        applies_to=lambda trainer: hasattr(trainer, "elbo"),
    )
    def mean_intensity(trainer, context):
        return float(context.test_images.mean())

    class VariationalTrainer(StandInTrainer):
        def elbo(self, images):
            return np.zeros(len(images))

    names = [m.name for m in metrics.metrics_for(VariationalTrainer(conditional=False))]
    assert names == ["fid", "class_coverage", "test_mean_intensity"]
    assert "test_mean_intensity" not in [
        m.name for m in metrics.metrics_for(StandInTrainer(conditional=False))
    ]
    context = _context(rng, n_samples=20)
    assert metrics.evaluate(VariationalTrainer(False), context)["test_mean_intensity"] == (
        pytest.approx(context.test_images.mean())
    )
    with pytest.raises(ValueError, match="already registered"):
        metrics.register_metric("fid", "again")(mean_intensity)


def test_the_stand_ins_satisfy_the_protocols():
    assert isinstance(StandInClassifier(), metrics.FeatureExtractor)
    assert isinstance(StandInTrainer(conditional=True), metrics.GenerativeModel)


def test_a_model_of_some_digits_is_asked_for_those_only(rng):
    trainer = StandInTrainer(conditional=True)
    context = metrics.EvaluationContext(
        StandInClassifier(), images_of_digits(np.arange(300) % 10, rng), n_samples=90, batch_size=64, digits=(2, 5, 7)
    )
    _, labels = context.samples(trainer)
    np.testing.assert_array_equal(labels, np.tile([2, 5, 7], 30))
    assert metrics.evaluate(trainer, context)["class_coverage"] == pytest.approx(math.log(3))
