"""The bundled sample of real MNIST digits, used when the full set cannot be had.

``mnist_sample.npz`` holds 5,000 training digits (500 of each class) and 1,000 test digits
(100 of each class), drawn from the full set by ``python -m minnet.data.make_sample`` with
``numpy.random.default_rng(0)``; that module's docstring gives the exact procedure. The rows of
the original files each digit came from are stored alongside, as ``train_indices`` and
``test_indices``. The training array is 4,000 shuffled digits (400 per class) followed by 1,000
shuffled digits (100 per class), so the sample's validation split, its last 1,000 training
digits, is balanced too, and its first N digits are never sorted by label.
"""

from pathlib import Path

import numpy as np

SAMPLE_PATH = Path(__file__).with_name("mnist_sample.npz")


def read_sample_part(part):
    """Images (uint8, (N, 28, 28)) and labels (uint8, (N,)) of the sample's ``part``.

    Parameters
    ----------
    part : str
        ``"train"`` or ``"test"``.
    """
    with np.load(SAMPLE_PATH, allow_pickle=False) as arrays:
        return arrays[f"{part}_images"], arrays[f"{part}_labels"]
