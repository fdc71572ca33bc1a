"""The look-up order: data_dir argument, then $MINNET_DATA_DIR, then the user cache."""

import pytest

from minnet.data.folder import user_cache_dir
from minnet.data.locate import find_full_set, locate_mnist
from minnet.errors import MinnetError, MinnetWarning
from tests.data.helpers import fake_arrays, write_mnist


@pytest.fixture
def three_folders(tmp_path, isolated):
    """A full set in an explicit folder, in an environment folder, and in the cache."""
    arrays = fake_arrays()
    return {
        "arg": write_mnist(tmp_path / "arg", arrays, compress=True),
        "env": write_mnist(tmp_path / "env", arrays, compress=False),
        "cache": write_mnist(isolated, arrays, compress=True),
    }


def test_argument_comes_first(three_folders, monkeypatch):
    monkeypatch.setenv("MINNET_DATA_DIR", str(three_folders["env"]))
    assert find_full_set(three_folders["arg"]) == (str(three_folders["arg"]), "data_dir")
    assert locate_mnist(three_folders["arg"]) == (str(three_folders["arg"]), "full")


def test_environment_before_cache(three_folders, monkeypatch):
    monkeypatch.setenv("MINNET_DATA_DIR", str(three_folders["env"]))
    assert find_full_set() == (str(three_folders["env"]), "MINNET_DATA_DIR")


def test_cache_last(three_folders):
    assert find_full_set() == (str(three_folders["cache"]), "cache")
    assert locate_mnist() == (str(three_folders["cache"]), "full")


def test_cache_honours_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    assert user_cache_dir() == tmp_path / "elsewhere" / "minnet" / "mnist"


@pytest.mark.parametrize("xdg", [None, "", "relative/path"])
def test_cache_defaults_to_home(tmp_path, monkeypatch, xdg):
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME")
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert user_cache_dir() == tmp_path / "home" / ".cache" / "minnet" / "mnist"


def test_explicit_folder_without_the_files_is_an_error(three_folders, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MinnetError, match="lacks the MNIST file"):
        locate_mnist(tmp_path / "empty")
    with pytest.raises(MinnetError, match="does not exist"):
        locate_mnist(tmp_path / "absent")


def test_environment_folder_without_the_files_is_an_error(three_folders, tmp_path, monkeypatch):
    monkeypatch.setenv("MINNET_DATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(MinnetError, match="MINNET_DATA_DIR .* does not exist"):
        locate_mnist()


def test_partial_folder_names_the_missing_files(three_folders):
    (three_folders["arg"] / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(MinnetError, match=r"t10k-labels-idx1-ubyte\[\.gz\]"):
        find_full_set(three_folders["arg"])


def test_incomplete_cache_is_passed_over(three_folders):
    (three_folders["cache"] / "train-images-idx3-ubyte.gz").unlink()
    assert find_full_set() == (None, None)


def test_no_download_means_the_sample_with_a_warning():
    with pytest.warns(MinnetWarning, match="downloading was not allowed"):
        assert locate_mnist(download=False) == (None, "sample")
