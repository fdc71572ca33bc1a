"""mnist_info: the report behind `minnet data info`."""

import pytest

from minnet.data import mnist_info
from minnet.data.sample import SAMPLE_PATH
from minnet.errors import MinnetError
from tests.data.helpers import FULL_SET_DIR, needs_full_set


def test_sample_report():
    report = mnist_info()
    assert (report["source"], report["location"], report["ok"]) == (
        "sample",
        str(SAMPLE_PATH),
        True,
    )
    assert report["splits"] == {
        "train": 29_000,
        "validation": 1_000,
        "test": 1_000,
        "train_full": 30_000,
    }


def test_folder_report(fake_mnist):
    report = mnist_info(fake_mnist.directory)
    assert (report["source"], report["found_via"], report["ok"]) == ("full", "data_dir", True)
    assert report["splits"] == {"train": 6, "validation": 4, "test": 6, "train_full": 10}
    assert all(file["ok"] and file["sha256"] == file["expected_sha256"] for file in report["files"])


def test_damaged_files_are_reported_not_raised(fake_mnist):
    labels = fake_mnist.directory / "train-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-3])
    report = mnist_info(fake_mnist.directory)
    assert not report["ok"] and report["splits"] == {}
    assert [file["ok"] for file in report["files"]] == [True, False, True, True]
    assert any("truncated" in problem for problem in report["problems"])


def test_missing_folder_is_an_error(tmp_path):
    with pytest.raises(MinnetError, match="does not exist"):
        mnist_info(tmp_path / "absent")


@needs_full_set
def test_full_set_report():
    report = mnist_info(FULL_SET_DIR)
    assert report["ok"], report["problems"]
    assert report["splits"]["train_full"] == 60_000
