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


def load_mnist(split, *, data_dir=None, binarize=None, limit=None, seed=0):
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
        Keep only the first ``limit`` digits of the split (they are not sorted by label).
    seed : int
        Which static binarization to use; 0 is minnet's standard one. No other effect.

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

    directory, source = locate_mnist(data_dir)
    part = part_of(split)
    if source == "full":
        pixels, labels = read_part(directory, part)
        location = directory
    else:
        pixels, labels = read_sample_part(part)
        location = str(SAMPLE_PATH)

    rows = split_rows(split, len(labels), source)
    if limit is not None:
        rows = slice(rows.start, min(rows.stop, rows.start + limit))
    images = pixels[rows].astype(np.float32)
    images /= 255
    if binarize == "static":
        # the draws are a prefix-stable stream: drawing only up to rows.stop gives the same values
        images = bernoulli(images, static_uniforms(part, seed, (rows.stop, *pixels.shape[1:]))[rows])
    return Dataset(
        images,
        labels[rows].astype(np.int64),
        split=split,
        source=source,
        location=location,
        binarize=binarize,
    )
