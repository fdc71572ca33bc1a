"""DRAW's selective attention (Gregor et al. 2015, Section 3.2): Gaussian filterbanks, read, write.

An N x N grid of Gaussian filters is laid over an H x W image. Five numbers per image, emitted
by a linear layer from the decoder's state (Eq. 21), place and shape the grid::

    (g~X, g~Y, log sigma^2, log delta~, log gamma) = W(h_dec)                    (21)
    gX = (W + 1)/2 (g~X + 1)         gY = (H + 1)/2 (g~Y + 1)                    (22, 23)
    delta = (max(H, W) - 1)/(N - 1) delta~                                       (24)
    muX_i = gX + (i - N/2 - 0.5) delta      muY_j = gY + (j - N/2 - 0.5) delta   (19, 20)
    F_X[i, a] = exp(-(a - muX_i)^2 / (2 sigma^2)) / Z_X                          (25)
    F_Y[j, b] = exp(-(b - muY_j)^2 / (2 sigma^2)) / Z_Y                          (26)

with filters i, j = 1..N and pixel coordinates a = 1..W (columns), b = 1..H (rows), all
1-based as in the paper, so that g~ = 0 puts the grid's centre on the image's centre
((W + 1)/2 = 14.5 for 28 columns) and the offsets i - N/2 - 0.5 run symmetrically around it
(-0.5, +0.5 for N = 2). Z_X, Z_Y make each filter's row sum to 1 (Eqs. 25-26), so F_X[i] is
a softmax over the pixels a of -(a - muX_i)^2 / (2 sigma^2), computed with its maximum
subtracted: no pixel row underflows to 0/0, however narrow the filter.

Then, per image (Eqs. 27-29)::

    read(x)  = gamma F_Y x F_X^T          (H, W) -> (N, N)    a glimpse           (27)
    write(w) = 1/gamma F_Y^T w F_X        (N, N) -> (H, W)    a patch painted     (29)

Three layers, each with a hand-written backward:

* :class:`Filterbank`: ``p (B, 5) -> (F_X (B, N, W), F_Y (B, N, H), gamma (B,))``;
* :class:`Read`: ``[x (B, C, H, W), F_X, F_Y, gamma] -> (B, C, N, N)``, the same filters on
  each of C channels (DRAW reads the image and the error image, C = 2);
* :class:`Write`: ``[w (B, N, N), F_X, F_Y, gamma] -> (B, H, W)``.

All products are batched matrix products (``matmul`` over the batch axis), with one small
N x H or N x W matrix per image.

And DRAW's read/write pair with attention, made of them (the contract of
:mod:`minnet.layers.canvas`, where the pair without attention is):

* :class:`AttentionRead`: ``(x, seen, h) -> gamma [F_Y x F_X^T, F_Y x^ F_X^T]`` (B, 2N^2), the
  image and the error image ``x^ = x - seen`` (Eqs. 3, 27) through a window placed by h;
* :class:`AttentionWrite`: ``h -> 1/gamma^ F^_Y^T w F^_X`` (B, H W), a patch w (N x N) and its
  window, both from h (Eqs. 28-29).

Each window's five parameters come from h through a Dense layer (Eq. 21) made by
:func:`window_layer`: zero weights, and a bias that tiles the image (:func:`initial_window`), so
every image starts with the same windows and h moves them once learning finds that useful.
"""

import math

from minnet.backend import to_numpy, xp_of
from minnet.errors import MinnetError
from minnet.layers.base import Layer, evaluating
from minnet.layers.canvas import ReadPair, WritePair
from minnet.layers.dense import Dense

N_PARAMS = 5  # (g~X, g~Y, log sigma^2, log delta~, log gamma), Eq. 21


def check_window(n, height, width):
    """Raise MinnetError unless an N x N grid of filters fits the paper's formulas on the image."""
    if height < 2 or width < 2:
        raise MinnetError(f"attention needs an image of at least 2x2 pixels, got {height}x{width}")
    if n < 2:
        raise MinnetError(
            f"an attention window of {n}x{n} filters is too small: the stride formula "
            "delta = (max(H, W) - 1)/(N - 1) delta~ (Eq. 24) needs N >= 2"
        )
    if n > max(height, width):
        raise MinnetError(
            f"an attention window of {n}x{n} filters is larger than the {height}x{width} image it looks at"
        )


def stride_scale(n, height, width):
    """(max(H, W) - 1)/(N - 1): the factor of Eq. 24 turning delta~ into the stride delta."""
    return (max(height, width) - 1) / (n - 1)


class Filterbank(Layer):
    """Gaussian filterbanks from the five attention parameters (Eqs. 19-26).

    ``forward(p) -> (F_X, F_Y, gamma)`` with ``p (B, 5)`` holding, per image,
    ``(g~X, g~Y, log sigma^2, log delta~, log gamma)``; ``F_X (B, N, W)``, ``F_Y (B, N, H)``,
    ``gamma (B,)``.

    ``backward([gF_X, gF_Y, g_gamma]) -> gp (B, 5)``; any of the three may be None (zero).
    With ``u[i, a] = -(a - mu_i)^2 / (2 sigma^2)`` and ``F = softmax_a(u)``, the chain rule
    through the softmax, the means and the exponentials reads::

        du[i, a]        = F[i, a] (gF[i, a] - sum_a' gF[i, a'] F[i, a'])     softmax
        dL/dmu_i        = sum_a du[i, a] (a - mu_i) / sigma^2                 du/dmu
        dL/dlog sigma^2 = sum_{i, a} du[i, a] (-u[i, a])       (X and Y)     sigma^2 du/dsigma^2
        dL/dg~X         = (W + 1)/2 sum_i dL/dmuX_i                          Eqs. 22, 19
        dL/dlog delta~  = delta sum_i (i - N/2 - 0.5) (dL/dmuX_i + dL/dmuY_i)  Eqs. 24, 19, 20
        dL/dlog gamma   = gamma g_gamma

    Parameters
    ----------
    n : int
        Filters per side, N >= 2.
    height, width : int
        Image size H x W.
    """

    def __init__(self, n, height, width):
        super().__init__()
        check_window(n, height, width)
        self.n, self.height, self.width = n, height, width

    def window(self, p):
        """The grid's centre, stride, variance and intensity: ``(gX, gY, delta, sigma2, gamma)``,
        each (B,), from ``p (B, 5)`` (Eqs. 21-24)."""
        xp = xp_of(p)
        g_x = (self.width + 1) / 2 * (p[:, 0] + 1)  # Eq. 22
        g_y = (self.height + 1) / 2 * (p[:, 1] + 1)  # Eq. 23
        sigma2 = xp.exp(p[:, 2])
        delta = stride_scale(self.n, self.height, self.width) * xp.exp(p[:, 3])  # Eq. 24
        gamma = xp.exp(p[:, 4])
        return g_x, g_y, delta, sigma2, gamma

    def offsets(self, xp, dtype):
        """i - N/2 - 0.5 for i = 1..N (Eqs. 19-20): the filters' places in strides from the centre.

        An array (N,) of ``xp`` (numpy or cupy) in ``dtype``.
        """
        return xp.arange(1, self.n + 1, dtype=dtype) - self.n / 2 - 0.5

    def forward(self, p):
        """``(F_X, F_Y, gamma)`` from the attention parameters ``p (B, 5)`` (see the class docstring)."""
        if p.ndim != 2 or p.shape[1] != N_PARAMS:
            raise MinnetError(f"the filterbank takes ({N_PARAMS},) numbers per image, got shape {p.shape}")
        xp = xp_of(p)
        g_x, g_y, delta, sigma2, gamma = self.window(p)
        offsets = self.offsets(xp, p.dtype)
        mu_x = g_x[:, None] + offsets * delta[:, None]  # (B, N), Eq. 19
        mu_y = g_y[:, None] + offsets * delta[:, None]  # (B, N), Eq. 20
        f_x, dist_x = _gaussian_rows(xp, mu_x, sigma2, self.width)  # Eq. 25
        f_y, dist_y = _gaussian_rows(xp, mu_y, sigma2, self.height)  # Eq. 26
        if self.training:
            self.push(f_x, f_y, dist_x, dist_y, delta, sigma2, gamma)
        return f_x, f_y, gamma

    def backward(self, grads):
        f_x, f_y, dist_x, dist_y, delta, sigma2, gamma = self.pop()
        g_fx, g_fy, g_gamma = grads
        xp = xp_of(f_x)
        gp = xp.zeros((f_x.shape[0], N_PARAMS), dtype=f_x.dtype)
        offsets = self.offsets(xp, f_x.dtype)
        for axis, (f, dist, g_f) in enumerate(((f_x, dist_x, g_fx), (f_y, dist_y, g_fy))):
            if g_f is None:
                continue
            du = f * (g_f - (g_f * f).sum(axis=2, keepdims=True))  # softmax backward
            g_mu = (du * dist).sum(axis=2) / sigma2[:, None]  # dL/dmu_i = sum_a du (a - mu_i) / sigma^2
            side = self.width if axis == 0 else self.height
            gp[:, axis] = (side + 1) / 2 * g_mu.sum(axis=1)  # dL/dg~ = (side + 1)/2 sum_i dL/dmu_i
            gp[:, 2] += (du * dist * dist).sum(axis=(1, 2)) / (2 * sigma2)  # -sum du u
            gp[:, 3] += delta * (g_mu * offsets).sum(axis=1)  # dL/dlog delta~ = delta dL/ddelta
        if g_gamma is not None:
            gp[:, 4] = gamma * g_gamma  # dL/dlog gamma = gamma dL/dgamma
        return gp

    def __repr__(self):
        return f"Filterbank({self.n}, {self.height}, {self.width})"


def _gaussian_rows(xp, mu, sigma2, side):
    """Rows ``F[b, i, :] = softmax_a(-(a - mu[b, i])^2 / (2 sigma2[b]))`` over a = 1..side.

    Returns ``(F (B, N, side), a - mu (B, N, side))``.
    """
    pixels = xp.arange(1, side + 1, dtype=mu.dtype)
    dist = pixels - mu[:, :, None]
    u = dist * dist
    u *= -0.5 / sigma2[:, None, None]
    u -= u.max(axis=2, keepdims=True)  # the nearest pixel gets exp(0) = 1: no 0/0
    f = xp.exp(u)
    f /= f.sum(axis=2, keepdims=True)
    return f, dist


class Read(Layer):
    """A glimpse through the filterbank: ``y = gamma F_Y x F_X^T`` per channel (Eq. 27).

    ``forward([x, F_X, F_Y, gamma]) -> y`` with ``x (B, C, H, W)``, ``F_X (B, N, W)``,
    ``F_Y (B, N, H)``, ``gamma (B,)``, ``y (B, C, N, N)``. With ``gy = dL/dy``, summing over
    the channels where the filters are shared::

        dL/dx     = gamma F_Y^T gy F_X                      (B, C, H, W)
        dL/dF_Y   = gamma sum_c gy (x F_X^T)^T               (B, N, H)
        dL/dF_X   = gamma sum_c gy^T (F_Y x)                 (B, N, W)
        dL/dgamma = sum_{c, j, i} gy y / gamma               (B,)
    """

    def forward(self, inputs):
        """The glimpse ``y (B, C, N, N)`` from ``inputs = [x, F_X, F_Y, gamma]`` (see the class docstring)."""
        x, f_x, f_y, gamma = inputs
        rows = f_y[:, None] @ x  # F_Y x: (B, C, N, W)
        cols = x @ f_x[:, None].swapaxes(2, 3)  # x F_X^T: (B, C, H, N)
        glimpse = rows @ f_x[:, None].swapaxes(2, 3)  # F_Y x F_X^T: (B, C, N, N)
        if self.training:
            self.push(f_x, f_y, gamma, rows, cols, glimpse)
        return glimpse * gamma[:, None, None, None]

    def backward(self, gy):
        f_x, f_y, gamma, rows, cols, glimpse = self.pop()
        g = gy * gamma[:, None, None, None]  # dL/d(F_Y x F_X^T)
        gx = f_y[:, None].swapaxes(2, 3) @ g @ f_x[:, None]  # F_Y^T g F_X
        g_fy = (g @ cols.swapaxes(2, 3)).sum(axis=1)  # g (x F_X^T)^T, summed over channels
        g_fx = (g.swapaxes(2, 3) @ rows).sum(axis=1)  # g^T (F_Y x), summed over channels
        g_gamma = (gy * glimpse).sum(axis=(1, 2, 3))  # dL/dgamma = sum gy (F_Y x F_X^T)
        return [gx, g_fx, g_fy, g_gamma]


class Write(Layer):
    """A patch painted through the filterbank: ``y = (1/gamma) F_Y^T w F_X`` (Eq. 29).

    ``forward([w, F_X, F_Y, gamma]) -> y`` with ``w (B, N, N)``, ``F_X (B, N, W)``,
    ``F_Y (B, N, H)``, ``gamma (B,)``, ``y (B, H, W)``. With ``gy = dL/dy``::

        dL/dw     = (1/gamma) F_Y gy F_X^T                  (B, N, N)
        dL/dF_Y   = (1/gamma) (w F_X) gy^T                  (B, N, H)
        dL/dF_X   = (1/gamma) (F_Y^T w)^T gy                (B, N, W)
        dL/dgamma = -sum gy y / gamma                       (B,)
    """

    def forward(self, inputs):
        """The painted image ``y (B, H, W)`` from ``inputs = [w, F_X, F_Y, gamma]`` (see the class docstring)."""
        w, f_x, f_y, gamma = inputs
        w_fx = w @ f_x  # w F_X: (B, N, W)
        fy_w = f_y.swapaxes(1, 2) @ w  # F_Y^T w: (B, H, N)
        patch = fy_w @ f_x  # F_Y^T w F_X: (B, H, W)
        if self.training:
            self.push(f_x, f_y, gamma, w_fx, fy_w, patch)
        return patch / gamma[:, None, None]

    def backward(self, gy):
        f_x, f_y, gamma, w_fx, fy_w, patch = self.pop()
        g = gy / gamma[:, None, None]  # dL/d(F_Y^T w F_X)
        gw = f_y @ g @ f_x.swapaxes(1, 2)  # F_Y g F_X^T
        g_fy = w_fx @ g.swapaxes(1, 2)  # (w F_X) g^T
        g_fx = fy_w.swapaxes(1, 2) @ g  # (F_Y^T w)^T g
        g_gamma = -(g * patch).sum(axis=(1, 2)) / gamma  # d(1/gamma)/dgamma = -1/gamma^2
        return [gw, g_fx, g_fy, g_gamma]


def initial_window(n, height, width, gamma=1.0):
    """The 5 attention parameters of a grid that tiles the whole image, centred.

    ``g~ = 0`` (centred), ``delta = max(H, W) / N`` (N filters side by side cover the image)
    and ``sigma = delta / 2`` (neighbouring filters overlap at about one standard deviation),
    intensity ``gamma``: as a list ``[0, 0, log sigma^2, log delta~, log gamma]``. Used as the
    bias of the layer that emits the parameters, so the first glimpses see the whole image (see
    the DRAW model).
    """
    check_window(n, height, width)
    delta = max(height, width) / n
    return [0.0, 0.0, 2 * math.log(delta / 2), math.log(delta / stride_scale(n, height, width)), math.log(gamma)]


def window_layer(n_hidden, n, height, width, gamma):
    """The Dense layer emitting the 5 window parameters from h (B, n_hidden) (Eq. 21): zero
    weights, and the bias of :func:`initial_window` with intensity ``gamma``."""
    layer = Dense(n_hidden, N_PARAMS, init="zeros")
    layer.params["b"][...] = xp_of(layer.params["b"]).asarray(initial_window(n, height, width, gamma))
    return layer


def _window(layer, filters, h):
    """The window that ``h`` places, ``(gX, gY, delta, N)`` with NumPy (B,) arrays (Eqs. 21-24)."""
    with evaluating(layer):
        g_x, g_y, delta, _, _ = filters.window(layer.forward(h))
    return to_numpy(g_x), to_numpy(g_y), to_numpy(delta), filters.n


class AttentionRead(ReadPair):
    """DRAW's read with attention (Section 3.2, Eq. 27): an N x N glimpse of the image and of
    the error image, through one window placed by the decoder's state.

    ``forward(x, seen, h) -> r (B, 2N^2)``: with ``x``, ``seen`` (B, H W) and ``h`` (B, n_hidden),
    ``r = gamma [F_Y x F_X^T, F_Y (x - seen) F_X^T]``, the filters and gamma from
    ``read_window(h)`` (Eq. 21). ``backward(g_r) -> (dL/dseen, dL/dh)``: minus the error image's
    gradient from :class:`Read`, and h's through :class:`Filterbank` and the window layer. Nothing
    of the image enters the encoder whole: :meth:`data_offset` is None. The contract is
    :mod:`minnet.layers.canvas`'s.

    Parameters
    ----------
    n : int
        Filters per side N (N >= 2).
    height, width : int
        Image size.
    n_hidden : int
        Size of h.
    gamma : float
        The window's initial intensity.
    """

    def __init__(self, n, height, width, n_hidden, *, gamma=1.0):
        super().__init__()
        check_window(n, height, width)
        self.n, self.height, self.width = n, height, width
        self.n_out = 2 * n * n
        self.read_window = window_layer(n_hidden, n, height, width, gamma)
        self.read_filters = Filterbank(n, height, width)
        self.reader = Read()

    def sublayers(self):
        return {"read_window": self.read_window, "read_filters": self.read_filters, "reader": self.reader}

    def forward(self, x, seen, h):
        """``gamma [F_Y x F_X^T, F_Y (x - seen) F_X^T]`` flattened (B, 2N^2), the window from ``h``."""
        xp = xp_of(x)
        f_x, f_y, gamma = self.read_filters.forward(self.read_window.forward(h))
        images = xp.stack((x, x - seen), axis=1).reshape(len(x), 2, self.height, self.width)
        return self.reader.forward([images, f_x, f_y, gamma]).reshape(len(x), self.n_out)

    def backward(self, g_r):
        """``(dL/dseen (B, H W), dL/dh (B, n_hidden))`` from ``g_r`` (B, 2N^2)."""
        g_images, g_fx, g_fy, g_gamma = self.reader.backward(g_r.reshape(len(g_r), 2, self.n, self.n))
        g_h = self.read_window.backward(self.read_filters.backward([g_fx, g_fy, g_gamma]))
        return -g_images[:, 1].reshape(len(g_r), -1), g_h  # seen enters as -seen in x - seen

    def window(self, h):
        """``(g_x, g_y, delta, N)`` of the read window ``h`` (B, n_hidden) places, as NumPy."""
        return _window(self.read_window, self.read_filters, h)

    def __repr__(self):
        return f"AttentionRead({self.n}, {self.height}, {self.width}, {self.read_window.n_in})"


class AttentionWrite(WritePair):
    """DRAW's write with attention (Section 3.2, Eqs. 28-29): a patch painted through a window,
    both from the decoder's state.

    ``forward(h) -> (B, H W)``: ``w = write_patch(h)`` (N x N), the filters and gamma^ from
    ``write_window(h)`` (Eq. 21), and ``1/gamma^ F^_Y^T w F^_X`` by :class:`Write`.
    ``backward(g) -> dL/dh``, the patch's path plus the window's.

    Parameters
    ----------
    n, height, width, n_hidden : as for :class:`AttentionRead`.
    gamma : float
        The window's initial intensity gamma^.
    rng : seed or numpy.random.Generator, for ``write_patch``'s initial weights.
    """

    def __init__(self, n, height, width, n_hidden, *, gamma=1.0, rng=None):
        super().__init__()
        check_window(n, height, width)
        self.n, self.height, self.width = n, height, width
        self.n_out = height * width
        self.write_window = window_layer(n_hidden, n, height, width, gamma)
        self.write_patch = Dense(n_hidden, n * n, rng=rng)  # w_t, Eq. 28
        self.write_filters = Filterbank(n, height, width)
        self.writer = Write()

    def sublayers(self):
        return {
            "write_window": self.write_window, "write_patch": self.write_patch,
            "write_filters": self.write_filters, "writer": self.writer,
        }  # fmt: skip

    def forward(self, h):
        """``1/gamma^ F^_Y^T w F^_X`` flattened (B, H W), patch and window from ``h`` (B, n_hidden)."""
        patch = self.write_patch.forward(h).reshape(len(h), self.n, self.n)
        f_x, f_y, gamma = self.write_filters.forward(self.write_window.forward(h))
        return self.writer.forward([patch, f_x, f_y, gamma]).reshape(len(h), self.n_out)

    def backward(self, g_w):
        """dL/dh (B, n_hidden) from ``g_w`` (B, H W): the patch's path plus the window's."""
        g_patch, g_fx, g_fy, g_gamma = self.writer.backward(g_w.reshape(len(g_w), self.height, self.width))
        g_h = self.write_patch.backward(g_patch.reshape(len(g_w), -1))
        return g_h + self.write_window.backward(self.write_filters.backward([g_fx, g_fy, g_gamma]))

    def window(self, h):
        """``(g_x, g_y, delta, N)`` of the write window ``h`` (B, n_hidden) places, as NumPy."""
        return _window(self.write_window, self.write_filters, h)

    def __repr__(self):
        return f"AttentionWrite({self.n}, {self.height}, {self.width}, {self.write_patch.n_in})"
