"""The layers as plain loops: the reference to read first, and the oracle the tests use.

Each function here computes one fast layer's forward or backward pass the slow, obvious way:
a loop over every index that appears in the layer's equation, scalar arithmetic, NumPy only
for storage. Nothing is shared with the fast layers, so agreeing with them (the tests in
``tests/layers/test_naive.py`` and each family's test) is evidence for both. They are too slow
for training: a 28x28 convolution of one batch takes seconds here and milliseconds there.

=============  ==========================================  ==================================
module         functions                                   fast twin (minnet.layers)
=============  ==========================================  ==================================
dense.py       dense, dense_backward                       Dense
conv.py        conv2d, conv2d_backward, conv_transpose2d,  Conv2d, Deconv2d
               conv_transpose2d_backward
pooling.py     max_pool2d, max_pool2d_backward             MaxPool2d
norm.py        batch_norm, batch_norm_backward             BatchNorm
recurrent.py   lstm_step, lstm_step_backward,              LSTMCell, LSTM
               lstm_sequence
=============  ==========================================  ==================================

Every backward function takes the forward's inputs and ``gy = dL/dy`` and returns the
gradients with respect to each input and parameter, in the forward's argument order (the
fast layers instead add the parameter gradients into ``grads`` and return ``dL/dx``).
"""

from minnet.layers.naive.conv import conv2d, conv2d_backward, conv_transpose2d, conv_transpose2d_backward
from minnet.layers.naive.dense import dense, dense_backward
from minnet.layers.naive.norm import batch_norm, batch_norm_backward
from minnet.layers.naive.pooling import max_pool2d, max_pool2d_backward
from minnet.layers.naive.recurrent import lstm_sequence, lstm_step, lstm_step_backward

__all__ = [
    "batch_norm",
    "batch_norm_backward",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "dense",
    "dense_backward",
    "lstm_sequence",
    "lstm_step",
    "lstm_step_backward",
    "max_pool2d",
    "max_pool2d_backward",
]
