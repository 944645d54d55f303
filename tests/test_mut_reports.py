"""Report words and numbers a user reads, checked in-process against values
worked out by hand (so that mutation testing sees them)."""
import pytest

from damo.errors import DamoError
from damo.reports import trace
from damo.reports.heatmap import HeatMap
from damo.records.model import Intervals
from damo.records.model import Record


def test_events_to_show_and_hide():
    assert trace.events_to_show(["all"], None) == list(trace.EVENTS)
    assert trace.events_to_show(["all"], ["damon:damos_esz"]) == [
        e for e in trace.EVENTS if e != "damon:damos_esz"]
    assert trace.events_to_show(["damon:damon_aggregated", "damon:damos_esz"],
                                ["damon:damon_aggregated"]) == ["damon:damos_esz"]
    with pytest.raises(DamoError) as e:
        trace.events_to_show(["damon:damon_aggregated"], ["damon:damos_esz"])
    assert str(e.value) == "--no_event: damon:damos_esz is not among the events to show"


def test_a_heatmap_too_small_for_its_pixels_says_so():
    r = Record(1, [0], [1000], [0, 1], [0], [100], [1], [1])
    # 1000 ns cannot be cut into 2000 columns of whole nanoseconds
    with pytest.raises(DamoError) as e:
        HeatMap.build([r], (0, 1000), (0, 100), (2000, 10))
    assert str(e.value) == "the map is too small for 2000x10 pixels (time 1 us, space 100 B)"
    # 100 bytes cannot be cut into 101 columns of whole bytes either
    with pytest.raises(DamoError) as e:
        HeatMap.build([r], (0, 1000), (0, 100), (10, 101))
    assert str(e.value) == "the map is too small for 10x101 pixels (time 1 us, space 100 B)"
    assert HeatMap.build([r], (0, 1000), (0, 100), (1000, 100)).heats.shape == (100000,)


# ---- report trace: lines parsed and formatted by hand -----------------------

@pytest.mark.parametrize("line, kind, parsed", [
    ("kdamond.0 1234 [000] 5.000000: damon:damon_aggregated: target_id=1 nr_regions=2 "
     "0-4096: 3 7", "perf-script",
     ("5.000000", "kdamond.0/1234", "damon:damon_aggregated",
      ["target_id=1", "nr_regions=2", "0-4096:", "3", "7"])),
    ("kdamond.0-77 [001] ..... 3.000000: damon_aggregated: target_id=3 nr_regions=1 "
     "0-4096: 6 1", "trace-cmd",
     ("3.000000", "kdamond.0-77", "damon:damon_aggregated",
      ["target_id=3", "nr_regions=1", "0-4096:", "6", "1"])),
    ("kdamond.0-77 [001] 3.5: damon_aggregated: target_id=3", "trace-cmd",
     ("3.5", "kdamond.0-77", "damon:damon_aggregated", ["target_id=3"])),
    ("kdamond.0-77 [001] ..... 3.5:", "trace-cmd", (None,) * 4),
    ("1.234 kdamond.0/77 damon:damon_aggregated(target_id: 1, nr_regions: 2)", "perf-trace",
     ("1.234", "kdamond.0/77", "damon:damon_aggregated",
      ["target_id:", "1,", "nr_regions:", "2"])),
    ("1.234 kdamond.0/77 damon:damos_esz(esz: 4096)", "perf-trace",
     ("1.234", "kdamond.0/77", "damon:damos_esz", ["esz:", "4096"])),
    ("1.5 kdamond.0/77 damon:x(a)", "perf-trace", ("1.5", "kdamond.0/77", "damon:x", ["a"])),
    ("a b c", "perf-script", (None,) * 4),
    ("a b c d", "perf-script", (None,) * 4),
    ("a b", "perf-trace", (None,) * 4),
])
def test_trace_lines_of_each_tracer(line, kind, parsed):
    assert trace.parse_line(line, kind) == parsed


def test_trace_texts_as_damo_prints_them():
    f = trace.TraceFormatter(200)
    head = ["5.0", "kdamond.0/1"]
    # aggregated: target, index/nr_regions, start, (size), nr_accesses, age
    assert f.text(*head, "damon:damon_aggregated",
                  ["target_id=1", "nr_regions=2", "4096-12288:", "3", "7"]) == [
        "5.0 kdamond.0/1 damon:damon_aggregated 1 0/2 4.000000 KiB (8.000000 KiB) 3 7"]
    # the second of two regions, and no age (-1)
    assert f.text(*head, "damon:damon_aggregated",
                  ["target_id=1", "nr_regions=2", "0-1024:", "0"]) == [
        "5.0 kdamond.0/1 damon:damon_aggregated 1 1/2 0 B (1024 B) 0 -1"]
    # back to region 0 of the next snapshot
    assert f.text(*head, "damon:damon_aggregated",
                  ["target_id=1", "nr_regions=1", "0-1024:", "2", "1"])[0].endswith(" 1 0/1 0 B (1024 B) 2 1")
    assert f.text(*head, "damon:damos_before_apply",
                  ["ctx_idx=0", "scheme_idx=1", "target_idx=2", "nr_regions=3",
                   "0-2048:", "5", "6"]) == [
        "5.0 kdamond.0/1 damon:damos_before_apply 0 1 2 3 0 B (2.000000 KiB) 5 6"]
    # stat: kdamond ctx scheme nr_tried sz_tried nr_applied sz_applied [sz_ops_filter_passed
    # qt_exceeds nr_snapshots]
    assert f.text(*head, "damon:damos_stat_after_apply_interval",
                  ["ctx_idx=0", "scheme_idx=1", "nr_tried=1234", "sz_tried=8192",
                   "nr_applied=2", "sz_applied=4096"]) == [
        "5.0 kdamond.0/1 damon:damos_stat_after_apply_interval 0 1 1,234 8.000000 KiB 2 "
        "4.000000 KiB -1 B -1 -1"]          # damo formats the missing size too
    assert f.text(*head, "damon:damos_stat_after_apply_interval",
                  ["ctx_idx=0", "scheme_idx=1", "nr_tried=1", "sz_tried=8192",
                   "nr_applied=2", "sz_applied=4096", "sz_ops_filter_passed=1024",
                   "qt_exceeds=3000", "nr_snapshots=4"])[0].endswith(
        " 0 1 1 8.000000 KiB 2 4.000000 KiB 1024 B 3,000 4")
    assert f.text(*head, "damon:damos_esz", ["esz=4096"]) == [
        "5.0 kdamond.0/1 damon:damos_esz esz=4096"]


def test_region_aggregated_texts_count_their_regions():
    f = trace.TraceFormatter(200)
    fields = ["target_id=1", "nr_regions=2", "0-8192:", "4", "9", "probe_hits=a", "1f"]
    assert f.text("1.0", "k/1", "damon:damon_region_aggregated", fields) == [
        "1.0 k/1 damon:damon_region_aggregated 1 0/2 0 B (8.000000 KiB) 4 9 10 31"]
    fields = ["target_id=1", "nr_regions=2", "8192-8193:", "0", "0", "probe_hits="]
    assert f.text("1.0", "k/1", "damon:damon_region_aggregated", fields) == [
        "1.0 k/1 damon:damon_region_aggregated 1 1/2 8.000000 KiB (1 B) 0 0 "]
    fields = ["target_id=1", "nr_regions=2", "0-1:", "0", "0", "probe_hits="]
    assert " 0/2 " in f.text("1.0", "k/1", "damon:damon_region_aggregated", fields)[0]


@pytest.mark.parametrize("line, width, lines", [
    ("a bb ccc", 8, ["a bb ccc"]),
    # damo counts a word's space after it: a line may reach one more column
    ("a bb ccc", 7, ["a bb ccc"]),
    ("a bb ccc", 6, ["a bb", "   ccc"]),
    ("aaaa bbbb cccc", 9, ["aaaa bbbb", "   cccc"]),
    # a word longer than a line: alone, then once more (damo's pr_wrapped)
    ("xxxxxxxxxx y", 5, ["xxxxxxxxxx", "   xxxxxxxxxx", "   y"]),
])
def test_wrapping_as_damo_wraps(line, width, lines):
    assert trace.wrapped(line, width) == lines


# ---- report profile: numbers put in by hand -------------------------------

import json

from conftest import main, run_ours
from click.testing import CliRunner


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    d = tmp_path_factory.mktemp("profile")
    out = str(d / "p.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "--damos_action", "stat",
                            "-o", out)
    assert code == 0, err
    return out


def edited(profiled, tmp_path, edit):
    """A copy of the recording whose metrics ``edit`` changed."""
    import shutil
    path = str(tmp_path / "e.data")
    shutil.copy(profiled, path)
    with open(profiled + ".sim_metrics") as f:
        m = json.load(f)
    edit(m)
    with open(path + ".sim_metrics", "w") as f:
        json.dump(m, f)
    return path


def test_profile_schemes_table_reads_its_stats(profiled, tmp_path):
    def edit(m):
        st = m["final"]["schemes"][0]["stats"]
        st.update(nr_tried=1234, sz_tried=3 << 30, nr_applied=1000, sz_applied=4096,
                  sz_ops_filter_passed=200 << 20, qt_exceeds=1234, nr_snapshots=10000)
    code, text, err = run_ours("report", "profile", "-i", edited(profiled, tmp_path, edit),
                               "--sections", "schemes", env={"COLUMNS": "160"})
    assert code == 0, err
    row = [line for line in text.splitlines() if line.startswith("0/0/0 ")][0]
    cells = [c.strip() for c in row.split("│")]
    # sizes in at most 9 columns: one decimal below 99.95 of a unit
    assert cells == ["0/0/0", "stat", "1,234 (3.0 GiB)", "1,000 (4.0 KiB)", "200 MiB",
                     "1,234", "10,000"]
    # the caption starts at the left edge, as the title does
    assert any(line.startswith("filtered: passed the ops filters; qt full: quota exceeded;")
               for line in text.splitlines())
    assert text.splitlines()[0].startswith("DAMOS schemes")


def test_profile_monitor_and_baseline_words(profiled):
    code, text, err = run_ours("report", "profile", "-i", profiled, "--baseline", profiled,
                               "--sections", "monitor,baseline")
    assert code == 0, err
    lines = text.splitlines()
    assert [c.strip() for c in lines[1].split("┃")] == [
        "kdamond/ctx", "access checks", "per second", "DAMOS actions", "CPU"]
    # the caption, last, is the rule and the baseline's path, word for word
    # (a path longer than the table is folded at its width: xdist's are)
    words = " ".join(text.split())
    rule = " overhead = variant / baseline - 1 (damon-tests); baseline: "
    assert rule in words
    assert "".join(words[words.index(rule) + len(rule):].split()) == profiled


def test_profile_json_is_the_metrics(profiled, tmp_path):
    def edit(m):
        del m["final"]["vmstat"]["zswpout"]          # older metrics lack it: 0
        m["final"]["vmstat"]["zswpin"] = 7
    code, text, err = run_ours("report", "profile", "-i", edited(profiled, tmp_path, edit),
                               "--format", "json")
    assert code == 0, err
    out = json.loads(text)
    with open(profiled + ".sim_metrics") as f:
        proc = json.load(f)["final"]["processes"][0]
    got = out["processes"][0]
    assert (got["pid"], got["name"], got["finished"]) == (proc["pid"], proc["name"],
                                                          proc["finished"])
    assert out["summary"]["zswpout"] == 0 and out["summary"]["zswpin"] == 7


# ---- report heatmap: what damo 3.4.3 prints, for what no other test runs ----

import reference_damo

EDITS = "+\n-\nh\nj\nk\nl\n1\n3\n50\n2\n1\n10\n2\n2\n-20\nx\n3\nq\n"


@pytest.fixture(scope="module")
def stairs_recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("hm") / "s.data")
    import synth
    synth.stairs(path, nr_snapshots=40, nr_regions=16, nr_targets=2, gaps=True)
    return path


def reference(args, stdin):
    try:
        reference_damo.check_sandbox()
        exe = reference_damo.ensure_installed()
    except reference_damo.Unavailable as e:
        pytest.skip("reference damo unavailable: %s" % e)
    done = reference_damo.run(args, damo=exe, input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("output", [[], ["--output", "raw"]], ids=["stdout", "raw"])
def test_interactive_zoom_and_scroll_as_damo(stairs_recording, output):
    """The shortcuts (+ - h j k l: axes swap between stdout and images/raw)
    and the menu's zooms and scrolls, then quit: damo's maps, one per step."""
    args = ["heatmap", "--interactive_edit", "--input", stairs_recording, "--resol", "4", "6",
            "--stdout_skip_colorset_example"] + output
    theirs = reference(["report"] + args, EDITS)
    extra = ["--color", "always"] if not output else []
    result = CliRunner().invoke(main, ["report"] + args + extra, input=EDITS,
                                catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout == theirs


@pytest.mark.parametrize("extra", [
    [], ["--resol", "12", "30"], ["--tid", "10"],
    # a range that cuts regions at both ends
    ["--address_range", str(0x7f0000000000 + (1 << 19)), str(0x7f0000000000 + (11 << 19))]],
    ids=["default", "resol", "tid", "cut"])
def test_sort_temperature_as_damo(stairs_recording, extra):
    args = ["heatmap", "--sort_temperature", "--input", stairs_recording,
            "--stdout_skip_colorset_example"] + extra
    theirs = reference(["report"] + args, "")
    code, ours, err = run_ours("report", *args, "--color", "always")
    assert (code, err) == (0, "")
    assert ours == theirs


def test_a_time_range_that_is_not_finite(stairs_recording):
    code, out, err = run_ours("report", "heatmap", "-i", stairs_recording, "--time_range",
                              "nan", "1s")
    assert code != 0 and out == ""
    assert err.strip() == "damo: error: wrong --time_range value 'nan' (not a finite time)"


def test_sysinfo_versions_then_the_file_systems():
    code, out, err = run_ours("report", "sysinfo", "--print", "versions", "fs_info")
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "damo version", "kernel version", "DAMON version", "sysfs", "tracefs", "debugfs"]
    assert lines[3:] == ["sysfs: None", "tracefs: None", "debugfs: None"]


# ---- report accuracy: figures of a tiny recording and truth, by hand --------

import numpy as np

from damo.reports import accuracy
from damo.records.model import Intervals
from damo.records.truth import RecordTruth


def tiny():
    """Three snapshots of one 2-page region (20 samples an aggregation).
    DAMON: 10, 0, 0 samples.  Truth: page A 20 samples in snapshots 0 and 2,
    page B never; so the true working set is 1 page, 0, 1 page."""
    rec = Record(5, [0, 100, 200], [100, 200, 300], [0, 1, 2, 3], [0] * 3, [8192] * 3,
                 [10, 0, 0], [0, 1, 2], intervals=Intervals(5000, 100000, 1000000))
    t = RecordTruth(0, 0, 5, {k: np.array(v) for k, v in {
        "wss": [4096, 0, 4096], "nr_samples": [20, 20, 20], "nr_bin": [1, 1, 1],
        "age_rounded": [False] * 3,
        "accessed": [4096, 0, 4096], "mean_nr": [10.0, 0.0, 10.0], "nr_cells": [2, 1, 2],
        "nr_pieces": [1, 1, 1],
        "cell_nr": [20, 0, 0, 20, 0], "cell_age": [0, 3, 1, 0, 5],
        "cell_pages": [1, 1, 2, 1, 1], "piece_nr": [10.0, 0.0, 10.0]}.items()})
    return rec, t


def test_accuracy_figures_by_hand():
    rec, t = tiny()
    out = accuracy.evaluate_record(rec, t, accuracy.default_filter())
    snaps = out["snapshots"]
    # DAMON's working set: the region when it has >= 1 sample: 8192, 0, 0
    assert [(s["wss_damon"], s["wss_true"]) for s in snaps] == [(8192, 4096), (0, 0), (0, 4096)]
    assert [s["wss_error"] for s in snaps] == [1.0, None, -1.0]
    # rates in percent: DAMON 50, 0, 0; truth per region 50, 0, 50; per page 100 or 0
    assert [s["region_freq_error"] for s in snaps] == [0.0, 0.0, 50.0]
    assert [s["page_freq_error"] for s in snaps] == [50.0, 0.0, 50.0]
    # hot: >= 1 % on both sides; DAMON's region is hot in snapshot 0 only
    assert [(s["hot_precision"], s["hot_recall"]) for s in snaps] == [
        (0.5, 1.0), (None, None), (None, 0.0)]
    assert [(s["cold_precision"], s["cold_recall"]) for s in snaps] == [
        (None, 0.0), (1.0, 1.0), (0.5, 1.0)]
    o = out["overall"]
    assert (o["wss_error"], o["wss_bias"]) == (1.0, 0.0)
    assert o["region_freq_error"] == pytest.approx(50 / 3)
    assert o["page_freq_error"] == pytest.approx(100 / 3)
    assert (o["hot_precision"], o["hot_recall"]) == (0.5, 0.5)
    assert (o["cold_precision"], o["cold_recall"]) == (0.75, 0.75)
    assert (out["target_id"], out["sample_us"], out["aggr_us"]) == (5, 5000, 100000)
    assert [(s["nr_regions"], s["nr_samples"], s["start_ns"]) for s in snaps] == [
        (1, 20, 0), (1, 20, 100), (1, 20, 200)]


def test_accuracy_heatmaps_side_by_side_by_hand():
    """Rows are the snapshots, columns the region's two pages; both maps on
    one scale: 100 hz (10 of 20 samples of 5 ms) is level trunc(9 * 100 /
    101) = 8."""
    from damo.records.model import Recording
    from damo.reports.heatmap import COLOR_END, color_start
    rec, t = tiny()
    damon, exact = accuracy.heatmap_pair(Recording([rec]), [t], (3, 2))
    assert accuracy.heatmap_text(damon, exact).splitlines() == [
        "DAMON  truth", "88  88", "00  00", "00  88",
        "# access_frequency: 0123456789 (0.000-100.000 hz, both maps)",
        "# x-axis: space [0 B, 8.000000 KiB) (8.000 KiB)",
        "# y-axis: time [0 ns, 300 ns) (300 ns)"]
    # damo paints what no snapshot covers with 0: a third column past the region
    damon, exact = accuracy.heatmap_pair(Recording([rec]), [t], (3, 3),
                                         address_range=(0, 12288))
    lines = accuracy.heatmap_text(damon, exact).splitlines()
    assert lines[1:4] == ["880  880", "000  000", "000  880"]
    colored = accuracy.heatmap_text(damon, exact, "gray", color=True).splitlines()
    hot, cold = color_start("gray", 8) + "8", color_start("gray", 0) + "0"
    assert colored[1] == hot * 2 + cold + COLOR_END + "  " + hot * 2 + cold + COLOR_END
    assert colored[4].startswith("# access_frequency: ") and "0123456789" not in colored[5]


# ---- diagnose's reasons, holistic's re-aggregation threshold ---------------

from damo.reports import diagnose as diag


def view(**kw):
    args = dict(where="kdamond 0 context 0 scheme 0", action="pageout",
                pattern=((0, 2**64 - 1), (0, 0), (0, 2**64 - 1)), stats={"nr_tried": 0})
    args.update(kw)
    return diag.SchemeView(args.pop("where"), args.pop("action"), args.pop("pattern"),
                           args.pop("stats"), **args)


WMARKS = {"metric": "free_mem_rate", "high": 500, "mid": 400, "low": 200}


@pytest.mark.parametrize("free, why", [
    (600, "above the high watermark: it acts below the middle one"),
    (100, "below the low watermark: it stops there, leaving memory to the kernel's reclaim"),
    (450, "not below the middle watermark since it was deactivated"),
])
def test_watermark_reasons_say_where_free_memory_is(free, why):
    v = view(wmarks=WMARKS, wmarks_active=False, free_rate=free)
    assert diag.diagnose(v) == ("applied nothing", "watermarks keep it inactive: free memory "
                                "%.1f%% is %s (high 50.0%%, mid 40.0%%, low 20.0%%)" % (
                                    free / 10, why))
    assert diag.diagnose(view(wmarks=WMARKS, wmarks_active=False)) == (
        "applied nothing", "watermarks keep it inactive (high 50.0%, mid 40.0%, low 20.0%)")


def test_a_gone_target_is_the_reason_only_if_no_apply_interval_passed():
    gone = view(target_gone="pid 7 exited", wmarks=WMARKS, wmarks_active=False)
    assert diag.diagnose(gone) == ("applied nothing", "its target is gone (pid 7 exited)")
    later = view(target_gone="pid 7 exited", wmarks=WMARKS, wmarks_active=False,
                 stats={"nr_tried": 0, "nr_snapshots": 3})
    assert diag.diagnose(later)[1].startswith("watermarks keep it inactive")


def test_madvise_holes_are_the_reason_only_for_what_they_left_unapplied():
    st = {"nr_tried": 5, "sz_tried": 10 << 20, "nr_applied": 3, "sz_applied": 6 << 20,
          "nr_snapshots": 4}
    one = view(stats=st, madvise_holes=(1, 4 << 20))
    assert diag.diagnose(one) == (
        "applied 6.000 MiB of 10.000 MiB tried",
        "1 region (4.000 MiB) had an unmapped gap inside: madvise() acts on the mapped "
        "parts, then fails with ENOMEM, and DAMON counts none of such a region applied "
        "(the kernel does the same)")
    assert diag.diagnose(view(stats=st, madvise_holes=(2, 4 << 20)))[1].startswith(
        "2 regions (4.000 MiB) had")
    # no gap met (or a recording made before the count): the other reasons
    for holes in (None, (0, 0)):
        assert diag.diagnose(view(stats=st, madvise_holes=holes))[1].startswith(
            "the operation set could not act on the rest")
    # all applied: nothing to explain
    full = dict(st, sz_applied=10 << 20)
    assert diag.diagnose(view(stats=full, madvise_holes=(1, 4 << 20))) == (
        "applied 10.000 MiB to all it tried", None)


def test_holistic_reaggregates_only_above_200_snapshots():
    from damo.reports import holistic

    def rec(n):
        return Record(1, list(range(0, n * 10, 10)), list(range(10, n * 10 + 10, 10)),
                      list(range(n + 1)), [0] * n, [4096] * n, [1] * n, [0] * n)
    few = [rec(120), rec(80)]
    assert holistic._for_distributions(few) is few
    many = [rec(120), rec(81)]
    out = holistic._for_distributions(many)
    assert out is not many and len(out) == 2


# ---- report profile's functions section and colours, on the command line ----

def test_profile_colours_on_any_terminal(profiled):
    # --color always: rich's standard colours even where TERM says the
    # terminal has none
    code, text, err = run_ours("report", "profile", "-i", profiled, "--sections", "schemes",
                               "--color", "always", env={"TERM": "dumb", "COLUMNS": "160"})
    assert code == 0, err
    assert text.startswith("\x1b[3mDAMOS schemes") and "\x1b[1mkd/ctx/s\x1b[0m" in text
    code, text, err = run_ours("report", "profile", "-i", profiled, "--sections", "schemes",
                               "--color", "never")
    assert "\x1b[" not in text


@pytest.fixture
def traced(tmp_path, profiled):
    """test_code_attribution's hand-made traced program: 4 snapshots of three
    1 MiB regions of ages 0-3 aggregations (1 ms), 6,720 accesses; some
    run's machine metrics beside it (the functions section does not read
    them; without their 'files' entry, as older metrics, they name no recording)."""
    import os
    import sys
    sys.path.insert(0, os.path.dirname(__file__))
    from test_code_attribution import made
    path = made.__wrapped__(tmp_path)
    with open(profiled + ".sim_metrics") as f:
        m = json.load(f)
    m.pop("files", None)
    with open(path + ".sim_metrics", "w") as f:
        json.dump(m, f)
    return path


def test_profile_functions_options(traced):
    code, text, err = run_ours("report", "profile", "-i", traced, "--sections", "functions",
                               "--age", "0", "max", env={"COLUMNS": "120"})
    assert code == 0, err
    # the table has no padding at its edges: names start the rows
    assert any(line.startswith("sweep ") for line in text.splitlines()), text
    assert "6,720 of 6,720 accesses (100.0%) hit it, in 4 of 4 snapshots" in text
    # regions of 1 hour or older: there are none (at most 3 ms old); damo's
    # report profile then says so and exits 1
    code, text, err = run_ours("report", "profile", "-i", traced, "--sections", "functions",
                               "--age", "1h", "max", env={"COLUMNS": "120"})
    assert (code, text) == (1, "No snapshot of the condition found\n")


def test_read_trace_kinds_and_errors(tmp_path):
    missing = str(tmp_path / "none")
    with pytest.raises(DamoError) as e:
        trace.read_trace(missing)
    assert str(e.value) == "%s: No such file or directory" % missing
    out = tmp_path / "t.txt"
    for tracer, kind in (("perf", "perf-trace"), ("trace-cmd", "trace-cmd-stream")):
        out.write_text("damo_report_trace_output_format_version: 1\nx\n"
                       "damo_report_trace_output_tracer: %s\nline\n" % tracer)
        assert trace.read_trace(str(out))[1] == kind
    out.write_text("kdamond.0 1234 [000] 5.0: damon:damon_aggregated: target_id=1\n")
    assert trace.read_trace(str(out))[1] == "perf-script"
    bad = "kdamond.0 1234 [000] 5.0: damon:damon_aggregated: target_id=1 nr_regions=x 0-1: 1 1"
    out.write_text(bad + "\n")
    with pytest.raises(DamoError) as e:
        trace.report_lines(str(out), ["damon:damon_aggregated"], False, 80)
    assert str(e.value) == "%s: a malformed damon:damon_aggregated event: %r" % (out, bad)


def test_heatmap_reporter_keeps_the_address_order_unless_asked():
    from damo.records.model import Recording
    from damo.reports.heatmap_reporter import HeatmapReporter
    # the hot page first, then the cold one: unsorted the map shows it so
    rec = Record(1, [0], [100], [0, 2], [0, 4096], [4096, 8192], [20, 0], [0, 0],
                 intervals=Intervals(5000, 100000, 1000000))
    rows = HeatmapReporter(Recording([rec]), resol=(1, 2), draw_range="all",
                           address_ranges=[(0, 8192)]).text("gray", False, legend=False)
    assert rows.splitlines()[0] == "80"
    rows = HeatmapReporter(Recording([rec]), resol=(1, 2), draw_range="all",
                           address_ranges=[(0, 8192)], sort_temperature=True).text(
        "gray", False, legend=False)
    assert rows.splitlines()[0] == "08"


# ---- report accuracy's image and its sweep measure, by hand -----------------

def test_accuracy_image_has_both_maps_labelled_on_one_scale(tmp_path, monkeypatch):
    import matplotlib.font_manager as fm
    from damo.records.model import Recording
    from damo.reports import plot
    rec, t = tiny()
    damon, exact = accuracy.heatmap_pair(Recording([rec]), [t], (3, 2))
    figures = []
    save = plot._save
    monkeypatch.setattr(plot, "_save", lambda fig, path, kind: (figures.append(fig),
                                                                save(fig, path, kind)))
    out = tmp_path / "acc.png"
    accuracy.draw_heatmaps(damon, exact, str(out), (600, 300), "t.data: DAMON and the truth")
    from PIL import Image
    with Image.open(out) as im:
        assert im.size == (600, 300)
    fig, = figures
    left, right = fig.axes[:2]
    medium = fm.FontProperties(size="medium").get_size_in_points()
    assert [(ax.get_title(), ax.title.get_fontsize()) for ax in (left, right)] == [
        ("DAMON", medium), ("truth", medium)]
    assert [ax.get_xlabel() for ax in (left, right)] == ["Time (s, from the map's start)"] * 2
    # one address label, on the left map (the right one shares its axis)
    assert (left.get_ylabel(), right.get_ylabel()) == ("Address (from the map's start)", "")
    assert fig._suptitle.get_text() == "t.data: DAMON and the truth"
    # rows are the snapshots (time runs along x), columns the pages; 10 of 20
    # samples of 5 ms is 100 hz: DAMON 100, 0, 0; the truth 100, 0, 100 (the
    # mean of its pieces) over both pages
    images = [np.ma.getdata(ax.images[0].get_array()) for ax in (left, right)]
    assert images[0].T.tolist() == [[100, 100], [0, 0], [0, 0]]
    assert images[1].T.tolist() == [[100, 100], [0, 0], [100, 100]]
    assert [im.get_clim() for im in (left.images[0], right.images[0])] == [(0, 100)] * 2


def test_accuracy_measure_of_a_sweep_run():
    import types
    from damo.records.model import Recording
    rec, t = tiny()
    rec.kdamond_idx, rec.context_idx = 0, 0     # the truth's key: (0, 0, target 5)
    run = types.SimpleNamespace(truths=[t], recording=Recording([rec]), metrics={
        "final": {"kdamonds": [{"cpu_util": 1.5, "nr_access_checks": 40},
                               {"cpu_util": 0.25, "nr_access_checks": 2}]}})
    out = accuracy.measure(run)
    # the overall figures of test_accuracy_figures_by_hand, and both kdamonds' sums
    assert (out["wss_error"], out["hot_precision"], out["cold_recall"]) == (1.0, 0.5, 0.75)
    assert out["page_freq_error"] == pytest.approx(100 / 3)
    assert (out["kdamond_cpu_util"], out["nr_access_checks"]) == (1.75, 42)
    with pytest.raises(DamoError) as e:
        accuracy.measure(types.SimpleNamespace(recording=Recording([rec])))
    assert str(e.value) == ("the evaluation kept no ground truth "
                            "(Evaluation(ground_truth=True))")


def test_image_size_refusal_names_the_size():
    from damo.reports import plot
    assert plot.size_error((0, 300)) == "image size must be positive, not 0x300"
    assert plot.size_error((640, -1)) == "image size must be positive, not 640x-1"


# ---- report access: records it cannot show ------------------------------------

def test_record_view_refuses_addresses_past_2_63_and_takes_plain_records():
    from damo.reports.access_records import RecordView
    big = Record(9, [0], [100], [0, 1], [4096], [2**63], [1], [2],
                 intervals=Intervals(5000, 100000, 1000000))
    with pytest.raises(DamoError) as e:
        RecordView(big)
    assert str(e.value) == (
        "target 9: region addresses up to 9223372036854775808: report access takes addresses "
        "below 2^63 (no machine maps more; x86-64's 5-level page tables stop at 2^57)")
    # an unfiltered record (no access rates computed): its regions, no rates
    view = RecordView(Record(9, [0], [100], [0, 1], [4096], [8192], [1], [2],
                             intervals=Intervals(5000, 100000, 1000000)))
    s, = view.snapshots
    assert (s.start_time, s.end_time, list(s.starts), list(s.ends)) == (0, 100, [4096], [8192])
    assert (list(s.samples), list(s.ages), list(s.szfp)) == ([1], [2], [0])
    assert (s.percent, s.usec) == (None, None)


def _ageless_recording(tmp_path):
    """One snapshot of one region whose age damo's writer left unknown (null)."""
    import zlib
    region = {"start": 4096, "end": 8192, "nr_accesses": {"samples": 1, "percent": None},
              "age": {"usec": None, "aggr_intervals": None}}
    obj = [{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": None, "target_id": 1,
            "intervals": {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000},
            "snapshots": [{"start_time": 0, "end_time": 100, "regions": [region],
                           "total_bytes": 4096}]}]
    path = tmp_path / "noage.data"
    path.write_bytes(zlib.compress(json.dumps(obj, indent=4).encode()))
    return path


def test_report_access_of_regions_without_age(tmp_path):
    path = _ageless_recording(tmp_path)
    # damo 3.4.3 dies multiplying the None age (a traceback): one error here
    assert run_ours("report", "access", "-i", str(path)) == (
        1, "", "damo: error: target 1 has regions without age, but intervals: damo cannot "
               "tell their age in time\n")


# ---- report heatmap --guide: gaps that touch, as damo walks them ------------

def test_guide_narrows_touching_gaps_as_damo(damo, tmp_path):
    import zlib

    def region(start, end):
        return {"start": start, "end": end, "nr_accesses": {"samples": 1, "percent": None},
                "age": {"usec": None, "aggr_intervals": 1}}
    # the second snapshot's empty region [16 KiB, 16 KiB) splits its gap in two
    # gaps that touch: damo's quadratic walk, not the sorted one
    snaps = [{"start_time": 0, "end_time": 100, "total_bytes": 8192,
              "regions": [region(4096, 8192), region(40960, 45056)]},
             {"start_time": 100, "end_time": 200, "total_bytes": 8192,
              "regions": [region(4096, 8192), region(16384, 16384), region(40960, 45056)]}]
    obj = [{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": None, "target_id": 1,
            "intervals": {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000},
            "snapshots": snaps}]
    path = tmp_path / "gaps.data"
    path.write_bytes(zlib.compress(json.dumps(obj, indent=4).encode()))
    theirs = damo.report("heatmap", "--guide", "--input", str(path))
    code, ours, _ = run_ours("report", "heatmap", "--guide", "--input", str(path))
    assert (code, ours) == theirs
    # the narrowed gap is [8 KiB, 16 KiB): regions [4 KiB, 16 KiB) and on
    assert "region\t 0: [4096, 16384) (12288)" in ours


# ---- report attrs: what no damo comparison reaches -------------------------

@pytest.fixture(scope="module")
def goal_recording(tmp_path_factory):
    """Intervals auto-tuning on (a goal), but no snapshot's sample interval
    recorded: damo infers each snapshot's intervals from its length."""
    from conftest_tools import kdamonds_file
    from damo.records import RecordingWriter
    path = str(tmp_path_factory.mktemp("attrs") / "goal.data")
    w = RecordingWriter(path, "json_compressed")
    iv = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000,
          "intervals_goal": {"access_bp": 400, "aggrs": 3, "min_sample_us": 5000,
                             "max_sample_us": 10000000}}
    t = 10**9
    for length in (100_000_000, 250_000_000, 104_000_000):
        w.add_snapshot(0, 0, 0, t, t + length, np.array([4096, 65536], np.uint64),
                       np.array([65536, 1 << 20], np.uint64), np.array([3, 0]),
                       np.array([2, 5]), intervals=iv)
        t += length
    w.commit()
    kdamonds_file(path + ".kdamonds")
    return path


def test_attrs_infers_tuned_intervals_from_snapshot_lengths_as_damo(damo, goal_recording):
    code, theirs = damo.report("attrs", "-i", goal_recording)
    assert code == 0
    ours = run_ours("report", "attrs", "-i", goal_recording)
    assert ours[0] == 0

    def lines(text):        # damo colours the heatmap line even into a pipe
        return [line for line in text.splitlines() if not line.startswith("heatmap: ")]
    assert lines(ours[1]) == lines(theirs)
    # 100 ms and 104 ms snapshots are within 10 % of the 100 ms aggregation:
    # the set intervals; the 250 ms one: 250 ms / 20 samples
    got = [line for line in ours[1].splitlines() if line.startswith("intervals: ")]
    assert got == ["intervals: sample 5 ms aggr 100 ms (max probe hits 20)",
                   "intervals: sample 12.500 ms aggr 250 ms (max probe hits 20)",
                   "intervals: sample 5 ms aggr 100 ms (max probe hits 20)"]


@pytest.mark.parametrize("region", ["R", "a\\nb%", "<x"])
def test_attrs_region_format_without_keywords_as_damo(damo, goal_recording, region):
    # one line (the text as given) per region, as damo prints it
    code, theirs = damo.report("attrs", "-i", goal_recording, "--format", "set", "region",
                               region)
    ours = run_ours("report", "attrs", "-i", goal_recording, "--format", "set", "region",
                    region)
    assert (ours[0], code) == (0, 0)

    def lines(text):        # damo colours the heatmap line even into a pipe
        return [line for line in text.splitlines() if not line.startswith("heatmap: ")]
    assert lines(ours[1]) == lines(theirs)
    assert lines(ours[1]).count(region.replace("\\n", "\n").split("\n")[0]) == 6


def test_attrs_format_strings_keyword_and_adjust_region_errors(goal_recording):
    code, out, err = run_ours("report", "attrs", "-i", goal_recording,
                              "--format", "set", "record_head", "<format strings>",
                              "--format", "set", "snapshot_head", "SH",
                              "--format", "set", "region", "R",
                              "--format", "set", "snapshot_tail", "ST",
                              "--format", "set", "record_tail", "RT")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        'record head: "<format strings>"', 'snapshot head: "SH"', 'region: "R"',
        'snapshot tail: "ST"', 'record tail: "RT"'] + ["SH", "R", "R", "ST", ""] * 2 + ["SH", "R", "R", "ST", "RT"]
    # a size adjustment by a probe's hit rate needs the probe's index
    assert run_ours("report", "attrs", "-i", goal_recording, "--adjust_region", "size",
                    "probe_hits_rate") == (1, "", "damo: error: --adjust_region: no probe idx\n")


def test_attrs_refuses_a_region_of_unknown_age(tmp_path):
    from conftest_tools import kdamonds_file
    path = _ageless_recording(tmp_path)
    kdamonds_file(str(path) + ".kdamonds")
    assert run_ours("report", "attrs", "-i", str(path)) == (
        1, "", "damo: error: %s: a region of unknown age (report attrs needs ages)\n" % path)


# ---- report damon of a kdamonds file: --raw numbers -------------------------

def test_report_damon_raw_numbers_of_a_kdamonds_file(tmp_path):
    from conftest_tools import kdamonds_file
    path = str(tmp_path / "k.json")
    kdamonds_file(path)     # intervals "5 ms", "100 ms", "1 s"; nr_regions "10", "1,000"
    code, out, err = run_ours("report", "damon", "--input_file", path, "--raw")
    assert (code, err) == (0, "")
    lines = [line.strip() for line in out.splitlines()]
    assert "intervals: sample 5000, aggr 100000, update 1000000" in lines
    assert "nr_regions: [10, 1000]" in lines
    code, out, err = run_ours("report", "damon", "--input_file", path)
    lines = [line.strip() for line in out.splitlines()]
    assert "intervals: sample 5 ms, aggr 100 ms, update 1 s" in lines
    assert "nr_regions: [10, 1,000]" in lines


# ---- report profile's functions section: its title at the left edge ---------

from test_code_attribution import made  # noqa: E402,F401 (the traced recording fixture)


def test_profile_functions_title_starts_at_the_left_edge(made):
    # as the other sections' titles (a centred title would float over the table)
    import io
    from types import SimpleNamespace
    from rich.console import Console
    from damo import records
    from damo.reports import code_attribution as ca
    table, _ = ca.profile_section(SimpleNamespace(path=made, options={"nr_functions": 2},
                                                  recording=records.load(made)))
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(table)
    first = out.getvalue().splitlines()[0]
    assert first.rstrip() == "Functions accessing all memory"
