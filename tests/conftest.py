"""Shared fixtures: the array module (NumPy always, CuPy when a GPU is present)."""

import numpy as np
import pytest

from minnet import backend
from minnet.speed import threads


def _xp_params():
    return [
        pytest.param("cpu", id="numpy"),
        pytest.param("gpu", id="cupy", marks=pytest.mark.gpu),
    ]


@pytest.fixture(params=_xp_params())
def device(request):
    """Run the test once on NumPy arrays and once on CuPy arrays (skipped without a GPU).

    The backend is switched for the test so layers create their parameters on that device.
    """
    if request.param == "gpu" and not backend.gpu_available():
        pytest.skip("CuPy or a CUDA device is not available")
    previous = backend.device()
    backend.use(request.param)
    yield request.param
    backend.use(previous)


@pytest.fixture
def xp(device):
    """The array module matching ``device``."""
    return backend.xp()


@pytest.fixture(autouse=True, scope="session")
def no_downloads(tmp_path_factory):
    """Tests never reach the internet or the user's cache: no mirrors, a private cache dir.

    Session-wide, so that fixtures of wider scope that load data are covered too.
    ``MINNET_DATA_DIR`` (set by CI to the full set) is left as it is; without it, data falls
    back to the bundled sample.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINNET_MNIST_MIRRORS", "")
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def three_threads(monkeypatch):
    """Three threads (minnet.speed.threads), and every range worth splitting however small."""
    monkeypatch.setattr(threads, "MIN_ELEMENTS", 1)
    previous = threads.count()
    threads.set_count(3)
    yield
    threads.set_count(previous)
