"""minnet train avme / avme-cond end to end on 200 images: the validation bound, the figures, resume."""

import json

import numpy as np
import pytest

from minnet.cli import evaluate
from minnet.training.checkpoint import load_checkpoint
from tests.cli.conftest import assert_animation


@pytest.fixture(autouse=True)
def bundled_sample(monkeypatch):
    """The bundled sample of MNIST (1,000 validation and test digits) keeps evaluations short.

    minnet eval caches the test set per --data-dir, and with none given that is whatever
    MINNET_DATA_DIR names: the caches are emptied around these tests, so that no other test
    gets the sample's test set for the full one's (or the reverse)."""
    cached = (evaluate._classifier_and_test_set, evaluate._fid_floor, evaluate._binary_test_images)
    for function in cached:
        function.cache_clear()
    monkeypatch.delenv("MINNET_DATA_DIR", raising=False)
    yield
    for function in cached:
        function.cache_clear()


def _options(name):
    return ["train", name, "--hidden", 8, "--z-dim", 4, "--steps", 2, "--limit", 200, "--batch-size", 50]


def test_training_writes_the_validation_bound_and_figures_and_resumes_exactly(minnet_cli, tmp_path):
    for args in (["--epochs", 2, "--out", "whole"], ["--epochs", 1, "--out", "split"]):
        assert minnet_cli(*_options("avme"), *args).exit_code == 0
    assert minnet_cli("train", "avme", "--epochs", 2, "--out", "split", "--resume").exit_code == 0
    whole, _ = load_checkpoint(tmp_path / "whole" / "checkpoint.npz")
    split, _ = load_checkpoint(tmp_path / "split" / "checkpoint.npz")
    assert set(whole) == set(split)
    for name in whole:
        np.testing.assert_array_equal(whole[name], split[name], err_msg=name)
    epochs = [json.loads(line) for line in (tmp_path / "split" / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(e["val_nll_bound"] == pytest.approx(e["val_reconstruction_nll"] + e["val_kl"]) for e in epochs)
    for figure in ("fig8-unrolled.png", "validation-bound.png"):
        assert (tmp_path / "split" / figure).is_file()
    assert_animation(tmp_path / "split" / "fig8-unrolled.gif", frames=2)  # one per step
    assert not (tmp_path / "split" / "fig9-conditional.png").exists()


def test_conditional_training_draws_the_conditional_figures(minnet_cli, tmp_path):
    assert minnet_cli(*_options("avme-cond"), "--epochs", 1, "--out", "run").exit_code == 0
    epochs = json.loads((tmp_path / "run" / "epochs.jsonl").read_text())
    assert epochs["val_nll_bound"] > 0
    assert (tmp_path / "run" / "fig8-unrolled.png").is_file()
    assert (tmp_path / "run" / "fig9-conditional.png").is_file()


def test_eval_adds_the_likelihoods_with_their_settings(minnet_cli, tmp_path):
    assert minnet_cli(*_options("avme"), "--epochs", 1, "--out", "run").exit_code == 0
    result = minnet_cli("eval", "run", "--n", 100, "--importance-samples", 5, "--importance-images", 30)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert (record["importance_samples"], record["importance_images"]) == (5, 30)
    found = record["metrics"]
    assert {"fid", "nll_bound", "nll_importance", "reconstruction_nll"} <= set(found)
    assert found["nll_bound"]["value"] > found["reconstruction_nll"]["value"] > 0
    assert "k = 5" in found["nll_importance"]["description"] and "first 30" in found["nll_importance"]["description"]
    assert "nll_importance" in result.output
