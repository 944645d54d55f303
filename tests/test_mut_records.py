"""What a user reads when a recording is refused, and the fields the readers
fill in, checked in-process (so that mutation testing sees them).  The
expected messages are those the checks are specified to print: which column,
which snapshot, which region, and the value, as a user needs to find it."""
import numpy as np
import pytest

from damo.records.model import AGE_UNKNOWN, FormatError, Intervals, Record


def record(**kw):
    """Two snapshots, regions [0, 4096) [4096, 8192) | [0, 8192)."""
    args = dict(target_id=1, start_ns=[0, 100], end_ns=[100, 200],
                region_offsets=[0, 2, 3], starts=[0, 4096, 0], ends=[4096, 8192, 8192],
                nr_accesses=[1, 2, 3], ages=[4, 5, 6])
    args.update(kw)
    return Record(args.pop("target_id"), args.pop("start_ns"), args.pop("end_ns"),
                  args.pop("region_offsets"), args.pop("starts"), args.pop("ends"),
                  args.pop("nr_accesses"), args.pop("ages"), **args)


def refused(**kw):
    with pytest.raises(FormatError) as e:
        record(**kw)
    return str(e.value)


def test_a_valid_record_keeps_its_columns():
    r = record(sz_filter_passed=[1, 2, 3], total_bytes=[8192, -1],
               sample_interval_us=[5000, 5000], damos_stats=[None, {"nr_tried": 1}])
    assert r.nr_snapshots == 2 and r.nr_regions == 3
    assert list(r.nr_regions_per_snapshot()) == [2, 1]
    assert list(r.sizes()) == [4096, 4096, 8192]
    assert list(r.per_snapshot_sum(r.sizes())) == [8192, 8192]
    # -1 is "not recorded": the sum of the sizes stands in
    assert list(r.snapshot_total_bytes()) == [8192, 8192]
    assert r.snapshot_slice(1) == slice(2, 3)
    assert r.key() == (0, 0, None, 1)


@pytest.mark.parametrize("kw, message", [
    (dict(start_ns=[0]), "snapshot columns disagree in length"),
    (dict(region_offsets=[0, 3]), "snapshot columns disagree in length"),
    (dict(ends=[1, 2]), "region column ends disagrees in length"),
    (dict(nr_accesses=[1, 2]), "region column nr_accesses disagrees in length"),
    (dict(ages=[1, 2]), "region column ages disagrees in length"),
    (dict(sz_filter_passed=[1]), "region column sz_filter_passed disagrees in length"),
    (dict(region_offsets=[1, 2, 3]), "region offsets do not index the region columns"),
    (dict(region_offsets=[0, 2, 2]), "region offsets do not index the region columns"),
    (dict(region_offsets=[0, 4, 3]), "region offsets do not index the region columns"),
    (dict(target_id=1.5), "target_id 1.5 is not a number or a string"),
    (dict(target_id=True), "target_id True is not a number or a string"),
    (dict(kdamond_idx=-1), "kdamond_idx: -1 is out of range [0, 9223372036854775807]"),
    (dict(context_idx="a"), "context_idx: 'a' is not a number"),
    (dict(scheme_idx=float("nan")), "scheme_idx: nan is not a finite number"),
    (dict(data_source=3), "data_source 3 is not a string"),
    (dict(start_ns=[0.0, float("inf")]), "snapshot 1: start time inf is not a time"),
    (dict(start_ns=[0.0, 2.0**63]), "snapshot 1: start time 9.223372036854776e+18 is not a time"),
    (dict(start_ns=[0, 201]), "snapshot 1: starts after it ends"),
    (dict(sample_interval_us=[1]), "sample_interval_us disagrees in length"),
    (dict(sample_interval_us=[1, -1]), "snapshot 1: sample_interval_us -1.0 is not an interval"),
    (dict(sample_interval_us=[float("inf"), 1]),
     "snapshot 0: sample_interval_us inf is not an interval"),
    (dict(sample_interval_us=[1, 2.0**65]),
     "snapshot 1: sample_interval_us 3.6893488147419103e+19 is not an interval"),
    (dict(total_bytes=[1]), "total_bytes disagrees in length"),
    (dict(total_bytes=[0, -2]), "snapshot 1: total_bytes -2 is negative"),
    (dict(damos_stats=[None]), "damos_stats disagrees in length"),
    (dict(damos_stats=[None, [1]]), "snapshot 1: damos_stats is not an object"),
    (dict(starts=[0, 8193, 0]), "snapshot 0 region 1: start 8193 is above end 8192"),
    (dict(starts=[0, 4096, 8193]), "snapshot 1 region 0: start 8193 is above end 8192"),
    (dict(nr_accesses=[1, -1, 3]), "snapshot 0 region 1: nr_accesses -1 is out of range [0, 2^32-1]"),
    (dict(nr_accesses=[1, 2, 2**32]),
     "snapshot 1 region 0: nr_accesses 4294967296 is out of range [0, 2^32-1]"),
    (dict(ages=[0, 0, -1]), "snapshot 1 region 0: age -1 is negative"),
    (dict(sz_filter_passed=[0, -5, 0]), "snapshot 0 region 1: sz_filter_passed -5 is negative"),
    (dict(starts=[-1, 0, 0]), None),
])
def test_refusals_name_the_column_snapshot_region_and_value(kw, message):
    if message is None:
        with pytest.raises(FormatError):
            record(**kw)
        return
    assert refused(**kw) == message


def test_bounds_that_are_still_valid():
    # the limits themselves are recordable values
    r = record(nr_accesses=[0, 2**32 - 1, 0], ages=[0, AGE_UNKNOWN, 0],
               starts=[0, 8192, 0], ends=[4096, 8192, 8192], start_ns=[100, 200],
               sample_interval_us=[0, 2.0**64], total_bytes=[-1, 0],
               kdamond_idx=2**63 - 1, target_id="t")
    assert r.nr_regions == 3
    assert list(r.snapshot_total_bytes()) == [4096, 0]
    assert record(region_offsets=[0, 3, 3]).nr_regions_per_snapshot().tolist() == [3, 0]
    empty = Record(None, [0], [1], [0, 0], [], [], [], [])
    assert empty.nr_regions == 0 and list(empty.per_snapshot_sum(empty.sizes())) == [0]


@pytest.mark.parametrize("intervals, message", [
    (Intervals(-1, 100000, 1000000), "intervals.sample_us: -1 is not an interval (0 to 2^64-1 us)"),
    (Intervals(5000, float("nan"), 1000000),
     "intervals.aggr_us: nan is not an interval (0 to 2^64-1 us)"),
    (Intervals(5000, 100000, 2**64), "intervals.ops_update_us: 18446744073709551616 "
     "is not an interval (0 to 2^64-1 us)"),
    (Intervals(5000, 100000, True), "intervals.ops_update_us: True is not an interval "
     "(0 to 2^64-1 us)"),
    (Intervals(5000, 100000, 1000000, goal=[1]), "intervals.intervals_goal is not an object"),
    (Intervals(5000, 100000, 1000000, goal={"access_bp": 1, "aggrs": 1, "min_sample_us": 1}),
     "intervals.intervals_goal lacks max_sample_us"),
    (Intervals(5000, 100000, 1000000, goal={"access_bp": 1, "aggrs": -3, "min_sample_us": 1,
                                             "max_sample_us": 2}),
     "intervals.intervals_goal.aggrs: -3 is not an interval (0 to 2^64-1 us)"),
])
def test_interval_refusals(intervals, message):
    assert refused(intervals=intervals) == message


def test_intervals_goal_switches_tuning():
    assert not Intervals(5000, 100000, 1000000).tuning_enabled
    assert not Intervals(5000, 100000, 1000000, goal={"aggrs": 0}).tuning_enabled
    assert Intervals(5000, 100000, 1000000, goal={"aggrs": 4}).tuning_enabled
    ok = Intervals(2**64 - 1, 0, 1.5, goal={"access_bp": 0, "aggrs": 0, "min_sample_us": 0,
                                            "max_sample_us": 2**64 - 1})
    assert record(intervals=ok).intervals is ok
