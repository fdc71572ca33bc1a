"""minnet: a small neural-net toolkit on NumPy (CPU) and CuPy (GPU).

Every layer has a hand-written forward and backward pass and a gradient-check test; on top
of them, ``minnet.models`` reproduces generative models of MNIST digits from five papers.
"""

from minnet.errors import MinnetError

__version__ = "0.1.0"

__all__ = ["MinnetError", "__version__"]
