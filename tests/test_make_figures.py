"""``docs/make_figures.py`` at its smoke budget: every figure of docs/ drawn from tiny runs.

The smoke budget trains every run for one epoch of 300 images with tiny networks, so the script
that regenerates the published figures cannot rot unnoticed: a renamed option, a figure a model
no longer writes or a broken figure function fails here.
"""

import importlib.util
from pathlib import Path

import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "make_figures.py"


@pytest.fixture(scope="module")
def make_figures():
    spec = importlib.util.spec_from_file_location("make_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke(make_figures, tmp_path_factory):
    """Runs and figures of one smoke-budget call, and what it logged."""
    root = tmp_path_factory.mktemp("docs")
    log = []
    records = make_figures.make_figures("smoke", root / "runs", root / "figures", log=log.append)
    return root, records, log


def test_every_figure_function_writes_small_pngs_or_gifs(make_figures, smoke):
    root, _, log = smoke
    written = [Path(line.split()[1]) for line in log if line.startswith("wrote ")]
    assert not [line for line in log if line.startswith("skipping")]
    assert len(written) >= len(make_figures.FIGURES)
    for path in written:
        assert path.is_relative_to(root / "figures")
        with Image.open(path) as picture:
            assert picture.width <= 1000  # scaled down: at most MAX_WIDTH, a few chosen figures wider
            if path.suffix == ".gif":  # an animation, as the run wrote it
                assert picture.format == "GIF" and path.stat().st_size < 400 * 1024
            else:
                assert picture.format == "PNG"
                assert picture.mode == "P"  # palettised, so it stays small


def test_the_top_figure_has_a_row_per_model(make_figures, smoke):
    root, _, _ = smoke
    with Image.open(root / "figures" / "samples-of-every-model.png") as picture:
        rows = len(make_figures.TOP_FIGURE_RUNS)
        # image_grid at scale 2: rows of (28 + 2 padding) pixels, one more padding at the bottom
        assert picture.height == 2 * (rows * 30 + 2)


def test_the_record_names_every_run_with_its_commands_and_numbers(make_figures, smoke):
    root, records, _ = smoke
    record = (root / "figures" / "made-by.md").read_text()
    assert "--budget smoke" in record
    for run in make_figures.RUNS:
        assert f"## {run.key}\n" in record
        assert f"minnet train {run.model} " in record
        assert "fid" in records[run.key]["numbers"]["eval"]


def test_a_second_call_reuses_the_runs(make_figures, smoke):
    root, _, _ = smoke
    log = []
    make_figures.make_figures("smoke", root / "runs", root / "figures", only=["gan", "abp"], log=log.append)
    assert [line for line in log if line.startswith("reusing")] == [
        f"reusing {root / 'runs' / key}, already trained" for key in ("gan", "abp")
    ]
    assert not [line for line in log if line.startswith("$ minnet train")]
