"""The four MNIST files: their names, SHA-256 checksums, and the mirrors they are fetched from.

Checksums are of the *decompressed* contents, so a file verifies whether it is stored gzipped
or raw. Code reads ``catalog.FILES`` at call time, which lets tests substitute small files.
"""

import os
from dataclasses import dataclass

NUM_CLASSES = 10  # the digits 0-9: the labels every MNIST file holds


@dataclass(frozen=True)
class MnistFile:
    """One file of the MNIST set.

    Attributes
    ----------
    part : str
        ``"train"`` (60,000 digits) or ``"test"`` (10,000 digits).
    kind : str
        ``"images"`` or ``"labels"``.
    name : str
        The standard file name, without ``.gz``.
    sha256 : str
        Hex SHA-256 of the decompressed contents.
    """

    part: str
    kind: str
    name: str
    sha256: str

    @property
    def names(self):
        """The names this file may have on disk, gzipped form first."""
        return (self.name + ".gz", self.name)


FILES = (
    MnistFile(
        "train",
        "images",
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    MnistFile(
        "train",
        "labels",
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    MnistFile(
        "test",
        "images",
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    MnistFile(
        "test",
        "labels",
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
)

DEFAULT_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

MIRRORS_VARIABLE = "MINNET_MNIST_MIRRORS"


def file_for(part, kind):
    """The :class:`MnistFile` holding ``kind`` ("images" or "labels") of ``part``."""
    for entry in FILES:
        if entry.part == part and entry.kind == kind:
            return entry
    raise KeyError((part, kind))


def mirrors():
    """The base URLs to download from, in order of preference.

    ``$MINNET_MNIST_MIRRORS`` (URLs separated by spaces or commas) replaces the defaults;
    set it empty to never download.
    """
    value = os.environ.get(MIRRORS_VARIABLE)
    if value is None:
        return DEFAULT_MIRRORS
    return tuple(value.replace(",", " ").split())
