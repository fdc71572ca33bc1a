"""minnet train csgm / sample --size --sampler end to end on 64 images."""

import numpy as np
import pytest
from click.testing import CliRunner

from minnet.cli.main import cli
from minnet.models.csgm import ZOOM_FRAMES
from tests.cli.conftest import assert_animation, assert_user_error

TINY = ["--limit", 64, "--batch-size", 32, "--pixels", 8, "--visit-steps", 1, "--refine-steps", 1, "--eval-samples", 0]


@pytest.fixture(scope="module")
def csgm_run(tmp_path_factory):
    """One small trained run for every test here (an absolute path)."""
    run = tmp_path_factory.mktemp("csgm") / "run"
    result = CliRunner().invoke(cli, ["train", "csgm", "--epochs", "1", "--out", str(run), *map(str, TINY)])
    assert result.exit_code == 0, result.output
    for name in ["samples/epoch-001.png", "samples-paper/epoch-001.png", "render-300px/epoch-001.png"]:
        assert (run / name).is_file(), name
    assert_animation(run / "zoom.gif", frames=ZOOM_FRAMES)
    return str(run)


def test_sample_at_any_size_with_either_sampler(minnet_cli, tmp_path, csgm_run):
    for sampler in ["gaussian", "paper"]:
        result = minnet_cli(
            "sample", csgm_run, "--per-class", 1, "--size", 56, "--sampler", sampler, "--out", f"{sampler}.npy"
        )
        assert result.exit_code == 0, result.output
        assert np.load(tmp_path / f"{sampler}.npy").shape == (10, 56, 56)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--size", 0], ["--size"]),
        (["--size", "big"], ["--size"]),
        (["--size", 5000], ["--size", "2048"]),
        (["--sampler", "nope"], ["unknown sampler", "gaussian, paper"]),
    ],
)
def test_bad_size_or_sampler_is_one_line(minnet_cli, csgm_run, args, fragments):
    assert_user_error(minnet_cli("sample", csgm_run, "--n", 2, *args), *fragments)


def test_sampler_of_a_model_with_one_sampler_is_one_line(minnet_cli):
    result = minnet_cli("train", "gan", "--epochs", 1, "--out", "gan", "--limit", 64, "--batch-size", 32)
    assert result.exit_code == 0, result.output
    assert_user_error(minnet_cli("sample", "gan", "--sampler", "paper"), "one sampler")
