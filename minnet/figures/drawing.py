"""Text and PNG files for minnet's pictures (:mod:`minnet.figures.images`, :mod:`minnet.figures.plots`).

The font is Pillow's default (Aileron, ASCII only, sizeable from Pillow 10.1 on; older Pillow
falls back to its fixed-size bitmap font), so labels are plain ASCII. Every PNG is written
atomically: to a temporary file in the target directory, then renamed over the target.
"""

import functools

from PIL import Image, ImageDraw, ImageFont

from minnet.fileio import atomic_write


@functools.cache
def font(size):
    """Pillow's default font at ``size`` pixels (the fixed bitmap font on Pillow < 10.1)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: load_default takes no size
        return ImageFont.load_default()


def text_width(font, text):
    left, _, right, _ = font.getbbox(text)
    return right - left


def line_height(font):
    """Height of a line of text, from the top of capitals to the bottom of descenders."""
    _, top, _, bottom = font.getbbox("Hg")
    return bottom - top


def draw_text(draw, anchor_point, text, font, fill, align):
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


def draw_vertical_text(image, centre_left, text, font, fill):
    """Draw ``text`` turned 90 degrees counter-clockwise (reading upwards), its left side at
    ``centre_left[0]`` and its centre at height ``centre_left[1]``."""
    mask = Image.new("L", (text_width(font, text) + 2, line_height(font) + 2), 0)
    draw_text(ImageDraw.Draw(mask), (1, 1), text, font, fill=255, align="lt")
    mask = mask.rotate(90, expand=True)
    x, y = centre_left
    image.paste(fill, (round(x), round(y - mask.height / 2)), mask)


def save_png(image, path):
    """Write ``image`` to ``path`` as PNG, atomically (see :mod:`minnet.fileio`)."""
    with atomic_write(path) as file:
        image.save(file, format="PNG")
