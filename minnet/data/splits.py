"""Which rows of which file make each split.

========== ======================= ===============================
split      full set                bundled sample
========== ======================= ===============================
train      first 50,000 training   first 29,000 of its 30,000 training
validation last 10,000 training    last 1,000 of its 30,000 training
train_full all 60,000 training     all 30,000 training
test       the 10,000 test         its 1,000 test
========== ======================= ===============================
"""

from minnet.errors import MinnetError

SPLITS = ("train", "validation", "test", "train_full")

VALIDATION_SIZE = {"full": 10_000, "sample": 1_000}


def check_split(split):
    """Raise MinnetError unless ``split`` is one of :data:`SPLITS`."""
    if split not in SPLITS:
        raise MinnetError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)}")


def part_of(split):
    """The file part a split is taken from: ``"test"`` for the test split, else ``"train"``."""
    return "test" if split == "test" else "train"


def split_rows(split, n_rows, source):
    """The rows of its part (which holds ``n_rows``) that form ``split``.

    Parameters
    ----------
    split : str
        One of :data:`SPLITS`.
    n_rows : int
        How many digits the part's file holds.
    source : str
        ``"full"`` or ``"sample"``, which decides the validation size.

    Returns
    -------
    slice
        With explicit start and stop.
    """
    if split in ("test", "train_full"):
        return slice(0, n_rows)
    n_validation = VALIDATION_SIZE[source]
    if n_rows <= n_validation:
        raise MinnetError(
            f"the training file holds {n_rows} digits, too few to hold out the last "
            f"{n_validation} for validation; use split 'train_full'"
        )
    n_train = n_rows - n_validation
    return slice(0, n_train) if split == "train" else slice(n_train, n_rows)


def split_sizes(n_train_rows, n_test_rows, source):
    """The number of digits in each split, as a dict keyed by split name."""
    n_rows = {"train": n_train_rows, "test": n_test_rows}
    sizes = {}
    for split in SPLITS:
        rows = split_rows(split, n_rows[part_of(split)], source)
        sizes[split] = rows.stop - rows.start
    return sizes
