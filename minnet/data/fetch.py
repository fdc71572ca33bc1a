"""Getting the four verified MNIST files into a directory: from a local folder or the mirrors.

Files already in the destination with the right checksum are kept; a file there with the
wrong checksum is an error, never overwritten. Each new file is installed atomically by
:func:`~minnet.data.install.install_verified`.
"""

import shutil
from functools import partial
from pathlib import Path

from minnet.data import catalog
from minnet.data.checksum import contents_sha256
from minnet.data.download import download
from minnet.data.folder import mnist_files_in, require_full_set, user_cache_dir
from minnet.data.install import install_verified
from minnet.errors import MinnetError


def fetch_mnist(dest=None, *, source_dir=None, mirrors=None):
    """Put the four MNIST files, verified by SHA-256, into ``dest``.

    Parameters
    ----------
    dest : str or os.PathLike, optional
        Destination directory, created if needed (default: the user cache,
        ``$XDG_CACHE_HOME/minnet/mnist`` or ``~/.cache/minnet/mnist``).
    source_dir : str or os.PathLike, optional
        A local folder holding the four files (gzipped or raw) to copy from; without it
        they are downloaded.
    mirrors : sequence of str, optional
        Base URLs tried in order for each file (default: :func:`minnet.data.catalog.mirrors`,
        which ``$MINNET_MNIST_MIRRORS`` overrides).

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    MinnetError
        When the source folder lacks a file, a copy fails verification, every mirror fails
        for a file, or ``dest`` holds a file of the same name with other contents.
    """
    dest = Path(dest) if dest is not None else user_cache_dir()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise MinnetError(f"cannot create the data directory {dest} ({err})") from None
    sources = require_full_set(source_dir, "source folder") if source_dir is not None else None
    mirrors = catalog.mirrors() if mirrors is None else tuple(mirrors)
    for entry in catalog.FILES:
        if _verified_copy_exists(dest, entry):
            continue
        if sources is not None:
            source = sources[entry]
            install_verified(dest, entry, partial(_copy_file, source), source=str(source))
        else:
            _download_from_mirrors(dest, entry, mirrors)
    return dest


def _verified_copy_exists(directory, entry):
    """True when ``directory`` already holds ``entry`` with the right checksum."""
    existing = mnist_files_in(directory).get(entry)
    if existing is None:
        return False
    if contents_sha256(existing) != entry.sha256:
        raise MinnetError(
            f"{existing} exists but is not MNIST's {entry.name} (its SHA-256 differs); "
            "minnet never writes over existing files: move it away and run again"
        )
    return True


def _copy_file(source, file):
    """Copy the bytes of the file at ``source`` into the open binary ``file``."""
    with open(source, "rb") as original:
        shutil.copyfileobj(original, file)


def _download_from_mirrors(directory, entry, mirrors):
    """Install ``entry`` into ``directory`` from the first mirror that serves a verified copy."""
    file_name = entry.names[0]
    if not mirrors:
        raise MinnetError(
            f"cannot download {file_name}: no mirrors to download from "
            f"(is ${catalog.MIRRORS_VARIABLE} set empty?)"
        )
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        try:
            return install_verified(
                directory, entry, partial(download, url, label=file_name), source=url
            )
        except MinnetError as err:
            failures.append(str(err))
    raise MinnetError(f"cannot download {file_name}: {'; '.join(failures)}")
