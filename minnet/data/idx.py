"""Reading and writing IDX files, the format MNIST comes in, with every field validated.

An IDX file is a header followed by the array's elements in C order::

    bytes 0-1        zero
    byte  2          element type: 0x08 for unsigned bytes (the only one MNIST uses)
    byte  3          number of dimensions, d
    d x 4 bytes      each dimension, big-endian unsigned
    prod(dims) bytes the elements

A file may be gzip-compressed; that is recognised by gzip's magic bytes (``1f 8b``), never by
the file's name. Every problem raises one :class:`~minnet.errors.MinnetError` naming the file.
"""

import contextlib
import gzip
import struct
import zlib

import numpy as np

from minnet.data.catalog import NUM_CLASSES
from minnet.errors import MinnetError

GZIP_MAGIC = b"\x1f\x8b"
UNSIGNED_BYTE = 0x08
IMAGE_SHAPE = (28, 28)


def is_gzip(path):
    """True when the file at ``path`` starts with gzip's magic bytes."""
    with open(path, "rb") as file:
        return file.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def open_contents(path):
    """Open ``path`` for reading its decompressed bytes, whether gzipped or raw."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


@contextlib.contextmanager
def errors_naming(name):
    """Turn I/O and decompression errors raised inside the block into one MinnetError line."""
    try:
        yield
    except (OSError, EOFError, zlib.error) as err:
        raise MinnetError(f"{name}: cannot be read ({err})") from None


def read_idx(path, ndim):
    """Read an IDX file of unsigned bytes with ``ndim`` dimensions.

    Parameters
    ----------
    path : str or os.PathLike
        The file, gzipped or raw.
    ndim : int
        The number of dimensions the file must declare.

    Returns
    -------
    numpy.ndarray
        uint8 array with the shape the header declares (read-only).
    """
    with errors_naming(path), open_contents(path) as stream:
        contents = stream.read()
    if len(contents) < 4:
        raise MinnetError(f"{path}: truncated: {len(contents)} bytes, shorter than an IDX header")
    zeros, dtype_code, n_dims = contents[:2], contents[2], contents[3]
    if zeros != b"\x00\x00":
        raise MinnetError(
            f"{path}: not an IDX file (magic number 0x{contents[:4].hex()}, "
            "expected 0x0000 then type and dimensions)"
        )
    if dtype_code != UNSIGNED_BYTE:
        raise MinnetError(
            f"{path}: element type 0x{dtype_code:02x}, expected 0x08 (unsigned bytes)"
        )
    if n_dims != ndim:
        raise MinnetError(f"{path}: {n_dims} dimensions, expected {ndim}")
    header_size = 4 + 4 * ndim
    if len(contents) < header_size:
        raise MinnetError(f"{path}: truncated inside the header ({len(contents)} bytes)")
    shape = struct.unpack(f">{ndim}I", contents[4:header_size])
    expected, actual = int(np.prod(shape)), len(contents) - header_size
    if actual < expected:
        raise MinnetError(
            f"{path}: truncated: the header promises {expected} bytes of data, "
            f"the file holds {actual}"
        )
    if actual > expected:
        raise MinnetError(
            f"{path}: {actual - expected} unexpected bytes after the {expected} the header promises"
        )
    return np.frombuffer(contents, dtype=np.uint8, offset=header_size).reshape(shape)


def write_idx(path, array, *, compress=False):
    """Write a uint8 ``array`` as an IDX file, gzipped when ``compress``.

    Refuses to replace an existing file (``FileExistsError``).
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UNSIGNED_BYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    contents = header + array.tobytes()
    with open(path, "xb") as file:
        file.write(gzip.compress(contents) if compress else contents)


def read_images(path):
    """Read an IDX file of 28x28 images: uint8 array (N, 28, 28)."""
    images = read_idx(path, ndim=3)
    if images.shape[1:] != IMAGE_SHAPE:
        height, width = images.shape[1:]
        raise MinnetError(f"{path}: images are {height}x{width}, expected 28x28")
    return images


def read_labels(path):
    """Read an IDX file of digit labels: uint8 array (N,) with values 0-9."""
    labels = read_idx(path, ndim=1)
    if labels.size and labels.max() >= NUM_CLASSES:
        raise MinnetError(f"{path}: label {labels.max()} found, labels must be 0-9")
    return labels


def read_images_and_labels(images_path, labels_path):
    """Read a matching pair of image and label files, checking their counts agree."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if len(images) != len(labels):
        raise MinnetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    return images, labels
