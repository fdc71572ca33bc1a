"""Animated GIFs: frame count, size, durations, looping, one palette for RGB, atomic writes."""

import os

import numpy as np
import pytest
from PIL import Image, ImageSequence

from minnet.errors import MinnetError, ShapeError
from minnet.figures.animation import fewer_grey_levels, save_gif, with_caption


def _read_gif(path):
    """(frames as RGB arrays, durations in ms, the loop count or None) of the GIF at ``path``."""
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        frames, durations = [], []
        for frame in ImageSequence.Iterator(gif):
            frames.append(np.asarray(frame.convert("RGB")))
            durations.append(frame.info["duration"])
        return frames, durations, gif.info.get("loop")


def _grey_frames(count, height=12, width=20):
    """``count`` grey frames, frame i a bar i + 1 pixels wide on black."""
    frames = np.zeros((count, height, width), dtype=np.uint8)
    for i in range(count):
        frames[i, :, : i + 1] = 40 * (i + 1)
    return frames


def test_grey_frames_come_back_in_order_with_their_size_and_levels(tmp_path):
    path = tmp_path / "a.gif"
    assert save_gif(_grey_frames(5), path, seconds_per_frame=0.1) == 5
    frames, _, _ = _read_gif(path)
    assert len(frames) == 5
    for written, read in zip(_grey_frames(5), frames):
        assert read.shape == (12, 20, 3)
        np.testing.assert_array_equal(read[..., 0], written)  # grey levels survive exactly


def test_durations_and_the_held_last_frame(tmp_path):
    path = tmp_path / "a.gif"
    save_gif(_grey_frames(4), path, seconds_per_frame=0.08, last_frame_hold=1.5)
    _, durations, _ = _read_gif(path)
    assert durations == [80, 80, 80, 1500]


def test_loops_forever_or_plays_once(tmp_path):
    save_gif(_grey_frames(3), tmp_path / "loop.gif", seconds_per_frame=0.1)
    save_gif(_grey_frames(3), tmp_path / "once.gif", seconds_per_frame=0.1, loop=False)
    assert _read_gif(tmp_path / "loop.gif")[2] == 0
    assert _read_gif(tmp_path / "once.gif")[2] is None


def test_rgb_frames_share_one_palette_that_keeps_their_colours(tmp_path):
    red, green = (230, 40, 40), (40, 200, 60)
    frames = np.full((3, 10, 16, 3), 255, dtype=np.uint8)
    frames[0, 2:4, 2:8] = red
    frames[1, 2:4, 2:8] = red
    frames[1, 6:8, 4:12] = green
    frames[2, :, :8] = np.linspace(0, 255, 8, dtype=np.uint8)[None, :, None]  # grey ramp
    save_gif(frames, tmp_path / "c.gif", seconds_per_frame=0.1)
    read, _, _ = _read_gif(tmp_path / "c.gif")
    assert len(read) == 3
    for written, got in zip(frames, read):
        np.testing.assert_array_equal(got, written)  # under 256 colours: no loss


def test_a_failed_write_leaves_the_old_gif_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "a.gif"
    save_gif(_grey_frames(2), path, seconds_per_frame=0.1)
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(MinnetError, match="No space left"):
        save_gif(_grey_frames(3), path, seconds_per_frame=0.1)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["a.gif"]


@pytest.mark.parametrize(
    "frames",
    [
        [np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8)],  # two sizes
        [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 3), np.uint8)],  # grey and RGB
        [np.zeros((4, 4, 4), np.uint8)],  # RGBA
    ],
)
def test_frames_of_other_shapes_or_types_are_refused(tmp_path, frames):
    with pytest.raises(ShapeError, match="save_gif"):
        save_gif(frames, tmp_path / "a.gif", seconds_per_frame=0.1)
    assert not (tmp_path / "a.gif").exists()


def test_no_frames_other_types_or_too_short_durations_are_refused(tmp_path):
    with pytest.raises(MinnetError, match="uint8"):
        save_gif([np.zeros((4, 4), np.float32)], tmp_path / "a.gif", seconds_per_frame=0.1)
    with pytest.raises(MinnetError, match="at least one frame"):
        save_gif([], tmp_path / "a.gif", seconds_per_frame=0.1)
    with pytest.raises(MinnetError, match="seconds_per_frame"):
        save_gif(_grey_frames(2), tmp_path / "a.gif", seconds_per_frame=0.001)
    with pytest.raises(MinnetError, match="last_frame_hold"):
        save_gif(_grey_frames(2), tmp_path / "a.gif", seconds_per_frame=0.1, last_frame_hold=float("nan"))


@pytest.mark.parametrize("shape", [(30, 50), (30, 50, 3)])
def test_caption_band_sits_above_the_picture(shape):
    picture = np.zeros(shape, dtype=np.uint8)
    captioned = with_caption(picture, "epoch 3", font_size=10)
    band = captioned.shape[0] - shape[0]
    assert band == 16 and captioned.shape[1:] == shape[1:]
    np.testing.assert_array_equal(captioned[band:], picture)
    assert captioned[:band].min() < 128 < captioned[:band].max()  # dark text on white


def test_fewer_grey_levels_keeps_black_and_white_and_rounds_to_the_nearest_level():
    ramp = np.arange(256, dtype=np.uint8)
    four = fewer_grey_levels(ramp, 4)
    assert four.dtype == np.uint8
    assert sorted(set(four.tolist())) == [0, 85, 170, 255]
    assert four[0] == 0 and four[42] == 0 and four[43] == 85 and four[255] == 255
    np.testing.assert_array_equal(fewer_grey_levels(ramp, 256), ramp)
