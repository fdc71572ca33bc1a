"""SHA-256 of a file's decompressed contents, the checksum MNIST files are verified by."""

import hashlib

from minnet.data.idx import errors_naming, open_contents

CHUNK_SIZE = 1 << 20


def contents_sha256(path, *, name=None):
    """Hex SHA-256 of the contents of ``path`` after gunzipping (if it is gzipped).

    Parameters
    ----------
    path : str or os.PathLike
        The file to hash.
    name : str, optional
        What to call the file in an error message (default: ``path``), e.g. the URL a
        temporary file was downloaded from.

    Raises
    ------
    MinnetError
        When the file cannot be read or its gzip stream is corrupt or truncated.
    """
    digest = hashlib.sha256()
    with errors_naming(name or path), open_contents(path) as stream:
        for chunk in iter(lambda: stream.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()
