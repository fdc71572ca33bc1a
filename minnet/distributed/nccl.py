"""The GPU communicator: NCCL collectives on device (CuPy) buffers, MPI for everything else.

One process per GPU. Setting up, in this order (each step needs the one before):

1. **MPI** joins the processes (:class:`~minnet.distributed.mpi.MPICommunicator`) and gives
   each its local rank: its place among the processes on its machine.
2. **The GPU** is chosen from the local rank, ``local_rank % GPUs on the machine``, and made
   current *before* anything touches CUDA, so that every array and the NCCL communicator of
   this process live on that device and not all on GPU 0.
3. **A unique id**: rank 0 asks NCCL for one (``nccl.get_unique_id()``), and MPI broadcasts it;
   NCCL has no way of its own to find the other processes.
4. **The NCCL communicator** is made by every rank with (P, id, rank); the call returns once all
   P have made theirs.

Then a collective on a CuPy array is an NCCL call on the current stream, and on a NumPy array
(losses to log, the stop flag) an MPI call, as in :class:`MPICommunicator`.
"""

import numpy as np

from minnet.distributed.mpi import MPICommunicator
from minnet.errors import MinnetError


def nccl_type(nccl, dtype):
    """NCCL's name of the element type ``dtype``."""
    types = {np.float32: nccl.NCCL_FLOAT32, np.float64: nccl.NCCL_FLOAT64, np.int64: nccl.NCCL_INT64}
    return types[np.dtype(dtype).type]


class NCCLCommunicator(MPICommunicator):
    """See the module docstring. ``cupy`` is the CuPy module (a fake one in tests)."""

    name = "NCCL"

    def __init__(self, comm, MPI, cupy):
        super().__init__(comm, MPI)  # 1. MPI and the local rank
        self.cupy = cupy
        self.device = self.local_rank % cupy.cuda.runtime.getDeviceCount()
        cupy.cuda.Device(self.device).use()  # 2. this process's GPU, before any CUDA work
        nccl = cupy.cuda.nccl
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = comm.bcast(unique_id, root=0)  # 3. rank 0's id, sent over MPI
        self.nccl = nccl.NcclCommunicator(self.size, unique_id, self.rank)  # 4. all P join

    def _on_device(self, array):
        return not isinstance(array, np.ndarray)

    def _stream(self):
        return self.cupy.cuda.get_current_stream().ptr

    def allreduce_sum(self, buffer):
        if not self._on_device(buffer):
            return super().allreduce_sum(buffer)
        nccl = self.cupy.cuda.nccl
        kind = nccl_type(nccl, buffer.dtype)
        self.nccl.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, kind, nccl.NCCL_SUM, self._stream())
        return buffer

    def broadcast(self, buffer, root=0):
        if not self._on_device(buffer):
            return super().broadcast(buffer, root)
        kind = nccl_type(self.cupy.cuda.nccl, buffer.dtype)
        self.nccl.bcast(buffer.data.ptr, buffer.size, kind, root, self._stream())
        return buffer

    def allgather(self, rows):
        if not self._on_device(rows):
            return super().allgather(rows)
        rows = self.cupy.ascontiguousarray(rows)
        gathered = self.cupy.empty((self.size * len(rows), *rows.shape[1:]), dtype=rows.dtype)
        kind = nccl_type(self.cupy.cuda.nccl, rows.dtype)
        self.nccl.allGather(rows.data.ptr, gathered.data.ptr, rows.size, kind, self._stream())
        return gathered


def import_cupy_nccl():
    """The CuPy module, with its NCCL binding ``cupy.cuda.nccl`` loaded; a MinnetError when CuPy
    is missing or cannot find the NCCL library."""
    try:
        import cupy
    except ImportError:
        raise MinnetError("the GPU needs CuPy: pip install 'minnet[gpu]'") from None
    try:
        from cupy.cuda import nccl
    except ImportError:
        nccl = None
    if nccl is None or not getattr(nccl, "available", True):
        raise MinnetError("--device gpu under mpiexec needs NCCL: pip install nvidia-nccl-cu12 (or the system's NCCL)")
    return cupy
