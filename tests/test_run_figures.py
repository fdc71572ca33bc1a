"""A run's figures: the samples across epochs, still and animated; the curves with a log y
axis when the values span decades, else a linear one."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

from minnet.figures import images, run_figures


@pytest.mark.parametrize(
    "values, logy",
    [
        ([0.03, 0.02, 11.4, 0.019], True),  # one spike: the rest stays readable on a log axis
        ([2.3, 0.5, 0.01], True),  # a loss falling by more than two decades
        ([0.7, 1.4, 0.9, 1.1], False),  # GAN losses near 1
        ([-0.5, 120.0, 0.3], False),  # a value <= 0 has no logarithm
        ([0.0, 5.0], False),
        ([float("nan"), 0.02, 3.0], True),  # NaNs are left out, as the plot leaves them out
    ],
)
def test_curve_figures_use_a_log_axis_when_values_span_two_decades(monkeypatch, tmp_path, values, logy):
    drawn = {}
    monkeypatch.setattr(images, "plot_curves", lambda path, series, **options: drawn.update(options))
    records = [{"step": 50 * (i + 1), "loss": v} for i, v in enumerate(values)]
    run_figures._draw_curves(tmp_path, "toy", {"losses.png": ["loss"]}, records, "step")
    assert drawn["logy"] is logy


class GreyingTrainer:
    """A stand-in trainer whose samples grow brighter with every call: one grid per epoch."""

    name, conditional, curves, epoch_curves = "toy", True, {}, {}

    def __init__(self):
        self.calls = 0

    def sample(self, n, labels=None, rng=None):
        self.calls += 1
        return np.full((n, 28, 28), self.calls / 14, dtype=np.float32)


def test_the_samples_gif_shows_up_to_ten_epochs_first_and_last_included(tmp_path):
    trainer = GreyingTrainer()
    (tmp_path / "samples").mkdir()
    for epoch in range(1, 12):  # as the runner would have drawn them
        grid, _ = run_figures.sample_grid(trainer, 0)
        images.save_grid(tmp_path / f"samples/epoch-{epoch:03d}.png", grid, nrow=10, row_labels=list("0123456789"))
    run_figures.draw_figures(tmp_path, trainer, 0, 12, [], [])
    grid = np.asarray(Image.open(tmp_path / "samples/epoch-001.png"))
    with Image.open(tmp_path / run_figures.SAMPLES_BY_EPOCH_GIF) as gif:
        frames = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == run_figures.MAX_EPOCHS_ANIMATED
    band = frames[0].shape[0] - grid.shape[0] // 2
    assert frames[0].shape[1] == grid.shape[1] // 2 and 0 < band < 40
    digit_levels = [np.median(frame[band:]) for frame in frames]  # a digit's grey, after padding's white
    first, last = (np.asarray(Image.open(tmp_path / f"samples/epoch-{e:03d}.png")) for e in (1, 12))
    assert digit_levels[0] == pytest.approx(np.median(first), abs=9)  # 16 grey levels: steps of 17
    assert digit_levels[-1] == pytest.approx(np.median(last), abs=9)
    assert all(a < b for a, b in zip(digit_levels, digit_levels[1:]))  # epochs in order, all different
