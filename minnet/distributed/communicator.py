"""What data-parallel training asks of the processes it runs on, and the one-process answer.

A :class:`Communicator` is this process's view of the P processes ("ranks") training one
model together. Training needs six things of it, each called by every rank at the same point
(a *collective*: a rank that does not call it leaves the others waiting):

``allreduce_sum(buffer)``
    Replace ``buffer`` (a 1-d array) by the element-wise sum of every rank's ``buffer``, in
    place. The optimizer sums its flat gradient buffer this way once per step.
``broadcast(buffer, root=0)``
    Replace ``buffer`` on every rank by root's, in place.
``allgather(rows)``
    Every rank's ``rows`` (n, ...) stacked in rank order: (P n, ...). Per-image state (the
    codes of the images each rank just updated) travels this way.
``any(flag)``
    True on every rank if ``flag`` is true on any: an agreement, e.g. to stop after this step.
``abort(code)``
    End every rank at once, with exit status ``code`` (an error on one rank must not leave
    the others waiting forever in a collective).

and says who this process is: ``rank`` (0..P-1), ``size`` (P) and ``local_rank`` (its place
among the ranks on its own machine, which picks its GPU).

:class:`SingleProcess` is the communicator of an ordinary ``minnet train``: P = 1, and every
collective returns its input, so the code of one process and of P processes is the same.
The MPI one is :class:`minnet.distributed.mpi.MPICommunicator`, and the GPU one
:class:`minnet.distributed.nccl.NCCLCommunicator`.
"""

import sys


class Communicator:
    """The interface (see the module docstring); subclasses implement every method."""

    rank = 0
    size = 1
    local_rank = 0
    name = ""  # for messages: "one process", "MPI", "NCCL"

    def allreduce_sum(self, buffer):
        raise NotImplementedError

    def broadcast(self, buffer, root=0):
        raise NotImplementedError

    def allgather(self, rows):
        raise NotImplementedError

    def any(self, flag):
        raise NotImplementedError

    def abort(self, code):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size}, local_rank={self.local_rank})"


class SingleProcess(Communicator):
    """One process alone: the sum of one buffer is itself, and nothing waits on anyone."""

    name = "one process"

    def allreduce_sum(self, buffer):
        return buffer

    def broadcast(self, buffer, root=0):
        return buffer

    def allgather(self, rows):
        return rows

    def any(self, flag):
        return bool(flag)

    def abort(self, code):
        sys.exit(code)
