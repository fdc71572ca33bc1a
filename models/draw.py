"""DRAW (Gregor et al. 2015, "DRAW: A Recurrent Neural Network For Image Generation"), the
baseline of paper 001 (AVME, Table 1), with the selective attention of its Section 3.

The network (Section 2, Eqs. 3-8), unrolled for T steps on an image x (784 pixels)::

    x^_t    = x - sigmoid(c_{t-1})                            error image           (3)
    r_t     = read(x, x^_t, h^dec_{t-1})                                             (4)
    h^enc_t = LSTM^enc(h^enc_{t-1}, [r_t, h^dec_{t-1}])                              (5)
    z_t     ~ Q(Z_t | h^enc_t) = N(mu_t, sigma_t^2)            mu, log sigma = W h^enc (6, 12)
    h^dec_t = LSTM^dec(h^dec_{t-1}, z_t)                                             (7)
    c_t     = c_{t-1} + write(h^dec_t)                         the canvas            (8)

and D(x | c_T) = Bernoulli(sigmoid(c_T)). The loss (Section 2.1, Eqs. 9-11) is the negative
variational bound: the reconstruction cross-entropy L^x = -log D(x | c_T) plus the latent loss
L^z = sum_t KL(Q(Z_t | h^enc_t) || N(0, I)), per image, averaged over the batch.

Reading and writing (Section 3):

* without attention (``--no-attention``, Section 3.1): read = [x, x^_t] (1568 numbers), write
  = a Dense layer from h^dec_t to 784 whose bias starts at logit(mean image) / T (not in the
  paper; as avme). The x half of the read is the same at every step: its product with the
  encoder's weights is taken once per batch (``encoder_data``), the same LSTM with fewer
  multiplications;
* with attention (the default, Section 3.2): read = gamma [F_Y x F_X^T, F_Y x^ F_X^T] through an
  N x N grid of Gaussian filters (N = 2, 8 numbers), whose five parameters a Dense layer emits
  from h^dec_{t-1}; write = 1/gamma^ F^_Y^T w_t F^_X with a patch w_t (5 x 5) and its own five
  window parameters, both Dense layers from h^dec_t (Eqs. 27-29;
  :mod:`minnet.layers.attention`).

Settings: LSTMs of 256 units, z of 100, T = 64 (the paper's MNIST model, Table 3; the
``--no-attention`` model of Table 2 used the same sizes); Adam; gradient clipping. The paper
names neither a learning rate nor a clipping norm: minnet uses 1e-3 and a global norm of 10.
The canvas and both LSTMs' states start at zero. Data: statically binarized MNIST, trained on the
first 50,000 training images (as AVME, paper 001).

Making attention learn
----------------------
Trained as the paper describes with the windows' Dense layers initialised like any other
layer, attention collapses the latent code within the first 50 steps: the KL term falls below
1 nat and the model draws the mean digit (reconstruction about 210 nats), while the same model
without attention keeps a KL of 10 nats and passes below 205 by then. What fixed it, found
with 60-step runs from the same seed (batch 100, Adam 1e-3, nats per image over steps 41-60):

=============================================================  =======  =====
initial windows                                                 recon.   KL
=============================================================  =======  =====
tiling read and write windows, gamma = 1 both (collapse)          210    0.7
tiling, read gamma = 10 (collapse)                                210    1.8
read 2 x 2 sharp (delta 8, sigma 2) in the digit's middle         210    0.9
Adam 3e-4 instead of 1e-3, tiling (collapse, steps 61-80)         209    1.4
tiling, write 1/gamma^ = delta^2                                  196    4.8
tiling, write 1/gamma^ = delta^2 and read gamma = 10 (default)    189    6.3
=============================================================  =======  =====

* The write's intensity was the cause. The filters' rows sum to 1 (Eqs. 25-26), so the write
  spreads each patch value over a delta x delta cell of pixels: with gamma^ = 1 a patch value
  of 1 paints about 1/delta^2 = 0.03 per pixel (delta = 5.6 for 5 x 5 filters on 28 pixels).
  The decoder's path from z_t to the canvas is then some 30 times weaker than a Dense write's,
  the reconstruction's gradient reaching z_t is swamped by the KL's, and the posterior falls
  to the prior before the encoder has learnt to say anything. Starting at 1/gamma^ = delta^2
  (:func:`write_gamma`) makes a patch value of 1 paint about 1.
* The read's intensity helps further: with gamma = 1 the four numbers of the 2 x 2 glimpse are
  averages of a quarter of the image, about 0.1 on a digit, against LSTM inputs of order 1;
  gamma = 10 (:data:`READ_GAMMA`) brings them to that scale.
* Where the first windows are: with the paper's formulas and a zero bias, delta~ = 1 and
  sigma = 1 pixel, so with N = 2 the two read filters sit on the first and last pixel of each
  axis (delta = 27) and the first glimpse is four one-pixel samples of the empty corners.
  minnet starts both windows at :func:`~minnet.layers.attention.initial_window`: centred (the
  offsets i - N/2 - 0.5 of Eqs. 19-20 with i = 1..N are symmetric; with i counted from 0 the
  grid would sit one stride off centre), stride max(H, W)/N so the N filters tile the image,
  sigma = stride/2. The window layers' weights start at zero, so every image starts with the
  same windows and the decoder's state moves them once learning finds that useful.

None of this changes the model or its loss; the paper gives no initialisation. (The table was
measured with Glorot weights in the posterior's Dense layer; it now starts at zero, q = the
prior, which learns about as fast with attention and much faster without: see
:class:`~minnet.models.variational.GaussianLatent`.)
"""

import dataclasses

import numpy as np

from minnet.backend import to_numpy, xp_of
from minnet.errors import MinnetError
from minnet.layers.activations import sigmoid
from minnet.layers.attention import Filterbank, Read, Write, check_window, initial_window
from minnet.layers.base import Layer, evaluating
from minnet.layers.dense import Dense
from minnet.layers.recurrent import LSTMCell
from minnet.losses import bernoulli_cross_entropy
from minnet.models.base import Config, Trainer, option
from minnet.models.draw_figures import draw_figures
from minnet.models.variational import GaussianLatent, canvas_bias, to_numpy64, validation_bound
from minnet.optim import Adam

PAPER = "DRAW (Gregor et al. 2015), the baseline of 001: Griesemer, Adaptive Variational Memory Encoding"
SIDE = 28
PIXELS = SIDE * SIDE
READ_GAMMA = 10.0  # the read window's initial intensity (see "Making attention learn")


@dataclasses.dataclass
class DRAWConfig(Config):
    """DRAW's settings; the paper's MNIST model by default (see the module docstring)."""

    epochs: int = option(20, "passes over the 50,000 training images", min=1)
    batch_size: int = option(100, "images per training step", min=1)
    lr: float = option(1e-3, "Adam's learning rate (not given in the paper)", positive=True)
    clip_norm: float = option(
        10.0, "clip the global gradient norm to this (paper: clipped, norm not given; 0: off)", min=0.0
    )
    steps: int = option(64, "glimpses T (paper: 64 for MNIST)", min=1)
    enc_size: int = option(256, "units of the encoder LSTM (paper: 256)", min=1)
    dec_size: int = option(256, "units of the decoder LSTM (paper: 256)", min=1)
    z_size: int = option(100, "dimensions of each z_t (paper: 100)", min=1)
    attention: bool = option(True, "read and write through Gaussian attention windows (Section 3.2)")
    read_n: int = option(2, "read window: N x N filters (paper: 2)", min=1)
    write_n: int = option(5, "write window: N x N filters (paper: 5)", min=1)


class DRAWNetwork(Layer):
    """The encoder, the decoder and the read/write layers of DRAW, unrolled by hand.

    ``forward(x, noise)`` runs Eqs. 3-8 for T steps on ``x (B, 784)`` with ``noise (T, B, z)``
    (z_t = mu_t + sigma_t noise_t) and returns ``(c_T (B, 784), kl (B,), log_ratio (B,))``: the
    final canvas, sum_t KL(Q(Z_t | h^enc_t) || N(0, I)) and sum_t log N(z_t; 0, I) - log Q(z_t |
    h^enc_t) per image. ``backward(g_canvas, g_kl)`` back-propagates through time, with
    ``g_canvas = dL/dc_T`` and ``g_kl = dL/dkl`` (a number or one per image).
    """

    def __init__(self, config, rng):
        super().__init__()
        c = config
        self.steps, self.attention, self.z_size = c.steps, c.attention, c.z_size
        if c.attention:
            check_window(c.read_n, SIDE, SIDE)
            check_window(c.write_n, SIDE, SIDE)
            read_size = 2 * c.read_n**2
        else:
            # r_t = [x, x^_t] (Section 3.1): the x half is the same at every step, so the encoder's
            # rows of weights for it multiply it once per batch (encoder_data), and each step's
            # LSTM adds that product as its offset: one LSTM on [x, x^_t, h^dec_{t-1}], with
            # 43% fewer multiplications per step.
            self.encoder_data = Dense(PIXELS, 4 * c.enc_size, bias=False, rng=rng)
            read_size = PIXELS
        self.encoder = LSTMCell(read_size + c.dec_size, c.enc_size, rng=rng)  # Eq. 5
        self.posterior = GaussianLatent(c.enc_size, c.z_size, rng=rng)  # Q(Z_t | h^enc_t), Eqs. 6, 12
        self.decoder = LSTMCell(c.z_size, c.dec_size, rng=rng)  # Eq. 7
        if c.attention:
            self.read_n, self.write_n = c.read_n, c.write_n
            self.read_window = window_layer(c.dec_size, c.read_n, READ_GAMMA, rng)  # Eq. 21 for the read
            self.write_window = window_layer(c.dec_size, c.write_n, write_gamma(c.write_n), rng)  # and the write
            self.write_patch = Dense(c.dec_size, c.write_n**2, rng=rng)  # w_t, Eq. 28
            self.read_filters = Filterbank(c.read_n, SIDE, SIDE)
            self.write_filters = Filterbank(c.write_n, SIDE, SIDE)
            self.reader, self.writer = Read(), Write()
        else:
            self.write_pixels = Dense(c.dec_size, PIXELS, rng=rng)  # Section 3.1
        self._canvas_sigmoids = []

    def sublayers(self):
        names = ["encoder", "posterior", "decoder"]
        if self.attention:
            names += ["read_window", "write_window", "write_patch", "read_filters", "write_filters", "reader", "writer"]
        else:
            names += ["encoder_data", "write_pixels"]
        return {name: getattr(self, name) for name in names}

    # -- read and write ----------------------------------------------------------------------
    def read(self, x, x_hat, h_dec):
        """r_t (B, 2N^2) from the image, the error image and h^dec_{t-1} (Eqs. 4, 27); without
        attention the part of r_t = [x, x^_t] that changes, x^_t (B, 784) (see encoder_data)."""
        xp = xp_of(x)
        if not self.attention:
            return x_hat
        f_x, f_y, gamma = self.read_filters.forward(self.read_window.forward(h_dec))
        images = xp.stack((x, x_hat), axis=1).reshape(len(x), 2, SIDE, SIDE)
        return self.reader.forward([images, f_x, f_y, gamma]).reshape(len(x), -1)

    def read_backward(self, g_r):
        """``(dL/dx^_t, dL/dh^dec_{t-1})`` from dL/dr_t; None for h^dec without attention."""
        if not self.attention:
            return g_r, None
        g_images, g_fx, g_fy, g_gamma = self.reader.backward(g_r.reshape(len(g_r), 2, self.read_n, self.read_n))
        g_h = self.read_window.backward(self.read_filters.backward([g_fx, g_fy, g_gamma]))
        return g_images[:, 1].reshape(len(g_r), PIXELS), g_h

    def write(self, h_dec):
        """write(h^dec_t) (B, 784), added to the canvas (Eqs. 8, 29)."""
        if not self.attention:
            return self.write_pixels.forward(h_dec)
        n = self.write_n
        patch = self.write_patch.forward(h_dec).reshape(len(h_dec), n, n)
        f_x, f_y, gamma = self.write_filters.forward(self.write_window.forward(h_dec))
        return self.writer.forward([patch, f_x, f_y, gamma]).reshape(len(h_dec), PIXELS)

    def write_backward(self, g_write):
        """dL/dh^dec_t from dL/dwrite(h^dec_t)."""
        if not self.attention:
            return self.write_pixels.backward(g_write)
        g_patch, g_fx, g_fy, g_gamma = self.writer.backward(g_write.reshape(len(g_write), SIDE, SIDE))
        g_h = self.write_patch.backward(g_patch.reshape(len(g_write), -1))
        return g_h + self.write_window.backward(self.write_filters.backward([g_fx, g_fy, g_gamma]))

    # -- the unrolled pass -------------------------------------------------------------------
    def forward(self, x, noise, trace=None):
        """Eqs. 3-8 for T steps (see the class docstring). With a list ``trace`` (and
        in evaluation mode), each step appends ``(c_t, read window, write window)``, the windows as
        :meth:`windows` gives them (None without attention), for the figures."""
        xp = xp_of(x)
        batch = len(x)
        canvas = xp.zeros((batch, PIXELS), dtype=x.dtype)
        h_dec = xp.zeros((batch, self.decoder.n_hidden), dtype=x.dtype)
        enc_state = dec_state = None
        kl = log_ratio = 0
        data_gates = None if self.attention else self.encoder_data.forward(x)  # x's rows of Eq. 5, once
        for t in range(self.steps):
            canvas_sigmoid = sigmoid(canvas)
            read_from = h_dec
            r = self.read(x, x - canvas_sigmoid, h_dec)  # Eqs. 3-4
            enc_state = self.encoder.forward(
                xp.concatenate((r, h_dec), axis=1), enc_state, offset=data_gates
            )  # Eq. 5
            latent = self.posterior.forward(enc_state[0], noise[t])  # z_t ~ Q(Z_t | h^enc_t), Eq. 6
            dec_state = self.decoder.forward(latent.z, dec_state)  # Eq. 7
            h_dec = dec_state[0]
            canvas = canvas + self.write(h_dec)  # Eq. 8
            kl = kl + latent.kl  # L^z = sum_t KL, Eq. 11
            log_ratio = log_ratio + latent.log_ratio
            if self.training:
                self._canvas_sigmoids.append(canvas_sigmoid)
            if trace is not None:
                trace.append((canvas, *self.windows(read_from, h_dec)))
        return canvas, kl, log_ratio

    def windows(self, h_read, h_write):
        """The read window placed by h^dec_{t-1} and the write window placed by h^dec_t, each
        ``(gX, gY, delta, N)`` with NumPy (B,) arrays (Eqs. 21-24); ``(None, None)`` without
        attention."""
        if not self.attention:
            return None, None
        with evaluating(self.read_window, self.write_window):
            read = self.read_filters.window(self.read_window.forward(h_read))
            write = self.write_filters.window(self.write_window.forward(h_write))
        return (
            (*(to_numpy(v) for v in read[:3]), self.read_n),
            (*(to_numpy(v) for v in write[:3]), self.write_n),
        )

    def backward(self, g_canvas, g_kl):
        """Back-propagation through time; adds every parameter's gradient into ``grads``."""
        g_h_dec = g_c_dec = g_c_enc = g_h_enc = None  # what step t+1 sent back to step t's state
        g_data_gates = 0
        for _ in range(self.steps):
            canvas_sigmoid = self._canvas_sigmoids.pop()
            g_h = self.write_backward(g_canvas)  # c_t = c_{t-1} + write(h^dec_t)
            if g_h_dec is not None:
                g_h = g_h + g_h_dec
            g_z, (g_h_dec, g_c_dec) = self.decoder.backward(g_h, g_c_dec)
            g_enc = self.posterior.backward(g_z, g_kl)  # through z_t and KL_t
            if g_h_enc is not None:
                g_enc = g_enc + g_h_enc
            g_in, (g_h_enc, g_c_enc) = self.encoder.backward(g_enc, g_c_enc)
            if not self.attention:
                g_data_gates = g_data_gates + self.encoder.gate_grad
            n_read = g_in.shape[1] - self.decoder.n_hidden
            g_x_hat, g_h_read = self.read_backward(g_in[:, :n_read])
            g_h_dec = g_h_dec + g_in[:, n_read:]  # h^dec_{t-1} feeds the encoder ...
            if g_h_read is not None:
                g_h_dec = g_h_dec + g_h_read  # ... and the read window
            # x^_t = x - sigmoid(c_{t-1}): c_{t-1} gets the canvas's own gradient and this one
            g_canvas = g_canvas - g_x_hat * canvas_sigmoid * (1 - canvas_sigmoid)
        if not self.attention:
            self.encoder_data.backward(g_data_gates)  # dW = x^T sum_t da_t

    def clear(self):
        super().clear()
        self._canvas_sigmoids.clear()

    # -- generation --------------------------------------------------------------------------
    def generate(self, z, trace=None):
        """c_T (B, 784) from latent codes ``z (T, B, z)`` through the decoder alone (Section
        2.3: z_t ~ N(0, I), then Eqs. 7-8). With a list ``trace``, each step appends
        ``(c_t, None, write window)`` as :meth:`forward` does."""
        xp = xp_of(z)
        canvas = xp.zeros((z.shape[1], PIXELS), dtype=z.dtype)
        dec_state = None
        with evaluating(self):
            for t in range(self.steps):
                dec_state = self.decoder.forward(z[t], dec_state)
                canvas = canvas + self.write(dec_state[0])
                if trace is not None:
                    trace.append((canvas, None, self.windows(dec_state[0], dec_state[0])[1]))
        return canvas


def window_layer(dec_size, n, gamma, rng):
    """The Dense layer emitting the 5 window parameters from h^dec (Eq. 21): zero weights and
    a bias that tiles the image with intensity ``gamma`` (see "Making attention learn")."""
    layer = Dense(dec_size, 5, init="zeros", rng=rng)
    layer.params["b"][...] = xp_of(layer.params["b"]).asarray(initial_window(n, SIDE, SIDE, gamma))
    return layer


def write_gamma(n):
    """1/gamma^ = delta^2 for the tiling write window: each filter row sums to 1, so a patch
    value is spread over a delta x delta cell; this makes a patch value of 1 paint about 1."""
    return (SIDE / n) ** -2


class DRAW(Trainer):
    """DRAW with attention by default (see the module docstring)."""

    name = "draw"
    paper = PAPER
    description = "DRAW: recurrent variational auto-encoder with Gaussian read/write attention"
    Config = DRAWConfig
    data_split = "train"
    binarize = "static"
    curves = {"losses.png": ["loss", "reconstruction", "kl"]}
    epoch_curves = {"validation-bound.png": ["loss", "val_nll_bound", "val_reconstruction_nll", "val_kl"]}

    def __init__(self, config, rng):
        super().__init__(config, rng)
        self.net = DRAWNetwork(config, rng)
        self.networks = {"draw": self.net}
        self.optimizers = {"draw": Adam(self.net, config.lr, clip_norm=config.clip_norm or None)}

    def prepare(self, dataset):
        """Without attention, start the Dense write's bias at logit(mean image) / T
        (:func:`~minnet.models.variational.canvas_bias`, as avme; not in the paper). The attention
        write has no bias: its canvas starts at zero, sigmoid 1/2."""
        if not self.config.attention:
            self.net.write_pixels.params["b"][...] = self.to_device(canvas_bias(dataset, self.config.steps))

    def noise(self, batch, rng=None):
        return self.normal((self.config.steps, batch, self.config.z_size), rng)

    def train_step(self, images, labels=None, indices=None):
        x = self.to_device(images).reshape(len(images), PIXELS)
        batch = len(x)
        canvas, kl, _ = self.net.forward(x, self.batch_normal((self.config.steps, batch, self.config.z_size), axis=1))
        reconstruction, g_canvas = bernoulli_cross_entropy(canvas, x)  # L^x, Eq. 9
        g_canvas /= batch  # the loss is L^x + L^z averaged over the batch
        self.net.backward(g_canvas, 1.0 / batch)
        self.optimizers["draw"].step()
        reconstruction, kl = float(reconstruction.mean()), float(kl.mean())
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def sample(self, n, labels=None, rng=None, size=None):
        if labels is not None:
            raise MinnetError("draw is not conditional: it draws no particular digit")
        canvas = self.net.generate(self.noise(n, rng))
        return to_numpy(sigmoid(canvas)).reshape(n, SIDE, SIDE).astype(np.float32)

    # -- likelihoods (the contract of minnet.models.variational) -----------------------------
    def bound_terms(self, images, rng):
        """-log p(x | z) and sum_t KL per image, for one draw of z_1..T ~ Q (Eqs. 9-11)."""
        x = self.to_device(images).reshape(len(images), PIXELS)
        with evaluating(self.net):
            canvas, kl, _ = self.net.forward(x, self.noise(len(x), rng))
        return {"reconstruction": to_numpy64(bernoulli_cross_entropy(canvas, x)[0]), "kl": to_numpy64(kl)}

    def log_importance_weights(self, images, k, rng):
        """log p(x | z) + sum_t [log p(z_t) - log Q(z_t | ...)] for k draws of z_1..T per image, (N, k)."""
        x = self.to_device(np.repeat(images, k, axis=0)).reshape(len(images) * k, PIXELS)
        with evaluating(self.net):
            canvas, _, log_ratio = self.net.forward(x, self.noise(len(x), rng))
        log_w = log_ratio - bernoulli_cross_entropy(canvas, x)[0]
        return to_numpy64(log_w).reshape(len(images), k)

    def end_of_epoch(self, run):
        """The validation bound (for validation-bound.png) and the figures of the paper's Figs. 4 and 7."""
        draw_figures(self, run.run_dir, run.data_dir)
        return validation_bound(self, run.data_dir)
