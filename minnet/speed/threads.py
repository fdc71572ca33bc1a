"""Spread NumPy's single-threaded data movements over the CPU's cores.

NumPy runs every copy and element-wise operation on one core, while its BLAS runs the matrix
products on all of them. In a convolution the copies of im2col and col2im then take a third of
a step on two cores, idle half the machine meanwhile. NumPy releases the GIL inside such loops,
so the same operation applied to disjoint slices of an array runs truly in parallel from Python
threads; :func:`for_each_range` does that.

It pays only if the cores are free between matrix products. OpenBLAS keeps its idle threads
spinning for ``2**OPENBLAS_THREAD_TIMEOUT`` cycles after each product (28 by default: about a
tenth of a second), so ``import minnet`` sets that to 16 unless it is set already. It must
happen before NumPy is first imported; afterwards the copies still run in parallel but gain
little. On the benchmark Conv2d (B=128, 64 -> 128 channels, k=4, s=2, two cores) a training
step took 30.9 ms on one thread, 30.8 ms on two with the default timeout and 27.1 ms on two
with the timeout at 16.

The number of threads is, in this order: :func:`set_count`, ``$MINNET_NUM_THREADS``,
``$OMP_NUM_THREADS``, ``$OPENBLAS_NUM_THREADS`` (the setting a user gives BLAS holds for these
copies too), else the number of CPUs this process may run on.
"""

import concurrent.futures
import os

MIN_ELEMENTS = 1 << 16  # the least work worth a thread: about 20 us of copying

_count = None
_pool = None  # the worker threads, count() - 1 of them: the calling thread works too
_pool_pid = None  # the process that made _pool: a forked child inherits the object, not its threads


def _count_from_environment():
    for name in ("MINNET_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def count():
    """How many threads :func:`for_each_range` uses."""
    global _count
    if _count is None:
        _count = _count_from_environment()
    return _count


def set_count(n):
    """Use ``n`` threads from now on (1: run everything on the calling thread)."""
    global _count, _pool
    if n < 1:
        raise ValueError(f"the thread count must be at least 1, got {n}")
    if _pool is not None:
        _pool.shutdown()
        _pool = None
    _count = n


def for_each_range(function, length, item_size=1):
    """Call ``function(start, stop)`` on consecutive ranges covering ``range(length)``, in parallel.

    ``item_size`` is the number of array elements one index of the range stands for. The ranges
    are as equal as possible, one per thread, each of at least ``MIN_ELEMENTS`` elements: below
    that, handing work to a thread costs more than it saves. ``function`` must write only to its
    own range, and must not call ``for_each_range`` itself. Exceptions raised by any call
    propagate.
    """
    parts = max(1, min(count(), length, length * item_size // MIN_ELEMENTS))
    if parts == 1:
        function(0, length)
        return
    bounds = [length * i // parts for i in range(parts + 1)]
    ranges = list(zip(bounds[:-1], bounds[1:], strict=True))
    futures = [_workers().submit(function, start, stop) for start, stop in ranges[1:]]
    try:
        function(*ranges[0])  # the calling thread takes the first range itself
    finally:
        concurrent.futures.wait(futures)  # nothing may still be writing when this returns
    for future in futures:
        future.result()


def _workers():
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid():
        _pool = concurrent.futures.ThreadPoolExecutor(count() - 1, thread_name_prefix="minnet")
        _pool_pid = os.getpid()
    return _pool
