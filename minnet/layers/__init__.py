"""minnet's layers, one file per family; each has a hand-written forward and backward pass.

==============  =====================================================================
file            layers
==============  =====================================================================
base.py         Layer (the contract), Sequential, evaluating, input_gradients_only
dense.py        Dense
attention.py    Filterbank, Read, Write (DRAW's Gaussian attention)
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
from minnet.layers.attention import Filterbank, Read, Write
from minnet.layers.base import Layer, Sequential, evaluating, input_gradients_only
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
    "BatchNorm",
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
