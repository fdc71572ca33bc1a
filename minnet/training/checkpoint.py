"""Checkpoints: named arrays plus a JSON config in one ``.npz`` file.

Written atomically (:func:`minnet.fileio.atomic_write`): an interrupted save never leaves a
half-written checkpoint where a good one was.

Read with ``allow_pickle=False``: a checkpoint holds plain numeric arrays and one JSON string,
nothing that could run code. Anything else — a truncated file, random bytes, an ``.npz`` that
is not a minnet checkpoint — raises :class:`~minnet.errors.MinnetError` naming the file.
"""

import json
import os
import zipfile

import numpy as np

from minnet.errors import MinnetError
from minnet.fileio import atomic_write

FORMAT = "minnet-checkpoint-1"
_CONFIG_KEY = "__config__"
_FORMAT_KEY = "__format__"


def save_checkpoint(path, arrays, config):
    """Write ``arrays`` (name -> NumPy array) and ``config`` (JSON-able dict) to ``path``."""
    reserved = {_CONFIG_KEY, _FORMAT_KEY} & set(arrays)
    if reserved:
        raise ValueError(f"array names {sorted(reserved)} are reserved")
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    payload[_CONFIG_KEY] = np.asarray(json.dumps(config))
    payload[_FORMAT_KEY] = np.asarray(FORMAT)
    with atomic_write(path) as file:
        np.savez(file, **payload)


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
    if not isinstance(config, dict):
        raise MinnetError(f"{path} is not a readable minnet checkpoint (its settings are not a JSON object)")
    return arrays, config
