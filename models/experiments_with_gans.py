"""Kapoor & Orozco, *Experiments with GANs* (paper 003): four GAN architectures compared.

Every model is a generator G and a discriminator D "of the same structure" (Section 3): G maps
noise z to an image through a final tanh, D maps an image to one value through a sigmoid (here:
one logit, trained with binary cross-entropy by :class:`~minnet.models.gan.GANTrainer`). The
paper's figures of the architectures (Fig. 1a-d) are missing from the text, so the layer
details below are minnet's reading of the prose, with the choices it leaves open stated.

Settings shared by all four models
----------------------------------
* Table 1: batch 256, z of size 100, learning rate 1e-4, dropout probability 0.5, maximum
  gradient norm 5.0, 2 layers, 5 convolution output channels, 2x2 pooling with stride 1,
  at most 500 training epochs (``--epochs`` defaults to 500).
* Adam (Section 4.2) with TensorFlow 1.0's defaults, since the paper changes none but the
  learning rate: beta1 = 0.9, beta2 = 0.999.
* Gradient clipping at global norm 5.0 for "all models besides the linear model" (Section 3),
  applied to each network's gradient separately (``--clip-norm``; 0 turns it off).
* "All models contained dropout" (Section 3) reads as: every model type has dropout, not
  necessarily both of its networks. minnet puts it where GANs have used it since Goodfellow
  et al. (2014), in D: after every hidden layer (after the activation, and after the pooling
  where there is one), so it also drops D's input to the final dense layer. G has no dropout
  by default, since samples are drawn with dropout off and a dropped-out G would be trained as
  a different network from the one sampled; ``--g-dropout P`` adds it after G's hidden layers
  for the other reading.
* The paper does not give z's distribution: minnet draws z ~ U(-1, 1)^100 (``--z-dist
  uniform``; ``normal`` draws N(0, I)).
* Nor does it name hidden activations or a generator loss: minnet uses ReLU in G and
  LeakyReLU(0.2) in D (Radford et al. 2016) and the non-saturating loss -log D(G(z))
  (Goodfellow et al. 2014, Section 3). Weights start Glorot-uniform (TensorFlow's default).
* No L2 regularisation (Section 3).

The models
----------
``gan-linear`` (Section 3, "Linear"; Fig. 1a): multilayer perceptrons whose layers grow in G
and shrink in D; Table 2's hyperparameters are the two layer sizes. No gradient clipping::

    G: z 100 -> Dense 256 -> ReLU -> Dense 512 -> ReLU -> Dense 784 -> tanh -> 1x28x28
    D: 784 -> Dense 512 -> LeakyReLU -> Dropout -> Dense 256 -> LeakyReLU -> Dropout -> Dense 1

``gan-conv`` (Section 3, "Convolutional"; Fig. 1b): convolutions in D, transposed convolutions
("deconvolutions") in G, each network capped with a fully connected layer. Table 2's
hyperparameters are filter shape and stride; Table 1 fixes 2 layers of 5 output channels.
"The best DCGAN was the one with the smallest stride and filter" (Section 4.3.2), so the
defaults are stride 1 and a 3x3 filter (the smallest with a centre), with TensorFlow's "SAME"
padding, here zero padding (k - 1) // 2 on every side::

    D: 1x28x28 -> Conv 5 k3 s1 -> LeakyReLU -> Dropout -> Conv 5 k3 s1 -> LeakyReLU -> Dropout
       -> flatten 5x28x28 -> Dense 1
    G: z -> Dense 5x28x28 -> ReLU -> Deconv 5 k3 s1 -> ReLU -> Deconv 1 k3 s1 -> tanh -> 1x28x28

G is D's mirror image: its dense layer comes first and each transposed convolution undoes the
shape change of the matching convolution of D, with ``output_padding`` choosing the exact size
when a stride leaves a remainder. Any filter, stride, padding and layer count is accepted whose
convolutions leave at least a 1x1 map and whose stride is at most the filter size (larger
strides would skip pixels that D never sees and G never draws); anything else is a MinnetError.

``gan-conv-pool`` (Section 3; Fig. 1c): ``gan-conv`` with 2x2, stride-1 max pooling (Table 1) in
D after each convolution's activation, so with the default two layers one pooling lies between
the convolutions and one before the dense cap (28 -> 28 -> 27 -> 27 -> 26). Pooling has no
learnable inverse, so G is ``gan-conv``'s generator unchanged.

``gan-lstm`` (Section 3, "LSTM"; Fig. 1d): two LSTM layers in each network (Table 2: the
number of units; minnet's default 128 is not from the paper), each capped with a fully
connected layer. The image is a sequence of its 28 rows::

    D: row t of the image is the input at step t -> LSTM 128 -> Dropout -> LSTM 128 -> Dropout
       -> the last step's hidden state -> Dense 1
    G: z is the input at every one of the 28 steps -> LSTM 128 -> LSTM 128
       -> at each step t, Dense 28 -> tanh = row t of the image

Feeding z at every step (rather than only as the first input) keeps the noise equally close
to every row G writes. The LSTM cells start with forget bias 1, as TensorFlow's
``tf.contrib.rnn.LSTMCell`` that the paper used (Section 4.2).
"""

import dataclasses

from minnet.backend import xp_of
from minnet.errors import MinnetError
from minnet.layers.activations import LeakyReLU, ReLU, Tanh
from minnet.layers.base import Layer, Sequential
from minnet.layers.conv import Conv2d, Deconv2d
from minnet.layers.dense import Dense
from minnet.layers.im2col import window_positions
from minnet.layers.pooling import MaxPool2d
from minnet.layers.recurrent import LSTM
from minnet.layers.shape import Flatten, Reshape
from minnet.models.base import option
from minnet.models.gan import GANConfig, GANTrainer, with_dropout

PAPER = "003: Kapoor & Orozco, Experiments with GANs"
SIDE = 28  # MNIST images are SIDE x SIDE
D_SLOPE = 0.2  # LeakyReLU slope in D


@dataclasses.dataclass
class ExperimentsConfig(GANConfig):
    """Table 1's settings, shared by the four models of paper 003."""

    epochs: int = option(500, "passes over the training set (paper: at most 500)", min=1)
    batch_size: int = option(256, "images per training step (paper: 256)", min=1)
    lr: float = option(1e-4, "Adam's learning rate (paper: 1e-4)", positive=True)
    z_dist: str = option("uniform", "distribution of z: U(-1, 1) or N(0, I)", choices=("uniform", "normal"))
    beta1: float = option(0.9, "Adam's beta1 (TensorFlow's default, which the paper kept)", min=0.0, max=0.999)
    clip_norm: float = option(5.0, "clip each network's global gradient norm to this (paper: 5.0; 0: off)", min=0.0)
    dropout: float = option(0.5, "dropout after each hidden layer of D (paper: 0.5)", min=0.0, max=0.99)
    g_dropout: float = option(0.0, "dropout after each hidden layer of G (not in the paper's text)", min=0.0, max=0.99)


# -- linear ---------------------------------------------------------------------------------


@dataclasses.dataclass
class LinearConfig(ExperimentsConfig):
    """The linear model's layer sizes (Table 2); no gradient clipping (Section 3)."""

    clip_norm: float = option(0.0, "clip each network's global gradient norm (paper: none for this model)", min=0.0)
    g_hidden: tuple = option((256, 512), "G's hidden layer sizes, growing (paper, Table 2: layer one and two sizes)")
    d_hidden: tuple = option((512, 256), "D's hidden layer sizes, shrinking")


class LinearGAN(GANTrainer):
    """Paper 003's linear model: G and D are multilayer perceptrons (see the module docstring).

    As for every model here, G maps z (B, z_dim) to images (B, 1, 28, 28) in [-1, 1] and D
    maps images (B, 1, 28, 28) to logits (B, 1).
    """

    name = "gan-linear"
    paper = PAPER
    description = "linear GAN: multilayer perceptrons, G's layers grow and D's shrink"
    Config = LinearConfig

    def build_networks(self, config, rng):
        g_sizes = [config.z_dim, *config.g_hidden]
        g_layers = []
        for n_in, n_out in zip(g_sizes[:-1], g_sizes[1:]):
            g_layers += with_dropout([Dense(n_in, n_out, rng=rng), ReLU()], config.g_dropout, rng)
        G = Sequential(*g_layers, Dense(g_sizes[-1], SIDE * SIDE, rng=rng), Tanh(), Reshape((1, SIDE, SIDE)))

        d_sizes = [SIDE * SIDE, *config.d_hidden]
        d_layers = [Flatten()]
        for n_in, n_out in zip(d_sizes[:-1], d_sizes[1:]):
            d_layers += with_dropout([Dense(n_in, n_out, rng=rng), LeakyReLU(D_SLOPE)], config.dropout, rng)
        D = Sequential(*d_layers, Dense(d_sizes[-1], 1, rng=rng))
        return G, D


# -- convolutional --------------------------------------------------------------------------


@dataclasses.dataclass
class ConvConfig(ExperimentsConfig):
    """The DCGAN's layers (Table 1) and its filter shape and stride (Table 2)."""

    layers: int = option(2, "convolutions in D and transposed convolutions in G (paper: 2)", min=1)
    channels: int = option(5, "output channels of every convolution (paper: 5)", min=1)
    filter_size: int = option(3, "filter side k (paper: the smallest filter was best)", min=1, max=SIDE)
    stride: int = option(1, "convolution stride (paper: stride 1 was best)", min=1)
    padding: str = option("same", "'same': zero padding (k - 1) // 2; 'valid': none", choices=("same", "valid"))


@dataclasses.dataclass
class ConvPoolConfig(ConvConfig):
    """The DCGAN's settings plus D's max pooling (Table 1)."""

    pool_size: int = option(2, "max-pooling window side in D (paper: 2)", min=1)
    pool_stride: int = option(1, "max-pooling stride in D (paper: 1)", min=1)


def conv_padding(config):
    """Zero padding on each side: (k - 1) // 2 for 'same', 0 for 'valid'."""
    return (config.filter_size - 1) // 2 if config.padding == "same" else 0


def feature_sides(config, pooling):
    """Sides of D's square feature maps: ``[28, after layer 1, ..., after layer L]``.

    With ``pooling`` each layer is a convolution followed by max pooling. Raises MinnetError,
    naming the options, when a stride exceeds its window or a map would vanish.
    """
    k, stride = config.filter_size, config.stride
    if stride > k:
        raise MinnetError(
            f"--stride {stride} is larger than --filter-size {k}: the filters would skip pixels "
            "that D never sees and G never draws"
        )
    if pooling and config.pool_stride > config.pool_size:
        raise MinnetError(
            f"--pool-stride {config.pool_stride} is larger than --pool-size {config.pool_size}: "
            "the pooling would skip pixels"
        )
    pad = conv_padding(config)
    sides = [SIDE]
    for layer in range(1, config.layers + 1):
        side = window_positions(sides[-1], k, stride, pad)
        if pooling and side >= 1:
            side = window_positions(side, config.pool_size, config.pool_stride, 0)
        if side < 1:
            what = "convolution and pooling" if pooling else "convolution"
            raise MinnetError(
                f"--filter-size {k} --stride {stride} --padding {config.padding} with {config.layers} "
                f"layers leave no pixels after {what} {layer} of the 28x28 image "
                f"(sides {' -> '.join(map(str, sides))} -> {max(side, 0)}); "
                "use a smaller filter, stride or number of layers"
            )
        sides.append(side)
    return sides


def conv_discriminator(config, rng, pooling):
    """D: L x [Conv -> LeakyReLU (-> MaxPool) -> Dropout] -> flatten -> Dense 1 logit.

    Input (B, 1, 28, 28), output (B, 1).
    """
    feature_sides(config, pooling)  # refuses, naming the options, settings that leave no pixels
    c, k, stride, pad = config.channels, config.filter_size, config.stride, conv_padding(config)
    layers = []
    for c_in in [1] + [c] * (config.layers - 1):
        hidden = [Conv2d(c_in, c, k, stride, pad, rng=rng), LeakyReLU(D_SLOPE)]
        if pooling:
            hidden.append(MaxPool2d(config.pool_size, config.pool_stride))
        layers += with_dropout(hidden, config.dropout, rng)
    features = Sequential(*layers, Flatten())
    _, n_features = features.output_shape((1, 1, SIDE, SIDE))
    return Sequential(*features.layers, Dense(n_features, 1, rng=rng))


def deconv_generator(config, rng):
    """G: Dense -> ReLU -> reshape -> L transposed convolutions -> tanh, mirroring D's convolutions.

    Input z (B, z_dim), output (B, 1, 28, 28). Transposed convolution ``l`` maps the side of
    D's map after convolution ``l`` back to the side before it; ``output_padding`` adds the
    ``(side + 2 pad - k) mod stride`` rows and columns that the convolution's stride dropped.
    """
    sides = feature_sides(config, pooling=False)
    c, k, stride, pad = config.channels, config.filter_size, config.stride, conv_padding(config)
    layers = with_dropout([Dense(config.z_dim, c * sides[-1] ** 2, rng=rng), ReLU()], config.g_dropout, rng)
    layers.append(Reshape((c, sides[-1], sides[-1])))
    for layer in range(config.layers, 0, -1):
        side_out = sides[layer - 1]
        c_out = c if layer > 1 else 1
        output_padding = (side_out + 2 * pad - k) % stride
        layers.append(Deconv2d(c, c_out, k, stride, pad, output_padding, rng=rng))
        if layer > 1:
            layers += with_dropout([ReLU()], config.g_dropout, rng)
    return Sequential(*layers, Tanh())


class ConvGAN(GANTrainer):
    """Paper 003's DCGAN without pooling (see the module docstring)."""

    name = "gan-conv"
    paper = PAPER
    description = "DCGAN: transposed convolutions in G, convolutions in D, no pooling"
    Config = ConvConfig
    pooling = False

    def build_networks(self, config, rng):
        D = conv_discriminator(config, rng, pooling=self.pooling)  # first: its checks name pooling too
        return deconv_generator(config, rng), D


class ConvPoolGAN(ConvGAN):
    """Paper 003's DCGAN with max pooling in D (see the module docstring)."""

    name = "gan-conv-pool"
    description = "DCGAN with 2x2 stride-1 max pooling after D's convolutions"
    Config = ConvPoolConfig
    pooling = True


# -- LSTM -----------------------------------------------------------------------------------


class ImageToRows(Layer):
    """An image as the sequence of its rows: ``(B, 1, H, W) -> (H, B, W)``, step t = row t.

    Backward transposes the gradient back to ``(B, 1, H, W)``.
    """

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x[:, 0].transpose(1, 0, 2))

    def backward(self, gy):
        return xp_of(gy).ascontiguousarray(gy.transpose(1, 0, 2))[:, None]


class RowsToImage(Layer):
    """A sequence of rows as an image: ``(H, B, W) -> (B, 1, H, W)``; the inverse of ImageToRows."""

    def forward(self, x):
        return xp_of(x).ascontiguousarray(x.transpose(1, 0, 2))[:, None]

    def backward(self, gy):
        return xp_of(gy).ascontiguousarray(gy[:, 0].transpose(1, 0, 2))


class RepeatSteps(Layer):
    """The same input at every step: ``(B, n) -> (T, B, n)``; backward sums over the T steps."""

    def __init__(self, steps):
        super().__init__()
        self.steps = steps

    def forward(self, x):
        return xp_of(x).broadcast_to(x, (self.steps, *x.shape))

    def backward(self, gy):
        return gy.sum(axis=0)  # dL/dx = sum over t of dL/dx_t

    def __repr__(self):
        return f"RepeatSteps({self.steps})"


class LastStep(Layer):
    """The output of the last step: ``(T, B, n) -> (B, n)``; earlier steps get zero gradient."""

    def forward(self, x):
        if self.training:
            self.push(x.shape)
        return x[-1]

    def backward(self, gy):
        (shape,) = self.pop()
        gx = xp_of(gy).zeros(shape, dtype=gy.dtype)
        gx[-1] = gy
        return gx


class EachStep(Layer):
    """Apply ``layer`` to every step of a sequence: ``(T, B, n) -> (T, B, m)``, weights shared.

    The steps are stacked into one batch of T*B rows, so a Dense layer is one matrix product.
    Its parameters are named ``layer.W``, ``layer.b``.
    """

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def sublayers(self):
        return {"layer": self.layer}

    def forward(self, x):
        steps, batch = x.shape[:2]
        y = self.layer.forward(x.reshape(steps * batch, *x.shape[2:]))
        return y.reshape(steps, batch, *y.shape[1:])

    def backward(self, gy):
        steps, batch = gy.shape[:2]
        gx = self.layer.backward(gy.reshape(steps * batch, *gy.shape[2:]))
        return gx.reshape(steps, batch, *gx.shape[1:])

    def __repr__(self):
        return f"EachStep({self.layer!r})"


@dataclasses.dataclass
class LSTMConfig(ExperimentsConfig):
    """The LSTM model's layers (Table 1) and units (Table 2)."""

    layers: int = option(2, "LSTM layers in G and in D (paper: 2)", min=1)
    units: int = option(128, "hidden units of every LSTM layer (paper, Table 2: tuned; value not given)", min=1)


class LSTMGAN(GANTrainer):
    """Paper 003's LSTM model: images as sequences of 28 rows (see the module docstring)."""

    name = "gan-lstm"
    paper = PAPER
    description = "LSTM GAN: G writes and D reads the image one row per step"
    Config = LSTMConfig

    def build_networks(self, config, rng):
        units = config.units
        g_layers = [RepeatSteps(SIDE)]
        for n_in in [config.z_dim] + [units] * (config.layers - 1):
            g_layers += with_dropout([LSTM(n_in, units, rng=rng)], config.g_dropout, rng, batch_axis=1)
        G = Sequential(*g_layers, EachStep(Dense(units, SIDE, rng=rng)), Tanh(), RowsToImage())

        d_layers = [ImageToRows()]
        for n_in in [SIDE] + [units] * (config.layers - 1):
            d_layers += with_dropout([LSTM(n_in, units, rng=rng)], config.dropout, rng, batch_axis=1)
        D = Sequential(*d_layers, LastStep(), Dense(units, 1, rng=rng))
        return G, D
