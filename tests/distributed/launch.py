"""Running ``minnet train`` on P processes under ``mpiexec`` from a test, and comparing runs."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
try:
    import mpi4py  # noqa: F401

    HAVE_MPI4PY = True
except ImportError:
    HAVE_MPI4PY = False

needs_mpi = pytest.mark.skipif(not (MPIEXEC and HAVE_MPI4PY), reason="mpi4py or mpiexec is missing")

# float32 weights of P = 2 against P = 1 after a few steps: the same arithmetic but for the
# order of the additions of a batch sum, which Adam's division by sqrt(v) can magnify in
# weights whose gradients are tiny.
RTOL, ATOL = 1e-4, 1e-5
TIMEOUT = 120


def environment():
    """One thread per process, no network, the data the suite uses."""
    env = dict(os.environ, MINNET_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MINNET_MNIST_MIRRORS="")
    for name in list(env):
        if name.startswith(("PMI_", "OMPI_", "PMIX_", "MPI_LOCAL")):
            del env[name]  # a test run under a launcher must not pass its rank on
    return env


def train(processes, *args, timeout=TIMEOUT, check=True):
    """``minnet train ARGS`` on ``processes`` ranks (0: without mpiexec); the CompletedProcess."""
    command = [sys.executable, "-m", "minnet", "train", *map(str, args)]
    if processes:
        command = [MPIEXEC, "-n", str(processes), *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment())
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def checkpoint_arrays(run_dir):
    with np.load(os.path.join(run_dir, "checkpoint.npz"), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def assert_same_checkpoint(run_a, run_b, rtol=RTOL, atol=ATOL, loose=(), loose_atol=None):
    """Weights, optimizer state and per-image state to float tolerance (the arrays named in
    ``loose`` to ``loose_atol``); steps, RNG state and integer state exactly."""
    a, b = checkpoint_arrays(run_a), checkpoint_arrays(run_b)
    assert a.keys() == b.keys()
    for name in a:
        if name == "__config__":
            continue
        if a[name].dtype.kind == "f":
            tolerance = {"rtol": 0, "atol": loose_atol} if name in loose else {"rtol": rtol, "atol": atol}
            np.testing.assert_allclose(a[name], b[name], err_msg=name, **tolerance)
        else:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
