"""Data-parallel scaling: images per second of each model's training step on 1 and 2 processes.

    python benchmarks/scaling.py [--models NAME ...] [--steps N] [--cores N] [--cpu-time]

For each model at its default settings and batch size B (the global batch), one run of:

* ``1 x 1``: one process, one thread;
* ``1 x C``: one process using all C cores (threads for BLAS and minnet's copies);
* ``2 x C/2``: ``mpiexec -n 2``, each process C/2 threads and B/2 images, on the same cores.

A step is what ``minnet train`` does for one global batch on every rank
(:mod:`minnet.training.data_parallel`): its share of the batch, ``train_step`` (one allreduce of the
flat gradient buffer per optimizer step, batch-norm sums), the per-image state gathered, and the
logs averaged. Its median wall time over ``--steps`` steps (after one to warm up) gives images
per second; rank 0 also counts the bytes it allreduced and gathered per step and the seconds it
spent inside those calls (which include waiting for the slower rank). Then a two-process
allreduce of a million float32 numbers, the median of 10.

The machine is measured as it is: on a shared machine other programs take cores too, so run it
when the machine is quiet, and read one run's numbers side by side rather than across runs.
There, ``--cpu-time`` times each step by the CPU time of the process (rank 0's) instead, which
leaves out most of the waiting for other programs; MPICH's collectives poll rather than sleep,
so the time a rank waits for the other still counts. The CPU time of ``1 x C`` is that of all
its threads together: only wall time compares it with the others.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import minnet  # noqa: F401  # isort: skip  # before NumPy: sets OpenBLAS's thread timeout
import numpy as np

from minnet import distributed
from minnet.data import NUM_CLASSES, Dataset
from minnet.models import TRAINERS, build
from minnet.training import data_parallel

MILLION = 1_000_000


class TimedCommunicator(distributed.Communicator):
    """Another communicator's collectives, with the bytes they carried and the time they took."""

    def __init__(self, inner):
        self.inner = inner
        self.rank, self.size, self.local_rank, self.name = inner.rank, inner.size, inner.local_rank, inner.name
        self.bytes = 0
        self.seconds = 0.0

    def _timed(self, call, array):
        started = time.perf_counter()
        result = call(array)
        self.seconds += time.perf_counter() - started
        self.bytes += array.nbytes
        return result

    def allreduce_sum(self, buffer):
        return self._timed(self.inner.allreduce_sum, buffer)

    def allgather(self, rows):
        return self._timed(self.inner.allgather, rows)

    def broadcast(self, buffer, root=0):
        return self.inner.broadcast(buffer, root)

    def any(self, flag):
        return self.inner.any(flag)

    def abort(self, code):
        self.inner.abort(code)


def worker_step(model):
    """Time ``--steps`` global steps of ``model`` on this rank; rank 0 prints one JSON line."""
    communicator = TimedCommunicator(distributed.start())
    distributed.use(communicator)
    trainer = build(model, {}, seed=0)
    batch = trainer.config.batch_size
    rng = np.random.default_rng(0)
    images = rng.random((batch, 28, 28), dtype=np.float32)
    labels = rng.integers(0, NUM_CLASSES, size=batch)
    indices = np.arange(batch)
    trainer.prepare(Dataset(images, labels, split="benchmark", source="random", location="-"))
    data_parallel.attach(trainer, communicator)

    def step():
        x, y, own = data_parallel.own_share(images, labels, indices)
        logs = trainer.train_step(x, y, own)
        data_parallel.share_per_example(trainer, indices)
        data_parallel.agree(logs, False)

    step()  # warm up
    communicator.bytes, communicator.seconds = 0, 0.0
    times = []
    clock = time.process_time if ARGS.cpu_time else time.perf_counter
    for _ in range(ARGS.steps):
        started = clock()
        step()
        times.append(clock() - started)
    if communicator.rank == 0:
        print(json.dumps({
            "batch": batch, "seconds": statistics.median(times), "bytes": communicator.bytes / ARGS.steps,
            "communicating": communicator.seconds / ARGS.steps,
        }))  # fmt: skip


def worker_allreduce():
    """Median seconds of a sum of a million float32 over the ranks; rank 0 prints them."""
    communicator = distributed.start()
    buffer = np.ones(MILLION, dtype=np.float32)
    communicator.allreduce_sum(buffer)
    times = []
    for _ in range(10):
        started = time.perf_counter()
        communicator.allreduce_sum(buffer)
        times.append(time.perf_counter() - started)
    if communicator.rank == 0:
        print(json.dumps({"seconds": statistics.median(times), "processes": communicator.size}))


def launch(processes, threads, *worker):
    """Run this script as a worker on ``processes`` ranks of ``threads`` threads; its JSON line."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "MINNET_NUM_THREADS": str(threads)}
    command = [sys.executable, os.path.abspath(__file__), "--steps", str(ARGS.steps), *worker]
    command += ["--cpu-time"] if ARGS.cpu_time else []
    if processes > 1:
        command = [MPIEXEC, "-n", str(processes), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    cores = ARGS.cores
    half = max(1, cores // 2)
    timed_by = "process CPU time" if ARGS.cpu_time else "wall time"
    print(f"{timed_by}, median of {ARGS.steps} steps; {cores} cores; global batch = each model's default")
    print(f"| model | B | 1 x 1 img/s | 1 x {cores} img/s | 2 x {half} img/s | time 2 x {half} / 1 x 1 "
          "| MB summed per step | s communicating per step |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ARGS.models:
        alone = launch(1, 1, "--worker", model)
        wide = launch(1, cores, "--worker", model)
        two = launch(2, half, "--worker", model)
        rate = {name: run["batch"] / run["seconds"] for name, run in (("1", alone), ("C", wide), ("2", two))}
        print(
            f"| {model} | {alone['batch']} | {rate['1']:.0f} | {rate['C']:.0f} | {rate['2']:.0f} "
            f"| {two['seconds'] / alone['seconds']:.2f} | {two['bytes'] / 1e6:.2f} | {two['communicating']:.4f} |",
            flush=True,
        )
    reduced = launch(2, half, "--allreduce")
    print(f"allreduce of {MILLION:,} float32 over 2 processes: {reduced['seconds'] * 1e3:.2f} ms (median of 10)")


MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(TRAINERS), choices=list(TRAINERS))
    parser.add_argument("--steps", type=int, default=5, help="timed steps per run (after one to warm up)")
    parser.add_argument("--cores", type=int, default=len(os.sched_getaffinity(0)), help="cores to share out")
    parser.add_argument("--cpu-time", action="store_true", help="time steps by process CPU time, not wall time")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--allreduce", action="store_true", help=argparse.SUPPRESS)
    ARGS = parser.parse_args()
    if ARGS.worker:
        worker_step(ARGS.worker)
    elif ARGS.allreduce:
        worker_allreduce()
    else:
        if MPIEXEC is None:
            raise SystemExit("mpiexec is missing: pip install 'minnet[mpi]'")
        main()
