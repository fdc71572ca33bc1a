"""The MNIST files in a folder: which a folder holds, reading one part, the user cache's path.

A file counts whether it is stored as ``NAME.gz`` or as raw ``NAME``; which one it really is
gets decided by its first bytes when it is read.
"""

import os
from pathlib import Path

from minnet.data import catalog
from minnet.data.idx import read_images_and_labels
from minnet.errors import MinnetError


def user_cache_dir():
    """``$XDG_CACHE_HOME/minnet/mnist``, or ``~/.cache/minnet/mnist`` when that is unset."""
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "minnet" / "mnist"


def mnist_files_in(directory):
    """The MNIST files present in ``directory``.

    Returns
    -------
    dict
        Maps each :class:`~minnet.data.catalog.MnistFile` found to its path (the gzipped
        name is preferred when both are there). Missing files are absent; a missing
        directory gives an empty dict.
    """
    found = {}
    for entry in catalog.FILES:
        for name in entry.names:
            path = Path(directory) / name
            if os.path.isfile(path):  # unlike Path.is_file, never raises (e.g. no permission)
                found[entry] = path
                break
    return found


def require_full_set(directory, described_as):
    """The files of ``directory`` as :func:`mnist_files_in` gives them, all four of them.

    Parameters
    ----------
    directory : str or os.PathLike
        The folder to look in.
    described_as : str
        How the error message introduces the directory, e.g. ``"MINNET_DATA_DIR"``.

    Raises
    ------
    MinnetError
        When the directory does not exist or lacks any of the files.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise MinnetError(f"{described_as} {directory} does not exist")
    found = mnist_files_in(directory)
    missing = [entry.name + "[.gz]" for entry in catalog.FILES if entry not in found]
    if missing:
        raise MinnetError(
            f"{described_as} {directory} lacks the MNIST file(s) {', '.join(missing)}; "
            f"copy them there or run `minnet data fetch --dest {directory}`"
        )
    return found


def read_part(directory, part):
    """Read the images and labels of ``part`` ("train" or "test") from ``directory``.

    Returns
    -------
    images : numpy.ndarray
        uint8, (N, 28, 28).
    labels : numpy.ndarray
        uint8, (N,).
    """
    files = mnist_files_in(directory)
    return read_images_and_labels(
        files[catalog.file_for(part, "images")], files[catalog.file_for(part, "labels")]
    )
