"""DRAW's figures, written into the run directory after every epoch.

* ``generation.png`` (the paper's Fig. 7): samples drawn from z_t ~ N(0, I), one per row, the
  canvas sigmoid(c_t) after a step in each column, left to right (16 evenly spaced steps of
  T, the last one included, when T > 16; the step numbers are written above the columns). With
  attention each write window is drawn in green.
* ``attention.png`` (the paper's Fig. 4): validation images (first column, "x") reconstructed
  step by step, the canvas sigmoid(c_t) with the read window of step t in red and its write
  window in green (with attention only). A window is drawn as the square its N x N filter centres span plus one
  stride, N delta wide, centred on (gX, gY) (Eqs. 19-24).
"""

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from minnet.backend import to_numpy
from minnet.data import load_mnist
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


def draw_figures(trainer, run_dir, data_dir=None):
    """Write generation.png and, with attention, attention.png into ``run_dir``."""
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


def shown_steps(steps):
    """Indices of the steps shown: all of them, or MAX_COLUMNS evenly spaced with the last."""
    return np.unique(np.linspace(0, steps - 1, min(steps, MAX_COLUMNS)).round().astype(int))


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
        pixels = (intensity.reshape(rows, SIDE, SIDE) * 255).round().astype(np.uint8)
        left = GAP + column * (tile + GAP)
        draw.text((left + 2, 1), caption, fill="black", font=font)
        for row in range(rows):
            top = HEADER + GAP + row * (tile + GAP)
            digit = Image.fromarray(pixels[row], "L").resize((tile, tile), Image.NEAREST).convert("RGB")
            picture.paste(digit, (left, top))
            for window, colour in ((read, READ_COLOUR), (write, WRITE_COLOUR)):
                if window is not None:
                    draw.rectangle(window_box(window, row, left, top), outline=colour)
    with atomic_write(path) as file:
        picture.save(file, format="PNG")


def window_box(window, row, left, top):
    """The window of image ``row`` as a rectangle in picture coordinates, clipped to its tile.

    Filter centres are in 1-based pixel coordinates, pixel a covering [a - 1, a) on the image.
    """
    g_x, g_y, delta, n = window
    half = n * float(delta[row]) / 2
    corners = []
    for centre, origin in ((float(g_x[row]), left), (float(g_y[row]), top)):
        low, high = centre - 0.5 - half, centre - 0.5 + half
        corners.append([origin + SCALE * np.clip(v, 0, SIDE) for v in (low, high)])
    (x0, x1), (y0, y1) = corners
    return [x0, y0, max(x1 - 1, x0), max(y1 - 1, y0)]
