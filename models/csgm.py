"""Komoni, *Continuous Space Generative Model* (paper 000): digits as continuous functions.

One network (:mod:`minnet.models.csgm_field`) maps a label ``S``, an image's latent code ``L``
and a pixel's coordinates ``A`` to ``d``, how close ``L`` lies to the data manifold, and ``g``,
the pixel's value. A digit is the function ``A -> g``, so it renders at any resolution.

Training (Algorithm 1, Eqs. 3.2-3.4)
------------------------------------
Every training image ``i`` owns a code ``L_i ~ N(0, I_20)`` (``per_example["codes"]``). An
update takes ``B`` images (``--batch-size``) and ``P`` pixels of each (``--pixels``), and on
the ``B P`` pairs minimises the squared errors (Eq. 3.2)

    E = mean over pairs of (g - y)^2 + (d - m_i)^2

where ``y`` is the pixel's value and ``m_i`` d's target for image ``i``. Then (Eq. 3.3) the
weights take a step on dE/dw, and (Eq. 3.4) each code takes a step on the sum over its ``P``
pixels of the per-pair gradient, read from the L-columns of the same backward pass's dE/dX:

    L_i <- L_i - code_lr * sum_p d[(g - y)^2 + (d - m_i)^2]_p / dL_i

with one addition: a step longer than ``code_max_step`` is shortened to that length, its
direction kept (see Defaults).

d's target (not given numerically by the thesis, which says it starts at 0 and rises linearly
to 1 once the codes have been refined for a while): ``m_i = min(1, v_i / d_ramp)`` with ``v_i``
the number of earlier steps that refined ``L_i`` (``per_example["visits"]``), so an image's
first visit targets 0, and from its ``d_ramp``-th on, 1.

Algorithm 1 iterates over one entry's pixels ("for an arbitrarily large number N"); here a
batch's visit is ``V = visit_steps`` updates in a row, each on the next ``P`` pixels of a random
order of each image's 784, so no pixel comes twice before all have come once. With the defaults,
V P = 49 x 16 = 784: a visit shows each pixel of its images once, and an epoch each of the
60,000 x 784 (image, pixel) pairs once.

Against the thesis' one pixel at a time: the weights move once per ``B P`` pairs on the mean
of their gradients (an SGD step of the same size per pair, ``B P`` times fewer of them), and a
code moves once per update on the sum of its ``P`` pixels' gradients (the ``P`` per-pixel steps
the thesis would take, all computed at one point). ``--batch-size 1 --pixels 1 --visit-steps
N --optimizer sgd --lr 0.01 --code-lr 0.01 --clip-norm 0`` is the thesis' procedure, one pixel
at a time. (The thesis also mentions K = 2 codes "in step 3 of training"; its pseudocode is
not in the text, so training here refines the one code of each image.)

Defaults
--------
The thesis' values are ``--optimizer sgd --lr 0.01 --code-lr 0.01 --clip-norm 0`` (no momentum,
no clipping), one pixel at a time. Batched, the faithful reading of "a step of 0.01 per pixel"
treats an image's ``P`` pixels as the codes do (their per-pair gradients summed) and averages
over the images: SGD with ``--lr 0.01 P`` on the mean error (0.16 for P = 16; ``--lr`` is
always the step on the mean). In a few epochs that learns far more slowly than Adam, so the
defaults go beyond the thesis:

* Adam 0.002 for the weights, their gradient clipped at norm 1 (``clip_norm``), which keeps
  the rare update on a code far from the data from throwing the weights off;
* SGD at ``code_lr`` 2 for the codes, each step at most ``code_max_step`` = 2 long, so that no
  code diverges;
* a visit of ``V`` = 49 updates of ``P`` = 16 pixels: every pixel of its images once;
* d's target reaching 1 after ``d_ramp`` = 2 V updates, the end of the second epoch;
* coordinates on [-4, 4] (:mod:`minnet.models.csgm_field`).

The runs that chose them (tables of FID per setting) are on docs/models/csgm.md.

Generation (Section 3, Algorithm 2)
-----------------------------------
``--sampler paper``: K = 2 codes from N(0, I) per image, refined with the weights fixed, d's
target 1, the label given and no pixel values (``refine_steps`` steps of ``refine_lr``,
rastering over the 28 x 28 pixel centres); their mean renders the image. The thesis gives no
number of steps ("arbitrarily large"); its lr, 0.01, is the default step. As d learns that
trained codes score near 1, this gives close to one prototype per digit; larger steps drive
the codes away from the trained ones, where d keeps rising, and the renders break up
(docs/models/csgm.md). The default ``--sampler gaussian`` (beyond the thesis) draws each code
from a Gaussian fitted to the trained codes of the training images of that digit (their mean
and covariance), which keeps the variety of the training set.
"""

import dataclasses
import os

import numpy as np
from PIL import Image

from minnet import backend
from minnet.data import NUM_CLASSES
from minnet.distributed.batch import own_rows, whole_shape
from minnet.errors import MinnetError
from minnet.figures import images
from minnet.figures.animation import fewer_grey_levels, save_gif, with_caption
from minnet.figures.run_figures import GRID_SEED
from minnet.losses import squared_error
from minnet.models.base import Config, Trainer, option
from minnet.models.csgm_field import (
    CODE_SIZE,
    CODES,
    TRAIN_SIDE,
    build_network,
    inputs,
    pixel_centre,
    refine_codes,
    render,
)
from minnet.models.csgm_metrics import epoch_measures
from minnet.optim import SGD, Adam

PAPER = "000: Komoni, Continuous Space Generative Model"
SAMPLERS = ("gaussian", "paper")
MAX_SIZE = 2048  # renders larger than this per side are refused (memory and time)
K_CODES = 2  # Algorithm 2: codes refined and averaged per generated image (Section 4)
FIGURE_DIGIT = 2  # Fig. 4.2 shows a 2 at 300 x 300
FIGURE_SIZE = 300
ZOOM_FRAMES = 12  # zoom.gif: sizes from 28 to FIGURE_SIZE pixels, evenly spaced in log size


@dataclasses.dataclass
class CSGMConfig(Config):
    epochs: int = option(10, "passes over the training set (the thesis trained for 12 hours)", min=1)
    batch_size: int = option(64, "images per step (thesis: 1)", min=1)
    pixels: int = option(16, "pixels of each image per update (thesis: 1)", min=1, max=TRAIN_SIDE**2)
    optimizer: str = option("adam", "the weights' optimizer (thesis: sgd)", choices=("adam", "sgd"))
    lr: float = option(
        2e-3,
        "the weights' step on the mean error of the pairs (thesis: sgd, 0.01 per pixel, i.e. 0.01 x --pixels)",
        positive=True,
    )
    clip_norm: float = option(
        1.0, "clip the weights' global gradient norm to this (beyond the thesis; 0: off)", min=0.0
    )
    code_lr: float = option(2.0, "SGD step size of the per-image codes L (thesis: 0.01)", positive=True)
    code_max_step: float = option(
        2.0, "longest step of one code L (beyond the thesis: keeps a code from diverging)", positive=True
    )
    visit_steps: int = option(
        49,
        "updates on each batch, each on the next --pixels of an image's pixels in random order "
        "(Algorithm 1's loop over an image's pixels: 49 x 16 = all 784)",
        min=1,
    )
    d_ramp: int = option(98, "steps refining an image's L over which d's target rises from 0 to 1", min=1)
    refine_steps: int = option(10, "Algorithm 2 (--sampler paper): refinement steps per code", min=0)
    refine_lr: float = option(0.01, "Algorithm 2: step size of the refinement", positive=True)
    eval_samples: int = option(500, "samples per sampler for the FID/accuracy measured each epoch (0: none)", min=0)


class CSGM(Trainer):
    name = "csgm"
    paper = PAPER
    description = "continuous space generative model: (label, code, x, y) -> pixel, any resolution"
    Config = CSGMConfig
    conditional = True
    any_resolution = True
    samplers = SAMPLERS
    model_format = 2
    model_format_change = "format 2 puts the image's coordinates on [-4, 4], not [-1, 1]"
    curves = {"losses.png": ["pixel_loss", "d_loss"]}
    epoch_curves = {
        "fid.png": ["fid", "paper_fid"],
        "accuracy.png": ["conditional_accuracy", "paper_conditional_accuracy"],
        "within_digit_std.png": ["within_digit_std", "paper_within_digit_std"],
    }

    def __init__(self, config, rng):
        super().__init__(config, rng)
        self.net = build_network(rng)
        self.networks = {"net": self.net}
        optimizer = Adam if config.optimizer == "adam" else SGD
        self.optimizers = {"net": optimizer(self.net, lr=config.lr, clip_norm=config.clip_norm or None)}

    def prepare(self, dataset):
        """Per training image: its code L ~ N(0, I) (Section 4), its digit, its visit count."""
        n = len(dataset)
        self.per_example["codes"] = self.normal((n, CODE_SIZE))
        self.per_example["labels"] = backend.to_device(np.asarray(dataset.labels, dtype=np.int64))
        self.per_example["visits"] = backend.to_device(np.zeros(n, dtype=np.int64))

    # -- training: Algorithm 1 --------------------------------------------------------
    def d_targets(self, visits):
        """m = min(1, v / d_ramp): d's target for images refined ``v`` times before."""
        return backend.xp_of(visits).minimum(1.0, visits / self.config.d_ramp).astype(np.float32)

    def train_step(self, images, labels, indices=None):
        """Algorithm 1 on a batch: ``visit_steps`` times Eqs. 3.2-3.4, each on the next
        ``pixels`` pixels of each image's :meth:`pixel_order`. Logs the means over those steps."""
        at = backend.to_device(np.asarray(indices, dtype=np.int64))
        labels = backend.to_device(np.asarray(labels))
        order = own_rows(self.pixel_order(whole_shape(images.shape)[0]))  # drawn for the global batch
        pixels = self.config.pixels
        logs = [
            self._pixel_step(images, labels, at, order[:, step * pixels : (step + 1) * pixels])
            for step in range(self.config.visit_steps)
        ]
        return {key: sum(log[key] for log in logs) / len(logs) for key in logs[0]}

    def pixel_order(self, n):
        """int (n, V P): per image, the flat pixels (row * 28 + column) its visit's V =
        ``visit_steps`` updates take, P = ``pixels`` at a time: the image's 784 pixels in a
        random order (then a new order, if V P > 784), so none comes twice before all came once."""
        side = TRAIN_SIDE**2
        wanted = self.config.visit_steps * self.config.pixels
        rounds = -(-wanted // side)
        every_pixel = np.tile(np.arange(side), (n, 1))
        return np.concatenate([self.rng.permuted(every_pixel, axis=1) for _ in range(rounds)], axis=1)[:, :wanted]

    def code_steps(self, gradients):
        """code_lr * dE/dL_i per code (n, 20), each shortened to norm ``code_max_step`` at most."""
        xp = backend.xp_of(gradients)
        steps = self.config.code_lr * gradients
        norms = xp.linalg.norm(steps, axis=1, keepdims=True)
        return steps * xp.minimum(1.0, self.config.code_max_step / xp.maximum(norms, 1e-30))

    def _pixel_step(self, images, labels, at, flat_pixels):
        """Eqs. 3.2-3.4 once, on the pixels ``flat_pixels`` (n, P) of each image (rows ``at``)."""
        xp = backend.xp()
        (n, p), pairs = flat_pixels.shape, flat_pixels.size
        rows, cols = np.divmod(flat_pixels, TRAIN_SIDE)
        coords = self.to_device(np.stack([pixel_centre(cols), pixel_centre(rows)], axis=-1))
        pixels = self.to_device(images[np.arange(n)[:, None], rows, cols].reshape(-1))
        codes = self.per_example["codes"][at]
        visits = self.per_example["visits"][at]
        d_target = xp.repeat(self.d_targets(visits), p)

        out = self.net.forward(inputs(labels, codes, coords))
        pixel_loss, grad_g = squared_error(out[:, 1], pixels)  # means over the B P pairs
        d_loss, grad_d = squared_error(out[:, 0], d_target)
        gx = self.net.backward(xp.stack([grad_d, grad_g], axis=1))  # Eq. 3.2: dE/dw and dE/dX
        self.optimizers["net"].step()  # Eq. 3.3
        per_pair = gx[:, CODES].reshape(n, p, CODE_SIZE) * pairs  # gradients of single pairs
        self.per_example["codes"][at] = codes - self.code_steps(per_pair.sum(axis=1))  # Eq. 3.4
        self.per_example["visits"][at] = visits + 1
        return {"pixel_loss": float(pixel_loss), "d_loss": float(d_loss)}

    # -- generation: Algorithm 2 and the per-digit Gaussian -----------------------------
    def sample(self, n, labels=None, rng=None, size=None, sampler=None):
        """``n`` digits as NumPy float32 (n, size, size) in [0, 1] (size 28 by default).

        The codes are drawn (and for ``sampler="paper"`` refined) before and independently of
        ``size``, so one ``rng`` state gives the same digits at every size.
        """
        size = TRAIN_SIDE if size is None else size
        sampler = sampler or SAMPLERS[0]
        if sampler not in SAMPLERS:
            raise MinnetError(f"unknown sampler {sampler!r} for csgm; choose one of: {', '.join(SAMPLERS)}")
        if not 1 <= size <= MAX_SIZE:
            raise MinnetError(f"--size must be between 1 and {MAX_SIZE} pixels, got {size}")
        rng = rng or self.rng
        labels = rng.integers(0, NUM_CLASSES, n) if labels is None else np.asarray(labels)
        codes = self.paper_codes(labels, rng) if sampler == "paper" else self.gaussian_codes(labels, rng)
        return backend.to_numpy(render(self.net, backend.to_device(labels), codes, size))

    def paper_codes(self, labels, rng):
        """Algorithm 2: the mean of K = 2 codes from N(0, I), each refined with d's target 1."""
        n = len(labels)
        starts = self.normal((K_CODES * n, CODE_SIZE), rng)
        refined = refine_codes(
            self.net,
            backend.to_device(np.tile(labels, K_CODES)),
            starts,
            self.config.refine_steps,
            self.config.refine_lr,
        )
        return refined.reshape(K_CODES, n, CODE_SIZE).mean(axis=0)

    def gaussian_codes(self, labels, rng):
        """L = mu_k + C_k z, z ~ N(0, I): mu_k, C_k C_k^T the mean and covariance of the codes
        of the training images of digit k (N(0, I), the codes' start, before any training)."""
        noise = rng.standard_normal((len(labels), CODE_SIZE))
        codes = np.empty_like(noise)
        for digit, (mean, factor) in self.code_distributions().items():
            chosen = labels == digit
            codes[chosen] = mean + noise[chosen] @ factor.T
        return self.to_device(codes)

    def code_distributions(self):
        """{digit: (mean (20,), Cholesky factor (20, 20))} of the trained codes, float64."""
        if "codes" not in self.per_example:
            return {digit: (np.zeros(CODE_SIZE), np.eye(CODE_SIZE)) for digit in range(NUM_CLASSES)}
        codes = backend.to_numpy(self.per_example["codes"]).astype(np.float64)
        labels = backend.to_numpy(self.per_example["labels"])
        fitted = {}
        for digit in range(NUM_CLASSES):
            own = codes[labels == digit]
            covariance = np.cov(own, rowvar=False) + 1e-6 * np.eye(CODE_SIZE)
            fitted[digit] = (own.mean(axis=0), np.linalg.cholesky(covariance))
        return fitted

    # -- per epoch: Fig. 4.1 for the paper sampler, Fig. 4.2, measures ---------------------
    def end_of_epoch(self, run):
        """Writes ``samples-paper/epoch-NNN.png`` (Fig. 4.1 with Algorithm 2; the runner's
        ``samples/`` grid is the default sampler's), ``render-300px/epoch-NNN.png`` (one 2 at
        300 x 300, Fig. 4.2) and ``zoom.gif`` (that 2 at growing sizes); returns FID, accuracy
        and within-digit spread of ``eval_samples`` renders of each sampler (see
        :mod:`minnet.models.csgm_metrics`)."""
        rng = np.random.default_rng([run.seed, GRID_SEED])  # the noise of the runner's grids
        name = f"epoch-{run.epoch:03d}.png"
        grid_labels = np.repeat(np.arange(NUM_CLASSES), 10)
        paper_grid = self.sample(len(grid_labels), grid_labels, rng, sampler="paper")
        _save_grid(run.run_dir, "samples-paper", name, paper_grid, nrow=10, row_labels=list("0123456789"))
        large = self.sample(1, [FIGURE_DIGIT], np.random.default_rng(run.seed), size=FIGURE_SIZE)
        _save_grid(run.run_dir, f"render-{FIGURE_SIZE}px", name, large, nrow=1, scale=1, padding=0)
        self.save_zoom(os.path.join(run.run_dir, "zoom.gif"), run.seed)
        return epoch_measures(self, run, self.config.eval_samples)

    def save_zoom(self, path, seed):
        """A GIF of one FIGURE_DIGIT rendered at ZOOM_FRAMES sizes from 28 to FIGURE_SIZE pixels
        (a geometric progression), each frame enlarged to FIGURE_SIZE x FIGURE_SIZE by nearest
        neighbour so the finer pixels show. Every frame draws its code from ``default_rng(seed)``
        and the code does not depend on the size, so all show one digit: with the run's seed,
        Fig. 4.2's."""
        frames = []
        for size in np.geomspace(TRAIN_SIDE, FIGURE_SIZE, ZOOM_FRAMES).round().astype(int):
            digit = self.sample(1, [FIGURE_DIGIT], np.random.default_rng(seed), size=int(size))[0]
            pixels = Image.fromarray(np.round(digit * 255).astype(np.uint8), "L")
            enlarged = np.asarray(pixels.resize((FIGURE_SIZE, FIGURE_SIZE), Image.Resampling.NEAREST))
            enlarged = fewer_grey_levels(enlarged, 64)  # 60% of the size of 256 levels, with no visible bands
            frames.append(with_caption(enlarged, f"rendered at {size} x {size} pixels"))
        save_gif(frames, path, seconds_per_frame=0.4)


def _save_grid(run_dir, folder, name, pictures, **options):
    os.makedirs(os.path.join(run_dir, folder), exist_ok=True)
    images.save_grid(os.path.join(run_dir, folder, name), pictures, **options)
