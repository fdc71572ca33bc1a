"""Keep freed memory for reuse, so that the large arrays of each training step cost no page faults.

A training step allocates and frees the same large arrays over and over (im2col's columns are
25 MB for a 64-channel 14x14 convolution at batch 128). glibc's ``malloc`` hands out blocks
above its *mmap threshold* as fresh pages from the kernel and gives them back on ``free``, and
it trims the top of its heap whenever more than the *trim threshold* lies free there. Either
way the next step writes to new pages, and the kernel zeroes each 4 KiB page on first touch:
on a ``cdcgan`` step (batch 128) that was about 41,600 page faults and 100 ms of 600.

:func:`keep_freed_memory` raises both thresholds with ``mallopt``, so freed blocks stay in the
heap and the next step reuses them: 2 page faults per step and 500 ms. The price is that the
process keeps its peak memory until it exits, which suits a training run. Only glibc has these
settings; elsewhere the call does nothing. :func:`minnet.training.runner.train` makes it.
"""

import ctypes

_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's <malloc.h>
_M_MMAP_THRESHOLD = -3
_LARGEST_MMAP_THRESHOLD = 32 << 20  # glibc's ceiling on 64-bit systems (HEAP_MAX_SIZE / 2)
_TRIM_THRESHOLD = 1 << 30


def keep_freed_memory():
    """Ask glibc to keep freed blocks up to 32 MB (and up to 1 GiB of free heap) for reuse.

    Returns True when the C library accepted both settings, False where it has no ``mallopt``
    (not glibc) or refused them.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):  # no such function; no C library to open (Windows)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, _LARGEST_MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )
