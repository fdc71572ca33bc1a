"""Checkpoints: named arrays plus a JSON config in one ``.npz`` file.

Written atomically: the archive goes to a temporary file in the destination directory, is
flushed to disk, and is renamed over the target only when complete, so an interrupted save
never leaves a half-written checkpoint where a good one was.

Read with ``allow_pickle=False``: a checkpoint holds plain numeric arrays and one JSON string,
nothing that could run code. Anything else — a truncated file, random bytes, an ``.npz`` that
is not a minnet checkpoint — raises :class:`~minnet.errors.MinnetError` naming the file.
"""

import json
import os
import tempfile
import zipfile

import numpy as np

from minnet.errors import MinnetError

FORMAT = "minnet-checkpoint-1"
_CONFIG_KEY = "__config__"
_FORMAT_KEY = "__format__"


def save_checkpoint(path, arrays, config):
    """Write ``arrays`` (name -> NumPy array) and ``config`` (JSON-able dict) to ``path``."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    reserved = {_CONFIG_KEY, _FORMAT_KEY} & set(arrays)
    if reserved:
        raise ValueError(f"array names {sorted(reserved)} are reserved")
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    payload[_CONFIG_KEY] = np.asarray(json.dumps(config))
    payload[_FORMAT_KEY] = np.asarray(FORMAT)
    try:
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    except OSError as err:
        raise MinnetError(f"cannot write a checkpoint in {directory}: {err.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_checkpoint(path):
    """Read a checkpoint; returns ``(arrays, config)`` with NumPy arrays and a dict."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise MinnetError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if archive.get(_FORMAT_KEY, np.asarray("")).item() != FORMAT:
                raise MinnetError(f"{path} is not a minnet checkpoint")
            config = json.loads(archive[_CONFIG_KEY].item())
            arrays = {k: archive[k] for k in archive.files if k not in (_CONFIG_KEY, _FORMAT_KEY)}
    except MinnetError:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, json.JSONDecodeError):
        raise MinnetError(f"{path} is not a readable minnet checkpoint (truncated or corrupt)") from None
    return arrays, config
