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
``L`` rather than ``B``. Since ``E`` is constant, so are its lowered windows ``im2col(E)``:
they are made once per image size and kept, and ``conv_y`` is then one matrix product each
way (``U = Wm · colm``, ``dL/dWm = gUm · colm^T``); no gradient with respect to ``E`` is formed.
"""

import numpy as np

from minnet import init as initializers
from minnet.backend import xp_of
from minnet.layers.base import Layer
from minnet.layers.conv import Conv2d, as_channel_matrix, correlate, kernel_gradient
from minnet.layers.im2col import im2col


class LabelledConv2d(Layer):
    """Conv2d over an image stacked with constant label maps; see the module docstring.

    ``forward([x, y])`` with ``x (B, C, H, W)`` and ``y (B, L)`` gives ``(B, O, Ho, Wo)``, equal
    to ``Conv2d(C + L, O, k, stride, pad)`` applied to ``x`` stacked with ``L`` maps
    ``y[n, l] * ones(H, W)``, whose weights ``W (O, C + L, k, k)`` are those of the two parts
    side by side: ``image.W = W[:, :C]`` (with the bias ``image.b``) and ``label.W = W[:, C:]``
    (no bias). They start as that Conv2d's would.

    ``backward(gy) -> [dL/dx, dL/dy]``, with ``dL/dy (B, L) = gy · U^T``.

    Parameters
    ----------
    c_image, n_labels, c_out : int
        Image channels C, label maps L and output channels O.
    k, stride, pad : int
        Kernel side, stride and zero padding, as for :class:`~minnet.layers.conv.Conv2d`.
    init, rng
        Initializer and seed or generator of the weights, as for Conv2d.
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
        self._lowered_maps = (None, None)  # (key, im2col(E)) for the last image size, dtype and device

    def sublayers(self):
        return {"image": self.image, "label": self.label}

    def output_shape(self, input_shapes):
        """``input_shapes`` ``[image shape, labels shape] -> (B, O, Ho, Wo)``, the image
        convolution's output."""
        image_shape, label_shape = input_shapes
        self.expect_shape(label_shape, (image_shape[0], self.n_labels), what="labels")
        return self.image.output_shape(image_shape)

    def unit_maps(self, height, width, like):
        """``E (L, L, H, W)``: stack ``l`` has a map of ones for class ``l``, zeros elsewhere.

        ``height`` and ``width`` are the image's H and W; ``like`` an array whose dtype and
        device (NumPy or CuPy) E takes.
        """
        xp = xp_of(like)
        eye = xp.eye(self.n_labels, dtype=like.dtype)
        return xp.ascontiguousarray(xp.broadcast_to(eye[:, :, None, None], eye.shape + (height, width)))

    def lowered_unit_maps(self, height, width, like):
        """``im2col(E)``, ``(L, k, k, Ho, Wo, L)``: made on first use for an image size, then kept.

        ``height``, ``width`` and ``like`` as for :meth:`unit_maps`.

        Read-only for its users (:func:`correlate` and :func:`kernel_gradient` never write it).
        """
        key = (height, width, like.dtype, xp_of(like))
        if self._lowered_maps[0] != key:
            label = self.label
            col = im2col(self.unit_maps(height, width, like), label.k, label.stride, label.pad)
            self._lowered_maps = (key, col)
        return self._lowered_maps[1]

    def forward(self, inputs):
        """``(B, O, Ho, Wo)`` from ``inputs = [x (B, C, H, W), y (B, L)]`` (see the class docstring)."""
        x, y = inputs
        self.expect_shape(y.shape, (len(x), self.n_labels), what="labels")
        unit_col = self.lowered_unit_maps(x.shape[2], x.shape[3], x)
        U = correlate(unit_col, self.label.params["W"])  # (L, O, Ho, Wo): label.forward(E)
        out = self.image.forward(x)
        out = out + (y @ U.reshape(self.n_labels, -1)).reshape(out.shape)  # + sum_l y[n, l] U[l]
        if self.training:
            self.push(y, U, unit_col)
        return out

    def backward(self, gy):
        y, U, unit_col = self.pop()
        gy_rows = gy.reshape(len(gy), -1)  # (B, O*Ho*Wo)
        if self.param_grads:
            g_U = (y.T @ gy_rows).reshape(U.shape)  # dL/dU = y^T gy
            self.label.grads["W"] += kernel_gradient(as_channel_matrix(g_U), unit_col)  # dL/dWm = gUm · colm^T
        g_labels = gy_rows @ U.reshape(self.n_labels, -1).T  # dL/dy = gy U^T
        return [self.image.backward(gy), g_labels]

    def __repr__(self):
        image = self.image
        return (
            f"LabelledConv2d({image.c_in} + {self.n_labels} labels, {image.c_out}, k={image.k}, "
            f"stride={image.stride}, pad={image.pad})"
        )
