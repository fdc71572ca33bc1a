"""``minnet eval CHECKPOINT``: how good a trained model's samples are, printed and saved.

Every metric of :mod:`minnet.evaluation.metrics` that applies to the model is computed on ``--n``
samples, in the space of the shipped MNIST classifier (:mod:`minnet.models.classifier`),
against the MNIST test set. The FID is printed beside its floor, the FID of ``n`` real
training images against the same test set: the score of a perfect model with that many
samples (the estimate is biased upwards for small ``n``, so only equal ``n`` compare).

The results go to ``eval.json`` in the run directory, where ``minnet report`` finds them::

    {"model": "gan", "position": {"epoch": 20, ...}, "n_samples": 10000, "seed": 0,
     "test_images": 10000, "importance_samples": 100, "importance_images": 1000,
     "classifier_test_accuracy": 0.993,
     "metrics": {"fid": {"value": 12.3, "description": "...", "lower_is_better": true}, ...},
     "fid_floor": {"value": 1.1, "n_train": 10000, "description": "..."}}

Models with a likelihood (:mod:`minnet.models.variational`) are also measured on the statically
binarized test set; ``--importance-samples`` and ``--importance-images`` set the k and the number
of images of the importance-sampled estimate, and both are recorded.

The classifier, the test set and the floor are loaded or computed once per process, so
``minnet report --evaluate`` pays for them once for all runs (the test set's feature
statistics are still computed once per run: :class:`minnet.evaluation.metrics.EvaluationContext` keeps
them per context).
"""

import dataclasses
import functools
import json
import os

import click
import numpy as np

from minnet import backend
from minnet.data import load_mnist
from minnet.evaluation import metrics
from minnet.fileio import atomic_write
from minnet.models import restore
from minnet.models.classifier import load_classifier
from minnet.report.tables import format_value
from minnet.training.runner import EVAL_FILE


def run_directory(path):
    """The run directory of ``path``, a run directory or the checkpoint file inside one."""
    return path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))


@functools.cache
def _classifier_and_test_set(data_dir, device, batch_size, digits):
    """The shipped classifier (its weights on ``device``), the MNIST test set, and the features'
    statistics of its images of ``digits`` (all when None), computed once for every run evaluated."""
    classifier, test = load_classifier(), load_mnist("test", data_dir=data_dir)
    reference = test.images if digits is None else test.images[np.isin(test.labels, digits)]
    return classifier, test, metrics.image_statistics(classifier, reference, batch_size)


@functools.cache
def _fid_floor(data_dir, device, n, batch_size, digits):
    """:func:`minnet.evaluation.metrics.fid_floor`: ``n`` real training images against the test set."""
    classifier, _, test_statistics = _classifier_and_test_set(data_dir, device, batch_size, digits)
    train = load_mnist("train_full", data_dir=data_dir, digits=digits)
    return metrics.fid_floor(classifier, train.images, test_statistics, n=n, batch_size=batch_size)


def evaluate_run(
    path, *, n_samples, batch_size, seed, data_dir=None,
    importance_samples=metrics.DEFAULT_IMPORTANCE_SAMPLES, importance_images=metrics.DEFAULT_IMPORTANCE_IMAGES,
):  # fmt: skip
    """Compute the metrics of the model in ``path`` and write them to its ``eval.json``.

    Parameters
    ----------
    path : str
        A run directory or its checkpoint file.
    n_samples : int
        Samples drawn from the model (and real training images for the FID floor), >= 2.
    batch_size : int
        Images per call to the sampler and to the classifier.
    seed : int
        Seeds the sampling noise, so the same checkpoint always gives the same numbers.
    data_dir : str, optional
        Where MNIST is (see :func:`minnet.data.load_mnist`).
    importance_samples, importance_images : int
        k latent draws per image, on how many of the first binarized test images, for the
        importance-sampled likelihood of models that have one.

    Returns
    -------
    dict
        The record written to ``eval.json`` (see the module docstring).
    """
    trainer, meta, position = restore(path)
    # A model trained on some digits (--digits) is judged against the test images of those.
    digits = tuple(meta.get("data", {}).get("digits") or ()) or None
    classifier, test, test_statistics = _classifier_and_test_set(data_dir, backend.device(), batch_size, digits)
    # Before sampling, which may be slow: fails at once when n exceeds the training images.
    floor = _fid_floor(data_dir, backend.device(), n_samples, batch_size, digits)
    context = metrics.EvaluationContext(
        classifier, test.images, test.labels, n_samples=n_samples, batch_size=batch_size, seed=seed,
        reference=test_statistics, binary_test_images=_binary_test_images(data_dir),
        importance_samples=importance_samples, importance_images=importance_images, digits=digits,
    )  # fmt: skip
    values = metrics.evaluate(trainer, context)
    reference_count = len(test) if digits is None else int(np.isin(test.labels, digits).sum())
    record = {
        "model": meta["model"],
        "position": dataclasses.asdict(position),
        "n_samples": n_samples,
        "seed": seed,
        "test_images": reference_count,
        "digits": list(digits) if digits else "all",
        "importance_samples": importance_samples,
        "importance_images": importance_images,
        "classifier_test_accuracy": classifier.info["test_accuracy"],
        "metrics": {
            metric.name: {
                "value": values[metric.name],
                "description": metric.describe(context),
                "lower_is_better": metric.lower_is_better,
            }
            for metric in metrics.metrics_for(trainer)
        },
        "fid_floor": {
            "value": floor,
            "n_train": n_samples,
            "description": f"FID of {n_samples:,} real training images against the {reference_count:,} test images",
        },
    }
    _write_json(os.path.join(run_directory(path), EVAL_FILE), record)
    return record


@functools.cache
def _binary_test_images(data_dir):
    """The statically binarized test set (:func:`minnet.data.load_mnist`), loaded once."""
    return load_mnist("test", data_dir=data_dir, binarize="static").images


def _write_json(path, record):
    """Write ``record`` to ``path`` atomically, so readers never see half of it."""
    with atomic_write(path) as file:
        file.write((json.dumps(record, indent=2) + "\n").encode())


def format_evaluation(record):
    """The lines ``minnet eval`` prints: a header, one line per metric, the floor's meaning."""
    position = record["position"]
    lines = [
        f"{record['model']} after epoch {position['epoch']} (step {position['global_step']:,}): "
        f"{record['n_samples']:,} samples, seed {record['seed']}, "
        f"against {record['test_images']:,} test images"
    ]
    width = max(len(name) for name in record["metrics"])
    floor = record["fid_floor"]
    for name, metric in record["metrics"].items():
        beside = f"(floor {format_value(floor['value'])})" if name == "fid" else ""
        lines.append(f"  {name:<{width}}  {format_value(metric['value']):>8}  {beside:<14}  {metric['description']}")
    lines.append(f"  floor: {floor['description']}")
    return lines


@click.command("eval")
@click.argument("checkpoint", type=click.Path())
@click.option(
    "--n", "n_samples", type=click.IntRange(min=2), default=metrics.DEFAULT_SAMPLES, show_default=True,
    help="samples to draw (and real training images for the FID floor)",
)  # fmt: skip
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=metrics.DEFAULT_BATCH_SIZE, show_default=True,
    help="images per call to the sampler and the classifier",
)  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the sampling noise")
@click.option(
    "--importance-samples", type=click.IntRange(min=1), default=metrics.DEFAULT_IMPORTANCE_SAMPLES,
    show_default=True, help="latent draws per image for importance-sampled likelihoods",
)  # fmt: skip
@click.option(
    "--importance-images", type=click.IntRange(min=1), default=metrics.DEFAULT_IMPORTANCE_IMAGES,
    show_default=True, help="first binarized test images the importance-sampled likelihood uses",
)  # fmt: skip
@click.option("--data-dir", type=click.Path(), help="directory holding the four MNIST files")
@click.option("--device", type=click.Choice(backend.DEVICES), default="cpu", show_default=True)
def evaluate(checkpoint, n_samples, batch_size, seed, data_dir, device, importance_samples, importance_images):
    """Measure the samples of CHECKPOINT (a run directory or its checkpoint.npz).

    Prints FID in the MNIST classifier's feature space beside its floor, class coverage (the
    entropy of the predicted digits, at most ln 10 = 2.303) and, for conditional models, the
    accuracy of the asked-for digits; writes them to eval.json in the run directory.
    """
    backend.use(device)
    record = evaluate_run(
        checkpoint, n_samples=n_samples, batch_size=batch_size, seed=seed, data_dir=data_dir,
        importance_samples=importance_samples, importance_images=importance_images,
    )  # fmt: skip
    for line in format_evaluation(record):
        click.echo(line)
    click.echo(f"wrote {os.path.join(run_directory(checkpoint), EVAL_FILE)}")
