"""A plain LSTM, one gate at a time, as the reference the fast LSTMCell is tested against.

Each gate has its own input weights, recurrent weights and bias, cut out of minnet's packed
``W (n_in + H, 4H)`` and ``b (4H,)``: rows ``:n_in`` act on x and rows ``n_in:`` on h_prev;
column blocks are the gates i, f, g, o in that order. Written for clarity, not speed.
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


def lstm_step(x, h_prev, c_prev, W, b):
    """One step: returns ``(h, c)``."""
    weights = gate_weights(W, b, x.shape[1])

    def pre_activation(name):
        W_x, W_h, b_gate = weights[name]
        return x @ W_x + h_prev @ W_h + b_gate

    i = sigmoid(pre_activation("i"))
    f = sigmoid(pre_activation("f"))
    g = np.tanh(pre_activation("g"))
    o = sigmoid(pre_activation("o"))
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c


def lstm_sequence(xs, W, b, h0=None, c0=None):
    """Run :func:`lstm_step` over ``xs (T, B, n_in)``; returns ``hs (T, B, H)`` and the last c."""
    H = W.shape[1] // 4
    batch = xs.shape[1]
    h = np.zeros((batch, H)) if h0 is None else h0
    c = np.zeros((batch, H)) if c0 is None else c0
    hs = []
    for t in range(xs.shape[0]):
        h, c = lstm_step(xs[t], h, c, W, b)
        hs.append(h)
    return np.stack(hs), c
