"""The bundled sample of real MNIST digits, used when the full set cannot be had.

``mnist_sample.npz`` (5.2 MB) holds 30,000 training digits (3,000 of each class, half the
full training set) and 1,000 test digits (100 of each class), drawn from the full set by
``python -m minnet.data.make_sample`` with ``numpy.random.default_rng(0)``; that module's
docstring gives the exact procedure. It is large enough that the README's first command
draws readable digits without the network. The rows of the original files each digit came
from are stored alongside, as ``train_indices`` and ``test_indices``. The training array is
29,000 shuffled digits (2,900 per class) followed by 1,000 shuffled digits (100 per class), so
the sample's validation split, its last 1,000 training digits, is balanced too, and its first
N digits are never sorted by label.
"""

import functools
from pathlib import Path

import numpy as np

SAMPLE_PATH = Path(__file__).with_name("mnist_sample.npz")
TRAIN_DIGITS = 30_000  # the training digits in the sample, as the fallback warning says


@functools.cache
def read_sample_part(part):
    """Images (uint8, (N, 28, 28)) and labels (uint8, (N,)) of the sample's ``part``.

    Read once per process (decompressing the training part takes about half a second) and
    returned read-only, since every caller shares the same arrays.

    Parameters
    ----------
    part : str
        ``"train"`` or ``"test"``.
    """
    with np.load(SAMPLE_PATH, allow_pickle=False) as arrays:
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
    for array in (images, labels):
        array.setflags(write=False)
    return images, labels
