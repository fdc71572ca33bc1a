"""Turning grey MNIST digits into black-and-white ones by Bernoulli sampling.

Each pixel intensity p in [0, 1] is the probability of that pixel being 1: with u uniform on
[0, 1), the binary pixel is ``u < p``.

- *static*: one fixed draw per file part, from a generator seeded by the part's name and
  ``seed``, so every machine gets the same digits. It is drawn for the whole training file and
  then sliced, so a digit looks the same in "train", "validation" and "train_full".
- *dynamic*: a fresh draw for every batch from the training loop's generator, so each epoch
  sees new binarizations (a data-augmentation effect the VAE papers rely on).
"""

import zlib

import numpy as np


def bernoulli(probabilities, uniforms):
    """float32 array of 0s and 1s: 1 where ``uniforms < probabilities``."""
    return (uniforms < probabilities).astype(np.float32)


def static_uniforms(part, seed, shape):
    """The fixed uniform draws behind the static binarization of a file part.

    Parameters
    ----------
    part : str
        ``"train"`` or ``"test"``; its CRC-32 and ``seed`` seed the generator.
    seed : int
        Selects another fixed binarization; 0 is minnet's standard one.
    shape : tuple of int
        The shape of the whole part, (N, 28, 28).

    Returns
    -------
    numpy.ndarray
        float32 uniforms on [0, 1) of ``shape``.
    """
    rng = np.random.default_rng([seed, zlib.crc32(part.encode())])
    return rng.random(shape, dtype=np.float32)


def resample(images, rng):
    """A fresh binarization of ``images`` (intensities in [0, 1]) drawn from ``rng``."""
    return bernoulli(images, rng.random(images.shape, dtype=np.float32))
