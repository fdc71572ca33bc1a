"""minnet: a small neural-net toolkit on NumPy (CPU) and CuPy (GPU).

Every layer has a hand-written forward and backward pass and a gradient-check test; on top
of them, ``minnet.models`` reproduces generative models of MNIST digits from papers.
"""

import os

# OpenBLAS's idle threads spin for about 2**28 cycles (~0.1 s) after each matrix product
# before they sleep, holding the cores that minnet.speed.threads wants for the copies between the
# products. 2**16 cycles (~20 us) lets them go; a product that follows at once still finds
# them awake. It must be set before NumPy loads OpenBLAS, so it is set here; a value the user
# chose is kept. See minnet/threads.py.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

from minnet.distributed.launch import threads_per_process  # noqa: E402  (reads the environment only)

# P processes that mpiexec put on one machine share its cores: each gets cores / P threads
# (for BLAS and minnet.speed.threads) unless the user chose a number, as torchrun does.
if not any(os.environ.get(name) for name in ("MINNET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")):
    _threads = threads_per_process()
    if _threads is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = os.environ["MINNET_NUM_THREADS"] = str(_threads)

from minnet.errors import MinnetError  # noqa: E402

__version__ = "0.1.0"

__all__ = ["MinnetError", "__version__"]
