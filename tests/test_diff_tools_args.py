"""damo help and damo args.

damo help's topics print argparse's help of damo's hidden options; every
option entry must be the one damo's own --help prints for it (the reference
damo runs only with --help here: `args damon --help`, `args accesses_filter
--help`, `args accesses_format --help` hold the same options).  damo args
runs no record file, so its outputs are checked against damo's layout
worked out from its code (RecordFilter/Kdamond to_kvpairs) and against our
other commands that read them back."""
import json
import os
import re

import pytest

from conftest import REPO, run_ours
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

COLUMNS = {"COLUMNS": "80"}
KDAMONDS = os.path.join(REPO, "tests", "data", "tools", "kdamonds.json")


def entries(text):
    """argparse help text -> [(first flag, its entry text)] in order."""
    out = []
    current = None
    for line in text.splitlines():
        if re.match(r"^  \S", line):
            current = [line.split()[0].rstrip(","), [line]]
            out.append(current)
        elif current is not None and line.startswith("   "):
            current[1].append(line)
        else:
            current = None          # a heading or a blank line closes the entry
    return [(key, "\n".join(lines)) for key, lines in out]


def damo_help(reference, *argv):
    result = reference.get(Case("help-" + "-".join(argv), list(argv) + ["--help"],
                                damo_env=COLUMNS))
    assert result.code == 0, result
    return entries(result.stdout)


def ours(*argv):
    code, out, err = run_ours(*argv, env=COLUMNS)
    assert (code, err) == (0, ""), err
    return out


ARGS_DAMON_OWN = {"-h", "--format", "--raw", "--add", "--remove", "--replace", "--out",
                  "--omit_defaults"}


def test_damon_param_options_all(reference):
    out = ours("help", "damon_param_options", "all")
    assert out.startswith("command line options for all DAMON parameters\n\n"
                          "positional arguments:\n  <deducible string>    The implicit")
    assert out.endswith("\nAlso there are command line options for setting only monitoring "
                        "and DAMOS-part DAMON parameters. Use 'damo help damon_param_options "
                        "{monitoring,damos}' for those.\n")
    theirs = [e for e in damo_help(reference, "args", "damon") if e[0] not in ARGS_DAMON_OWN]
    assert entries(out) == theirs
    assert len(theirs) > 30


@pytest.mark.parametrize("category,first,title", [
    ("monitoring", "--damon_target", "command line options for monitoring-part DAMON "
                                     "parameters"),
    ("damos", "--damos_scheme", "command line options for DAMOS parameters")])
def test_damon_param_options_parts(reference, category, first, title):
    out = ours("help", "damon_param_options", category)
    assert out.startswith(title + "\n\n  --kdamond ")
    mine = entries(out)
    theirs = damo_help(reference, "args", "damon")
    assert [e for e in theirs if e in mine] == mine      # damo's entries, in damo's order
    keys = [k for k, _ in mine]
    assert first in keys and "--ops" in keys
    assert ("--damos_action" in keys) == (category == "damos")
    assert ("--regions" in keys or "-r" in keys) == (category == "monitoring")


def test_access_filter_options(reference):
    out = ours("help", "access_filter_options")
    assert out.startswith("command line options for monitoring results visualization options\n"
                          "  --sz_region <min> <max>\n")
    theirs = [e for e in damo_help(reference, "args", "accesses_filter")
              if e[0] not in ("-h", "--format", "--raw")]
    assert entries(out) == theirs and len(theirs) == 8


def test_access_format_options(reference):
    out = ours("help", "access_format_options")
    assert out.startswith("command line options for monitoring results visualization options\n"
                          "  --style {detailed,")
    theirs = [e for e in damo_help(reference, "args", "accesses_format")
              if e[0] not in ("-h", "--output_format", "--raw")]
    assert entries(out) == theirs and len(theirs) > 20


@pytest.mark.parametrize("subtopic,count,first", [
    ("record_format_keywords", 10, "<kdamond index>\nindex of the record's kdamond"),
    ("snapshot_format_keywords", 27, "<total bytes>\ntotal bytes of regions in the snapshot"),
    ("region_format_keywords", 11, "<index>\nindex of the region in the regions of the "
                                   "snapshot")])
def test_access_format_keywords(subtopic, count, first):
    out = ours("help", "access_format_options", subtopic)
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == count and blocks[0] == first
    assert all(re.fullmatch(r"<[^>]+>\n[^\n]+", b) for b in blocks)


def test_help_topics_listed(reference):
    """damo help's topics and their one-line descriptions are damo's."""
    result = reference.get(Case("help-help", ["help", "--help"], damo_env=COLUMNS))
    out = ours("help", "--help")
    for topic in ("damon_param_options", "access_filter_options", "access_format_options"):
        i = result.stdout.index(topic)
        description = result.stdout[i:].split("\n")[1].strip()
        assert re.search(r"%s\s+%s" % (topic, re.escape(description)), out), (topic, out)


def test_help_errors():
    code, out, err = run_ours("help", "damon_param_options", "schemes")
    assert (code, out) == (2, "") and "schemes" in err
    code, out, err = run_ours("help", "nothing")
    assert code == 2 and "nothing" in err


# ----------------------------------------------------------- args accesses_filter

def test_args_accesses_filter_default():
    out = json.loads(ours("args", "accesses_filter"))
    assert out == {
        "access_pattern": {"sz_bytes": {"min": "0 B", "max": "max"},
                           "nr_accesses": {"min": "0 %",
                                           "max": "18,446,744,073,709,551,615 %"},
                           "age": {"min": "0 ns", "max": "max"}},
        "address_ranges": None, "snapshot_sz_ranges": None, "snapshot_time_ranges": None,
        "snapshot_index_ranges": None, "temperature_ranges": None,
        "temperature_weights": [0, 100, 100]}


def test_args_accesses_filter_values():
    """Each option in damo's units: sizes in bytes, rates in percent, ages in
    microseconds, times in ns (ranges sorted, as damo sorts them)."""
    out = json.loads(ours("args", "accesses_filter", "--sz_region", "4K", "2M",
                          "--access_rate", "10", "50%", "--age", "1s", "2 m",
                          "--address", "8K", "16K", "--address", "0", "4096",
                          "--sz_snapshot", "1G", "max", "--snapshot_time", "5s", "1.5 s",
                          "--snapshot_idx", "3", "10", "--temperature", "-5", "5"))
    assert out["access_pattern"] == {"sz_bytes": {"min": "4.000 KiB", "max": "2.000 MiB"},
                                     "nr_accesses": {"min": "10 %", "max": "50 %"},
                                     "age": {"min": "1 s", "max": "2 m"}}
    assert out["address_ranges"] == [["0 B", "4.000 KiB"], ["8.000 KiB", "16.000 KiB"]]
    assert out["snapshot_sz_ranges"] == [["1024.000 MiB", "max"]]
    assert out["snapshot_time_ranges"] == [[5000000000, 1500000000.0]]
    assert out["snapshot_index_ranges"] == [[3, 10]]
    assert out["temperature_ranges"] == [[-5, 5]]


def test_args_accesses_filter_raw_yaml():
    import yaml
    out = yaml.safe_load(ours("args", "accesses_filter", "--format", "yaml", "--raw",
                              "--age", "2s", "3s", "--sz_region", "1M", "max"))
    # raw ages in microseconds (damo's raw "exact" time prints nanoseconds)
    assert out["access_pattern"]["age"] == {"min": "2000000", "max": "3000000"}
    assert out["access_pattern"]["sz_bytes"] == {"min": "1048576",
                                                 "max": "18446744073709551615"}


def test_args_accesses_filter_errors():
    code, out, err = run_ours("args", "accesses_filter", "--address", "10", "5")
    assert (code, out) == (1, "") and err.startswith("damo: error: --address: start > end")


# -------------------------------------------------------------------- args damon

def test_args_damon_default():
    out = json.loads(ours("args", "damon"))
    [kd] = out["kdamonds"]
    assert list(kd) == ["refresh_ms", "contexts"]      # parameters only
    ctx = kd["contexts"][0]
    assert list(ctx) == ["ops", "addr_unit", "targets", "intervals", "nr_regions", "probes",
                         "sample_control", "pause", "schemes"]
    assert ctx["ops"] == "vaddr" and ctx["addr_unit"] == "1 B"
    assert ctx["intervals"] == {"sample_us": "5 ms", "aggr_us": "100 ms",
                                "ops_update_us": "1 s",
                                "intervals_goal": {"access_bp": "0 %", "aggrs": "0",
                                                   "min_sample_us": "0 ns",
                                                   "max_sample_us": "0 ns"}}
    assert ctx["nr_regions"] == {"min": "10", "max": "1,000"}


def test_args_damon_scheme_and_report(tmp_path):
    argv = ["args", "damon", "paddr", "--memory", "dram:1G,cxl:1G", "--damos_action",
            "migrate_cold", "1", "--damos_quotas", "10ms", "1G", "1s",
            "--damos_filter", "reject", "anon"]
    kd = json.loads(ours(*argv))["kdamonds"][0]
    ctx = kd["contexts"][0]
    # damo's default paddr region: all System RAM (here, the simulated machine's)
    assert ctx["targets"][0]["regions"] == [{"start": "4,294,967,296",
                                             "end": "6,442,450,944"}]
    [s] = ctx["schemes"]
    assert (s["action"], s["target_nid"]) == ("migrate_cold", 1)
    assert s["quotas"]["time_ms"] == "10 ms" and s["quotas"]["sz_bytes"] == "1024.000 MiB"
    assert s["filters"][0]["filter_type"] == "anon" and "stats" not in s
    report = ours(*argv, "--format", "report")
    assert report.startswith("kdamond 0\n    context 0\n        ops: paddr\n        target 0\n"
                             "            region [4,294,967,296, 6,442,450,944) (2.000 GiB)\n")
    assert "            action: migrate_cold to node 1 per aggr interval\n" in report
    assert "statistics" not in report
    # a kdamonds file that damo report damon reads back to the same report
    path = tmp_path / "k.json"
    assert ours(*argv, "--out", str(path)) == ""
    assert not path.read_text().endswith("\n")       # damo writes the text as it is
    shown = ours("report", "damon", "--input_file", str(path), "--damon_params")
    # damo's quirk kept: a percent of ULONG_MAX reads back through a float; and
    # parameters only, the quotas' line has no effective size
    assert shown == report.replace("709,551,615 %", "709,551,616 %").replace(
        " / 0 B per 1 s", " per 1 s")


def test_args_damon_omit_defaults():
    kd = json.loads(ours("args", "damon", "--damos_action", "stat", "--omit_defaults"))
    ctx = kd["kdamonds"][0]["contexts"][0]
    assert "intervals" not in ctx and "nr_regions" not in ctx
    assert ctx["schemes"] == [{"action": "stat", "dests": [], "apply_interval_us": "0 ns"}]


def test_args_damon_add_remove_replace():
    added = json.loads(ours("args", "damon", "--add", KDAMONDS, "--ops", "fvaddr",
                            "--regions", "4096-8192"))["kdamonds"]
    assert [k["contexts"][0]["ops"] for k in added] == ["paddr", "vaddr", "fvaddr"]
    removed = json.loads(ours("args", "damon", "--remove", KDAMONDS, "0"))["kdamonds"]
    assert [k["contexts"][0]["ops"] for k in removed] == ["vaddr"]
    replaced = json.loads(ours("args", "damon", "--ops", "fvaddr", "--regions", "4096-8192",
                               "--replace", KDAMONDS, "1"))["kdamonds"]
    assert [k["contexts"][0]["ops"] for k in replaced] == ["paddr", "fvaddr"]


@pytest.mark.parametrize("argv,message", [
    (["--format", "report", "--out", "x"], "--out and report format cannot be used together"),
    (["--remove", KDAMONDS, "5"], "--remove: the file has no kdamond 5"),
    (["--replace", KDAMONDS, "one"], "--replace: kdamond index 'one' is not a number"),
    (["--add", "/nonexistent.json"], "--add: /nonexistent.json"),
    (["--damos_action", "teleport"], "teleport"),
])
def test_args_damon_errors(argv, message):
    code, out, err = run_ours("args", "damon", *argv)
    assert code != 0 and out == ""
    assert err.startswith("damo: error: ") and message in err and err.count("\n") == 1


# ----------------------------------------------------------- args accesses_format

ACCESS_FORMAT_DEFAULT = {
    # damo's ReportFormat.to_kvpairs() of set_formats(args, records=[]) for
    # the defaults, from damo_report_access.py's add_fmt_args and set_formats
    "sort_regions_by": ["address"], "sort_regions_dsc": None,
    "temperature_weights": [0, 100, 100], "dont_merge_regions": False,
    "hist_logscale": False, "hist_cumulate": False, "hist_ranges": None,
    "percentiles_range": None, "format_record_head": "",
    "format_record_tail": "record DAMON intervals: <intervals>",
    "format_snapshot_head": "heatmap: <heatmap>\nintervals: <snapshot intervals>",
    "format_snapshot_tail": "memory bw estimate: <estimated memory bandwidth>\n"
                            "total size: <total bytes>",
    "format_region": "<index> addr <start address> size <size> access <access hz> age <age>",
    "snapshot_heatmap_width": 80, "snapshot_heatmap_static": False,
    "snapshot_heatmap_colorset": "gray", "region_box_values": ["age", "access_rate", "size"],
    "region_box_min_max_height": [1, 5], "region_box_min_max_length": [1, 30],
    "region_box_colorset": "gray", "region_box_scales": ["log", "linear", "log"],
    "region_box_align": "left",
    "min_chars_for": [["<index>", 3], ["<start address>", 12], ["<end address>", 11],
                      ["<size>", 11], ["<access rate>", 5], ["<access hz>", 6],
                      ["<age>", 13], ["<filters passed type>", 10]],
    "raw_number": False, "json": False}


def test_args_accesses_format_default():
    out = ours("args", "accesses_format")
    assert json.loads(out) == ACCESS_FORMAT_DEFAULT
    assert list(json.loads(out)) == list(ACCESS_FORMAT_DEFAULT)     # damo's key order
    assert out == json.dumps(ACCESS_FORMAT_DEFAULT, indent=4) + "\n"


def test_args_accesses_format_options():
    kv = json.loads(ours("args", "accesses_format", "--style", "hot", "--hist_ranges", "1",
                         "2", "--percentiles_range", "0", "100", "25", "--min_chars_for",
                         "<size>", "20", "--region_box_values", "size", "none", "age",
                         "--format", "append", "region", " !", "--total_sz_only"))
    # hot: damo's cold/hot style (sorted by temperature, descending), then
    # --total_sz_only empties the head and the regions, then the append
    assert kv["sort_regions_by"] == ["temperature"] and kv["sort_regions_dsc"] == ["temperature"]
    assert kv["region_box_min_max_length"] == [1, 40] and kv["region_box_align"] == "right"
    assert kv["format_snapshot_head"] == "" and kv["format_region"] == " !"
    assert kv["format_snapshot_tail"] == "<total bytes>"
    assert kv["hist_ranges"] == ["1", "2"] and kv["percentiles_range"] == [0, 100, 25]
    assert kv["region_box_values"] == ["size", None, "age"]
    # argparse appends to damo's default list, the number as typed
    assert kv["min_chars_for"] == ACCESS_FORMAT_DEFAULT["min_chars_for"] + [["<size>", "20"]]


def test_args_accesses_format_yaml_raw():
    import yaml
    text = ours("args", "accesses_format", "--output_format", "yaml", "--raw",
                "--sort_regions_by", "size", "age")
    assert yaml.safe_load(text) == dict(ACCESS_FORMAT_DEFAULT, sort_regions_by=["size", "age"])
    assert text.startswith("sort_regions_by:\n- size\n- age\nsort_regions_dsc: null\n")


def test_args_accesses_format_ls_keywords():
    assert ours("args", "accesses_format", "--ls_region_format_keywords") == \
        "use 'damo help access_format_options region_format_keywords' instead\n"


def test_args_accesses_format_is_what_report_access_takes(reference, tool_recordings,
                                                         tmp_path):
    """Given back to report access as --format '<json>', the format gives
    what damo 3.4.3's report access gives for the options themselves.  (damo
    cannot take it back: its --format append pass unpacks the one JSON word
    as (action, area, text) and dies.)"""
    import tools_diff
    options = ["--style", "hot", "--format", "append", "snapshot_tail", "\\n<duration>",
               "--region_box_colorset", "flame", "--min_chars_for", "<size>", "15",
               "--sort_regions_dsc", "size", "--snapshot_heatmap_width", "40"]
    text = ours("args", "accesses_format", *options)
    direct = reference.get(Case("format-as-options", ["report", "access", "-i", "{one_snapshot}"]
                                + options))
    assert direct.code == 0 and direct.stdout.count("\n") > 10, direct
    given = Case("format-as-json", ["report", "access", "-i", "{one_snapshot}", "--format", text])
    mine = tools_diff.run_ours(given, tool_recordings, str(tmp_path))
    assert (mine.code, mine.stdout) == (0, direct.stdout)
    theirs = reference.get(given)
    assert theirs.code != 0 and "ValueError" in theirs.stderr, theirs


def test_damo_args_accesses_format_cannot_print(damo):
    """damo 3.4.3's args accesses_format takes set_formats()'s (format,
    error) pair for the format and calls .to_kvpairs() on it: it always
    fails (AttributeError on a tuple).  Named from its source (the reference
    damo runs only on record files or --help)."""
    src = os.path.join(os.path.dirname(os.path.dirname(damo.executable)), "lib")
    found = [os.path.join(d, f) for d, _, fs in os.walk(src) for f in fs
             if f in ("damo_args_accesses_format.py", "damo_report_access.py")]
    texts = {os.path.basename(p): open(p).read() for p in found}
    assert "fmt = damo_report_access.set_formats(args, records=[])\n    kvpairs = " \
           "fmt.to_kvpairs(" in texts["damo_args_accesses_format.py"]
    report_access = texts["damo_report_access.py"]
    body = report_access.split("\ndef set_formats(args, records):", 1)[1].split("\ndef ", 1)[0]
    assert "return fmt, None" in body


@pytest.mark.parametrize("argv,option", [
    (["args", "accesses_filter", "--access_rate", "1e999", "1e999"], "--access_rate"),
    (["args", "accesses_filter", "--access_rate", "nan", "nan"], "--access_rate"),
    (["args", "accesses_filter", "--age", "nan", "nan"], "--age"),
    (["report", "access", "-i", "{basic}", "--age", "0", "nan"], "--age"),
    (["report", "attrs", "-i", "{basic}", "--address", "1e999", "1e999"], "--address"),
    (["report", "attrs", "-i", "{basic}", "--sz_snapshot", "nan", "nan"], "--sz_snapshot"),
    (["report", "access", "-i", "{basic}", "--address", "-1", "4096"], "--address"),
    (["adjust", "-i", "{basic}", "-o", "out", "--sz_region", "nan", "max"], "--sz_region"),
    (["report", "wss", "-i", "{basic}", "--nr_cols_bar", "99999999999999999999999"],
     "--nr_cols_bar"),
], ids=lambda v: "-".join(v) if isinstance(v, list) else v)
def test_values_out_of_reach_are_one_error(tool_recordings, tmp_path, argv, option):
    """Found by a sweep of garbage values over every option of the offline
    commands (they were tracebacks: numpy's uint64 columns, int() of inf or
    nan, a bar longer than an index)."""
    import tools_diff
    case = Case("hostile", argv, outputs=["out"])
    result = tools_diff.run_ours(case, tool_recordings, str(tmp_path))
    lines = result.stderr.splitlines()
    assert result.code != 0 and result.stdout == "" and result.files["out"] is None
    assert len(lines) == 1 and lines[0].startswith("damo: error: ") and option in lines[0]


def test_args_damon_markers():
    """damo's --kdamond/--damon_ctx/--damon_target markers (damo.params.
    damon_args): each option belongs to the kdamond, context or target whose
    marker it follows; paddr without regions is all of the machine's RAM."""
    kds = json.loads(ours("args", "damon", "--kdamond", "--ops", "paddr",
                          "--monitoring_intervals", "10ms", "200ms", "2s",
                          "--kdamond", "--ops", "fvaddr", "--damon_target", "--regions",
                          "4096-8192", "--damon_target", "--regions", "16384-32768",
                          "--damos_action", "stat"))["kdamonds"]
    assert [c["ops"] for k in kds for c in k["contexts"]] == ["paddr", "fvaddr"]
    paddr, fvaddr = (k["contexts"][0] for k in kds)
    assert paddr["intervals"]["aggr_us"] == "200 ms" and paddr["schemes"] == []
    assert fvaddr["intervals"]["aggr_us"] == "100 ms"
    assert [t["regions"] for t in fvaddr["targets"]] == [
        [{"start": "4,096", "end": "8,192"}], [{"start": "16,384", "end": "32,768"}]]
    assert [s["action"] for s in fvaddr["schemes"]] == ["stat"]
    code, out, err = run_ours("args", "damon", "--ops", "paddr", "--ops", "vaddr")
    assert code == 2 and out == "" and "--ops" in err and "--kdamond" in err


@pytest.mark.parametrize("argv", [["report", "access"], ["report", "access", "--address", "0",
                                                          "max"], ["adjust", "-o", "out"]],
                         ids=["access", "access-address", "adjust"])
def test_regions_adding_up_past_int64_are_one_error(tmp_path, argv):
    """Two regions of 2^63 bytes each (perf script text allows it): a
    snapshot's total cannot hold their sum (the fuzzer's records_perf_script
    target found the wrapped, negative total as a traceback)."""
    path = tmp_path / "big.perf_script"
    path.write_text("".join(
        "kdamond.0 4000 [000] 5.100000: damon:damon_aggregated: target_id=0 nr_regions=2 "
        "%d-%d: 1 0\n" % (s, e) for s, e in ((0, 1 << 63), (1 << 63, (1 << 64) - 1))))
    code, out, err = run_ours(*argv[:2], "-i", str(path), *argv[2:]) if argv[0] == "report" \
        else run_ours(argv[0], "-i", str(path), *argv[1:])
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("damo: error: %s: snapshot 0: its regions add up to 2^63" % path)
    assert not os.path.exists("out")
