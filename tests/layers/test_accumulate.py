import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.layers.accumulate import add_transposed_product


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("contiguous", [True, False])
def test_accumulates_the_transposed_product_in_place(xp, rng, dtype, contiguous):
    a = xp.asarray(rng.standard_normal((5, 7)), dtype=dtype)
    b = xp.asarray(rng.standard_normal((5, 12)), dtype=dtype)
    if not contiguous:
        b = b[:, ::2]  # the plain expression takes over
    start = xp.asarray(rng.standard_normal((7, b.shape[1])), dtype=dtype)
    grads = start.copy()
    view = grads[...]
    add_transposed_product(view, a, b)
    expected = start.astype(np.float64) + a.T.astype(np.float64) @ b.astype(np.float64)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(to_numpy(grads), to_numpy(expected), rtol=tolerance, atol=tolerance)
