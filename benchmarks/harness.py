"""Timing helpers shared by the benchmark scripts.

``time_ms(step, repeats, warmup, synchronize, clock)`` runs ``step`` untimed, at least ``warmup``
times and for at least ``warmup_s`` seconds of wall time (caches, BLAS thread pools, CuPy kernel
compilation, and a GPU's clocks, which take a fraction of a second to rise from idle, so that a few
runs of the first step timed would see it slower), then times ``repeats`` runs one by one
and returns their median in milliseconds. GPU work is queued asynchronously, so ``synchronize`` (for
example :func:`minnet.backend.synchronize` or ``torch.cuda.synchronize``) is called before the
clock starts and before it stops: the time is then that of the work, not of queuing it.
"""

import ctypes
import os
import re
import statistics
import sys
import time

import numpy as np

from minnet import backend
from minnet.speed import threads


def time_ms(step, repeats=20, warmup=3, synchronize=lambda: None, clock=time.perf_counter, warmup_s=0.3):
    """Median time of ``step()`` in milliseconds over ``repeats`` timed runs.

    ``clock`` is wall time by default; ``time.process_time`` (CPU time of this process) instead
    leaves out most of the time spent waiting for other programs, which on a shared machine makes
    single-threaded timings far more repeatable.
    """
    started = time.perf_counter()
    done = 0
    while done < warmup or time.perf_counter() - started < warmup_s:
        step()
        synchronize()
        done += 1
    times = []
    for _ in range(repeats):
        start = clock()
        step()
        synchronize()
        times.append((clock() - start) * 1e3)
    return statistics.median(times)


def gflops(flop, ms):
    """Throughput in GFLOP/s of ``flop`` floating-point operations done in ``ms`` milliseconds."""
    return flop / (ms * 1e-3) / 1e9


def _openblas_function(name):
    """The OpenBLAS C function ``name`` (e.g. "get_corename") that NumPy uses, or None.

    NumPy's wheels bundle OpenBLAS under prefixed and suffixed symbol names
    (``scipy_openblas_get_corename64_``); older builds use the plain ones.
    """
    try:
        with open("/proc/self/maps") as maps:
            paths = set(re.findall(r"(/\S*openblas\S*\.so\S*)", maps.read()))
        for path in paths:
            library = ctypes.CDLL(path)
            for symbol in (
                f"scipy_openblas_{name}64_",
                f"scipy_openblas_{name}",
                f"openblas_{name}64_",
                f"openblas_{name}",
            ):
                if hasattr(library, symbol):
                    return getattr(library, symbol)
    except OSError:  # no /proc (not Linux) or the library cannot be opened again
        pass
    return None


def numpy_blas():
    """A short description of NumPy's BLAS, with the OpenBLAS kernel set when it can be read.

    OpenBLAS picks its kernels for the CPU it detects unless ``OPENBLAS_CORETYPE`` names a set;
    the choice matters: on an AVX-512 CPU the "Haswell" (AVX2) kernels multiply float32
    matrices at about half the speed of the "SkylakeX" ones.
    """
    name = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    get_corename = _openblas_function("get_corename")
    if get_corename is None:
        return name
    get_corename.restype = ctypes.c_char_p
    return f"{name}, kernels for {get_corename().decode()}"


def add_timing_arguments(parser, repeats, unit):
    """The options every benchmark takes: ``--device``, ``--repeats``, ``--threads`` and ``--cpu-time``.

    By default both libraries use their own thread counts (all cores). On a machine shared with
    other work, ``--threads 1 --cpu-time`` gives repeatable numbers: one thread each, timed by
    the CPU time the process used rather than by the wall clock.
    """
    parser.add_argument("--device", choices=backend.DEVICES, default="cpu", help="cpu (NumPy) or gpu (CuPy)")
    parser.add_argument("--repeats", type=int, default=repeats, help=f"timed runs per {unit} (default {repeats})")
    parser.add_argument("--threads", type=int, help="CPU threads for NumPy's BLAS, minnet's copies and torch")
    parser.add_argument("--cpu-time", action="store_true", help="time by process CPU time, not wall time")


def restart_with_blas_threads(n):
    """Run this script again with ``OPENBLAS_NUM_THREADS=n``, unless it already runs so.

    OpenBLAS sizes its thread pool when NumPy loads. Shrinking it afterwards
    (``openblas_set_num_threads``) left the idle threads costing time: on a busy 2-core machine
    one step of ``draw-no-attention`` with ``--threads 1`` took 10.1 s of CPU time (15.9 s wall)
    that way, against 1.1 s with the variable set before NumPy loaded."""
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(n):
        os.environ["OPENBLAS_NUM_THREADS"] = str(n)
        os.execv(sys.executable, [sys.executable, *sys.argv])


def set_up_cpu(args, torch, what):
    """Apply ``--threads``, print how NumPy, minnet and torch run, and return the clock to time with.

    ``torch`` is the module, or None where it is not installed; ``what`` names one timed step.
    """
    if args.threads:
        restart_with_blas_threads(args.threads)
        threads.set_count(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)
    timed_by = "process CPU time" if args.cpu_time else "wall time"
    print(f"float32, median {timed_by} of {args.repeats} {what}")
    coretype = os.environ.get("OPENBLAS_CORETYPE", "(unset)")
    blas_threads = args.threads or "default"
    print(f"numpy {np.__version__} ({numpy_blas()}, {blas_threads} threads); OPENBLAS_CORETYPE={coretype}")
    timeout = os.environ.get("OPENBLAS_THREAD_TIMEOUT", "(unset)")
    print(f"minnet copies on {threads.count()} threads; OPENBLAS_THREAD_TIMEOUT={timeout}")
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    return time.process_time if args.cpu_time else time.perf_counter


def torch_device(torch, device):
    """The torch device to compare minnet's ``device`` with, or None when torch cannot run there."""
    if torch is None:
        return None
    if device == "gpu":
        if not torch.cuda.is_available():
            return None
        # float32 arithmetic on both sides: torch's convolutions default to TF32 tensor cores
        # (10-bit mantissa), while CuPy's float32 matrix products, like torch's, do not use them.
        torch.backends.cudnn.allow_tf32 = False
        return "cuda"
    return "cpu"


def torch_synchronize(torch, against):
    """What to call around torch's timers: ``torch.cuda.synchronize`` on CUDA, else nothing."""
    return torch.cuda.synchronize if against == "cuda" else (lambda: None)
