"""MNIST for minnet: finding, fetching, verifying, reading, splitting and binarizing it.

>>> import numpy as np
>>> from minnet.data import load_mnist
>>> train = load_mnist("train", binarize="dynamic")
>>> for images, labels in train.batches(100, np.random.default_rng(0)):
...     ...   # images: float32 (100, 28, 28) of 0s and 1s; labels: int64 (100,)

MNIST is looked for in ``data_dir``, then ``$MINNET_DATA_DIR``, then the user cache, then
downloaded into the cache; offline, the bundled sample of 31,000 real digits is used with one
warning (:mod:`minnet.data.locate`). Splits: :mod:`minnet.data.splits`; the sample and how it
was drawn: :mod:`minnet.data.sample` and :mod:`minnet.data.make_sample`.

Modules, one job each: ``catalog`` (file names, checksums, mirrors), ``idx`` (the file format),
``checksum``, ``folder`` (files in a directory, the cache path), ``download``, ``install``
(verify and move atomically), ``fetch``, ``locate``, ``splits``, ``binarize``, ``sample``,
``dataset``, ``load``, ``info``.
"""

from minnet.data.catalog import NUM_CLASSES
from minnet.data.dataset import Dataset
from minnet.data.fetch import fetch_mnist
from minnet.data.info import mnist_info
from minnet.data.load import load_mnist
from minnet.data.locate import locate_mnist
from minnet.data.splits import SPLITS

__all__ = ["NUM_CLASSES", "SPLITS", "Dataset", "fetch_mnist", "load_mnist", "locate_mnist", "mnist_info"]
