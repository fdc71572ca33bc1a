"""Reproduce the bundled sample ``mnist_sample.npz`` from the full MNIST set::

    python -m minnet.data.make_sample --from DIR [--out PATH]

The four files in DIR are first verified by SHA-256, so the sample is always real MNIST. Then,
with ``rng = numpy.random.default_rng(0)`` used in exactly this order:

1. for each digit 0, 1, ..., 9: ``rng.choice`` picks 3,000 of the training rows with that label,
   without replacement; the first 2,900 picked go to the sample's training part, the last 100
   to its validation part;
2. for each digit 0, 1, ..., 9: ``rng.choice`` picks 100 of the test rows with that label;
3. ``rng.permutation`` shuffles the training part, then the validation part, then the test
   rows.

The sample's training array is the shuffled training part followed by the shuffled validation
part (so its last 1,000 digits, the sample's validation split, hold 100 of each class). The file
stores, compressed with ``numpy.savez_compressed``:

================ ================== =====================================================
array            dtype, shape       contents
================ ================== =====================================================
train_images     uint8 (30000,28,28) training digits
train_labels     uint8 (30000,)     their labels
test_images      uint8 (1000,28,28) test digits
test_labels      uint8 (1000,)      their labels
train_indices    uint16 (30000,)    the row of ``train-images-idx3-ubyte`` each came from
test_indices     uint16 (1000,)     the row of ``t10k-images-idx3-ubyte`` each came from
================ ================== =====================================================
"""

import argparse

import numpy as np

from minnet.data.catalog import NUM_CLASSES
from minnet.data.checksum import contents_sha256
from minnet.data.folder import read_part, require_full_set
from minnet.data.sample import SAMPLE_PATH
from minnet.errors import MinnetError
from minnet.fileio import atomic_write

SEED = 0
PER_CLASS = {"train": 2_900, "validation": 100, "test": 100}


def draw_indices(train_labels, test_labels, seed=SEED):
    """The rows of the full set's files that make the sample, as described above.

    Parameters
    ----------
    train_labels, test_labels : numpy.ndarray
        The labels of the full training and test files.
    seed : int
        Seeds the one generator all draws come from.

    Returns
    -------
    train_indices, test_indices : numpy.ndarray
        uint16 rows, in the order the sample stores them.
    """
    rng = np.random.default_rng(seed)
    n_train_per_class = PER_CLASS["train"] + PER_CLASS["validation"]
    picked_train = [
        rng.choice(np.flatnonzero(train_labels == digit), n_train_per_class, replace=False)
        for digit in range(NUM_CLASSES)
    ]
    picked_test = [
        rng.choice(np.flatnonzero(test_labels == digit), PER_CLASS["test"], replace=False)
        for digit in range(NUM_CLASSES)
    ]
    training_part = np.concatenate([rows[: PER_CLASS["train"]] for rows in picked_train])
    validation_part = np.concatenate([rows[PER_CLASS["train"] :] for rows in picked_train])
    train_indices = np.concatenate(
        [rng.permutation(training_part), rng.permutation(validation_part)]
    )
    test_indices = rng.permutation(np.concatenate(picked_test))
    return train_indices.astype(np.uint16), test_indices.astype(np.uint16)


def make_sample(source_dir, out=SAMPLE_PATH):
    """Verify the full set in ``source_dir``, draw the sample and write it to ``out``."""
    for entry, path in require_full_set(source_dir, "source folder").items():
        if contents_sha256(path) != entry.sha256:
            raise MinnetError(f"{path} is not MNIST's {entry.name} (its SHA-256 differs)")
    train_images, train_labels = read_part(source_dir, "train")
    test_images, test_labels = read_part(source_dir, "test")
    train_indices, test_indices = draw_indices(train_labels, test_labels)
    with atomic_write(out) as file:
        np.savez_compressed(
            file,
            train_images=train_images[train_indices],
            train_labels=train_labels[train_indices],
            test_images=test_images[test_indices],
            test_labels=test_labels[test_indices],
            train_indices=train_indices,
            test_indices=test_indices,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m minnet.data.make_sample",
        description="Draw minnet's bundled MNIST sample from the full set.",
    )
    parser.add_argument(
        "--from", dest="source_dir", required=True, help="folder with the four MNIST files"
    )
    parser.add_argument("--out", default=str(SAMPLE_PATH), help="where to write the .npz")
    args = parser.parse_args(argv)
    try:
        make_sample(args.source_dir, args.out)
    except MinnetError as err:
        parser.exit(2, f"make_sample: error: {err}\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
