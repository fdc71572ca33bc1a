"""Gradient checking against central differences.

For a function ``f`` with outputs ``y`` and a random upstream gradient ``gy``, the scalar
``L = sum(y * gy)`` has ``dL/dy = gy``. Back-propagating ``gy`` must therefore give
``dL/dtheta`` for every input and parameter ``theta``, which we compare element by element with

    dL/dtheta_i  ~  (L(theta_i + eps) - L(theta_i - eps)) / (2 eps)

in float64. The check fails on any element outside ``atol + rtol * |numeric|``, and on NaN.

Entry points:

* :func:`check_layer` for a :class:`~minnet.layers.base.Layer` taking one array;
* :func:`check` for anything else (losses, recurrent cells unrolled over several steps,
  layers with several inputs), given ``forward`` and ``backward`` closures;
* :func:`measure`, which :func:`check` is built on: the largest errors of every gradient,
  without raising (``minnet gradcheck`` prints them).

Every layer and loss of the library has an entry in :mod:`minnet.gradcheck_cases`, which
``minnet gradcheck NAME`` runs.
"""

import dataclasses
import math

import numpy as np

from minnet.backend import to_numpy, xp_of

__all__ = [
    "Comparison",
    "GradientCheckError",
    "check",
    "check_layer",
    "compare",
    "layer_closures",
    "measure",
    "numerical_gradient",
]


class GradientCheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def _as_tuple(values):
    return values if isinstance(values, tuple) else (values,)


def _objective(outputs, gys):
    return sum(float((y * g).sum()) for y, g in zip(_as_tuple(outputs), gys))


def numerical_gradient(objective, array, eps=1e-6):
    """Central-difference gradient of the scalar ``objective()`` w.r.t. ``array``.

    ``array`` is perturbed in place by ``+eps`` and ``-eps``, one element at a time, and
    restored. Returns a float64 array of ``array``'s shape.
    """
    if not array.flags.c_contiguous:
        raise ValueError("numerical_gradient perturbs in place and needs a C-contiguous array")
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)  # a view: writes reach the array the objective reads
    for i in range(flat.size):
        original = flat[i].item()
        flat[i] = original + eps
        plus = objective()
        flat[i] = original - eps
        minus = objective()
        flat[i] = original
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


@dataclasses.dataclass
class Comparison:
    """How one analytic gradient compares with its central-difference estimate.

    ``name`` names the array the gradient is for (``"input"``, ``"W"``), ``size`` its elements.
    ``max_abs`` is the largest ``|analytic - numeric|``; ``max_rel`` the largest
    ``|analytic - numeric| / max(|analytic|, |numeric|)`` over the elements where that
    denominator exceeds ``atol`` (below it both are noise); ``problem`` is empty when the
    gradient passes, else a sentence saying what is wrong and where.
    """

    name: str
    size: int
    max_abs: float
    max_rel: float
    problem: str = ""

    @property
    def ok(self):
        return not self.problem


def compare(name, analytic, numeric, rtol, atol):
    """A :class:`Comparison` named ``name`` of ``analytic`` with ``numeric``; it fails on any element outside
    ``atol + rtol * |numeric|``, on NaN or inf, and on a shape mismatch."""
    analytic = to_numpy(analytic).astype(np.float64)
    if analytic.shape != numeric.shape:
        problem = f"{name}: gradient has shape {analytic.shape}, expected {numeric.shape}"
        return Comparison(name, numeric.size, math.inf, math.inf, problem)
    if not np.all(np.isfinite(analytic)):
        return Comparison(name, numeric.size, math.nan, math.nan, f"{name}: analytic gradient has NaN or inf")
    if not np.all(np.isfinite(numeric)):  # the function itself is NaN or inf near this point
        return Comparison(name, numeric.size, math.nan, math.nan, f"{name}: numerical gradient has NaN or inf")
    error = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    relative = error[scale > atol] / scale[scale > atol]
    max_abs = float(error.max(initial=0.0))
    max_rel = float(relative.max(initial=0.0))
    bad = error > atol + rtol * np.abs(numeric)
    problem = ""
    if bad.any():
        i = np.unravel_index(np.argmax(error - rtol * np.abs(numeric)), error.shape)
        problem = (
            f"{name}: {int(bad.sum())} of {bad.size} elements differ; worst at {i}: "
            f"analytic {analytic[i]:.8g}, numeric {numeric[i]:.8g}"
        )
    return Comparison(name, numeric.size, max_abs, max_rel, problem)


def measure(forward, backward, wrt, *, seed=0, eps=1e-6, rtol=1e-5, atol=1e-7, dtype=np.float64):
    """Compare ``backward`` with central differences of ``forward``: one :class:`Comparison`
    per name in ``wrt``, in its order.

    Parameters
    ----------
    forward : callable () -> array or tuple of arrays
        Computes the outputs from the arrays in ``wrt`` (which it must read each call).
    backward : callable (gys: tuple of arrays) -> dict[str, array]
        Runs one forward, back-propagates ``gys`` and returns the analytic gradient of
        ``sum(y * gy)`` for every name in ``wrt``. It is called once, before any perturbation.
    wrt : dict[str, array]
        Arrays to check the gradient for; perturbed in place and restored.
    seed : int
        Seed of the random upstream gradients ``gys``.
    eps, rtol, atol : float
        The central-difference step, and the tolerances: an element fails beyond
        ``atol + rtol * |numeric|``.
    dtype : the dtype every array of ``wrt`` must have. float64 is the real check; float32
        needs a larger ``eps`` and looser tolerances and only catches gross mistakes.
    """
    for name, array in wrt.items():
        if array.dtype != dtype:
            raise TypeError(f"gradient checks need {np.dtype(dtype).name}; {name} is {array.dtype}")
    outputs = _as_tuple(forward())
    rng = np.random.default_rng(seed)
    gys = tuple(xp_of(y).asarray(rng.standard_normal(y.shape), dtype=y.dtype) for y in outputs)
    analytic = backward(gys)

    def objective():
        return _objective(forward(), gys)

    return [
        compare(name, analytic[name], numerical_gradient(objective, array, eps), rtol, atol)
        for name, array in wrt.items()
    ]


def check(forward, backward, wrt, **settings):
    """Like :func:`measure` (same arguments: ``forward``, ``backward``, ``wrt`` and the
    settings), but raise :class:`GradientCheckError` for the first gradient that fails."""
    for comparison in measure(forward, backward, wrt, **settings):
        if not comparison.ok:
            raise GradientCheckError(comparison.problem)


def layer_closures(layer, x):
    """``(forward, backward, wrt)`` for :func:`measure`: ``layer``'s input gradient (named
    ``"input"``) and the gradient of every parameter (by qualified name) at input ``x``.

    The layer runs in the mode it is in: training mode (a new layer's), where backward exists."""
    wrt = {"input": x, **layer.named_parameters()}

    def forward():
        y = layer.forward(x)
        layer.clear()
        return y

    def backward(gys):
        layer.zero_grad()
        layer.forward(x)
        gx = layer.backward(gys[0])
        return {"input": gx, **layer.named_grads()}

    return forward, backward, wrt


def check_layer(layer, x, **settings):
    """Check ``layer``'s input gradient and every parameter gradient at input ``x``.

    ``layer`` must already hold float64 parameters (``layer.astype(np.float64)``).
    """
    check(*layer_closures(layer, x), **settings)
