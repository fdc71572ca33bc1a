"""Pictures of samples, drawn with Pillow alone: image grids and grids side by side.

* :func:`image_grid` tiles a stack of digits into one uint8 picture; :func:`save_grid` writes it.
* :func:`side_by_side` puts several grids in a row with a caption above each (e.g. one grid
  per epoch, as in the papers' "samples across training" figures).
* :func:`plot_curves`, the line plots of losses and metrics, lives in :mod:`minnet.figures.plots`
  and is importable from here too.

Every PNG is written atomically: to a temporary file in the target directory, then renamed
over the target, so a reader (or a crash) never sees half a file. A missing or unwritable
directory raises :class:`~minnet.errors.MinnetError`. Text and files: :mod:`minnet.figures.drawing`.
"""

import math

import numpy as np
from PIL import Image, ImageDraw

from minnet.backend import to_numpy
from minnet.figures import drawing
from minnet.figures.plots import plot_curves

__all__ = ["image_grid", "plot_curves", "save_grid", "side_by_side"]


def image_grid(images, *, nrow=None, padding=2, scale=3, pad_value=1.0, row_labels=None):
    """Tile a stack of grey-level images into one picture.

    Image ``i`` goes to row ``i // nrow``, column ``i % nrow``; every image is surrounded by
    ``padding`` pixels of ``pad_value``, and the whole grid is then enlarged ``scale`` times by
    nearest-neighbour repetition so small digits stay crisp on screen. With ``R = ceil(N / nrow)``
    rows, the result has shape

    ``(scale * (R (H + padding) + padding),  L + scale * (nrow (W + padding) + padding))``

    where ``L`` is the width of the label column (0 without ``row_labels``).

    Parameters
    ----------
    images : array (N, H, W), (N, 1, H, W) or (N, H*W) with a square H = W, NumPy or CuPy
        Intensities in [0, 1]; values outside are clipped and NaN shows as 0.
    nrow : int, optional
        Images per row; default ``ceil(sqrt(N))``. Conditional models pass 10 with the images
        ordered by label, so each row shows one digit.
    padding : int
        Pixels between images and around the border, before scaling.
    scale : int
        Enlargement factor (nearest neighbour).
    pad_value : float
        Intensity of the padding, in [0, 1].
    row_labels : sequence of str, optional
        One label per row, drawn in a column at the left (e.g. ``"0"`` to ``"9"``).

    Returns
    -------
    ndarray of uint8, 2-D
        0 is black, 255 white.
    """
    stack = _as_image_stack(images)
    count, height, width = stack.shape
    per_row = nrow or math.ceil(math.sqrt(count))
    n_rows = math.ceil(count / per_row)
    canvas = np.full(
        (n_rows * (height + padding) + padding, per_row * (width + padding) + padding),
        pad_value,
    )
    for index, image in enumerate(stack):
        row, column = divmod(index, per_row)
        top = padding + row * (height + padding)
        left = padding + column * (width + padding)
        canvas[top : top + height, left : left + width] = image
    grid = _to_uint8(canvas).repeat(scale, axis=0).repeat(scale, axis=1)
    if row_labels is None:
        return grid
    if len(row_labels) != n_rows:
        raise ValueError(f"{len(row_labels)} row labels for a grid of {n_rows} rows")
    row_centres = [
        scale * (padding + row * (height + padding) + height / 2) for row in range(n_rows)
    ]
    return _with_row_labels(grid, row_labels, row_centres, scale * height, _to_uint8(pad_value))


def save_grid(path, images, **grid_options):
    """Write ``image_grid(images, **grid_options)`` to ``path`` as a PNG; return the grid."""
    grid = image_grid(images, **grid_options)
    drawing.save_png(Image.fromarray(grid), path)
    return grid


def side_by_side(grids, captions, path, *, gap=24):
    """Place grids in one row, each under its caption, and write the figure to ``path`` (PNG).

    Meant for "samples across training" figures: one :func:`image_grid` per epoch, captioned
    ``"epoch 1"``, ``"epoch 5"``, ... Grids may differ in size; they are top-aligned and each
    caption is centred over its grid, on a white background.

    Parameters
    ----------
    grids : sequence of 2-D uint8 arrays
        Pictures as returned by :func:`image_grid`.
    captions : sequence of str
        One per grid.
    path : str or path-like
        Where to write the PNG.
    gap : int
        White pixels between neighbouring grids and around the figure.

    Returns
    -------
    ndarray of uint8, 2-D
        The figure that was written.
    """
    if len(grids) != len(captions):
        raise ValueError(f"{len(grids)} grids but {len(captions)} captions")
    if not grids:
        raise ValueError("side_by_side needs at least one grid")
    font = drawing.font(20)
    caption_height = drawing.line_height(font)
    column_widths = [
        max(grid.shape[1], drawing.text_width(font, text)) for grid, text in zip(grids, captions)
    ]
    width = sum(column_widths) + gap * (len(grids) + 1)
    grids_top = gap + caption_height + gap // 2
    height = grids_top + max(grid.shape[0] for grid in grids) + gap
    figure = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(figure)
    left = gap
    for grid, caption, column_width in zip(grids, captions, column_widths):
        centre = left + column_width / 2
        drawing.draw_text(draw, (centre, gap), caption, font, fill=0, align="ct")
        figure.paste(Image.fromarray(grid), (round(centre - grid.shape[1] / 2), grids_top))
        left += column_width + gap
    drawing.save_png(figure, path)
    return np.asarray(figure)


def _as_image_stack(images):
    """``images`` as a float64 NumPy stack (N, H, W) clipped to [0, 1], NaN replaced by 0."""
    stack = to_numpy(images).astype(np.float64)
    given_shape = stack.shape
    if stack.ndim == 4 and stack.shape[1] == 1:
        stack = stack[:, 0]
    elif stack.ndim == 2 and math.isqrt(stack.shape[1]) ** 2 == stack.shape[1]:
        side = math.isqrt(stack.shape[1])
        stack = stack.reshape(-1, side, side)
    if stack.ndim != 3 or len(stack) == 0:
        raise ValueError(f"expected a non-empty stack of images (N, H, W), got shape {given_shape}")
    return np.clip(np.nan_to_num(stack, nan=0.0), 0.0, 1.0)


def _to_uint8(intensity):
    """Intensities in [0, 1] (clipped) as uint8 grey levels 0..255."""
    return np.round(np.clip(intensity, 0.0, 1.0) * 255).astype(np.uint8)


def _with_row_labels(grid, labels, row_centres, row_height, background):
    """``grid`` with a column of ``labels`` prepended, each centred on its row's centre line."""
    font_size = int(np.clip(0.45 * row_height, 10, 32))
    font = drawing.font(font_size)
    margin = font_size // 2
    label_width = max(drawing.text_width(font, str(label)) for label in labels) + 2 * margin
    picture = Image.new("L", (label_width + grid.shape[1], grid.shape[0]), int(background))
    picture.paste(Image.fromarray(grid), (label_width, 0))
    draw = ImageDraw.Draw(picture)
    ink = 0 if background >= 128 else 255
    for label, centre in zip(labels, row_centres):
        drawing.draw_text(draw, (label_width - margin, centre), str(label), font, fill=ink, align="rm")
    return np.asarray(picture)
