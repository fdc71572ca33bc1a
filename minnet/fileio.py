"""Writing files so that a crash never leaves a half-written one behind.

:func:`atomic_write` hands out a temporary file in the destination's directory; only when the
block finishes without error is the data flushed to disk and the file renamed over the
destination (``os.replace`` is atomic within a file system). On any error, Ctrl-C included,
the temporary file is removed and the destination is untouched. A ``destination`` callback
may check the written file first, and choose its final name from what it holds.
"""

import contextlib
import os
import tempfile

from minnet.errors import MinnetError


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path, destination=None):
    """``with atomic_write(path) as f: f.write(...)``: a binary file that replaces ``path`` at the end.

    ``destination``, if given, is called with the written temporary file's path once the block
    is done; it may raise to reject the contents (the file is then removed), and returns the
    path the file is moved to instead of ``path`` (in the same directory).

    Raises :class:`MinnetError` naming ``path`` when its directory does not exist, or when
    creating, writing or renaming the file fails (no permission, a full disk, ``path`` is a
    directory).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise MinnetError(f"cannot write {path}: directory {directory} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:
        raise MinnetError(f"cannot write {path}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        final = path if destination is None else destination(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes files private; use the usual mode
        os.replace(temporary, final)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise MinnetError(f"cannot write {path}: {error.strerror or error}") from None
        raise
