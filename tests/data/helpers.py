"""What the data tests share: an environment cut off from real data and the network, small fake
MNIST folders with their checksums put in the catalogue, and a local HTTP server.

Fixtures defined here are imported by ``tests/data/conftest.py`` and ``tests/cli``.
"""

import contextlib
import gzip
import os
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from minnet.data import catalog, splits
from minnet.data.checksum import contents_sha256
from minnet.data.idx import write_idx

FULL_SET_DIR = os.environ.get("MINNET_DATA_DIR")  # read before any test hides it
needs_full_set = pytest.mark.skipif(not FULL_SET_DIR, reason="MINNET_DATA_DIR is not set")

FAKE_VALIDATION_SIZE = 4


def unused_local_url():
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No $MINNET_DATA_DIR, a fresh empty HOME and cache, and a mirror that refuses connections.

    Returns the user cache directory ($XDG_CACHE_HOME/minnet/mnist), not yet created.
    """
    monkeypatch.delenv("MINNET_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv(catalog.MIRRORS_VARIABLE, unused_local_url())
    return tmp_path / "xdg-cache" / "minnet" / "mnist"


@dataclass
class FakeMnist:
    """A small MNIST-shaped set written to ``directory`` and registered in the catalogue.

    ``arrays`` maps (part, kind) to the uint8 array; ``gzipped`` maps each standard name (with
    ``.gz``) to its gzipped bytes, as a mirror would serve them.
    """

    directory: object
    arrays: dict
    gzipped: dict


def fake_arrays(n_train=10, n_test=6, seed=0):
    """Random digits shaped like MNIST: {(part, kind): uint8 array}."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for part, n in (("train", n_train), ("test", n_test)):
        arrays[part, "images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[part, "labels"] = rng.integers(0, 10, n, dtype=np.uint8)
    return arrays


def write_mnist(directory, arrays, *, compress):
    """Write ``arrays`` under the standard names (``.gz`` when ``compress``) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for entry in catalog.FILES:
        name = entry.names[0] if compress else entry.name
        write_idx(directory / name, arrays[entry.part, entry.kind], compress=compress)
    return directory


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """Raw fake MNIST files in ``tmp_path/fake``; the catalogue expects their checksums.

    The validation split is shrunk to 4 digits so the 10 training digits can be split.
    """
    arrays = fake_arrays()
    directory = write_mnist(tmp_path / "fake", arrays, compress=False)
    files = tuple(
        catalog.MnistFile(
            entry.part, entry.kind, entry.name, contents_sha256(directory / entry.name)
        )
        for entry in catalog.FILES
    )
    monkeypatch.setattr(catalog, "FILES", files)
    monkeypatch.setitem(splits.VALIDATION_SIZE, "full", FAKE_VALIDATION_SIZE)
    gzipped = {
        entry.names[0]: gzip.compress((directory / entry.name).read_bytes()) for entry in files
    }
    return FakeMnist(directory, arrays, gzipped)


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: path -> (body, cut); ``cut`` sends half and hangs up."""

    def do_GET(self):
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        body, cut = route
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)

    def log_message(self, *args):
        """Keep the test output clean."""


@contextlib.contextmanager
def http_server(routes):
    """Run an HTTP server on 127.0.0.1 in a thread; yields its base URL.

    Parameters
    ----------
    routes : dict
        URL path (e.g. ``"/good/train-images-idx3-ubyte.gz"``) -> (body bytes, cut). With
        ``cut`` the full Content-Length is announced but only half the body is sent before
        the connection closes.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes = routes
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def mirror_routes(gzipped, prefix, *, corrupt=False, cut=False):
    """Routes serving every file of ``gzipped`` under ``/{prefix}/``.

    ``corrupt`` flips one byte of the decompressed contents (the gzip stays valid, the
    checksum does not); ``cut`` closes the connection halfway.
    """
    routes = {}
    for name, body in gzipped.items():
        if corrupt:
            contents = bytearray(gzip.decompress(body))
            contents[-1] ^= 0xFF
            body = gzip.compress(bytes(contents))
        routes[f"/{prefix}/{name}"] = (body, cut)
    return routes
