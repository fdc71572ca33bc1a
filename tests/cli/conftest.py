"""Helpers for command-line tests: run ``minnet`` in-process and read its outcome and GIFs."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, ImageSequence

from minnet.cli.main import cli


@pytest.fixture
def minnet_cli(monkeypatch, tmp_path):
    """``minnet_cli(*args)`` runs the command line in ``tmp_path`` and returns click's Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)

    return invoke


def assert_user_error(result, *fragments):
    """Exit status 2 and one error line on stderr (no traceback), mentioning each fragment.

    Warning lines (``minnet: warning: ...``, e.g. the data fallback) may precede it.
    """
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("minnet: warning: ")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("minnet: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_animation(path, frames):
    """``path`` is a GIF of ``frames`` frames, every one different from the one before."""
    with Image.open(path) as gif:
        assert gif.format == "GIF", path
        pictures = [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(gif)]
    assert len(pictures) == frames, path
    for before, after in zip(pictures, pictures[1:]):
        assert not np.array_equal(before, after), path
