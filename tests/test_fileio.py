import os

import pytest

from minnet.errors import MinnetError
from minnet.fileio import atomic_write


def test_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as f:
        f.write(b"first")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("crash in the middle")
    assert target.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["out.bin"]
    assert oct(target.stat().st_mode & 0o777) != oct(0o600)  # not left private like mkstemp's files


def test_missing_directory(tmp_path):
    with pytest.raises(MinnetError, match="does not exist"), atomic_write(tmp_path / "nope" / "x"):
        pass
