"""Line plots of losses and metrics, drawn with Pillow alone: :func:`plot_curves`.

Axes with round-numbered ticks (linear or logarithmic), a title, a legend placed where no
curve runs, and antialiasing by drawing large and shrinking. Text and files:
:mod:`minnet.figures.drawing`.
"""

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from minnet.backend import to_numpy
from minnet.figures import drawing

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
    fonts = {"tick": drawing.font(13 * s), "label": drawing.font(15 * s), "title": drawing.font(18 * s)}
    gap = 8 * s
    label_height, tick_height = drawing.line_height(fonts["label"]), drawing.line_height(fonts["tick"])
    y_labels_width = max((drawing.text_width(fonts["tick"], text) for text in y_labels), default=0)
    area = _PlotArea(
        left=gap + label_height + gap + y_labels_width + _TICK_LENGTH * s + gap // 2,
        top=gap + drawing.line_height(fonts["title"]) + gap,
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
    drawing.draw_text(draw, (centre_x, gap), title, fonts["title"], _TEXT, "ct")
    drawing.draw_text(draw, (centre_x, height - gap), xlabel, fonts["label"], _TEXT, "cb")
    drawing.draw_vertical_text(image, (gap, centre_y), ylabel, fonts["label"], _TEXT)
    if curves:
        _draw_legend(draw, area, colours, marked, fonts["tick"], area.pixels(points))
    drawing.save_png(image.reduce(s), path)


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
        drawing.draw_text(draw, (x, area.bottom + tick + gap), text, font, _TEXT, "ct")
    for y, text in zip(area.y_pixel(y_ticks), y_labels):
        draw.line([(area.left, y), (area.right, y)], fill=_GRID, width=s)
        draw.line([(area.left - tick, y), (area.left, y)], fill=_AXES, width=s)
        drawing.draw_text(draw, (area.left - tick - gap, y), text, font, _TEXT, "rm")


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
    padding, swatch, row_height = 8 * s, 22 * s, drawing.line_height(font) + 6 * s
    box_width = padding * 3 + swatch + max(drawing.text_width(font, name) for name in colours)
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
        centre = y + padding + row * row_height + drawing.line_height(font) / 2
        draw.line([(x + padding, centre), (x + padding + swatch, centre)], fill=colour, width=3 * s)
        if name in marked:
            _draw_dot(draw, (x + padding + swatch / 2, centre), colour)
        drawing.draw_text(draw, (x + 2 * padding + swatch, centre), name, font, _TEXT, "lm")
