"""Griesemer, *Adaptive Variational Memory Encoding for Recurrent Data Synthesis* (paper 001).

``avme`` — Section 3.1, Eqs. 10-13: two LSTMs unrolled for K = 12 iterations per image, a
variational autoencoder whose reconstruction is drawn on a canvas over the iterations::

    h^E_t = E([x, sigmoid(s_{t-1}), h^D_{t-1}], h^E_{t-1})      (10) encoder LSTM, 400 units
    z_t   ~ q(z_t | h^E_t) = N(mu_t, diag(sigma_t^2))            (11) Dense 400 -> 2 x 100
    h^D_t = D(z_t, h^D_{t-1})                                    (12) decoder LSTM, 400 units
    s_t   = s_{t-1} + write(h^D_t)                               (13) write: Dense 400 -> 784

with ``s_0 = 0`` and zero initial LSTM states; the Bernoulli means of the pixels are
``sigmoid(s_K)`` (Section 5.1). ``avme-cond`` (Section 4.1, Eqs. 22-28) appends the one-hot
label y to the inputs of both LSTMs at every step.

The unrolled pass and its back-propagation through time are the recurrent core AVME shares with
its baseline DRAW (:class:`~minnet.models.recurrent_vae.RecurrentVAE`), with AVME's read
(:class:`~minnet.layers.canvas.CanvasRead`: the encoder sees ``[x, y]`` and the canvas, not
DRAW's error image; the data's product with the encoder's weights taken once per batch) and a
write of one number per pixel (:class:`~minnet.layers.canvas.PixelWrite`).

Choices where the paper is loose, documented here:

* The encoder's "784 input nodes, 400 hidden nodes, and 100 output nodes" are read as: the
  image (784) is its input, the LSTM has 400 units, and a Dense layer maps its state to the
  mean and log standard deviation of the 100-dimensional latent. The decoder "100 input,
  400 hidden, 784 output" is the decoder LSTM on z (400 units) and the write layer to 784.
* The encoder sees the canvas as ``sigmoid(s_{t-1})``, the Bernoulli means so far, so its
  input stays in [0, 1] however large the canvas' logits grow; the paper writes s_{t-1}.
* Loss (the issue; the paper names only the cross-entropy): the negative evidence lower bound
  per image, ``BCE(x, sigmoid(s_K)) + sum_t KL(q(z_t | h^E_t) || N(0, I))``, averaged over the
  batch. Without the KL the model could not be sampled from z ~ N(0, I) (Section 3.4).
* Adam at learning rate 1e-3 (the paper says neither optimizer settings nor epochs), batch
  100 (Fig. 7), trained on the first 50,000 statically binarized training images; the last
  10,000 validate (the bound, after every epoch).

Sampling (Section 3.4, Eqs. 19-21): z_t ~ N(0, I) through the decoder for K steps. After each
epoch the run directory gets ``fig8-unrolled.png`` (each sample's canvas sigmoid(s_t) after
every step, one sample per row, as the paper's Fig. 8; ``fig8-unrolled.gif`` shows the same
canvases filling up, one frame per step) and, for ``avme-cond``,
``fig9-conditional.png`` (16 samples per digit, one row per digit, as Fig. 9), plus the
validation bound's curve ``validation-bound.png``.
"""

import dataclasses
import os

import numpy as np

from minnet.backend import xp_of
from minnet.data import NUM_CLASSES
from minnet.figures import images as pictures
from minnet.figures.animation import fewer_grey_levels, save_gif, with_caption
from minnet.layers.activations import sigmoid
from minnet.layers.base import evaluating
from minnet.layers.canvas import CanvasRead, PixelWrite
from minnet.layers.recurrent import LSTMCell
from minnet.losses import bernoulli_cross_entropy, one_hot
from minnet.models.base import Config, Trainer, option
from minnet.models.recurrent_vae import RecurrentVAE
from minnet.models.variational import GaussianLatent, canvas_bias, to_numpy64, validation_bound
from minnet.optim import Adam

PAPER = "001: Griesemer, Adaptive Variational Memory Encoding for Recurrent Data Synthesis"
PIXELS = 28 * 28
FIGURE_SEED = 8  # the fixed noise of the per-epoch figures


@dataclasses.dataclass
class AVMEConfig(Config):
    epochs: int = option(20, "passes over the training set (the paper does not say)", min=1)
    batch_size: int = option(100, "images per training step (paper: 100)", min=1)
    lr: float = option(1e-3, "Adam learning rate (the paper does not say)", positive=True)
    steps: int = option(12, "iterations K per image (paper: 12)", min=1)
    z_dim: int = option(100, "dimensions of each latent z_t (paper: 100)", min=1)
    hidden: int = option(400, "units of the encoder and decoder LSTMs (paper: 400)", min=1)


class AVMENetwork(RecurrentVAE):
    """The unrolled model of Eqs. 10-13: :class:`~minnet.models.recurrent_vae.RecurrentVAE` with
    AVME's read, the canvas itself beside the data ``[x, y]``, and a write of one number per pixel.

    ``canvas, kl, log_ratio = net.forward(x, noise, y)`` with ``x`` (B, P) binary images,
    ``noise`` (K, B, L) and ``y`` (B, n_labels) one-hot labels or None; ``net.generate(z, y)``
    runs the decoder alone from z_t (Eqs. 19-21). ``pixels`` is the size P of a flattened image
    (784 for MNIST; less in gradient checks).
    """

    def __init__(self, hidden, z_size, steps, n_labels=0, *, pixels=PIXELS, rng=None):
        # the layers in the order their initial weights are drawn
        read = CanvasRead(pixels, 4 * hidden, n_labels=n_labels, rng=rng)  # [x, y, sigmoid(s_{t-1})]
        encoder = LSTMCell(read.n_out + hidden, hidden, rng=rng)  # Eq. 10
        posterior = GaussianLatent(hidden, z_size, rng=rng)  # q(z_t | h^E_t), Eq. 11
        decoder = LSTMCell(z_size + n_labels, hidden, rng=rng)  # Eq. 12
        write = PixelWrite(hidden, pixels, rng=rng)  # Eq. 13
        super().__init__(read, encoder, posterior, decoder, write, steps)


class AVME(Trainer):
    name = "avme"
    paper = PAPER
    description = "recurrent VAE: encoder and decoder LSTMs drawing on a canvas for K = 12 steps"
    Config = AVMEConfig
    data_split = "train"
    binarize = "static"
    epoch_curves = {"validation-bound.png": ["val_nll_bound", "val_reconstruction_nll", "loss"]}
    model_format = 2
    model_format_change = "its layers took the recurrent core's names: latent is posterior, write is write_pixels"

    def __init__(self, config, rng):
        super().__init__(config, rng)
        n_labels = NUM_CLASSES if self.conditional else 0
        self.net = AVMENetwork(config.hidden, config.z_dim, config.steps, n_labels, rng=rng)
        self.networks = {"avme": self.net}
        self.optimizers = {"avme": Adam(self.net, lr=config.lr)}

    def prepare(self, dataset):
        """Start the canvas at the data's mean: the write layer's bias b = logit(mean image) / K,
        so that before training s_K = K b gives every pixel its mean intensity
        (:func:`~minnet.models.variational.canvas_bias`; not in the paper)."""
        self.net.write.write_pixels.params["b"][...] = self.to_device(canvas_bias(dataset, self.config.steps))

    def noise(self, batch, rng=None):
        """The posterior's noise of every step, (K, batch, L)."""
        return self.normal((self.config.steps, batch, self.config.z_dim), rng)

    # -- training: the negative ELBO of the batch --------------------------------------------------
    def train_step(self, images, labels, indices=None):
        x, y = self._inputs(images, labels)
        eps = self.batch_normal((self.config.steps, len(x), self.config.z_dim), axis=1)  # for the global batch
        canvas, kl, _ = self.net.forward(x, eps, y)
        reconstruction, g_canvas = bernoulli_cross_entropy(canvas, x)
        batch = len(x)
        self.net.backward(g_canvas / batch, 1.0 / batch)
        self.optimizers["avme"].step()
        reconstruction, kl = float(reconstruction.mean()), float(kl.mean())
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def _inputs(self, images, labels):
        """Flattened images (B, 784) and one-hot labels (or None) on the device."""
        x = self.to_device(np.reshape(images, (len(images), PIXELS)))
        if not self.conditional:
            return x, None
        return x, one_hot(xp_of(x).asarray(labels), NUM_CLASSES, dtype=x.dtype)

    # -- the likelihood contract of minnet.models.variational -----------------------------------
    def bound_terms(self, images, rng, labels=None):
        """``{"reconstruction": (N,), "kl": (N,)}``, nats, one draw of z_1..K per image.

        ``avme-cond`` needs ``labels`` (N,) and bounds -log p(x | y)."""
        x, y = self._inputs(images, labels)
        with evaluating(self.net):
            canvas, kl, _ = self.net.forward(x, self.noise(len(x), rng), y)
        reconstruction, _ = bernoulli_cross_entropy(canvas, x)
        return {"reconstruction": to_numpy64(reconstruction), "kl": to_numpy64(kl)}

    def log_importance_weights(self, images, k, rng, labels=None):
        """(N, k): ``log p(x | z) + sum_t [log N(z_t; 0, I) - log q(z_t | x, z_<t)]`` for k draws."""
        images = np.repeat(images, k, axis=0)
        labels = None if labels is None else np.repeat(labels, k)
        x, y = self._inputs(images, labels)
        with evaluating(self.net):
            canvas, _, log_ratio = self.net.forward(x, self.noise(len(x), rng), y)
        reconstruction, _ = bernoulli_cross_entropy(canvas, x)
        return to_numpy64(log_ratio - reconstruction).reshape(-1, k)

    # -- sampling -------------------------------------------------------------------------------
    def canvases(self, n, labels=None, rng=None):
        """The Bernoulli means sigmoid(s_t) after every step: NumPy (K, n, 28, 28).

        Sample i's noise is row i of an (n, K, L) draw, so it does not depend on n."""
        z = self.normal((n, self.config.steps, self.config.z_dim), rng).transpose(1, 0, 2)
        y = None
        if self.conditional:
            if labels is None:
                labels = np.arange(n) % NUM_CLASSES
            y = one_hot(xp_of(z).asarray(labels), NUM_CLASSES, dtype=z.dtype)
        trace = []  # (s_t, windows) after every step
        self.net.generate(z, y, trace=trace)
        return np.stack([to_numpy64(sigmoid(s)).astype(np.float32).reshape(n, 28, 28) for s, _, _ in trace])

    def sample(self, n, labels=None, rng=None, size=None):
        return self.canvases(n, labels, rng)[-1]

    # -- after each epoch: the validation bound and the paper's figures -------------------------
    def end_of_epoch(self, run):
        logs = validation_bound(self, run.data_dir, limit=len(run.dataset))
        self.draw_figures(run.run_dir, run.seed)
        return logs

    def draw_figures(self, run_dir, seed):
        """Fig. 8: ten samples unrolled over the K steps (one digit per row when conditional),
        and as a GIF, the ten canvases in a row after step t in frame t; Fig. 9, for avme-cond:
        16 samples of each digit, one row per digit."""
        rng = np.random.default_rng([seed, FIGURE_SEED])
        labels = np.arange(NUM_CLASSES) if self.conditional else None
        steps = self.canvases(10, labels, rng)  # (K, 10, 28, 28)
        unrolled = steps.transpose(1, 0, 2, 3).reshape(-1, 28, 28)
        row_labels = [str(d) for d in range(NUM_CLASSES)] if self.conditional else None
        pictures.save_grid(
            os.path.join(run_dir, "fig8-unrolled.png"), unrolled, nrow=self.config.steps, row_labels=row_labels
        )
        frames = []
        for t, canvases in enumerate(steps):  # 32 grey levels: a GIF of half the size, alike to the eye
            grid = fewer_grey_levels(pictures.image_grid(canvases, nrow=10, scale=2), 32)
            frames.append(with_caption(grid, f"step {t + 1} of {len(steps)}"))
        save_gif(frames, os.path.join(run_dir, "fig8-unrolled.gif"), seconds_per_frame=0.25)
        if self.conditional:
            grid = self.sample(16 * NUM_CLASSES, np.repeat(np.arange(NUM_CLASSES), 16), rng)
            pictures.save_grid(os.path.join(run_dir, "fig9-conditional.png"), grid, nrow=16, row_labels=row_labels)


class ConditionalAVME(AVME):
    name = "avme-cond"
    description = "AVME with the digit label fed to encoder and decoder at every step (Eqs. 22-28)"
    conditional = True
