"""Faults under mpiexec: every rank ends, with the failing rank's one-line message, never a hang."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np

from tests.distributed.launch import MPIEXEC, environment, needs_mpi, train

pytestmark = needs_mpi

GAN = ["gan", "--hidden", "16,32", "--limit", 64, "--batch-size", 32]
WITHIN = 60  # seconds: far more than a failing run needs, far less than a hang


def test_a_batch_that_two_processes_cannot_share_is_refused_before_training(tmp_path):
    done = train(2, *GAN[:-1], 33, "--out", tmp_path / "run", check=False, timeout=WITHIN)
    assert done.returncode == 2
    assert "--batch-size 33 cannot be shared by 2 processes: choose a multiple of 2" in done.stderr
    assert not (tmp_path / "run" / "checkpoint.npz").exists()


def test_an_error_on_rank_1_alone_ends_both_ranks_with_its_message(tmp_path):
    """Rank 1 is given a data directory without MNIST (mpiexec's MPMD form: one command per
    rank); rank 0 waits for it in the first collective and must be ended too."""
    empty = tmp_path / "empty"
    empty.mkdir()
    command = [sys.executable, "-m", "minnet", "train", *map(str, GAN), "--out", str(tmp_path / "run")]
    started = time.monotonic()
    done = subprocess.run(
        [MPIEXEC, "-n", "1", *command, ":", "-n", "1", *command, "--data-dir", str(empty)],
        capture_output=True, text=True, timeout=WITHIN, env=environment(),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"minnet: error: rank 1 of 2: the data directory {empty} lacks the MNIST file(s)" in done.stderr
    assert "Traceback" not in done.stderr
    assert time.monotonic() - started < WITHIN


def test_a_nan_stops_every_rank_alike(tmp_path):
    """The gradient is summed before the NaN check, so every rank finds the same NaN (and the
    first to end the job may leave the other no time to say so too)."""
    done = train(2, *GAN, "--lr", 1e30, "--out", tmp_path / "run", check=False, timeout=WITHIN)
    assert done.returncode == 2
    assert re.search(r"rank [01] of 2: training stopped in epoch 1, step 1: the gradient of \S+ is NaN", done.stderr)


def test_a_damaged_checkpoint_ends_every_rank_in_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"not a checkpoint")
    done = train(2, *GAN, "--out", run, "--resume", check=False, timeout=WITHIN)
    assert done.returncode == 2
    assert "is not a readable minnet checkpoint" in done.stderr and "Traceback" not in done.stderr


def _rank_pid(marker, rank):
    """The pid of the rank ``rank`` started by :func:`_start_long_run` with ``marker``, or None."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                variables = f.read().split(b"\0")
        except OSError:
            continue
        if f"MINNET_TEST_RUN={marker}".encode() in variables and f"PMI_RANK={rank}".encode() in variables:
            return int(pid)
    return None


def _start_long_run(run, marker, *options):
    """Two ranks training for far longer than a test, with ``marker`` in their environment."""
    env = dict(environment(), MINNET_TEST_RUN=marker)
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "minnet", "train", *map(str, GAN), "--epochs", "1000"]
    command += list(map(str, options))
    return subprocess.Popen([*command, "--out", str(run)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip


def _wait_for(path, process, seconds=WITHIN, holding=""):
    """Until ``path`` exists (and holds the text ``holding``), while ``process`` runs."""
    deadline = time.monotonic() + seconds
    while not (path.exists() and holding in path.read_text(errors="replace")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"no {path} after {seconds} s"
        time.sleep(0.2)


def _position(run):
    with np.load(run / "checkpoint.npz") as archive:
        return json.loads(archive["__config__"].item())["position"]


def test_a_rank_killed_ends_the_job_and_the_run_resumes_from_its_last_checkpoint(tmp_path):
    run, marker = tmp_path / "run", str(tmp_path)
    job = _start_long_run(run, marker)
    try:
        _wait_for(run / "checkpoint.npz", job)
        os.kill(_rank_pid(marker, 1), signal.SIGKILL)
        job.wait(timeout=WITHIN)
    finally:
        if job.poll() is None:
            job.kill()
        job.communicate()
    assert job.returncode != 0
    kept = _position(run)["epoch"]
    train(0, "gan", "--out", run, "--resume", "--epochs", kept + 1, timeout=WITHIN)
    assert _position(run)["epoch"] == kept + 1


def test_ctrl_c_saves_once_and_stops_every_rank_after_the_same_step(tmp_path):
    """The Ctrl-C comes in the middle of epoch 2, not while rank 0 draws figures: an epoch of 1,000
    steps lasts seconds even on a quiet machine, where one of 100 steps (a fraction of a second) let
    the signal arrive after the epoch's checkpoint, while the figures were drawn (that Ctrl-C ends
    the ranks through MPI_Abort, with the checkpoint already saved)."""
    run = tmp_path / "run"
    job = _start_long_run(run, str(tmp_path), "--limit", 32000, "--log-every", 5)
    try:
        _wait_for(run / "metrics.jsonl", job, holding='"epoch": 2')  # past the figures of epoch 1
        job.send_signal(signal.SIGINT)  # mpiexec passes it on to every rank
        stdout, stderr = job.communicate(timeout=WITHIN)
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode == 130, stderr
    assert stdout.count("interrupted in epoch") == 1 and stderr.count("minnet: interrupted") == 1
    assert "Traceback" not in stderr and "Abort" not in stderr
    stopped = _position(run)
    assert 0 < stopped["step"] < 1000
    train(2, "gan", "--out", run, "--resume", "--epochs", stopped["epoch"] + 1, timeout=WITHIN)
    assert _position(run)["epoch"] == stopped["epoch"] + 1
