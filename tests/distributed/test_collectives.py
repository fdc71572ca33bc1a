"""The MPI communicator's collectives, on two processes under mpiexec."""

import os
import subprocess
import sys

from tests.distributed.launch import MPIEXEC, environment, needs_mpi


@needs_mpi
def test_mpi_collectives_sum_send_gather_and_agree():
    script = os.path.join(os.path.dirname(__file__), "collectives.py")
    done = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, script], capture_output=True, text=True, timeout=60, env=environment()
    )
    assert done.returncode == 0, done.stderr
    for rank in (0, 1):  # (mpiexec may pass the two ranks' lines on in either order, run together)
        assert f"rank {rank}: collectives agree" in done.stdout
