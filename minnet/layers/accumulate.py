"""``grads += a^T b`` without a temporary: the weight gradient of Dense and LSTM layers.

``grads += x.T @ gy`` first writes the product to a new array and then adds it, one more pass
over a matrix that can be the largest in the model (the (1568 + 512) x 1024 encoder weights of
DRAW without attention, 64 times per step). BLAS's gemm computes ``C <- alpha A B + beta C``
in one pass; with beta = 1 it accumulates in place. C must be Fortran-ordered for that, and
a C-ordered ``grads`` is exactly the Fortran-ordered ``grads.T``, so the call computes
``grads.T += b^T a`` instead. Anything gemm cannot take in place (CuPy arrays, other dtypes,
non-contiguous arrays) falls back to the plain expression.
"""

import numpy as np
from scipy.linalg import blas

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}


def add_transposed_product(grads, a, b):
    """``grads += a^T b`` for ``a (B, n)``, ``b (B, m)`` and ``grads (n, m)``, in place."""
    gemm = _GEMM.get(grads.dtype) if isinstance(grads, np.ndarray) else None
    in_place = gemm is not None and a.dtype == b.dtype == grads.dtype
    if not (in_place and grads.flags.c_contiguous and a.flags.c_contiguous and b.flags.c_contiguous):
        grads += a.T @ b
        return
    # grads.T (m, n), Fortran-ordered, += b^T a: gemm(A = b.T, B = a.T transposed back)
    gemm(1.0, b.T, a.T, beta=1.0, c=grads.T, trans_b=1, overwrite_c=1)
