"""--digits: training on some digits only, kept with the run; and abp's reconstruction errors in eval.json."""

import json

import pytest

from minnet.data import load_mnist
from minnet.training.checkpoint import load_checkpoint
from tests.cli.conftest import assert_user_error

FAST = ["--limit", 128, "--batch-size", 64, "--log-every", 1]
TINY_ABP = ["--hidden", 16, "--channels", "4,4", "--eval-images", 32, "--eval-steps", 5]


@pytest.mark.parametrize("value", ["0,10", "-1", "a,b", "1,1", "", "3,,4"])
def test_bad_digits_are_one_line(minnet_cli, value):
    assert_user_error(minnet_cli("train", "gan", "--digits", value, "--out", "run"), "--digits")


def test_digits_are_trained_on_and_kept_for_resume(minnet_cli, tmp_path):
    result = minnet_cli("train", "gan", "--digits", "5,3", "--epochs", 1, "--out", "run", *FAST)
    assert result.exit_code == 0, result.output
    assert "of digits 3,5" in result.output
    _, meta = load_checkpoint(tmp_path / "run/checkpoint.npz")
    assert meta["data"]["digits"] == [3, 5] and meta["data"]["count"] == 128
    assert_user_error(
        minnet_cli("train", "gan", "--digits", 3, "--epochs", 2, "--out", "run", "--resume"),
        "--digits",
        "cannot change",
    )
    result = minnet_cli("train", "gan", "--epochs", 2, "--out", "run", "--resume")
    assert result.exit_code == 0, result.output
    assert load_checkpoint(tmp_path / "run/checkpoint.npz")[1]["data"]["digits"] == [3, 5]


def test_abp_eval_writes_the_three_reconstruction_errors(minnet_cli, tmp_path):
    result = minnet_cli("train", "abp", "--digits", "0,1", "--epochs", 1, "--out", "run", *FAST, *TINY_ABP)
    assert result.exit_code == 0, result.output
    epoch = json.loads((tmp_path / "run/epochs.jsonl").read_text().splitlines()[0])
    result = minnet_cli("eval", "run", "--n", 200)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "run/eval.json").read_text())
    assert record["digits"] == [0, 1]  # FID against the test images of 0 and 1
    metrics = record["metrics"]
    assert {"fid", "recon_error_train", "recon_error_test", "recon_error_negative"} <= set(metrics)
    for name in ("train", "test", "negative"):  # the same inference on the same images as after the epoch
        assert metrics[f"recon_error_{name}"]["value"] == pytest.approx(epoch[f"recon_error_{name}"], rel=1e-5)
    assert "[0, 1] pixels" in metrics["recon_error_test"]["description"]
    assert load_mnist("train_full", digits=[0, 1], limit=128).labels.max() == 1


def test_abp_needs_two_channel_counts(minnet_cli):
    assert_user_error(minnet_cli("train", "abp", "--channels", "4", "--out", "run"), "--channels", "two numbers")
