"""Hernandez et al., *Generative Models for Handwritten Digits* (paper 004).

Two models, both trained with Adam at learning rate 0.0002, beta1 = 0.5 (the paper's "learning
rate decay (used by Adam) of 0.5") and batch 128 on all 60,000 training images (Section 4):

``gan`` — the "ordinary GAN" of Section 3:
    G: z ~ N(0, I_100) -> Dense 150 -> ReLU -> Dense 300 -> ReLU -> Dense 784 -> tanh -> 28x28
    D: the same reversed, 784 -> 300 -> ReLU -> 150 -> ReLU -> 2 nodes [generated, real]
       under a softmax.
    Weights start Glorot-uniform (the TensorFlow default the paper used).
    The paper's settings tend to collapse onto a few digits. ``--stable`` applies the usual
    remedies (Radford et al. 2016; Salimans et al. 2016), chosen here after comparing sample
    grids of 5-epoch runs of several combinations: LeakyReLU(0.2) instead of ReLU in both
    networks, batch norm after G's hidden layers, dropout 0.3 after D's hidden layers, and
    one-sided label smoothing (D's target for real images 0.9).

``cdcgan`` — the conditional DCGAN. The paper's Figure 1, which showed its layers, is missing
from the text, so minnet follows DCGAN practice (Radford et al. 2016: strided convolutions
instead of pooling, batch norm, ReLU in G, LeakyReLU 0.2 in D, weights from N(0, 0.02)) with
the label given to both networks as the paper says:
    G: [z (100), one-hot y (10)] -> Dense 6272 -> BN -> ReLU -> reshape 128x7x7
       -> Deconv 128->64 k4 s2 p1 (14x14) -> BN -> ReLU -> Deconv 64->1 k4 s2 p1 (28x28) -> tanh
    D: [image (1), y as 10 constant maps] 11x28x28 -> Conv 11->64 k4 s2 p1 (14x14) -> LeakyReLU
       -> Conv 64->128 k4 s2 p1 (7x7) -> BN -> LeakyReLU -> flatten -> Dense 6272 -> 1 logit
    D ends in one logit rather than two nodes: the paper does not say, and one sigmoid output
    is the DCGAN convention.

    Two training choices the paper does not describe were added to make the asked-for digit
    reliable after a short training; ``--no-matching-aware`` and ``--g-steps 1`` undo them:

    * D is matching-aware (Reed et al. 2016): it also sees each real batch under wrong labels
      and learns to call that fake (see :mod:`minnet.models.gan`). Without it, D can accept a
      well-drawn digit of the wrong class, and G learns the label only slowly.
    * G takes 4 update steps on the same noise for each D step (``--g-steps``; the TensorFlow
      DCGAN of the time took 2).

    Measured after 2 epochs on the full set, seed 0: the fraction of 2,000 samples that the
    MNIST classifier reads as the asked digit, for 1, 2 and 4 G steps, was 0.91, 0.96 and 0.99
    with the matching-aware D, and 0.77, 0.84 and 0.95 without it (0.93 with 3 and 5 steps).

    Samples come from a moving average of G's weights over about the last 500 steps
    (``--g-average 0.998``; :mod:`minnet.models.ema`); ``--g-average 0`` samples G itself.
    Training is the same either way. Measured on the README's first command (``--channels 16``,
    the 30,000 bundled digits, one thread), ``minnet eval`` of 10,000 samples, seeds 0 / 1:

        epochs  sampled from      FID           asked digit
        3       G itself          33.8 / 31.7   0.913 / 0.916
        3       average 0.995     23.4 / 22.5   0.963 / 0.971
        3       average 0.998     25.8 / 27.9   0.974 / 0.977
        4       G itself          22.4 / 25.6   0.952 / 0.943
        4       average 0.995     15.1 / 14.6   0.977 / 0.978
        4       average 0.998     15.9 / 16.1   0.981 / 0.985
        4       average 0.999     18.1 / 19.2   0.984 / 0.986
        5       G itself          21.0 / 15.5   0.948 / 0.957
        5       average 0.998     11.1 / 10.5   0.991 / 0.989

    0.998 rather than 0.995 for the digit read right more often at about the same FID, and for
    long runs (the full 100 epochs are 47,000 steps, where 500 steps are one epoch).
"""

import dataclasses
import itertools

from minnet.data import NUM_CLASSES
from minnet.layers.activations import LeakyReLU, ReLU, Tanh
from minnet.layers.base import Sequential
from minnet.layers.conditional import LabelledConv2d
from minnet.layers.conv import Conv2d, Deconv2d
from minnet.layers.dense import Dense
from minnet.layers.norm import BatchNorm
from minnet.layers.shape import Flatten, Reshape
from minnet.models.base import option
from minnet.models.gan import GANConfig, GANTrainer, with_dropout

PAPER = "004: Hernandez et al., Generative Models for Handwritten Digits"


@dataclasses.dataclass
class HandwrittenDigitsConfig(GANConfig):
    """The training settings both of the paper's models share (Section 4)."""

    epochs: int = option(100, "passes over the training set (paper: 100)", min=1)
    batch_size: int = option(128, "images per training step (paper: 128)", min=1)


@dataclasses.dataclass
class MLPGANConfig(HandwrittenDigitsConfig):
    hidden: tuple = option((150, 300), "G's hidden layer sizes; D uses them reversed")
    stable: bool = option(
        False, "LeakyReLU, batch norm in G, dropout 0.3 in D, label smoothing 0.9 (not in the paper)"
    )

    def __post_init__(self):
        if self.stable:  # one-sided label smoothing: D's target for real images at most 0.9
            self.real_label = min(self.real_label, 0.9)


class MLPGAN(GANTrainer):
    name = "gan"
    paper = PAPER
    description = "MLP GAN 100-150-300-784 with a 2-node softmax discriminator"
    Config = MLPGANConfig

    def build_networks(self, config, rng):
        stable = config.stable
        act = (lambda: LeakyReLU(0.2)) if stable else ReLU
        sizes = [config.z_dim, *config.hidden, 28 * 28]

        g_layers = []
        for n_in, n_out in itertools.pairwise(sizes[:-1]):
            g_layers += [Dense(n_in, n_out, rng=rng), *([BatchNorm(n_out)] if stable else []), act()]
        g_layers += [Dense(sizes[-2], sizes[-1], rng=rng), Tanh(), Reshape((1, 28, 28))]

        d_layers = [Flatten()]
        for n_in, n_out in itertools.pairwise(sizes[:0:-1]):  # 784 -> 300 -> 150
            d_layers += with_dropout([Dense(n_in, n_out, rng=rng), act()], 0.3 if stable else 0, rng)
        d_layers.append(Dense(sizes[1], 2, rng=rng))  # [generated, real]
        return Sequential(*g_layers), Sequential(*d_layers)


@dataclasses.dataclass
class CDCGANConfig(HandwrittenDigitsConfig):
    channels: int = option(64, "channels of the first D convolution (G's last deconvolution)", min=1)
    g_steps: int = option(4, "G updates per D update, on the same noise (not in the paper; see the docstring)", min=1)
    matching_aware: bool = option(
        True, "D also learns to call real images under wrong labels fake (Reed et al. 2016; not in the paper)"
    )
    g_average: float = option(
        0.998, "decay of the moving average of G's weights that samples come from (0: from G itself; not in the paper)",
        min=0.0, max=0.9999,
    )


class CDCGAN(GANTrainer):
    name = "cdcgan"
    paper = PAPER
    description = "conditional DCGAN: the digit label goes to both G and D"
    Config = CDCGANConfig
    conditional = True
    model_format = 2
    model_format_change = "format 2 samples from the moving average of G's weights, which the checkpoint holds"

    def matching_aware(self):
        return self.config.matching_aware

    def build_networks(self, config, rng):
        c = config.channels
        init = "dcgan"
        G = Sequential(
            Dense(config.z_dim + NUM_CLASSES, 2 * c * 7 * 7, init=init, rng=rng),
            BatchNorm(2 * c * 7 * 7),
            ReLU(),
            Reshape((2 * c, 7, 7)),
            Deconv2d(2 * c, c, 4, stride=2, pad=1, init=init, rng=rng),
            BatchNorm(c),
            ReLU(),
            Deconv2d(c, 1, 4, stride=2, pad=1, init=init, rng=rng),
            Tanh(),
        )
        features = [
            LabelledConv2d(1, NUM_CLASSES, c, 4, stride=2, pad=1, init=init, rng=rng),
            LeakyReLU(0.2),
            Conv2d(c, 2 * c, 4, stride=2, pad=1, init=init, rng=rng),
            BatchNorm(2 * c),
            LeakyReLU(0.2),
            Flatten(),
        ]
        _, n_features = Sequential(*features).output_shape([(1, 1, 28, 28), (1, NUM_CLASSES)])  # 2c x 7 x 7
        D = Sequential(*features, Dense(n_features, 1, init=init, rng=rng))
        return G, D
