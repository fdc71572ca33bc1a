"""Animated GIFs: pictures that move, for what a still cannot show (a canvas filling up step
by step, samples improving over the epochs, a digit rendered at growing sizes).

* :func:`save_gif` writes a sequence of frames, uint8 grey ``(H, W)`` or RGB ``(H, W, 3)``
  arrays of one shape, to a GIF that loops (or plays once), every frame shown
  ``seconds_per_frame`` and the last one held ``last_frame_hold`` seconds so the result can be
  read before the animation starts again.
* :func:`with_caption` puts a line of text above a frame (``"step 3 of 12"``, ``"epoch 5"``).
* :func:`fewer_grey_levels` rounds grey frames to a few levels, which LZW compresses better.

Sizes: a GIF holds at most 256 colours per frame. Grey frames keep their 256 grey levels; RGB
frames share one palette of at most 256 colours taken from all frames together, without
dithering, so a colour (a red read window, say) looks the same in every frame. Frames are
LZW-compressed and Pillow stores only the part of each frame that differs from the one
before, so keep frames modest (a few hundred pixels a side) and the frame count in the tens:
such GIFs weigh tens to a few hundred KB. Pillow merges identical neighbouring frames into
one, its duration the sum of theirs.

Writing is atomic (:func:`minnet.fileio.atomic_write`): a reader never sees half a GIF.
"""

import numpy as np
from PIL import Image, ImageDraw

from minnet.errors import MinnetError, ShapeError
from minnet.figures import drawing
from minnet.fileio import atomic_write

MIN_SECONDS_PER_FRAME = 0.02  # browsers show shorter GIF frames for 0.1 s instead


def save_gif(frames, path, *, seconds_per_frame, loop=True, last_frame_hold=2.0):
    """Write ``frames`` to ``path`` as an animated GIF; return the number of frames given.

    Parameters
    ----------
    frames : sequence of uint8 arrays
        All ``(H, W)`` (grey levels, 0 black) or all ``(H, W, 3)`` (RGB), of one shape.
    path : str or path-like
    seconds_per_frame : float
        How long each frame shows, at least 0.02 (GIFs count in hundredths of a second).
    loop : bool
        Play forever (True) or once (False).
    last_frame_hold : float
        How long the last frame shows, in seconds (at least 0.02).

    Raises
    ------
    MinnetError
        No frames, frames not uint8, a duration too short, or the file cannot be written.
    ShapeError
        Frames that are not grey or RGB pictures of one shape.
    """
    frames = [np.asarray(frame) for frame in frames]
    if not frames:
        raise MinnetError(f"cannot write {path}: a GIF needs at least one frame")
    for seconds, what in ((seconds_per_frame, "seconds_per_frame"), (last_frame_hold, "last_frame_hold")):
        if not seconds >= MIN_SECONDS_PER_FRAME:
            raise MinnetError(f"{what} must be at least {MIN_SECONDS_PER_FRAME} s, got {seconds}")
    shape = frames[0].shape
    for frame in frames:
        if frame.shape != shape or frame.ndim not in (2, 3) or frame.shape[2:] not in ((), (3,)):
            raise ShapeError("save_gif", f"(H, W) or (H, W, 3), all as the first, {shape}", frame.shape, "frames")
        if frame.dtype != np.uint8:
            raise MinnetError(f"cannot write {path}: GIF frames must be uint8, got {frame.dtype}")
    pictures = _paletted(frames)
    durations = [round(1000 * seconds_per_frame)] * (len(pictures) - 1) + [round(1000 * last_frame_hold)]
    with atomic_write(path) as file:
        pictures[0].save(
            file,
            format="GIF",
            save_all=True,
            append_images=pictures[1:],
            duration=durations,
            loop=0 if loop else None,  # 0: forever; without the loop extension a GIF plays once
        )
    return len(frames)


def _paletted(frames):
    """Pillow images for the GIF: grey frames as they are, RGB frames mapped to one palette
    made from all of them (median cut, no dithering)."""
    if frames[0].ndim == 2:
        return [Image.fromarray(frame, "L") for frame in frames]
    palette = Image.fromarray(np.concatenate(frames), "RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    return [Image.fromarray(frame, "RGB").quantize(palette=palette, dither=Image.Dither.NONE) for frame in frames]


def with_caption(picture, caption, *, font_size=16, background=255, ink=0):
    """``picture`` (uint8 grey or RGB) under a band holding ``caption``, centred.

    The band is ``1.6 font_size`` pixels high, of grey level ``background``, the text of grey
    level ``ink``; the result keeps the picture's width and mode.
    """
    picture = np.asarray(picture)
    font = drawing.font(font_size)
    band = round(1.6 * font_size)
    mode = "L" if picture.ndim == 2 else "RGB"
    fill = background if mode == "L" else (background,) * 3
    framed = Image.new(mode, (picture.shape[1], picture.shape[0] + band), fill)
    framed.paste(Image.fromarray(picture, mode), (0, band))
    draw = ImageDraw.Draw(framed)
    ink = ink if mode == "L" else (ink,) * 3
    drawing.draw_text(draw, (picture.shape[1] / 2, band / 2), caption, font, fill=ink, align="cm")
    return np.asarray(framed)


def fewer_grey_levels(picture, levels):
    """uint8 ``picture`` with each value rounded to the nearest of ``levels`` evenly spaced grey
    levels, 0 and 255 among them: ``round(round(v (levels - 1) / 255) 255 / (levels - 1))``.

    A grid of 100 digits at 16 levels makes a GIF frame about half the size it is at 256, with
    no difference one sees at a glance.
    """
    steps = levels - 1
    return np.round(np.round(np.asarray(picture) * (steps / 255)) * (255 / steps)).astype(np.uint8)
