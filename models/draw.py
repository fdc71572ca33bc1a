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

The unrolled pass and its back-propagation through time are the recurrent core that DRAW shares
with AVME (:class:`~minnet.models.recurrent_vae.RecurrentVAE`); DRAW chooses its read and write
(Section 3) once, when the network is built:

* without attention (``--no-attention``, Section 3.1): :class:`~minnet.layers.canvas.PixelRead`,
  read = [x, x^_t] (1568 numbers), the x half taken through the encoder's weights once per
  batch (``encoder_data``) as it is the same at every step; and
  :class:`~minnet.layers.canvas.PixelWrite`, a Dense layer from h^dec_t to 784 whose bias starts
  at logit(mean image) / T (not in the paper; as avme);
* with attention (the default, Section 3.2): :class:`~minnet.layers.attention.AttentionRead`,
  read = gamma [F_Y x F_X^T, F_Y x^ F_X^T] through an N x N grid of Gaussian filters (N = 2, 8
  numbers), whose five parameters a Dense layer emits from h^dec_{t-1}; and
  :class:`~minnet.layers.attention.AttentionWrite`, write = 1/gamma^ F^_Y^T w_t F^_X with a patch
  w_t (5 x 5) and its own five window parameters, both Dense layers from h^dec_t (Eqs. 27-29).

Settings: LSTMs of 256 units, z of 100, T = 64 (the paper's MNIST model, Table 3; the
``--no-attention`` model of Table 2 used the same sizes); Adam; gradient clipping. The paper
names neither a learning rate nor a clipping norm: minnet uses 1e-3 and a global norm of 10.
The canvas and both LSTMs' states start at zero. Data: statically binarized MNIST, trained on the
first 50,000 training images (as AVME, paper 001).

The windows' initial placement and intensities (:data:`READ_GAMMA`, :func:`write_gamma`, the
tiling bias of :func:`~minnet.layers.attention.initial_window`): see "Making attention learn" in
docs/models/draw-lab-notes.md.
"""

import dataclasses

import numpy as np

from minnet.backend import to_numpy
from minnet.errors import MinnetError
from minnet.layers.activations import sigmoid
from minnet.layers.attention import AttentionRead, AttentionWrite
from minnet.layers.base import evaluating
from minnet.layers.canvas import PixelRead, PixelWrite
from minnet.layers.recurrent import LSTMCell
from minnet.losses import bernoulli_cross_entropy
from minnet.models.base import Config, Trainer, option
from minnet.models.draw_figures import draw_figures
from minnet.models.recurrent_vae import RecurrentVAE
from minnet.models.variational import GaussianLatent, canvas_bias, to_numpy64, validation_bound
from minnet.optim import Adam

PAPER = "DRAW (Gregor et al. 2015), the baseline of 001: Griesemer, Adaptive Variational Memory Encoding"
SIDE = 28
PIXELS = SIDE * SIDE
READ_GAMMA = 10.0  # the read window's initial intensity (see "Making attention learn" in the lab notes)


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


class DRAWNetwork(RecurrentVAE):
    """DRAW's encoder, posterior, decoder and read/write pair (see the module docstring), with
    :class:`~minnet.models.recurrent_vae.RecurrentVAE`'s forward, backward and generate;
    ``forward(x, noise)`` takes ``x (B, 784)`` and ``noise (T, B, z)``."""

    def __init__(self, config, rng):
        c = config  # the layers in the order their initial weights are drawn
        if c.attention:
            read = AttentionRead(c.read_n, SIDE, SIDE, c.dec_size, gamma=READ_GAMMA)  # Eq. 27
        else:
            read = PixelRead(PIXELS, 4 * c.enc_size, rng=rng)  # [x, x^_t], Section 3.1
        encoder = LSTMCell(read.n_out + c.dec_size, c.enc_size, rng=rng)  # Eq. 5
        posterior = GaussianLatent(c.enc_size, c.z_size, rng=rng)  # Q(Z_t | h^enc_t), Eqs. 6, 12
        decoder = LSTMCell(c.z_size, c.dec_size, rng=rng)  # Eq. 7
        if c.attention:
            write = AttentionWrite(c.write_n, SIDE, SIDE, c.dec_size, gamma=write_gamma(c.write_n), rng=rng)  # Eq. 29
        else:
            write = PixelWrite(c.dec_size, PIXELS, rng=rng)  # Section 3.1
        super().__init__(read, encoder, posterior, decoder, write, c.steps)


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
            self.net.write.write_pixels.params["b"][...] = self.to_device(canvas_bias(dataset, self.config.steps))

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
