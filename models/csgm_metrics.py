"""CSGM's measures: within-digit variety, and the usual ones for Algorithm 2's sampler.

Within-digit spread (``within_digit_std``): for each digit k, the per-pixel standard deviation
across the renders asked to show k, averaged over the 784 pixels; then the mean over the
digits present:

    spread = mean_k mean_pixels std_{i: label_i = k} x_i[pixel]

0 when every render of a digit is the same image; 0.156 for the 10,000 MNIST test digits
(0.143 for the first 500). ``minnet eval`` reports it, FID and accuracy for the default sampler (the
``fid``, ``conditional_accuracy`` of :mod:`minnet.evaluation.metrics`) and, as ``paper_*``, for Algorithm
2 (``--sampler paper``), on the same number of samples.
"""

import functools

import numpy as np

from minnet.data import NUM_CLASSES, load_mnist
from minnet.evaluation.metrics import (
    EvaluationContext,
    evaluate,
    frechet_distance,
    image_statistics,
    register_metric,
)


def within_digit_std(images, labels):
    """The mean over digits of the mean per-pixel std across that digit's images (N, H, W)."""
    spreads = [images[labels == k].std(axis=0).mean() for k in range(NUM_CLASSES) if np.sum(labels == k) > 1]
    return float(np.mean(spreads))


class PaperSampler:
    """A CSGM trainer seen through Algorithm 2, for the metrics' sample cache."""

    conditional = True

    def __init__(self, trainer):
        self.trainer = trainer

    def sample(self, n, labels=None, rng=None):
        return self.trainer.sample(n, labels, rng, sampler="paper")


def _is_csgm(trainer):
    return getattr(trainer, "name", None) == "csgm"


def _paper(trainer):
    """The one PaperSampler of ``trainer`` (one object, so the context caches its samples)."""
    if not hasattr(trainer, "_paper_sampler"):
        trainer._paper_sampler = PaperSampler(trainer)
    return trainer._paper_sampler


@register_metric(
    "within_digit_std",
    "mean over digits of the per-pixel std across {n_samples} renders (default sampler)",
    applies_to=_is_csgm,
    lower_is_better=False,
)
def _within_digit_std(trainer, context):
    return within_digit_std(*context.samples(trainer))


@register_metric("paper_fid", "classifier-space FID of {n_samples} Algorithm 2 samples", applies_to=_is_csgm)
def _paper_fid(trainer, context):
    images, _ = context.samples(_paper(trainer))
    return frechet_distance(
        *image_statistics(context.extractor, images, context.batch_size), *context.reference_statistics()
    )


@register_metric(
    "paper_conditional_accuracy",
    "fraction of {n_samples} Algorithm 2 samples read as the digit asked for",
    applies_to=_is_csgm,
    lower_is_better=False,
)
def _paper_accuracy(trainer, context):
    _, labels = context.samples(_paper(trainer))
    return float(np.mean(context.predictions(_paper(trainer)) == labels))


@register_metric(
    "paper_within_digit_std",
    "within_digit_std of {n_samples} Algorithm 2 samples",
    applies_to=_is_csgm,
    lower_is_better=False,
)
def _paper_within_digit_std(trainer, context):
    return within_digit_std(*context.samples(_paper(trainer)))


@functools.cache
def _classifier_and_test(data_dir):
    from minnet.models.classifier import load_classifier

    return load_classifier(), load_mnist("test", data_dir=data_dir)


def epoch_measures(trainer, run, n_samples):
    """Every measure that applies to csgm (:func:`minnet.evaluation.metrics.evaluate`), on ``n_samples`` samples
    per sampler (seed: the run's), against the test set; {} when ``n_samples`` is 0."""
    if n_samples == 0:
        return {}
    classifier, test = _classifier_and_test(run.data_dir)
    context = EvaluationContext(classifier, test.images, test.labels, n_samples=n_samples, seed=run.seed)
    return evaluate(trainer, context)
