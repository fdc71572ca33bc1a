"""A plain LSTM, one gate at a time: the twin of :class:`minnet.layers.LSTMCell` and ``LSTM``.

Each gate has its own input weights, recurrent weights and bias, cut out of minnet's packed
``W (n_in + H, 4H)`` and ``b (4H,)``: rows ``:n_in`` act on x and rows ``n_in:`` on h_prev;
column blocks are the gates i, f, g, o in that order. The fast cell instead computes all four
pre-activations with one matrix product on ``[x, h_prev]``. Written for clarity, not speed.
"""

import numpy as np

GATES = ("i", "f", "g", "o")


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gate_weights(W, b, n_in):
    """``{gate: (W_x (n_in, H), W_h (H, H), b (H,))}`` sliced out of the packed W and b."""
    H = W.shape[1] // 4
    return {
        name: (W[:n_in, k * H : (k + 1) * H], W[n_in:, k * H : (k + 1) * H], b[k * H : (k + 1) * H])
        for k, name in enumerate(GATES)
    }


def lstm_gates(x, h_prev, W, b):
    """``{gate: activation (B, H)}``: i, f, o = sigmoid and g = tanh of ``x W_x + h_prev W_h + b``."""
    activations = {}
    for name, (W_x, W_h, b_gate) in gate_weights(W, b, x.shape[1]).items():
        a = x @ W_x + h_prev @ W_h + b_gate
        activations[name] = np.tanh(a) if name == "g" else sigmoid(a)
    return activations


def lstm_step(x, h_prev, c_prev, W, b):
    """One step: ``c = f c_prev + i g``, ``h = o tanh(c)``; returns ``(h, c)``, each (B, H).

    ``x (B, n_in)``, ``h_prev, c_prev (B, H)``, ``W (n_in + H, 4H)``, ``b (4H,)``.
    """
    gate = lstm_gates(x, h_prev, W, b)
    c = gate["f"] * c_prev + gate["i"] * gate["g"]
    h = gate["o"] * np.tanh(c)
    return h, c


def lstm_step_backward(x, h_prev, c_prev, W, b, gh, gc):
    """Back through one step: ``(dL/dx, dL/dh_prev, dL/dc_prev, dL/dW, dL/db)``.

    ``x``, ``h_prev``, ``c_prev``, ``W`` and ``b`` are the step's inputs and parameters, as for
    :func:`lstm_step`; ``gh = dL/dh`` and ``gc = dL/dc`` (B, H) come from later (zeros when
    nothing later uses them). The chain rule, one line per dependency::

        dc       = gc + gh o (1 - tanh(c)^2)        c reaches L directly and through h
        do, di   = gh tanh(c),  dc g
        df, dg   = dc c_prev,   dc i
        da_gate  = d gate * gate' (s (1 - s) for a sigmoid, 1 - t^2 for tanh)
        dc_prev  = dc f
        dx       = sum over gates of da W_x^T,   dh_prev = sum of da W_h^T
        dW_x     = x^T da,   dW_h = h_prev^T da,   db = sum over the batch of da
    """
    gate = lstm_gates(x, h_prev, W, b)
    c = gate["f"] * c_prev + gate["i"] * gate["g"]
    dc = gc + gh * gate["o"] * (1 - np.tanh(c) ** 2)
    d_gate = {"o": gh * np.tanh(c), "i": dc * gate["g"], "f": dc * c_prev, "g": dc * gate["i"]}
    n_in, H = x.shape[1], h_prev.shape[1]
    gx, gh_prev, gW, gb = np.zeros_like(x), np.zeros_like(h_prev), np.zeros_like(W), np.zeros_like(b)
    for k, (name, (W_x, W_h, _)) in enumerate(gate_weights(W, b, n_in).items()):
        slope = 1 - gate[name] ** 2 if name == "g" else gate[name] * (1 - gate[name])
        da = d_gate[name] * slope
        gx += da @ W_x.T
        gh_prev += da @ W_h.T
        gW[:n_in, k * H : (k + 1) * H] = x.T @ da
        gW[n_in:, k * H : (k + 1) * H] = h_prev.T @ da
        gb[k * H : (k + 1) * H] = da.sum(axis=0)
    return gx, gh_prev, dc * gate["f"], gW, gb


def lstm_sequence(xs, W, b, h0=None, c0=None):
    """Run :func:`lstm_step` over ``xs (T, B, n_in)`` with parameters ``W`` and ``b``, from
    ``h0`` and ``c0`` (B, H) (zeros when None); returns ``hs (T, B, H)`` and the last c."""
    H = W.shape[1] // 4
    batch = xs.shape[1]
    h = np.zeros((batch, H)) if h0 is None else h0
    c = np.zeros((batch, H)) if c0 is None else c0
    hs = []
    for t in range(xs.shape[0]):
        h, c = lstm_step(xs[t], h, c, W, b)
        hs.append(h)
    return np.stack(hs), c
