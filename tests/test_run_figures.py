"""A run's curve figures: a log y axis when the values span decades, else a linear one."""

import pytest

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
