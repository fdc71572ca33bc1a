"""Downloading one file over HTTP(S) with a progress bar on stderr.

Only the standard library's ``urllib`` is used. Every network failure, including a connection
that closes before the announced length has arrived, becomes one MinnetError naming the URL.
"""

import http.client
import sys
import urllib.request
from functools import partial

import click

from minnet.errors import MinnetError

CHUNK_SIZE = 1 << 16
TIMEOUT_SECONDS = 30


def download(url, file, *, label):
    """Stream the body of ``url`` into the binary file object ``file``.

    Parameters
    ----------
    url : str
        What to download.
    file : binary file object
        Open for writing; receives the body as it arrives.
    label : str
        Shown before the progress bar.

    Raises
    ------
    MinnetError
        On any HTTP or network error, an HTTP status other than success, or a short body.
    """
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            size = response.headers.get("Content-Length")
            n_chunks = -(-int(size) // CHUNK_SIZE) if size else None
            chunks = iter(partial(response.read, CHUNK_SIZE), b"")
            received = 0
            with click.progressbar(chunks, length=n_chunks, label=label, file=sys.stderr) as bar:
                for chunk in bar:
                    file.write(chunk)
                    received += len(chunk)
    except (OSError, http.client.HTTPException, ValueError) as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise MinnetError(f"{url}: {reason}") from None
    if size and received != int(size):
        raise MinnetError(f"{url}: the connection closed after {received} of {size} bytes")
