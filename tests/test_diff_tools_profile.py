"""damo report profile's access filters against damo 3.4.3, on our own
recordings (ours needs their machine metrics).

damo's report profile keeps the snapshots that still have regions after its
filters, joins them into time spans and runs ``perf report --time`` over
them.  Given ``--perf_path`` as echo (in its sandbox), damo prints the perf
command line it would run: its spans.  Ours prints them in --format json
(``snapshot_spans_ns``), so the spans are compared value for value; where no
snapshot is left, both print damo's message and exit 1; bad values are one
error with damo's exit code.
"""
import json
import shutil

import pytest

import tools_diff
from conftest_tools import reference, tool_recordings  # noqa: F401 (fixtures)
from tools_diff import Case

RECS = ["own", "own_schemes", "own_paddr"]
BASE = 0x7f0000000000

# (name, filter arguments); each leaves some snapshot on every recording
FILTERS = [
    ("idx", ["--snapshot_idx", "1", "3"]),
    ("idx-two", ["--snapshot_idx", "0", "0", "--snapshot_idx", "5", "8"]),
    ("idx-units", ["--snapshot_idx", "2", "1,000"]),
    ("idx-max", ["--snapshot_idx", "3", "max"]),
    ("time", ["--snapshot_time", "1s", "2500ms"]),
    ("time-ns", ["--snapshot_time", "0", "1000000000", "--snapshot_time", "3s", "max"]),
    ("sz-snapshot", ["--sz_snapshot", "1M", "max"]),
    ("sz-snapshot-two", ["--sz_snapshot", "0", "4K", "--sz_snapshot", "1M", "max"]),
    ("sz-after-pattern", ["--access_rate", "1", "100", "--sz_snapshot", "min", "max"]),
    ("temp", ["--temperature", "1000", "100000000000"]),
    ("temp-cold", ["--temperature", "-100000000000", "0"]),
    ("temp-two", ["--temperature", "-10", "10", "--temperature", "50000", "1000000"]),
    ("hot-idx", ["--access_rate", "20", "100", "--snapshot_idx", "3", "30"]),
    ("cold-age-time", ["--access_rate", "0", "0", "--age", "100ms", "max",
                       "--snapshot_time", "500ms", "max"]),
    ("big-regions-temp", ["--sz_region", "64K", "max", "--temperature", "1", "1000000000"]),
]

NONE_LEFT = [
    ("idx-past", ["--snapshot_idx", "100000", "200000"]),
    ("time-before", ["--snapshot_time", "0", "1"]),
    ("sz-snapshot-tiny", ["--sz_snapshot", "1", "2"]),
    ("temp-impossible", ["--temperature", "2000000000000", "3000000000000"]),
    ("address-nowhere", ["--address", "0", "4096", "--snapshot_idx", "0", "100"]),
]

# bad values: damo's message on stdout and its exit code; ours one error line
ERRORS = [
    ("sz-snapshot-word", ["--sz_snapshot", "x", "3"], 1, "--sz_snapshot"),
    ("sz-snapshot-overlap", ["--sz_snapshot", "1M", "3M", "--sz_snapshot", "2M", "4M"], 1,
     "--sz_snapshot"),
    ("sz-snapshot-reversed", ["--sz_snapshot", "3M", "1M"], 1, "--sz_snapshot"),
    ("temp-word", ["--temperature", "x", "3"], 2, "--temperature"),
    ("temp-float", ["--temperature", "1.5", "3"], 2, "--temperature"),
    ("temp-max", ["--temperature", "1", "max"], 2, "--temperature"),
]

# damo raises ValueError (a traceback, exit 1) on a word in these two: its
# args_to_filter calls text_to_ns / text_to_nr unguarded
DAMO_CRASHES = [
    ("time-word", ["--snapshot_time", "x", "3"], "--snapshot_time"),
    ("idx-word", ["--snapshot_idx", "0", "y"], "--snapshot_idx"),
    ("idx-unit", ["--snapshot_idx", "0", "1K"], "--snapshot_idx"),
]


def _echo():
    path = shutil.which("echo")
    if path is None:
        pytest.skip("no echo program")
    return path


def _theirs(reference, rec, flt):   # noqa: F811
    return reference.get(Case("profile-damo-%s-%s" % (rec, " ".join(flt)),
                              ["report", "profile", "--inputs", "{%s}" % rec, "x",
                               "--perf_path", _echo()] + flt))


def _ours(tool_recordings, reference, rec, flt, extra=()):    # noqa: F811
    case = Case("profile-ours", ["report", "profile", "--inputs", "{%s}" % rec, "x"]
                + flt + list(extra))
    return tools_diff.run_ours(case, tool_recordings, reference.root)


@pytest.mark.parametrize("rec", RECS)
@pytest.mark.parametrize("name,flt", FILTERS, ids=[n for n, _ in FILTERS])
def test_time_spans_are_damos(reference, tool_recordings, rec, name, flt):  # noqa: F811
    theirs = _theirs(reference, rec, flt)
    assert theirs.code == 0, theirs
    ours = _ours(tool_recordings, reference, rec, flt, ["--format", "json"])
    assert ours.code == 0 and "Traceback" not in ours.stderr, ours
    spans = json.loads(ours.stdout)["snapshot_spans_ns"]
    assert spans
    # damo: [perf, 'report', '-i', profile] + ['--time', '%s,%s' % (start / 1e9, end / 1e9)]...
    expected = "report -i x" + "".join(" --time %s,%s" % (s / 1000000000, e / 1000000000)
                                       for s, e in spans) + "\n"
    assert theirs.stdout == expected


@pytest.mark.parametrize("rec", RECS)
@pytest.mark.parametrize("name,flt", NONE_LEFT, ids=[n for n, _ in NONE_LEFT])
def test_no_snapshot_left_is_damos_message(reference, tool_recordings, rec, name,  # noqa: F811
                                           flt):
    theirs = _theirs(reference, rec, flt)
    assert (theirs.code, theirs.stdout) == (1, "No snapshot of the condition found\n")
    for extra in ([], ["--format", "json"]):
        ours = _ours(tool_recordings, reference, rec, flt, extra)
        assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout), ours


@pytest.mark.parametrize("name,flt,code,option", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_values_are_one_error(reference, tool_recordings, name, flt, code,  # noqa: F811
                                  option):
    theirs = _theirs(reference, "own", flt)
    assert theirs.code == code and "Traceback" not in theirs.stderr, theirs
    if code == 1:
        assert theirs.stdout.startswith("wrong %s input" % option)
    ours = _ours(tool_recordings, reference, "own", flt)
    tools_diff.check(Case(name, [], expect="error", names=[option]), ours, theirs)


@pytest.mark.parametrize("name,flt,option", DAMO_CRASHES, ids=[e[0] for e in DAMO_CRASHES])
def test_words_damo_crashes_on_are_one_error(reference, tool_recordings, name, flt,  # noqa: F811
                                             option):
    theirs = _theirs(reference, "own", flt)
    assert theirs.code == 1 and "ValueError: could not convert string to float" in \
        theirs.stderr, theirs
    ours = _ours(tool_recordings, reference, "own", flt)
    tools_diff.check(Case(name, [], expect="error", names=[option]), ours, theirs)


def test_the_text_profile_runs_with_the_filters(reference, tool_recordings):  # noqa: F811
    """Without a code file the functions section says so; the rest of the
    profile is printed as without the filters."""
    plain = _ours(tool_recordings, reference, "own", [])
    filtered = _ours(tool_recordings, reference, "own", ["--snapshot_idx", "1", "3"])
    assert plain.code == filtered.code == 0
    head = filtered.stdout.split("Functions: ")[0]
    assert plain.stdout.startswith(head.rstrip("\n"))
    assert "has no code attribution" in " ".join(filtered.stdout.split())     # wrapped
