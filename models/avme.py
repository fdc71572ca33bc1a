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
every step, one sample per row, as the paper's Fig. 8) and, for ``avme-cond``,
``fig9-conditional.png`` (16 samples per digit, one row per digit, as Fig. 9), plus the
validation bound's curve ``validation-bound.png``.
"""

import dataclasses
import os

import numpy as np

from minnet.backend import xp_of
from minnet.data import NUM_CLASSES
from minnet.figures import images as pictures
from minnet.layers.activations import sigmoid
from minnet.layers.base import Layer, evaluating
from minnet.layers.dense import Dense
from minnet.layers.recurrent import LSTMCell
from minnet.losses import bernoulli_cross_entropy, one_hot
from minnet.models.base import Config, Trainer, option
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


class AVMENetwork(Layer):
    """The unrolled model of Eqs. 10-13 as one layer: encoder, latent, decoder and write.

    ``s, kl, log_ratio = net.forward(x, eps, y)``:
    ``x`` (B, 784) binary images; ``eps`` (K, B, L) the latent noise of every step; ``y``
    (B, n_labels) one-hot labels or None; ``s`` (B, 784) the canvas' logits s_K; ``kl`` and
    ``log_ratio`` (B,) summed over the steps (see :class:`~minnet.models.variational.LatentSample`).

    ``net.backward(gs, gkl)`` with ``gs = dL/ds_K`` (B, 784) and ``gkl = dL/dKL`` (a number or
    (B,)) back-propagates through time. Going back from step t, the canvas gradient reaches
    s_{t-1} directly (Eq. 13) and through the encoder's view sigmoid(s_{t-1}); h^D_{t-1} gets
    the gradients of the write layer at t-1, of the decoder at t and of the encoder at t.
    No gradient is returned for x or y (they are data).

    The encoder is :class:`~minnet.layers.recurrent.LSTMCell` on ``[sigmoid(s_{t-1}), h^D_{t-1}]``
    with the product of the data ``[x, y]`` and its rows of weights (``encoder_data``, the same
    at every step) computed once per batch and added as the cell's ``offset``: the same LSTM
    as one on ``[x, y, sigmoid(s_{t-1}), h^D_{t-1}]``, with a third fewer multiplications.

    ``pixels`` is the size of a flattened image (784 for MNIST; less in gradient checks).

    ``net.generate(eps, y)`` runs the decoder alone from z_t = eps_t (Eqs. 19-21) and returns
    the canvases [s_1, ..., s_K].
    """

    def __init__(self, hidden, z_dim, steps, n_labels=0, *, pixels=PIXELS, rng=None):
        super().__init__()
        self.hidden, self.z_dim, self.steps, self.n_labels = hidden, z_dim, steps, n_labels
        self.pixels = pixels
        # The encoder LSTM on [x, y, sigmoid(s_{t-1}), h^D_{t-1}]: the rows of its weights for the
        # data [x, y], the same at every step, multiply them once per batch (encoder_data).
        self.encoder_data = Dense(pixels + n_labels, 4 * hidden, bias=False, rng=rng)
        self.encoder = LSTMCell(pixels + hidden, hidden, rng=rng)
        self.latent = GaussianLatent(hidden, z_dim, rng=rng)
        self.decoder = LSTMCell(z_dim + n_labels, hidden, rng=rng)
        self.write = Dense(hidden, pixels, rng=rng)

    def sublayers(self):
        return {
            "encoder_data": self.encoder_data, "encoder": self.encoder, "latent": self.latent,
            "decoder": self.decoder, "write": self.write,
        }  # fmt: skip

    def forward(self, x, eps, y=None):
        xp = xp_of(x)
        labels = [] if y is None else [y]
        canvas = xp.zeros((len(x), self.pixels), dtype=x.dtype)  # s_0
        h_decoder = xp.zeros((len(x), self.hidden), dtype=x.dtype)
        encoder_state = decoder_state = None
        data_gates = self.encoder_data(xp.concatenate([x, *labels], axis=1))  # [x, y] V, once
        kl = log_ratio = 0
        for t in range(self.steps):
            seen = sigmoid(canvas)
            encoder_in = xp.concatenate([seen, h_decoder], axis=1)
            encoder_state = self.encoder(encoder_in, encoder_state, offset=data_gates)  # Eq. 10
            latent = self.latent(encoder_state[0], eps[t])  # Eq. 11
            decoder_state = self.decoder(xp.concatenate([latent.z, *labels], axis=1), decoder_state)  # Eq. 12
            h_decoder = decoder_state[0]
            canvas = canvas + self.write(h_decoder)  # Eq. 13
            kl, log_ratio = kl + latent.kl, log_ratio + latent.log_ratio
            if self.training:
                self.push(seen)
        return canvas, kl, log_ratio

    def backward(self, gs, gkl):
        g_h_decoder = g_c_decoder = g_h_encoder = g_c_encoder = None  # sent back from step t + 1
        g_data_gates = 0
        for _ in range(self.steps):
            (seen,) = self.pop()
            g_h = self.write.backward(gs)
            if g_h_decoder is not None:
                g_h = g_h + g_h_decoder
            g_decoder_in, (g_h_decoder, g_c_decoder) = self.decoder.backward(g_h, g_c_decoder)
            g_h = self.latent.backward(g_decoder_in[:, : self.z_dim], gkl)
            if g_h_encoder is not None:
                g_h = g_h + g_h_encoder
            g_encoder_in, (g_h_encoder, g_c_encoder) = self.encoder.backward(g_h, g_c_encoder)
            g_data_gates = g_data_gates + self.encoder.gate_grad
            g_seen = g_encoder_in[:, : self.pixels]
            gs = gs + g_seen * seen * (1 - seen)  # s_{t-1} reaches s_t and sigmoid(s_{t-1})
            g_h_decoder = g_h_decoder + g_encoder_in[:, self.pixels :]
        self.encoder_data.backward(g_data_gates)  # dV = [x, y]^T sum_t da_t

    def generate(self, eps, y=None):
        xp = xp_of(eps)
        labels = [] if y is None else [y]
        canvas = xp.zeros((eps.shape[1], self.pixels), dtype=eps.dtype)
        decoder_state, canvases = None, []
        with evaluating(self.decoder, self.write):
            for t in range(self.steps):
                decoder_state = self.decoder(xp.concatenate([eps[t], *labels], axis=1), decoder_state)
                canvas = canvas + self.write(decoder_state[0])
                canvases.append(canvas)
        return canvases

    def __repr__(self):
        return f"AVMENetwork(hidden={self.hidden}, z={self.z_dim}, K={self.steps}, labels={self.n_labels})"


class AVME(Trainer):
    name = "avme"
    paper = PAPER
    description = "recurrent VAE: encoder and decoder LSTMs drawing on a canvas for K = 12 steps"
    Config = AVMEConfig
    data_split = "train"
    binarize = "static"
    epoch_curves = {"validation-bound.png": ["val_nll_bound", "val_reconstruction_nll", "loss"]}

    def __init__(self, config, rng):
        super().__init__(config, rng)
        n_labels = NUM_CLASSES if self.conditional else 0
        self.network = AVMENetwork(config.hidden, config.z_dim, config.steps, n_labels, rng=rng)
        self.networks = {"avme": self.network}
        self.optimizers = {"avme": Adam(self.network, lr=config.lr)}

    def prepare(self, dataset):
        """Start the canvas at the data's mean: the write layer's bias b = logit(mean image) / K,
        so that before training s_K = K b gives every pixel its mean intensity
        (:func:`~minnet.models.variational.canvas_bias`; not in the paper)."""
        self.network.write.params["b"][...] = self.to_device(canvas_bias(dataset, self.config.steps))

    # -- training: the negative ELBO of the batch --------------------------------------------------
    def train_step(self, images, labels, indices=None):
        x, y = self._inputs(images, labels)
        eps = self.batch_normal((self.config.steps, len(x), self.config.z_dim), axis=1)
        canvas, kl, _ = self.network.forward(x, eps, y)
        reconstruction, g_canvas = bernoulli_cross_entropy(canvas, x)
        batch = len(x)
        self.network.backward(g_canvas / batch, 1.0 / batch)
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
        eps = self.normal((self.config.steps, len(x), self.config.z_dim), rng)
        with evaluating(self.network):
            canvas, kl, _ = self.network.forward(x, eps, y)
        reconstruction, _ = bernoulli_cross_entropy(canvas, x)
        return {"reconstruction": to_numpy64(reconstruction), "kl": to_numpy64(kl)}

    def log_importance_weights(self, images, k, rng, labels=None):
        """(N, k): ``log p(x | z) + sum_t [log N(z_t; 0, I) - log q(z_t | x, z_<t)]`` for k draws."""
        images = np.repeat(images, k, axis=0)
        labels = None if labels is None else np.repeat(labels, k)
        x, y = self._inputs(images, labels)
        eps = self.normal((self.config.steps, len(x), self.config.z_dim), rng)
        with evaluating(self.network):
            canvas, _, log_ratio = self.network.forward(x, eps, y)
        reconstruction, _ = bernoulli_cross_entropy(canvas, x)
        return to_numpy64(log_ratio - reconstruction).reshape(-1, k)

    # -- sampling -------------------------------------------------------------------------------
    def canvases(self, n, labels=None, rng=None):
        """The Bernoulli means sigmoid(s_t) after every step: NumPy (K, n, 28, 28).

        Sample i's noise is row i of an (n, K, L) draw, so it does not depend on n."""
        eps = self.normal((n, self.config.steps, self.config.z_dim), rng).transpose(1, 0, 2)
        y = None
        if self.conditional:
            if labels is None:
                labels = np.arange(n) % NUM_CLASSES
            y = one_hot(xp_of(eps).asarray(labels), NUM_CLASSES, dtype=eps.dtype)
        steps = [sigmoid(s) for s in self.network.generate(eps, y)]
        return np.stack([to_numpy64(s).astype(np.float32).reshape(n, 28, 28) for s in steps])

    def sample(self, n, labels=None, rng=None, size=None):
        return self.canvases(n, labels, rng)[-1]

    # -- after each epoch: the validation bound and the paper's figures -------------------------
    def end_of_epoch(self, run):
        logs = validation_bound(self, run.data_dir, limit=len(run.dataset))
        self.draw_figures(run.run_dir, run.seed)
        return logs

    def draw_figures(self, run_dir, seed):
        """Fig. 8: ten samples unrolled over the K steps (one digit per row when conditional);
        Fig. 9, for avme-cond: 16 samples of each digit, one row per digit."""
        rng = np.random.default_rng([seed, FIGURE_SEED])
        labels = np.arange(NUM_CLASSES) if self.conditional else None
        steps = self.canvases(10, labels, rng)  # (K, 10, 28, 28)
        unrolled = steps.transpose(1, 0, 2, 3).reshape(-1, 28, 28)
        row_labels = [str(d) for d in range(NUM_CLASSES)] if self.conditional else None
        pictures.save_grid(
            os.path.join(run_dir, "fig8-unrolled.png"), unrolled, nrow=self.config.steps, row_labels=row_labels
        )
        if self.conditional:
            grid = self.sample(16 * NUM_CLASSES, np.repeat(np.arange(NUM_CLASSES), 16), rng)
            pictures.save_grid(os.path.join(run_dir, "fig9-conditional.png"), grid, nrow=16, row_labels=row_labels)


class ConditionalAVME(AVME):
    name = "avme-cond"
    description = "AVME with the digit label fed to encoder and decoder at every step (Eqs. 22-28)"
    conditional = True
