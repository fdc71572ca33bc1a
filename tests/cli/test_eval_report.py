"""minnet eval and minnet report on a tiny trained run, and their answers to bad input."""

import json
import math
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest

from minnet.data import load_mnist
from tests.cli.conftest import assert_user_error
from tests.data.helpers import write_mnist

FAST = ["--limit", 256, "--batch-size", 64, "--log-every", 1]
N_DIGITS = 1_000  # per part of the small MNIST copy: evaluating against it takes a second


@pytest.fixture(scope="module")
def small_mnist(tmp_path_factory):
    """The first 1,000 training and test digits of MNIST, as IDX files in a folder of their own."""
    arrays = {}
    for part, split in (("train", "train_full"), ("test", "test")):
        data = load_mnist(split, limit=N_DIGITS)
        arrays[part, "images"] = np.rint(data.images * 255).astype(np.uint8)
        arrays[part, "labels"] = data.labels.astype(np.uint8)
    return write_mnist(tmp_path_factory.mktemp("mnist"), arrays, compress=False)


class PageStructure(HTMLParser):
    """Collects the rows of the summary table, the image sources and the section ids."""

    def __init__(self):
        super().__init__()
        self.summary_rows, self.images, self.sections = [], [], []
        self._in_summary = self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("class") == "summary":
            self._in_summary = True
        elif self._in_summary and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.summary_rows.append("")
        elif tag == "img":
            self.images.append(attrs["src"])
        elif tag == "section":
            self.sections.append(attrs["id"])

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_summary = self._in_body = False

    def handle_data(self, data):
        if self._in_body and self.summary_rows:
            self.summary_rows[-1] += data + " "


def test_eval_then_report(minnet_cli, tmp_path, small_mnist):
    data = ["--data-dir", small_mnist]
    result = minnet_cli("train", "gan", "--epochs", 1, "--out", "runs/gan", *FAST, *data)
    assert result.exit_code == 0, result.output
    shutil.copytree(tmp_path / "runs/gan", tmp_path / "runs/unevaluated")

    result = minnet_cli("eval", "runs/gan", "--n", 200, *data)
    assert result.exit_code == 0, result.output
    assert "fid" in result.output and "floor" in result.output and "class_coverage" in result.output
    record = json.loads((tmp_path / "runs/gan/eval.json").read_text())
    assert record["model"] == "gan" and record["n_samples"] == 200
    assert record["position"]["epoch"] == 1
    assert set(record["metrics"]) == {"fid", "class_coverage"}  # gan is not conditional
    assert record["metrics"]["fid"]["value"] > record["fid_floor"]["value"] > 0
    assert 0 <= record["metrics"]["class_coverage"]["value"] <= math.log(10) + 1e-9
    assert record["fid_floor"]["n_train"] == 200

    result = minnet_cli("report", "runs", "--out", "report")
    assert result.exit_code == 0, result.output
    page = PageStructure()
    page.feed((tmp_path / "report/index.html").read_text())
    assert len(page.summary_rows) == 2
    evaluated, unevaluated = sorted(page.summary_rows)
    assert evaluated.startswith("gan ") and "floor" in evaluated
    assert unevaluated.startswith("unevaluated ") and "not evaluated" in unevaluated
    assert page.sections == ["run-gan", "run-unevaluated"]
    assert len(page.images) >= 2 * 5  # latest grid, grids by epoch (still and animated), two curves per run
    assert "gan/samples-by-epoch.gif" in page.images
    for source in page.images:
        assert (tmp_path / "report" / source).is_file(), source
    markdown = (tmp_path / "report/README.md").read_text()
    assert markdown.count("](") == len(page.images)

    result = minnet_cli("report", "runs", "--out", "report", "--evaluate", "--n", 200, *data)
    assert result.exit_code == 0, result.output
    assert "evaluating unevaluated" in result.output and "evaluating gan" not in result.output
    assert (tmp_path / "runs/unevaluated/eval.json").is_file()
    assert "not evaluated" not in (tmp_path / "report/index.html").read_text()

    assert_user_error(minnet_cli("eval", "runs/gan", "--n", N_DIGITS + 1, *data), "training images")


def test_eval_refuses_missing_and_corrupt_checkpoints(minnet_cli, tmp_path):
    assert_user_error(minnet_cli("eval", "nowhere"), "no checkpoint")
    (tmp_path / "broken.npz").write_bytes(b"not a zip file")
    assert_user_error(minnet_cli("eval", "broken.npz"), "broken.npz")
    assert_user_error(minnet_cli("eval", "nowhere", "--n", 1), "--n")


def test_report_needs_runs(minnet_cli, tmp_path):
    assert_user_error(minnet_cli("report", "nowhere"), "not a directory")
    (tmp_path / "empty").mkdir()
    assert_user_error(minnet_cli("report", "empty"), "no runs")


def test_report_ignores_stray_grids_and_refuses_foreign_eval_json(minnet_cli, tmp_path):
    assert minnet_cli("train", "gan", "--epochs", 1, "--out", "runs/gan", *FAST).exit_code == 0
    (tmp_path / "runs/gan/samples/epoch-final.png").write_bytes(b"not a grid of minnet's")
    assert minnet_cli("report", "runs", "--out", "report").exit_code == 0
    (tmp_path / "runs/gan/eval.json").write_text('{"metrics": {}}')
    assert_user_error(minnet_cli("report", "runs", "--out", "report"), "eval.json", "minnet eval")


def test_report_refuses_a_hand_edited_eval_json(minnet_cli, tmp_path, small_mnist):
    data = ["--data-dir", small_mnist]
    assert minnet_cli("train", "gan", "--epochs", 1, "--out", "runs/gan", *FAST, *data).exit_code == 0
    assert minnet_cli("eval", "runs/gan", "--n", 200, *data).exit_code == 0
    path = tmp_path / "runs/gan/eval.json"
    good = json.loads(path.read_text())
    damaged = [
        {key: value for key, value in good.items() if key != "classifier_test_accuracy"},
        {**good, "metrics": list(good["metrics"])},
        {**good, "position": {"epoch": 1}},
        {**good, "fid_floor": 0.5},
        {**good, "n_samples": "many"},
    ]
    for record in damaged:
        path.write_text(json.dumps(record))
        assert_user_error(minnet_cli("report", "runs", "--out", "report"), "eval.json", "minnet eval")
