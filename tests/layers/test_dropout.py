import numpy as np
import pytest

from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.gradcheck import check
from minnet.layers.dropout import Dropout


@pytest.mark.parametrize("shape,p", [((4, 5), 0.5), ((2, 3, 4, 4), 0.2), ((1, 7), 0.9)])
def test_gradients_with_fixed_mask(xp, rng, shape, p):
    layer = Dropout(p, rng=rng)
    x = xp.asarray(rng.standard_normal(shape))
    mask = layer.draw_mask(x)

    def forward():
        y = layer.forward(x, mask=mask)
        layer.clear()
        return y

    def backward(gys):
        layer.forward(x, mask=mask)
        return {"input": layer.backward(gys[0])}

    check(forward, backward, {"input": x})


def test_survivors_scaled_and_others_zero(xp, rng):
    layer = Dropout(0.25, rng=rng)
    x = xp.asarray(rng.uniform(1, 2, (50, 40)), dtype=np.float32)
    mask = layer.draw_mask(x)
    y = layer.forward(x, mask=mask)
    assert y.dtype == np.float32
    np.testing.assert_allclose(to_numpy(y), to_numpy(x * mask) / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(layer.backward(xp.ones_like(x))) == 0, ~to_numpy(mask))


def test_mean_roughly_preserved(xp, rng):
    layer = Dropout(0.3, rng=rng)
    y = to_numpy(layer.forward(xp.ones((200, 500), dtype=np.float32)))
    assert abs(y.mean() - 1) < 0.02
    assert abs((y == 0).mean() - 0.3) < 0.01


def test_identity_in_eval_mode_and_when_p_is_zero(xp, rng):
    x = xp.asarray(rng.standard_normal((3, 4)))
    assert Dropout(0.5, rng=rng).eval().forward(x) is x
    layer = Dropout(0.0, rng=rng)
    assert layer.forward(x) is x
    assert layer.backward(x) is x


def test_same_seed_same_masks(xp):
    x = xp.ones((6, 7))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=np.random.default_rng(7))
    for _ in range(2):  # the second masks are replayed too, and differ from the first
        np.testing.assert_array_equal(to_numpy(a.forward(x)), to_numpy(b.forward(x)))
    assert not np.array_equal(to_numpy(a.draw_mask(x)), to_numpy(a.draw_mask(x)))


@pytest.mark.parametrize("p", [-0.1, 1.0])
def test_invalid_probability(p):
    with pytest.raises(MinnetError, match="probability"):
        Dropout(p)
