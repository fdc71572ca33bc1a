"""The training procedure shared by every GAN in minnet (papers 003 and 004).

A generator G maps noise z (and, for conditional models, a one-hot label y) to an image in
[-1, 1] (tanh output); a discriminator D maps an image to logits saying how likely the image is
real. A conditional D takes ``[image, y]``: its first layer sees the label (cdcgan's, a
:class:`~minnet.layers.conditional.LabelledConv2d`, as ten label maps stacked on the image).
Each step (Goodfellow et al. 2014, Algorithm 1, with k = 1):

1. **D step.** With x a real batch and x~ = G(z) a generated one, minimise
   ``L_D = CE(D(x), real) + CE(D(x~), fake)``; G is not updated. A conditional D can also be
   *matching-aware* (Reed et al. 2016, "GAN-CLS"): it sees the real batch a second time under
   wrong labels y' and learns to call that fake too,
   ``L_D = CE(D(x, y), real) + 1/2 [CE(D(x~, y), fake) + CE(D(x, y'), fake)]``,
   so a sample only passes for real if it is the digit it was asked for.
2. **G step.** On the same x~, minimise the non-saturating
   ``L_G = CE(D(x~), real) = -log D(x~)`` (default), or the papers' minimax form
   ``L_G = -CE(D(x~), fake) = log(1 - D(x~))`` (``--g-loss minimax``), back-propagating
   through D into G; D's backward there computes the input gradient only (D's weights are
   not updated by the G step).

With ``g_average`` set, samples come from an exponential moving average of G's weights,
updated after each step's G updates (:mod:`minnet.models.ema`), rather than from G itself.

D ends either in one logit (``CE`` is binary cross-entropy of its sigmoid, as in paper 003)
or in two nodes ``[generated, real]`` under a softmax (paper 004); both are supported.

A subclass provides ``build_networks(config, rng) -> (G, D)`` and its Config. Images enter
G and D as (B, 1, 28, 28) scaled to [-1, 1].
"""

import dataclasses

import numpy as np

from minnet import backend, losses
from minnet.backend import to_numpy
from minnet.data import NUM_CLASSES
from minnet.distributed.batch import own_rows, whole_shape
from minnet.errors import MinnetError
from minnet.layers.activations import sigmoid, softmax
from minnet.layers.base import evaluating, input_gradients_only
from minnet.layers.dropout import Dropout
from minnet.models.base import Config, Trainer, option
from minnet.models.ema import WeightAverage
from minnet.optim import Adam

G_AVERAGE = "G_average"  # checkpoint prefix of the moving average of G's weights
HELD_OUT_NOISE = 256  # the fixed noise batch on which D's confidence is tracked (004, Fig. 2)


@dataclasses.dataclass
class GANConfig(Config):
    """Settings every GAN has; each paper's Config sets its own defaults and layer sizes."""

    z_dim: int = option(100, "size of the noise vector z", min=1)
    z_dist: str = option("normal", "distribution of z: N(0, I) or U(-1, 1)", choices=("normal", "uniform"))
    beta1: float = option(0.5, "Adam's beta1", min=0.0, max=0.999)
    beta2: float = option(0.999, "Adam's beta2", min=0.0, max=0.9999)
    clip_norm: float = option(0.0, "clip each network's global gradient norm to this (0: off)", min=0.0)
    g_loss: str = option(
        "non-saturating", "generator loss: -log D(G(z)) or log(1 - D(G(z)))", choices=("non-saturating", "minimax")
    )
    real_label: float = option(1.0, "D's target for real images (0.9: one-sided label smoothing)", min=0.5, max=1.0)
    g_steps: int = option(1, "G updates per D update, on the same noise", min=1)
    g_average: float = option(
        0.0, "decay of the moving average of G's weights that samples come from (0: from G itself)", min=0.0, max=0.9999
    )


def with_dropout(layers, p, rng, batch_axis=0):
    """``layers`` followed by ``Dropout(p)``, or ``layers`` alone when ``p`` is 0; ``batch_axis``
    1 for a sequence (T, B, n)."""
    return [*layers, Dropout(p, rng=rng, batch_axis=batch_axis)] if p > 0 else list(layers)


def real_probability(logits):
    """D's confidence that each image is real: sigmoid of one logit, or softmax's real node."""
    if logits.shape[1] == 1:
        return sigmoid(logits[:, 0])
    return softmax(logits)[:, 1]


def discriminator_loss(logits, real_target):
    """Cross-entropy of D's logits against the probability ``real_target`` of "real".

    ``real_target`` is 1 for real images (0.9 with one-sided label smoothing) and 0 for
    generated ones. One logit: binary cross-entropy; two logits: softmax cross-entropy against
    ``[1 - real_target, real_target]``. Returns ``(loss, dL/dlogits)``, averaged over the batch.
    """
    xp = backend.xp_of(logits)
    batch = logits.shape[0]
    if logits.shape[1] == 1:
        return losses.bce_with_logits(logits, xp.full((batch, 1), real_target, dtype=logits.dtype))
    targets = xp.empty((batch, 2), dtype=logits.dtype)
    targets[:, 0], targets[:, 1] = 1 - real_target, real_target
    return losses.softmax_cross_entropy(logits, targets)


class GANTrainer(Trainer):
    """Alternating D and G updates with Adam; see the module docstring.

    Attributes
    ----------
    G : Layer
        The generator: noise z (B, z_dim), with the one-hot label (B, 10) appended for a
        conditional model, -> images (B, 1, 28, 28) in [-1, 1] (its last layer is a tanh).
        That is not what :meth:`sample` returns: it runs G in evaluation mode and gives NumPy
        (n, 28, 28) in [0, 1], (x + 1) / 2, as every trainer's ``sample`` does.
    D : Layer
        The discriminator: images (B, 1, 28, 28) in [-1, 1] (and, if conditional, the labels)
        -> its logits of "real".
    """

    Config = GANConfig
    curves = {
        "losses.png": ["d_loss", "g_loss"],
        "confidence.png": ["d_real", "d_fake", "d_fake_held_out", "d_wrong_label"],
    }

    def __init__(self, config, rng):
        super().__init__(config, rng)
        self.G, self.D = self.build_networks(config, rng)
        self.networks = {"G": self.G, "D": self.D}
        clip = config.clip_norm or None
        adam = {"lr": config.lr, "beta1": config.beta1, "beta2": config.beta2, "clip_norm": clip}
        self.optimizers = {"G": Adam(self.G, **adam), "D": Adam(self.D, **adam)}
        self.G_average = WeightAverage(self.G, config.g_average) if config.g_average else None
        held_out_rng = np.random.default_rng(rng.integers(2**32))
        self.held_out_z = self.noise(HELD_OUT_NOISE, held_out_rng)
        self.held_out_labels = np.arange(HELD_OUT_NOISE) % NUM_CLASSES

    def build_networks(self, config, rng):
        raise NotImplementedError

    def matching_aware(self):
        """Whether D also learns to reject real images under wrong labels (conditional models)."""
        return False

    # -- inputs -----------------------------------------------------------------------
    def noise(self, n, rng=None):
        """z of shape (n, z_dim) from N(0, I) or U(-1, 1), drawn on the CPU."""
        rng = rng or self.rng
        shape = (n, self.config.z_dim)
        if self.config.z_dist == "uniform":
            return self.to_device(rng.uniform(-1, 1, size=shape))
        return self.normal(shape, rng)

    def one_hot(self, labels):
        return self.to_device(np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels)])

    def generate(self, z, onehot, G=None):
        """G([z, y]) for conditional models, G(z) otherwise: images (B, 1, 28, 28) in [-1, 1].

        ``G``: another generator to use (the weight average), default the trained one."""
        if onehot is not None:
            z = backend.xp_of(z).concatenate([z, onehot], axis=1)
        return (self.G if G is None else G).forward(z)

    def discriminate(self, images, onehot):
        """D's logits for ``images``; a conditional D also takes the labels ``onehot`` (B, 10)."""
        if onehot is None:
            return self.D.forward(images)
        return self.D.forward([images, onehot])

    def discriminator_backward(self, g_logits):
        """Back-propagate through D; returns dL/dimage (a conditional D's label gradient is dropped)."""
        g_input = self.D.backward(g_logits)
        return g_input[0] if self.conditional else g_input

    # -- one step ---------------------------------------------------------------------
    def train_step(self, images, labels, indices=None):
        """One D update and ``g_steps`` G updates on a batch; returns losses and D's confidences."""
        batch = len(images)
        real = self.to_device(images[:, None] * 2 - 1)  # (B, 1, 28, 28) in [-1, 1]
        onehot = self.one_hot(labels) if self.conditional else None
        z = own_rows(self.noise(whole_shape((batch,))[0]))  # drawn for the global batch
        fake = self.generate(z, onehot)

        # D step: real images towards "real", generated ones towards "fake".
        logits_real = self.discriminate(real, onehot)
        logits_fake = self.discriminate(fake, onehot)
        loss_real, g_real = discriminator_loss(logits_real, self.config.real_label)
        loss_fake, g_fake = discriminator_loss(logits_fake, 0.0)
        logs = {}
        if self.matching_aware():  # and real images under wrong labels towards "fake", half each
            logits_wrong = self.discriminate(real, self.one_hot(self.wrong_labels(labels)))
            loss_wrong, g_wrong = discriminator_loss(logits_wrong, 0.0)
            self.discriminator_backward(g_wrong / 2)  # pops the last pass first
            loss_fake, g_fake = (loss_fake + loss_wrong) / 2, g_fake / 2
            logs["d_wrong_label"] = float(real_probability(logits_wrong).mean())
        self.discriminator_backward(g_fake)
        self.discriminator_backward(g_real)
        self.optimizers["D"].step()

        # G steps: through the updated D, on the same z (the first reuses the batch made above).
        for step in range(self.config.g_steps):
            loss_g = self.generator_step(fake if step == 0 else self.generate(z, onehot), onehot)
        if self.G_average is not None:
            self.G_average.update()

        return {
            "d_loss": float(loss_real + loss_fake),
            "g_loss": loss_g,
            "d_real": float(real_probability(logits_real).mean()),
            "d_fake": float(real_probability(logits_fake).mean()),
            **logs,
        }

    def wrong_labels(self, labels):
        """For each label, another digit drawn uniformly from the nine it is not."""
        labels = np.asarray(labels)
        shifts = own_rows(self.rng.integers(1, NUM_CLASSES, size=whole_shape(labels.shape)))  # for the global batch
        return (labels + shifts) % NUM_CLASSES

    def generator_step(self, fake, onehot):
        """Update G so that D takes ``fake`` (just made by G in training mode) for real; returns L_G."""
        logits = self.discriminate(fake, onehot)
        if self.config.g_loss == "minimax":  # minimise log(1 - D(G(z))) = -CE(D(G(z)), fake)
            loss_g, g_logits = discriminator_loss(logits, 0.0)
            loss_g, g_logits = -loss_g, -g_logits
        else:  # minimise -log D(G(z)) = CE(D(G(z)), real)
            loss_g, g_logits = discriminator_loss(logits, 1.0)
        with input_gradients_only(self.D):  # D is not updated by the G step: only dL/dx~ is needed
            g_fake = self.discriminator_backward(g_logits)
        self.G.backward(g_fake)
        self.optimizers["G"].step()
        return float(loss_g)

    def diagnostics(self, images, labels):
        """D's mean confidence on images generated from the fixed held-out noise (eval mode)."""
        onehot = self.one_hot(self.held_out_labels) if self.conditional else None
        with evaluating(self.G, self.D):
            logits = self.discriminate(self.generate(self.held_out_z, onehot), onehot)
        return {"d_fake_held_out": float(real_probability(logits).mean())}

    # -- state: the trainer's, and G's weight average -----------------------------------
    def state(self):
        arrays = super().state()
        if self.G_average is not None:
            arrays.update({f"{G_AVERAGE}/{k}": v for k, v in self.G_average.state_dict().items()})
        return arrays

    def load_state(self, arrays):
        super().load_state(arrays)
        if self.G_average is not None:
            prefix = f"{G_AVERAGE}/"
            self.G_average.load_state_dict({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})

    # -- sampling ---------------------------------------------------------------------
    def sample(self, n, labels=None, rng=None, size=None):
        """``n`` images (n, 28, 28) in [0, 1] from G (or its weight average) in evaluation mode;
        ``labels`` for conditional models."""
        if self.conditional and (labels is None or len(labels) != n):
            raise MinnetError(f"{self.name} is conditional: sample needs one label per image ({n})")
        z = self.noise(n, rng or np.random.default_rng())
        onehot = self.one_hot(labels) if self.conditional else None
        sampler = self.G if self.G_average is None else self.G_average.network
        with evaluating(sampler):
            images = self.generate(z, onehot, G=sampler)
        return np.clip((to_numpy(images).reshape(n, 28, 28) + 1) / 2, 0, 1)
