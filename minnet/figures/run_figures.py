"""The figures of a training run, redrawn after every epoch.

In the run directory (see :mod:`minnet.training.runner`)::

    samples/epoch-NNN.png a sample grid after each epoch, always from the same noise
    samples-by-epoch.png  up to six of those grids side by side, first and last included
    <curve>.png           the curves the trainer names: per step (``trainer.curves``, from the
                          records of metrics.jsonl) or per epoch (``trainer.epoch_curves``,
                          from epochs.jsonl)
"""

import math
import os
import re

import numpy as np
from PIL import Image

from minnet.errors import MinnetError
from minnet.figures import images

SAMPLES_DIR = "samples"
SAMPLES_BY_EPOCH = "samples-by-epoch.png"
GRID_SEED = 2**31 - 1  # the fixed noise for the per-epoch sample grids
MAX_EPOCHS_SIDE_BY_SIDE = 6
LOG_AXIS_SPAN = 100  # a curve figure whose positive values span this factor gets a log y axis


def sample_grid(trainer, seed, n_per_row=10):
    """100 samples from fixed noise: for conditional models one row per digit 0..9.

    Returns ``(images, labels or None)``. Drawing from a generator of its own keeps the
    trainer's random stream untouched, so taking grids does not change training.
    """
    rng = np.random.default_rng([seed, GRID_SEED])
    if trainer.conditional:
        labels = np.repeat(np.arange(10), n_per_row)
        return trainer.sample(len(labels), labels=labels, rng=rng), labels
    return trainer.sample(10 * n_per_row, rng=rng), None


def epoch_grids(run_dir):
    """``[(epoch, path), ...]`` of the per-epoch sample grids, by epoch; other files are ignored."""
    samples_dir = os.path.join(run_dir, SAMPLES_DIR)
    if not os.path.isdir(samples_dir):
        return []
    found = (re.fullmatch(r"epoch-(\d+)\.png", name) for name in os.listdir(samples_dir))
    return sorted((int(m.group(1)), os.path.join(samples_dir, m.group(0))) for m in found if m)


def draw_figures(run_dir, trainer, seed, epoch, step_records, epoch_records):
    """The sample grid of this epoch, the grids across epochs, and the trainer's curves drawn
    from the run's logs (``step_records``: metrics.jsonl's, ``epoch_records``: epochs.jsonl's)."""
    samples_dir = os.path.join(run_dir, SAMPLES_DIR)
    os.makedirs(samples_dir, exist_ok=True)
    grid, labels = sample_grid(trainer, seed)
    row_labels = [str(d) for d in range(10)] if labels is not None else None
    images.save_grid(os.path.join(samples_dir, f"epoch-{epoch:03d}.png"), grid, nrow=10, row_labels=row_labels)

    done = epoch_grids(run_dir)
    picks = np.unique(np.linspace(0, len(done) - 1, min(len(done), MAX_EPOCHS_SIDE_BY_SIDE)).round().astype(int))
    chosen = [done[i] for i in picks]
    grids = [_read_grid(path) for _, path in chosen]
    captions = [f"epoch {number}" for number, _ in chosen]
    images.side_by_side(grids, captions, os.path.join(run_dir, SAMPLES_BY_EPOCH))

    _draw_curves(run_dir, trainer.name, trainer.curves, step_records, "step")
    _draw_curves(run_dir, trainer.name, trainer.epoch_curves, epoch_records, "epoch")


def _draw_curves(run_dir, name, curves, records, x_key):
    """One PNG per entry of ``curves`` ({file: [keys]}), each key's values against ``x_key``; on
    a log y axis when its values are all positive and span a factor of LOG_AXIS_SPAN or more
    (a loss falling by decades, or one spike, still leaves the rest of the curve readable)."""
    for filename, keys in curves.items():
        series = {
            k: ([r[x_key] for r in records if k in r], [r[k] for r in records if k in r]) for k in keys
        }
        series = {k: xy for k, xy in series.items() if xy[0]}
        if series:
            images.plot_curves(
                os.path.join(run_dir, filename),
                series,
                title=f"{name}: {', '.join(series)}",
                xlabel="training step" if x_key == "step" else "epoch",
                ylabel=os.path.splitext(filename)[0],
                logy=_spans_decades([y for _, ys in series.values() for y in ys]),
            )


def _spans_decades(values):
    """True when the finite ``values`` are all positive and the largest is LOG_AXIS_SPAN times
    the smallest or more."""
    finite = [v for v in values if math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) >= LOG_AXIS_SPAN * min(finite)


def _read_grid(path):
    """A sample grid PNG as a grey-level array; a damaged one is a MinnetError naming it."""
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("L"))
    except (OSError, ValueError) as err:
        raise MinnetError(f"cannot read the sample grid {path} ({err}); delete it to have it drawn again") from None
