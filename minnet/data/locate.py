"""Finding MNIST: the look-up order, and the fallback to the bundled sample.

1. the ``data_dir`` argument (``--data-dir``): must hold the files, else an error;
2. ``$MINNET_DATA_DIR``: likewise must hold them when set;
3. the user cache, ``$XDG_CACHE_HOME/minnet/mnist`` (``~/.cache/minnet/mnist``);
4. a download into the cache from the mirrors (see :mod:`minnet.data.fetch`);
5. the bundled sample, with one :class:`~minnet.errors.MinnetWarning`: a single short line
   saying what happened, what is used instead and how to get the full set.
"""

import os
import warnings

from minnet.data import catalog
from minnet.data.fetch import fetch_mnist
from minnet.data.folder import mnist_files_in, require_full_set, user_cache_dir
from minnet.data.sample import TRAIN_DIGITS
from minnet.errors import MinnetError, MinnetWarning

DATA_DIR_VARIABLE = "MINNET_DATA_DIR"


def find_full_set(data_dir=None):
    """The first directory in look-up order (1-3 above) holding the four MNIST files.

    Returns
    -------
    directory : str or None
        Absolute path; None when neither is set and the cache lacks some of the files.
    found_via : str or None
        ``"data_dir"``, ``"MINNET_DATA_DIR"`` or ``"cache"``.

    Raises
    ------
    MinnetError
        When ``data_dir`` or ``$MINNET_DATA_DIR`` is given but lacks the files.
    """
    if data_dir is not None:
        require_full_set(data_dir, "the data directory")
        return os.path.abspath(data_dir), "data_dir"
    from_environment = os.environ.get(DATA_DIR_VARIABLE)
    if from_environment:
        require_full_set(from_environment, DATA_DIR_VARIABLE)
        return os.path.abspath(from_environment), DATA_DIR_VARIABLE
    cache = user_cache_dir()
    if len(mnist_files_in(cache)) == len(catalog.FILES):
        return str(cache), "cache"
    return None, None


def locate_mnist(data_dir=None, *, download=True):
    """Where to read MNIST from, following the look-up order above.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        A directory that must hold the four files (gzipped or raw).
    download : bool
        Try the mirrors when the files are nowhere to be found.

    Returns
    -------
    directory : str or None
        The directory of the full set, or None for the bundled sample.
    source : str
        ``"full"`` or ``"sample"``.

    Warns
    -----
    MinnetWarning
        One, when falling back to the bundled sample.
    """
    directory, _found_via = find_full_set(data_dir)
    if directory is not None:
        return directory, "full"
    if download:
        try:
            return str(fetch_mnist()), "full"
        except MinnetError:  # why each mirror failed is for `minnet data fetch` to say
            what_happened = "MNIST is not on this machine and could not be downloaded"
    else:
        what_happened = "MNIST is not on this machine (downloading was not allowed)"
    warnings.warn(
        f"{what_happened}; using the {TRAIN_DIGITS:,} digits bundled with minnet instead "
        f"(for all 60,000: `minnet data fetch` when online, or set {DATA_DIR_VARIABLE})",
        MinnetWarning,
        stacklevel=2,
    )
    return None, "sample"
