"""Gradient checking against central differences.

For a function ``f`` with outputs ``y`` and a random upstream gradient ``gy``, the scalar
``L = sum(y * gy)`` has ``dL/dy = gy``. Back-propagating ``gy`` must therefore give
``dL/dtheta`` for every input and parameter ``theta``, which we compare element by element with

    dL/dtheta_i  ~  (L(theta_i + eps) - L(theta_i - eps)) / (2 eps)

in float64. The check fails on any element outside ``atol + rtol * |numeric|``, and on NaN.

Two entry points:

* :func:`check_layer` for a :class:`~minnet.layers.base.Layer` taking one array;
* :func:`check` for anything else (losses, recurrent cells unrolled over several steps,
  layers with several inputs), given ``forward`` and ``backward`` closures.
"""

import numpy as np

from minnet.backend import to_numpy, xp_of


class GradientCheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def _as_tuple(values):
    return values if isinstance(values, tuple) else (values,)


def _objective(outputs, gys):
    return sum(float((y * g).sum()) for y, g in zip(_as_tuple(outputs), gys))


def numerical_gradient(objective, array, eps=1e-6):
    """Central-difference gradient of the scalar ``objective()`` w.r.t. ``array``.

    ``array`` is perturbed in place, one element at a time, and restored.
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


def compare(name, analytic, numeric, rtol, atol):
    """Raise :class:`GradientCheckError` when ``analytic`` and ``numeric`` disagree."""
    analytic = to_numpy(analytic).astype(np.float64)
    if analytic.shape != numeric.shape:
        raise GradientCheckError(
            f"{name}: gradient has shape {analytic.shape}, expected {numeric.shape}"
        )
    if not np.all(np.isfinite(analytic)):
        raise GradientCheckError(f"{name}: analytic gradient has NaN or inf")
    if not np.all(np.isfinite(numeric)):  # the function itself is NaN or inf near this point
        raise GradientCheckError(f"{name}: numerical gradient has NaN or inf")
    error = np.abs(analytic - numeric)
    bad = error > atol + rtol * np.abs(numeric)
    if bad.any():
        i = np.unravel_index(np.argmax(error - rtol * np.abs(numeric)), error.shape)
        raise GradientCheckError(
            f"{name}: {int(bad.sum())} of {bad.size} elements differ; worst at {i}: "
            f"analytic {analytic[i]:.8g}, numeric {numeric[i]:.8g}"
        )


def check(forward, backward, wrt, *, seed=0, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Check ``backward`` against central differences of ``forward``.

    Parameters
    ----------
    forward : callable () -> array or tuple of arrays
        Computes the outputs from the arrays in ``wrt`` (which it must read each call).
    backward : callable (gys: tuple of arrays) -> dict[str, array]
        Runs one forward, back-propagates ``gys`` and returns the analytic gradient of
        ``sum(y * gy)`` for every name in ``wrt``. It is called once, before any perturbation.
    wrt : dict[str, array]
        float64 arrays to check the gradient for; perturbed in place and restored.
    """
    outputs = _as_tuple(forward())
    rng = np.random.default_rng(seed)
    gys = tuple(xp_of(y).asarray(rng.standard_normal(y.shape)) for y in outputs)
    analytic = backward(gys)

    def objective():
        return _objective(forward(), gys)

    for name, array in wrt.items():
        if array.dtype != np.float64:
            raise TypeError(f"gradient checks need float64; {name} is {array.dtype}")
        compare(name, analytic[name], numerical_gradient(objective, array, eps), rtol, atol)


def check_layer(layer, x, *, train=True, **tolerances):
    """Check ``layer``'s input gradient and every parameter gradient at input ``x``.

    ``layer`` must already hold float64 parameters (``layer.astype(np.float64)``).
    """
    wrt = {"input": x, **layer.named_parameters()}

    def forward():
        y = layer.forward(x, train=train)
        layer.clear()
        return y

    def backward(gys):
        layer.zero_grad()
        layer.forward(x, train=train)
        gx = layer.backward(gys[0])
        return {"input": gx, **layer.named_grads()}

    check(forward, backward, wrt, **tolerances)
