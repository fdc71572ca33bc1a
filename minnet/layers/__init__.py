"""minnet's layers, one file per family; each has a hand-written forward and backward pass.

==============  =====================================================================
file            layers
==============  =====================================================================
base.py         Layer (the contract), Sequential, evaluating, input_gradients_only
dense.py        Dense
attention.py    Filterbank, Read, Write (DRAW's Gaussian attention), and the read/write pair
                AttentionRead, AttentionWrite made of them
canvas.py       PixelRead, CanvasRead, PixelWrite: read/write pairs without attention
activations.py  ReLU, LeakyReLU, Tanh, Sigmoid, Softmax
conv.py         Conv2d, Deconv2d (transposed convolution); im2col.py does the lowering
conditional.py  LabelledConv2d (a Conv2d over an image stacked with constant label maps)
pooling.py      MaxPool2d
norm.py         BatchNorm
dropout.py      Dropout
recurrent.py    LSTMCell, LSTM
shape.py        Flatten, Reshape, Concat
==============  =====================================================================
"""

from minnet.layers.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from minnet.layers.attention import AttentionRead, AttentionWrite, Filterbank, Read, Write
from minnet.layers.base import Layer, Sequential, evaluating, input_gradients_only
from minnet.layers.canvas import CanvasRead, PixelRead, PixelWrite
from minnet.layers.conditional import LabelledConv2d
from minnet.layers.conv import Conv2d, Deconv2d
from minnet.layers.dense import Dense
from minnet.layers.dropout import Dropout
from minnet.layers.norm import BatchNorm
from minnet.layers.pooling import MaxPool2d
from minnet.layers.recurrent import LSTM, LSTMCell
from minnet.layers.shape import Concat, Flatten, Reshape

__all__ = [
    "LSTM",
    "AttentionRead",
    "AttentionWrite",
    "BatchNorm",
    "CanvasRead",
    "Concat",
    "Conv2d",
    "Deconv2d",
    "Dense",
    "Dropout",
    "Filterbank",
    "Flatten",
    "LabelledConv2d",
    "LSTMCell",
    "Layer",
    "LeakyReLU",
    "MaxPool2d",
    "PixelRead",
    "PixelWrite",
    "ReLU",
    "Read",
    "Reshape",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "Write",
    "evaluating",
    "input_gradients_only",
]
