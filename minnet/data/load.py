"""``load_mnist``: one split of MNIST as a :class:`~minnet.data.dataset.Dataset`."""

import numpy as np

from minnet.data.binarize import bernoulli, static_uniforms
from minnet.data.dataset import Dataset, require_positive_int
from minnet.data.folder import read_part
from minnet.data.locate import locate_mnist
from minnet.data.sample import SAMPLE_PATH, read_sample_part
from minnet.data.splits import check_split, part_of, split_rows
from minnet.errors import MinnetError

BINARIZATIONS = (None, "static", "dynamic")


def check_digits(digits):
    """``digits`` as a sorted tuple of distinct ints in 0..9; a MinnetError naming a bad one."""
    chosen = []
    for digit in digits:
        if isinstance(digit, bool) or not isinstance(digit, (int, np.integer)) or not 0 <= digit <= 9:
            raise MinnetError(f"digits must be integers from 0 to 9, not {digit!r}")
        if digit in chosen:
            raise MinnetError(f"digit {digit} is given twice")
        chosen.append(int(digit))
    if not chosen:
        raise MinnetError("give at least one digit")
    return tuple(sorted(chosen))


def load_mnist(split, *, data_dir=None, binarize=None, limit=None, seed=0, digits=None):
    """Load one split of MNIST, finding (or downloading) it as :mod:`minnet.data.locate` says.

    Parameters
    ----------
    split : str
        "train" (first 50,000 training digits), "validation" (last 10,000), "train_full"
        (all 60,000) or "test" (10,000). From the bundled sample: 29,000, 1,000, 30,000 and
        1,000 (see :mod:`minnet.data.splits`).
    data_dir : str or os.PathLike, optional
        A directory that must hold the four MNIST files.
    binarize : {None, "static", "dynamic"}
        None keeps grey levels in [0, 1]; "static" stores one fixed Bernoulli draw per pixel
        (the same on every machine); "dynamic" keeps grey levels and lets
        :meth:`Dataset.batches` draw a fresh binarization for each batch.
    limit : int, optional
        Keep only the first ``limit`` digits of the split (they are not sorted by label); with
        ``digits``, the first ``limit`` of those digits.
    seed : int
        Which static binarization to use; 0 is minnet's standard one. No other effect.
    digits : sequence of int, optional
        Keep only images of these digits (0-9), in their order in the split.

    Returns
    -------
    Dataset

    Raises
    ------
    MinnetError
        For an unknown split or binarization, a bad limit, or missing or invalid files.
    """
    check_split(split)
    if binarize not in BINARIZATIONS:
        raise MinnetError(f"unknown binarization {binarize!r}: choose None, 'static' or 'dynamic'")
    if limit is not None:
        require_positive_int(limit, "limit")
    if digits is not None:
        digits = check_digits(digits)

    directory, source = locate_mnist(data_dir)
    part = part_of(split)
    if source == "full":
        pixels, labels = read_part(directory, part)
        location = directory
    else:
        pixels, labels = read_sample_part(part)
        location = str(SAMPLE_PATH)

    rows = split_rows(split, len(labels), source)
    if digits is not None:
        rows = rows.start + np.flatnonzero(np.isin(labels[rows], digits))
        if len(rows) == 0:
            raise MinnetError(f"the {source} {split} split has no images of the digits {list(digits)}")
        rows = rows[:limit]
    elif limit is not None:
        rows = slice(rows.start, min(rows.stop, rows.start + limit))
    images = pixels[rows].astype(np.float32)
    images /= 255
    if binarize == "static":
        # the draws are a prefix-stable stream: drawing only up to the last row gives the same values
        stop = rows.stop if isinstance(rows, slice) else int(rows[-1]) + 1
        images = bernoulli(images, static_uniforms(part, seed, (stop, *pixels.shape[1:]))[rows])
    return Dataset(
        images,
        labels[rows].astype(np.int64),
        split=split,
        source=source,
        location=location,
        binarize=binarize,
    )
