"""The README's first command, shortened: offline, on the bundled sample, to a grid of digits.

The command is read from the README's "Set up" section, so the test follows it when it
changes; only the amount of training is cut (the real one is timed by
benchmarks/first_command.sh and its time and picture are described in the README).
"""

import re
import shlex
from pathlib import Path

import numpy as np
from PIL import Image

README = Path(__file__).resolve().parents[2] / "README.md"
SHORTER = ["--epochs", "1", "--limit", "256", "--batch-size", "64"]


def first_command():
    """The minnet commands of the README's first code block: [["train", ...], ["sample", ...]]."""
    block = re.search(r"## Set up.*?```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    steps = [shlex.split(step) for step in block.replace("\\\n", " ").split("&&")]
    assert steps[0] == ["pip", "install", "-e", "."]
    assert all(step[0] == "minnet" for step in steps[1:])
    return [step[1:] for step in steps[1:]]


def test_the_first_command_trains_offline_on_the_sample_and_draws_ten_rows(minnet_cli, monkeypatch, tmp_path):
    monkeypatch.delenv("MINNET_DATA_DIR", raising=False)  # no full set: as on a fresh machine
    train, sample = first_command()
    assert train[:2] == ["train", "cdcgan"] and sample[0] == "sample"

    trained = minnet_cli(*train, *SHORTER)
    assert trained.exit_code == 0, trained.output
    warning = trained.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("minnet: warning: MNIST is not on this machine")
    assert "30,000 digits bundled" in warning[0] and "minnet data fetch" in warning[0]
    assert "on 256 sample MNIST images" in trained.output

    drawn = minnet_cli(*sample)
    assert drawn.exit_code == 0, drawn.output
    out = tmp_path / sample[sample.index("--out") + 1]
    grid = np.asarray(Image.open(out).convert("L"))
    # one row per digit: ten rows of ten 28x28 digits, scaled 3 times, under a row of labels
    assert grid.shape[0] == 3 * (10 * (28 + 2) + 2)
