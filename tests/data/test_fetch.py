"""Fetching: downloads from a local HTTP server, copies from a folder, verification, atomicity."""

import gzip

import numpy as np
import pytest

from minnet.data import fetch_mnist, locate_mnist
from minnet.data.folder import read_part
from minnet.errors import MinnetError
from tests.data.helpers import http_server, mirror_routes, unused_local_url


def assert_holds_fake_set(directory, fake):
    for part in ("train", "test"):
        images, labels = read_part(directory, part)
        np.testing.assert_array_equal(images, fake.arrays[part, "images"])
        np.testing.assert_array_equal(labels, fake.arrays[part, "labels"])


def test_good_mirror_lands_in_the_cache(fake_mnist, isolated, capsys):
    with http_server(mirror_routes(fake_mnist.gzipped, "good")) as url:
        assert fetch_mnist(mirrors=[url + "/good/"]) == isolated
    assert sorted(path.name for path in isolated.iterdir()) == sorted(fake_mnist.gzipped)
    assert_holds_fake_set(isolated, fake_mnist)
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar's label


def test_download_from_environment_mirrors_when_nothing_is_found(fake_mnist, isolated, monkeypatch):
    with http_server(mirror_routes(fake_mnist.gzipped, "good")) as url:
        monkeypatch.setenv("MINNET_MNIST_MIRRORS", f"{url}/good/")
        assert locate_mnist() == (str(isolated), "full")


@pytest.mark.parametrize("damage", ["corrupt", "cut"])
def test_bad_copy_leaves_no_file_behind(fake_mnist, isolated, damage):
    routes = mirror_routes(fake_mnist.gzipped, "bad", **{damage: True})
    with http_server(routes) as url, pytest.raises(MinnetError) as caught:
        fetch_mnist(mirrors=[url + "/bad/"])
    message = str(caught.value)
    assert "\n" not in message
    assert ("SHA-256" if damage == "corrupt" else "connection closed") in message
    assert list(isolated.iterdir()) == []


def test_falls_back_to_the_next_mirror(fake_mnist, isolated):
    routes = {
        **mirror_routes(fake_mnist.gzipped, "corrupt", corrupt=True),
        **mirror_routes(fake_mnist.gzipped, "cut", cut=True),
        **mirror_routes(fake_mnist.gzipped, "good"),
    }
    with http_server(routes) as url:
        mirrors = [unused_local_url(), url + "/missing/", url + "/corrupt/", url + "/cut/"]
        fetch_mnist(mirrors=[*mirrors, url + "/good/"])
    assert sorted(path.name for path in isolated.iterdir()) == sorted(fake_mnist.gzipped)
    assert_holds_fake_set(isolated, fake_mnist)


def test_all_mirrors_failing_is_one_error(fake_mnist, isolated):
    with pytest.raises(MinnetError, match="cannot download train-images-idx3-ubyte.gz") as caught:
        fetch_mnist(mirrors=[unused_local_url(), unused_local_url()])
    assert str(caught.value).count("127.0.0.1") == 2
    with pytest.raises(MinnetError, match="no mirrors"):
        fetch_mnist(mirrors=[])
    assert list(isolated.iterdir()) == []


@pytest.mark.parametrize("compress", [False, True])
def test_copy_from_a_folder(fake_mnist, tmp_path, compress):
    source = fake_mnist.directory
    if compress:
        source = tmp_path / "packed"
        source.mkdir()
        for name, body in fake_mnist.gzipped.items():
            (source / name).write_bytes(body)
    dest = fetch_mnist(tmp_path / "dest", source_dir=source)
    suffix = ".gz" if compress else ""
    assert sorted(path.name for path in dest.iterdir()) == sorted(
        name.removesuffix(".gz") + suffix for name in fake_mnist.gzipped
    )
    assert_holds_fake_set(dest, fake_mnist)


def test_copy_of_a_corrupt_file_fails_and_leaves_nothing(fake_mnist, tmp_path):
    labels = fake_mnist.directory / "t10k-labels-idx1-ubyte"
    labels.write_bytes(labels.read_bytes()[:-1] + b"\x00")
    dest = tmp_path / "dest"
    with pytest.raises(MinnetError, match="t10k-labels-idx1-ubyte: contents have SHA-256"):
        fetch_mnist(dest, source_dir=fake_mnist.directory)
    assert sorted(path.name for path in dest.iterdir()) == [
        "t10k-images-idx3-ubyte",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
    ]


def test_existing_files_are_kept_and_never_overwritten(fake_mnist, tmp_path):
    dest = fetch_mnist(tmp_path / "dest", source_dir=fake_mnist.directory)
    assert fetch_mnist(dest, source_dir=fake_mnist.directory) == dest  # all verified: no-op
    mine = dest / "train-labels-idx1-ubyte"
    mine.write_bytes(b"the user's own bytes")
    with pytest.raises(MinnetError, match="never writes over existing files"):
        fetch_mnist(dest, source_dir=fake_mnist.directory)
    assert mine.read_bytes() == b"the user's own bytes"


def test_source_folder_must_hold_every_file(fake_mnist, tmp_path):
    (fake_mnist.directory / "train-images-idx3-ubyte").unlink()
    with pytest.raises(MinnetError, match="source folder .* lacks"):
        fetch_mnist(tmp_path / "dest", source_dir=fake_mnist.directory)


def test_gzip_that_is_not_gzip_is_rejected(fake_mnist, isolated):
    routes = {f"/junk/{name}": (gzip.compress(b"x")[:8], False) for name in fake_mnist.gzipped}
    with http_server(routes) as url, pytest.raises(MinnetError, match="cannot be read"):
        fetch_mnist(mirrors=[url + "/junk/"])
    assert list(isolated.iterdir()) == []
