"""The run's logs: JSON-lines files, one record (a JSON object) per line.

``metrics.jsonl`` and ``epochs.jsonl`` (see :mod:`minnet.training.runner`) grow by one line at a
time; a process killed while appending can leave its last line cut short, which
:func:`read_jsonl` drops.
"""

import json
import os

from minnet.errors import MinnetError
from minnet.fileio import atomic_write


def read_jsonl(path):
    """The records (dicts) of a log written by :func:`append_jsonl`; [] if there is none.

    A last line cut short (the process was killed while appending it) is dropped; any other
    line that is not a JSON object is a MinnetError naming the file and line.
    """
    if not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line for line in f.read().splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as err:
        raise MinnetError(f"cannot read {path}: {err}") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break  # cut short by a kill while it was being written
            record = None
        if not isinstance(record, dict):
            raise MinnetError(f"{path}, line {number}: not a record minnet wrote")
        records.append(record)
    return records


def write_jsonl(path, records):
    """Replace the log at ``path`` with ``records``, atomically."""
    with atomic_write(path) as f:
        f.writelines((json.dumps(r) + "\n").encode() for r in records)


def append_jsonl(path, record):
    """Add one record at the end of the log at ``path``."""
    try:
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")
    except OSError as err:
        raise MinnetError(f"cannot write {path}: {err.strerror or err}") from None
