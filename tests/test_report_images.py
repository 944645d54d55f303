"""Image outputs: the kind and size asked for, checked on the bytes."""
import re

import pytest
from PIL import Image

import synth
from conftest import run_ours


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("img") / "r.data")
    synth.stairs(path, nr_snapshots=40, nr_targets=2, gaps=True)
    return path


def svg_size(path):
    head = open(path).read(2000)
    match = re.search(r'<svg[^>]*width="([\d.]+)pt" height="([\d.]+)pt"', head)
    return float(match.group(1)), float(match.group(2))


def pdf_size(path):
    data = open(path, "rb").read()
    assert data.startswith(b"%PDF-")
    match = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", data)
    return float(match.group(1)), float(match.group(2))


def check_image(path, kind, size):
    if kind in ("png", "jpeg"):
        with Image.open(path) as image:
            assert (image.format, image.size) == (kind.upper(), size)
    elif kind == "svg":
        assert svg_size(path) == size
    else:
        assert pdf_size(path) == size


@pytest.mark.parametrize("name,kind", [("m.png", "png"), ("m.svg", "svg"), ("m.pdf", "pdf"),
                                       ("m.jpeg", "jpeg")])
def test_heatmap_image(tmp_path, recording, name, kind):
    out = str(tmp_path / name)
    code, stdout, err = run_ours("report", "heatmap", "--input", recording, "--output", out,
                                 "--size", "640", "360")
    assert (code, stdout, err) == (0, "", "")
    check_image(out, kind, (640, 360))


def test_heatmap_images_per_range(tmp_path, recording):
    """--draw_range all: one image per contiguous range, named as damo does."""
    out = tmp_path / "m.png"
    code, _, _ = run_ours("report", "heatmap", "--input", recording, "--output", str(out),
                          "--draw_range", "all", "--resol", "50", "50")
    assert code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "m.1.png" and "m.png" in names and len(names) > 2
    check_image(str(tmp_path / "m.1.png"), "png", (800, 600))


@pytest.mark.parametrize("report", [("wss", "--per_target"), ("nr_regions",)], ids=" ".join)
@pytest.mark.parametrize("name,kind", [("d.png", "png"), ("d.svg", "svg"), ("d.pdf", "pdf")])
def test_distribution_plots(tmp_path, recording, report, name, kind):
    out = str(tmp_path / name)
    code, stdout, _ = run_ours("report", *report, "--input", recording, "--plot", out,
                               "--size", "500", "400")
    assert (code, stdout) == (0, "")
    check_image(out, kind, (500, 400))
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temporary file left


# ------------------------------------------------------------ what the images show

import numpy as np

import imagecheck
from damo.records import RecordingWriter

STAIR = {"nr_regions": 10, "nr_snapshots": 50, "region": 1 << 20, "base": 0x7f0000000000,
         "t0": 5_000_000_000, "aggr_ns": 100_000_000}


def staircase(path):
    """Contiguous, equal regions; in snapshot s only region s * 10 // 50 is
    accessed, in every one of its 20 samples (200 hz): a staircase climbing
    the address space, one step per 0.5 s."""
    n, s_count = STAIR["nr_regions"], STAIR["nr_snapshots"]
    starts = np.array([STAIR["base"] + i * STAIR["region"] for i in range(n)], dtype=np.uint64)
    writer = RecordingWriter(path, output_type="json_compressed")
    for s in range(s_count):
        nr_accesses = np.zeros(n, dtype=np.int64)
        nr_accesses[s * n // s_count] = 20
        t = STAIR["t0"] + s * STAIR["aggr_ns"]
        writer.add_snapshot(0, 0, 1, t, t + STAIR["aggr_ns"], starts, starts + STAIR["region"],
                            nr_accesses, np.zeros(n, dtype=np.int64), intervals=synth.INTERVALS)
    writer.commit()
    return path


def hot_region(s):
    return s * STAIR["nr_regions"] // STAIR["nr_snapshots"]


@pytest.fixture(scope="module")
def stairs_file(tmp_path_factory):
    return staircase(str(tmp_path_factory.mktemp("stairs") / "stairs.data"))


def test_heatmap_png_has_its_hot_band_on_the_staircase(tmp_path, stairs_file):
    """Every (snapshot, region) cell of the picture, read back from the pixels
    through the colour map: the cell the recording accessed is at the top of
    the map, every other cell at its bottom."""
    out = str(tmp_path / "h.png")
    end = STAIR["t0"] + STAIR["nr_snapshots"] * STAIR["aggr_ns"]
    top = STAIR["base"] + STAIR["nr_regions"] * STAIR["region"]
    code, _, err = run_ours("report", "heatmap", "--input", stairs_file, "--output", out,
                            "--time_range", str(STAIR["t0"]), str(end),
                            "--address_range", str(STAIR["base"]), str(top))
    assert code == 0, err
    pixels = imagecheck.rgb(out)
    areas = imagecheck.plot_areas(pixels)
    assert len(areas) == 2, areas            # the map and its colour bar, left to right
    box = imagecheck.inner(areas[0])
    on, off = [], []
    for s in range(STAIR["nr_snapshots"]):
        for r in range(STAIR["nr_regions"]):
            # the middle of the cell: time to the right, addresses upwards
            x, y = imagecheck.at_fraction(box, (s + 0.5) / STAIR["nr_snapshots"],
                                          (r + 0.5) / STAIR["nr_regions"])
            level, distance = imagecheck.colormap_level(pixels[y, x])
            assert distance < 10, (s, r, pixels[y, x])     # a colour of the map
            (on if r == hot_region(s) else off).append(level)
    assert len(on) == 50 and min(on) > 0.95, on
    assert max(off) < 0.05, max(off)
    # the colour bar runs from the map's bottom colour up to its top one
    bar = imagecheck.inner(areas[1])
    cx = (bar[0] + bar[2]) // 2
    assert imagecheck.colormap_level(pixels[bar[3], cx])[0] < 0.05
    assert imagecheck.colormap_level(pixels[bar[1], cx])[0] > 0.95


def test_heatmap_text_has_its_hot_band_on_the_staircase(stairs_file):
    """The terminal map at one row per snapshot and two columns per region:
    the accessed region's columns print the map's hottest digit, all others 0."""
    code, out, err = run_ours("report", "heatmap", "--input", stairs_file, "--resol",
                              str(STAIR["nr_snapshots"]), str(2 * STAIR["nr_regions"]),
                              "--stdout_skip_colorset_example", "--color", "never",
                              "--time_range", str(STAIR["t0"]),
                              str(STAIR["t0"] + STAIR["nr_snapshots"] * STAIR["aggr_ns"]))
    assert code == 0, err
    rows = [l for l in out.splitlines() if not l.startswith("#")]
    assert len(rows) == STAIR["nr_snapshots"]
    hottest = max(max(row) for row in rows)
    assert hottest >= "8"
    for s, row in enumerate(rows):
        hot = hot_region(s)
        assert row == "0" * (2 * hot) + hottest * 2 + "0" * (2 * (9 - hot)), (s, row)


def _wss_recording(path, nr_excluded=20):
    """nr_excluded snapshots damo's wss skips, then 20 whose working sets are
    1..20 pages in a shuffled order (one accessed region each)."""
    sizes = [7, 3, 18, 1, 12, 20, 5, 9, 14, 2, 16, 11, 4, 19, 8, 13, 6, 17, 10, 15]
    writer = RecordingWriter(path, output_type="json_compressed")
    base = 0x10000000
    for s in range(nr_excluded + len(sizes)):
        pages = 50 if s < nr_excluded else sizes[s - nr_excluded]
        starts = np.array([base, base + pages * 4096], dtype=np.uint64)
        ends = np.array([base + pages * 4096, base + 64 * 4096], dtype=np.uint64)
        t = s * 100_000_000
        writer.add_snapshot(0, 0, 1, t, t + 100_000_000, starts, ends, np.array([5, 0]),
                            np.array([1, 1]), intervals=synth.INTERVALS)
    writer.commit()
    return path, sorted(sizes)


def test_wss_percentiles_by_hand(tmp_path):
    """damo's percentile: the sorted values' int(p / 100 * n)-th, the last at 100."""
    path, pages = _wss_recording(str(tmp_path / "w.data"))
    code, out, err = run_ours("report", "wss", "--input", path, "--raw_number",
                              "-r", "0", "101", "5")
    assert code == 0, err
    got = {int(l.split()[0]): int(l.split()[1]) for l in out.splitlines()
           if not l.startswith("#")}
    expected = {p: pages[min(p * 20 // 100, 19)] * 4096 for p in range(0, 101, 5)}
    assert got == expected
    assert "# avr:\t%d" % (sum(pages) * 4096 // 20) in out


def _line_plot_points(pixels, box, xs, ys, color):
    """For each (x, y) the distance in pixels from where the line is drawn in
    that column to where the value is, with matplotlib's default 5% margins."""
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(ys), max(ys)
    pad_x, pad_y = (x_hi - x_lo) * 0.05, (y_hi - y_lo) * 0.05
    dists = []
    for x, y in zip(xs, ys):
        px, py = imagecheck.at_fraction(box, (x - x_lo + pad_x) / (x_hi - x_lo + 2 * pad_x),
                                        (y - y_lo + pad_y) / (y_hi - y_lo + 2 * pad_y))
        rows = imagecheck.color_rows(pixels, px, color, box)
        dists.append(min(abs(r - py) for r in rows) if rows else None)
    return dists


def test_wss_plot_draws_the_printed_values(tmp_path):
    """The plot's points are where the text report's numbers put them."""
    path, _ = _wss_recording(str(tmp_path / "w.data"))
    code, out, _ = run_ours("report", "wss", "--input", path, "--raw_number")
    assert code == 0
    printed = [tuple(int(v) for v in l.split()[:2]) for l in out.splitlines()
               if not l.startswith("#")]
    assert len(printed) == 5
    png = str(tmp_path / "w.png")
    code, _, err = run_ours("report", "wss", "--input", path, "--plot", png)
    assert code == 0, err
    pixels = imagecheck.rgb(png)
    [box] = imagecheck.plot_areas(pixels)
    dists = _line_plot_points(pixels, imagecheck.inner(box, 1), [p for p, _ in printed],
                              [v for _, v in printed], imagecheck.tab_color(0))
    assert all(d is not None and d <= 3 for d in dists), dists


def test_wss_merge_of_odd_regions_by_hand():
    """damo's merge of a window's snapshots when their regions differ: a
    region overlapping a kept one adds the most samples any overlapping
    piece of that snapshot had, and its parts outside it are added in turn
    (to the next kept region, or as new regions, in order of arrival)."""
    from damo.reports.wss import _merge_like_damo

    def snap(*regions):
        return tuple(np.array(col) for col in zip(*regions))
    starts, ends, samples = _merge_like_damo([
        snap((100, 110, 3), (110, 120, 5)),
        snap((105, 115, 2), (120, 130, 7)),     # over both kept ones; a new one
        snap((100, 130, 1)),                    # over all three
        snap((100, 103, 4), (103, 106, 9)),     # twice over the first: the most, 9
        snap((90, 105, 2)),                     # its left part is new
    ])
    assert starts.tolist() == [100, 110, 120, 90] and ends.tolist() == [110, 120, 130, 100]
    assert samples.tolist() == [3 + 2 + 1 + 9 + 2, 5 + 2 + 1, 7 + 1, 2]
    empty = _merge_like_damo([])
    assert [a.tolist() for a in empty] == [[], [], []]


def test_heatmap_image_texts(tmp_path, stairs_file):
    """Title, axis labels and the colour bar's scale, read from an SVG's
    texts; times and addresses from the map's start unless asked absolute."""
    end = STAIR["t0"] + STAIR["nr_snapshots"] * STAIR["aggr_ns"]
    top = STAIR["base"] + STAIR["nr_regions"] * STAIR["region"]
    out = str(tmp_path / "h.svg")

    def texts(*extra):
        def draw():
            code, _, err = run_ours("report", "heatmap", "--input", stairs_file, "--output",
                                    out, "--time_range", str(STAIR["t0"]), str(end),
                                    "--address_range", str(STAIR["base"]), str(top), *extra)
            assert code == 0, err
            return out
        return imagecheck.drawn_texts(draw)
    rel, absolute = texts(), texts("--abs_time", "--abs_addr")
    for t in (rel, absolute):
        assert "stairs.data: target 1" in t
        # the hottest cell: 20 of 20 samples in 100 ms, 200 hz, the scale's top
        i = t.index("Access frequency (hz)")
        assert t[i - 1] == "200" and t[i - 9:i - 1] == [
            "0", "25", "50", "75", "100", "125", "150", "175"]
    # 5 s of time, 10 MiB of addresses
    i = rel.index("Time (s, from the map's start)")
    assert rel[:i] == ["0", "1", "2", "3", "4", "5"]
    j = rel.index("Address (from the map's start)")
    assert rel[i + 1] == "0 B" and rel[j - 1] == "9.537 MiB"
    i = absolute.index("Time (s)")
    assert absolute[:i] == ["5", "6", "7", "8", "9", "10"]
    j = absolute.index("Address")
    assert all(label == "127.000 TiB" for label in absolute[i + 1:j])   # 0x7f0000000000+


@pytest.mark.parametrize("report, ylabel, title", [
    ("wss", "working set size", "Working set size distribution"),
    ("nr_regions", "number of monitoring target regions", "Number of regions distribution")])
def test_distribution_image_texts(tmp_path, report, ylabel, title):
    path, pages = _wss_recording(str(tmp_path / "w.data"))
    out = str(tmp_path / "d.svg")

    def texts(*extra):
        def draw():
            code, _, err = run_ours("report", report, "--input", path, "--plot", out, *extra)
            assert code == 0, err
            return out
        return imagecheck.drawn_texts(draw)
    for extra, xlabel in (((), "percentile"), (("--sortby", "time"), "runtime (percent)")):
        t = texts(*extra)
        assert t[:6] == ["0", "20", "40", "60", "80", "100"]
        assert t[6] == xlabel and t[-2:] == [ylabel, title]
    if report == "wss":
        # sizes on the y axis: ticks of 10,000 bytes up to the largest set, 20 pages
        t = texts()
        ticks = t[7:-2]
        assert ticks[-1] == "78.125 KiB" and all(tick.endswith(" KiB") for tick in ticks)
