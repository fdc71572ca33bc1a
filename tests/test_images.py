"""Image grids, figures and plots: sizes, pixel placement, PNG round trips, atomic writes."""

import math
import os

import numpy as np
import pytest
from PIL import Image

from minnet.errors import MinnetError
from minnet.figures import images, plots


def _read_png(path):
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        return np.asarray(picture)


def test_grid_shape_follows_padding_and_scale_arithmetic(rng):
    count, height, width, per_row, padding, scale = 7, 5, 4, 3, 2, 3
    grid = images.image_grid(
        rng.random((count, height, width)), nrow=per_row, padding=padding, scale=scale
    )
    rows = math.ceil(count / per_row)
    assert grid.dtype == np.uint8
    assert grid.shape == (
        scale * (rows * (height + padding) + padding),
        scale * (per_row * (width + padding) + padding),
    )


def test_grid_places_each_image_and_pads_with_pad_value():
    stack = np.stack([np.full((3, 2), (i + 1) / 10) for i in range(5)])  # image i is (i+1)/10
    grid = images.image_grid(stack, nrow=2, padding=1, scale=1, pad_value=0.0)
    for i in range(5):
        row, column = divmod(i, 2)
        top, left = 1 + row * 4, 1 + column * 3
        assert np.all(grid[top : top + 3, left : left + 2] == round((i + 1) / 10 * 255))
    assert np.all(grid[0, :] == 0) and np.all(grid[:, 0] == 0)
    assert np.all(grid[9:12, 4:6] == 0)  # the empty sixth cell is padding


def test_grid_scale_is_nearest_neighbour_repetition(rng):
    stack = rng.random((4, 6, 6))
    small = images.image_grid(stack, scale=1)
    large = images.image_grid(stack, scale=3)
    np.testing.assert_array_equal(large, small.repeat(3, axis=0).repeat(3, axis=1))


def test_grid_default_rows_are_about_square():
    grid = images.image_grid(np.zeros((10, 2, 2)), padding=0, scale=1)
    assert grid.shape == (3 * 2, 4 * 2)  # ceil(sqrt(10)) = 4 per row, 3 rows


def test_grid_accepts_channel_and_flat_layouts(rng):
    stack = rng.random((6, 28, 28))
    expected = images.image_grid(stack)
    np.testing.assert_array_equal(images.image_grid(stack[:, None]), expected)
    np.testing.assert_array_equal(images.image_grid(stack.reshape(6, 784)), expected)


def test_grid_clips_out_of_range_values_and_shows_nan_as_black():
    stack = np.array([[[np.nan, -1.0, 2.0, 0.5]]])
    grid = images.image_grid(stack, padding=0, scale=1)
    np.testing.assert_array_equal(grid, [[0, 0, 255, 128]])


def test_grid_rejects_a_bad_shape():
    with pytest.raises(ValueError, match="stack of images"):
        images.image_grid(np.zeros((2, 3, 4, 5)))


def test_row_labels_add_a_column_of_text_at_the_left():
    stack = np.zeros((20, 28, 28))  # black digits on white padding
    plain = images.image_grid(stack, nrow=10)
    labelled = images.image_grid(stack, nrow=10, row_labels=["0", "1"])
    label_width = labelled.shape[1] - plain.shape[1]
    assert labelled.shape[0] == plain.shape[0] and label_width > 0
    np.testing.assert_array_equal(labelled[:, label_width:], plain)
    assert labelled[:, :label_width].min() < 100  # dark ink of the labels
    with pytest.raises(ValueError, match="row labels"):
        images.image_grid(stack, nrow=10, row_labels=["0"])


def test_save_grid_writes_a_readable_png_and_no_temporary_file(tmp_path, rng):
    path = tmp_path / "grid.png"
    grid = images.save_grid(path, rng.random((9, 28, 28)), nrow=3)
    np.testing.assert_array_equal(_read_png(path), grid)
    images.save_grid(path, rng.random((4, 28, 28)))  # replacing an existing file
    assert os.listdir(tmp_path) == ["grid.png"]


def test_save_grid_into_a_missing_directory_is_a_minnet_error(tmp_path):
    with pytest.raises(MinnetError, match="does not exist"):
        images.save_grid(tmp_path / "missing" / "grid.png", np.zeros((1, 28, 28)))


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_save_grid_into_an_unwritable_directory_is_a_minnet_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(MinnetError, match="cannot write"):
            images.save_grid(locked / "grid.png", np.zeros((1, 28, 28)))
    finally:
        locked.chmod(0o700)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    old = images.save_grid(path, np.zeros((1, 28, 28)))

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full_disk)
    with pytest.raises(MinnetError, match="No space left"):
        images.save_grid(path, np.ones((1, 28, 28)))
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["grid.png"]
    np.testing.assert_array_equal(_read_png(path), old)


def test_writing_over_a_directory_is_a_minnet_error(tmp_path):
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(MinnetError, match="cannot write"):
        images.save_grid(tmp_path / "taken.png", np.zeros((1, 28, 28)))
    assert os.listdir(tmp_path) == ["taken.png"]


def test_side_by_side_places_grids_under_captions(tmp_path, rng):
    grids = [images.image_grid(rng.random((n, 28, 28)), nrow=2) for n in (4, 6)]
    path = tmp_path / "epochs.png"
    figure = images.side_by_side(grids, ["epoch 1", "epoch 2"], path)
    np.testing.assert_array_equal(_read_png(path), figure)
    assert figure.shape[0] > max(grid.shape[0] for grid in grids)
    assert figure.shape[1] > sum(grid.shape[1] for grid in grids)
    with pytest.raises(ValueError, match="captions"):
        images.side_by_side(grids, ["only one"], path)


def _non_white_fraction(picture):
    return np.mean(np.any(picture < 250, axis=-1))


def test_plot_curves_writes_a_png_of_the_requested_size_with_coloured_lines(tmp_path):
    path = tmp_path / "losses.png"
    steps = np.arange(200)
    images.plot_curves(
        path,
        {"generator": (steps, np.exp(-steps / 50)), "discriminator": (steps, 0.5 + 0 * steps)},
        title="losses",
        xlabel="step",
        ylabel="loss",
        size=(400, 300),
    )
    picture = _read_png(path)
    assert picture.shape == (300, 400, 3)
    assert 0.01 < _non_white_fraction(picture) < 0.5
    first_colour = np.array([0x1F, 0x77, 0xB4])
    assert np.any(np.all(np.abs(picture.astype(int) - first_colour) < 10, axis=-1))


def test_plot_curves_survives_nan_single_points_empty_and_log_axes(tmp_path):
    with_gaps = (np.arange(10), np.array([1, 2, np.nan, 4, np.inf, 6, 7, np.nan, 9, 10.0]))
    cases = [
        ({"gappy": with_gaps, "all nan": ([0, 1], [np.nan, np.nan])}, False),
        ({"one point": ([3], [7.0])}, False),
        ({"one point": ([3], [7.0])}, True),
        ({"non-positive": (np.arange(5), np.array([-1, 0, 1e-3, 1, 1e3]))}, True),
        ({}, False),
    ]
    for i, (series, logy) in enumerate(cases):
        path = tmp_path / f"plot{i}.png"
        images.plot_curves(path, series, title="t", xlabel="x", ylabel="y", logy=logy)
        picture = _read_png(path)
        assert picture.shape == (500, 800, 3)
        assert _non_white_fraction(picture) > 0.005  # at least the axes and text


def test_plot_curves_rejects_mismatched_lengths(tmp_path):
    with pytest.raises(ValueError, match="x values"):
        images.plot_curves(tmp_path / "p.png", {"a": ([1, 2], [1])}, title="", xlabel="", ylabel="")


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-0.04, 5000.0, [0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0]),
        (0.31, 0.49, [0.325, 0.35, 0.375, 0.4, 0.425, 0.45, 0.475]),
        (0.001, 0.1216, [0.02, 0.04, 0.06, 0.08, 0.1, 0.12]),
    ],
)
def test_ticks_are_round_numbers_inside_the_range(low, high, expected):
    np.testing.assert_allclose(plots._linear_ticks(low, high), expected)


def test_tick_labels_are_short_and_share_a_notation():
    assert plots._tick_labels([0.1 * k for k in range(-1, 4)]) == [
        "-0.1",
        "0",
        "0.1",
        "0.2",
        "0.3",
    ]
    assert plots._tick_labels([0, 5e5, 1e6]) == ["0", "5e5", "1e6"]
    assert plots._tick_labels([1e-6, 1e-4, 1e-2]) == ["1e-6", "1e-4", "1e-2"]
