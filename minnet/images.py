"""Pictures of results, drawn with Pillow alone: image grids, grids side by side, line plots.

* :func:`image_grid` tiles a stack of digits into one uint8 picture; :func:`save_grid` writes it.
* :func:`side_by_side` puts several grids in a row with a caption above each (e.g. one grid
  per epoch, as in the papers' "samples across training" figures).
* :func:`plot_curves` draws loss or metric curves as a line plot with axes, round-numbered
  ticks, a title and a legend.

Every PNG is written atomically: to a temporary file in the target directory, then renamed
over the target, so a reader (or a crash) never sees half a file. A missing or unwritable
directory raises :class:`~minnet.errors.MinnetError`.

The bundled font is Pillow's default (Aileron, ASCII only, sizeable from Pillow 10.1 on; older
Pillow falls back to its fixed-size bitmap font), so labels are plain ASCII.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from minnet.backend import to_numpy
from minnet.fileio import atomic_write

# Line colours, in order: matplotlib's default "tab10" palette.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip

# Plots are drawn this many times larger and then shrunk by box-averaging, which antialiases
# every line, marker and glyph.
SUPERSAMPLE = 2

# Curves with at most this many points also get a marker at each point (e.g. one per epoch).
MAX_POINTS_WITH_MARKERS = 25

_TICK_LENGTH = 5  # pixels

_TEXT = "#222222"
_AXES = "#444444"
_GRID = "#e6e6e6"
_LEGEND_BORDER = "#bbbbbb"


# ---------------------------------------------------------------------------- image grids


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
    _save_png(Image.fromarray(grid), path)
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
    font = _font(20)
    caption_height = _line_height(font)
    column_widths = [
        max(grid.shape[1], _text_width(font, text)) for grid, text in zip(grids, captions)
    ]
    width = sum(column_widths) + gap * (len(grids) + 1)
    grids_top = gap + caption_height + gap // 2
    height = grids_top + max(grid.shape[0] for grid in grids) + gap
    figure = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(figure)
    left = gap
    for grid, caption, column_width in zip(grids, captions, column_widths):
        centre = left + column_width / 2
        _draw_text(draw, (centre, gap), caption, font, fill=0, align="ct")
        figure.paste(Image.fromarray(grid), (round(centre - grid.shape[1] / 2), grids_top))
        left += column_width + gap
    _save_png(figure, path)
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
    font = _font(font_size)
    margin = font_size // 2
    label_width = max(_text_width(font, str(label)) for label in labels) + 2 * margin
    picture = Image.new("L", (label_width + grid.shape[1], grid.shape[0]), int(background))
    picture.paste(Image.fromarray(grid), (label_width, 0))
    draw = ImageDraw.Draw(picture)
    ink = 0 if background >= 128 else 255
    for label, centre in zip(labels, row_centres):
        _draw_text(draw, (label_width - margin, centre), str(label), font, fill=ink, align="rm")
    return np.asarray(picture)


# ---------------------------------------------------------------------------- line plots


def plot_curves(path, series, *, title, xlabel, ylabel, logy=False, size=(800, 500)):
    """Draw named curves as a line plot and write it to ``path`` (PNG).

    Each curve is a polyline through its finite points; a NaN or infinite value (or, with
    ``logy``, a value <= 0) breaks the line there, and a point with no neighbour is drawn as a
    dot, so a curve of a single point still shows. Curves of at most
    :data:`MAX_POINTS_WITH_MARKERS` points get a marker at every point. The axes span the data
    with a 4% margin; ticks sit at round values (multiples of 1, 2, 2.5 or 5 times a power of
    ten; powers of ten on a log axis), with light grid lines. The legend goes in the corner
    covering the fewest points.

    Parameters
    ----------
    path : str or path-like
        Where to write the PNG.
    series : dict of str -> (xs, ys)
        Curve name -> x and y values, equal-length sequences or arrays (NumPy or CuPy).
    title, xlabel, ylabel : str
        Text above the plot and along the axes.
    logy : bool
        Logarithmic y axis.
    size : (int, int)
        Width and height of the PNG in pixels.
    """
    curves = {name: _finite_runs(xs, ys, logy) for name, (xs, ys) in series.items()}
    runs = [run for runs_of_curve in curves.values() for run in runs_of_curve]
    points = np.concatenate(runs) if runs else np.empty((0, 2))
    x_range, y_range = _padded_range(points[:, 0]), _padded_range(points[:, 1])
    x_ticks = _linear_ticks(*x_range)
    y_ticks = _log_ticks(*y_range) if logy else _linear_ticks(*y_range)
    x_labels = _tick_labels(x_ticks)
    y_labels = _tick_labels([10.0**t for t in y_ticks] if logy else y_ticks)

    s = SUPERSAMPLE
    width, height = size[0] * s, size[1] * s
    fonts = {"tick": _font(13 * s), "label": _font(15 * s), "title": _font(18 * s)}
    gap = 8 * s
    label_height, tick_height = _line_height(fonts["label"]), _line_height(fonts["tick"])
    y_labels_width = max((_text_width(fonts["tick"], text) for text in y_labels), default=0)
    area = _PlotArea(
        left=gap + label_height + gap + y_labels_width + _TICK_LENGTH * s + gap // 2,
        top=gap + _line_height(fonts["title"]) + gap,
        right=width - 3 * gap,
        bottom=height - (gap + label_height + gap + tick_height + _TICK_LENGTH * s + gap // 2),
        x_range=x_range,
        y_range=y_range,
    )

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    _draw_ticks_and_grid(draw, area, x_ticks, x_labels, y_ticks, y_labels, fonts["tick"])
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(curves)}
    marked = {
        name for name, runs_of_curve in curves.items()
        if sum(len(run) for run in runs_of_curve) <= MAX_POINTS_WITH_MARKERS
    }  # fmt: skip
    for name, runs_of_curve in curves.items():
        _draw_curve(draw, area, runs_of_curve, colours[name], name in marked)
    draw.rectangle(area.box, outline=_AXES, width=s)
    centre_x, centre_y = (area.left + area.right) / 2, (area.top + area.bottom) / 2
    _draw_text(draw, (centre_x, gap), title, fonts["title"], _TEXT, "ct")
    _draw_text(draw, (centre_x, height - gap), xlabel, fonts["label"], _TEXT, "cb")
    _draw_vertical_text(image, (gap, centre_y), ylabel, fonts["label"], _TEXT)
    if curves:
        _draw_legend(draw, area, colours, marked, fonts["tick"], area.pixels(points))
    _save_png(image.reduce(s), path)


@dataclass(frozen=True)
class _PlotArea:
    """The rectangle of the plot inside the figure (pixels) and the data ranges it shows."""

    left: float
    top: float
    right: float
    bottom: float
    x_range: tuple
    y_range: tuple

    @property
    def box(self):
        return (self.left, self.top, self.right, self.bottom)

    def x_pixel(self, x):
        x0, x1 = self.x_range
        return self.left + (np.asarray(x) - x0) / (x1 - x0) * (self.right - self.left)

    def y_pixel(self, y):
        """Pixel row of data value ``y``; y grows upwards, rows downwards."""
        y0, y1 = self.y_range
        return self.bottom - (np.asarray(y) - y0) / (y1 - y0) * (self.bottom - self.top)

    def pixels(self, points):
        """Data points (k, 2) as pixel positions (k, 2)."""
        return np.stack([self.x_pixel(points[:, 0]), self.y_pixel(points[:, 1])], axis=1)


def _draw_ticks_and_grid(draw, area, x_ticks, x_labels, y_ticks, y_labels, font):
    """Tick marks outside the plot, their labels, and light grid lines across it."""
    s = SUPERSAMPLE
    tick, gap = _TICK_LENGTH * s, 4 * s
    for x, text in zip(area.x_pixel(x_ticks), x_labels):
        draw.line([(x, area.top), (x, area.bottom)], fill=_GRID, width=s)
        draw.line([(x, area.bottom), (x, area.bottom + tick)], fill=_AXES, width=s)
        _draw_text(draw, (x, area.bottom + tick + gap), text, font, _TEXT, "ct")
    for y, text in zip(area.y_pixel(y_ticks), y_labels):
        draw.line([(area.left, y), (area.right, y)], fill=_GRID, width=s)
        draw.line([(area.left - tick, y), (area.left, y)], fill=_AXES, width=s)
        _draw_text(draw, (area.left - tick - gap, y), text, font, _TEXT, "rm")


def _draw_curve(draw, area, runs, colour, with_markers):
    """One curve: a line through each run of points, and a dot at every point when
    ``with_markers`` or when the run is a single point."""
    for run in runs:
        pixels = [tuple(point) for point in area.pixels(run)]
        if len(pixels) > 1:
            draw.line(pixels, fill=colour, width=2 * SUPERSAMPLE, joint="curve")
        if with_markers or len(pixels) == 1:
            for centre in pixels:
                _draw_dot(draw, centre, colour)


def _draw_dot(draw, centre, colour):
    radius = 3 * SUPERSAMPLE
    x, y = centre
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)


def _finite_runs(xs, ys, logy):
    """Split a curve into runs of consecutive plottable points.

    Returns a list of float64 arrays (k, 2) of (x, y) pairs, with y replaced by log10(y) when
    ``logy``: plotting then works in that space and only the tick labels know about the log.
    """
    xs = to_numpy(xs).astype(np.float64).ravel()
    ys = to_numpy(ys).astype(np.float64).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"a curve has {xs.size} x values but {ys.size} y values")
    plottable = np.isfinite(xs) & np.isfinite(ys)
    if logy:
        plottable &= ys > 0
        ys = np.log10(np.where(plottable, ys, 1.0))
    points = np.stack([xs, ys], axis=1)
    # Indices where plottable switches on or off delimit the runs.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], plottable.astype(np.int8), [0]])))
    return [points[start:stop] for start, stop in zip(edges[::2], edges[1::2])]


def _padded_range(values):
    """(low, high) covering ``values`` with a 4% margin; a width of 1 around a single value."""
    if len(values) == 0:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    if high == low:
        half_width = max(abs(low) * 0.1, 0.5)
        return low - half_width, high + half_width
    margin = 0.04 * (high - low)
    return low - margin, high + margin


def _linear_ticks(low, high, max_ticks=7):
    """Round tick values inside [low, high]: the multiples of a step ``m * 10^k``.

    The step is the smallest with ``m`` in (1, 2, 2.5, 5) that leaves at most ``max_ticks``
    ticks, as matplotlib's ``MaxNLocator`` chooses; successive steps at most double, so at
    least three ticks remain.
    """

    def multiples(step):  # k * step, not a running sum, so no rounding error accumulates
        return [k * step for k in range(math.ceil(low / step), math.floor(high / step) + 1)]

    power = 10.0 ** math.floor(math.log10((high - low) / max_ticks))
    # m = 10 always qualifies: 10 * power > (high - low) / max_ticks.
    return next(
        ticks
        for ticks in (multiples(m * power) for m in (1, 2, 2.5, 5, 10))
        if len(ticks) <= max_ticks
    )


def _log_ticks(low, high, max_ticks=7):
    """Tick positions, in log10 space, for a log axis spanning 10^low .. 10^high.

    Powers of ten when at least three fit (every n-th one if there are too many), else
    1, 2 and 5 times powers of ten, else round values of a linear axis.
    """
    decades = list(range(math.ceil(low), math.floor(high) + 1))
    if len(decades) >= 3:
        stride = math.ceil(len(decades) / max_ticks)
        return [float(k) for k in decades[::stride]]
    one_two_five = [
        k + math.log10(m) for k in range(math.floor(low), math.ceil(high) + 1) for m in (1, 2, 5)
    ]
    inside = [t for t in one_two_five if low <= t <= high]
    if len(inside) >= 3:
        return inside
    return [math.log10(v) for v in _linear_ticks(10.0**low, 10.0**high) if v > 0]


def _tick_labels(values):
    """Labels for one axis's ticks, all in one notation: plain decimals (``0.25``, ``5000``)
    when every tick is 0 or has a magnitude in [1e-3, 1e6), else scientific (``2e5``,
    ``1.5e-4``)."""
    plain = all(value == 0 or 1e-3 <= abs(value) < 1e6 for value in values)
    return [_plain_number(value) if plain else _scientific_number(value) for value in values]


def _plain_number(value):
    # Six decimals at most: hides floating-point noise such as 0.30000000000000004.
    return "0" if value == 0 else np.format_float_positional(value, precision=6, trim="-")


def _scientific_number(value):
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _draw_legend(draw, area, colours, marked, font, occupied):
    """Draw a boxed legend (per curve: a stroke of its colour, with a dot if its points are
    ``marked``, and its name) in the plot corner covering the fewest ``occupied`` pixels (k, 2)."""
    s = SUPERSAMPLE
    padding, swatch, row_height = 8 * s, 22 * s, _line_height(font) + 6 * s
    box_width = padding * 3 + swatch + max(_text_width(font, name) for name in colours)
    box_height = padding * 2 + row_height * len(colours) - 6 * s
    left, top, right, bottom = area.box
    inset = 10 * s
    corners = [
        (right - inset - box_width, top + inset),  # upper right first: the usual place
        (left + inset, top + inset),
        (right - inset - box_width, bottom - inset - box_height),
        (left + inset, bottom - inset - box_height),
    ]

    def covered(corner):
        x, y = corner
        inside_x = (occupied[:, 0] >= x) & (occupied[:, 0] <= x + box_width)
        inside_y = (occupied[:, 1] >= y) & (occupied[:, 1] <= y + box_height)
        return int(np.sum(inside_x & inside_y))

    x, y = min(corners, key=covered)
    draw.rounded_rectangle(
        [x, y, x + box_width, y + box_height],
        radius=4 * s,
        fill="white",
        outline=_LEGEND_BORDER,
        width=s,
    )
    for row, (name, colour) in enumerate(colours.items()):
        centre = y + padding + row * row_height + _line_height(font) / 2
        draw.line([(x + padding, centre), (x + padding + swatch, centre)], fill=colour, width=3 * s)
        if name in marked:
            _draw_dot(draw, (x + padding + swatch / 2, centre), colour)
        _draw_text(draw, (x + 2 * padding + swatch, centre), name, font, _TEXT, "lm")


# ---------------------------------------------------------------------------- text and files


@functools.cache
def _font(size):
    """Pillow's default font at ``size`` pixels (the fixed bitmap font on Pillow < 10.1)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: load_default takes no size
        return ImageFont.load_default()


def _text_width(font, text):
    left, _, right, _ = font.getbbox(text)
    return right - left


def _line_height(font):
    """Height of a line of text, from the top of capitals to the bottom of descenders."""
    _, top, _, bottom = font.getbbox("Hg")
    return bottom - top


def _draw_text(draw, anchor_point, text, font, fill, align):
    """Draw ``text`` so that the point of its box named by ``align`` lies at ``anchor_point``.

    ``align`` is two letters: horizontal ``l``/``c``/``r`` (left, centre, right), then vertical
    ``t``/``m``/``b`` (top, middle, bottom). The vertical box is that of "Hg", so lines of text
    share a baseline whatever their letters. (Done by hand because Pillow's own ``anchor`` is
    unavailable for the bitmap fallback font.)
    """
    text_left, _, text_right, _ = font.getbbox(text)
    _, line_top, _, line_bottom = font.getbbox("Hg")
    x, y = anchor_point
    x -= {"l": 0.0, "c": 0.5, "r": 1.0}[align[0]] * (text_right - text_left)
    y -= {"t": 0.0, "m": 0.5, "b": 1.0}[align[1]] * (line_bottom - line_top)
    draw.text((x - text_left, y - line_top), text, font=font, fill=fill)


def _draw_vertical_text(image, centre_left, text, font, fill):
    """Draw ``text`` turned 90 degrees counter-clockwise (reading upwards), its left side at
    ``centre_left[0]`` and its centre at height ``centre_left[1]``."""
    mask = Image.new("L", (_text_width(font, text) + 2, _line_height(font) + 2), 0)
    _draw_text(ImageDraw.Draw(mask), (1, 1), text, font, fill=255, align="lt")
    mask = mask.rotate(90, expand=True)
    x, y = centre_left
    image.paste(fill, (round(x), round(y - mask.height / 2)), mask)


def _save_png(image, path):
    """Write ``image`` to ``path`` as PNG, atomically (see :mod:`minnet.fileio`)."""
    with atomic_write(path) as file:
        image.save(file, format="PNG")
