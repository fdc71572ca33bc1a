"""One writer per run directory: an OS file lock on ``RUN/.lock``.

``minnet train`` takes the lock before it writes anything in the run directory and holds it
until it ends. A second ``minnet train`` on the same directory (a ``--resume`` started while
the first still trains, or a new run) cannot take it, and stops with one line naming the
process and host that hold it, instead of writing every epoch's log line and checkpoint a
second time beside the first. Reading a run takes no lock: ``minnet eval``, ``sample`` and
``report`` work on a run while it trains.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the open file, so the operating system
releases it whenever the process ends, killed by SIGKILL included: a killed run can be resumed
at once, and a stale ``.lock`` file (left in place on purpose: deleting it would let a second
process lock a new file while a third still holds the old one) never blocks anyone. Its content,
``<pid> <host>``, only serves the message. flock locks are advisory and local to one machine on
some network file systems (NFS before Linux 2.6.12 among them); minnet targets Linux and macOS.
On Windows, where Python has no ``fcntl``, :class:`RunLock` refuses with a MinnetError rather
than let two writers share a run unnoticed.
"""

import os
import socket

from minnet.errors import MinnetError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_FILE = ".lock"


class RunLock:
    """``with RunLock(run_dir):`` holds the run directory's lock for the block.

    ``run_dir`` must exist. Raises MinnetError when another process holds the lock (naming its
    pid and host), when the directory cannot be written, or where there is no ``fcntl``.
    """

    def __init__(self, run_dir):
        self.path = os.path.join(run_dir, LOCK_FILE)
        self.fd = None

    def __enter__(self):
        if fcntl is None:
            raise MinnetError("minnet train locks its run directory with fcntl, which only Linux and macOS have")
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise MinnetError(f"cannot write to {os.path.dirname(self.path)}: {err.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self.fd, 256).decode(errors="replace").split()
            os.close(self.fd)
            who = f"process {holder[0]} on {holder[1]}" if len(holder) == 2 else "another process"
            raise MinnetError(
                f"{os.path.dirname(self.path)} is being trained by {who}; wait for it to end, or stop it first"
            ) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        return self

    def __exit__(self, *exc):
        os.close(self.fd)  # closing the last descriptor of the open file releases the lock
