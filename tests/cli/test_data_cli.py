"""`minnet data fetch` and `minnet data info`, invoked on the `data` group directly."""

import pytest
from click.testing import CliRunner

from minnet.cli.data import data
from minnet.errors import MinnetError
from tests.data import helpers
from tests.data.helpers import http_server, mirror_routes

fake_mnist = helpers.fake_mnist  # fixtures: fake files in the catalogue, a cut-off environment
isolated = helpers.isolated


@pytest.fixture
def runner():
    return CliRunner()


def test_fetch_from_a_folder(runner, fake_mnist, tmp_path):
    dest = tmp_path / "dest"
    result = runner.invoke(
        data, ["fetch", "--from", str(fake_mnist.directory), "--dest", str(dest)]
    )
    assert result.exit_code == 0, result.output
    assert str(dest) in result.output
    assert len(list(dest.iterdir())) == 4


def test_fetch_downloads_into_the_cache(runner, fake_mnist, isolated, monkeypatch):
    with http_server(mirror_routes(fake_mnist.gzipped, "good")) as url:
        monkeypatch.setenv("MINNET_MNIST_MIRRORS", f"{url}/missing/ {url}/good/")
        result = runner.invoke(data, ["fetch"])
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in isolated.iterdir()) == sorted(fake_mnist.gzipped)


def test_fetch_of_a_corrupt_folder_is_a_user_error(runner, fake_mnist, tmp_path):
    images = fake_mnist.directory / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-1])
    result = runner.invoke(
        data, ["fetch", "--from", str(fake_mnist.directory), "--dest", str(tmp_path / "d")]
    )
    assert isinstance(result.exception, MinnetError)
    assert "t10k-images-idx3-ubyte" in str(result.exception)


def test_fetch_offline_is_a_user_error(runner, fake_mnist, isolated):
    result = runner.invoke(data, ["fetch"])
    assert isinstance(result.exception, MinnetError)
    assert "cannot download" in str(result.exception)
    assert list(isolated.iterdir()) == []


def test_info_on_a_folder(runner, fake_mnist):
    result = runner.invoke(data, ["info", "--data-dir", str(fake_mnist.directory)])
    assert result.exit_code == 0, result.output
    assert "full MNIST set, found via --data-dir" in result.output
    assert "train 6  validation 4  test 6  train_full 10" in result.output
    assert result.output.count(" ok\n") == 4


def test_info_on_the_sample(runner):
    result = runner.invoke(data, ["info"])
    assert result.exit_code == 0, result.output
    assert "bundled sample" in result.output and "minnet data fetch" in result.output
    assert "train 29,000  validation 1,000  test 1,000  train_full 30,000" in result.output


def test_info_on_a_damaged_folder_is_a_user_error(runner, fake_mnist):
    (fake_mnist.directory / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x09")
    result = runner.invoke(data, ["info", "--data-dir", str(fake_mnist.directory)])
    assert "NOT OK" in result.output
    assert isinstance(result.exception, MinnetError)
    assert "not usable" in str(result.exception)


def test_info_on_a_folder_without_mnist_is_a_user_error(runner, tmp_path):
    result = runner.invoke(data, ["info", "--data-dir", str(tmp_path)])
    assert isinstance(result.exception, MinnetError)
    assert "lacks the MNIST file" in str(result.exception)
