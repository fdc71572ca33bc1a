"""DRAW's figures, written into the run directory after every epoch.

* ``generation.png`` (the paper's Fig. 7): samples drawn from z_t ~ N(0, I), one per row, the
  canvas sigmoid(c_t) after a step in each column, left to right (16 evenly spaced steps of
  T, the last one included, when T > 16; the step numbers are written above the columns). With
  attention each write window is drawn in green.
* ``attention.png`` (the paper's Fig. 4): validation images (first column, "x") reconstructed
  step by step, the canvas sigmoid(c_t) with the read window of step t in red and its write
  window in green (with attention only). A window is drawn as the square its N x N filter centres span plus one
  stride, N delta wide, centred on (gX, gY) (Eqs. 19-24).
* ``drawing.gif``: the first four images of ``attention.png`` drawn step by step, one frame
  per step (32 evenly spaced steps of T, the last one included, when T > 32), the windows as
  there, under the images they reconstruct; without attention the first four samples of
  ``generation.png``. About 10 KB a frame.
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from minnet.backend import to_numpy
from minnet.data import load_mnist
from minnet.figures.animation import save_gif, with_caption
from minnet.fileio import atomic_write
from minnet.layers.activations import sigmoid
from minnet.layers.base import evaluating

SIDE = 28
SCALE = 3  # screen pixels per image pixel
MAX_COLUMNS = 16
ROWS = 8  # samples / validation images per figure
FIGURE_SEED = 2026  # the noise of both figures, the same after every epoch
READ_COLOUR, WRITE_COLOUR = (230, 40, 40), (40, 200, 60)
GAP, HEADER = 2, 14
GIF_DIGITS, GIF_SCALE, GIF_STEPS = 4, 4, 32  # drawing.gif: images and steps shown, screen pixels per pixel


def draw_figures(trainer, run_dir, data_dir=None):
    """Write generation.png, with attention attention.png, and drawing.gif into ``run_dir``."""
    rng = np.random.default_rng(FIGURE_SEED)
    net = trainer.net
    trace = []
    net.generate(trainer.noise(ROWS, rng), trace=trace)
    save_steps(f"{run_dir}/generation.png", trace)
    if trainer.config.attention:
        images = load_mnist("validation", data_dir=data_dir, binarize="static").images[:ROWS]
        x = trainer.to_device(images).reshape(ROWS, SIDE * SIDE)
        trace = []
        with evaluating(net):
            net.forward(x, trainer.noise(ROWS, rng), trace=trace)
        save_steps(f"{run_dir}/attention.png", trace, originals=images)
        save_drawing(f"{run_dir}/drawing.gif", trace, originals=images)
    else:
        save_drawing(f"{run_dir}/drawing.gif", trace)


def shown_steps(steps, most=MAX_COLUMNS):
    """Indices of the steps shown: all of them, or ``most`` evenly spaced with the last."""
    return np.unique(np.linspace(0, steps - 1, min(steps, most)).round().astype(int))


def save_steps(path, trace, originals=None):
    """One row per image, one column per shown step: sigmoid(c_t) with its windows drawn on it.

    ``trace``: per step ``(c_t (B, 784), read window or None, write window or None)``, a window
    being ``(gX, gY, delta, N)`` with (B,) arrays (see ``window`` in :mod:`minnet.layers.attention`).
    ``originals`` (B, 28, 28), when given, fill a first column headed "x".
    """
    columns = [("x", np.asarray(originals), None, None)] if originals is not None else []
    for t in shown_steps(len(trace)):
        canvas, read, write = trace[t]
        columns.append((f"t={t + 1}", to_numpy(sigmoid(canvas)), read, write))
    rows = len(trace[0][0])
    tile = SIDE * SCALE
    picture = Image.new("RGB", (len(columns) * (tile + GAP) + GAP, HEADER + rows * (tile + GAP) + GAP), "white")
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default()
    for column, (caption, intensity, read, write) in enumerate(columns):
        left = GAP + column * (tile + GAP)
        draw.text((left + 2, 1), caption, fill="black", font=font)
        for row in range(rows):
            draw_digit(picture, intensity, read, write, row, (left, HEADER + GAP + row * (tile + GAP)), SCALE)
    with atomic_write(path) as file:
        picture.save(file, format="PNG")


def save_drawing(path, trace, originals=None):
    """An animated GIF of the first GIF_DIGITS images of ``trace`` (as :func:`save_steps`'),
    one frame per shown step t (up to GIF_STEPS): sigmoid(c_t) with its windows, under
    ``originals`` when given, headed "step t of T"; the last frame is held 2 s."""
    count = min(GIF_DIGITS, len(trace[0][0]))
    tile = SIDE * GIF_SCALE
    rows = [] if originals is None else [(np.asarray(originals), None, None)]
    frames = []
    for t in shown_steps(len(trace), GIF_STEPS):
        canvas, read, write = trace[t]
        shown = [*rows, (to_numpy(sigmoid(canvas)), read, write)]
        picture = Image.new("RGB", (count * (tile + GAP) + GAP, len(shown) * (tile + GAP) + GAP), "white")
        for row, (intensity, row_read, row_write) in enumerate(shown):
            for digit in range(count):
                at = (GAP + digit * (tile + GAP), GAP + row * (tile + GAP))
                draw_digit(picture, intensity, row_read, row_write, digit, at, GIF_SCALE)
        frames.append(with_caption(np.asarray(picture), f"step {t + 1} of {len(trace)}"))
    save_gif(frames, path, seconds_per_frame=0.15)


def draw_digit(picture, intensity, read, write, index, at, scale):
    """Paste image ``index`` of ``intensity`` (B, 784) or (B, 28, 28) in [0, 1], enlarged
    ``scale`` times, with its top left corner at ``at`` on ``picture`` (RGB), and outline its
    read window in red and its write window in green (each None when there is none)."""
    pixels = (np.asarray(intensity[index]).reshape(SIDE, SIDE) * 255).round().astype(np.uint8)
    tile = SIDE * scale
    picture.paste(Image.fromarray(pixels, "L").resize((tile, tile), Image.NEAREST).convert("RGB"), at)
    draw = ImageDraw.Draw(picture)
    for window, colour in ((read, READ_COLOUR), (write, WRITE_COLOUR)):
        if window is not None:
            draw.rectangle(window_box(window, index, *at, scale), outline=colour)


def window_box(window, row, left, top, scale):
    """The window of image ``row`` as a rectangle in picture coordinates, clipped to its tile
    (an image enlarged ``scale`` times, its top left corner at ``(left, top)``).

    Filter centres are in 1-based pixel coordinates, pixel a covering [a - 1, a) on the image.
    """
    g_x, g_y, delta, n = window
    half = n * float(delta[row]) / 2
    corners = []
    for centre, origin in ((float(g_x[row]), left), (float(g_y[row]), top)):
        low, high = centre - 0.5 - half, centre - 0.5 + half
        corners.append([origin + scale * np.clip(v, 0, SIDE) for v in (low, high)])
    (x0, x1), (y0, y1) = corners
    return [x0, y0, max(x1 - 1, x0), max(y1 - 1, y0)]
