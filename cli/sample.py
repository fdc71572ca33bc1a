"""``minnet sample CHECKPOINT``: draw digits from a trained model into a PNG grid or a .npy."""

import os

import click
import numpy as np

from minnet import backend
from minnet.data import NUM_CLASSES
from minnet.errors import MinnetError
from minnet.evaluation.metrics import draw_samples
from minnet.figures import images
from minnet.fileio import atomic_write
from minnet.models import restore

DEFAULT_SAMPLES = 100


def choose_labels(trainer, n, label, per_class):
    """``(labels, row, count)``: each sample's label (None for unconditional models), the grid's
    row length (None: square) and the number of samples.

    ``--label K``: n samples of digit K. ``--per-class M``: M of each digit, 0 first.
    Neither, for a conditional model: ceil(n / 10) of each digit, one grid row per digit.
    ``n`` is None when ``--n`` was not given (100).
    """
    if not trainer.conditional and (label is not None or per_class is not None):
        raise MinnetError(f"{trainer.name} is not conditional: --label and --per-class do not apply")
    if label is not None and per_class is not None:
        raise MinnetError("give --label or --per-class, not both")
    if n is not None and per_class is not None:
        raise MinnetError("give --n or --per-class, not both: --per-class M draws 10 M samples")
    n = DEFAULT_SAMPLES if n is None else n
    if not trainer.conditional:
        return None, None, n
    if label is not None:
        return np.full(n, label), None, n
    per_class = per_class or -(-n // NUM_CLASSES)
    return np.repeat(np.arange(NUM_CLASSES), per_class), per_class, per_class * NUM_CLASSES


def choose_sampler(trainer, name):
    """``name`` if ``trainer`` has a sampler of that name; a MinnetError listing them otherwise."""
    if not trainer.samplers:
        raise MinnetError(f"{trainer.name} has one sampler; --sampler is for models with several")
    if name not in trainer.samplers:
        raise MinnetError(f"unknown sampler {name!r} for {trainer.name}; choose one of: {', '.join(trainer.samplers)}")
    return name


def _save_npy(path, array):
    with atomic_write(path) as file:
        np.save(file, array)


@click.command()
@click.argument("checkpoint", type=click.Path())
@click.option(
    "--n", "n", type=click.IntRange(min=1),
    help="number of samples (default 100; a conditional model's grid rounds up to whole rows of 10)",
)  # fmt: skip
@click.option("--label", type=click.IntRange(0, 9), help="draw only this digit (conditional models)")
@click.option("--per-class", type=click.IntRange(min=1), help="M samples of each digit, in order (conditional models)")
@click.option("--out", "out", default="samples.png", show_default=True, help="FILE.png (a grid) or FILE.npy")
@click.option("--size", type=click.IntRange(min=1), help="render at PX x PX (models that render at any resolution)")
@click.option("--sampler", help="how the model draws digits, for models with several samplers (csgm: gaussian, paper)")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(backend.DEVICES), default="cpu", show_default=True)
def sample(checkpoint, n, label, per_class, out, size, sampler, seed, device):
    """Draw samples from CHECKPOINT (a run directory or its checkpoint.npz).

    A .npy output holds float32 (N, H, W) in [0, 1]; for conditional models a sibling
    <stem>.labels.npy holds each sample's digit. A .png holds a grid, one row per digit for
    conditional models.
    """
    extension = os.path.splitext(out)[1].lower()
    if extension not in (".png", ".npy"):
        raise MinnetError(f"--out must end in .png or .npy, got {out!r}")
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        raise MinnetError(f"cannot write {out}: {directory} is not a writable directory")
    backend.use(device)
    trainer, _, _ = restore(checkpoint)
    if size is not None and not trainer.any_resolution:
        raise MinnetError(f"{trainer.name} renders only at 28x28; --size is for models that render at any resolution")
    labels, row, count = choose_labels(trainer, n, label, per_class)
    options = {"size": size} if size is not None else {}
    if sampler is not None:
        options["sampler"] = choose_sampler(trainer, sampler)
    drawn = draw_samples(trainer, count, labels, np.random.default_rng(seed), **options).astype(np.float32)

    if extension == ".npy":
        _save_npy(out, drawn)
        if labels is not None:
            _save_npy(os.path.splitext(out)[0] + ".labels.npy", labels.astype(np.int64))
    else:
        row_labels = [str(d) for d in range(NUM_CLASSES)] if row else None
        images.save_grid(out, drawn, nrow=row, row_labels=row_labels)
    click.echo(f"wrote {count} samples of {trainer.name} to {out}")
