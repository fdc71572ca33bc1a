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

from minnet.checkout import map_sibling_packages  # noqa: E402
from minnet.errors import MinnetError  # noqa: E402

map_sibling_packages(os.path.dirname(__file__))

__version__ = "0.1.0"

__all__ = ["MinnetError", "__version__"]
