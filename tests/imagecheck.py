"""Reading what an image shows: where its plot areas are, the colour-map
level of a pixel, where a line of a given colour passes.

Only the pixels are read (Pillow), never the code that drew them, so that
an image checked here shows the values a test expects."""
import numpy as np
from PIL import Image


def rgb(path):
    """The image as an (height, width, 3) array of 0-255 integers."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int32)


def _runs(flags):
    """(first, last) of each run of True in a 1-d boolean array."""
    runs, start = [], None
    for i, f in enumerate(list(flags) + [False]):
        if f and start is None:
            start = i
        elif not f and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def plot_areas(pixels, min_share=0.3, min_size=20):
    """Boxes (left, top, right, bottom), inclusive, of the framed plot areas
    (a matplotlib Axes' spines, a colour bar's outline), left to right, then
    top to bottom.

    Frame lines are dark: the columns of the left and right lines hold long
    runs of dark pixels (as does a plot area painted dark all over), and the
    top and bottom lines are rows dark from the left line to the right one
    (stacked plots: one pair of rows each).  Text, ticks, light grid lines
    and coloured fills are none of these."""
    height, width, _ = pixels.shape
    dark = pixels.sum(axis=2) < 3 * 100
    inked = pixels.sum(axis=2) < 3 * 235
    runs = _runs(dark.sum(axis=0) >= min_share * height)
    boxes = []
    i = 0
    while i < len(runs):
        for j in range(i, len(runs)):
            left, right = runs[i][0], runs[j][1]
            if right - left + 1 < min_size:
                continue
            dark_rows = dark[:, left:right + 1].mean(axis=1) >= 0.9
            inked_rows = inked[:, left:right + 1].mean(axis=1) >= 0.9
            found = []
            for top, bottom in _runs(inked_rows):           # painted all over
                if bottom - top + 1 >= min_size and dark_rows[top] and dark_rows[bottom]:
                    found.append((left, top, right, bottom))
                    dark_rows[top:bottom + 1] = False
            row_runs = _runs(dark_rows)
            k = 0
            while k < len(row_runs):
                top, bottom = row_runs[k]
                if k + 1 < len(row_runs) and row_runs[k + 1][0] - top >= min_size:
                    found.append((left, top, right, row_runs[k + 1][1]))
                    k += 2
                else:
                    k += 1
            if found:
                boxes += sorted(found, key=lambda b: b[1])
                i = j
                break
        i += 1
    return boxes


def inner(box, margin=2):
    """The box without its frame lines."""
    left, top, right, bottom = box
    return left + margin, top + margin, right - margin, bottom - margin


def colormap_level(pixel, cmap="inferno"):
    """Where on the colour map (0: its bottom, 1: its top) an RGB pixel is,
    and how far (0-441) the pixel is from that colour."""
    from matplotlib import colormaps
    table = (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).round()
    d = np.sqrt(((table - np.asarray(pixel, dtype=np.float64)) ** 2).sum(axis=1))
    i = int(d.argmin())
    return i / 255.0, float(d[i])


def at_fraction(box, fx, fy):
    """The pixel (x, y) at fractions (fx from the left, fy from the
    bottom) of a box's inside."""
    left, top, right, bottom = box
    x = left + fx * (right - left)
    y = bottom - fy * (bottom - top)
    return int(round(x)), int(round(y))


def color_rows(pixels, x, color, box, tolerance=40):
    """Rows of column x inside box whose pixel is within tolerance of color."""
    left, top, right, bottom = box
    column = pixels[top:bottom + 1, x]
    d = np.sqrt(((column - np.asarray(color)) ** 2).sum(axis=1))
    return [top + i for i in np.nonzero(d <= tolerance)[0]]


def tab_color(index):
    """matplotlib's default colour cycle (tab10), as 0-255 RGB."""
    from matplotlib import colormaps
    return tuple(int(round(c * 255)) for c in colormaps["tab10"](index)[:3])


def drawn_texts(draw):
    """The texts (titles, axis labels, tick labels, legends) of the SVG image
    draw() writes and returns the path of: with svg.fonttype 'none', SVG
    keeps each text as a <text> element instead of glyph outlines."""
    import html
    import re
    import matplotlib
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        path = draw()
    with open(path) as f:
        svg = f.read()
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
