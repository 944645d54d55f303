"""``damo report access`` against damo 3.4.3 itself, command line by command
line: every documented option over the real DAMON recording, synthetic
shapes (one and several targets, perf-script input, records without
intervals), snapshot records with DAMOS filters and scheme stats written by
damo 3.4.3's own writer (tests/damo_writer.py, run in damo's venv and
sandbox), and our own recordings.  stdout and the exit code must be the
same, byte for byte after stripping colour (and with colour, for some).

Where damo 3.4.3 fails we end with one ``damo: error:`` line and a non-zero
exit; the tests that name a damo bug say which.
"""
import json
import os
import re
import shutil

import pytest

import reference_damo
import synth
from conftest import run_ours

ANSI = re.compile("\x1b\\[[0-9;]*m")

# name -> spec builder for tests/damo_writer.py (damo 3.4.3's writer)
DAMO_WRITTEN = {
    # what `damo record --snapshot` writes: one record per snapshot, an ops filter
    "dsnap": lambda: synth.damos_snapshot_spec(),
    # core filters only (addr, target): df lines without an ops filter, 2 kdamonds
    "dsnap_core": lambda: synth.damos_snapshot_spec(
        filters=[["addr", True, True, [0x7f0000000000, 0x7f0000400000]],
                 ["target", False, False, 0]], kdamonds=2),
    # every filter type damo writes
    "dsnap_many": lambda: synth.damos_snapshot_spec(filters=[
        ["anon", True, False, None], ["memcg", False, True, "/workloads/a"],
        ["hugepage_size", True, False, ["2M", "1G"]], ["young", True, True, None],
        ["active", False, False, None], ["unmapped", True, False, None]]),
    # DAMON_STAT snapshots: its data source and intervals goal, no scheme stats
    "dstat": lambda: synth.damos_snapshot_spec(
        nr_snapshots=3, filters=[], data_source="damon_stat",
        intervals_goal=[400, 3, 5000, 10000000], with_stats=False),
    # one scheme's tried regions over time: one record, many snapshots
    "tried": lambda: synth.tried_regions_spec(),
}


@pytest.fixture(scope="module")
def files(damo, recordings, tmp_path_factory):
    """name -> recording path: conftest's shapes, damo-written DAMOS records
    and our own recordings."""
    root = tmp_path_factory.mktemp("diff_access")
    paths = dict(recordings)
    for name, spec in DAMO_WRITTEN.items():
        spec_path = root / (name + ".json")
        spec_path.write_text(json.dumps(spec()))
        paths[name] = str(root / (name + ".data"))
        done = reference_damo.run_python(
            os.path.join(os.path.dirname(__file__), "damo_writer.py"),
            [str(spec_path), paths[name], "json_compressed"], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    paths["ours"] = str(root / "ours.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "3", "-o", paths["ours"])
    assert code == 0, err
    paths["ours_tried"] = str(root / "ours_tried.data")
    code, _, err = run_ours("record", "hotcold", "--timeout", "2", "-o", paths["ours_tried"],
                            "--damos_action", "stat", "--damos_access_rate", "0", "0",
                            "--damos_filter", "reject", "none", "anon",
                            "--schemes_target_regions")
    assert code == 0, err
    return paths


# ---------------------------------------------------------------- cases

STYLES = ["detailed", "simple-boxes", "temperature-sz-hist", "recency-sz-hist",
          "cold-memory-tail", "recency-percentiles", "idle-time-percentiles",
          "temperature-percentiles", "cold", "hot"]
A_TARGET = "139637976727552"      # an address of multi_targets_gaps' first target
KEYWORDS_REGION = ("<index> <start address> <end address> <size> <access rate> "
                   "<access hz> <age> <temperature> <probe hits> <filters passed bytes>")
KEYWORDS_SNAPSHOT = ("<total bytes> <duration> <start time> <end time> <abs start time> "
                     "<abs end time> <number of regions> <filters passed type> "
                     "<filters passed bytes> <positive access samples ratio> "
                     "<estimated memory bandwidth> <filters passed estimated memory bandwidth> "
                     "<intervals tuning status> <snapshot intervals>")
KEYWORDS_RECORD = ("<kdamond index> <context index> <scheme index> <target id> "
                   "<abs start time> <duration> <intervals> <intervals goal> <data source>")


def _cases():
    c = []

    def add(name, *args):
        c.append((name,) + args)

    for style in STYLES:
        for name in ("small", "multi_targets_gaps", "dsnap"):
            add(name, "--style", style)
    for style in ("detailed", "temperature-sz-hist", "recency-percentiles", "hot"):
        for name in ("tuned_intervals", "one_snapshot", "address_zero", "dsnap_core",
                     "dsnap_many", "dstat", "tried", "ours", "ours_tried"):
            add(name, "--style", style)
    for name in ("basic", "multi_targets_gaps", "tuned_intervals", "intervals_null",
                 "no_ages", "one_snapshot.perf_script", "multi_targets_gaps.perf_script",
                 "upstream", "dsnap", "dsnap_many", "tried", "ours"):
        add(name, "--json")
        add(name, "--json", "--raw_number")
    for name in ("small", "multi_targets_gaps", "dsnap", "upstream", "intervals_null",
                 "multi_targets_gaps.perf_script", "ours_tried"):
        add(name, "--raw_form")
    add("upstream", "--raw_form", "--raw_number")
    for name in ("multi_targets_gaps", "tuned_intervals", "dsnap", "ours"):
        add(name, "--total_sz_only")
        add(name, "--total_sz_only", "--raw_number")
        add(name, "--raw_number")
    # filters
    for args in (("--sz_region", "1M", "max"), ("--sz_region", "min", "1000K"),
                 ("--access_rate", "50", "100"), ("--access_rate", "0", "0"),
                 ("--access_rate", "10%", "60%"), ("--age", "1s", "max"),
                 ("--age", "min", "200ms"), ("--age", "100000", "max"),
                 ("--snapshot_idx", "3", "5"),
                 ("--snapshot_idx", "0", "0", "--snapshot_idx", "10", "12"),
                 ("--snapshot_time", "5000000000", "5500000000"),
                 ("--snapshot_time", "5s", "5.5s", "--snapshot_time", "8s", "9s"),
                 ("--sz_snapshot", "0", "10M"), ("--sz_snapshot", "30M", "max"),
                 ("--temperature", "0", "1000000"), ("--temperature", "-20000000", "-1"),
                 ("--temperature", "-100", "100", "--temperature", "5000", "10000"),
                 ("--sz_region", "1M", "max", "--access_rate", "1", "max", "--age", "0",
                  "300ms")):
        add("basic", *args)
    add("basic", "--temperature", "0", "1000000", "--temperature_weights", "1", "0", "0")
    add("basic", "--snapshot_idx", "3", "5", "--json")
    add("basic", "--access_rate", "50", "100", "--raw_form")
    for args in (("--address", A_TARGET, "139637980000000"),
                 ("--address", A_TARGET, "139637980000000", "--address", "139638000000000",
                  "139638020000000"),
                 ("--address", "139637980000000", "139637990000000", "--style",
                  "temperature-sz-hist"),
                 ("--address", "0", "max", "--sz_snapshot", "20M", "30M")):
        add("multi_targets_gaps", *args)
    add("multi_targets_gaps", "--address", A_TARGET, "139637980000000", "--json")
    for args in (("--sz_region", "4K", "1M"), ("--address", "94827419009024",
                                               "94827440000000"),
                 ("--snapshot_idx", "10", "20"), ("--snapshot_time", "540s", "541s"),
                 ("--sz_snapshot", "200M", "300M")):
        add("upstream", "--json", *args)
        add("upstream", "--raw_form", *args)
    add("multi_targets_gaps.perf_script", "--json", "--snapshot_idx", "1", "2")
    add("multi_targets_gaps.perf_script", "--raw_form", "--sz_region", "1M", "max")
    add("dsnap", "--access_rate", "50", "max", "--style", "recency-percentiles")
    add("dsnap", "--address", "139637976727552", "139637980000000")
    add("dsnap", "--temperature", "0", "100000000000", "--json")
    add("tried", "--snapshot_idx", "2", "4", "--style", "temperature-sz-hist")
    # sorting
    for args in (("--sort_regions_by", "size"), ("--sort_regions_by", "access_rate", "age"),
                 ("--sort_regions_by", "temperature", "--sort_regions_dsc", "temperature"),
                 ("--sort_regions_by", "age", "size", "--sort_regions_dsc", "all"),
                 ("--sort_regions_by", "address", "--sort_regions_dsc", "address"),
                 ("--sort_regions_by", "temperature", "--temperature_weights", "1", "100", "0")):
        add("small", *args)
        add("dsnap", *args)
    # histograms and percentiles
    for style in ("temperature-sz-hist", "recency-sz-hist"):
        for args in (("--hist_logscale",), ("--hist_cumulate",),
                     ("--hist_logscale", "--hist_cumulate")):
            add("basic", "--style", style, *args)
        add("dsnap", "--style", style, "--hist_logscale")
    add("basic", "--style", "temperature-sz-hist", "--hist_ranges", "-10000000", "0", "0",
        "20000000")
    add("basic", "--style", "recency-sz-hist", "--hist_ranges", "0", "1s", "1s", "10s")
    add("basic", "--style", "temperature-sz-hist", "--temperature_weights", "0", "10", "1")
    for style in ("recency-percentiles", "temperature-percentiles"):
        for args in (("--percentiles_range", "0", "101", "10"),
                     ("--percentiles_range", "90", "100"),
                     ("--percentiles_range", "5", "10", "50", "90", "99", "100"),
                     ("--percentiles_range", "0", "101", "25", "--raw_number")):
            add("basic", "--style", style, *args)
    add("dsnap", "--style", "temperature-percentiles", "--percentiles_range", "50", "101", "5")
    # region boxes
    for args in ((), ("--region_box_values", "size", "age", "access_rate"),
                 ("--region_box_scales", "linear", "log", "linear"),
                 ("--region_box_min_max_height", "1", "1", "--region_box_align", "right"),
                 ("--region_box_min_max_length", "5", "60", "--region_box_colorset", "flame"),
                 ("--region_box_colorset", "emotion", "--region_box_min_max_height", "2", "3")):
        add("small", "--region_box", *args)
    add("dsnap", "--region_box")
    add("small", "--style", "simple-boxes", "--region_box_colorset", "gray")
    # snapshot heatmaps
    for args in (("--snapshot_heatmap_width", "20"), ("--snapshot_heatmap_width", "200"),
                 ("--snapshot_heatmap_colorset", "flame"),
                 ("--snapshot_heatmap_colorset", "emotion"), ("--snapshot_heatmap_static",),
                 ("--temperature_weights", "1", "1", "1")):
        add("multi_targets_gaps", "--snapshot_idx", "0", "2", *args)
    add("dsnap", "--snapshot_heatmap_static", "--snapshot_heatmap_width", "40")
    # format templates
    for name in ("small", "dsnap", "tuned_intervals"):
        add(name, "--format", "set", "region", KEYWORDS_REGION)
        add(name, "--format", "set", "snapshot_head", KEYWORDS_SNAPSHOT)
        add(name, "--format", "set", "record_tail", KEYWORDS_RECORD)
    add("small", "--format", "set", "record_head", "<format strings>")
    add("small", "--format", "append", "region", " |<temperature>|", "--format", "set",
        "snapshot_tail", "<total bytes>\\n<number of regions> regions")
    add("small", "--format", "set", "snapshot_head", "<region box colors>\\n"
        "<region box description>", "--format", "set", "region", "<box>")
    add("small", "--format", "set", "snapshot_head", "<temperature-sz histogram>\\n"
        "<recency-sz histogram>\\n<recency percentiles>\\n<temperature percentiles>",
        "--format", "set", "region", "")
    add("dsnap", "--format", "set", "snapshot_head", "<temperature-df-passed-sz histogram>\\n"
        "<recency-df-passed-sz histogram>\\n<df-passed recency percentiles>\\n"
        "<df-passed temperature percentiles>\\n<filters passed heatmap>\\n<damos stats>",
        "--format", "set", "region", "")
    add("small", "--format_region", "<index>:<size>", "--format_snapshot_head", "",
        "--format_snapshot_tail", "<total bytes>", "--format_record_head", "head",
        "--format_record_tail", "tail")
    add("small", "--min_chars_for", "<temperature>", "20", "--format", "set", "region",
        "<temperature>|<size>|")
    add("small", "--format", "set", "region", "<index> <age>", "--format", "append",
        "region", " and more %s %d")
    add("small", "--style", "hot", "--format", "set", "region", "overridden by the style")
    return c


CASES = _cases()
COLOR_CASES = [("small", "--style", "hot"), ("small", "--region_box"), ("dsnap",),
               ("multi_targets_gaps", "--snapshot_heatmap_colorset", "flame"),
               ("small", "--format", "set", "snapshot_head", "<region box colors>")]
# (recording, args, what our one error line must name); damo fails on each too
ERRORS = [
    ("upstream", ("--style", "detailed"), "intervals"),
    ("intervals_null", (), "intervals"),
    ("basic", ("--address", "10", "5"), "--address"),
    ("basic", ("--address", "0", "100", "--address", "50", "200"), "--address"),
    ("basic", ("--sz_snapshot", "10M", "1M"), "--sz_snapshot"),
    ("basic", ("--format", "set", "region"), "--format"),
    ("basic", ("--format", "put", "region", "x"), "--format"),
    ("basic", ("--format", "set", "nowhere", "x"), "--format"),
    ("basic", ("--repeat", "1"), "--repeat"),
    # one empty value is one value, not --repeat alone (which repeats until ^C)
    ("basic", ("--repeat", ""), "--repeat receives only zero or two arguments"),
    ("basic", ("--repeat", "", ""), "<delay> ''"),
    ("basic", ("--repeat", "", "1"), "<delay> ''"),
    ("basic", ("--repeat", "1", ""), "<count> ''"),
    ("basic", ("--repeat", "0", "1", "2"), "zero or two arguments"),
    # one empty value is a value: argparse's int type and choices refuse it
    ("basic", ("--percentiles_range", ""), "--percentiles_range"),
    ("basic", ("--sort_regions_by", ""), "--sort_regions_by"),
    ("basic", ("--sort_regions_dsc", ""), "--sort_regions_dsc"),
    ("basic", ("--snapshot_damos_filter", ""), "--snapshot_damos_filter"),
    ("basic", ("--style", "lukewarm"), "--style"),
    ("basic", ("--sort_regions_by", "color"), "--sort_regions_by"),
    ("basic", ("--temperature", "a", "b"), "--temperature"),
    ("basic", ("--snapshot_heatmap_width", "x"), "--snapshot_heatmap_width"),
    ("basic", ("--region_box_values", "size", "age"), "--region_box_values"),
    ("basic", ("--percentiles_range", "x"), "--percentiles_range"),
]


def _id(case):
    # no backslash in a test id: pytest doubles it, an id that pytest.main()
    # (mutmut's runs) then cannot find; damo's "\\n" is shown as <NL>
    return "%s:%s" % (case[0], " ".join(case[1:]).replace("\\n", "<NL>") or "-")


@pytest.fixture(scope="module", autouse=True)
def prefetch(damo, files):
    jobs = [("access", "-i", files[c[0]]) + tuple(c[1:]) for c in CASES + COLOR_CASES]
    jobs += [("access", "-i", files[name]) + args for name, args, _ in ERRORS]
    damo.prefetch(jobs)


def check_same(damo, files, case, color=False):
    name, args = case[0], tuple(case[1:])
    theirs_code, theirs = damo.report("access", "-i", files[name], *args)
    extra = ("--color", "always") if color else ()
    code, ours, err = run_ours("report", "access", "-i", files[name], *(args + extra))
    assert theirs_code == 0, theirs
    assert (code, err) == (0, "")
    if not color:
        theirs = ANSI.sub("", theirs)
    assert ours == theirs


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_same_as_damo(damo, files, case):
    check_same(damo, files, case)


@pytest.mark.parametrize("case", COLOR_CASES, ids=_id)
def test_same_as_damo_in_colour(damo, files, case):
    check_same(damo, files, case, color=True)


@pytest.mark.parametrize("name,args,option", ERRORS, ids=lambda x: str(x))
def test_errors_are_one_line(damo, files, name, args, option):
    theirs_code, _ = damo.report("access", "-i", files[name], *args)
    code, out, err = run_ours("report", "access", "-i", files[name], *args)
    assert theirs_code != 0 and code != 0
    if args and args[0] in ("--repeat", "--percentiles_range", "--sort_regions_by",
                            "--sort_regions_dsc", "--snapshot_damos_filter"):
        assert code == theirs_code
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("damo: error: ") and option in err, err


def test_no_input_reads_damon_data_when_no_kdamond_runs(damo, files, tmp_path, monkeypatch):
    """damo's help: without --input and no DAMON running, ./damon.data."""
    shutil.copy(files["multi_targets_gaps"], tmp_path / "damon.data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAMO_SIM_RUNTIME_DIR", str(tmp_path / "run"))
    for args in ((), ("--style", "cold")):
        _, theirs = damo.report("access", "-i", str(tmp_path / "damon.data"), *args)
        code, ours, err = run_ours("report", "access", *args)
        assert (code, err) == (0, "")
        assert ours == ANSI.sub("", theirs)
    os.remove("damon.data")
    code, out, err = run_ours("report", "access")
    assert code == 1 and out == "" and "damon.data" in err


def test_repeat_prints_each_time(damo, files):
    """--repeat <delay> <count> reads and prints count times, no pager."""
    theirs_code, theirs = damo.report("access", "-i", files["small"], "--repeat", "0", "2")
    code, ours, _ = run_ours("report", "access", "-i", files["small"], "--repeat", "0", "2")
    assert (theirs_code, code) == (0, 0)
    assert ours == ANSI.sub("", theirs)
    once = run_ours("report", "access", "-i", files["small"])[1]
    assert ours == once * 2


def test_empty_recording_says_no_record(damo, tmp_path):
    path = tmp_path / "empty.data"
    import zlib
    path.write_bytes(zlib.compress(b"[]"))
    _, theirs = damo.report("access", "-i", str(path))
    code, ours, _ = run_ours("report", "access", "-i", str(path))
    assert code == 0 and ours == theirs == "No record in ['%s']\n\n" % path


def test_region_box_replaces_snapshot_tail_with_record_tail(damo, files):
    """damo 3.4.3 bug, kept for identical output: --region_box builds the
    snapshot tail from the *record* tail template, so each snapshot ends
    with a literal 'record DAMON intervals: <intervals>' and loses its
    memory bw, total size and scheme stats lines."""
    _, theirs = damo.report("access", "-i", files["dsnap"], "--region_box")
    ours = run_ours("report", "access", "-i", files["dsnap"], "--region_box")[1]
    assert ours == ANSI.sub("", theirs)
    assert "record DAMON intervals: <intervals>\n# length: age" in ours
    assert "scheme stats" not in ours


def test_age_filter_takes_microseconds(damo, files):
    """damo 3.4.3 bug, kept: --age's help says seconds, but damo multiplies
    the list of values (not the numbers) by 1000000, so '--age 1 max' keeps
    regions at least 1 us old, the same as '--age 1us max'."""
    a = run_ours("report", "access", "-i", files["basic"], "--age", "1", "max")[1]
    b = run_ours("report", "access", "-i", files["basic"], "--age", "1us", "max")[1]
    c = run_ours("report", "access", "-i", files["basic"], "--age", "1s", "max")[1]
    assert a == b != c
    assert a == ANSI.sub("", damo.report("access", "-i", files["basic"], "--age", "1",
                                         "max")[1])


def test_min_chars_for_cannot_override_a_default(damo, files):
    """damo 3.4.3 quirk, kept: --min_chars_for appends to its defaults and
    the first entry wins, so only keywords without a default (like
    <temperature>) take it."""
    args = ("--min_chars_for", "<size>", "30", "--format", "set", "region", "<size>|")
    ours = run_ours("report", "access", "-i", files["small"], *args)[1]
    assert ours == ANSI.sub("", damo.report("access", "-i", files["small"], *args)[1])
    assert "1000.000 KiB|" in ours


def test_temperature_filter_without_intervals_is_an_error(damo, files):
    """damo 3.4.3 crashes (AttributeError) on --temperature for records
    without intervals; we say why in one line."""
    theirs_code, _ = damo.report("access", "-i", files["intervals_null"], "--json",
                                 "--temperature", "0", "10")
    code, out, err = run_ours("report", "access", "-i", files["intervals_null"], "--json",
                              "--temperature", "0", "10")
    assert theirs_code != 0 and code == 1 and out == ""
    assert err.startswith("damo: error: --temperature: ") and "intervals" in err


def test_multi_record_head_of_a_record_left_without_snapshots(damo, files):
    """damo 3.4.3 crashes (IndexError) printing the default record head of a
    record whose snapshots were all filtered out; we print n/a."""
    args = ("--snapshot_time", "0", "1")
    theirs_code, _ = damo.report("access", "-i", files["multi_targets_gaps"], *args)
    code, out, err = run_ours("report", "access", "-i", files["multi_targets_gaps"], *args)
    assert theirs_code != 0 and (code, err) == (0, "")
    assert out.startswith("kdamond 0 / context 0 / scheme None / target id 3 / recorded for "
                          "n/a from n/a\nrecord DAMON intervals")


def test_json_files_damo_cannot_read(damo, files, tmp_path):
    """damo 3.4.3 tells JSON recordings by 'file' saying 'JSON data'; file
    5.4x says 'JSON text data', so damo cannot read its own json output
    type here.  We read it, and report it as damo does the same records
    compressed."""
    path = str(tmp_path / "plain.json")
    code, _, _ = run_ours("record", "stairs", "--timeout", "1", "-o", path, "--output_type",
                          "json")
    assert code == 0
    theirs_code, _ = damo.report("access", "-i", path)
    jc = str(tmp_path / "compressed.data")
    run_ours("record", "stairs", "--timeout", "1", "-o", jc)
    _, theirs = damo.report("access", "-i", jc)
    ours = run_ours("report", "access", "-i", path)[1]
    assert ours == ANSI.sub("", theirs)
    if theirs_code == 0:
        pytest.skip("this damo reads plain JSON recordings")


def test_region_box_value_none(damo, files):
    """damo 3.4.3 crashes (UnboundLocalError) on any 'none' of
    --region_box_values; its code means a colourless '-' box for a 'none'
    colour and one row for a 'none' height, which we print."""
    args = ("--region_box", "--region_box_values", "access_rate", "none", "none")
    theirs_code, _ = damo.report("access", "-i", files["small"], *args)
    code, out, err = run_ours("report", "access", "-i", files["small"], *args)
    assert theirs_code != 0 and (code, err) == (0, "")
    lines = out.splitlines()
    # the highest access rate spans the whole [1, 30] length
    assert lines[4] == "|" + "-" * 30 + "|"
    assert lines[5].startswith("0   addr ")
    code, out, err = run_ours("report", "access", "-i", files["small"], "--region_box",
                              "--region_box_values", "none", "age", "size")
    assert code == 1 and "--region_box_values" in err


def test_exec_runs_a_script_on_the_records(files, tmp_path):
    """--exec <script> [args]: the script's main(records, argv) gets the
    (filtered) records, here damo-sim's record views."""
    script = tmp_path / "count.py"
    script.write_text("def main(records, argv):\n"
                      "    print(argv[1:], len(records), [len(r.snapshots) for r in records],\n"
                      "          sum(s.nr_regions for r in records for s in r.snapshots))\n")
    code, out, err = run_ours("report", "access", "-i", files["multi_targets_gaps"],
                              "--snapshot_idx", "0", "9", "--exec", "%s a b" % script)
    assert (code, err) == (0, "")
    # 2 targets, 10 snapshots each kept, 24 regions in each
    assert out == "['a', 'b'] 2 [10, 10] 480\n"


@pytest.mark.parametrize("kind", ["record", "snapshot", "region"])
def test_ls_format_keywords_points_to_help(damo, files, kind):
    args = ("access", "-i", files["small"], "--ls_%s_format_keywords" % kind)
    _, theirs = damo.report(*args)
    code, ours, _ = run_ours("report", *args)
    assert code == 0 and ours == theirs == (
        "use 'damo help access_format_options %s_format_keywords' instead\n" % kind)


def test_percentiles_out_of_reach(damo, files):
    """damo 3.4.3 bug: percentiles no region reaches (above 100) leave it
    nothing to print, and it fails (max() of an empty sequence); we print
    the legend alone."""
    args = ("access", "-i", files["small"], "--style", "temperature-percentiles",
            "--percentiles_range", "200", "300")
    theirs_code, _ = damo.report(*args)
    code, ours, err = run_ours("report", *args)
    assert theirs_code != 0 and (code, err) == (0, "")
    assert "# total temperature percentiles\n<percentile> <temperature (weights: [0, 100, " \
           "100])>\nmemory bw estimate: " in ours
