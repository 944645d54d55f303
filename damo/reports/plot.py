"""Images of reports, drawn with matplotlib (Agg) and written atomically.

matplotlib is imported only here, and only when an image is asked for, so
that text reports start fast.
"""
import os

import numpy as np

from damo import fileutil, units
from damo.errors import DamoError

IMAGE_KINDS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg"}
# Raster images get exactly the asked pixels; vector ones the asked points.
_DPI = {"png": 100, "jpeg": 100, "svg": 72, "pdf": 72}


def image_kind(path):
    kind = IMAGE_KINDS.get(os.path.splitext(path)[1].lower())
    if kind is None:
        raise DamoError("unsupported image type of '%s' (use %s)"
                        % (path, ", ".join(sorted(IMAGE_KINDS))))
    return kind


# the largest image: matplotlib's Agg canvas takes 4 bytes a pixel (and
# bad_alloc's past that); 10,000 pixels a side is a wall poster, and 2^26
# pixels in all are 256 MiB
MAX_IMAGE_SIDE = 10000
MAX_IMAGE_PIXELS = 2 ** 26


def size_error(size):
    """Why an image of this (width, height) cannot be drawn, or None."""
    width, height = size
    if width <= 0 or height <= 0:
        return "image size must be positive, not %dx%d" % (width, height)
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or \
            width * height > MAX_IMAGE_PIXELS:
        return "image size %dx%d is too large (at most %d a side and %d pixels)" % (
            width, height, MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS)
    return None


def check_size(size):
    error = size_error(size)
    if error:
        raise DamoError(error)


def tight_layout(fig):
    """fig.tight_layout(), quiet when the image is too small for it (matplotlib
    warns on stderr, and the image is drawn anyway)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


def _figure(size, kind):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    width, height = size
    check_size(size)
    dpi = _DPI[kind]
    return Figure(figsize=(width / dpi, height / dpi), dpi=dpi)


def _save(fig, path, kind):
    permission = 0o666 & ~_umask()
    try:
        with fileutil.atomic_output(path, "wb", permission=permission) as f:
            fig.savefig(f, format=kind, dpi=_DPI[kind])
    except OSError as e:
        raise DamoError("%s: cannot write (%s)" % (path, e.strerror or e)) from None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _size_formatter(offset):
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda v, _pos: units.format_sz(v + offset, False)
                         if v + offset >= 0 else "-" + units.format_sz(-(v + offset), False))


def draw_heatmap(heatmap, path, kind, size, title, abs_time, abs_addr, ylabel=None):
    """Time (x) by address (y) image of ``heatmap``, like damo's gnuplot one."""
    fig = _figure(size, kind)
    ax = fig.add_subplot()
    heats = np.ma.masked_invalid(heatmap.heats.reshape(heatmap.time_resol, heatmap.addr_resol))
    t0 = heatmap.time_start if abs_time else 0
    a0 = heatmap.addr_start if abs_addr else 0
    t_len = heatmap.time_unit * heatmap.time_resol
    a_len = heatmap.addr_unit * heatmap.addr_resol
    extent = [t0 / 1e9, (t0 + t_len) / 1e9, 0, a_len]
    image = ax.imshow(heats.T, origin="lower", aspect="auto", extent=extent,
                      cmap="inferno", interpolation="nearest")
    ax.set_xlabel("Time (s%s)" % ("" if abs_time else ", from the map's start"))
    ax.set_ylabel(ylabel or "Address" + ("" if abs_addr else " (from the map's start)"))
    ax.yaxis.set_major_formatter(_size_formatter(a0))
    ax.set_title(title, fontsize="medium")
    bar = fig.colorbar(image, ax=ax)
    bar.set_label("Access frequency (%s)" % heatmap.heat_unit)
    tight_layout(fig)
    _save(fig, path, kind)


def draw_lines(series, path, size, xlabel, ylabel, title, y_is_size):
    """One line (with points) per (label, xs, ys) of ``series``."""
    kind = image_kind(path)
    fig = _figure(size, kind)
    ax = fig.add_subplot()
    for label, xs, ys in series:
        ax.plot(xs, ys, marker="o", markersize=3, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if y_is_size:
        ax.yaxis.set_major_formatter(_size_formatter(0))
    ax.set_title(title, fontsize="medium")
    if len(series) > 1:
        ax.legend()
    ax.grid(True, alpha=0.3)
    tight_layout(fig)
    _save(fig, path, kind)
