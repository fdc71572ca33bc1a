"""CSGM's network as a function of coordinates (paper 000, Sections 3-4): inputs, renders, refinement.

One network maps ``X = <S, L, A>`` to ``<d, g>`` (Section 3, Fig. 3.1):

    S  one-hot digit label                     (10)
    L  latent code of one image                (20)
    A  the coordinates of one pixel, (x, y)    (2)
    -> Dense 300 -> LeakyReLU -> Dense 150 -> LeakyReLU -> Dense 100 -> LeakyReLU
    -> Dense 50 -> LeakyReLU -> Dense 2 -> LeakyReLU  ->  (d, g)

"10 total layers, alternating between fully connected linear layers ... followed by leaky
rectifier nonlinearities" (Section 4), so the output layer is followed by one too. The slope,
0.01, is that of Waffles' leaky rectifier (the toolkit the thesis used; the thesis gives none).

Coordinates
-----------
A pixel is the square it covers, and ``A`` is its centre, scaled so that the image spans
``[-s, s]`` on both axes whatever its size, ``s = COORD_SCALE = 4``: pixel ``j`` (column or
row) of a ``size``-pixel side sits at

    a_j = s (2 (j + 1/2) / size - 1),        x from left to right, y from top to bottom.

The thesis gives no scale. With ``s = 4`` the 2 coordinates weigh about as much in the first
layer's output at initialisation as the 20 N(0, 1) code entries (``|A|`` up to 5.7, ``|L|``
about 4.5), and the network resolves strokes sooner: after 3 epochs on the 60,000 images
(1 thread; the other defaults of :mod:`minnet.models.csgm`, but no code step limit), renders
of 1,000 trained codes scored FID 34.4 with ``s = 4`` against 40.4 with ``s = 1``, and mean
squared pixel error 0.029 against 0.034.

So a render at ``k * 28`` pixels shares coordinates with the 28-pixel one: its pixel
``k j + (k - 1) / 2`` is the 28-pixel pixel ``j`` when ``k`` is odd (84 = 3 x 28: pixel 3j+1).

Everything here is batched over rows of ``X``: a render feeds every coordinate of every image
through the network at once, in chunks of at most :data:`CHUNK_ROWS` rows to bound memory,
never one pixel at a time.
"""

import numpy as np

from minnet import backend
from minnet.data import NUM_CLASSES
from minnet.layers.activations import LeakyReLU
from minnet.layers.base import Sequential, evaluating, input_gradients_only
from minnet.layers.dense import Dense

CODE_SIZE = 20  # |L| (Section 4)
HIDDEN = (300, 150, 100, 50)  # Section 4
TRAIN_SIDE = 28  # MNIST's pixels per side: the grid training visits and refinement rasters
SLOPE = 0.01  # Waffles' leaky rectifier
CODES = slice(NUM_CLASSES, NUM_CLASSES + CODE_SIZE)  # the L columns of X
COORD_SCALE = 4.0  # the image spans [-4, 4] on both axes (see Coordinates)
CHUNK_ROWS = 1 << 15  # rows of X per pass of a render or a refinement step (memory bound)


def build_network(rng):
    """The 32 -> 300 -> 150 -> 100 -> 50 -> 2 network of Section 4 (outputs: d, g)."""
    sizes = (NUM_CLASSES + CODE_SIZE + 2, *HIDDEN, 2)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(n_in, n_out, rng=rng), LeakyReLU(SLOPE)]
    return Sequential(*layers)


def pixel_centre(j, size=TRAIN_SIDE):
    """The coordinate in [-s, s] of the centre of pixel ``j`` (column or row) of ``size``:
    ``a_j = s (2 (j + 1/2) / size - 1)``, ``s = COORD_SCALE``."""
    return COORD_SCALE * (2 * (np.asarray(j) + 0.5) / size - 1)


def pixel_centres(size):
    """float32 (size*size, 2): the (x, y) centre of each pixel of a ``size`` x ``size`` image,
    row by row (:func:`pixel_centre`)."""
    axis = pixel_centre(np.arange(size), size).astype(np.float32)
    y, x = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def inputs(labels, codes, coords):
    """X float32 (n * P, 32): row ``i * P + p`` is ``<S_i, L_i, A_ip>``.

    labels int (n,), codes (n, 20), coords (n, P, 2) per image or (P, 2) shared; all on
    the device of ``codes``.
    """
    xp = backend.xp_of(codes)
    n = len(codes)
    if coords.ndim == 2:
        coords = xp.broadcast_to(coords, (n, *coords.shape))
    p = coords.shape[1]
    x = xp.empty((n, p, NUM_CLASSES + CODE_SIZE + 2), dtype=codes.dtype)
    x[:, :, :NUM_CLASSES] = 0
    x[xp.arange(n), :, labels] = 1
    x[:, :, CODES] = codes[:, None, :]
    x[:, :, CODES.stop :] = coords
    return x.reshape(n * p, -1)


def chunks(n, rows_per_image):
    """Slices over ``n`` images, each holding at most CHUNK_ROWS rows (at least one image)."""
    step = max(1, CHUNK_ROWS // rows_per_image)
    return [slice(start, min(n, start + step)) for start in range(0, n, step)]


def render(net, labels, codes, size):
    """g over every pixel centre: float32 (n, size, size) clipped to [0, 1], on the device.

    labels int (n,) and codes (n, 20) on the device; the weights are not changed.
    """
    xp = backend.xp_of(codes)
    coords = xp.asarray(pixel_centres(size))
    out = xp.empty((len(codes), size * size), dtype=codes.dtype)
    with evaluating(net):
        for part in chunks(len(codes), size * size):
            out[part] = net.forward(inputs(labels[part], codes[part], coords))[:, 1].reshape(-1, size * size)
    return xp.clip(out, 0, 1).reshape(-1, size, size)


def refine_codes(net, labels, codes, steps, lr):
    r"""Algorithm 2's refinement: the weights fixed, the label given, no pixel values.

    Each step rasters over the 28 x 28 pixel centres and moves every code down the gradient of
    :math:`E(L) = \sum_A (d(S, L, A) - 1)^2` (d's target held at 1, Section 3):

        L <- L - lr dE/dL,     dE/dL = sum over the coordinates of the L-columns of dE/dX.

    The raster is always the training grid, so the refined code, and with it the digit, does
    not depend on the size it is rendered at. Returns new codes (n, 20).
    """
    xp = backend.xp_of(codes)
    coords = xp.asarray(pixel_centres(TRAIN_SIDE))
    rows = len(coords)
    codes = codes.copy()
    with input_gradients_only(net):
        for _ in range(steps):
            for part in chunks(len(codes), rows):
                out = net.forward(inputs(labels[part], codes[part], coords))
                grad = xp.zeros_like(out)
                grad[:, 0] = 2 * (out[:, 0] - 1)  # dE/dd
                gx = net.backward(grad)
                codes[part] -= lr * gx[:, CODES].reshape(-1, rows, CODE_SIZE).sum(axis=1)
    return codes
