"""The run directory's lock: one holder at a time, released when its holder lets go."""

import os
import socket

import pytest

from minnet.errors import MinnetError
from minnet.training.lock import LOCK_FILE, RunLock


def test_the_holder_writes_its_pid_and_host(tmp_path):
    with RunLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text() == f"{os.getpid()} {socket.gethostname()}\n"


def test_a_second_open_of_the_lock_is_refused_until_the_first_lets_go(tmp_path):
    with RunLock(tmp_path):  # a second open file description conflicts even in the same process
        with pytest.raises(MinnetError, match=f"being trained by process {os.getpid()} on "):
            with RunLock(tmp_path):
                pass
    with RunLock(tmp_path):  # released: taken again at once, and the stale content replaced
        assert (tmp_path / LOCK_FILE).read_text().split()[0] == str(os.getpid())


def test_a_holder_that_wrote_nothing_yet_is_another_process(tmp_path):
    (tmp_path / LOCK_FILE).write_text("")
    with RunLock(tmp_path):
        os.truncate(tmp_path / LOCK_FILE, 0)  # as between a holder's flock and its write
        with pytest.raises(MinnetError, match="being trained by another process"):
            with RunLock(tmp_path):
                pass


def test_a_directory_that_cannot_be_written_is_one_line(tmp_path):
    with pytest.raises(MinnetError, match="cannot write to"):
        with RunLock(tmp_path / "missing"):
            pass
