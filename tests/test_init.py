import numpy as np
import pytest

from minnet import init
from minnet.errors import MinnetError


def test_glorot_bounds_and_seed():
    a = init.glorot_uniform(np.random.default_rng(0), (200, 300), 200, 300)
    b = init.glorot_uniform(np.random.default_rng(0), (200, 300), 200, 300)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert np.abs(a).max() <= np.sqrt(6 / 500)
    assert np.isclose(a.std(), np.sqrt(6 / 500) / np.sqrt(3), rtol=0.05)


def test_he_and_normal_scale():
    rng = np.random.default_rng(1)
    assert np.isclose(init.he_normal(rng, (400, 400), 400, 400).std(), np.sqrt(2 / 400), rtol=0.05)
    assert np.isclose(init.normal(0.02)(rng, (300, 300), 1, 1).std(), 0.02, rtol=0.05)


def test_resolve():
    assert init.resolve("he") is init.he_normal
    with pytest.raises(MinnetError, match="unknown initializer"):
        init.resolve("xavier-ish")
