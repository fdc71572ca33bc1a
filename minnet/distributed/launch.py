"""Was this process started by an MPI launcher, and as which rank? Read from the environment.

``mpiexec -n P prog`` starts P copies of ``prog`` and tells each, in environment variables,
which one it is. Reading them lets minnet decide whether to use MPI at all *without importing
mpi4py*: a plain ``minnet train`` never loads MPI. The launchers minnet knows:

==================  =====================  ======================  ===========================
launcher            rank                   size                    rank on this machine
==================  =====================  ======================  ===========================
MPICH (Hydra),      ``PMI_RANK``           ``PMI_SIZE``            ``MPI_LOCALRANKID``
Intel MPI
Open MPI            ``OMPI_COMM_WORLD_     ``OMPI_COMM_WORLD_      ``OMPI_COMM_WORLD_
                    RANK``                 SIZE``                  LOCAL_RANK``
PMIx (prterun,      ``PMIX_RANK``          (MPI tells)             ``PMIX_LOCAL_RANK``
srun --mpi=pmix)
==================  =====================  ======================  ===========================

How many ranks share this machine (``MPI_LOCALNRANKS``, ``OMPI_COMM_WORLD_LOCAL_SIZE``) sets
the default number of CPU threads of each process (:func:`threads_per_process`).
"""

import dataclasses
import os

# (rank, size, local rank, local size) variables of each launcher; None where it has none
LAUNCHERS = {
    "MPICH/Hydra": ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    "Open MPI": ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                 "OMPI_COMM_WORLD_LOCAL_SIZE"),
    "PMIx": ("PMIX_RANK", None, "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE"),
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Launch:
    """What the launcher told this process; a field is None where the launcher does not say."""

    launcher: str
    rank: int
    size: int | None
    local_rank: int | None
    local_size: int | None


def detect(environ=None):
    """The :class:`Launch` of this process, or None when no MPI launcher started it."""
    environ = os.environ if environ is None else environ
    for launcher, names in LAUNCHERS.items():
        if names[0] in environ:
            rank, size, local_rank, local_size = (_integer(environ, name) for name in names)
            return Launch(launcher, rank, size, local_rank, local_size)
    return None


def _integer(environ, name):
    value = environ.get(name, "") if name else ""
    return int(value) if value.strip().isdigit() else None


THREAD_VARIABLES = ("MINNET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def share_cores(environ):
    """Give each of the processes a launcher put on this machine its share of the cores: set
    ``OPENBLAS_NUM_THREADS`` and ``MINNET_NUM_THREADS`` in ``environ`` to
    :func:`threads_per_process`, unless the user set a thread count (as torchrun does). Called by
    ``import minnet``, before NumPy loads OpenBLAS."""
    if any(environ.get(name) for name in THREAD_VARIABLES):
        return
    threads = threads_per_process(environ)
    if threads is not None:
        environ["OPENBLAS_NUM_THREADS"] = environ["MINNET_NUM_THREADS"] = str(threads)


def threads_per_process(environ=None, cpus=None):
    """CPU threads for each of the processes a launcher put on this machine: the CPUs shared
    out among them (at least 1), or None when not launched or the launcher does not say how
    many share the machine. P processes of all the cores each would fight over them."""
    launch = detect(environ)
    if launch is None or not launch.local_size:
        return None
    cpus = cpus or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    return max(1, cpus // launch.local_size)
