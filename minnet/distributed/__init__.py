"""Data-parallel training: P processes train the one model a single process would train.

``mpiexec -n P minnet train MODEL --batch-size B`` starts P copies of minnet ("ranks"). Each
holds the whole model and the whole training set, and every step:

1. **The data.** Every rank makes the same epoch order (seeded by the run's seed and the
   epoch) and so the same global batch of B images; rank r takes rows ``r B/P .. (r+1) B/P``.
2. **The randomness.** Noise, dropout masks, Langevin noise, pixel orders are drawn for the
   *whole* global batch from the trainer's generator on every rank, and each rank keeps its
   rows (:mod:`minnet.distributed.batch`). The generators therefore stay in step, and rank r's
   rows get exactly the numbers one process would have given them.
3. **The gradient.** Each rank back-propagates the mean loss over its B/P images. The
   one-process gradient is that of the mean over all B, which is the mean of the P ranks'
   means. So the optimizer sums its flat gradient buffer over the ranks with **one allreduce**
   and divides by P (:meth:`minnet.optim.Optimizer.reduce_gradients`), *before* its NaN check
   and clipping: every rank then sees the same gradient, clips it alike, stops alike, and
   applies the same update to the same weights, which therefore never drift apart.
4. **Batch normalisation** sums its statistics over the ranks (an allreduce of its per-channel
   sums in forward, of its two per-channel gradient sums in backward), so it normalises with
   the global batch's mean and variance, as one process does.
5. **Per-image state** (CSGM's codes, ABP's Z) is updated by the rank holding the image; after
   the step the updated rows are gathered to every rank (:mod:`minnet.training.data_parallel`).
6. **The logs** (losses, which are batch means) are averaged over the ranks into the global
   batch's, and the ranks agree whether to stop (a Ctrl-C) in the same small allreduce.

Rank 0 alone writes the checkpoint, logs, figures and progress bar. What it writes does not
depend on P, so a run can be resumed with any number of processes.

What is exact and what is not: the arithmetic is the same up to the order of floating-point
additions (a sum over B split into P partial sums), so weights agree with one process's to
float32 rounding, which grows slowly over many steps as with any change of summation order.

Which communicator: a process no launcher started uses :class:`SingleProcess` and never
imports mpi4py; a launched one joins the others over MPI (:mod:`minnet.distributed.mpi`), and
with ``--device gpu`` sums device buffers with NCCL (:mod:`minnet.distributed.nccl`).
"""

from minnet.distributed import launch
from minnet.distributed.communicator import Communicator, SingleProcess
from minnet.errors import MinnetError

_world = SingleProcess()


def world():
    """This process's :class:`Communicator`: :class:`SingleProcess` until :func:`start`."""
    return _world


def start(device="cpu", environ=None):
    """Join the other ranks if a launcher started this process; returns the communicator.

    Without a launcher nothing happens (mpi4py is not imported). With one, the MPI
    communicator, or for ``device == "gpu"`` the NCCL one (which also makes this rank's GPU
    current). Called once, before anything is put on a device.
    """
    global _world
    found = launch.detect(environ)
    if found is None:
        return _world
    from minnet.distributed import mpi

    MPI = mpi.import_mpi(found)
    if device == "gpu":
        from minnet.distributed import nccl

        _world = nccl.NCCLCommunicator(MPI.COMM_WORLD, MPI, nccl.import_cupy_nccl())
    else:
        _world = mpi.MPICommunicator(MPI.COMM_WORLD, MPI)
    mpi.check_size(_world, found)
    return _world


def use(communicator):
    """Make ``communicator`` this process's world (tests; :func:`start` for real runs)."""
    global _world
    _world = communicator


__all__ = ["Communicator", "MinnetError", "SingleProcess", "start", "use", "world"]
