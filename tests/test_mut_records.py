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


# ---- readers: what a user reads of a refused file -------------------------

import json
import struct
import zlib

from damo.errors import DamoError
from damo.records import files, native

G = {"start": 0, "end": 4096, "nr_accesses": {"samples": 1, "percent": 5},
     "age": {"usec": 200000, "aggr_intervals": 2}}
INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}


def one_record(regions, intervals=INTERVALS, **snapshot):
    s = {"start_time": 0, "end_time": 10, "regions": regions}
    s.update(snapshot)
    return [{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": None, "target_id": 1,
             "intervals": intervals, "snapshots": [s]}]


def load_error(path):
    with pytest.raises(DamoError) as e:
        files.load(str(path))
    return str(e.value)


def write(path, obj, fmt):
    data = json.dumps(obj, indent=4).encode()
    path.write_bytes(zlib.compress(data) if fmt == "json_compressed" else data)


JSON_REFUSALS = [
    ({"a": 1}, "top level is not a list of records"),
    ([1], "record 0 is not an object"),
    ([{"target_id": 1}], "record 0 lacks 'snapshots'"),
    ([{"target_id": 1, "snapshots": 3}], "record 0: 'snapshots' is not a list"),
    ([{"target_id": 1, "snapshots": [3]}], "record 0 snapshot 0 is not an object"),
    ([{"target_id": 1, "snapshots": [{"start_time": 0, "regions": []}]}],
     "record 0 snapshot 0 lacks 'end_time'"),
    ([{"target_id": 1, "snapshots": [{"start_time": 0, "end_time": 1, "regions": {}}]}],
     "record 0 snapshot 0: 'regions' is not a list"),
    ([{"target_id": 1, "snapshots": [{"start_time": "soon", "end_time": 1, "regions": []}]}],
     "record 0 snapshot 0 start_time: bad number 'soon'"),
    ([{"target_id": 1, "snapshots": [{"start_time": 2**70, "end_time": 1, "regions": []}]}],
     "record 0 snapshot 0 start_time: time 1180591620717411303424 is out of range"),
    (one_record([G], intervals={"sample_us": 1}), "record 0: intervals lack 'aggr_us'"),
    (one_record([G], intervals={"sample_us": "x", "aggr_us": 1, "ops_update_us": 1}),
     "record 0: bad intervals {'sample_us': 'x', 'aggr_us': 1, 'ops_update_us': 1}"),
    (one_record([G], intervals={"sample_us": -1, "aggr_us": 1, "ops_update_us": 1}),
     "record 0: intervals.sample_us: -1 is not an interval (0 to 2^64-1 us)"),
    (one_record([{"start": 0, "nr_accesses": {"samples": 1}}]),
     "record 0 snapshot 0: region 0 lacks 'end'"),
    (one_record([G, {"start": 0, "end": 4096, "age": G["age"]}]),
     "record 0 snapshot 0: region 1 lacks 'nr_accesses'"),
    (one_record([G, dict(G, start=-5)]),
     "record 0 snapshot 0: region 1: start: -5 is out of range [0, 18446744073709551615]"),
    (one_record([dict(G, end=2**64)]),
     "record 0 snapshot 0: region 0: end: 18446744073709551616 is out of range "
     "[0, 18446744073709551615]"),
    (one_record([dict(G, end="lots")]),
     "record 0 snapshot 0: region 0 is malformed (not a size: 'lots')"),
    (one_record([dict(G, nr_accesses={"samples": 2**32, "percent": None})]),
     "record 0 snapshot 0: region 0: nr_accesses.samples: 4294967296 is out of range "
     "[0, 4294967295]"),
    (one_record([dict(G, nr_accesses={"samples": None, "percent": 50})],
                intervals=dict(INTERVALS, sample_us=0)),
     "record 0 snapshot 0: nr_accesses.percent needs a sample interval above 0"),
    (one_record([dict(G, nr_accesses={"samples": None, "percent": 1e300})]),
     "record 0 snapshot 0: region 0: nr_accesses.percent 1e+300 is not a number in "
     "[0, 2^63-1]"),
    (one_record([dict(G, nr_accesses={"samples": None, "percent": 50})], intervals=None),
     "record 0 snapshot 0: regions lack nr_accesses.samples"),
    (one_record([dict(G, age={"usec": 10**6, "aggr_intervals": None})],
                intervals=dict(INTERVALS, aggr_us=0)),
     "record 0 snapshot 0: age.usec needs an aggregation interval above 0"),
    (one_record([dict(G, age={"usec": None, "aggr_intervals": -1})]),
     "record 0 snapshot 0: region 0: age.aggr_intervals: -1 is out of range "
     "[0, 9223372036854775807]"),
    (one_record([dict(G, age={"aggr_intervals": 1})]), "record 0 snapshot 0: region 0 lacks 'usec'"),
    (one_record([dict(G, sz_filter_passed=-1)]),
     "record 0 snapshot 0: region 0: sz_filter_passed: -1 is out of range "
     "[0, 9223372036854775807]"),
    (one_record([], sample_interval_us=-3),
     "record 0 snapshot 0: sample_interval_us -3 is out of range"),
    (one_record([dict(G, start=8192)]), "record 0: snapshot 0 region 0: start 8192 is above end 4096"),
    (one_record([G], start_time=20, end_time=10), "record 0: snapshot 0: starts after it ends"),
    (one_record([G], end_time="later"), "record 0 snapshot 0 end_time: bad number 'later'"),
    (one_record([G], end_time=2**70),
     "record 0 snapshot 0 end_time: time 1180591620717411303424 is out of range"),
    ([dict(one_record([G])[0], scheme_filters=5)], "record 0: 'scheme_filters' is not a list"),
    ([dict(one_record([G])[0], scheme_filters="ab")], "record 0: 'scheme_filters' is not a list"),
    # a number where a regions array goes: the fast path numbers the arrays
    # it cuts out, and a user's number must not pass for one of them
    ([dict(one_record([G, dict(G, start=4096, end=8192)])[0],
           snapshots=[{"start_time": 0, "end_time": 10, "regions": [G], "total_bytes": 4096},
                      {"start_time": 10, "end_time": 20, "regions": 0, "total_bytes": 0}])],
     "record 0 snapshot 1: 'regions' is not a list"),
    ([dict(one_record([G])[0],
           snapshots=[{"start_time": 0, "end_time": 10, "regions": 0, "total_bytes": 0},
                      {"start_time": 10, "end_time": 20, "regions": [G, G],
                       "total_bytes": 8192}])],
     "record 0 snapshot 0: 'regions' is not a list"),
]


@pytest.mark.parametrize("fmt", ["json", "json_compressed"])
@pytest.mark.parametrize("obj, message", JSON_REFUSALS)
def test_json_refusals_name_the_place(tmp_path, fmt, obj, message):
    path = tmp_path / "r.data"
    write(path, obj, fmt)
    assert load_error(path) == "%s: bad %s recording: %s" % (path, fmt, message)


@pytest.mark.parametrize("fmt", ["json", "json_compressed"])
def test_json_percent_and_usec_stand_in_for_samples_and_ages(tmp_path, fmt):
    """damo's rules: samples = int(percent * (aggr / sample) / 100), age =
    int(usec / aggr); here 50 % of 20 samples and 1 s of 100 ms."""
    path = tmp_path / "r.data"
    write(path, one_record([dict(G, nr_accesses={"samples": None, "percent": 50},
                                 age={"usec": 10**6, "aggr_intervals": None}),
                            dict(G, start=4096, end=12288)]), fmt)
    r, = files.load(str(path)).records
    assert r.nr_accesses.tolist() == [10, 1] and r.ages.tolist() == [10, 2]
    assert r.starts.tolist() == [0, 4096] and r.ends.tolist() == [4096, 12288]
    assert (r.intervals.sample_us, r.intervals.aggr_us, r.intervals.ops_update_us) == (
        5000, 100000, 1000000)


@pytest.mark.parametrize("data, message", [
    (b'[{"target_id": 1, "snapshots": [',
     "bad json recording: invalid JSON (Expecting value: line 1 column 33 (char 32))"),
    (b'[{"target_id": NaN, "snapshots": []}]',
     "bad json recording: invalid JSON (NaN is not a JSON number)"),
    (b"[" * 300 + b"]" * 300, "bad json recording: nested deeper than 64 levels"),
    (b"\xff\xfe\x00garbage" * 10, "not a recording: an unknown format"),
    (b"", "empty file, not a recording"),
    (b"\x78\x9c" + b"\xff" * 40, "bad json_compressed recording: corrupt zlib stream (Error -3 "
     "while decompressing data: invalid block type)"),
    (zlib.compress(b"[]" + b" " * 100)[:-6],
     "bad json_compressed recording: truncated (the zlib stream ends early)"),
    # perf script's text of other events only
    (b"    perf  1234 [000]     1.000000: sched:sched_switch: prev_comm=a prev_pid=1\n",
     "bad perf_script recording: no DAMON access records in it"),
], ids=["truncated-json", "nan", "deep", "not-text", "empty", "corrupt-zlib", "truncated-zlib",
        "no-damon-events"])
def test_unreadable_files(tmp_path, data, message):
    path = tmp_path / "r.data"
    path.write_bytes(data)
    assert load_error(path) == "%s: %s" % (path, message)


# native: a valid file's header edited (the data area moved to stay aligned)

def native_file(tmp_path):
    import synth
    path = tmp_path / "n.data"
    synth.stairs(str(path), nr_snapshots=3, nr_regions=4, output_type="native")
    return path


def rewrite_native(path, edit, version_bytes=None):
    buf = path.read_bytes()
    (n,) = struct.unpack_from("<Q", buf, len(native.MAGIC))
    head_end = len(native.MAGIC) + 8 + n
    header = json.loads(buf[len(native.MAGIC) + 8:head_end])
    data = buf[-(-head_end // 64) * 64:]
    header = edit(header)
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    head = native.MAGIC + struct.pack("<Q", len(text)) + text
    path.write_bytes(head + b"\0" * (-len(head) % 64) + data)


def drop(key):
    def edit(h):
        del h["records"][0][key]
        return h
    return edit


def setcol(name, value):
    def edit(h):
        h["records"][0]["columns"][name] = value
        return h
    return edit


def setkey(key, value):
    def edit(h):
        h["records"][0][key] = value
        return h
    return edit


@pytest.mark.parametrize("edit, message", [
    (lambda h: b"[1, 2]", "corrupt header (not a JSON object)"),
    (lambda h: dict(h, version=7), "unsupported native format version 7"),
    (lambda h: {k: v for k, v in h.items() if k != "version"},
     "unsupported native format version None"),
    (lambda h: dict(h, records={}), "corrupt header (no records list or no metadata)"),
    (lambda h: {k: v for k, v in h.items() if k != "metadata"},
     "corrupt header (no records list or no metadata)"),
    (lambda h: dict(h, metadata=[]), "corrupt header (metadata is not an object)"),
    (lambda h: dict(h, metadata={"a": {"__ndarray__": [0, "<i8", [10**9]]}}),
     "metadata: truncated (an array runs past the end of the file)"),
    (lambda h: dict(h, records=[7]), "record 0: not an object"),
    (drop("data_source"), "record 0: lacks data_source"),
    (setkey("columns", []), "record 0: 'columns' is not an object"),
    (setcol("colour", [0, "<i8", [1]]), "record 0: unknown column colour"),
    (lambda h: (h["records"][0]["columns"].pop("ages"), h)[1], "record 0: lacks column ages"),
    (setcol("ages", [0, "<i8"]),
     "record 0: corrupt header (an array reference is not [offset, dtype, shape])"),
    (setcol("ages", [-64, "<i8", [4]]),
     "record 0: corrupt header (an array's offset or shape is not valid)"),
    (setcol("ages", [0, "<i8", [2, -1]]),
     "record 0: corrupt header (an array's offset or shape is not valid)"),
    (setcol("ages", [0, "<u8", [4]]), "record 0: corrupt header (an array of <u8, not <i8)"),
    (setcol("start_ns", [0, "<u4", [3]]),
     "record 0: corrupt header (an array of <u4, not <i8 or <f8)"),
    (setcol("ages", [0, "<i8", [2, 2]]), "record 0: a column is not one-dimensional"),
    (setcol("ages", [10**6, "<i8", [4]]),
     "record 0: truncated (an array runs past the end of the file)"),
    (setkey("intervals", {"sample_us": 1}),
     "record 0: intervals are not {aggr_us, goal, ops_update_us, sample_us}"),
    (setkey("scheme_filters", {}), "record 0: 'scheme_filters' is not a list"),
    (setkey("damos_stats", 3), "record 0: 'damos_stats' is not a list"),
    (setkey("data_source", 3), "record 0: data_source 3 is not a string"),
])
def test_native_refusals(tmp_path, edit, message):
    path = native_file(tmp_path)
    files.load(str(path))                   # valid before the edit
    rewrite_native(path, edit)
    assert load_error(path) == "%s: bad native recording: %s" % (path, message)


def test_native_header_ends(tmp_path):
    path = native_file(tmp_path)
    buf = path.read_bytes()
    path.write_bytes(buf[:len(native.MAGIC) + 20])
    assert load_error(path) == "%s: bad native recording: truncated (header runs past the " \
                               "end of the file)" % path
    path.write_bytes(native.MAGIC + b"\1\2")
    assert load_error(path) == "%s: bad native recording: not a native recording" % path


# ---- perf script text: read and written by hand ----------------------------

from damo.records import perf_script

HEAD = "kdamond.0 1234 [000] "


def agg(ts, target, nr, start, end, nr_accesses, age=None):
    return "%s%s: damon:damon_aggregated: target_id=%s nr_regions=%d %d-%d: %d%s" % (
        HEAD, ts, target, nr, start, end, nr_accesses, "" if age is None else " %d" % age)


def test_perf_script_snapshots_times_and_targets():
    text = "\n".join([
        "# a perf script header line", "short line",
        agg("5.000000", 1, 2, 0, 4096, 3, 7), agg("5.000000", 1, 2, 4096, 8192, 0, 1),
        agg("5.100000", 2, 1, 0, 100, 1),
        agg("5.200000", 1, 1, 0, 8192, 2, 8),
        "kdamond.0 1234 [000] 5.3: damon:damon_monitor_intervals_tune: sample_us=2500",
        agg("5.300000", 1, 1, 0, 8192, 4, 9),
    ])
    one, two = perf_script.read(text)
    assert one.target_id == 1 and two.target_id == 2
    assert one.end_ns.tolist() == [5000000000, 5200000000, 5300000000]
    # no start times in a trace: the first is one average snapshot length early
    assert one.start_ns.tolist() == [4850000000.0, 5000000000, 5200000000]
    assert one.region_offsets.tolist() == [0, 2, 3, 4]
    assert one.starts.tolist() == [0, 4096, 0, 0] and one.ends.tolist() == [4096, 8192] + [8192] * 2
    assert one.nr_accesses.tolist() == [3, 0, 2, 4] and one.ages.tolist() == [7, 1, 8, 9]
    # a tune line gives the sampling interval of the snapshot right after it
    assert np.isnan(one.sample_interval_us[:2]).all() and one.sample_interval_us[2] == 2500
    # a one-snapshot target is taken as instantaneous; no age: unknown
    assert two.start_ns.tolist() == two.end_ns.tolist() == [5100000000]
    assert two.ages.tolist() == [AGE_UNKNOWN] and two.sample_interval_us is None


def test_perf_script_drops_damo_s_fake_last_snapshot_and_reads_trace_cmd():
    text = "\n".join([
        agg("1.000000", 3, 1, 0, 4096, 5, 0),
        # trace-cmd: with the latency column, and a damos_before_apply line
        "kdamond.0-77 [001] ..... 3.000000: damon_aggregated: target_id=3 nr_regions=1 "
        "0-4096: 6 1",
        "kdamond.0-77 [001] 4.000000: damon:damos_before_apply: ctx_idx=0 scheme_idx=0 "
        "target_idx=3 nr_regions=1 0-4096: 7 2",
    ])
    r, = perf_script.read(text)
    assert r.end_ns.tolist() == [1000000000, 3000000000, 4000000000]
    assert r.start_ns.tolist() == [-500000000.0, 1000000000, 3000000000]
    assert r.nr_accesses.tolist() == [5, 6, 7] and r.ages.tolist() == [0, 1, 2]
    fake = "\n".join([agg("1.000000", 3, 1, 0, 4096, 5, 0), agg("2.000000", 3, 1, 0, 0, -1, -1)])
    r, = perf_script.read(fake)
    assert r.nr_snapshots == 1 and r.start_ns.tolist() == [0.0] and r.end_ns.tolist() == [10**9]


NOT_TRACE = [
    (HEAD + "5.0 damon:damon_aggregated: target_id=1 nr_regions=1 0-1: 1 0",
     "no '<timestamp>: <event>:' fields"),
    (HEAD + "5.0: damon:damon_aggregated: target=1 nr_regions=1 0-1: 1 0",
     "expected target_id=<number>, got 'target=1'"),
    (HEAD + "5.0: damon:damon_aggregated: target_id=1 nr_regions=1 0-1 1 0",
     "expected '<start>-<end>:', got '0-1'"),
    (agg("5.0", 1, 1, 0, 2**64, 1, 0), "address out of range [0, 2^64-1]"),
    (agg("5.0", 1, 1, 0, 1, 2**32, 0), "nr_accesses 4294967296 out of range [0, 2^32-1]"),
    (agg("5.0", 1, 1, 0, 1, 1, -2), "age -2 out of range"),
    (agg("5.0", 1, 0, 0, 1, 1, 1), "nr_regions or target out of range"),
    (agg("1e10", 1, 1, 0, 1, 1, 1), "timestamp out of range"),
    ("kdamond.0 1234 [000] 5.0: damon:damon_monitor_intervals_tune: sample_us=-1",
     "sample_us out of range"),
]


@pytest.mark.parametrize("line, reason", NOT_TRACE)
def test_perf_script_lines_that_are_not_trace_lines(line, reason):
    """The message names the line, why, and quotes its first 80 characters."""
    good = agg("4.0", 1, 1, 0, 4096, 1, 1)
    with pytest.raises(FormatError) as e:
        perf_script.read("\n".join([good, line]))
    assert str(e.value) == "line 2 is not a DAMON trace line (%s): %r" % (reason, line[:80])


@pytest.mark.parametrize("lines, message", [
    ([agg("5.0", 1, 2, 0, 1, 1, 1), agg("5.0", 2, 1, 0, 1, 1, 1)],
     "line 2: a region of target 2 inside the unfinished snapshot of another target "
     "(1 of its regions are missing)"),
    ([agg("5.0", 1, 1, 0, 1, 1, 1), agg("4.0", 1, 1, 0, 1, 1, 1)],
     "line 2: trace is not time-sorted"),
    ([agg("5.0", 1, 2, 0, 1, 1, 1), agg("5.0", 1, 3, 1, 2, 1, 1)],
     "line 2: nr_regions=3 in a snapshot of 2 regions"),
    ([agg("5.0", 1, 1, 8, 1, 1, 1)], "target 1: snapshot 0 region 0: start 8 is above end 1"),
])
def test_perf_script_refusals(lines, message):
    with pytest.raises(FormatError) as e:
        perf_script.read("\n".join(lines))
    assert str(e.value) == message


def test_perf_script_lines_as_damo_writes_them():
    r = record(sample_interval_us=[float("nan"), 2500])
    assert "".join(perf_script.iter_text([r])) == (
        "kdamond.x xxxx xxxx 0.000000: damon:damon_aggregated: target_id=1 nr_regions=2 "
        "0-4096: 1 4\n"
        "kdamond.x xxxx xxxx 0.000000: damon:damon_aggregated: target_id=1 nr_regions=2 "
        "4096-8192: 2 5\n"
        "kdamond.x xxxx xxxx 0.000000: damon:damon_monitor_intervals_tune: sample_us=2500\n"
        "kdamond.x xxxx xxxx 0.000000: damon:damon_aggregated: target_id=1 nr_regions=1 "
        "0-8192: 3 6\n")
    # one snapshot: damo adds a fake one after it, one snapshot length later
    one = Record(7, [1000000000], [3000000000], [0, 1], [0], [4096], [2], [AGE_UNKNOWN])
    assert "".join(perf_script.iter_text([one])) == (
        "kdamond.x xxxx xxxx 3.000000: damon:damon_aggregated: target_id=7 nr_regions=1 "
        "0-4096: 2\n"
        "kdamond.x xxxx xxxx 5.000000: damon:damon_aggregated: target_id=7 nr_regions=1 "
        "0-0: -1 -1\n")


def test_perf_script_takes_the_kernel_s_limits():
    # nr_accesses is an unsigned int in the kernel: 2^32-1 is a value
    r, = perf_script.read(agg("1.0", 1, 1, 0, 2**64 - 1, 2**32 - 1, 2**63 - 1))
    assert r.nr_accesses.tolist() == [2**32 - 1] and r.ends.tolist() == [2**64 - 1]
    assert r.ages.tolist() == [2**63 - 1]


# ---- damo's rewriting of DAMOS filters (damo_exact) -------------------------

from damo.records.damo_exact import filter_kvpairs


@pytest.mark.parametrize("kv, out", [
    ({"filter_type": "young", "matching": True, "allow": False, "memcg_path": None,
      "address_range": None, "damon_target_idx": None,
      "probe_hits_wsum_range": [1, "1,000"], "hugepage_size": ["2 MiB", 4096]},
     {"filter_type": "young", "matching": True, "allow": False, "memcg_path": "",
      "address_range": None, "damon_target_idx": None, "hugepage_size": ["2097152", "4096"],
      "probe_hits_wsum_range": ["1", "1000"]}),
    # damo's older 'filter_pass' for allow; booleans as text; addresses as numbers
    ({"filter_type": "addr", "matching": "false", "filter_pass": True, "memcg_path": None,
      "address_range": {"start": "4 KiB", "end": 8192}, "damon_target_idx": None},
     {"filter_type": "addr", "matching": False, "allow": True, "memcg_path": "",
      "address_range": {"start": "4096", "end": "8192"}, "damon_target_idx": None,
      "hugepage_size": None, "probe_hits_wsum_range": None}),
    # only a target filter keeps its index, only a memcg one its path
    ({"filter_type": "target", "matching": "yes", "memcg_path": "/x", "address_range": None,
      "damon_target_idx": "2"},
     {"filter_type": "target", "matching": True, "allow": False, "memcg_path": "",
      "address_range": None, "damon_target_idx": "2", "hugepage_size": None,
      "probe_hits_wsum_range": None}),
    ({"filter_type": "memcg", "matching": "n", "memcg_path": "/x", "address_range": None,
      "damon_target_idx": "2"},
     {"filter_type": "memcg", "matching": False, "allow": False, "memcg_path": "/x",
      "address_range": None, "damon_target_idx": None, "hugepage_size": None,
      "probe_hits_wsum_range": None}),
])
def test_filters_as_damo_rewrites_them(kv, out):
    assert filter_kvpairs(kv) == out


# ---- the ground truth beside a recording ------------------------------------

from damo.records import truth as truth_mod


@pytest.fixture(scope="module")
def with_truth(tmp_path_factory):
    from conftest import run_ours
    path = str(tmp_path_factory.mktemp("truth") / "gt.data")
    code, _, err = run_ours("record", "stairs", "--timeout", "1", "--ground_truth",
                            "--output_type", "native", "-o", path)
    assert code == 0, err
    return path


def truth_error(path, edit):
    import copy
    rec = files.load(path)
    rec.metadata = copy.deepcopy(rec.metadata)
    edit(rec.metadata["ground_truth"]["records"][0]["columns"])
    with pytest.raises(DamoError) as e:
        truth_mod.load(path, rec)
    return str(e.value)


def test_truth_that_is_not_the_recording_s(with_truth):
    rec = files.load(with_truth)
    r = rec.records[0]
    t, = truth_mod.load(with_truth, rec)
    assert len(t.wss) == r.nr_snapshots and len(t.accessed) == r.nr_regions
    where = "record 0/0/%s" % r.target_id
    tail = "; record again with --ground_truth"
    head = "%s: the ground truth does not match the recording (%s: " % (with_truth, where)

    def cut(name, n=1):
        return lambda cols: cols.__setitem__(name, cols[name][:-n])
    assert truth_error(with_truth, cut("wss")) == head + "%d/%d snapshots, the recording " \
        "has %d)" % (r.nr_snapshots - 1, r.nr_snapshots, r.nr_snapshots) + tail
    assert truth_error(with_truth, cut("mean_nr", 2)) == head + "%d/%d regions, the " \
        "recording has %d)" % (r.nr_regions - 2, r.nr_regions, r.nr_regions) + tail
    assert truth_error(with_truth, cut("cell_age")) == head + \
        "its cell columns disagree in length)" + tail

    def more_cells(cols):
        cols["nr_cells"] = list(cols["nr_cells"])
        cols["nr_cells"][0] += 1
    assert truth_error(with_truth, more_cells) == head + "its columns disagree in length)" + tail

    def no_column(cols):
        del cols["wss"]
    assert truth_error(with_truth, no_column) == "%s: corrupt ground truth ('wss')" % with_truth


def test_truth_pieces_are_page_aligned_equal_parts():
    starts, ends = truth_mod.pieces([0, 8192], [4 * 4096, 8192 + 6144], np.array([3, 3]))
    # 4 pages in 3: 1, 1, 2 pages; 1.5 pages (1 whole) in 3: the last takes the rest
    assert starts.tolist() == [0, 4096, 8192, 8192, 8192, 8192]
    assert ends.tolist() == [4096, 8192, 16384, 8192, 8192, 8192 + 6144]
    assert starts.dtype == np.int64 and ends.dtype == np.int64


# ---- perf.data's tracing data, read by the layout perf reads ---------------

import re

from damo.records import perf_data


def test_tracing_data_has_trace_cmd_s_sections_and_nothing_else():
    """tools/perf/util/trace-event-read.c's order (version 0.6): magic and
    version, endianness, long size, page size, header_page, header_event,
    ftrace formats, event systems (name, formats), kallsyms, ftrace_printk,
    saved cmdlines; the buffer ends there."""
    events = list(perf_data.EVENTS.values())
    data = perf_data.tracing_data(events)
    pos = 0

    def take(n):
        nonlocal pos
        assert pos + n <= len(data)
        out = data[pos:pos + n]
        pos += n
        return out

    def u32():
        return struct.unpack("<I", take(4))[0]

    def u64():
        return struct.unpack("<Q", take(8))[0]
    assert take(10) == b"\x17\x08Dtracing" and take(4) == b"0.6\0"
    assert take(1) == b"\0" and take(1) == b"\x08" and u32() == 4096
    assert take(12) == b"header_page\0"
    assert b"commit" in take(u64())
    assert take(13) == b"header_event\0"
    assert b"type_len" in take(u64())
    assert u32() == 0                                   # ftrace formats
    assert u32() == 1                                   # one event system
    end = data.index(b"\0", pos)
    assert take(end - pos + 1) == b"damon\0"
    assert u32() == len(events)
    field = re.compile(r"^\tfield:[a-z ]+ [a-z_]+;\toffset:\d+;\tsize:\d+;\tsigned:[01];$")
    for event in events:
        text = take(u64()).decode()
        assert text == event.format.decode()
        lines = text.split("\n")
        assert lines[:3] == ["name: %s" % event.name, "ID: %d" % event.id, "format:"]
        body = lines[3:lines.index("", 3)] + lines[lines.index("", 3) + 1:lines.index("", 8)]
        assert body and all(field.match(line) for line in body), body
        assert lines[-2].startswith("print fmt: ") and lines[-1] == ""
    assert u32() == 0 and u32() == 0 and u64() == 0     # kallsyms, printk, cmdlines
    assert pos == len(data)


def fake_perf(tmp_path, monkeypatch, script):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    perf = bin_dir / "perf"
    perf.write_text(script)
    perf.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return str(perf)


def test_perf_script_failures_name_the_file_and_perf_s_last_words(tmp_path, monkeypatch):
    data = tmp_path / "p.data"
    data.write_bytes(b"PERFILE2")
    fake_perf(tmp_path, monkeypatch, "#!/bin/sh\nprintf 'one\\nbad \\377 end\\n' >&2\nexit 3\n")
    with pytest.raises(DamoError) as e:
        perf_data.script_text(data)
    assert str(e.value) == "%s: perf script failed: bad \ufffd end" % data
    fake_perf(tmp_path, monkeypatch, "#!/bin/sh\nexit 1\n")
    with pytest.raises(DamoError) as e:
        perf_data.script_text(data)
    assert str(e.value) == "%s: perf script failed: no output" % data
    perf = fake_perf(tmp_path, monkeypatch, "#!/nonexistent/interpreter\n")
    with pytest.raises(DamoError) as e:
        perf_data.script_text(data)
    assert str(e.value) == "%s: perf script failed ([Errno 2] No such file or directory: " \
                           "'%s')" % (data, perf)
    fake_perf(tmp_path, monkeypatch, "#!/bin/sh\nprintf 'out \\377\\n'\n")
    assert perf_data.script_text(data) == "out \ufffd\n"
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(DamoError) as e:
        perf_data.script_text(data)
    assert str(e.value) == "%s: a perf.data file, and perf is not installed to read it " \
                           "(install perf, e.g. apt-get install linux-perf)" % data


def perf_file(tmp_path, edit=None):
    """A perf.data file of a record (one attr per DAMON event: aggregated,
    intervals tune, before apply), its bytes edited by ``edit(bytearray, header)``."""
    r = record(sample_interval_us=[float("nan"), 2500])
    data = bytearray(perf_data.build([r]))
    header = struct.unpack_from("<8sQQQQQQQQ", data, 0)
    if edit:
        edit(data, header)
    path = tmp_path / "p.data"
    path.write_bytes(bytes(data))
    return str(path)


def unsupported(path):
    with pytest.raises(perf_data.Unsupported) as e:
        perf_data.Trace(path).close()
    return str(e.value)


def set_sample_type(fn):
    def edit(data, header):
        attr_entry, attrs_off, attrs_size = header[2], header[3], header[4]
        for i in range(attrs_size // attr_entry):
            at = attrs_off + i * attr_entry + 24         # perf_event_attr.sample_type
            old = struct.unpack_from("<Q", data, at)[0]
            struct.pack_into("<Q", data, at, fn(i, old))
    return edit


def test_perf_data_layouts_the_reader_leaves_to_perf(tmp_path):
    t = perf_data.Trace(perf_file(tmp_path))
    # identifier, tid, time, cpu, period, raw: 65536 + 2 + 4 + 128 + 256 + 1024
    assert [(st, config) for st, config, _ in t.attrs] == [(66950, 1), (66950, 2), (66950, 3)]
    t.close()
    raw = perf_data.SAMPLE_RAW
    assert unsupported(perf_file(tmp_path, set_sample_type(lambda i, st: st & ~raw))) == \
        "samples without raw data at a fixed place"
    assert unsupported(perf_file(tmp_path, set_sample_type(lambda i, st: st | 1 << 5))) == \
        "samples without raw data at a fixed place"          # a callchain before the raw data
    assert unsupported(perf_file(tmp_path, set_sample_type(lambda i, st: st | i << 3))) == \
        "events of different sample layouts"

    def not_tracepoint(data, header):
        struct.pack_into("<I", data, header[3], 1)
    assert unsupported(perf_file(tmp_path, not_tracepoint)) == "a non-tracepoint event"

    def no_tracing_data(data, header):
        data[72:104] = bytes(32)
    assert unsupported(perf_file(tmp_path, no_tracing_data)) == "no tracing data"
    path = tmp_path / "short.data"
    path.write_bytes(b"PERFILE2" + bytes(50))
    assert unsupported(str(path)) == "not a PERFILE2 file"
    path.write_bytes(b"")
    assert unsupported(str(path)) == "an empty file"


def test_tracing_data_formats_as_the_kernel_lays_them_out():
    events = list(perf_data.EVENTS.values())
    data = perf_data.tracing_data(events)
    parsed = perf_data._parse_formats(data)
    # damon_aggregated's TP_STRUCT__entry after the 8 common bytes: target_id
    # (unsigned long), nr_regions (unsigned int), start, end (unsigned long,
    # 8-aligned), nr_accesses, age (unsigned int)
    assert parsed[1] == ("damon", "damon_aggregated", {
        "common_type": (0, 2), "common_flags": (2, 1), "common_preempt_count": (3, 1),
        "common_pid": (4, 4), "target_id": (8, 8), "nr_regions": (16, 4), "start": (24, 8),
        "end": (32, 8), "nr_accesses": (40, 4), "age": (44, 4)})
    assert parsed[2][1] == "damon_monitor_intervals_tune" and parsed[2][2]["sample_us"] == (8, 8)
    assert sorted(parsed) == [1, 2, 3]
    # perf's own files carry ftrace formats first: skipped, the events found the same
    at = data.index(b"header_event\0") + len(b"header_event\0")
    at += 8 + struct.unpack_from("<Q", data, at)[0]
    assert data[at:at + 4] == b"\0\0\0\0"
    ftrace = b"name: function\nID: 1\nformat:\n"
    spliced = data[:at] + struct.pack("<IQ", 1, len(ftrace)) + ftrace + data[at + 4:]
    assert perf_data._parse_formats(spliced) == parsed
    # a format text that is not UTF-8 is read with replacement characters
    bad = data.replace(b'print fmt: "target_id', b'print fmt: \xfftarget_id', 1)
    assert bad != data and perf_data._parse_formats(bad) == parsed


def test_the_fast_json_path_learns_a_layout_from_the_first_region():
    from damo.records import json_format as jf
    text = (b'{"start": "4096", "end": 8192, "nr_accesses": {"samples": 3, "percent": null},'
            b' "age": {"usec": null, "aggr_intervals": 2}, "sz_filter_passed": 0,'
            b' "probe_hits": []}')
    # the value tokens in order; nulls and empty lists hold none
    layout = ("starts", "ends", "nr_accesses", "ages", "sz_filter_passed")
    assert jf._learn_layout(text, b"mut18-skeleton") == layout
    assert jf._layout_cache[b"mut18-skeleton"] == layout
    for odd in (b'{"start": 1.5, "end": 2, "nr_accesses": {"samples": 1}}',
                b'{"start": 1, "end": 2, "nr_accesses": {"samples": true}}',
                b'{"start": 1, "nr_accesses": {"samples": 1}}', b'[1, 2]', b'{"start": '):
        with pytest.raises(jf._NotFast):
            jf._learn_layout(odd, b"mut18-odd")
    assert b"mut18-odd" not in jf._layout_cache


def test_the_json_text_is_damo_s_indent_4_layout_outside_the_regions():
    # damo writes json.dumps(records, indent=4); ours only puts each region on
    # one line, so a record without snapshots is that text byte for byte
    from damo.records import json_format as jf
    goal = {"access_bp": 400, "aggrs": 3, "min_sample_us": 5000, "max_sample_us": 10000000}
    filters = [{"filter_type": "memcg", "memcg_path": "/a b", "matching": True,
                "allow": False, "ranges": [[0, 4096]]}]
    r = Record(7, [], [], [0], [], [], [], [], kdamond_idx=1, context_idx=2, scheme_idx=3,
               intervals=Intervals(5000, 100000, 1000000, goal), scheme_filters=filters,
               data_source="vaddr")
    text = "".join(jf.iter_text([r]))
    loaded = json.loads(text, object_pairs_hook=lambda kv: dict(kv))
    assert text == json.dumps(loaded, indent=4)
    assert loaded[0]["scheme_filters"] == filters
    assert loaded[0]["intervals"]["intervals_goal"]["aggrs"] == "3"
    # with snapshots, every line down to the snapshots list is damo's too
    r2 = Record(7, [0], [10], [0, 1], [0], [4096], [1], [2],
                intervals=Intervals(5000, 100000, 1000000, goal), scheme_filters=filters)
    text2 = "".join(jf.iter_text([r2]))
    head = text2[:text2.index('"snapshots"')]
    obj = json.loads(text2)
    obj[0]["snapshots"] = []
    expected = json.dumps(obj, indent=4)
    assert head == expected[:expected.index('"snapshots"')]


def test_write_defaults_to_json_compressed_and_refuses_other_types(tmp_path):
    from damo import fileutil
    rec = files.load(str(_small_recording(tmp_path)))
    out = fileutil.OutputSet()
    files.write(rec, out, str(tmp_path / "w"))
    out.commit()
    data = (tmp_path / "w").read_bytes()
    text = zlib.decompress(data)            # zlib, as damo's json_compressed is
    assert json.loads(text)[0]["target_id"] == 1
    out = fileutil.OutputSet()
    with pytest.raises(DamoError) as e:
        files.write(rec, out, str(tmp_path / "x"), "yaml")
    out.abort()
    assert str(e.value) == ("unsupported output type 'yaml' (choose from json_compressed, "
                            "json, perf_script, native, perf_data)")
    assert not (tmp_path / "x").exists()


def _small_recording(tmp_path):
    path = tmp_path / "small.json"
    write(path, one_record([G]), "json")
    return path


def test_the_writer_keeps_filter_passed_sizes_as_given():
    from damo.records import RecordingWriter

    def recording(*szfps):
        w = RecordingWriter(None, "json")
        for i, szfp in enumerate(szfps):
            w.add_snapshot(0, 0, 1, 10 * i, 10 * i + 10, [0, 4096], [4096, 8192], [1, 2], [3, 4],
                           sz_filter_passed=szfp)
        return w.recording().records[0]
    # no snapshot has them: the record has none (the JSON has no such key)
    assert recording(None, None).sz_filter_passed is None
    assert list(recording([5, 6], [7, 8]).sz_filter_passed) == [5, 6, 7, 8]
    # one snapshot without them: damo reads a missing sz_filter_passed as 0
    assert list(recording([5, 6], None).sz_filter_passed) == [5, 6, 0, 0]
    assert list(recording(None, [7, 8]).sz_filter_passed) == [0, 0, 7, 8]


def test_report_trace_of_a_perf_data_file_with_one_sample(tmp_path):
    # one snapshot of one region: one damon_aggregated sample in the file
    from damo.reports import trace
    r = Record(3, [0], [2500001000], [0, 1], [4096], [12288], [7], [11])
    path = tmp_path / "one.data"
    path.write_bytes(perf_data.build([r]))
    lines = trace.decoded_lines(str(path), ["damon:damon_aggregated"], 10**6)
    assert lines is not None
    text = b"".join(lines).decode()   # batches of UTF-8 bytes, a newline a line
    assert text.endswith("\n") and text.count("\n") == 1
    text = text[:-1]
    # end time 2.500001 s, target 3, region 0 of 1, start 4 KiB, 8 KiB long,
    # 7 accesses, age 11
    stamp, proc, rest = text.split(" ", 2)
    assert stamp == "2.500001" and proc.startswith("kdamond.0/")
    assert rest == "damon:damon_aggregated 3 0/1 4.000000 KiB (8.000000 KiB) 7 11"


def test_the_c_scanner_reads_every_array_of_a_layout_the_first_included(tmp_path, monkeypatch):
    # the fast path's point: every array is read in one pass in C, the first
    # one too (its layout learnt from its first two regions' text), whatever
    # the size of the scratch buffer before; the numpy path runs only where
    # the scanner cannot tell (an array of one region, no layout learnt yet)
    from damo.records import json_format as jf
    if jf._cscan is None:
        pytest.skip("the C scanner is not built")
    monkeypatch.setattr(jf, "_last_layout", None)
    monkeypatch.setattr(jf, "_layout_cache", {})
    monkeypatch.setattr(jf, "_scratch", np.empty(0, dtype=np.int64))
    seen = []
    numpy_path = jf._regions_from_text
    monkeypatch.setattr(jf, "_regions_from_text", lambda seg: seen.append(seg) or numpy_path(seg))
    region = {"start": "1", "end": "2", "nr_accesses": {"samples": 3, "percent": None},
              "age": {"usec": None, "aggr_intervals": 4}}
    # damo's key order: total_bytes follows regions (the cut relies on it)
    obj = one_record([region] * 3, total_bytes=3)
    obj[0]["snapshots"].append({"start_time": 10, "end_time": 20, "regions": [region] * 3,
                                "total_bytes": 3})
    path = tmp_path / "layout.json"
    write(path, obj, "json")
    r = files.load(str(path)).records[0]
    assert seen == []
    assert jf._last_layout is not None and jf._last_layout[2][:2] == ("starts", "ends")
    assert list(r.starts) == [1] * 6 and list(r.ends) == [2] * 6
    assert list(r.nr_accesses) == [3] * 6 and list(r.ages) == [4] * 6

    # a first array of one region: the numpy path reads it (and learns
    # nothing from it); the next, of three, the scanner
    monkeypatch.setattr(jf, "_last_layout", None)
    obj[0]["snapshots"][0]["regions"] = [region]
    obj[0]["snapshots"][0]["total_bytes"] = 1
    write(path, obj, "json")
    r = files.load(str(path)).records[0]
    assert len(seen) == 1
    assert list(r.region_offsets) == [0, 1, 4] and list(r.ages) == [4] * 4
