"""Sample-quality measures for generative models of MNIST, computed in a classifier's space.

The Inception network of the usual FID knows nothing about digits, so here a small MNIST
classifier (``minnet.models.classifier``) plays its part: its penultimate layer gives the
features, its output the predicted digit. Everything takes that classifier as an argument of
the :class:`FeatureExtractor` shape, so any object with the two methods can stand in (tests use
a fixed random projection).

Measures
--------
* :func:`classifier_frechet_distance`: the Fréchet distance between Gaussians fitted to the
  features of generated and of real images ("FID"; lower is better, 0 for equal statistics).
  :func:`fid_floor` gives the value for real training images against the test set, the best a
  model can hope for with that many samples.
* :func:`conditional_accuracy`: how often the classifier recognises the digit a conditional
  model was asked for.
* :func:`class_coverage`: entropy of the histogram of predicted digits; ``ln 10 ~ 2.303`` when
  every digit is produced equally often, 0 when the model makes one digit only.

The registry
------------
The evaluator asks :func:`metrics_for` which :class:`Metric` applies to a trainer and calls each
one with the trainer and an :class:`EvaluationContext` (classifier, test set, sample count,
cached samples). A model with a measure of its own registers it beside its trainer, with no
change to the evaluator::

    @register_metric("test_nll_bound", "negative ELBO on the test set, nats per image",
                     applies_to=lambda trainer: hasattr(trainer, "elbo"))
    def test_nll_bound(trainer, context):
        return -float(np.mean(trainer.elbo(context.test_images)))

and a latent-inference model (BiGAN/ALI) registers a reconstruction error the same way, with
``applies_to`` testing for its encoder. The trainer side is only what
:class:`GenerativeModel` lists.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np

from minnet.backend import to_numpy
from minnet.data import NUM_CLASSES
from minnet.errors import MinnetError
from minnet.evaluation.frechet import feature_statistics, frechet_distance
from minnet.init import as_rng

DEFAULT_SAMPLES = 10_000
DEFAULT_BATCH_SIZE = 500
DEFAULT_IMPORTANCE_SAMPLES = 100  # latent draws per image of an importance-sampled likelihood
DEFAULT_IMPORTANCE_IMAGES = 1_000  # test images it is estimated on


# ---------------------------------------------------------------------------- interfaces


@runtime_checkable
class FeatureExtractor(Protocol):
    """What the metrics need from a classifier.

    ``images`` are NumPy arrays (N, 28, 28) with intensities in [0, 1]; results may be NumPy
    or CuPy arrays.
    """

    def features(self, images):
        """Feature vectors (N, D), e.g. the classifier's penultimate-layer activations."""

    def predict(self, images):
        """Predicted class labels (N,), integers 0..9."""


@runtime_checkable
class GenerativeModel(Protocol):
    """What the built-in metrics need from a trainer.

    Attributes
    ----------
    conditional : bool
        True when :meth:`sample` honours ``labels``. May be left out (read as False).
    """

    def sample(self, n, labels=None, rng=None):
        """``n`` images as a NumPy array (n, 28, 28) in [0, 1]; image ``i`` shows digit
        ``labels[i]`` when the model is conditional and ``labels`` is given. Noise comes from
        ``rng`` (a ``numpy.random.Generator``) when given, else from the trainer's own."""


# ---------------------------------------------------------------------------- Fréchet distance
# frechet_distance and feature_statistics are in minnet.evaluation.frechet (imported above).


def image_statistics(extractor, images, batch_size=DEFAULT_BATCH_SIZE):
    """:func:`feature_statistics` of the classifier features of ``images`` (N, 28, 28)."""
    return feature_statistics(extract_features(extractor, images, batch_size))


def extract_features(extractor, images, batch_size=DEFAULT_BATCH_SIZE):
    """``extractor.features`` over ``images`` (N, 28, 28) in batches: NumPy (N, D)."""
    return in_batches(extractor.features, images, batch_size)


def predict_labels(extractor, images, batch_size=DEFAULT_BATCH_SIZE):
    """``extractor.predict`` over ``images`` (N, 28, 28) in batches: NumPy int64 (N,)."""
    return in_batches(extractor.predict, images, batch_size).astype(np.int64)


def in_batches(function, images, batch_size=DEFAULT_BATCH_SIZE):
    """``function`` applied to consecutive slices of ``images``, results joined as NumPy."""
    starts = range(0, len(images), batch_size)
    return np.concatenate([to_numpy(function(images[i : i + batch_size])) for i in starts])


def classifier_frechet_distance(extractor, generated, reference, batch_size=DEFAULT_BATCH_SIZE):
    """FID in the classifier's feature space: :func:`frechet_distance` between Gaussians fitted
    to the features of ``generated`` and of ``reference`` images (each (N, 28, 28), N >= 2)."""
    return frechet_distance(
        *image_statistics(extractor, generated, batch_size),
        *image_statistics(extractor, reference, batch_size),
    )


def fid_floor(
    extractor, train_images, test_statistics, n=DEFAULT_SAMPLES, rng=None, batch_size=DEFAULT_BATCH_SIZE
):
    """FID of ``n`` real training images against the test set: what a perfect model would
    score with ``n`` samples, since the estimate is biased upwards for finite ``n``.

    ``test_statistics`` is ``(mu, sigma)`` of the test images' features
    (:func:`image_statistics`), computed once and shared with the models' FID. The ``n`` images
    are drawn without replacement with ``rng`` (default: seed 0, so the floor is reproducible).
    """
    if n > len(train_images):
        raise MinnetError(
            f"the FID floor needs {n} training images, only {len(train_images)} are loaded"
        )
    rng = np.random.default_rng(0) if rng is None else rng
    chosen = np.sort(rng.choice(len(train_images), size=n, replace=False))
    return frechet_distance(*image_statistics(extractor, train_images[chosen], batch_size), *test_statistics)


# ---------------------------------------------------------------------------- labels


def conditional_accuracy(extractor, images, labels, batch_size=DEFAULT_BATCH_SIZE):
    """Fraction of ``images`` (N, 28, 28) classified as the asked-for ``labels`` (N,)."""
    return float(np.mean(predict_labels(extractor, images, batch_size) == to_numpy(labels)))


class ClassCoverage(NamedTuple):
    """Result of :func:`class_coverage`."""

    entropy: float
    """Entropy of the predicted-label distribution, in nats; at most ``ln(n_classes)``."""
    counts: np.ndarray
    """Number of images predicted as each class, (n_classes,)."""


def class_coverage(extractor, images, n_classes=NUM_CLASSES, batch_size=DEFAULT_BATCH_SIZE):
    r"""How evenly the classifier's predictions on ``images`` spread over the classes.

    With :math:`p_k` the fraction of images predicted as class :math:`k`,

    .. math:: H = -\sum_k p_k \ln p_k \quad (0 \ln 0 = 0),

    which is :math:`\ln 10 \approx 2.303` when every digit is equally frequent and 0 when all
    images look like one digit (mode collapse).

    Returns
    -------
    ClassCoverage
        ``(entropy, counts)``.
    """
    return coverage_of_labels(predict_labels(extractor, images, batch_size), n_classes)


def coverage_of_labels(predicted, n_classes=NUM_CLASSES):
    """:func:`class_coverage` from labels already predicted, ``predicted`` (N,) integers."""
    counts = np.bincount(predicted, minlength=n_classes)
    fractions = counts[counts > 0] / counts.sum()
    return ClassCoverage(float(-np.sum(fractions * np.log(fractions))) + 0.0, counts)  # + 0.0: no -0.0


# ---------------------------------------------------------------------------- registry


@dataclass
class EvaluationContext:
    """What a metric may use besides the trainer, shared by all metrics of one evaluation.

    Samples are drawn once per trainer and shared, so FID, coverage and accuracy judge the same
    images, and a slow sampler (an LSTM drawing pixel by pixel) runs only once.

    Attributes
    ----------
    extractor : FeatureExtractor
        The MNIST classifier.
    test_images : ndarray (N, 28, 28) in [0, 1]
        The reference set for FID, and the data for likelihood or reconstruction measures.
    test_labels : ndarray (N,), optional
    n_samples : int
        How many images to generate per trainer (default 10,000, as for the FID floor).
    batch_size : int
        Images per call to the classifier and to ``trainer.sample``.
    seed : int
        Seeds the noise of ``trainer.sample``, so evaluating a checkpoint twice gives the same
        numbers and leaves the trainer's own random state alone.
    reference : tuple, optional
        ``(mu, sigma)`` of the test images' features (:func:`image_statistics`), when they are
        known already; else computed on first use.
    binary_test_images : ndarray (N, 28, 28) of 0s and 1s, optional
        The statically binarized test set, for the likelihoods of models of binary pixels.
    importance_samples, importance_images : int
        Latent draws per image, and how many of the first binary test images, for
        importance-sampled likelihoods.
    digits : tuple of int, optional
        The digits the model was trained on (``--digits``), when not all ten: a conditional
        trainer is asked for these only, and ``reference`` should describe these only.
    """

    extractor: FeatureExtractor
    test_images: np.ndarray
    test_labels: np.ndarray = None
    n_samples: int = DEFAULT_SAMPLES
    batch_size: int = DEFAULT_BATCH_SIZE
    seed: int = 0
    _samples: dict = field(default_factory=dict, init=False, repr=False)
    _predictions: dict = field(default_factory=dict, init=False, repr=False)
    _shared: dict = field(default_factory=dict, init=False, repr=False)
    reference: tuple = field(default=None, repr=False)
    binary_test_images: np.ndarray = field(default=None, repr=False)
    importance_samples: int = DEFAULT_IMPORTANCE_SAMPLES
    importance_images: int = DEFAULT_IMPORTANCE_IMAGES
    digits: tuple = None

    def samples(self, trainer):
        """``n_samples`` images from ``trainer`` and the labels asked for, ``(images, labels)``.

        A conditional trainer is asked for every digit (of ``digits``) equally often (labels
        ``0, 1, ..., 9, 0, 1, ...``); for an unconditional one ``labels`` is None. Drawn in batches of
        ``batch_size`` with noise seeded by ``seed`` on the first call, then reused for the same
        trainer.
        """
        key = id(trainer)
        if key not in self._samples:
            asked = np.asarray(self.digits or range(NUM_CLASSES))
            labels = asked[np.arange(self.n_samples) % len(asked)] if _is_conditional(trainer) else None
            rng = np.random.default_rng(self.seed)
            images = draw_samples(trainer, self.n_samples, labels, rng, self.batch_size)
            # The trainer is kept in the entry so its id cannot be reused while it is cached.
            self._samples[key] = (trainer, images, labels)
        _, images, labels = self._samples[key]
        return images, labels

    def predictions(self, trainer):
        """The classifier's digit for each image of :meth:`samples`, (n_samples,) int64.

        Computed on the first call and shared by the metrics that count digits.
        """
        key = id(trainer)
        if key not in self._predictions:
            images, _ = self.samples(trainer)  # caches the trainer, so its id stays unique
            self._predictions[key] = predict_labels(self.extractor, images, self.batch_size)
        return self._predictions[key]

    def shared(self, name, trainer, compute):
        """``compute(trainer)``, computed on the first call for this ``name`` and trainer and then
        reused: for a value that several metrics read (a bound and its terms)."""
        key = (name, id(trainer))
        if key not in self._shared:
            self._shared[key] = (trainer, compute(trainer))  # the trainer keeps its id unique
        return self._shared[key][1]

    def reference_statistics(self):
        """(mu, sigma) of the test-set features, computed on the first call."""
        if self.reference is None:
            self.reference = image_statistics(self.extractor, self.test_images, self.batch_size)
        return self.reference


def draw_samples(trainer, n, labels, rng, batch_size=DEFAULT_BATCH_SIZE, **options):
    """``n`` samples of ``trainer`` as one NumPy array, drawn ``batch_size`` at a time.

    ``labels`` (n,) are the digits asked for (None for an unconditional trainer); ``rng`` (a
    Generator or an int seed) draws the noise of every batch in turn; ``options`` go to
    ``trainer.sample``. Drawing in batches bounds the memory the networks need, however many
    samples are asked for.
    """
    rng = None if rng is None else as_rng(rng, "draw_samples")
    batches = []
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        batch_labels = None if labels is None else labels[start : start + count]
        batches.append(to_numpy(trainer.sample(count, labels=batch_labels, rng=rng, **options)))
    return np.concatenate(batches)


def _applies_to_all(trainer):
    return True


@dataclass(frozen=True)
class Metric:
    """One named measure of a trained model.

    Attributes
    ----------
    name : str
        Short key for tables and logs, e.g. ``"fid"``.
    description : str
        One line for reports; ``{n_samples}``, ``{importance_samples}`` and
        ``{importance_images}`` are replaced by the context's numbers (see :meth:`describe`).
    compute : callable (trainer, EvaluationContext) -> float
    applies_to : callable (trainer) -> bool
        Whether the measure makes sense for this trainer.
    lower_is_better : bool
    """

    name: str
    description: str
    compute: Callable
    applies_to: Callable = _applies_to_all
    lower_is_better: bool = True

    def describe(self, context):
        """The description with the context's numbers filled in."""
        return self.description.format(
            n_samples=f"{context.n_samples:,}",
            importance_samples=f"{context.importance_samples:,}",
            importance_images=f"{context.importance_images:,}",
        )


_REGISTRY: dict = {}


def register_metric(name, description, *, applies_to=_applies_to_all, lower_is_better=True):
    """Decorator adding ``compute(trainer, context) -> float`` to the registry as :class:`Metric`.

    Metrics are listed by :func:`metrics_for` in the order they were registered. Raises
    ``ValueError`` if ``name`` is taken.
    """

    def decorate(compute):
        if name in _REGISTRY:
            raise ValueError(f"a metric named {name!r} is already registered")
        _REGISTRY[name] = Metric(name, description, compute, applies_to, lower_is_better)
        return compute

    return decorate


def metrics_for(trainer):
    """The registered :class:`Metric` objects that apply to ``trainer``, in registration order."""
    return [metric for metric in _REGISTRY.values() if metric.applies_to(trainer)]


def evaluate(trainer, context):
    """Compute every metric that applies to ``trainer``: ``{name: value}``."""
    return {metric.name: metric.compute(trainer, context) for metric in metrics_for(trainer)}


def _is_conditional(trainer):
    return bool(getattr(trainer, "conditional", False))


@register_metric("fid", "classifier-space FID, {n_samples} samples against the test set")
def _fid(trainer, context):
    images, _ = context.samples(trainer)
    generated = image_statistics(context.extractor, images, context.batch_size)
    return frechet_distance(*generated, *context.reference_statistics())


@register_metric(
    "conditional_accuracy",
    "fraction of {n_samples} samples the classifier reads as the digit asked for",
    applies_to=_is_conditional,
    lower_is_better=False,
)
def _conditional_accuracy(trainer, context):
    _, labels = context.samples(trainer)
    return float(np.mean(context.predictions(trainer) == labels))


@register_metric(
    "class_coverage",
    "entropy of the predicted digits of {n_samples} samples, nats"
    f" (at most ln 10 = {math.log(10):.3f})",
    lower_is_better=False,
)
def _class_coverage(trainer, context):
    return coverage_of_labels(context.predictions(trainer)).entropy
