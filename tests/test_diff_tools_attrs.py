"""damo report attrs against damo 3.4.3: the same stdout and exit code, over
synthetic shapes, snapshot records with DAMOS filters and stats, and our own
recordings, each with the .kdamonds file damo record writes beside it (some
with a probe)."""
import json

import pytest

import tools_diff
from conftest import run_ours
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

RECS = ["basic", "multi_targets_gaps", "tuned_intervals", "one_snapshot", "snap", "own",
        "own_schemes", "own_paddr", "odd_regions"]
OPTIONS = [
    ("temp-hist", ["--style", "temperature-sz-hist"]),
    ("recency-hist", ["--style", "recency-sz-hist"]),
    ("cold-tail", ["--style", "cold-memory-tail"]),
    ("recency-pct", ["--style", "recency-percentiles"]),
    ("idle-pct", ["--style", "idle-time-percentiles"]),
    ("temp-pct", ["--style", "temperature-percentiles"]),
    ("pct-range", ["--style", "temperature-percentiles", "--percentiles_range", "0", "101",
                   "10"]),
    ("pct-list", ["--style", "recency-percentiles", "--percentiles_range", "5", "10", "50",
                  "90", "95", "100"]),
    ("hist-log", ["--style", "recency-sz-hist", "--hist_logscale"]),
    ("hist-cumulate", ["--style", "temperature-sz-hist", "--hist_cumulate"]),
    ("hist-ranges", ["--style", "recency-sz-hist", "--hist_ranges", "0", "1s", "1s", "1m"]),
    ("sort-address", ["--sort_regions_by", "address"]),
    ("sort-size-age", ["--sort_regions_by", "size", "reverse", "age"]),
    ("sort-hits", ["--sort_regions_by", "probe_hits_wsum", "reverse"]),
    ("weights", ["--temperature_weights", "1", "1", "1"]),
    ("raw-form", ["--raw_form"]),
    ("raw-form-raw", ["--raw_form", "--raw_number"]),
    ("json", ["--json"]),
    ("json-raw", ["--json", "--raw_number"]),
    ("total-sz", ["--total_sz_only"]),
    ("raw-number", ["--raw_number"]),
    ("heatmap-static", ["--snapshot_heatmap_width", "30", "--snapshot_heatmap_static"]),
    ("heatmap-flame", ["--snapshot_heatmap_colorset", "flame"]),
    ("min-chars", ["--min_chars_for", "<size>", "20"]),
    ("format-region", ["--format", "set", "region",
                       "<index>:<end address>:<temperature>:<probe hits>:"
                       "<filters passed bytes>"]),
    ("format-append", ["--format", "append", "snapshot_tail",
                       "\\n<intervals tuning status>\\n<number of regions>"]),
    ("format-record", ["--format", "set", "record_head",
                       "<kdamond index>/<context index>/<scheme index>/<target id>/"
                       "<abs start time>/<duration>/<data source>"]),
    ("format-snapshot", ["--format", "set", "snapshot_head",
                         "<total bytes>|<duration>|<abs start time>|<abs end time>|"
                         "<filters passed bytes>|<filters passed estimated memory bandwidth>|"
                         "<damos stats>"]),
    ("format-tail", ["--format", "set", "record_tail", "<intervals goal>|<intervals>"]),
    ("format-no-region", ["--format", "set", "snapshot_head", "<start time>-<end time>",
                          "--format", "set", "region", ""]),
    ("filter-rate", ["--access_rate", "10", "100"]),
    ("filter-size", ["--sz_region", "1M", "max"]),
    ("filter-idx", ["--snapshot_idx", "0", "1"]),
    ("adjust-df", ["--adjust_region", "size", "df_passed"]),
    ("repeat", ["--repeat", "0", "2"]),
    ("ls-keywords", ["--ls_snapshot_format_keywords"]),
]


def _empty_regions_heatmap(ours, theirs, reference=None):
    """damo bug: --adjust_region size df_passed makes every region of a
    snapshot with nothing passed empty, and damo's heatmap divides by their
    zero total size; ours says there is no heatmap."""
    assert theirs.code != 0 and "ZeroDivisionError" in theirs.stderr
    assert ours.code == 0 and "heatmap: n/a (no region size)" in ours.stdout


EXPECT = {
    ("tuned_intervals", "json-raw"): tools_diff.same_after(tools_diff.ns_sample_intervals_fixed),
    ("tuned_intervals", "adjust-df"): _empty_regions_heatmap,
}


def _cases():
    cases = [Case("attrs-%s" % rec, ["report", "attrs", "-i", "{%s}" % rec]) for rec in RECS]
    for name, opts in OPTIONS:
        for rec in ("snap", "tuned_intervals"):
            extra = {}
            if (rec, name) in EXPECT:
                extra = {"expect": EXPECT[(rec, name)]}
            cases.append(Case("attrs-%s-%s" % (rec, name),
                              ["report", "attrs", "-i", "{%s}" % rec] + opts, **extra))
    cases += [
        Case("attrs-two-inputs", ["report", "attrs", "-i", "{basic}", "-i", "{snap}"]),
        # damo sets DAMON up before it looks for ./damon.data: it cannot run
        # this offline; ours reads ./damon.data, as damo's help says
        Case("attrs-default-input", ["report", "attrs"],
             setup=lambda d, r: _copy_with_kdamonds(r["basic"], d),
             expect=tools_diff.SameAsCase(Case("attrs-basic", ["report", "attrs", "-i",
                                                               "{basic}"]),
                                          "DAMON interface (auto) not supported")),
        Case("attrs-no-kdamonds", ["report", "attrs", "-i", "{small}"], expect="error",
             names=["small.data.kdamonds"]),
        Case("attrs-missing", ["report", "attrs", "-i", "nonexistent"], expect="error",
             names=["nonexistent"]),
        Case("attrs-bad-sort", ["report", "attrs", "-i", "{basic}", "--sort_regions_by",
                                "reverse"], expect="error", names=["--sort_regions_by"]),
        Case("attrs-bad-format", ["report", "attrs", "-i", "{basic}", "--format", "set",
                                  "body", "x"], expect="error", names=["--format"]),
        # damo's text_to_sec() dies on a wrong delay (a traceback)
        Case("attrs-bad-repeat-delay", ["report", "attrs", "-i", "{basic}", "--repeat", "x",
                                        "2"], expect="error", names=["--repeat", "'x'"]),
        Case("attrs-bad-repeat-count", ["report", "attrs", "-i", "{basic}", "--repeat", "1s",
                                        "two"], expect="error", names=["--repeat", "'two'"]),
        Case("attrs-repeat-one-value", ["report", "attrs", "-i", "{basic}", "--repeat", "1"],
             expect="error", names=["--repeat"]),
        # one empty value is one value (argparse keeps it): damo's message, not
        # --repeat alone (forever)
        Case("attrs-repeat-empty", ["report", "attrs", "-i", "{basic}", "--repeat", ""],
             expect="error", names=["--repeat receives only zero or two arguments"]),
        # damo's text_to_sec() indexes an empty delay, text_to_nr() floats an
        # empty count (tracebacks)
        Case("attrs-repeat-empty-delay", ["report", "attrs", "-i", "{basic}", "--repeat", "",
                                          "2"], expect="error", names=["--repeat", "''"]),
        Case("attrs-repeat-two-empty", ["report", "attrs", "-i", "{basic}", "--repeat", "",
                                        ""], expect="error", names=["--repeat", "<delay> ''"]),
        Case("attrs-repeat-empty-count", ["report", "attrs", "-i", "{basic}", "--repeat", "0",
                                          ""], expect="error", names=["--repeat", "<count> ''"]),
        Case("attrs-repeat-three", ["report", "attrs", "-i", "{basic}", "--repeat", "0", "1",
                                    "2"], expect="error", names=["zero or two arguments"]),
        # the values are checked before the recording is read, as damo does
        Case("attrs-repeat-empty-no-kdamonds", ["report", "attrs", "-i", "{small}", "--repeat",
                                                ""], expect="error", names=["--repeat"]),
        Case("attrs-empty-percentiles-range", ["report", "attrs", "-i", "{basic}",
                                               "--percentiles_range", ""], expect="error",
             names=["--percentiles_range"]),
        Case("attrs-repeat-units", ["report", "attrs", "-i", "{basic}", "--total_sz_only",
                                    "--repeat", "10ms", "3"]),
        # parsed, and used only for live snapshots
        Case("attrs-snapshot-damos-filter", ["report", "attrs", "-i", "{snap}",
                                             "--snapshot_damos_filter", "allow", "anon"]),
        Case("attrs-bad-snapshot-damos-filter", ["report", "attrs", "-i", "{basic}",
                                                 "--snapshot_damos_filter", "allow", "bogus"],
             expect="error", names=["--snapshot_damos_filter", "bogus"]),
        # damo divides by the width (a traceback)
        Case("attrs-zero-heatmap-width", ["report", "attrs", "-i", "{basic}",
                                          "--snapshot_heatmap_width", "0"], expect="error",
             names=["--snapshot_heatmap_width"]),
        Case("attrs-bad-style", ["report", "attrs", "-i", "{basic}", "--style", "hot"],
             expect="error", names=["--style"]),
    ]
    return cases


def _copy_with_kdamonds(src, directory):
    import shutil
    shutil.copy(src, "%s/damon.data" % directory)
    shutil.copy(src + ".kdamonds", "%s/damon.data.kdamonds" % directory)


CASES = _cases()


@pytest.fixture(scope="module", autouse=True)
def prefetch(reference):
    reference.prefetch(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_as_damo(reference, tool_recordings, tmp_path, case):
    theirs = reference.get(case)
    ours = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    tools_diff.check(case, ours, theirs, reference)


def test_attrs_without_intervals(reference, tool_recordings, tmp_path):
    """damo dies converting the ages of a record without monitoring
    intervals (AttributeError on None); ours says so in one line."""
    case = Case("attrs-intervals-null", ["report", "attrs", "-i", "{intervals_null}"])
    theirs = reference.get(case)
    assert theirs.code != 0 and "AttributeError" in theirs.stderr
    ours = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    assert (ours.code, ours.stdout) == (1, "")
    assert "a record without monitoring intervals" in ours.stderr


def test_attrs_exec_is_refused(tool_recordings):
    code, out, err = run_ours("report", "attrs", "-i", tool_recordings["basic"], "--exec",
                              "interpreter")
    assert (code, out) == (1, "") and err.startswith("damo: error: --exec:")


def test_attrs_of_the_running_kdamonds():
    """Without --input and with a kdamond running, damo captures its latest
    snapshot: here the daemon's, with its parameters for the probes; without
    either, and no ./damon.data, one error."""
    from test_live import Live, SPEED
    lv = Live()
    try:
        done = lv.damo("report", "attrs")
        assert done.returncode != 0 and done.stdout == ""
        assert done.stderr.startswith("damo: error: ") and "damon.data" in done.stderr
        lv.start(lv.workload, "--speed", SPEED)
        lv.ok("tune", "--monitoring_intervals", "5ms", "100ms", "1s")      # state published
        text = lv.ok("report", "attrs")
        assert text.startswith("heatmap: ") and "\nNo probe\nintervals: sample " in text
        assert "\nrecord DAMON intervals: sample 5 ms, aggr 100 ms\n" in text + "\n"
        [view] = json.loads(lv.ok("report", "attrs", "--json"))
        [kdamond] = view["damon_records"]["kdamonds"]
        assert kdamond["state"] == "on" and kdamond["contexts"][0]["ops"] == "vaddr"
        [record] = view["damon_records"]["record_list"]
        [snapshot] = record["snapshots"]
        starts = [int(r["start"].replace(",", "")) for r in snapshot["regions"]]
        ends = [int(r["end"].replace(",", "")) for r in snapshot["regions"]]
        assert starts and all(s < e for s, e in zip(starts, ends))
        assert all(e <= s for e, s in zip(ends, starts[1:]))
        assert all(r["probe_hits"] == [] for r in snapshot["regions"])
        lv.ok("stop")
    finally:
        lv.cleanup()


def test_attrs_repeat_without_values_runs_until_ctrl_c(tool_recordings):
    """damo's --repeat with no values: every second until ^C, which ends it
    with damo's 'signal 2 received' line (exit 0)."""
    import signal
    import subprocess
    import sys
    from damo import records
    nr = sum(r.nr_snapshots for r in records.load(tool_recordings["basic"]).records)
    once = run_ours("report", "attrs", "-i", tool_recordings["basic"], "--total_sz_only")[1]
    assert once.count("\n") == nr
    proc = subprocess.Popen([sys.executable, "-m", "damo.cli", "report", "attrs", "-i",
                             tool_recordings["basic"], "--total_sz_only", "--repeat"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # two rounds (a second apart), each the report and a blank line
    lines = [proc.stdout.readline() for _ in range(2 * (nr + 1))]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "".join(lines) == (once + "\n") * 2
    assert proc.returncode == 0 and err == ""
    assert out.endswith("\nsignal 2 received\n")
