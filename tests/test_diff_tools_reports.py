"""damo report times, footprints and holistic against damo 3.4.3: the same
stdout and exit code, over the real DAMON recording, synthetic shapes and
our own recordings (whose memory footprints come from the simulated machine).
Where damo's code does not do what it means, the test says which bug and
checks ours against what damo's other commands print for the same data."""
import re

import pytest

import tools_diff
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

RECS = ["upstream", "basic", "multi_targets_gaps", "intervals_null", "one_snapshot",
        "no_ages", "tuned_intervals", "odd_regions", "multi_targets_gaps.perf_script",
        "snap", "own", "own_schemes", "own_paddr", "big"]
OWN = ["own", "own_schemes", "own_paddr"]
BASE = 0x7f0000000000


def _times_cases():
    cases = []
    for rec in RECS:
        cases.append(Case("times-%s" % rec, ["report", "times", "--inputs", "{%s}" % rec, "x"]))
    for rec in ("basic", "multi_targets_gaps", "own", "upstream"):
        for name, flt in [
                ("hot", ["--access_rate", "50", "100"]),
                ("cold", ["--access_rate", "0", "0", "--age", "200ms", "max"]),
                ("addr", ["--address", str(BASE), str(BASE + 3300000), "--access_rate",
                          "90", "100"]),
                ("big", ["--sz_region", "1M", "max", "--access_rate", "1", "100"]),
                ("idx", ["--snapshot_idx", "5", "20", "--access_rate", "10", "100"]),
                ("temp", ["--temperature", "1000", "100000000000"])]:
            if rec == "upstream" and name == "temp":
                continue    # no intervals: test_temperature_needs_intervals
            cases.append(Case("times-%s-%s" % (rec, name),
                              ["report", "times", "--inputs", "{%s}" % rec, "x"] + flt))
    cases += [
        Case("times-default-inputs", ["report", "times"],
             setup=lambda d, r: _copy(r["basic"], d, "damon.data")),
        Case("times-missing", ["report", "times", "--inputs", "nonexistent", "x"],
             expect="error", names=["nonexistent"]),
        Case("times-one-input", ["report", "times", "--inputs", "{basic}"], expect="error",
             names=["--inputs"]),
        Case("times-bad-rate", ["report", "times", "--inputs", "{basic}", "x", "--access_rate",
                                "hot", "100"], expect="error", names=["--access_rate"]),
    ]
    return cases


def _footprints_cases():
    cases = []
    for rec in OWN:
        fp = "{%s}.mem_footprint" % rec
        cases.append(Case("footprints-%s" % rec, ["report", "footprints", "-i", fp]))
        for metric in ("vsz", "rss", "sys_used"):
            cases.append(Case("footprints-%s-%s" % (rec, metric),
                              ["report", "footprints", metric, "-i", fp]))
        cases += [
            Case("footprints-%s-time" % rec, ["report", "footprints", "--input", fp,
                                              "--sortby", "time"]),
            Case("footprints-%s-range" % rec, ["report", "footprints", "rss", "-i", fp,
                                               "-r", "0", "101", "10", "--nr_cols_bar", "30"]),
            Case("footprints-%s-raw-all" % rec, ["report", "footprints", "vsz", "-i", fp,
                                                 "--raw_number", "--all_footprint"]),
            Case("footprints-%s-nobar" % rec, ["report", "footprints", "sys_used", "-i", fp,
                                               "--nr_cols_bar", "0", "-s", "time"]),
        ]
    cases += [
        Case("footprints-default", ["report", "footprints"],
             setup=lambda d, r: _copy(r["own"] + ".mem_footprint", d,
                                      "damon.data.mem_footprint")),
        Case("footprints-missing", ["report", "footprints", "-i", "nonexistent"],
             expect="error", names=["nonexistent"]),
        Case("footprints-not-json", ["report", "footprints", "-i", "{basic}"],
             expect="error", names=["not a memory footprints file", "basic"]),
        Case("footprints-bad-metric", ["report", "footprints", "wss", "-i",
                                       "{own}.mem_footprint"], expect="error",
             names=["metric"]),
    ]
    return cases


def _copy(src, directory, name):
    import shutil
    shutil.copy(src, "%s/%s" % (directory, name))


# ------------------------------------------------------------------- holistic

HEADER = re.compile(r"^# target (\d+), address range (\d+)-(\d+)$")


def _guide_times(reference, rec):
    """(start, end) ns of each target, as damo's record_info prints them."""
    out = reference.get(Case("guide-%s" % rec, ["report", "record_info", "--raw_numbers",
                                                "-i", "{%s}" % rec])).stdout
    times = {}
    tid = None
    for line in out.splitlines():
        if line.startswith("target_id: "):
            tid = line.split(": ")[1]
        m = re.match(r"time: \[(-?[0-9]+), (-?[0-9]+)\)", line)
        if m:
            times[tid] = (int(m.group(1)), int(m.group(2)))
    return times


def _heatmap(reference, rec, tid, time_range, addr, resol):
    """damo's own `report heatmap` of one target's address range."""
    argv = ["report", "heatmap", "--input", "{%s}" % rec, "--tid", tid, "--resol",
            str(resol[0]), str(resol[1]), "--time_range", str(time_range[0]),
            str(time_range[1]), "--address_range", addr[0], addr[1],
            "--stdout_skip_colorset_example"]
    result = reference.get(Case("heatmap-%s-%s" % (rec, "-".join(argv[5:])), argv))
    assert result.code == 0, result
    return result.stdout.rstrip("\n")


def holistic_short(rec, last_n_sec=None):
    """damo bug: report holistic selects each target's records with kdamond,
    context and scheme indices of None, which no record has, so its heatmaps
    have no rows.  Ours equals damo's output once the rows are taken out, and
    each heatmap equals damo's `report heatmap` of that range."""
    def expect(ours, theirs, reference):
        assert ours.code == theirs.code == 0, (ours, theirs)
        times = _guide_times(reference, rec)
        lines = ours.stdout.split("\n")
        without_rows, i = [], 0
        nr_blocks = 0
        while i < len(lines):
            without_rows.append(lines[i])
            m = HEADER.match(lines[i])
            i += 1
            if not m:
                continue
            block = []
            while not lines[i].startswith("# x-axis"):
                block.append(lines[i])
                i += 1
            assert block, "a heatmap without rows"
            block += lines[i:i + 3]
            tid = m.group(1)
            start, end = times[tid]
            if last_n_sec is not None:
                start = end - int(last_n_sec * 1000000000)
            assert "\n".join(block) == _heatmap(reference, rec, tid, (start, end),
                                                (m.group(2), m.group(3)), (5, 80))
            nr_blocks += 1
        assert nr_blocks > 0
        assert "\n".join(without_rows) == theirs.stdout
    return expect


def holistic_long(rec):
    """damo bug: report holistic --long always runs perf report on the
    recording's CPU profile and crashes without it (or without perf).  Ours
    prints the rest; each part equals what damo's own commands print."""
    def expect(ours, theirs, reference):
        assert theirs.code != 0 and "Traceback" in theirs.stderr
        assert ours.code == 0, ours
        guides = reference.get(Case("guide-%s" % rec, ["report", "record_info",
                                                      "--raw_numbers", "-i",
                                                      "{%s}" % rec])).stdout.rstrip("\n")
        times = _guide_times(reference, rec)
        expected = ["Overall recorded access pattern", "=" * 31, "", guides, "",
                    "# regions above are regions that access pattern recorded",
                    "# you can get this via 'damo record_info', too", "", "Heatmap",
                    "=======", ""]
        out = ours.stdout
        heatmap_part = out[out.index("Heatmap\n=======\n\n") + 17:
                           out.index("# you can get above via 'damo report heatmap'")]
        for line in heatmap_part.split("\n"):
            if line.startswith("# target "):
                tid = line.split()[2]
                expected.append(line)
            elif line.startswith("# address range "):
                addr = line.split()[3].split("-")
                expected.append(line)
                expected.append(_heatmap(reference, rec, tid, times[tid], addr, (10, 80)))
        expected += ["# you can get above via 'damo report heatmap'", "",
                     "Working Set Size and Memory Footprints Distribution", "=" * 51, ""]
        for sort in ("size", "time"):
            expected += ["Sorted by %s" % sort, "-" * 14, ""]
            wss = reference.get(Case("wss-%s-%s" % (rec, sort), [
                "report", "wss", "-i", "{%s}" % rec, "--exclude_samples", "0",
                "--sortby", sort])).stdout
            expected.append(wss.split("\n", 1)[1].rstrip("\n"))
            for metric in ("rss", "vsz", "sys_used"):
                fp = reference.get(Case("fp-%s-%s-%s" % (rec, metric, sort), [
                    "report", "footprints", metric, "-i", "{%s}.mem_footprint" % rec,
                    "--sortby", sort])).stdout
                expected.append(fp.rstrip("\n"))
            expected.append("")
        expected.append("# you can get above via 'damo report wss' and 'damo report "
                        "footprints'")
        text = "\n".join(expected)
        # damo pages text longer than 50 lines through less, which adds no newline
        assert ours.stdout == (text + "\n" if text.count("\n") <= 50 else text)
    return expect


def _holistic_cases():
    cases = []
    for rec in OWN:
        cases.append(Case("holistic-%s" % rec, ["report", "holistic", "--access_pattern",
                                                "{%s}" % rec], damo_without_perf=True,
                          expect=holistic_short(rec)))
        cases.append(Case("holistic-long-%s" % rec, ["report", "holistic", "--long",
                                                     "--access_pattern", "{%s}" % rec],
                          damo_without_perf=True, expect=holistic_long(rec)))
    cases += [
        Case("holistic-last-2s", ["report", "holistic", "--access_pattern", "{own}",
                                  "--heatmap_time_last_n_sec", "2"], damo_without_perf=True,
             expect=holistic_short("own", last_n_sec=2)),
        Case("holistic-footprints", ["report", "holistic", "--access_pattern",
                                     "{own_paddr}", "--footprints", "{own}.mem_footprint"],
             damo_without_perf=True, expect=_holistic_other_footprints),
        Case("holistic-missing", ["report", "holistic", "--access_pattern", "nonexistent"],
             expect="error", names=["nonexistent"], damo_without_perf=True),
        Case("holistic-no-footprints", ["report", "holistic", "--access_pattern", "{basic}"],
             expect="error", names=["mem_footprint"], damo_without_perf=True),
    ]
    return cases


def _holistic_other_footprints(ours, theirs, reference):
    """--footprints names another footprints file: its table rows are ours."""
    holistic_short("own_paddr")(ours, theirs, reference)
    assert "       rss " in ours.stdout


# ---------------------------------------------------------------------- trace

PERF_DATA = ["basic", "multi_targets_gaps", "tuned_intervals", "one_snapshot", "upstream",
             "own_schemes"]
TEXT_TWINS = {"multi_targets_gaps.perf_script": "multi_targets_gaps",
              "one_snapshot.perf_script": "one_snapshot",
              "basic.perf_script": "basic"}


def _trace_cases():
    cases = []
    for rec in PERF_DATA:
        pd = "{%s.perf_data}" % rec
        cases.append(Case("trace-%s" % rec, ["report", "trace", "-i", pd]))
        cases.append(Case("trace-%s-raw" % rec, ["report", "trace", "-i", pd, "--raw"]))
        cases.append(Case("trace-%s-narrow" % rec, ["report", "trace", "--input", pd,
                                                    "--max_cols", "50"]))
    for events in (["damon:damon_aggregated"], ["damon:damon_monitor_intervals_tune"],
                   ["damon:damos_before_apply", "damon:damon_aggregated"], ["all"]):
        for rec in ("tuned_intervals", "own_schemes"):
            cases.append(Case("trace-%s-event-%s" % (rec, "-".join(events)), [
                "report", "trace", "-i", "{%s.perf_data}" % rec, "--event"] + events))
    cases += [
        Case("trace-no-event", ["report", "trace", "-i", "{tuned_intervals.perf_data}",
                                "--no_event", "damon:damon_aggregated"]),
        Case("trace-no-events", ["report", "trace", "-i", "{own_schemes.perf_data}",
                                 "--no_event", "damon:damos_before_apply",
                                 "damon:damon_monitor_intervals_tune"]),
        Case("trace-tiny-cols", ["report", "trace", "-i", "{basic.perf_data}",
                                 "--max_cols", "5"]),
        Case("trace-wide-cols", ["report", "trace", "-i", "{basic.perf_data}",
                                 "--max_cols", "1000", "--raw"]),
        Case("trace-bad-event", ["report", "trace", "-i", "{basic.perf_data}", "--event",
                                 "damon:nothing"], expect="error", names=["--event"]),
        Case("trace-bad-no-event", ["report", "trace", "-i", "{basic.perf_data}",
                                    "--no_event", "all"], expect="error",
             names=["--no_event"]),
        Case("trace-bad-cols", ["report", "trace", "-i", "{basic.perf_data}",
                                "--max_cols", "x"], expect="error", names=["--max_cols"]),
    ]
    for text, twin in TEXT_TWINS.items():
        cases.append(Case("trace-text-%s" % text, ["report", "trace", "-i", "{%s}" % text],
                          expect=_text_like_perf_data(twin)))
    return cases


def _text_like_perf_data(twin):
    """damo cannot read perf_script text in report trace: it runs perf script
    on it (and trace-cmd, and its own output format) and prints why each
    failed, with exit code 0.  Ours reads it: the events are damo's for the
    same records written as perf.data, up to the sub-microsecond rounding of
    times (%f in perf_script text, truncation in perf script) and the thread
    name (kdamond.x/xxxx)."""
    def expect(ours, theirs, reference):
        assert theirs.code == 0 and theirs.stdout.startswith("cannot parse ")
        expected = reference.get(Case("trace-%s" % twin, ["report", "trace", "-i",
                                                          "{%s.perf_data}" % twin])).stdout
        assert ours.code == 0

        def key(line):
            fields = line.split()
            return fields[2:]
        def by_target(lines):
            # the text has a target's snapshots together, perf.data them all in time
            # order; a target's lines keep their order in both
            return sorted(lines, key=lambda line: line.split()[3])
        # a damo perf_script text of one snapshot ends with a fake one (a 0-0
        # region of -1 samples and age); perf.data, like a kernel's trace, has none
        ours_lines = by_target([line for line in ours.stdout.splitlines()
                                if not line.endswith(" 0 B (0 B) -1 -1")])
        theirs_lines = by_target(expected.splitlines())
        assert len(ours_lines) == len(theirs_lines) > 0
        for a, b in zip(ours_lines, theirs_lines):
            assert key(a) == key(b)
            assert a.split()[1] == "kdamond.x/xxxx" and b.split()[1] == "kdamond.0/4000"
            assert abs(float(a.split()[0]) - float(b.split()[0])) <= 1.5e-6
    return expect


CASES = _times_cases() + _footprints_cases() + _holistic_cases() + _trace_cases()


@pytest.fixture(scope="module", autouse=True)
def prefetch(reference):
    reference.prefetch(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_as_damo(reference, tool_recordings, tmp_path, case):
    theirs = reference.get(case)
    ours = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    tools_diff.check(case, ours, theirs, reference)


def test_holistic_warns_of_no_hotspots(tool_recordings):
    from conftest import run_ours
    code, out, err = run_ours("report", "holistic", "--access_pattern", tool_recordings["own"])
    assert code == 0
    assert err == ("damo: warning: no hotspot functions: there is no CPU profile %s.profile\n"
                   % tool_recordings["own"])
    assert "# Hotspot functions" not in out


def test_temperature_needs_intervals(tool_recordings):
    """damo dies in its unit conversion (None intervals); ours says why."""
    from conftest import run_ours
    code, out, err = run_ours("report", "times", "--inputs", tool_recordings["upstream"], "x",
                              "--temperature", "0", "100")
    assert (code, out) == (1, "")
    assert err == ("damo: error: --temperature: %s has no monitoring intervals, so its "
                   "regions have no access rate\n" % tool_recordings["upstream"])


PERF_TRACE_OUTPUT = """damo_report_trace_output_format_version: 0
damo_report_trace_output_time: 1700000000.5
damo_report_trace_output_tracer: perf
  3128.371 kdamond.0/764 damon:damon_aggregated(target_id=0 nr_regions=2 4096-8192: 3 7)
  3128.371 kdamond.0/764 damon:damon_aggregated(target_id=0 nr_regions=2 8192-1052672: 0 12)
  3128.380 kdamond.0/764 damon:damon_monitor_intervals_tune(sample_us=2500)
"""


def test_trace_of_damo_report_trace_output(reference, tool_recordings, tmp_path):
    """damo bug: it reads its own `report trace --output` files of perf traces
    as perf script lines, which never match an event, so it prints nothing.
    Ours reads them as the perf trace lines they are."""
    path = tmp_path / "trace.out"
    path.write_text(PERF_TRACE_OUTPUT)
    case = Case("trace-output-file", ["report", "trace", "-i", str(path)])
    theirs = reference.get(case)
    assert (theirs.code, theirs.stdout) == (0, "")
    ours = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    assert (ours.code, ours.stderr) == (0, "")
    assert ours.stdout == (
        "3128.371 kdamond.0/764 damon:damon_aggregated 0 0/2 4.000000 KiB (4.000000 KiB) 3 7\n"
        "3128.371 kdamond.0/764 damon:damon_aggregated 0 1/2 8.000000 KiB (1020.000000 KiB) 0 "
        "12\n"
        "3128.380 kdamond.0/764 damon:damon_monitor_intervals_tune sample_us=2500\n")


def test_trace_needs_input(tool_recordings):
    from conftest import run_ours
    code, out, err = run_ours("report", "trace")
    assert (code, out) == (1, "")
    assert err.startswith("damo: error: tracing DAMON live needs a DAMON kernel")
