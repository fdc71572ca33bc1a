"""minnet: a small neural-net toolkit on NumPy (CPU) and CuPy (GPU).

Every layer has a hand-written forward and backward pass and a gradient-check test; on top
of them, ``minnet.models`` reproduces generative models of MNIST digits from papers.

After ``import minnet`` the public surface is one attribute away, each module imported on
first use (so ``import minnet`` itself stays quick):

=================  ==========================================================================
minnet.layers      Dense, Conv2d, LSTMCell, ... and Sequential; the layer contract
minnet.losses      losses returning ``(value, gradient)``
minnet.optim       SGD, Adam
minnet.gradcheck   gradients against central differences
minnet.models      ``load(path)`` a saved run, ``build(name)`` a fresh one; ``trainer.sample(n)``
=================  ==========================================================================

docs/python.md shows them at work; docs/reading.md is the order to read the code in.
"""

import importlib
import os

# OpenBLAS's idle threads spin for about 2**28 cycles (~0.1 s) after each matrix product
# before they sleep, holding the cores that minnet.speed.threads wants for the copies between the
# products. 2**16 cycles (~20 us) lets them go; a product that follows at once still finds
# them awake. It must be set before NumPy loads OpenBLAS, so it is set here; a value the user
# chose is kept. See minnet/threads.py.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

# P processes that mpiexec put on one machine share its cores (before NumPy loads, too).
from minnet.distributed.launch import share_cores  # noqa: E402  (reads the environment only)

share_cores(os.environ)

from minnet.checkout import map_sibling_packages  # noqa: E402
from minnet.errors import MinnetError  # noqa: E402

map_sibling_packages(os.path.dirname(__file__))

__version__ = "0.1.0"

PUBLIC_MODULES = ("layers", "losses", "optim", "gradcheck", "models")

__all__ = ["MinnetError", "__version__", *PUBLIC_MODULES]


def __getattr__(name):
    """``minnet.layers`` and the other :data:`PUBLIC_MODULES`, imported when first asked for."""
    if name in PUBLIC_MODULES:
        return importlib.import_module(f"minnet.{name}")
    raise AttributeError(f"module 'minnet' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *PUBLIC_MODULES})
