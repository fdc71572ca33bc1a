"""Putting one verified MNIST file in place, atomically.

The contents are written to a temporary file in the destination directory, their SHA-256 is
checked, and only then is the file renamed (``os.replace``) to its final name: ``NAME.gz`` when
the contents are gzipped, ``NAME`` when raw. Whatever goes wrong, the temporary file is removed,
so a failed or corrupt copy leaves nothing behind.
"""

import os
import tempfile
from pathlib import Path

from minnet.data.checksum import contents_sha256
from minnet.data.idx import is_gzip
from minnet.errors import MinnetError

FILE_MODE = 0o644


def install_verified(directory, entry, write_contents, *, source):
    """Write, verify and move one MNIST file into ``directory``.

    Parameters
    ----------
    directory : pathlib.Path
        Existing destination directory.
    entry : minnet.data.catalog.MnistFile
        Which file this is (its name and expected checksum).
    write_contents : callable
        ``write_contents(file)`` writes the bytes, gzipped or raw, into a binary file object.
    source : str
        Where the bytes come from (a URL or a path), for error messages.

    Returns
    -------
    pathlib.Path
        The installed file.

    Raises
    ------
    MinnetError
        When writing fails or the contents do not have the expected SHA-256.
    """
    try:
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{entry.name}.", suffix=".part")
    except OSError as err:
        raise MinnetError(f"cannot write in {directory}: {err.strerror or err}") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write_contents(file)
        digest = contents_sha256(temporary, name=source)
        if digest != entry.sha256:
            raise MinnetError(
                f"{source}: contents have SHA-256 {digest}, not {entry.name}'s {entry.sha256} "
                "(corrupt copy, or not MNIST)"
            )
        final = Path(directory) / (entry.names[0] if is_gzip(temporary) else entry.name)
        os.chmod(temporary, FILE_MODE)  # mkstemp made it private; data files are for reading
        os.replace(temporary, final)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):  # a full disk, a failing rename: one line, not a traceback
            raise MinnetError(f"cannot install {entry.name} in {directory}: {error.strerror or error}") from None
        raise
    return final
