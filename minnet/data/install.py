"""Putting one verified MNIST file in place, atomically.

The contents are written to a temporary file in the destination directory
(:func:`minnet.fileio.atomic_write`), their SHA-256 is checked, and only then is the file
renamed to its final name: ``NAME.gz`` when the contents are gzipped, ``NAME`` when raw.
Whatever goes wrong, the temporary file is removed, so a failed or corrupt copy leaves nothing
behind.
"""

from pathlib import Path

from minnet.data.checksum import contents_sha256
from minnet.data.idx import is_gzip
from minnet.errors import MinnetError
from minnet.fileio import atomic_write


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
    installed = []

    def verified_destination(temporary):
        digest = contents_sha256(temporary, name=source)
        if digest != entry.sha256:
            raise MinnetError(
                f"{source}: contents have SHA-256 {digest}, not {entry.name}'s {entry.sha256} "
                "(corrupt copy, or not MNIST)"
            )
        installed.append(Path(directory) / (entry.names[0] if is_gzip(temporary) else entry.name))
        return installed[0]

    with atomic_write(Path(directory) / entry.name, destination=verified_destination) as file:
        write_contents(file)
    return installed[0]
