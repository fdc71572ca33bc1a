"""Optimizers over one flat parameter buffer.

An optimizer gathers every parameter of a model into one contiguous vector ``theta`` and every
gradient into one vector ``g`` (the layers keep *views* into them, as Waffles keeps one flat
weight vector). Then an update, gradient clipping, the NaN check and zeroing the gradients
are each one vectorised operation over all weights (on the GPU, one kernel launch instead of
one per parameter array).

Build the optimizer after the model has its final dtype and device: ``astype`` and ``to``
replace the arrays that the optimizer's views point into.

Each ``step()``:

0. in data-parallel training, averages ``g`` over the ranks (:meth:`Optimizer.reduce_gradients`);
1. stops with :class:`NonFiniteError` naming the parameter if any gradient is NaN or inf;
2. if ``clip_norm`` is set, rescales ``g`` to ``g * min(1, clip_norm / ||g||)``;
3. applies the update rule to ``theta``;
4. zeroes ``g`` for the next round of accumulating ``backward`` calls.
"""

import math

import numpy as np

from minnet.backend import to_numpy, xp_of
from minnet.errors import MinnetError
from minnet.speed import kernels


class NonFiniteError(MinnetError):
    """A gradient (or loss) became NaN or infinite; the message says where."""


class FlatParameters:
    """One contiguous buffer for all parameters of ``model``, one for all gradients.

    After construction ``model``'s layers hold views: ``layer.params["W"]`` is a reshaped
    slice of :attr:`values` and ``layer.grads["W"]`` the same slice of :attr:`grads`.

    Attributes
    ----------
    values, grads : 1-d arrays of length ``model.num_parameters()``
    slices : dict[str, slice]
        Where each qualified parameter name lives in the buffers.
    """

    def __init__(self, model):
        slots = list(model.parameter_slots())
        if not slots:
            raise ValueError(f"{type(model).__name__} has no parameters to optimise")
        first = slots[0][1].params[slots[0][2]]
        xp = xp_of(first)
        total = sum(owner.params[key].size for _, owner, key in slots)
        self.values = xp.empty(total, dtype=first.dtype)
        self.grads = xp.zeros(total, dtype=first.dtype)
        self.slices = {}
        offset = 0
        for name, owner, key in slots:
            shape = owner.params[key].shape
            size = owner.params[key].size
            where = slice(offset, offset + size)
            self.values[where] = owner.params[key].reshape(-1)
            owner.params[key] = self.values[where].reshape(shape)
            owner.grads[key] = self.grads[where].reshape(shape)
            self.slices[name] = where
            offset += size

    def first_non_finite(self, buffer):
        """Name of the first parameter whose slice of ``buffer`` has a NaN/inf, else None."""
        xp = xp_of(buffer)
        if bool(xp.isfinite(buffer).all()):
            return None
        return next(n for n, s in self.slices.items() if not bool(xp.isfinite(buffer[s]).all()))


def clip_by_global_norm(grads, max_norm):
    """Scale ``grads`` in place so that ``||grads||_2 <= max_norm``; return the norm before."""
    norm = math.sqrt(float(grads @ grads))
    if norm > max_norm:
        grads *= max_norm / norm
    return norm


class Optimizer:
    """Base class: the flat buffers, the NaN check, clipping and zeroing around ``update``.

    Parameters
    ----------
    model : Layer
    lr : float
    clip_norm : float or None
        Clip the global gradient norm to this value before every update.
    """

    def __init__(self, model, lr, *, clip_norm=None):
        if not lr > 0:
            raise MinnetError(f"the learning rate must be positive, got {lr}")
        if clip_norm is not None and not clip_norm > 0:
            raise MinnetError(f"clip_norm must be positive (or None: no clipping), got {clip_norm}")
        self.flat = FlatParameters(model)
        self.lr = lr
        self.clip_norm = clip_norm
        self.steps = 0
        self.last_grad_norm = None
        # Set by minnet.distributed.steps.attach for data-parallel training; one process has none.
        self.communicator = None

    def reduce_gradients(self, grads):
        """Data-parallel training: make ``grads`` the gradient of the whole global batch.

        Each of the P ranks holds the gradient of the mean loss over its B/P images; the mean
        over all B images is the mean of those P means, so one allreduce sums the flat buffer
        over the ranks and the sum is divided by P. It comes before the NaN check and clipping,
        so every rank clips the same gradient and stops alike. Without a communicator (one
        process) it does nothing.
        """
        if self.communicator is None:
            return
        self.communicator.allreduce_sum(grads)
        if self.communicator.size > 1:
            grads /= self.communicator.size

    def step(self):
        grads = self.flat.grads
        self.reduce_gradients(grads)
        bad = self.flat.first_non_finite(grads)
        if bad is not None:
            raise NonFiniteError(f"the gradient of {bad} is NaN or infinite")
        if self.clip_norm is not None:
            self.last_grad_norm = clip_by_global_norm(grads, self.clip_norm)
        self.steps += 1
        self.update(self.flat.values, grads)
        grads.fill(0)

    def zero_grad(self):
        self.flat.grads.fill(0)

    def update(self, theta, g):
        raise NotImplementedError

    # -- state for checkpoints: NumPy arrays by name ------------------------------------
    def state_dict(self):
        state = {"steps": np.asarray(self.steps)}
        state.update({k: to_numpy(v).copy() for k, v in self.slots().items()})
        return state

    def load_state_dict(self, state):
        self.steps = int(state["steps"])
        for key, buffer in self.slots().items():
            if state[key].shape != buffer.shape:
                raise ValueError(f"optimizer entry {key!r} has shape {state[key].shape}, expected {buffer.shape}")
            buffer[...] = xp_of(buffer).asarray(state[key])

    def slots(self):
        """The optimizer's own per-parameter buffers (momenta), by name."""
        return {}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (the PyTorch form).

    Without momentum: ``theta <- theta - lr g``.
    With momentum mu: ``v <- mu v + g``; ``theta <- theta - lr v``.
    """

    def __init__(self, model, lr, momentum=0.0, **kw):
        super().__init__(model, lr, **kw)
        self.momentum = momentum
        self.velocity = xp_of(self.flat.values).zeros_like(self.flat.values) if momentum else None

    def update(self, theta, g):
        if self.velocity is None:
            theta -= self.lr * g
            return
        self.velocity *= self.momentum
        self.velocity += g
        theta -= self.lr * self.velocity

    def slots(self):
        return {} if self.velocity is None else {"velocity": self.velocity}


# The Adam update as one CuPy kernel over the flat buffers (all four read and written once).
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
    """

    def __init__(self, model, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, **kw):
        super().__init__(model, lr, **kw)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise MinnetError(f"Adam's {name} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        xp = xp_of(self.flat.values)
        self.m = xp.zeros_like(self.flat.values)
        self.v = xp.zeros_like(self.flat.values)

    def update(self, theta, g):
        b1, b2, t = self.beta1, self.beta2, self.steps
        correction2 = math.sqrt(1 - b2**t)
        step_size = self.lr * correction2 / (1 - b1**t)
        eps = self.eps * correction2
        if xp_of(theta) is not np:
            f = theta.dtype.type
            ADAM_KERNEL(g, f(b1), f(b2), f(step_size), f(eps), theta, self.m, self.v)
            return
        self.m *= b1
        self.m += (1 - b1) * g
        self.v *= b2
        self.v += (1 - b2) * (g * g)
        theta -= step_size * self.m / (np.sqrt(self.v) + eps)

    def slots(self):
        return {"m": self.m, "v": self.v}
