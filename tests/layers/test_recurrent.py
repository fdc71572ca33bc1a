import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.gradcheck import check, check_layer
from minnet.gradcheck_cases import CASES, Settings
from minnet.layers.base import evaluating
from minnet.layers.naive import lstm_sequence, lstm_step
from minnet.layers.recurrent import LSTM, LSTMCell


def make_cell(xp, rng, n_in, n_hidden):
    """A float64 cell with random (not initial) biases, so every gate is exercised."""
    cell = LSTMCell(n_in, n_hidden, rng=rng).astype(np.float64)
    cell.params["b"][...] = xp.asarray(rng.standard_normal(4 * n_hidden))
    return cell


def normal(xp, rng, *shape):
    return xp.asarray(rng.standard_normal(shape))


def in_eval_mode(layer, forward):
    """``forward`` run with ``layer`` in evaluation mode, so the numerical passes save nothing."""

    def run():
        with evaluating(layer):
            return forward()

    return run


@pytest.mark.parametrize("batch,n_in", [(1, 1), (3, 4), (2, 7)])
def test_cell_step_gradients(device, batch, n_in):
    """One step (input, both halves of the state, parameters), through the case ``minnet
    gradcheck LSTMCell`` runs, at more input shapes than its default."""
    _title, forward, backward, wrt = CASES["LSTMCell"](Settings(shape=(batch, n_in)), np.random.default_rng(0))
    check(forward, backward, wrt)


@pytest.mark.parametrize("steps,batch,n_in,n_hidden", [(5, 2, 3, 2), (7, 1, 2, 3)])
def test_cell_unrolled_gradients(xp, rng, steps, batch, n_in, n_hidden):
    """Back-propagation through time, driven by hand: loss on every h and on the last c."""
    cell = make_cell(xp, rng, n_in, n_hidden)
    xs = normal(xp, rng, steps, batch, n_in)
    h0, c0 = normal(xp, rng, batch, n_hidden), normal(xp, rng, batch, n_hidden)

    def unroll():
        state, hs = (h0, c0), []
        for t in range(steps):
            state = cell.forward(xs[t], state)
            hs.append(state[0])
        return (*hs, state[1])

    def backward(gys):
        cell.zero_grad()
        unroll()
        *ghs, gc_last = gys
        gxs = [None] * steps
        gh_carry, gc_carry = xp.zeros_like(h0), gc_last
        for t in reversed(range(steps)):
            gxs[t], (gh_carry, gc_carry) = cell.backward(ghs[t] + gh_carry, gc_carry)
        return {"xs": xp.stack(gxs), "h0": gh_carry, "c0": gc_carry, **cell.grads}

    wrt = {"xs": xs, "h0": h0, "c0": c0, **cell.params}
    check(in_eval_mode(cell, unroll), backward, wrt)


def test_cell_offset_shared_by_the_steps_gets_the_sum_of_gate_gradients(xp, rng):
    """An offset u V added at every step equals an input u concatenated to x: dL/d offset is
    the sum over the steps of gate_grad, and the outputs match the cell with u in its input."""
    steps, batch, n_in, n_hidden = 3, 2, 2, 3
    cell = make_cell(xp, rng, n_in, n_hidden)
    xs = normal(xp, rng, steps, batch, n_in)
    offset = normal(xp, rng, batch, 4 * n_hidden)

    def unroll():
        state, hs = None, []
        for t in range(steps):
            state = cell.forward(xs[t], state, offset=offset)
            hs.append(state[0])
        return tuple(hs)

    def backward(gys):
        cell.zero_grad()
        unroll()
        g_offset, gh_carry, gc_carry = 0, 0, None
        for t in reversed(range(steps)):
            _, (gh_carry, gc_carry) = cell.backward(gys[t] + gh_carry, gc_carry)
            g_offset = g_offset + cell.gate_grad
        return {"offset": g_offset, **cell.grads}

    check(in_eval_mode(cell, unroll), backward, {"offset": offset, **cell.params})
    u, V = normal(xp, rng, batch, 4), normal(xp, rng, 4, 4 * n_hidden)
    joined = LSTMCell(n_in + 4, n_hidden)
    joined.params["W"] = xp.concatenate([cell.params["W"][:n_in], V, cell.params["W"][n_in:]])
    joined.params["b"] = cell.params["b"]
    with_offset = cell.eval().forward(xs[0], None, offset=u @ V)
    with_input = joined.eval().forward(xp.concatenate([xs[0], u], axis=1), None)
    np.testing.assert_allclose(to_numpy(with_offset[0]), to_numpy(with_input[0]), rtol=1e-10)


@pytest.mark.parametrize("steps,batch,n_in,n_hidden", [(1, 2, 3, 2), (4, 3, 2, 3), (6, 1, 1, 2)])
def test_lstm_gradients(xp, rng, steps, batch, n_in, n_hidden):
    lstm = LSTM(n_in, n_hidden, rng=rng).astype(np.float64)
    lstm.cell.params["b"][...] = normal(xp, rng, 4 * n_hidden)
    check_layer(lstm, normal(xp, rng, steps, batch, n_in))


def test_lstm_initial_state_gradients(xp, rng):
    lstm = LSTM(3, 2, rng=rng).astype(np.float64)
    x = normal(xp, rng, 4, 2, 3)
    h0, c0 = normal(xp, rng, 2, 2), normal(xp, rng, 2, 2)

    def backward(gys):
        lstm.forward(x, state=(h0, c0))
        lstm.backward(gys[0])
        gh0, gc0 = lstm.initial_state_grad
        return {"h0": gh0, "c0": gc0}

    check(in_eval_mode(lstm, lambda: lstm.forward(x, state=(h0, c0))), backward, {"h0": h0, "c0": c0})


def test_cell_matches_naive_step(xp, rng):
    cell = make_cell(xp, rng, 4, 3)
    x, h_prev, c_prev = (normal(xp, rng, 2, n) for n in (4, 3, 3))
    h, c = cell.eval().forward(x, (h_prev, c_prev))
    W, b = (to_numpy(cell.params[k]) for k in ("W", "b"))
    h_ref, c_ref = lstm_step(*(to_numpy(a) for a in (x, h_prev, c_prev)), W, b)
    np.testing.assert_allclose(to_numpy(h), h_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(c), c_ref, rtol=1e-12, atol=1e-12)


def test_lstm_matches_naive_sequence(xp, rng):
    lstm = LSTM(3, 4, rng=rng).astype(np.float64)
    lstm.cell.params["b"][...] = normal(xp, rng, 16)
    x = normal(xp, rng, 6, 2, 3)
    W, b = (to_numpy(lstm.cell.params[k]) for k in ("W", "b"))
    hs_ref, _ = lstm_sequence(to_numpy(x), W, b)
    np.testing.assert_allclose(
        to_numpy(lstm.eval().forward(x)), hs_ref, rtol=1e-12, atol=1e-12
    )


def test_init_layout_and_forget_bias():
    cell = LSTMCell(5, 3, rng=0)
    assert cell.params["W"].shape == (8, 12) and cell.params["b"].shape == (12,)
    expected_b = np.r_[np.zeros(3), np.ones(3), np.zeros(6)]
    np.testing.assert_array_equal(to_numpy(cell.params["b"]), expected_b)
    custom = LSTMCell(5, 3, rng=0, forget_bias=0.5)
    np.testing.assert_array_equal(to_numpy(custom.params["b"])[3:6], 0.5)
    np.testing.assert_array_equal(to_numpy(custom.params["W"]), to_numpy(cell.params["W"]))


def test_lstm_parameter_names():
    assert set(LSTM(2, 3, rng=0).named_parameters()) == {"cell.W", "cell.b"}


def test_float32_stays_float32(xp, rng):
    cell = LSTMCell(3, 2, rng=rng)
    x = xp.asarray(rng.standard_normal((4, 3)), dtype=np.float32)
    h, c = cell.forward(x)
    gx, (gh_prev, gc_prev) = cell.backward(xp.ones_like(h))
    assert {a.dtype for a in (h, c, gx, gh_prev, gc_prev, *cell.grads.values())} == {
        np.dtype(np.float32)
    }


def test_inference_saves_nothing(xp, rng):
    cell = LSTMCell(3, 2, rng=rng)
    h, _ = cell.eval().forward(xp.ones((1, 3), dtype=np.float32))
    assert not cell._saved
    with pytest.raises(MinnetError, match="eval mode"):
        cell.backward(h)


def test_saturated_gates_stay_finite(xp, rng):
    cell = LSTMCell(2, 2, rng=rng)
    x = xp.asarray([[1e4, -1e4]], dtype=np.float32)
    h, c = cell.forward(x)
    gx, _ = cell.backward(xp.ones_like(h))
    assert all(bool(xp.isfinite(a).all()) for a in (h, c, gx))


def test_cell_matches_torch(xp, rng):
    torch = pytest.importorskip("torch")
    n_in, n_hidden, batch = 4, 3, 5
    cell = make_cell(xp, rng, n_in, n_hidden)
    W, b = (to_numpy(cell.params[k]) for k in ("W", "b"))
    reference = torch.nn.LSTMCell(n_in, n_hidden).double()
    with torch.no_grad():
        reference.weight_ih.copy_(torch.from_numpy(W[:n_in].T.copy()))
        reference.weight_hh.copy_(torch.from_numpy(W[n_in:].T.copy()))
        reference.bias_ih.copy_(torch.from_numpy(b))
        reference.bias_hh.zero_()
    arrays = [rng.standard_normal(s) for s in [(batch, n_in)] + [(batch, n_hidden)] * 4]
    x, h_prev, c_prev, gh, gc = arrays
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    t_h, t_c = reference(tx, (th, tc))
    torch.autograd.backward((t_h, t_c), (torch.from_numpy(gh), torch.from_numpy(gc)))

    h, c = cell.forward(xp.asarray(x), (xp.asarray(h_prev), xp.asarray(c_prev)))
    gx, (gh_prev, gc_prev) = cell.backward(xp.asarray(gh), xp.asarray(gc))

    def same(ours, theirs):
        np.testing.assert_allclose(to_numpy(ours), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

    same(h, t_h)
    same(c, t_c)
    same(gx, tx.grad)
    same(gh_prev, th.grad)
    same(gc_prev, tc.grad)
    same(cell.grads["W"][:n_in], reference.weight_ih.grad.T)
    same(cell.grads["W"][n_in:], reference.weight_hh.grad.T)
    same(cell.grads["b"], reference.bias_ih.grad)
