"""One writer per run directory: minnet train locks --out; eval, sample and report read a run
that another process holds."""

import json
import signal
import socket
import subprocess
import sys

import pytest

from tests.cli.conftest import assert_user_error

FAST = ["--limit", 256, "--batch-size", 64, "--log-every", 1]
HOLD = """
import sys, time
from minnet.training.lock import RunLock
with RunLock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def hold_lock():
    """``hold_lock(run_dir)``: a process that holds ``run_dir``'s lock (returned once it does)."""
    holders = []

    def hold(run_dir):
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
        holders.append(holder)
        assert holder.stdout.readline() == "locked\n"
        return holder

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()


def _train(minnet_cli, *args):
    result = minnet_cli("train", "gan", *args)
    assert result.exit_code == 0, result.output
    return result


def _epochs_logged(run_dir):
    return [json.loads(line)["epoch"] for line in (run_dir / "epochs.jsonl").read_text().splitlines()]


def test_a_second_writer_is_refused_with_the_holders_pid_and_host(minnet_cli, tmp_path, hold_lock):
    _train(minnet_cli, "--epochs", 1, "--out", "run", *FAST)
    holder = hold_lock(tmp_path / "run")
    refused = minnet_cli("train", "gan", "--out", "run", "--resume", "--epochs", 2)
    assert_user_error(refused, "run is being trained by", f"process {holder.pid} on {socket.gethostname()}")
    assert _epochs_logged(tmp_path / "run") == [1]

    (tmp_path / "fresh").mkdir()
    hold_lock(tmp_path / "fresh")
    assert_user_error(minnet_cli("train", "gan", "--out", "fresh", *FAST), "fresh is being trained by")
    assert sorted(p.name for p in (tmp_path / "fresh").iterdir()) == [".lock"]


def test_a_run_whose_trainer_was_killed_can_be_trained_at_once(minnet_cli, tmp_path, hold_lock):
    _train(minnet_cli, "--epochs", 1, "--out", "run", *FAST)
    holder = hold_lock(tmp_path / "run")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    _train(minnet_cli, "--out", "run", "--resume", "--epochs", 2)
    assert _epochs_logged(tmp_path / "run") == [1, 2]


def test_eval_sample_and_report_read_a_run_while_it_is_held(minnet_cli, tmp_path, hold_lock):
    _train(minnet_cli, "--epochs", 1, "--out", "runs/gan", *FAST)
    hold_lock(tmp_path / "runs/gan")
    sampled = minnet_cli("sample", "runs/gan", "--n", 4, "--out", "s.npy")
    assert sampled.exit_code == 0, sampled.output
    evaluated = minnet_cli("eval", "runs/gan", "--n", 50, "--importance-images", 10)
    assert evaluated.exit_code == 0, evaluated.output
    assert (tmp_path / "runs/gan/eval.json").is_file()
    reported = minnet_cli("report", "runs", "--out", "report")
    assert reported.exit_code == 0, reported.output
    assert (tmp_path / "report/index.html").is_file()
