"""Optimizers: SGD (with momentum) and Adam, updating a network's own arrays in place.

An optimizer is built over a network (a :class:`~minnet.layers.base.Layer`, or a list of
them) and updates the very arrays in ``layer.params``, in place: a reference a user took from
``layer.params`` before building the optimizer sees every update, and two optimizers over one
network both work. The layers' arrays are never re-seated.

Each ``step()``:

1. gathers every gradient into one flat buffer the optimizer owns, :attr:`Optimizer.flat_grads`
   (one vectorised copy; on the GPU one concatenate);
2. calls :meth:`Optimizer.reduce_gradients` on it: nothing in one process; in data-parallel
   training (a communicator attached), one allreduce that averages it over the ranks;
3. stops with :class:`NonFiniteError` naming the parameter if any gradient is NaN or inf;
4. if ``clip_norm`` is set, rescales the flat gradient to ``g * min(1, clip_norm / ||g||)``;
5. applies the update rule to each parameter array in place, reading views of the flat
   gradient and of the flat moment buffers (``velocity``; ``m`` and ``v``), which are what a
   checkpoint saves;
6. zeroes the layers' gradients for the next round of accumulating ``backward`` calls.

Build the optimizer after the network has its final dtype and device: ``astype`` and ``to``
replace the parameter arrays, and the next ``step()`` then refuses to run rather than update
arrays the network no longer holds.
"""

import math

import numpy as np

from minnet.backend import to_numpy, xp_of
from minnet.errors import MinnetError
from minnet.layers.base import Layer
from minnet.speed import kernels

__all__ = ["Adam", "NonFiniteError", "Optimizer", "SGD", "clip_by_global_norm"]


class NonFiniteError(MinnetError):
    """A gradient (or loss) became NaN or infinite; the message says where."""


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that ``||grads||_2 <= max_norm``; return the norm before."""
    norm = math.sqrt(float(grads @ grads))
    if norm > max_norm:
        grads *= max_norm / norm
    return norm


def parameters_to_optimise(model, optimizer_name):
    """``[(qualified_name, owner_layer, key)]`` of every distinct parameter of ``model``.

    ``model`` is a Layer or a list/tuple of Layers (names then start with the list position,
    ``"0.W"``). An array reachable twice (a layer shared by two networks of the list) is listed
    once, so it is updated once. Anything else is a MinnetError naming ``optimizer_name``.
    """
    if isinstance(model, Layer):
        slots = list(model.parameter_slots())
    elif isinstance(model, (list, tuple)) and model and all(isinstance(layer, Layer) for layer in model):
        slots = [slot for i, layer in enumerate(model) for slot in layer.parameter_slots(f"{i}.")]
    else:
        given = type(model).__name__
        if isinstance(model, (list, tuple)):
            given = f"a {given} of {', '.join(sorted({type(item).__name__ for item in model})) or 'nothing'}"
        raise MinnetError(f"{optimizer_name} expects a Layer or a list of Layers to optimise, got {given}")
    distinct, seen = [], set()
    for name, owner, key in slots:
        if id(owner.params[key]) not in seen:
            seen.add(id(owner.params[key]))
            distinct.append((name, owner, key))
    if not distinct:
        raise MinnetError(f"{optimizer_name}: the network has no parameters to optimise")
    return distinct


class Optimizer:
    """Base class: gathering, reducing, checking and clipping the gradients around ``update``.

    Parameters
    ----------
    model : Layer, or list/tuple of Layers
        The network(s) whose ``params`` are updated in place.
    lr : float
        Learning rate, positive.
    clip_norm : float or None
        Clip the global gradient norm (over all parameters together) to this value before
        every update; None: no clipping.

    Attributes
    ----------
    flat_grads : 1-d array (total number of parameters,)
        The gathered gradient of the last ``step()``, parameters in the order of
        ``model.parameter_slots()``; ``slices[name]`` is where each lives.
    communicator : object or None
        Consulted by :meth:`reduce_gradients` (see there); None in one process.
    last_grad_norm : float or None
        The global gradient norm before clipping at the last step (with ``clip_norm`` only).
    steps : int
        Steps taken (Adam's t).
    """

    def __init__(self, model, lr, *, clip_norm=None):
        if not lr > 0:
            raise MinnetError(f"the learning rate must be positive, got {lr}")
        if clip_norm is not None and not clip_norm > 0:
            raise MinnetError(f"clip_norm must be positive (or None: no clipping), got {clip_norm}")
        self.slots_of_parameters = parameters_to_optimise(model, type(self).__name__)
        self.params = [owner.params[key] for _, owner, key in self.slots_of_parameters]
        self.grads = [owner.grads[key] for _, owner, key in self.slots_of_parameters]
        self.slices = {}
        offset = 0
        for (name, _, _), theta in zip(self.slots_of_parameters, self.params):
            self.slices[name] = slice(offset, offset + theta.size)
            offset += theta.size
        self.flat_grads = xp_of(self.params[0]).zeros(offset, dtype=self.params[0].dtype)
        self.lr = lr
        self.clip_norm = clip_norm
        self.communicator = None
        self.steps = 0
        self.last_grad_norm = None

    def step(self):
        """Update every parameter in place from the accumulated gradients; zeroes the gradients.

        After the step every ``layer.grads`` array is zero, ready for the next round of
        accumulating ``backward`` calls, so a training loop needs no ``zero_grad`` of its own.

        The six stages are listed in this module's docstring. Raises MinnetError if a
        parameter array was replaced (``astype``/``to``) after the optimizer was built, and
        :class:`NonFiniteError` naming the first parameter with a NaN/inf gradient.
        """
        self._require_arrays_unchanged()
        g = self.gather_gradients()
        self.reduce_gradients(g)
        bad = self._first_non_finite(g)
        if bad is not None:
            raise NonFiniteError(f"the gradient of {bad} is NaN or infinite")
        if self.clip_norm is not None:
            self.last_grad_norm = clip_by_global_norm(g, self.clip_norm)
        self.steps += 1
        self.begin_update()
        for theta, where in zip(self.params, self.slices.values()):
            self.update(theta, g[where].reshape(theta.shape), where)
        self.zero_grad()

    def gather_gradients(self):
        """Copy every layer's gradient into :attr:`flat_grads` (one concatenate) and return it."""
        xp = xp_of(self.flat_grads)
        return xp.concatenate([grad.reshape(-1) for grad in self.grads], out=self.flat_grads)

    def reduce_gradients(self, flat_grads):
        """Combine ``flat_grads`` across processes, in place, before the NaN check and clipping.

        In one process there is nothing to combine and this does nothing. Data-parallel
        training (:func:`minnet.training.data_parallel.attach`) sets ``optimizer.communicator``, a
        :class:`minnet.distributed.Communicator` of P ranks. Each rank holds the gradient of the
        mean loss over its B/P images of the global batch; the mean over all B images is the
        mean of those P means, so one allreduce sums the buffer over the ranks and the sum is
        divided by P. Every rank then holds the global batch's gradient, clips it alike, stops
        alike (a NaN anywhere is a NaN everywhere) and takes the same step.
        """
        if self.communicator is None:
            return
        self.communicator.allreduce_sum(flat_grads)
        if self.communicator.size > 1:
            flat_grads /= self.communicator.size

    def zero_grad(self):
        """Zero the gradients of every parameter this optimizer updates."""
        for grad in self.grads:
            grad.fill(0)

    def begin_update(self):
        """Per-step quantities the update rule shares between arrays (Adam's bias correction)."""

    def update(self, theta, g, where):
        """Apply the rule to one parameter array ``theta`` in place, given its gradient ``g``
        (same shape) and ``where`` (the slice of the flat buffers that belongs to it)."""
        raise NotImplementedError

    def moment(self, buffer, where, shape):
        """The view of a flat moment ``buffer`` that belongs to one parameter array: the slice
        ``where`` of it, reshaped to the parameter's ``shape``."""
        return buffer[where].reshape(shape)

    def _require_arrays_unchanged(self):
        for (name, owner, key), theta, grad in zip(self.slots_of_parameters, self.params, self.grads):
            if owner.params[key] is not theta or owner.grads[key] is not grad:
                raise MinnetError(
                    f"{type(self).__name__}: parameter {name} was replaced after the optimizer was built; "
                    "build the optimizer after astype/to"
                )

    def _first_non_finite(self, flat):
        """Name of the first parameter whose part of ``flat`` has a NaN/inf, else None."""
        xp = xp_of(flat)
        if bool(xp.isfinite(flat).all()):
            return None
        return next(n for n, s in self.slices.items() if not bool(xp.isfinite(flat[s]).all()))

    # -- state for checkpoints: NumPy arrays by name ------------------------------------
    def state_dict(self):
        """``{"steps": ..., <moment name>: flat NumPy copy}`` for a checkpoint."""
        state = {"steps": np.asarray(self.steps)}
        state.update({k: to_numpy(v).copy() for k, v in self.slots().items()})
        return state

    def load_state_dict(self, state):
        """Copy ``state``, a :meth:`state_dict`, back in place; ValueError naming an entry of the
        wrong shape."""
        self.steps = int(state["steps"])
        for key, buffer in self.slots().items():
            if state[key].shape != buffer.shape:
                raise ValueError(f"optimizer entry {key!r} has shape {state[key].shape}, expected {buffer.shape}")
            buffer[...] = xp_of(buffer).asarray(state[key])

    def slots(self):
        """The optimizer's own flat per-parameter buffers (momenta), by name."""
        return {}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (the PyTorch form).

    Without momentum: ``theta <- theta - lr g``.
    With momentum mu: ``v <- mu v + g``; ``theta <- theta - lr v``.

    Parameters
    ----------
    model : Layer, or list/tuple of Layers
        The network(s) whose ``params`` are updated in place.
    lr : float
        Learning rate, positive.
    momentum : float
        mu; 0 for plain SGD (then no velocity is kept).
    clip_norm : float or None
        Clip the global gradient norm to this value before every update; None: no clipping.

    ``step()`` updates the parameters and zeroes their gradients; see :class:`Optimizer`.
    """

    def __init__(self, model, lr, momentum=0.0, *, clip_norm=None):
        super().__init__(model, lr, clip_norm=clip_norm)
        self.momentum = momentum
        self.velocity = xp_of(self.flat_grads).zeros_like(self.flat_grads) if momentum else None

    def update(self, theta, g, where):
        if self.velocity is None:
            theta -= self.lr * g
            return
        v = self.moment(self.velocity, where, theta.shape)
        v *= self.momentum
        v += g
        theta -= self.lr * v

    def slots(self):
        return {} if self.velocity is None else {"velocity": self.velocity}


# The Adam update as one CuPy kernel per parameter array (theta, m and v read and written once).
ADAM_KERNEL = kernels.elementwise(
    "minnet_adam",
    "T g, T b1, T b2, T step_size, T eps",
    "T theta, T m, T v",
    """
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    theta -= step_size * m / (sqrt(v) + eps);
    """,
    scalars="b1, b2, step_size, eps",
)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), matching ``torch.optim.Adam``.

    With ``t`` the step number::

        m <- b1 m + (1 - b1) g                     first-moment estimate
        v <- b2 v + (1 - b2) g^2                   second-moment estimate
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)
        where m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)

    computed as ``theta -= step_size * m / (sqrt(v) + eps')`` with
    ``step_size = lr sqrt(1 - b2^t) / (1 - b1^t)`` and ``eps' = eps sqrt(1 - b2^t)``.

    Parameters
    ----------
    model : Layer, or list/tuple of Layers
        The network(s) whose ``params`` are updated in place.
    lr : float
        Learning rate, positive.
    beta1, beta2 : float
        Decay rates of the moment estimates, each in [0, 1).
    eps : float
        Added to sqrt(v_hat) in the denominator.
    clip_norm : float or None
        Clip the global gradient norm to this value before every update; None: no clipping.

    ``step()`` updates the parameters and zeroes their gradients; see :class:`Optimizer`.
    """

    def __init__(self, model, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, clip_norm=None):
        super().__init__(model, lr, clip_norm=clip_norm)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise MinnetError(f"Adam's {name} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        xp = xp_of(self.flat_grads)
        self.m = xp.zeros_like(self.flat_grads)
        self.v = xp.zeros_like(self.flat_grads)

    def begin_update(self):
        correction2 = math.sqrt(1 - self.beta2**self.steps)
        self.step_size = self.lr * correction2 / (1 - self.beta1**self.steps)
        self.corrected_eps = self.eps * correction2

    def update(self, theta, g, where):
        b1, b2 = self.beta1, self.beta2
        m, v = (self.moment(buffer, where, theta.shape) for buffer in (self.m, self.v))
        if xp_of(theta) is not np:
            f = theta.dtype.type
            ADAM_KERNEL(g, f(b1), f(b2), f(self.step_size), f(self.corrected_eps), theta, m, v)
            return
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * (g * g)
        theta -= self.step_size * m / (np.sqrt(v) + self.corrected_eps)

    def slots(self):
        return {"m": self.m, "v": self.v}
