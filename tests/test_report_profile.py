"""damo report profile: where a recorded run's time and memory went, its
schemes' effects, and the damon-tests overheads against a baseline."""
import json
import os
import re

import numpy as np
import pytest

import imagecheck
from conftest import run_ours
from damo import records
from damo.reports import profile

MiB = 1 << 20


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile")
    paths = {}
    for name, extra in (("base", []),
                        ("prcl", ["--damos_action", "pageout", "--damos_access_rate", "0", "0",
                                  "--damos_age", "5s", "max"])):
        paths[name] = str(tmp / (name + ".data"))
        code, _, err = run_ours("record", "hotcold", "--memory", "dram:512M,cxl:512M,swap:zswap",
                                *extra, "-o", paths[name])
        assert code == 0, err
    return paths


def test_profile_sections(recordings):
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"])
    assert code == 0, err
    for title in ("Runtime", "Memory over time, per tier", "Memory events", "DAMOS schemes",
                  "Monitoring work"):
        assert title in out
    assert "node 1 cxl0" in out and "swap   zswap" in out
    assert "stall on dram0" in out and "stall on cxl0" in out
    assert "pages swapped out" in out
    assert "0/0/0: pageout, sz [0 B, max], access [0 %, 0 %], age [5 s, max]" in out
    assert "Against the baseline" not in out


def test_runtime_split_adds_up(recordings):
    m = json.load(open(recordings["prcl"] + ".sim_metrics"))
    proc = m["final"]["processes"][0]
    parts, total = profile.runtime_parts(m, proc)
    assert [p for p, _ in parts][:3] == ["compute", "stall on dram0", "stall on cxl0"]
    # (the program's start-up, before its clock starts, is in the parts too)
    assert sum(v for _, v in parts) == pytest.approx(total, rel=1e-6)
    assert proc["finished"] and total > 30e9


# ------------------------------------------------------------ reading the tables back

_SIZE_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
_TIME_UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9}


def size_of(text):
    number, unit = text.split()
    return float(number) * _SIZE_UNITS[unit]


def time_of(text):
    """'30.078 s', '76.811 ms', '1 m 40.5 s' -> ns."""
    parts = text.split()
    return sum(float(parts[i]) * _TIME_UNITS[parts[i + 1]] for i in range(0, len(parts), 2))


def nr_of(text):
    return int(text.replace(",", ""))


def near_size(text, value):
    """A size printed with its decimals in its unit is value, rounded (the
    memory table's 80 columns take one decimal, the rest three)."""
    number, unit = text.split()
    decimals = len(number.partition(".")[2])
    return abs(size_of(text) - value) <= 0.5 * 10 ** -decimals * _SIZE_UNITS[unit] + 0.5


def near_time(text, value):
    parts = text.split()
    return abs(time_of(text) - value) <= 0.0005 * _TIME_UNITS[parts[-1]] + 0.5


def table(out, title):
    """The body rows (lists of cells) of the table titled title."""
    lines = out.splitlines()
    start = [i for i, l in enumerate(lines) if l.strip() == title][0]
    rows = []
    for line in lines[start + 2:]:
        if "━" in line:
            continue
        if "│" not in line:
            break
        rows.append([c.strip() for c in line.split("│")])
    return rows


def by_hand(metrics):
    """damon-tests' metrics of a run, from the machine's own counters: runtime
    (the processes' time), rss and memory in use averaged over the samples,
    the final vmstat counters and pressure, kdamond CPU time over elapsed."""
    final = metrics["final"]
    nr = len(metrics["time_ns"])
    rss = [sum(sum(per_node) for per_node in sample) for sample in metrics["rss_by_node"]]
    used = [sum(sample) for sample in metrics["node_used"]]
    return {
        "runtime": sum(p["busy_ns"] for p in final["processes"]),
        "rss.avg": sum(rss) / nr,
        "memused.avg": sum(used) / nr,
        "pgmajfaults": final["vmstat"]["pgmajfault"],
        "pswpin": final["vmstat"]["pswpin"],
        "pswpout": final["vmstat"]["pswpout"],
        "zswpin": final["vmstat"]["zswpin"],
        "zswpout": final["vmstat"]["zswpout"],
        "psi_mem_some_us": final["psi_some_us"],
        "kdamond_cpu_util": sum(k["cpu_ns"] for k in final["kdamonds"]) / final["time_ns"],
    }


def check_metric(name, text, value):
    if name in ("rss.avg", "memused.avg"):
        assert near_size(text, value), (name, text, value)
    elif name == "runtime":
        assert near_time(text, value), (name, text, value)
    elif name == "kdamond_cpu_util":
        assert text == "%.2f%%" % (value * 100), (name, text, value)
    else:
        assert nr_of(text) == value, (name, text, value)


def test_baseline_overheads_as_damon_tests(recordings):
    """Every row of the baseline table: both values from the machine's counters,
    and the overhead (variant / baseline - 1) computed from them."""
    code, out, _ = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--baseline", recordings["base"], "--sections", "baseline")
    assert code == 0
    rows = table(out, "Against the baseline")
    base = by_hand(json.load(open(recordings["base"] + ".sim_metrics")))
    prcl = by_hand(json.load(open(recordings["prcl"] + ".sim_metrics")))
    assert [r[0] for r in rows] == ["runtime", "rss.avg", "memused.avg", "pgmajfaults",
                                    "pswpin", "pswpout", "zswpin", "zswpout",
                                    "psi_mem_some_us",
                                    "kdamond_cpu_util"]
    for name, b_text, v_text, over in rows:
        check_metric(name, b_text, base[name])
        check_metric(name, v_text, prcl[name])
        if base[name] == 0:
            assert over == "n/a", name
        else:
            assert over == "%+.2f%%" % ((prcl[name] / base[name] - 1) * 100), name
    # what the scheme did: most of the cold memory paged out, none of it read back
    assert prcl["rss.avg"] < base["rss.avg"] / 2
    # (zswap stores are not device writes: zswpout, as the kernel counts them)
    assert prcl["zswpout"] > 0 and base["zswpout"] == 0 and prcl["pswpout"] == 0
    # the caption names the baseline (folded at the table's width when the
    # path is longer, as xdist's temporary paths are)
    assert "baseline:" in out and recordings["base"] in "".join(out.split())


def test_every_row_from_the_machine_counters(recordings):
    """Every row of every section of the profile, against the recording's own
    machine metrics (the simulated machine's counters), not the report's code."""
    m = json.load(open(recordings["prcl"] + ".sim_metrics"))
    final = m["final"]
    nodes = [n["name"] for n in m["machine"]["nodes"]]
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"],
                              "--nr_rows", "7")
    assert code == 0, err

    # runtime: each part of the process's time, its share, the total
    [proc] = final["processes"]
    rt = proc["runtime"]
    parts = [("compute", rt["compute_ns"])] + \
        [("stall on %s" % n, rt["stall_ns"][i]) for i, n in enumerate(nodes)] + \
        [("page faults", rt["fault_ns"]), ("swap-ins", rt["swapin_ns"]),
         ("direct reclaim", rt["reclaim_ns"]), ("migrations", rt["migrate_ns"])]
    rows = table(out, "Runtime")
    assert rows[0][0] == proc["name"] and all(r[0] == "" for r in rows[1:])
    assert [r[1] for r in rows] == [p for p, _ in parts] + ["total"]
    for (label, ns), row in zip(parts, rows):
        assert near_time(row[2], ns), (label, row)
        assert row[3] == "%.1f%%" % (100 * ns / proc["runtime_ns"]), (label, row)
    assert near_time(rows[-1][2], proc["runtime_ns"]) and rows[-1][3] == "100%"
    assert abs(sum(ns for _, ns in parts) - proc["runtime_ns"]) <= 1e-6 * proc["runtime_ns"]

    # memory over time: 7 rows, first and last sample included, each one a sample
    rows = table(out, "Memory over time, per tier")
    assert len(rows) == 7
    times = ["%.1f s" % (t / 1e9) for t in m["time_ns"]]
    picked = []
    for row in rows:
        i = times.index(row[0]) if row is rows[0] else \
            max(j for j, t in enumerate(times) if t == row[0])
        picked.append(i)
        rss = [sum(p[n] for p in m["rss_by_node"][i]) for n in range(len(nodes))]
        values = rss + [sum(m["swapped"][i])] + list(m["node_used"][i])
        for text, value in zip(row[1:-1], values):
            assert near_size(text, value), (row, values)
        assert nr_of(row[-1]) == m["psi_some_us"][i]
    assert picked[0] == 0 and picked[-1] == len(times) - 1
    hand = by_hand(m)
    rss_total = [sum(sum(p) for p in s) for s in m["rss_by_node"]]
    caption = re.search(r"rss avg (.+?), max (.+?); memory used avg (.+?) of (.+?)\s*$",
                        out, re.M)
    assert near_size(caption.group(1), hand["rss.avg"])
    assert near_size(caption.group(2), max(rss_total))
    assert near_size(caption.group(3), hand["memused.avg"])
    assert near_size(caption.group(4), sum(n["capacity"] for n in m["machine"]["nodes"]))

    # events: each count is the final vmstat counter it names
    rows = table(out, "Memory events")
    assert {r[2] for r in rows} >= {"pgfault", "pgmajfault", "pswpin", "pswpout"}
    for label, count, key in rows:
        assert nr_of(count) == final["vmstat"][key], (label, count)
    assert all(final["vmstat"][k] == 0 for k in final["vmstat"]
               if k not in {r[2] for r in rows} and k in dict(profile._EVENTS))

    # schemes: the scheme's final stats
    [row] = table(out, "DAMOS schemes")
    [s] = final["schemes"]
    st = s["stats"]
    assert row[:2] == ["0/0/0", "pageout"]
    tried = re.match(r"(\S+) \((.+)\)", row[2])
    applied = re.match(r"(\S+) \((.+)\)", row[3])
    assert nr_of(tried.group(1)) == st["nr_tried"] and near_size(tried.group(2), st["sz_tried"])
    assert nr_of(applied.group(1)) == st["nr_applied"]
    assert near_size(applied.group(2), st["sz_applied"])
    assert near_size(row[4], st["sz_ops_filter_passed"])
    assert nr_of(row[5]) == st["qt_exceeds"] and nr_of(row[6]) == st["nr_snapshots"]
    assert len(row) == 7
    assert ("0/0/0: pageout" in out) and (
        ("(off: watermarks inactive)" in out) == (not s["active"]))
    # one snapshot per aggregation the scheme saw, as the recording has
    recording = records.load(recordings["prcl"])
    assert st["nr_snapshots"] == sum(r.nr_snapshots for r in recording.records)
    assert 0 < st["nr_applied"] <= st["nr_tried"] and st["sz_applied"] <= st["sz_tried"]

    # monitoring work: access checks, their rate, DAMOS time, CPU share
    [row] = table(out, "Monitoring work")
    [k] = final["kdamonds"]
    assert row[0] == "0/0" and nr_of(row[1]) == k["nr_access_checks"]
    assert row[2] == "%.0f" % (k["nr_access_checks"] / (final["time_ns"] / 1e9))
    assert near_time(row[3], k["apply_ns"])
    assert row[4] == "%.2f%%" % (100 * k["cpu_ns"] / final["time_ns"])


def test_memory_over_time_rows(recordings):
    code, out, _ = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--sections", "memory", "--nr_rows", "4")
    assert code == 0
    lines = [l for l in out.splitlines() if re.match(r"^\s*\d+\.\d s │", l)]
    assert len(lines) == 4
    assert "rss avg" in out


def test_plot(recordings, tmp_path):
    png = str(tmp_path / "p.png")
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"],
                              "--plot", png)
    assert code == 0, err
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def _runs_of(flags):
    """[first, last] of each run of True."""
    idx = np.flatnonzero(flags)
    if not len(idx):
        return []
    cuts = np.flatnonzero(np.diff(idx) > 1)
    return [[int(idx[a]), int(idx[b])] for a, b in
            zip(np.r_[0, cuts + 1], np.r_[cuts, len(idx) - 1])]


def test_plot_draws_the_printed_values(recordings, tmp_path):
    """The image shows the text report's numbers: at each printed time the
    memory stack's bands (resident per tier, then swapped) are as tall as
    printed and the in-use line is at the printed use, and the runtime bar
    is split as the Runtime section prints it.  Read from the pixels."""
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"])
    assert code == 0, err
    png = str(tmp_path / "p.png")
    code, _, err = run_ours("report", "profile", "--input", recordings["prcl"], "--plot", png)
    assert code == 0, err
    pixels = imagecheck.rgb(png)
    boxes = sorted(imagecheck.plot_areas(pixels), key=lambda b: b[1])
    assert len(boxes) == 3, boxes           # memory, DAMOS, runtime: top to bottom
    # the frame lines are the axes' limits; read inside them
    (left, top, right, bottom), damos, bar = boxes[0], *[imagecheck.inner(b, 1) for b in boxes[1:]]

    def near(pixel, color, tolerance=30):
        return np.sqrt(((np.asarray(pixel) - color) ** 2).sum(axis=-1)) <= tolerance

    # memory: the stack's fills are the colour cycle's first colours at alpha 0.7
    rows = table(out, "Memory over time, per tier")
    header = [l for l in out.splitlines() if "rss dram0" in l][0]
    assert [c.strip() for c in header.split("┃")][1:4] == ["rss dram0", "rss cxl0", "swapped"]
    times = [float(r[0].split()[0]) for r in rows]
    fills = [0.7 * np.asarray(imagecheck.tab_color(k)) + 0.3 * 255 for k in range(3)]
    pad = (times[-1] - times[0]) * 0.05     # matplotlib's margins; y starts at 0
    red = np.asarray(imagecheck.tab_color(3))     # the dashed in-use line of dram0

    def x_of(t):
        return int(round(left + (t - times[0] + pad) / (times[-1] - times[0] + 2 * pad)
                         * (right - left)))
    def unobstructed(x):
        """Column x shows only the bands, the in-use line, background and grid
        lines, but for a few blended pixels at the bands' edges (the legend
        covers the upper right)."""
        column = pixels[top + 1:bottom - 2, x]
        known = near(column, red, 80) | (
            (column.min(axis=1) >= 200) & (np.ptp(column, axis=1) <= 10))
        for fill in fills:
            known |= near(column, fill)
        return (~known).sum() <= 8

    heights, values, used, checked = [], [], [], 0
    max_total = max(sum(size_of(c) for c in r[1:4]) for r in rows)
    for row, t in zip(rows[1:-1], times[1:-1]):
        near_x = sorted(range(x_of(t) - 5, x_of(t) + 6), key=lambda x: abs(x - x_of(t)))
        near_x = [x for x in near_x if unobstructed(x)]
        # a column where no dash of the in-use line covers the bands' edges
        clear = [x for x in near_x if not near(pixels[top:bottom + 1, x], red, 80).any()]
        if not clear:
            continue
        checked += 1
        column = pixels[top:bottom + 1, clear[0]]
        level = 0.0
        for k, text in enumerate(row[1:4]):
            level += size_of(text)
            runs = _runs_of(near(column, fills[k]))
            if size_of(text) < 0.01 * max_total:
                continue        # thinner than a pixel or two: may not show
            assert runs, (row, k)
            # the band's top edge, in pixels above the plot's bottom
            heights.append(bottom - (top + runs[0][0]))
            values.append(level)
        hits = [top + y for x in near_x
                for y in np.flatnonzero(near(pixels[top:bottom + 1, x], red, 60))]
        if hits:                # (a gap between dashes may hide it here)
            used.append((bottom - np.median(hits), size_of(row[4])))
    assert checked >= len(rows) - 4
    scale = (bottom - top) / (1.05 * max_total)     # 5% margin above the highest
    for h, v in zip(heights, values):
        assert abs(h - v * scale) <= 2, (h, v * scale)
    # the dashed in-use line of dram0 at the printed use
    assert len(used) >= checked - 2
    for h, v in used:
        assert abs(h - v * scale) <= 2, (h, v * scale)

    # DAMOS: the cumulative bytes applied only grow
    blue = np.asarray(imagecheck.tab_color(0))
    xs = range(x_of(times[0]) + 1, x_of(times[-1]))     # the same times as above
    line = [np.flatnonzero(near(pixels[damos[1]:damos[3] + 1, x], blue, 40)) for x in xs]
    tops = [int(ys.max()) for ys in line if len(ys)]     # (its legend is above it)
    assert len(tops) >= len(xs) - 2
    assert all(b <= a + 1 for a, b in zip(tops, tops[1:]))
    assert tops[0] > tops[-1] + 0.5 * (damos[3] - damos[1])

    # runtime: one bar, its parts in the printed order, as wide as printed
    parts = [(r[1], time_of(r[2])) for r in table(out, "Runtime") if r[1] != "total"]
    total = time_of(table(out, "Runtime")[-1][2])
    left, top, right, bottom = bar
    middle = pixels[(top + bottom) // 2, left:right + 1]
    per_ns = (right - left) / (1.05 * total)       # starts at 0, 5% margin after
    start, color = 0.0, 0
    for label, ns in parts:
        if ns <= 0:
            continue
        runs = _runs_of(near(middle, imagecheck.tab_color(color), 20))
        color += 1
        if ns * per_ns >= 3:
            assert len(runs) == 1, (label, runs)
            assert abs(runs[0][0] - start * per_ns) <= 2, (label, runs, start * per_ns)
            assert abs(runs[0][1] - (start + ns) * per_ns) <= 2, (label, runs)
        start += ns
    assert abs(start - total) <= 1e-3 * total


def test_plot_bad_extension_is_one_line(recordings, tmp_path):
    code, _, err = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--plot", str(tmp_path / "p.gif"))
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "p.gif")


def test_recording_without_metrics_is_one_line(tmp_path):
    import synth
    path = str(tmp_path / "old.data")
    synth.stairs(path, nr_snapshots=5)
    code, _, err = run_ours("report", "profile", "--input", path)
    assert code == 1
    assert err.strip().splitlines() == [
        "damo: error: %s: no machine metrics (the recording has none, and there is no "
        "%s.sim_metrics): record it with this damo record" % (path, path)]


def test_unknown_section_is_one_line(recordings):
    code, _, err = run_ours("report", "profile", "--input", recordings["base"],
                            "--sections", "runtime,flames")
    assert code == 2 and "--sections: no section 'flames'" in err


def test_sections_can_be_added():
    from rich.text import Text
    name = "test-extra"
    profile.register_section(name, lambda d: [Text("extra for %s" % d.path)])
    try:
        assert profile.sections()[-1] == name
        data = profile.ProfileData("x", {"final": {}})
        assert profile.render(data, only=[name]) == "extra for x"
    finally:
        profile._SECTIONS[:] = [s for s in profile._SECTIONS if s[0] != name]


def test_register_section_places_and_replaces():
    before = profile.sections()
    show = lambda d: None      # noqa: E731
    try:
        profile.register_section("t-a", show)
        assert profile.sections() == before + ["t-a"]
        profile.register_section("t-b", show, order=1)
        assert profile.sections() == before[:1] + ["t-b"] + before[1:] + ["t-a"]
        profile.register_section("t-a", show, order=0)      # moved, not doubled
        assert profile.sections() == ["t-a"] + before[:1] + ["t-b"] + before[1:]
    finally:
        profile._SECTIONS[:] = [s for s in profile._SECTIONS if s[0] not in ("t-a", "t-b")]
    assert profile.sections() == before


def test_format_metric_by_kind():
    for name in ("rss.avg", "rss.max", "memused.avg"):
        assert profile.format_metric(name, 3 * MiB) == "3.000 MiB"
    assert profile.format_metric("runtime", 1.5e9) == "1.500 s"
    assert profile.format_metric("runtime", 0) == "0 ns"
    assert profile.format_metric("kdamond_cpu_util", 0.012345) == "1.23%"
    for name in ("pgmajfaults", "pswpin", "pswpout", "psi_mem_some_us"):
        assert profile.format_metric(name, 1234567.9) == "1,234,567"


def test_the_functions_section_comes_after_the_events():
    from damo.reports import code_attribution
    profile._register_functions()           # again: moved, not doubled
    names = profile.sections()
    assert names.count("functions") == 1
    assert names.index("functions") == names.index("events") + 1
    assert dict(profile._SECTIONS)["functions"] is code_attribution.profile_section


def test_functions_section_options():
    import click
    from damo.reports import code_attribution
    command = click.command()(code_attribution.profile_options(lambda **opts: None))
    params = {p.name: p for p in command.params}
    # damo 3.4.3's report profile filters (damo's set_filter_argparser: names,
    # order, nargs, repeatable ones, int --temperature), between ours
    assert list(params) == ["hottest", "sz_region", "access_rate", "age", "address",
                            "sz_snapshot", "snapshot_time", "snapshot_idx", "temperature",
                            "nr_functions"]
    assert [params[n].nargs for n in params] == [1] + [2] * 8 + [1]
    assert [n for n in params if params[n].multiple] == ["address", "sz_snapshot",
                                                         "snapshot_time", "snapshot_idx",
                                                         "temperature"]
    assert params["temperature"].type is click.INT
    assert params["nr_functions"].default == 10 and params["nr_functions"].show_default
    assert [params[n].metavar for n in params] == [
        "<percent>", "<min> <max>", "<min> <max>", "<min> <max>", "<start> <end>",
        "<min> <max>", "<start (ns)> <end (ns)>", "<start> <end>", "<min> <max>", "<n>"]
    assert all(params[n].help.startswith("functions section: ") for n in params)
    with pytest.raises(click.BadParameter):
        params["hottest"].type.convert("0", None, None)         # (0, 100]
    assert params["hottest"].type.convert("100", None, None) == 100
    with pytest.raises(click.BadParameter):
        params["hottest"].type.convert("100.5", None, None)
    with pytest.raises(click.BadParameter):
        params["nr_functions"].type.convert("0", None, None)
    assert params["nr_functions"].type.convert("1", None, None) == 1


def test_plot_texts(recordings, tmp_path):
    """The image's titles, axis labels and legends (an SVG's texts): one
    resident band per tier and the swapped memory, the in-use lines, the
    scheme, and the runtime's parts that took time, as the Runtime section
    prints them."""
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"])
    assert code == 0, err
    svg = str(tmp_path / "p.svg")

    def draw():
        code, _, err = run_ours("report", "profile", "--input", recordings["prcl"], "--plot", svg)
        assert code == 0, err
        return svg
    texts = imagecheck.drawn_texts(draw)
    short = {"page faults": "faults", "direct reclaim": "reclaim"}
    parts = [short.get(r[1], r[1].replace("stall on ", "stall ")) for r in table(out, "Runtime")
             if r[1] != "total" and time_of(r[2]) > 0]
    # the parts that took time, from the machine's own counters (hotcold's
    # hot set fits the last-level cache: no stall on either tier)
    rt = json.load(open(recordings["prcl"] + ".sim_metrics"))["final"]["processes"][0]["runtime"]
    expected = [name for name, ns in [("compute", rt["compute_ns"])] +
                [("stall %s" % t, rt["stall_ns"][i]) for i, t in enumerate(("dram0", "cxl0"))] +
                [("faults", rt["fault_ns"]), ("swap-ins", rt["swapin_ns"]),
                 ("reclaim", rt["reclaim_ns"]), ("migrations", rt["migrate_ns"])] if ns > 0]
    assert parts == expected and parts[0] == "compute" and "faults" in parts
    labels = ["memory", "Memory per tier: %s" % recordings["prcl"], "rss on dram0", "rss on cxl0",
              "swapped out", "in use on dram0", "in use on cxl0", "time (s)",
              "DAMOS (cumulative)", "0/0/0 pageout applied", "runtime (s)"] + parts
    assert [t for t in texts if t in labels] == labels
    assert texts[-len(parts):] == parts


LAYOUTS = {     # each table's columns and how their cells are justified
    "Runtime": [("process", "l"), ("where", "l"), ("time", "r"), ("share", "r")],
    "Memory over time, per tier": [("time", "r"), ("rss dram0", "r"), ("rss cxl0", "r"),
                                   ("swapped", "r"), ("used dram0", "r"), ("used cxl0", "r"),
                                   ("psi us", "r")],
    "Memory events": [("event", "l"), ("count", "r"), ("vmstat", "l")],
    "DAMOS schemes": [("kd/ctx/s", "l"), ("action", "l"), ("tried", "r"), ("applied", "r"),
                      ("filtered", "r"), ("qt full", "r"), ("snaps", "r")],
    "Monitoring work": [("kdamond/ctx", "l"), ("access checks", "r"), ("per second", "r"),
                        ("DAMOS actions", "r"), ("CPU", "r")],
    "Against the baseline": [("metric", "l"), ("baseline", "r"), ("this run", "r"),
                             ("overhead", "r")],
}


def test_tables_headers_and_justification(recordings):
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"],
                              "--baseline", recordings["base"])
    assert code == 0, err
    lines = out.splitlines()
    for title, columns in LAYOUTS.items():
        start = [i for i, l in enumerate(lines) if l.strip() == title][0]
        assert [c.strip() for c in lines[start + 1].split("┃")] == [n for n, _ in columns]
        rows = []
        for line in lines[start + 3:]:
            if "│" not in line:
                break
            rows.append(line.split("│"))
        assert rows, title
        last = len(columns) - 1
        for row in rows:
            assert len(row) == len(columns), (title, row)
            for i, ((name, justify), cell) in enumerate(zip(columns, row)):
                text = cell.strip()
                if not text:
                    continue
                pad_l, pad_r = " " * (i > 0), " " * (i < last)
                if justify == "l":
                    assert cell.startswith(pad_l + text), (title, name, cell)
                else:
                    assert cell.endswith(text + pad_r), (title, name, cell)


def test_a_stopped_run_has_no_negative_part(tmp_path):
    """--timeout stops the run inside a batch of work the engine accounts
    whole: the parts add up to a little more than the clock at the stop, and
    the Runtime table printed 'other -19.619 us'.  The runtime is what the
    parts add up to; no negative time, no busy row for a run that never idled."""
    path = str(tmp_path / "s.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "-o", path)
    assert code == 0, err
    proc = json.load(open(path + ".sim_metrics"))["final"]["processes"][0]
    rt = proc["runtime"]
    parts_ns = rt["compute_ns"] + sum(rt["stall_ns"]) + rt["fault_ns"] + rt["swapin_ns"] + \
        rt["reclaim_ns"] + rt["migrate_ns"]
    assert not proc["finished"]
    code, out, err = run_ours("report", "profile", "--input", path)
    assert code == 0, err
    rows = table(out, "Runtime")
    assert all(not r[2].strip().startswith("-") for r in rows), rows
    assert [r[1] for r in rows if r[1] in ("other", "busy (compute and memory)")] == []
    code, out, err = run_ours("report", "profile", "--input", path, "--format", "json")
    assert code == 0, err
    [p] = json.loads(out)["processes"]
    assert p["runtime_ns"] == pytest.approx(max(proc["runtime_ns"], parts_ns), rel=1e-9)
    assert p["busy_ns"] == p["runtime_ns"] and min(p["parts_ns"].values()) >= 0
