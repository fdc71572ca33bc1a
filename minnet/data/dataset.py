"""A split of MNIST held in memory, and the mini-batches a trainer draws from it."""

import numpy as np

from minnet.data.binarize import resample
from minnet.errors import MinnetError


def require_positive_int(value, what):
    """Raise MinnetError unless ``value`` is an integer >= 1 (``what`` names it in the message)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise MinnetError(f"{what} must be a positive integer, not {value!r}")


class Dataset:
    """The digits of one MNIST split.

    Attributes
    ----------
    images : numpy.ndarray
        float32, (N, 28, 28), in [0, 1]; already 0/1 when ``binarize == "static"``.
    labels : numpy.ndarray
        int64, (N,), digits 0-9.
    split : str
        "train", "validation", "test" or "train_full".
    source : str
        "full" (the real files) or "sample" (the bundled sample).
    location : str
        The directory of the files, or the path of the sample.
    binarize : str or None
        None, "static" or "dynamic" (:meth:`batches` then binarizes each batch afresh).
    """

    def __init__(self, images, labels, *, split, source, location, binarize=None):
        self.images = images
        self.labels = labels
        self.split = split
        self.source = source
        self.location = location
        self.binarize = binarize

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        return (
            f"Dataset(split={self.split!r}, n={len(self)}, source={self.source!r}, "
            f"binarize={self.binarize!r}, location={self.location!r})"
        )

    def batches(self, batch_size, rng, shuffle=True, drop_last=True, with_indices=False):
        """One epoch of mini-batches.

        Parameters
        ----------
        batch_size : int
            Digits per batch.
        rng : numpy.random.Generator or int
            Draws the order (when ``shuffle``) and, for ``binarize="dynamic"``, the pixels.
        shuffle : bool
            Visit the digits in a random order rather than as stored.
        drop_last : bool
            Leave out a final batch smaller than ``batch_size``.
        with_indices : bool
            Also yield each batch's positions in the split, for trainers that keep state per
            training image.

        Yields
        ------
        images : numpy.ndarray
            float32, (B, 28, 28).
        labels : numpy.ndarray
            int64, (B,).
        indices : numpy.ndarray
            int64, (B,), only with ``with_indices``: ``images == self.images[indices]``.

        Raises
        ------
        MinnetError
            When ``batch_size`` is not a positive integer, or exceeds the split's size
            while ``drop_last`` would then leave no batch at all.
        """
        require_positive_int(batch_size, "batch size")
        if drop_last and batch_size > len(self):
            raise MinnetError(
                f"batch size {batch_size} is larger than the {len(self)} digits of split "
                f"{self.split!r}: no whole batch can be formed"
            )
        return self._epoch(batch_size, np.random.default_rng(rng), shuffle, drop_last, with_indices)

    def _epoch(self, batch_size, rng, shuffle, drop_last, with_indices):
        order = rng.permutation(len(self)) if shuffle else np.arange(len(self))
        stop = len(self) - len(self) % batch_size if drop_last else len(self)
        for start in range(0, stop, batch_size):
            rows = order[start : start + batch_size]
            images = self.images[rows]
            if self.binarize == "dynamic":
                images = resample(images, rng)
            yield (images, self.labels[rows], rows) if with_indices else (images, self.labels[rows])
