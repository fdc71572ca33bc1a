"""The MPI communicator: mpi4py's COMM_WORLD, on NumPy (host) buffers.

Each method is one MPI collective on contiguous buffers (the upper-case mpi4py calls, which
pass the array's memory to MPI without pickling it). mpi4py is imported by :func:`import_mpi`
only, so that a process no launcher started never loads MPI.
"""

import numpy as np

from minnet.distributed.communicator import Communicator
from minnet.errors import MinnetError


class MPICommunicator(Communicator):
    """Ranks joined by MPI. ``comm`` is an mpi4py ``Comm`` (COMM_WORLD), ``MPI`` the mpi4py
    module; the local rank is this rank's place among those sharing its machine (the
    ``COMM_TYPE_SHARED`` split, which every MPI computes the same way, whatever its launcher)."""

    name = "MPI"

    def __init__(self, comm, MPI):
        self.comm, self.MPI = comm, MPI
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        node = comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()

    def allreduce_sum(self, buffer):
        self.comm.Allreduce(self.MPI.IN_PLACE, _contiguous(buffer), op=self.MPI.SUM)
        return buffer

    def broadcast(self, buffer, root=0):
        self.comm.Bcast(_contiguous(buffer), root=root)
        return buffer

    def allgather(self, rows):
        rows = np.ascontiguousarray(rows)
        gathered = np.empty((self.size * len(rows), *rows.shape[1:]), dtype=rows.dtype)
        self.comm.Allgather(rows, gathered)
        return gathered

    def any(self, flag):
        return bool(self.comm.allreduce(bool(flag), op=self.MPI.LOR))

    def abort(self, code):
        self.comm.Abort(code)


def _contiguous(buffer):
    if not buffer.flags.c_contiguous:
        raise ValueError("a collective works in place on a contiguous buffer")
    return buffer


def import_mpi(launch):
    """The mpi4py ``MPI`` module, for a process started by a launcher (``launch``: a
    :class:`minnet.distributed.launch.Launch`); a MinnetError when mpi4py is missing."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise MinnetError(
            f"started by {launch.launcher}'s launcher, but mpi4py is missing: pip install 'minnet[mpi]'"
        ) from None
    return MPI


def check_size(communicator, launch):
    """A MinnetError when MPI sees another number of ranks than the launcher started: the
    classic sign of an mpi4py built for another MPI than the ``mpiexec`` used (each process then
    believes it is alone, and P copies would train P separate models)."""
    if launch.size is not None and communicator.size != launch.size:
        raise MinnetError(
            f"{launch.launcher} started {launch.size} processes but MPI sees {communicator.size}: "
            "mpi4py was built for another MPI than this mpiexec; use the mpiexec of the same installation"
        )
