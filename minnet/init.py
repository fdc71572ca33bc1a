"""Weight initializers.

Each initializer is a function ``init(rng, shape, fan_in, fan_out) -> numpy array`` (float32)
that layers call with their own fans: for ``Dense(n_in, n_out)`` the fans are ``n_in`` and
``n_out``; for a convolution with kernel ``k`` they are ``c_in*k*k`` and ``c_out*k*k``.
Drawing from a ``numpy.random.Generator`` makes the same seed give the same weights, and
weights are drawn on the CPU, so they are also the same on every device.

Layers accept an initializer or one of the names in :data:`BY_NAME`.
"""

import numbers

import numpy as np

from minnet.errors import MinnetError


def as_rng(seed_or_rng=None, where=None):
    """A ``numpy.random.Generator`` from a seed, a generator, or ``None`` (fresh entropy).

    ``seed_or_rng`` is an int (or a sequence of ints) seeding a new generator, a Generator
    returned as it is, or None; anything else is a MinnetError that starts with ``where``
    (the function that was given it) when it is given.
    """
    start = f"{where}: " if where else ""
    if isinstance(seed_or_rng, np.random.Generator):
        return seed_or_rng
    if seed_or_rng is not None and not isinstance(seed_or_rng, (numbers.Integral, list, tuple, np.ndarray)):
        raise MinnetError(f"{start}rng must be an int seed, a numpy.random.Generator or None; got {seed_or_rng!r}")
    try:
        return np.random.default_rng(seed_or_rng)
    except (TypeError, ValueError) as err:
        raise MinnetError(f"{start}rng must be a seed of non-negative ints: {err}") from None


def glorot_uniform(rng, shape, fan_in, fan_out):
    """Glorot & Bengio (2010): U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=shape).astype(np.float32)


def he_normal(rng, shape, fan_in, fan_out):
    """He et al. (2015), for ReLU networks: N(0, 2 / fan_in)."""
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def normal(std):
    """N(0, std^2) whatever the fans, e.g. ``normal(0.02)`` as in DCGAN."""

    def init(rng, shape, fan_in, fan_out):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    init.__name__ = f"normal({std})"
    return init


def zeros(shape):
    return np.zeros(shape, dtype=np.float32)


def all_zeros(rng, shape, fan_in, fan_out):
    """Zeros whatever the fans: for a layer whose outputs should start at their neutral values
    (a Gaussian posterior that starts as the prior, an attention window that starts where its
    bias puts it)."""
    return zeros(shape)


BY_NAME = {"glorot": glorot_uniform, "he": he_normal, "dcgan": normal(0.02), "zeros": all_zeros}


def resolve(init):
    """Turn a name from :data:`BY_NAME` or an initializer function into a function."""
    if callable(init):
        return init
    if init in BY_NAME:
        return BY_NAME[init]
    raise MinnetError(f"unknown initializer {init!r}: choose one of {', '.join(BY_NAME)}")
