"""A convolution of an image stacked with label maps, computed without building the maps.

A conditional GAN shows its discriminator the label ``y (B, L)`` (one-hot, or any weights) as
``L`` maps stacked beside the image ``x (B, C, H, W)``, each constant over the image:
``maps[n, l] = y[n, l] * ones(H, W)``. A Conv2d over that stack is linear in its input, so it
splits into a convolution of the image and one of the maps,

    conv([x, maps]) = conv_x(x) + conv_y(maps),

and since the maps are constant, ``conv_y`` depends on each image only through ``y``:

    conv_y(maps)[n] = sum_l y[n, l] * U[l],        U = conv_y(E)   (L, O, Ho, Wo),

where ``E[l]`` is the stack with a map of ones for class ``l`` and zeros elsewhere. ``U[l]`` is
the response to class ``l`` alone: constant inside the image, different near its border,
where part of the kernel falls on the zero padding. The label half of the layer is then one matrix
product ``y · U`` instead of a convolution over ``L`` extra channels of every image (for
cdcgan's discriminator, 10 of its first convolution's 11 input channels), and its backward
needs only

    dL/dU = y^T · gy,      dL/dy = gy · U^T,

with ``dL/dU`` back-propagated through ``conv_y`` over the ``L`` stacks of ``E``, a batch of
``L`` rather than ``B``.
"""

import numpy as np

from minnet import init as initializers
from minnet.backend import xp_of
from minnet.layers.base import Layer
from minnet.layers.conv import Conv2d


class LabelledConv2d(Layer):
    """Conv2d over an image stacked with constant label maps; see the module docstring.

    ``forward([x, y])`` with ``x (B, C, H, W)`` and ``y (B, L)`` gives ``(B, O, Ho, Wo)``, equal
    to ``Conv2d(C + L, O, k, stride, pad)`` applied to ``x`` stacked with ``L`` maps
    ``y[n, l] * ones(H, W)``, whose weights ``W (O, C + L, k, k)`` are those of the two parts
    side by side: ``image.W = W[:, :C]`` (with the bias ``image.b``) and ``label.W = W[:, C:]``
    (no bias). They start as that Conv2d's would.

    ``backward(gy) -> [dL/dx, dL/dy]``, with ``dL/dy (B, L) = gy · U^T``.
    """

    def __init__(self, c_image, n_labels, c_out, k, stride=1, pad=0, *, init="glorot", rng=None):
        super().__init__()
        rng = initializers.as_rng(rng)
        c_in = c_image + n_labels
        weights = initializers.resolve(init)(rng, (c_out, c_in, k, k), c_in * k * k, c_out * k * k)
        image_weights, label_weights = (np.ascontiguousarray(w) for w in np.split(weights, [c_image], axis=1))
        self.image = Conv2d(c_image, c_out, k, stride, pad, init=lambda *_: image_weights)
        self.label = Conv2d(n_labels, c_out, k, stride, pad, init=lambda *_: label_weights, bias=False)
        self.n_labels = n_labels

    def sublayers(self):
        return {"image": self.image, "label": self.label}

    def unit_maps(self, height, width, like):
        """``E (L, L, H, W)``: stack ``l`` has a map of ones for class ``l``, zeros elsewhere."""
        xp = xp_of(like)
        eye = xp.eye(self.n_labels, dtype=like.dtype)
        return xp.ascontiguousarray(xp.broadcast_to(eye[:, :, None, None], eye.shape + (height, width)))

    def forward(self, inputs, train=True):
        x, y = inputs
        if y.ndim != 2 or y.shape != (len(x), self.n_labels):
            raise ValueError(f"{self!r} expects labels of shape ({len(x)}, {self.n_labels}), got {tuple(y.shape)}")
        U = self.label.forward(self.unit_maps(x.shape[2], x.shape[3], x), train=train)  # (L, O, Ho, Wo)
        out = self.image.forward(x, train=train)
        out = out + (y @ U.reshape(self.n_labels, -1)).reshape(out.shape)  # + sum_l y[n, l] U[l]
        if train:
            self.push(y, U)
        return out

    def backward(self, gy):
        y, U = self.pop()
        gy_rows = gy.reshape(len(gy), -1)  # (B, O*Ho*Wo)
        if self.param_grads:
            self.label.backward((y.T @ gy_rows).reshape(U.shape))  # dL/dU = y^T gy, into label.W's gradient
        else:
            self.label.pop()  # its forward's saved values, not needed for dL/dx
        g_labels = gy_rows @ U.reshape(self.n_labels, -1).T  # dL/dy = gy U^T
        return [self.image.backward(gy), g_labels]

    def __repr__(self):
        image = self.image
        return (
            f"LabelledConv2d({image.c_in} + {self.n_labels} labels, {image.c_out}, k={image.k}, "
            f"stride={image.stride}, pad={image.pad})"
        )
