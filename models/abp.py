"""Alternating back-propagation for a generator network (paper 002).

Paper 002, "Generative ConvNet with Continuous Latent Factors", presents Han, Lu, Zhu and Wu
(2017), *Alternating Back-Propagation for Generator Network*; minnet runs it on MNIST, a digit
class standing in for the paper's categories.

**Model** (Sections 2.1-2.2), a non-linear factor analysis::

    Y = f(Z; W) + eps,     Z ~ N(0, I_d),     eps ~ N(0, sigma^2 I_784)

Y is an image scaled to [-1, 1] (pixel p of the data, in [0, 1], is ``2 p - 1``) and f a
top-down ConvNet (the paper does not give one for digits; this follows its Fig. 1, Dense layers
then deconvolutions)::

    Z (B, d) -> Dense d -> h -> ReLU -> Dense h -> c1*7*7 -> ReLU -> reshape (B, c1, 7, 7)
             -> Deconv2d c1 -> c2, k4 s2 p1 -> (B, c2, 14, 14) -> ReLU
             -> Deconv2d c2 -> 1,  k4 s2 p1 -> (B, 1, 28, 28) -> tanh: f(Z) in (-1, 1)

with h = ``--hidden`` (256) and (c1, c2) = ``--channels`` (32, 16). Most of the weights are in
the Dense layers, which are cheap; the deconvolutions, which cost the most per image (and are
run 11 times per batch), are kept narrow.

No batch norm: it would tie each image's f(Z) to the rest of its batch, and Langevin dynamics
needs f to be a function of Z alone.

**Learning** (Section 3.1) maximises the complete-data log-likelihood

    log p(Y_i, Z_i; W) = -||Y_i - f(Z_i; W)||^2 / (2 sigma^2) - ||Z_i||^2 / 2 + const

by alternating, on each batch:

1. *inferential back-propagation*: ``L`` Langevin steps (Section 3.2) on each image's own code,
   W fixed (``input_gradients_only``), starting from where the image's previous visit left it
   (Z_i is warm-started across epochs and kept in the checkpoint)::

       Z <- Z + (delta^2 / 2) [(Y - f(Z; W)) df/dZ / sigma^2 - Z] + delta N(0, I_d)

   ``--inference gradient`` drops the noise: gradient ascent on log p(Y, Z), Section 3.1;
2. *learning back-propagation*: one Adam step on W along the gradient of
   ``-sum_i ||Y_i - f(Z_i; W)||^2 / (2 sigma^2)`` over the batch (divided by the batch size).

Settings. sigma = 0.3, delta = 0.1 and L = 10 are Han et al.'s (they also used 30 steps and
delta = 0.3 for larger images): sigma = 0.3 on the [-1, 1]
scale (0.15 in [0, 1] pixels) lets f explain the strokes without fitting every pixel's noise,
and the Langevin step then moves Z by delta^2 / (2 sigma^2) = 0.056 times the error's gradient,
small enough to be stable through a tanh output; 10 steps per visit suffice because each visit
continues the chain of the last. Paper 002 does not name its optimiser for W; minnet uses Adam
(beta1 = 0.5, lr 1e-3) because the gradient's size scales with 1/sigma^2 and with the image
size and changes as f learns, and Adam's per-weight normalisation makes the step independent
of that scale, where SGD's learning rate would have to be tuned to it. d = 10 (the paper gives
no d for digits): fewer factors leave fewer regions of N(0, I_d) that no training code visits,
so the syntheses look more like digits, at some cost in reconstruction (the comparison with
d = 20 is on docs/models/abp.md).

**Reconstruction errors** (Section 4.3), with W fixed: for an image Y, Z is inferred afresh by
``--eval-steps`` noiseless steps of the rule above from a start drawn from N(0, I_d) with a
fixed seed, image k of every set starting from the same code (the same start and steps for
every set, so the numbers compare; the stored training codes are not used). Z = 0 is a poor
start: f barely depends on Z there (measured on docs/models/abp.md). The error is
``||Y - f(Z)||^2`` summed over the 784 pixels **on the [0, 1] pixel scale** (a quarter of the
error on the model's [-1, 1] scale), averaged over the images. *train*: the first
``--eval-images`` training images; *test*: the first ones of the test set among the trained
digits; *negative*: the first test images of the other digits (only with ``--digits``).
"""

import dataclasses

import numpy as np

from minnet import backend
from minnet.backend import to_numpy
from minnet.data import load_mnist
from minnet.errors import MinnetError
from minnet.evaluation.metrics import register_metric
from minnet.figures import images
from minnet.layers.activations import ReLU, Tanh
from minnet.layers.base import Sequential, evaluating, input_gradients_only
from minnet.layers.conv import Deconv2d
from minnet.layers.dense import Dense
from minnet.layers.shape import Reshape
from minnet.models.base import Config, Trainer, option
from minnet.optim import Adam

PAPER = "002: Xu, Generative ConvNet with Continuous Latent Factors (Han et al. 2017)"
EVAL_BATCH = 250  # images per batch of the fresh inference
EVAL_SEED = 0  # seeds the start of the fresh inference
FIGURE_COLUMNS = 10
INTERPOLATION_POINTS = 9  # f(Z) from Z_1 to Z_2 in 8 equal steps (Fig. 8)
OCCLUDED = (slice(8, 20), slice(8, 20))  # the 12x12 centre square hidden for inpainting
SETS = ("train", "test", "negative")


@dataclasses.dataclass
class ABPConfig(Config):
    """The settings of ``minnet train abp`` (see the module docstring for the choices)."""

    epochs: int = option(10, "passes over the training set", min=1)
    batch_size: int = option(100, "images per training step", min=1)
    lr: float = option(1e-3, "Adam's learning rate for W", positive=True)
    beta1: float = option(0.5, "Adam's beta1", min=0.0, max=0.999)
    z_dim: int = option(10, "latent factors d", min=1)
    hidden: int = option(256, "units h of the hidden Dense layer", min=1)
    channels: tuple = option((32, 16), "channels c1,c2 of the 7x7 and 14x14 feature maps")
    sigma: float = option(0.3, "noise sigma of Y = f(Z) + eps, on the [-1, 1] pixel scale", positive=True)
    delta: float = option(0.1, "Langevin step size delta", positive=True)
    langevin_steps: int = option(10, "inference steps L on each image's Z per visit", min=1)
    inference: str = option(
        "langevin", "langevin (Section 3.2) or gradient: the noiseless steps of Section 3.1",
        choices=("langevin", "gradient"),
    )  # fmt: skip
    eval_steps: int = option(100, "noiseless steps on Z (from a fixed prior draw) for reconstruction errors", min=1)
    eval_images: int = option(500, "images per set (train, test, negative) for the reconstruction errors", min=1)


def build_generator(config, rng):
    """f(Z; W): (B, z_dim) -> (B, 1, 28, 28) in (-1, 1), as the module docstring draws it."""
    if len(config.channels) != 2:
        raise MinnetError(f"--channels takes two numbers (7x7 and 14x14 maps), not {len(config.channels)}")
    c1, c2 = config.channels
    return Sequential(
        Dense(config.z_dim, config.hidden, init="he", rng=rng),
        ReLU(),
        Dense(config.hidden, c1 * 7 * 7, init="he", rng=rng),
        ReLU(),
        Reshape((c1, 7, 7)),
        Deconv2d(c1, c2, 4, stride=2, pad=1, init="he", rng=rng),
        ReLU(),
        Deconv2d(c2, 1, 4, stride=2, pad=1, rng=rng),
        Tanh(),
    )


def log_posterior_gradient(G, z, y, sigma, mask=None):
    """``d/dZ log p(Y, Z; W) = (Y - f(Z; W)) df/dZ / sigma^2 - Z`` for each row, W fixed.

    ``z (B, d)``, ``y (B, 1, 28, 28)`` on the [-1, 1] scale; ``mask`` (same shape as ``y``, 1 where
    a pixel is seen, 0 where it is not) leaves hidden pixels out of the error. Returns
    ``(gradient (B, d), f(Z) (B, 1, 28, 28))``.
    """
    with input_gradients_only(G):
        fitted = G.forward(z)
        residual = y - fitted
        if mask is not None:
            residual *= mask
        return G.backward(residual / sigma**2) - z, fitted


def langevin_step(G, z, y, sigma, delta, noise=None, mask=None):
    """``Z + (delta^2 / 2) d/dZ log p(Y, Z; W) + delta * noise`` (Section 3.2).

    ``noise`` (B, d) drawn from N(0, I); None gives the noiseless gradient step of Section 3.1.
    """
    gradient, _ = log_posterior_gradient(G, z, y, sigma, mask)
    z = z + (delta**2 / 2) * gradient
    if noise is not None:
        z += delta * noise
    return z


def squared_errors(y, fitted):
    """``||Y - f(Z)||^2`` per image on the [0, 1] pixel scale, from arrays on the [-1, 1] scale: (B,)."""
    difference = (y - fitted).reshape(len(y), -1)
    return (difference * difference).sum(axis=1) / 4


def to_model_scale(pixels):
    """Images (B, 28, 28) in [0, 1] -> Y (B, 1, 28, 28) in [-1, 1]."""
    return pixels[:, None] * 2 - 1


def to_pixels(y):
    """Y (B, 1, 28, 28) on the [-1, 1] scale -> NumPy (B, 28, 28) in [0, 1]."""
    return np.clip((to_numpy(y)[:, 0] + 1) / 2, 0, 1)


class ABP(Trainer):
    """Alternating back-propagation: Langevin inference of each image's Z, then a step on W."""

    name = "abp"
    paper = PAPER
    description = "generator f(Z) learnt by alternating Langevin inference of Z and steps on W"
    Config = ABPConfig
    curves = {"train_error.png": ["recon_error"]}
    epoch_curves = {"recon_errors.png": [f"recon_error_{name}" for name in SETS]}

    def __init__(self, config, rng):
        super().__init__(config, rng)
        self.G = build_generator(config, rng)
        self.networks = {"G": self.G}
        self.optimizers = {"G": Adam(self.G, lr=config.lr, beta1=config.beta1)}
        self._test_set = None

    def prepare(self, dataset):
        """Each training image's code Z_i, drawn from the prior N(0, I_d): (N_train, d)."""
        self.per_example["z"] = self.normal((len(dataset), self.config.z_dim))

    # -- training (Section 3) ----------------------------------------------------------
    def infer(self, z, y, steps, noisy, mask=None):
        """``steps`` Langevin steps (``noisy``) or noiseless gradient steps on ``z``, W fixed."""
        config = self.config
        for _ in range(steps):
            noise = self.batch_normal(z.shape) if noisy else None
            z = langevin_step(self.G, z, y, config.sigma, config.delta, noise, mask)
        return z

    def train_step(self, images, labels, indices=None):
        """Inferential back-propagation on the batch's codes, then learning back-propagation on W.

        Returns ``recon_error``, the mean ``||Y - f(Z)||^2`` on the [0, 1] scale at the codes
        just inferred (before W moves), and ``z_norm``, their mean Euclidean length.
        """
        if indices is None:
            raise MinnetError("abp keeps a code per training image: train_step needs the images' indices")
        config = self.config
        y = self.to_device(to_model_scale(images))
        rows = backend.xp_of(y).asarray(indices)
        z = self.infer(self.per_example["z"][rows], y, config.langevin_steps, config.inference == "langevin")
        self.per_example["z"][rows] = z
        fitted = self.G.forward(z)
        # d/df of the batch mean of ||Y - f||^2 / (2 sigma^2): W moves along minus this.
        self.G.backward((fitted - y) / (config.sigma**2 * len(y)))
        self.optimizers["G"].step()
        xp = backend.xp_of(z)
        return {
            "recon_error": float(squared_errors(y, fitted).mean()),
            "z_norm": float(xp.sqrt((z * z).sum(axis=1)).mean()),
        }

    # -- fresh inference with W fixed (Section 4.3) --------------------------------------
    def reconstruct(self, pixels, mask=None):
        """Infer Z afresh for images (N, 28, 28) in [0, 1]: ``eval_steps`` noiseless steps from a
        fixed draw of N(0, I_d).

        ``mask`` (28, 28), 1 for seen pixels, restricts the fit to them (inpainting). Returns
        NumPy ``(Z (N, d), f(Z) (N, 28, 28) in [0, 1], errors (N,))``, the errors
        ``||Y - f(Z)||^2`` over the seen pixels on the [0, 1] scale.
        """
        codes, fitted_images, errors = [], [], []
        device_mask = None if mask is None else self.to_device(mask)
        starts = np.random.default_rng(EVAL_SEED)  # image k of every call starts from the same code
        for start in range(0, len(pixels), EVAL_BATCH):
            y = self.to_device(to_model_scale(pixels[start : start + EVAL_BATCH]))
            z = self.normal((len(y), self.config.z_dim), starts)
            z = self.infer(z, y, self.config.eval_steps, noisy=False, mask=device_mask)
            with evaluating(self.G):
                fitted = self.G.forward(z)
            seen = fitted if device_mask is None else fitted * device_mask + y * (1 - device_mask)
            codes.append(to_numpy(z))
            fitted_images.append(to_pixels(fitted))
            errors.append(to_numpy(squared_errors(y, seen)))
        return np.concatenate(codes), np.concatenate(fitted_images), np.concatenate(errors)

    def evaluation_sets(self, train_images, test_images, test_labels):
        """``{"train", "test", "negative"}`` -> images: the first ``eval_images`` of each.

        The test set is split by the digits the run trains on (``self.data["digits"]``; all ten
        when none were chosen, and then there is no negative set).
        """
        n = self.config.eval_images
        trained = np.isin(test_labels, self.trained_digits())
        sets = {"train": train_images[:n], "test": test_images[trained][:n], "negative": test_images[~trained][:n]}
        return {name: pixels for name, pixels in sets.items() if len(pixels)}

    def trained_digits(self):
        return list(self.data.get("digits") or range(10))

    def reconstruction_errors(self, sets):
        """``{"recon_error_<set>": mean error}`` and the reconstructions, for :meth:`evaluation_sets`."""
        results = {name: self.reconstruct(pixels) for name, pixels in sets.items()}
        return {f"recon_error_{name}": float(errors.mean()) for name, (_, _, errors) in results.items()}, results

    # -- after each epoch: errors and the paper's figures ---------------------------------
    def end_of_epoch(self, run):
        """The three reconstruction errors, and reconstruction.png, interpolation.png, inpainting.png."""
        if self._test_set is None:
            self._test_set = load_mnist("test", data_dir=run.data_dir)
        sets = self.evaluation_sets(run.dataset.images, self._test_set.images, self._test_set.labels)
        values, results = self.reconstruction_errors(sets)
        self.draw_reconstructions(f"{run.run_dir}/reconstruction.png", sets, results)
        self.draw_interpolations(f"{run.run_dir}/interpolation.png", run.dataset.images)
        self.draw_inpainting(f"{run.run_dir}/inpainting.png", sets["test"][:FIGURE_COLUMNS])
        return values

    def draw_reconstructions(self, path, sets, results):
        """Per set, a row of originals above a row of their fresh reconstructions f(Z)."""
        rows, labels = [], []
        for name, pixels in sets.items():
            rows += [pixels[:FIGURE_COLUMNS], results[name][1][:FIGURE_COLUMNS]]
            labels += [name, "f(Z)"]
        columns = min(len(row) for row in rows)
        images.save_grid(path, np.concatenate([row[:columns] for row in rows]), nrow=columns, row_labels=labels)

    def draw_interpolations(self, path, train_images, pairs=8):
        """Fig. 8: per row, Y_1, then f((i/n) Z_2 + ((n-i)/n) Z_1) for i = 0..n, then Y_2.

        Z_1, Z_2 are the codes training inferred for training images k and k + ``pairs``.
        """
        pairs = min(pairs, len(train_images) // 2)
        codes = self.per_example["z"]
        xp = backend.xp_of(codes)
        weights = xp.linspace(0, 1, INTERPOLATION_POINTS, dtype=codes.dtype)[:, None]
        tiles = []
        for k in range(pairs):
            z1, z2 = codes[k], codes[k + pairs]
            path_codes = (1 - weights) * z1 + weights * z2  # (points, d)
            with evaluating(self.G):
                between = to_pixels(self.G.forward(path_codes))
            tiles += [train_images[k][None], between, train_images[k + pairs][None]]
        images.save_grid(path, np.concatenate(tiles), nrow=INTERPOLATION_POINTS + 2)

    def draw_inpainting(self, path, pixels):
        """Rows: originals; the centre square hidden (grey); completed from Z inferred on the rest."""
        mask = np.ones((1, 28, 28), dtype=np.float32)
        mask[(0, *OCCLUDED)] = 0
        _, fitted, _ = self.reconstruct(pixels, mask=mask)
        hidden = pixels * mask[0] + 0.5 * (1 - mask[0])
        completed = pixels * mask[0] + fitted * (1 - mask[0])
        images.save_grid(
            path, np.concatenate([pixels, hidden, completed]), nrow=len(pixels),
            row_labels=["original", "occluded", "completed"],
        )  # fmt: skip

    # -- synthesis (Section 4.1) ---------------------------------------------------------
    def sample(self, n, labels=None, rng=None, size=None):
        """``n`` images f(Z), Z ~ N(0, I_d): NumPy (n, 28, 28) in [0, 1]."""
        z = self.normal((n, self.config.z_dim), rng or np.random.default_rng())
        with evaluating(self.G):
            return to_pixels(self.G.forward(z))


# -- minnet eval: the three reconstruction errors --------------------------------------------


def _training_images(trainer):
    """The run's training images, loaded as the run loaded them (split, limit, digits)."""
    data = trainer.data
    split = data.get("split", trainer.data_split)
    return load_mnist(split, data_dir=data.get("data_dir"), limit=data.get("limit"), digits=data.get("digits")).images


def _error_metric(name):
    def compute(trainer, context):
        sets = trainer.evaluation_sets(
            _training_images(trainer) if name == "train" else np.empty((0, 28, 28), np.float32),
            context.test_images, context.test_labels,
        )  # fmt: skip
        return float(trainer.reconstruct(sets[name])[2].mean())

    def applies_to(trainer):
        if not isinstance(trainer, ABP):
            return False
        return name != "negative" or len(trainer.trained_digits()) < 10

    register_metric(
        f"recon_error_{name}",
        f"||Y - f(Z)||^2 per {name} image, [0, 1] pixels, Z inferred afresh with W fixed",
        applies_to=applies_to,
    )(compute)


for _name in SETS:
    _error_metric(_name)
