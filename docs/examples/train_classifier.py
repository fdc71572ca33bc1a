"""Train a 784-128-10 classifier on MNIST with a plain loop over minnet's layers, loss and optimizer.

    python docs/examples/train_classifier.py [EPOCHS] [IMAGES]   # default: 1 epoch of all 60,000
"""

import sys

import numpy as np

from minnet.data import load_mnist
from minnet.layers import Dense, ReLU, Sequential
from minnet.losses import softmax_cross_entropy
from minnet.optim import SGD

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
limit = int(sys.argv[2]) if len(sys.argv) > 2 else None  # None: every image of the split
train, test = load_mnist("train_full", limit=limit), load_mnist("test", limit=limit)

net = Sequential(Dense(784, 128, rng=1), ReLU(), Dense(128, 10, rng=2))
optimizer = SGD(net, lr=0.1, momentum=0.9)
for epoch in range(epochs):  # a new net is in training mode: forward saves what backward needs
    for images, labels in train.batches(64, rng=epoch):
        logits = net.forward(images.reshape(-1, 784))  # (64, 10)
        loss, g_logits = softmax_cross_entropy(logits, labels)  # the mean over the batch, dL/dlogits
        net.backward(g_logits)  # adds dL/dW and dL/db into each layer's grads
        optimizer.step()  # W -= lr * (momentum-averaged) dL/dW, then the gradients are zeroed
    print(f"epoch {epoch + 1}: loss {float(loss):.3f} on its last batch")

net.eval()  # evaluation mode: nothing saved for backward (dropout off, batch norm on running statistics)
predicted = net.forward(test.images.reshape(-1, 784)).argmax(axis=1)
print(f"test accuracy {np.mean(predicted == test.labels):.1%} on {len(test)} images")
