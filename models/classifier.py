"""The MNIST classifier that judges generated digits: a small LeNet made of minnet layers.

Sample-quality measures (:mod:`minnet.evaluation.metrics`) need a network that knows what digits look
like: its penultimate activations are the feature space of the Fréchet distance ("FID"), its
predictions read the digit a sample shows. This module defines that network, trains it, and
loads the weights shipped beside it (``classifier.npz``).

Architecture (LeCun et al. 1998, with ReLU, max pooling and dropout)::

    x (B, 1, 28, 28)
    -> Conv 5x5, 1 -> 20      (B, 20, 24, 24) -> ReLU -> MaxPool 2   (B, 20, 12, 12)
    -> Conv 5x5, 20 -> 50     (B, 50, 8, 8)   -> ReLU -> MaxPool 2   (B, 50, 4, 4)
    -> Flatten (B, 800) -> Dense 800 -> 128 -> ReLU                  features f (B, 128)
    -> Dropout 0.5 -> Dense 128 -> 10                                logits z (B, 10)

Training minimises the softmax cross-entropy
``L = -(1/B) sum_b log softmax(z_b)[y_b]`` with Adam, on all 60,000 training images, each
batch shifted by up to ``shift`` pixels in both directions (a digit moved by two pixels is
the same digit), with the learning rate decayed per epoch: ``lr_e = lr * lr_decay^e``.

Reproduce the shipped weights with::

    python -m minnet.models.classifier --epochs 10 --out models/classifier.npz
"""

import argparse
import dataclasses
import os
import sys
import time

import numpy as np

from minnet import backend
from minnet.data import NUM_CLASSES, load_mnist
from minnet.errors import MinnetError
from minnet.evaluation.metrics import in_batches
from minnet.layers.activations import ReLU
from minnet.layers.base import Sequential, evaluating
from minnet.layers.conv import Conv2d
from minnet.layers.dense import Dense
from minnet.layers.dropout import Dropout
from minnet.layers.pooling import MaxPool2d
from minnet.layers.shape import Flatten
from minnet.losses import softmax_cross_entropy
from minnet.models.base import config_from_dict
from minnet.optim import Adam
from minnet.training.checkpoint import load_checkpoint, save_checkpoint
from minnet.training.progress import ProgressBar, format_seconds

SHIPPED_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "classifier.npz")
IMAGE_SIZE = 28


@dataclasses.dataclass
class ClassifierConfig:
    """Architecture and training settings; all of them are stored in the checkpoint."""

    channels: tuple = (20, 50)
    """Output channels of the two convolutions."""
    kernel: int = 5
    """Side of the square convolution kernels."""
    hidden: int = 128
    """Width of the penultimate layer: the dimension D of the features."""
    dropout: float = 0.5
    """Drop probability before the last layer, in training only."""
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    lr_decay: float = 0.8
    """The learning rate of epoch e (from 0) is ``lr * lr_decay**e``."""
    shift: int = 2
    """Training images move by up to this many pixels along each axis (0: no augmentation)."""


def build_networks(config, rng):
    """The two halves of the classifier: ``(body, head)``.

    ``body`` maps images (B, 1, 28, 28) to the features (B, hidden); ``head`` maps those to
    the logits (B, 10). Convolutions start He-normal (they feed ReLUs), the last layer
    Glorot-uniform.
    """
    c1, c2 = config.channels
    k = config.kernel
    convolutions = [
        Conv2d(1, c1, k, init="he", rng=rng),
        ReLU(),
        MaxPool2d(2),
        Conv2d(c1, c2, k, init="he", rng=rng),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
    ]
    _, n_flat = Sequential(*convolutions).output_shape((1, 1, IMAGE_SIZE, IMAGE_SIZE))
    body = Sequential(*convolutions, Dense(n_flat, config.hidden, init="he", rng=rng), ReLU())
    head = Sequential(Dropout(config.dropout, rng=rng), Dense(config.hidden, NUM_CLASSES, rng=rng))
    return body, head


class Classifier:
    """A trained (or training) MNIST classifier; a :class:`minnet.evaluation.metrics.FeatureExtractor`.

    Parameters
    ----------
    config : ClassifierConfig
    rng : numpy.random.Generator or int, optional
        Draws the initial weights and the dropout masks.

    Attributes
    ----------
    network : Sequential
        ``Sequential(body, head)``, the whole classifier (what the optimizer and the
        checkpoint see); ``body`` ends at the features, ``head`` makes the logits.
    info : dict
        The JSON of the checkpoint it was loaded from (config, seed, test accuracy); empty
        for a classifier that was not loaded.
    """

    def __init__(self, config, rng=None):
        self.config = config
        self.body, self.head = build_networks(config, np.random.default_rng(rng))
        self.network = Sequential(self.body, self.head)
        self.info = {}

    def features(self, images):
        """Penultimate activations ``f = ReLU(Dense(conv layers(x)))`` in evaluation mode.

        ``images`` NumPy (N, 28, 28) in [0, 1] -> NumPy float32 (N, D), D = ``config.hidden``.
        """
        return _inference(self.body, images)

    def logits(self, images):
        """Unnormalised class scores, NumPy (N, 10), for ``images`` (N, 28, 28)."""
        return _inference(self.network, images)

    def predict(self, images):
        """The most likely digit ``argmax_k z_k`` of each image: NumPy int64 (N,)."""
        return self.logits(images).argmax(axis=1)

    def accuracy(self, images, labels):
        """Fraction of ``images`` (N, 28, 28) predicted as their ``labels`` (N,)."""
        return float(np.mean(self.predict(images) == np.asarray(labels)))


def _inference(network, images, batch_size=500):
    """``network`` in evaluation mode over ``images`` (N, 28, 28), a slice at a time; NumPy out."""
    with evaluating(network):
        return in_batches(lambda batch: network.forward(as_network_input(batch)), images, batch_size)


def as_network_input(images):
    """NumPy (B, 28, 28) -> float32 (B, 1, 28, 28) on the current device."""
    images = np.asarray(images, dtype=np.float32)
    return backend.to_device(images.reshape(len(images), 1, IMAGE_SIZE, IMAGE_SIZE))


def random_shifts(images, max_shift, rng):
    """Move each image (B, H, W) by its own random offset in ``[-max_shift, max_shift]``^2.

    The images are padded with ``max_shift`` zeros (background) on every side and a window of
    the original size is cut out at a random position: ``out[b, i, j] = pad[b, dy_b + i, dx_b + j]``.
    """
    if max_shift == 0:
        return images
    count, height, width = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, count))
    rows = dy[:, None, None] + np.arange(height)[None, :, None]  # (B, H, 1)
    cols = dx[:, None, None] + np.arange(width)[None, None, :]  # (B, 1, W)
    return padded[np.arange(count)[:, None, None], rows, cols]


def train_step(classifier, optimizer, images, labels):
    """One Adam step on the cross-entropy of a batch; returns the loss before the step.

    ``L = -(1/B) sum_b log softmax(z_b)[y_b]``, back-propagated from ``dL/dz = (softmax(z) - onehot(y)) / B``.
    """
    logits = classifier.network.forward(as_network_input(images))
    loss, grad_logits = softmax_cross_entropy(logits, backend.to_device(labels))
    classifier.network.backward(grad_logits)
    optimizer.step()
    return float(loss)


def train_classifier(dataset, config, seed=0, on_epoch=None):
    """Train a :class:`Classifier` on ``dataset`` (a :class:`minnet.data.Dataset`).

    The seed fixes everything random: the initial weights, the dropout masks, the batch order
    and the shifts, so the same seed on the same device gives the same weights.

    Parameters
    ----------
    dataset : Dataset
        Grey-level images (N, 28, 28) and their labels.
    config : ClassifierConfig
    seed : int
    on_epoch : callable (epoch, mean_loss, classifier) -> None, optional
        Called after each epoch (epochs count from 1).

    Returns
    -------
    classifier : Classifier
    epoch_losses : list of float
        The mean training loss of each epoch.
    """
    rng = np.random.default_rng(seed)
    classifier = Classifier(config, rng)
    optimizer = Adam(classifier.network, lr=config.lr)
    epoch_losses = []
    for epoch in range(config.epochs):
        optimizer.lr = config.lr * config.lr_decay**epoch
        bar = ProgressBar(len(dataset) // config.batch_size, f"epoch {epoch + 1}/{config.epochs}")
        losses = []
        for images, labels in dataset.batches(config.batch_size, rng):
            losses.append(train_step(classifier, optimizer, random_shifts(images, config.shift, rng), labels))
            bar.update({"loss": losses[-1]})
        bar.close()
        epoch_losses.append(float(np.mean(losses)))
        if on_epoch is not None:
            on_epoch(epoch + 1, epoch_losses[-1], classifier)
    return classifier, epoch_losses


def save_classifier(path, classifier, **facts):
    """Write the weights and the config (plus ``facts``: seed, test accuracy, ...) to ``path``."""
    save_checkpoint(path, classifier.network.state_dict(), {**dataclasses.asdict(classifier.config), **facts})


def load_classifier(path=SHIPPED_WEIGHTS):
    """The classifier saved at ``path`` (default: the weights shipped with minnet), its
    ``info`` set to the checkpoint's JSON. Raises MinnetError when the file is missing,
    corrupt, or not a classifier."""
    arrays, info = load_checkpoint(path)
    classifier = Classifier(config_from_dict(ClassifierConfig, info))
    try:
        classifier.network.load_state_dict(arrays)
    except (KeyError, ValueError) as err:
        raise MinnetError(f"{path} does not hold classifier weights: {err}") from None
    classifier.info = info
    return classifier


def main(argv=None):
    """``python -m minnet.models.classifier --epochs E --out PATH``: train, test, save."""
    parser = argparse.ArgumentParser(
        prog="python -m minnet.models.classifier",
        description="Train the MNIST classifier used by minnet's sample-quality metrics.",
    )
    defaults = ClassifierConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--out", required=True, help="where to write the weights (.npz)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", help="directory holding the four MNIST files")
    parser.add_argument("--device", choices=backend.DEVICES, default="cpu")
    args = parser.parse_args(argv)
    try:
        train_and_save(args)
    except MinnetError as err:
        parser.exit(2, f"error: {err}\n")


def train_and_save(args):
    """Train on the 60,000 training images, report test accuracy each epoch, save the result."""
    backend.use(args.device)
    config = dataclasses.replace(ClassifierConfig(), epochs=args.epochs)
    train = load_mnist("train_full", data_dir=args.data_dir)
    test = load_mnist("test", data_dir=args.data_dir)
    print(f"training on {len(train):,} {train.source} images, testing on {len(test):,}; {config}")
    started = time.perf_counter()

    def report(epoch, loss, classifier):
        accuracy = classifier.accuracy(test.images, test.labels)
        elapsed = format_seconds(time.perf_counter() - started)
        print(f"epoch {epoch}/{config.epochs}  {elapsed}  loss {loss:.4f}  test accuracy {accuracy:.4f}", flush=True)

    classifier, _ = train_classifier(train, config, seed=args.seed, on_epoch=report)
    seconds = time.perf_counter() - started
    accuracy = classifier.accuracy(test.images, test.labels)
    save_classifier(
        args.out, classifier, seed=args.seed, test_accuracy=accuracy, train_seconds=round(seconds, 1),
        data={"train": len(train), "test": len(test), "source": train.source},
    )  # fmt: skip
    print(f"test accuracy {accuracy:.4f} after {format_seconds(seconds)}; wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
