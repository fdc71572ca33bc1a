"""Recurrent layers: the LSTM cell, and an LSTM that runs the cell over a sequence.

A recurrent cell is the one kind of layer whose ``forward`` takes two things: the input of
this step and the state left by the previous step. The state is passed explicitly, so a model
can unroll a cell for as many steps as it likes (64 for DRAW) and feed anything it wants in
between::

    state = None                                  # zeros
    for x_t in inputs:
        h, c = cell.forward(x_t, state)
        state = (h, c)

Back-propagation through time is then the same loop run backwards: each ``backward`` pops the
most recent step and returns the gradient for that step's input and for the state it received,
which the caller adds to the gradient arriving at the previous step's outputs::

    gh_carry, gc_carry = 0, None
    for t in reversed(range(T)):
        gx[t], (gh_carry, gc_carry) = cell.backward(gh[t] + gh_carry, gc_carry)

:class:`LSTM` is that pair of loops packaged as an ordinary single-input layer.

On the GPU the gate arithmetic of a step, which on the CPU is a dozen or more NumPy operations on
(B, H) arrays, runs as one fused CuPy kernel per direction.
"""

import numpy as np
from scipy.special import expit

from minnet import init as initializers
from minnet.backend import xp_of
from minnet.layers.accumulate import add_transposed_product
from minnet.layers.base import Layer
from minnet.speed import kernels


class LSTMCell(Layer):
    """One step of a long short-term memory (Hochreiter & Schmidhuber 1997; forget gate of
    Gers et al. 2000), with its state carried explicitly.

    ``h, c = cell.forward(x, state)`` where ``state`` is ``None`` (zeros) or ``(h_prev, c_prev)``.
    The four gates come from one matrix product on the concatenation ``[x, h_prev]``::

        a = [x, h_prev] W + b                 (B, 4H), column blocks a_i, a_f, a_g, a_o
        i = sigmoid(a_i)                      input gate: how much of g to write
        f = sigmoid(a_f)                      forget gate: how much of c_prev to keep
        g = tanh(a_g)                         candidate values
        o = sigmoid(a_o)                      output gate: how much of the cell to show
        c = f * c_prev + i * g                new cell state
        h = o * tanh(c)                       new hidden state (the output)

    ``gx, (gh_prev, gc_prev) = cell.backward(gh, gc)`` with ``gh = dL/dh`` and ``gc = dL/dc``
    (``None`` when c is not used later, e.g. after the last step) applies the chain rule, with
    activation derivatives taken from the saved outputs (sigmoid' = s(1 - s), tanh' = 1 - t^2)::

        dc      = gc + gh * o * (1 - tanh(c)^2)      c reaches L directly and through h
        da_o    = gh * tanh(c) * o (1 - o)
        da_i    = dc * g * i (1 - i)
        da_f    = dc * c_prev * f (1 - f)
        da_g    = dc * i * (1 - g^2)
        gc_prev = dc * f
        dW = [x, h_prev]^T da,   db = sum over the batch of da,   [gx, gh_prev] = da W^T

    An input that is the same at every step of an unrolled pass can be left out of ``x`` and
    multiplied by its rows of weights once, by the caller: ``forward(x, state, offset=u V)``
    adds the (B, 4H) ``offset`` to ``a``, and ``backward`` leaves ``dL/da`` (= dL/d offset) of
    the step it undid in :attr:`gate_grad`, whose sum over the steps gives ``dV = u^T sum da``.

    Shapes: ``x (B, n_in)``; ``h, c, h_prev, c_prev (B, H)``; ``W (n_in + H, 4H)`` with rows
    for x first and for h_prev after; ``b (4H,)``; the gate blocks of W's columns and of b are
    in the order i, f, g, o (as in PyTorch, whose ``weight_ih``/``weight_hh`` are the two row
    blocks of W transposed, and whose ``bias_ih + bias_hh`` is b).

    Naive twin: :func:`minnet.layers.naive.lstm_step` and ``lstm_step_backward``, each gate
    with its own two products and its own derivative. Here the four gates come from one
    product on ``[x, h_prev]`` (one large product instead of eight small ones), the gate
    arithmetic runs in place on that product's output (one fused kernel each way on the GPU),
    and ``dW`` is accumulated in place as in :class:`~minnet.layers.dense.Dense`.

    Parameters
    ----------
    n_in, n_hidden : int
        Input size and hidden size H.
    init : str or callable
        Initializer for W (see :mod:`minnet.init`), given the fans of W's full shape.
    rng : int, numpy.random.Generator or None
        Seed or generator for the initial weights.
    forget_bias : float
        Initial value of the forget-gate biases b[H:2H]; 1 makes the cell remember by default
        early in training (Gers et al. 2000; Jozefowicz et al. 2015). Other biases start at 0.
    """

    def __init__(self, n_in, n_hidden, *, init="glorot", rng=None, forget_bias=1.0):
        super().__init__()
        self.n_in, self.n_hidden = n_in, n_hidden
        rng = initializers.as_rng(rng)
        n_rows, n_cols = n_in + n_hidden, 4 * n_hidden
        self.add_param("W", initializers.resolve(init)(rng, (n_rows, n_cols), n_rows, n_cols))
        b = initializers.zeros((n_cols,))
        b[n_hidden : 2 * n_hidden] = forget_bias
        self.add_param("b", b)
        self.gate_grad = None

    def forward(self, x, state=None, offset=None):
        """One step: ``(x, (h_prev, c_prev)) -> (h, c)``.

        Unlike single-input layers, this takes the previous state as a second argument and
        returns the new state. ``state=None`` starts from zeros. ``offset`` (B, 4H), if given,
        is added to the gate pre-activations (see the class docstring).
        """
        xp = xp_of(x)
        self.output_shape(x.shape)  # a ShapeError for an input the cell cannot take
        if state is None:
            h_prev = c_prev = xp.zeros((x.shape[0], self.n_hidden), dtype=x.dtype)
        else:
            h_prev, c_prev = state
            for name, part in (("h_prev", h_prev), ("c_prev", c_prev)):
                self.expect_shape(part.shape, (x.shape[0], self.n_hidden), what=name)
        x_h = xp.concatenate((x, h_prev), axis=1)  # [x, h_prev]  (B, n_in + H)
        a = x_h @ self.params["W"]
        if offset is not None:
            a += offset
        gates, c, tanh_c, h = _gate_forward(a, self.params["b"], c_prev)
        if self.training:
            self.push(x_h, gates, c_prev, tanh_c)
        return h, c

    def output_shape(self, input_shape):
        """``input_shape`` ``(B, n_in) -> (B, H)``, the shape of h and of c."""
        self.expect_shape(input_shape, ("B", self.n_in))
        return (input_shape[0], self.n_hidden)

    def backward(self, gh, gc=None):
        """Undo the most recent step: ``(gh, gc) = (dL/dh, dL/dc) -> (dL/dx, (dL/dh_prev, dL/dc_prev))``.

        Adds dL/dW and dL/db into ``grads``; leaves dL/da in :attr:`gate_grad`. ``gc=None``
        means dL/dc = 0.
        """
        x_h, gates, c_prev, tanh_c = self.pop()
        if gc is None:
            gc = xp_of(gh).zeros_like(gh)
        d_gates, gc_prev = _gate_backward(gates, c_prev, tanh_c, gh, gc)
        self.gate_grad = d_gates
        if self.param_grads:
            add_transposed_product(self.grads["W"], x_h, d_gates)  # dL/dW = [x, h_prev]^T da
            self.grads["b"] += d_gates.sum(axis=0)  # dL/db = sum over the batch of da
        g_x_h = d_gates @ self.params["W"].T  # dL/d[x, h_prev] = da W^T
        return g_x_h[:, : self.n_in], (g_x_h[:, self.n_in :], gc_prev)

    def __repr__(self):
        return f"LSTMCell({self.n_in}, {self.n_hidden})"


class LSTM(Layer):
    """An :class:`LSTMCell` run over a whole sequence: ``hs = LSTM(x)``.

    Shapes: ``x (T, B, n_in)`` (time first) -> ``hs (T, B, H)``, the hidden state after every
    step. Parameters are the cell's, named ``cell.W`` and ``cell.b``.

    ``forward(x, state=None)`` starts from ``state = (h0, c0)``, zeros by default.
    ``backward(ghs)`` back-propagates through time: at step t the gradient reaching h_t is
    ``ghs[t]`` plus what step t+1 sent back to its h_prev, and the gradient reaching c_t is
    what step t+1 sent back to its c_prev (nothing after the last step). It returns ``dL/dx``
    and leaves ``dL/d(h0, c0)`` in :attr:`initial_state_grad`.

    Parameters ``n_in``, ``n_hidden``, ``init``, ``rng`` and ``forget_bias`` are those of
    :class:`LSTMCell`.
    """

    def __init__(self, n_in, n_hidden, *, init="glorot", rng=None, forget_bias=1.0):
        super().__init__()
        self.cell = LSTMCell(n_in, n_hidden, init=init, rng=rng, forget_bias=forget_bias)
        self.initial_state_grad = None

    def sublayers(self):
        return {"cell": self.cell}

    def output_shape(self, input_shape):
        """``input_shape`` ``(T, B, n_in) -> (T, B, H)``."""
        self.expect_shape(input_shape, ("T", "B", self.cell.n_in))
        return (*input_shape[:2], self.cell.n_hidden)

    def forward(self, x, state=None):
        """``hs (T, B, H)`` for ``x (T, B, n_in)``, starting from ``state = (h0, c0)`` (zeros when None)."""
        self.output_shape(x.shape)  # a ShapeError for an input the layer cannot take
        hs = []
        for x_t in x:
            state = self.cell.forward(x_t, state)
            hs.append(state[0])
        if self.training:
            self.push(len(x))
        return xp_of(x).stack(hs)

    def backward(self, ghs):
        """``dL/dx (T, B, n_in)`` for ``ghs = dL/dhs (T, B, H)``, back through time (see the class docstring)."""
        (steps,) = self.pop()
        gxs = [None] * steps
        gh_carry = gc_carry = None  # dL/dh_t and dL/dc_t sent back from step t+1
        for t in reversed(range(steps)):
            gh = ghs[t] if gh_carry is None else ghs[t] + gh_carry  # h_t feeds out and on
            gxs[t], (gh_carry, gc_carry) = self.cell.backward(gh, gc_carry)
        self.initial_state_grad = (gh_carry, gc_carry)
        return xp_of(ghs).stack(gxs)

    def __repr__(self):
        return f"LSTM({self.cell.n_in}, {self.cell.n_hidden})"


# -- the gate arithmetic, on NumPy and as fused CuPy kernels ----------------------------------


def _blocks(array):
    """The four gate blocks i, f, g, o of the last axis of ``array`` (size 4H), as views."""
    H = array.shape[-1] // 4
    return tuple(array[..., k * H : (k + 1) * H] for k in range(4))


def _gate_forward(a, b, c_prev):
    """From ``a = [x, h_prev] W`` (B, 4H), ``b`` and ``c_prev`` to ``(gates, c, tanh(c), h)``.

    ``gates`` (B, 4H) holds i, f, g, o in the blocks of a; on the CPU it is ``a`` itself,
    overwritten.
    """
    xp = xp_of(a)
    if xp is not np:
        return _gate_forward_cuda(xp, a, b, c_prev)
    a += b
    i, f, g, o = _blocks(a)
    i_and_f = a[:, : 2 * c_prev.shape[1]]  # the two adjacent sigmoid blocks, one pass
    expit(i_and_f, out=i_and_f)  # i = sigmoid(a_i), f = sigmoid(a_f)
    np.tanh(g, out=g)  # g = tanh(a_g)
    expit(o, out=o)  # o = sigmoid(a_o)
    c = f * c_prev
    c += i * g  # c = f c_prev + i g
    tanh_c = np.tanh(c)
    return a, c, tanh_c, o * tanh_c  # h = o tanh(c)


def _gate_backward(gates, c_prev, tanh_c, gh, gc):
    """From ``dL/dh``, ``dL/dc`` and the saved values to ``(dL/da (B, 4H), dL/dc_prev)``."""
    xp = xp_of(gates)
    if xp is not np:
        return _gate_backward_cuda(xp, gates, c_prev, tanh_c, gh, gc)
    i, f, g, o = _blocks(gates)
    d_gates = np.empty_like(gates)
    da_i, da_f, da_g, da_o = _blocks(d_gates)
    dc = gh * o
    dc *= 1 - tanh_c * tanh_c
    dc += gc  # dL/dc = gc + gh o (1 - tanh(c)^2)
    np.multiply(gh * tanh_c, o * (1 - o), out=da_o)  # dL/da_o = gh tanh(c) o (1 - o)
    np.multiply(dc * g, i * (1 - i), out=da_i)  # dL/da_i = dc g i (1 - i)
    np.multiply(dc * c_prev, f * (1 - f), out=da_f)  # dL/da_f = dc c_prev f (1 - f)
    np.multiply(dc * i, 1 - g * g, out=da_g)  # dL/da_g = dc i (1 - g^2)
    return d_gates, dc * f  # dL/dc_prev = dc f


# sigmoid(x) = (1 + tanh(x/2)) / 2 exactly, and tanh cannot overflow.
_CUDA_SIGMOID = """
template <typename T> __device__ T sigmoid(T x) {
    const T half = 0.5;
    return tanh(x * half) * half + half;
}
"""


# One thread handles one (sample, unit) pair; the gate blocks are passed as strided views, so a
# kernel reads the four pre-activations of its unit from the (B, 4H) array directly.
LSTM_FORWARD = kernels.elementwise(
    "minnet_lstm_forward",
    "T a_i, T a_f, T a_g, T a_o, T b_i, T b_f, T b_g, T b_o, T c_prev",
    "T in_gate, T forget_gate, T candidate, T out_gate, T c, T tanh_c, T h",
    """
    in_gate = sigmoid(a_i + b_i);
    forget_gate = sigmoid(a_f + b_f);
    candidate = tanh(a_g + b_g);
    out_gate = sigmoid(a_o + b_o);
    c = forget_gate * c_prev + in_gate * candidate;
    tanh_c = tanh(c);
    h = out_gate * tanh_c;
    """,
    preamble=_CUDA_SIGMOID,
)
LSTM_BACKWARD = kernels.elementwise(
    "minnet_lstm_backward",
    "T in_gate, T forget_gate, T candidate, T out_gate, T c_prev, T tanh_c, T gh, T gc",
    "T da_i, T da_f, T da_g, T da_o, T gc_prev",
    """
    T dc = gc + gh * out_gate * (1 - tanh_c * tanh_c);
    da_i = dc * candidate * in_gate * (1 - in_gate);
    da_f = dc * c_prev * forget_gate * (1 - forget_gate);
    da_g = dc * in_gate * (1 - candidate * candidate);
    da_o = gh * tanh_c * out_gate * (1 - out_gate);
    gc_prev = dc * forget_gate;
    """,
)


def _gate_forward_cuda(cupy, a, b, c_prev):
    """:func:`_gate_forward` as one kernel launch (the bias add included)."""
    gates = cupy.empty_like(a)
    c, tanh_c, h = (cupy.empty_like(c_prev) for _ in range(3))
    LSTM_FORWARD(*_blocks(a), *_blocks(b), c_prev, *_blocks(gates), c, tanh_c, h)
    return gates, c, tanh_c, h


def _gate_backward_cuda(cupy, gates, c_prev, tanh_c, gh, gc):
    """:func:`_gate_backward` as one kernel launch."""
    d_gates = cupy.empty_like(gates)
    gc_prev = cupy.empty_like(c_prev)
    LSTM_BACKWARD(*_blocks(gates), c_prev, tanh_c, gh, gc, *_blocks(d_gates), gc_prev)
    return d_gates, gc_prev
