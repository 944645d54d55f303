"""Our reports against damo 3.4.3 itself, on the same files: byte for byte.

damo runs only in tests/reference_damo.py's sandbox, only on record files.
"""
import re

import pytest

from conftest import run_ours

ANSI = re.compile("\x1b\\[[0-9;]*m")

# report arguments compared on every recording
COMMANDS = [
    ("heatmap",),
    ("heatmap", "--guide"),
    ("heatmap", "--output", "raw"),
    ("wss", "-r", "1", "101", "1", "--raw_number"),
    ("wss", "-r", "1", "101", "1", "--raw_number", "--work_time", "1000000"),
    ("access", "--raw_form"),
]
# damo 3.4.3 divides by zero in nr_regions for records of <= 20 snapshots
NR_REGIONS = ("nr_regions", "-r", "1", "101", "1")
FEW_SNAPSHOTS = {"one_snapshot", "one_snapshot.perf_script"}
RECORDINGS = ["upstream", "basic", "multi_targets_gaps", "intervals_null", "one_snapshot",
              "address_zero", "no_ages", "tuned_intervals", "one_snapshot.perf_script",
              "multi_targets_gaps.perf_script"]
# damo is slow on the big one: only the heaviest computations
BIG_COMMANDS = [("heatmap",), ("heatmap", "--output", "raw"),
                ("wss", "-r", "1", "101", "1", "--raw_number", "--work_time", "1000000")]
# the detailed listing needs intervals (damo refuses records without them)
WITH_INTERVALS = ["basic", "multi_targets_gaps", "one_snapshot", "address_zero",
                  "tuned_intervals"]


def damo_args(command, path):
    return command + ("--input", path)


@pytest.fixture(scope="module", autouse=True)
def prefetch(damo, recordings):
    jobs = [damo_args(c, recordings["big"]) for c in BIG_COMMANDS]
    jobs += [damo_args(c, recordings[r]) for r in RECORDINGS for c in COMMANDS]
    jobs += [damo_args(NR_REGIONS, recordings[r]) for r in RECORDINGS
             if r not in FEW_SNAPSHOTS]
    jobs += [damo_args(("access",), recordings[r]) for r in WITH_INTERVALS]
    damo.prefetch(jobs)


def check_same(damo, command, path, color=False):
    theirs_code, theirs = damo.report(*damo_args(command, path))
    assert theirs_code == 0, theirs
    extra = ("--color", "always") if color else ()
    code, ours, err = run_ours("report", *(command + extra), "--input", path)
    assert (code, err) == (0, "")
    if not color:
        theirs = ANSI.sub("", theirs)
    assert ours == theirs


@pytest.mark.parametrize("recording", RECORDINGS)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_same_as_damo(damo, recordings, recording, command):
    check_same(damo, command, recordings[recording])


@pytest.mark.parametrize("command", BIG_COMMANDS, ids=" ".join)
def test_big_same_as_damo(damo, recordings, command):
    check_same(damo, command, recordings["big"])


@pytest.mark.parametrize("recording", RECORDINGS)
def test_heatmap_colored_byte_exact(damo, recordings, recording):
    check_same(damo, ("heatmap",), recordings[recording], color=True)


@pytest.mark.parametrize("recording", sorted(set(RECORDINGS) - FEW_SNAPSHOTS))
def test_nr_regions_same_as_damo(damo, recordings, recording):
    check_same(damo, NR_REGIONS, recordings[recording])


@pytest.mark.parametrize("recording", WITH_INTERVALS)
def test_access_detailed_same_as_damo(damo, recordings, recording):
    check_same(damo, ("access",), recordings[recording], color=True)


@pytest.mark.parametrize("options", [
    ("--draw_range", "all", "--stdout_colorset", "flame"),
    ("--resol", "20", "30", "--time_range", "0", "3000000000", "guided"),
    ("--stdout_colorset", "emotion", "--stdout_skip_colorset_example"),
    ("--output", "raw", "--abs_time", "--abs_addr", "--resol", "50", "70"),
    ("--guide_human",),
])
def test_heatmap_options_same_as_damo(damo, recordings, options):
    check_same(damo, ("heatmap",) + options, recordings["multi_targets_gaps"], color=True)


@pytest.mark.parametrize("options", [
    ("--tid", "10", "--address_range", "0", "4M", "guided"),
    ("--tid", "3", "--address_range", "139637976727552", "139638001893376"),
])
def test_heatmap_selection_same_as_damo(damo, recordings, options):
    check_same(damo, ("heatmap",) + options, recordings["multi_targets_gaps"], color=True)


@pytest.mark.parametrize("options", [
    (), ("--sortby", "time", "--all_wss"), ("--per_target", "-t", "3", "--nr_cols_bar", "20"),
    ("--collapse_targets", "--sz_thres", "1048576", "--exclude_samples", "0"),
])
def test_wss_options_same_as_damo(damo, recordings, options):
    """Note damo's quirk kept: without --per_target, targets are summed into
    'target_id 0' (two argparse options share one destination)."""
    check_same(damo, ("wss",) + options, recordings["multi_targets_gaps"])


@pytest.mark.parametrize("options", [("--work_time", "300000"), ("--work_time", "1000000",
                                                                  "--sz_thres", "8192")])
def test_wss_odd_regions_same_as_damo(damo, recordings, options):
    """Empty, overlapping and unsorted regions take the port of damo's own
    (quadratic) merge; the numbers must still be damo's."""
    check_same(damo, ("wss", "-r", "1", "101", "1", "--raw_number", "--exclude_samples", "0")
               + options, recordings["odd_regions"])


@pytest.mark.parametrize("command", [("record_info",), ("record_info", "--raw_numbers"),
                                     ("access", "--raw_form", "--raw_number")])
def test_other_views_same_as_damo(damo, recordings, command):
    check_same(damo, command, recordings["upstream"])


def test_nr_regions_few_snapshots_damo_divides_by_zero(damo, recordings):
    """damo 3.4.3 bug: nr_regions crashes (ZeroDivisionError) on records of
    20 snapshots or fewer; we say there is no snapshot."""
    code, out = damo.report(*damo_args(NR_REGIONS, recordings["small"]))
    assert code != 0
    code, ours, _ = run_ours("report", *NR_REGIONS, "--input", recordings["small"])
    assert code == 0 and "# no snapshot" in ours
