"""Shape mistakes inside a layer give a ShapeError naming the layer, the expected and given shape."""

import numpy as np
import pytest

from minnet.errors import MinnetError, ShapeError
from minnet.layers import (
    LSTM,
    BatchNorm,
    Concat,
    Conv2d,
    Deconv2d,
    Dense,
    Flatten,
    LabelledConv2d,
    LSTMCell,
    MaxPool2d,
    ReLU,
    Reshape,
    Sequential,
)

MISTAKES = [  # (layer, input shape, the message: layer, expected shape, given shape)
    (lambda: Dense(784, 300), (64, 100), "Dense(784, 300) expects input of shape (B, 784), got (64, 100)"),
    (lambda: Dense(784, 300), (64, 1, 28, 28), "Dense(784, 300) expects input of shape (B, 784), got (64, 1, 28, 28)"),
    (
        lambda: Conv2d(1, 8, 3),
        (4, 3, 28, 28),
        "Conv2d(1, 8, k=3, stride=1, pad=0) expects input of shape (B, 1, H, W), got (4, 3, 28, 28)",
    ),
    (lambda: Conv2d(1, 8, 5), (4, 1, 3, 28), "(B, 1, H, W) with H and W at least 5, got (4, 1, 3, 28)"),
    (
        lambda: Deconv2d(8, 1, 4, 2, 1),
        (4, 8, 7),
        "Deconv2d(8, 1, k=4, stride=2, pad=1) expects input of shape (B, 8, H, W), got (4, 8, 7)",
    ),
    (lambda: MaxPool2d(2), (4, 28, 28), "MaxPool2d(k=2, stride=2, pad=0) expects input of shape (B, C, H, W)"),
    (lambda: BatchNorm(64), (4, 32, 7, 7), "expects input of shape (B, 64) or (B, 64, H, W), got (4, 32, 7, 7)"),
    (lambda: Reshape((128, 7, 7)), (4, 6000), "Reshape((128, 7, 7)) expects input of shape (B, ...) with 6272"),
    (lambda: LSTMCell(28, 16), (4, 27), "LSTMCell(28, 16) expects input of shape (B, 28), got (4, 27)"),
    (lambda: LSTM(28, 16), (4, 28), "LSTM(28, 16) expects input of shape (T, B, 28), got (4, 28)"),
]


@pytest.mark.parametrize("make,shape,message", MISTAKES)
def test_forward_and_output_shape_name_layer_expected_and_given(xp, make, shape, message):
    layer = make()
    for attempt in (lambda: layer.forward(xp.zeros(shape, dtype=np.float32)), lambda: layer.output_shape(shape)):
        with pytest.raises(ShapeError) as error:
            attempt()
        assert message in str(error.value)
        assert isinstance(error.value, MinnetError) and isinstance(error.value, ValueError)


def test_several_inputs(xp):
    expected = r"Concat\(axis=1\) expects every input of shape \(2, \*\) \(\* any size\), as the first, got \(5, 3\)"
    with pytest.raises(ShapeError, match=expected):
        Concat().forward([xp.zeros((2, 3)), xp.zeros((5, 3))])
    layer = LabelledConv2d(1, 10, 8, 4, 2, 1)
    with pytest.raises(ShapeError, match=r"expects labels of shape \(3, 10\), got \(3, 9\)"):
        layer.forward([xp.zeros((3, 1, 28, 28), dtype=np.float32), xp.zeros((3, 9), dtype=np.float32)])
    with pytest.raises(ShapeError, match=r"expects h_prev of shape \(2, 4\), got \(2, 5\)"):
        LSTMCell(3, 4).forward(xp.zeros((2, 3)), (xp.zeros((2, 5)), xp.zeros((2, 4))))


def test_a_mistake_deep_in_a_sequential_names_the_layer(xp):
    net = Sequential(Dense(10, 20), ReLU(), Reshape((4, 5)), Flatten(), Dense(21, 1))
    with pytest.raises(ShapeError, match=r"Dense\(21, 1\) expects input of shape \(B, 21\), got \(3, 20\)"):
        net.forward(xp.zeros((3, 10), dtype=np.float32))


def test_output_shape_matches_forward(xp):
    net = Sequential(
        Dense(10, 16 * 7 * 7),
        Reshape((16, 7, 7)),
        Deconv2d(16, 4, 4, 2, 1),
        BatchNorm(4),
        Conv2d(4, 6, 3, 2, 1),
        MaxPool2d(3, 1, 1),
        Flatten(),
    )
    x = xp.zeros((3, 10), dtype=np.float32)
    assert net.output_shape(x.shape) == net.eval().forward(x).shape == (3, 6 * 7 * 7)
    assert Concat().output_shape([(2, 3, 5), (2, 4, 5)]) == (2, 7, 5)
    assert Reshape((-1, 2)).output_shape((3, 4, 2)) == (3, 4, 2)
    assert LSTM(3, 5).output_shape((7, 2, 3)) == (7, 2, 5)
