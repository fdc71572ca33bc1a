"""minnet train / sample / models end to end on a few hundred images."""

import json
import os
import signal

import numpy as np
import pytest

from minnet.models import restore
from minnet.models.handwritten_digits import MLPGAN
from minnet.training.checkpoint import load_checkpoint
from tests.cli.conftest import assert_user_error

FAST = ["--limit", 256, "--batch-size", 64, "--log-every", 1]


def _train(minnet_cli, *args):
    result = minnet_cli("train", *args)
    assert result.exit_code == 0, result.output
    return result


def test_models_lists_every_model(minnet_cli):
    result = minnet_cli("models")
    assert result.exit_code == 0
    assert "gan " in result.output and "cdcgan" in result.output and "paper 004" in result.output


def test_train_writes_the_run_directory(minnet_cli, tmp_path):
    result = _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    assert "epoch 1/1" in result.output
    run = tmp_path / "run"
    for name in ["checkpoint.npz", "metrics.jsonl", "epochs.jsonl", "samples/epoch-001.png",
                 "samples-by-epoch.png", "samples-by-epoch.gif", "losses.png", "confidence.png"]:
        assert (run / name).is_file(), name
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_fake_held_out"} <= set(records[0])
    _, meta = load_checkpoint(run / "checkpoint.npz")
    assert meta["model"] == "gan" and meta["position"]["epoch"] == 1


def test_sample_png_and_npy(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    assert minnet_cli("sample", "run", "--n", 16, "--out", "grid.png").exit_code == 0
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert minnet_cli("sample", "run/checkpoint.npz", "--n", 7, "--out", "s.npy").exit_code == 0
    samples = np.load(tmp_path / "s.npy")
    assert samples.shape == (7, 28, 28) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1
    assert not (tmp_path / "s.labels.npy").exists()


def test_conditional_samples_carry_labels(minnet_cli, tmp_path):
    _train(minnet_cli, "cdcgan", "--epochs", 1, "--out", "run", "--limit", 128, "--batch-size", 64)
    assert minnet_cli("sample", "run", "--per-class", 3, "--out", "c.npy").exit_code == 0
    labels = np.load(tmp_path / "c.labels.npy")
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 3))
    assert np.load(tmp_path / "c.npy").shape == (30, 28, 28)
    assert minnet_cli("sample", "run", "--label", 7, "--n", 4, "--out", "seven.npy").exit_code == 0
    np.testing.assert_array_equal(np.load(tmp_path / "seven.labels.npy"), [7, 7, 7, 7])
    assert_user_error(minnet_cli("sample", "run", "--per-class", 3, "--n", 500), "--n or --per-class")


def _weights(path):
    arrays, _ = load_checkpoint(path)
    return arrays


def _assert_same_run(a, b):
    wa, wb = _weights(a), _weights(b)
    assert set(wa) == set(wb)
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


def test_resume_after_an_epoch_equals_uninterrupted(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "whole", "--stable", *FAST)
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "split", "--stable", *FAST)
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "split", "--resume")
    _assert_same_run(tmp_path / "whole/checkpoint.npz", tmp_path / "split/checkpoint.npz")


def test_resume_can_lower_the_learning_rate_and_records_when(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "whole", *FAST)
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "split", *FAST)
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "split", "--resume", "--lr", 1e-5)
    trainer, meta, _ = restore(tmp_path / "split")
    assert meta["config"]["lr"] == 1e-5 and meta["lr_changes"] == [{"epoch": 1, "step": 0, "lr": 1e-5}]
    assert {name: opt.lr for name, opt in trainer.optimizers.items()} == {"G": 1e-5, "D": 1e-5}
    whole, split = _weights(tmp_path / "whole/checkpoint.npz"), _weights(tmp_path / "split/checkpoint.npz")
    assert not all(np.array_equal(whole[name], split[name]) for name in whole)  # the second epoch took other steps


def test_resume_with_the_same_learning_rate_records_no_change(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    lr = restore(tmp_path / "run")[1]["config"]["lr"]
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "run", "--resume", "--lr", lr)
    assert "lr_changes" not in restore(tmp_path / "run")[1]


def _on_call(monkeypatch, method, n, action):
    """Make ``MLPGAN.<method>`` run ``action()`` before its ``n``-th call; returns the original."""
    original = getattr(MLPGAN, method)
    calls = []

    def patched(self, *args):
        calls.append(args)
        if len(calls) == n:
            action()
        return original(self, *args)

    monkeypatch.setattr(MLPGAN, method, patched)
    return original


def _raise_keyboard_interrupt():
    raise KeyboardInterrupt


def test_ctrl_c_in_the_middle_of_a_step_waits_for_its_end(minnet_cli, tmp_path, monkeypatch):
    """A real SIGINT after D's update but before G's: the step finishes, then the run stops."""
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "whole", *FAST)

    # the second epoch's second step, between its D and G updates
    original = _on_call(monkeypatch, "generator_step", 6, lambda: os.kill(os.getpid(), signal.SIGINT))
    result = minnet_cli("train", "gan", "--epochs", 2, "--out", "split", *FAST)
    assert result.exit_code == 130
    position = load_checkpoint(tmp_path / "split/checkpoint.npz")[1]["position"]
    assert (position["epoch"], position["step"], position["global_step"]) == (1, 2, 6)
    monkeypatch.setattr(MLPGAN, "generator_step", original)
    _train(minnet_cli, "gan", "--out", "split", "--resume")
    _assert_same_run(tmp_path / "whole/checkpoint.npz", tmp_path / "split/checkpoint.npz")


def test_resume_accepts_the_settings_it_started_with(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", "--hidden", "40,60", "--seed", 3, *FAST)
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "run", "--hidden", "40,60", "--seed", 3, *FAST, "--resume")
    assert load_checkpoint(tmp_path / "run/checkpoint.npz")[1]["position"]["epoch"] == 2
    assert_user_error(
        minnet_cli("train", "gan", "--epochs", 2, "--out", "run", "--resume"), "already trained 2 of 2", "--epochs"
    )


def test_ctrl_c_saves_and_resume_is_exact(minnet_cli, tmp_path, monkeypatch):
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "whole", *FAST)

    original = _on_call(monkeypatch, "train_step", 6, _raise_keyboard_interrupt)  # mid-epoch 2 (4 steps each)
    result = minnet_cli("train", "gan", "--epochs", 2, "--out", "split", *FAST)
    assert result.exit_code == 130
    assert "--resume" in result.stderr
    _, meta = load_checkpoint(tmp_path / "split/checkpoint.npz")
    position = meta["position"]
    assert (position["epoch"], position["step"], position["global_step"]) == (1, 1, 5)
    monkeypatch.setattr(MLPGAN, "train_step", original)
    _train(minnet_cli, "gan", "--out", "split", "--resume")
    _assert_same_run(tmp_path / "whole/checkpoint.npz", tmp_path / "split/checkpoint.npz")
    steps = [json.loads(line)["step"] for line in (tmp_path / "split/metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, 9))


def test_same_seed_same_numbers(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "a", "--seed", 3, *FAST)
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "b", "--seed", 3, *FAST)
    _assert_same_run(tmp_path / "a/checkpoint.npz", tmp_path / "b/checkpoint.npz")


def test_nan_stops_training_with_where(minnet_cli, tmp_path, monkeypatch):
    original = MLPGAN.train_step

    def poisoned(self, images, labels, indices=None):
        logs = original(self, images, labels, indices)
        return {**logs, "g_loss": float("nan")} if self.optimizers["G"].steps == 3 else logs

    monkeypatch.setattr(MLPGAN, "train_step", poisoned)
    result = minnet_cli("train", "gan", "--epochs", 2, "--out", "run", *FAST)
    assert_user_error(result, "epoch 1, step 3", "g_loss")
    assert not (tmp_path / "run/checkpoint.npz").exists()  # no epoch finished: nothing good to keep


def test_running_out_of_memory_is_one_line(minnet_cli, tmp_path, monkeypatch):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)

    def too_big(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("minnet.cli.sample.draw_samples", too_big)
    assert_user_error(minnet_cli("sample", "run", "--out", "x.npy"), "out of memory")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "nosuchmodel"], ["unknown model", "gan"]),
        (["train", "gan", "--epochs", -1], ["--epochs"]),
        (["train", "gan", "--batch-size", 0], ["--batch-size"]),
        (["train", "gan", "--lr", 0], ["--lr"]),
        (["train", "gan", "--hidden", "150,x"], ["--hidden"]),
        (["train", "gan", "--no-such-option"], ["--no-such-option"]),
        (["train", "gan", "--resume", "--out", "empty"], ["no run to resume"]),
        (["train", "gan", "--data-dir", "not-mnist"], ["not-mnist"]),
        (["train", "gan-conv", "--filter-size", 100], ["--filter-size"]),
        (["sample", "missing.npz"], ["no checkpoint"]),
        (["sample", "garbage.npz"], ["garbage.npz"]),
    ],
)
def test_user_mistakes_give_one_line(minnet_cli, tmp_path, args, fragments):
    (tmp_path / "garbage.npz").write_bytes(os.urandom(300))
    (tmp_path / "not-mnist").mkdir()
    for split in ["train", "t10k"]:
        for kind in ["images-idx3", "labels-idx1"]:
            (tmp_path / "not-mnist" / f"{split}-{kind}-ubyte").write_bytes(b"this is not an IDX file")
    assert_user_error(minnet_cli(*args), *fragments)


def test_mistakes_about_an_existing_run(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    assert_user_error(minnet_cli("train", "gan", "--out", "run", *FAST), "already holds a run")
    assert_user_error(minnet_cli("train", "gan", "--out", "run", "--resume", "--seed", 9), "--seed", "resuming")
    assert_user_error(minnet_cli("train", "cdcgan", "--out", "run", "--resume"), "holds a gan run")
    assert_user_error(minnet_cli("sample", "run", "--label", 3), "not conditional")
    assert_user_error(minnet_cli("sample", "run", "--size", 64), "--size")
    assert_user_error(minnet_cli("sample", "run", "--out", "x.jpg"), ".png or .npy")
    assert_user_error(minnet_cli("sample", "run", "--out", "no/such/dir/x.png"), "not a writable directory")
    (tmp_path / "afile").write_text("")
    assert_user_error(minnet_cli("train", "gan", "--out", "afile/sub", *FAST), "cannot write to --out")


def test_a_batch_larger_than_the_data_leaves_no_run_directory(minnet_cli, tmp_path):
    result = minnet_cli("train", "gan", "--limit", 10, "--out", "run")
    assert_user_error(result, "batch size 128", "10 training images")
    assert not (tmp_path / "run").exists()


def test_a_new_run_forgets_logs_and_grids_an_earlier_one_left(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "run", *FAST)
    (tmp_path / "run/checkpoint.npz").unlink()  # start over in the same directory
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    steps = [json.loads(line)["step"] for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]
    assert len((tmp_path / "run/epochs.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (tmp_path / "run/samples").iterdir()) == ["epoch-001.png"]


def test_resume_drops_a_log_line_cut_short_and_refuses_a_corrupt_one(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    metrics = tmp_path / "run/metrics.jsonl"
    metrics.write_text(metrics.read_text() + '{"epoch": 2, "st')  # killed while appending
    _train(minnet_cli, "gan", "--epochs", 2, "--out", "run", "--resume")
    steps = [json.loads(line)["step"] for line in metrics.read_text().splitlines()]
    assert steps == list(range(1, 9))
    metrics.write_text("not json\n" + metrics.read_text())
    result = minnet_cli("train", "gan", "--epochs", 3, "--out", "run", "--resume")
    assert_user_error(result, "metrics.jsonl, line 1")


def test_a_damaged_sample_grid_is_one_line(minnet_cli, tmp_path):
    _train(minnet_cli, "gan", "--epochs", 1, "--out", "run", *FAST)
    (tmp_path / "run/samples/epoch-001.png").write_bytes(b"not a png")
    result = minnet_cli("train", "gan", "--epochs", 2, "--out", "run", "--resume")
    assert_user_error(result, "epoch-001.png", "delete it")
