"""Readers and writers of every recording format, and RecordingWriter."""
import json
import os
import re
import stat
import struct
import zlib

import numpy as np
import pytest

import synth
from conftest import UPSTREAM_RECORD
from damo.errors import DamoError
from damo.records import AGE_UNKNOWN, OUTPUT_TYPES, RecordingWriter, load, save, sniff
from damo.records import files, json_format

COLUMNS = ("start_ns", "end_ns", "region_offsets", "starts", "ends", "nr_accesses", "ages")


def assert_same_records(a, b, times=True):
    """Same records; perf_script (times=False) keeps neither start times nor
    intervals."""
    assert len(a) == len(b)
    for ra, rb in zip(a, b):
        assert ra.key() == rb.key()
        assert ra.intervals == rb.intervals or not times
        for name in COLUMNS if times else COLUMNS[2:]:
            assert np.array_equal(getattr(ra, name), getattr(rb, name)), name


@pytest.fixture
def recording(tmp_path):
    return synth.stairs(str(tmp_path / "src.data"), nr_targets=2, gaps=True)


@pytest.mark.parametrize("output_type", ["json_compressed", "json", "native"])
def test_round_trip_is_exact(tmp_path, recording, output_type):
    path = tmp_path / ("out." + output_type)
    save(recording, path, output_type)
    loaded = load(path)
    assert loaded.format == output_type
    assert_same_records(recording.records, loaded.records)


def test_perf_script_round_trip_keeps_regions(tmp_path, recording):
    """perf_script keeps end times in microseconds only, and no start times."""
    save(recording, tmp_path / "out", "perf_script")
    loaded = load(tmp_path / "out")
    assert loaded.format == "perf_script"
    assert_same_records(recording.records, loaded.records, times=False)
    for ra, rb in zip(recording.records, loaded.records):
        assert np.all(np.abs(ra.end_ns - rb.end_ns) <= 1000)
        assert np.array_equal(rb.start_ns[1:], rb.end_ns[:-1])


def test_perf_script_one_snapshot_gets_fake_trailer(tmp_path):
    rec = synth.stairs(str(tmp_path / "one"), nr_snapshots=1, output_type="perf_script")
    lines = (tmp_path / "one").read_text().splitlines()
    assert lines[-1].endswith("damon:damon_aggregated: target_id=3 nr_regions=1 0-0: -1 -1")
    loaded = load(tmp_path / "one")
    assert loaded.records[0].nr_snapshots == 1
    assert loaded.records[0].nr_regions == rec.records[0].nr_regions
    # the start time is recovered from the trailer's distance
    assert loaded.records[0].start_ns[0] == pytest.approx(rec.records[0].start_ns[0], abs=2000)


def test_upstream_recording_reads():
    recording = load(UPSTREAM_RECORD)
    record = recording.records[0]
    assert recording.format == "json_compressed"
    assert (record.nr_snapshots, record.nr_regions) == (543, 9773)
    assert record.target_id == 18446623438842320000
    assert record.intervals is None
    assert np.all(record.ages == AGE_UNKNOWN)   # "aggr_intervals": null
    assert int(record.starts[0]) == 94827419009024   # "94,827,419,009,024"


def test_fast_and_generic_json_paths_agree(tmp_path):
    """The fast path (regions cut out and vectorised) must give what
    json.loads gives, on damo's files and on ours."""
    synth.stairs(str(tmp_path / "ours"), nr_targets=2, gaps=True)
    for path in (UPSTREAM_RECORD, str(tmp_path / "ours")):
        fast = json_format.read(lambda: files._zlib_chunks(path))
        text = zlib.decompress(open(path, "rb").read())
        generic = json_format._records(json.loads(text), None)
        assert_same_records(fast, generic)
        _, regions = json_format._cut_regions(files._zlib_chunks(path))
        assert regions, "the fast path did not apply"


def write_json(path, records, compress=True):
    text = json.dumps(records, indent=4).encode()
    path.write_bytes(zlib.compress(text) if compress else text)
    return str(path)


def region(start, end, samples=1, aggrs=2, **extra):
    return dict({"start": start, "end": end, "nr_accesses": {"samples": samples, "percent": None},
                 "age": {"usec": None, "aggr_intervals": aggrs}}, **extra)


def test_numbers_in_every_form(tmp_path):
    """ints or strings, thousands separators, human sizes and times, nulls."""
    records = [{
        "target_id": None,
        "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
        "snapshots": [{
            "start_time": "16 m 40 s", "end_time": "16 m 40 s 100 ms",
            "regions": [region("4,096", "8 KiB", samples=3, aggrs="1,000",
                               sz_filter_passed="1.5 KiB"),
                        region(8192, "12288", samples=None, aggrs=None,
                               nr_accesses={"samples": None, "percent": "50 %"})],
            "total_bytes": None, "damos_stats": None,
        }],
    }]
    records[0]["snapshots"][0]["regions"][1]["age"]["usec"] = "300 ms"
    rec = load(write_json(tmp_path / "f", records)).records[0]
    assert rec.intervals.sample_us == 5000 and rec.intervals.aggr_us == 100000
    assert (rec.start_ns[0], rec.end_ns[0]) == (1000 * 10**9, 1000 * 10**9 + 10**8)
    assert rec.starts.tolist() == [4096, 8192] and rec.ends.tolist() == [8192, 12288]
    assert rec.nr_accesses.tolist() == [3, 10]      # 50 % of 20 samples
    assert rec.ages.tolist() == [1000, 3]           # 300 ms / 100 ms
    assert rec.sz_filter_passed.tolist() == [1536, 0]


def test_plain_json_and_optional_fields(tmp_path):
    records = [{"target_id": 1, "snapshots": [
        {"start_time": 1, "end_time": 2, "regions": [region(0, 4096)]}]}]
    recording = load(write_json(tmp_path / "j.json", records, compress=False))
    assert recording.format == "json"
    rec = recording.records[0]
    assert (rec.kdamond_idx, rec.context_idx, rec.scheme_idx) == (0, 0, None)
    assert rec.data_source == "unknown" and rec.scheme_filters == []


def test_perf_script_grammar(tmp_path):
    text = "\n".join([
        "# a comment line",
        "kdamond.0  4452 [000] 82877.315633: damon:damon_aggregated: target_id=7 nr_regions=2 "
        "4096-8192: 3 5",
        "kdamond.0  4452 [000] 82877.315633: damon:damon_aggregated: target_id=7 nr_regions=2 "
        "8192-16384: 0 9",
        "kdamond.0-4452 [001] ..... 82877.415633: damon_monitor_intervals_tune: sample_us=8000",
        "kdamond.0-4452 [001] ..... 82877.415633: damon_aggregated: target_id=7 nr_regions=1 "
        "4096-16384: 2 1",
        "kdamond.0-4452 [001] 82877.515633: damos_before_apply: ctx_idx=0 scheme_idx=0 "
        "target_idx=7 nr_regions=1 4096-16384: 1 2",
        "perf 1 [000] 82877.6: sched:sched_switch: prev_comm=x",
    ])
    (tmp_path / "p").write_text(text + "\n")
    rec = load(tmp_path / "p").records[0]
    assert rec.target_id == 7 and rec.intervals is None
    assert rec.nr_regions_per_snapshot().tolist() == [2, 1, 1]
    assert rec.end_ns.tolist() == [82877315633000, 82877415633000, 82877515633000]
    assert rec.start_ns[1] == rec.end_ns[0]
    assert rec.sample_interval_us[1] == 8000
    assert rec.nr_accesses.tolist() == [3, 0, 2, 1] and rec.ages.tolist() == [5, 9, 1, 2]


def test_sniffing():
    assert sniff(b"\x89DAMOREC....") == "native"
    assert sniff(zlib.compress(b"[]")) == "json_compressed"
    assert sniff(b"  \n[\n") == "json" and sniff(b"{") == "json"
    assert sniff(b"kdamond.0 1 [0] 1.0: damon:damon_aggregated: ...") == "perf_script"
    assert sniff(b"\x00\x01\x02garbage") is None


def test_writer_interface(tmp_path):
    path = tmp_path / "damon.data"
    path.write_bytes(b"previous")
    writer = RecordingWriter(str(path), output_type="json_compressed", permission=0o640)
    starts = np.array([4096, 8192], dtype=np.uint64)
    for i in range(3):
        writer.add_snapshot(0, 0, 42, i * 100, i * 100 + 100, starts, starts + 4096,
                            np.array([1, i]), np.array([i, 0]), intervals=synth.INTERVALS,
                            sample_interval_us=5000 + i, damos_stats={"nr_tried": i})
    writer.add_snapshot(0, 1, 43, 0, 100, starts, starts + 10, np.array([2, 2]),
                        np.array([0, 0]), scheme_idx=1)
    writer.metadata["machine"] = {"cpus": 2}
    recording = writer.commit()
    assert path.with_name("damon.data.old").read_bytes() == b"previous"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert [r.key() for r in recording.records] == [(0, 0, None, 42), (0, 1, 1, 43)]
    loaded = load(path).records
    assert_same_records(recording.records, loaded)
    assert loaded[0].sample_interval_us.tolist() == [5000, 5001, 5002]
    assert loaded[0].damos_stats[2] == {"nr_tried": 2}
    with pytest.raises(RuntimeError):
        writer.add_snapshot(0, 0, 42, 0, 1, starts, starts, starts, starts)


def test_writer_abort_leaves_no_file(tmp_path):
    writer = RecordingWriter(str(tmp_path / "x.data"), output_type="native")
    writer.add_snapshot(0, 0, 1, 0, 1, [0], [4096], [1], [0])
    writer.abort()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("output_type", OUTPUT_TYPES)
def test_writer_all_output_types(tmp_path, output_type):
    rec = synth.stairs(str(tmp_path / "r"), nr_snapshots=4, output_type=output_type)
    assert load(tmp_path / "r").records[0].nr_regions == rec.records[0].nr_regions


def test_native_keeps_metadata_arrays(tmp_path):
    writer = RecordingWriter(str(tmp_path / "n"), output_type="native")
    writer.add_snapshot(0, 0, 1, 0, 1, [0], [4096], [1], [0])
    writer.metadata.update({"tiers": {"dram_bytes": np.arange(5)}, "note": "x"})
    writer.commit()
    loaded = load(tmp_path / "n")
    assert loaded.metadata["note"] == "x"
    assert loaded.metadata["tiers"]["dram_bytes"].tolist() == [0, 1, 2, 3, 4]


def test_save_rejects_unknown_type(tmp_path, recording):
    with pytest.raises(DamoError):
        save(recording, tmp_path / "x", "pickle")


# ------------------------------------------------------------ every field, every format

FIELDS = ("kdamond_idx", "context_idx", "scheme_idx", "target_id", "intervals",
          "scheme_filters", "data_source", "start_ns", "end_ns", "region_offsets", "starts",
          "ends", "nr_accesses", "ages", "sample_interval_us", "total_bytes", "damos_stats",
          "sz_filter_passed")


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and a.dtype.kind == b.dtype.kind and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b


def assert_every_field(a, b, fields=FIELDS):
    assert len(a) == len(b)
    for i, (ra, rb) in enumerate(zip(a, b)):
        for name in fields:
            assert _same(getattr(ra, name), getattr(rb, name)), (i, name, getattr(ra, name),
                                                                 getattr(rb, name))


def full_recording():
    """Records with every field set (damo's JSON always writes total_bytes:
    the sum of the regions where unknown), a monitoring record with tuned intervals
    (per-snapshot sampling intervals, total bytes) and a DAMOS tried-regions
    record (scheme index, filters, per-snapshot stats, filter-passed sizes)."""
    from damo.records import Intervals, Record, Recording
    goal = {"access_bp": 400, "aggrs": 3, "min_sample_us": 1000, "max_sample_us": 100000}
    mon = Record(
        42, [1_000_000_000, 1_100_000_000, 1_200_000_000],
        [1_100_000_000, 1_200_000_000, 1_300_000_000], [0, 2, 5, 6],
        [4096, 8192, 4096, 8192, 16384, 4096], [8192, 16384, 8192, 16384, 20480, 20480],
        [3, 0, 7, 1, 0, 20], [2, 5, 0, 6, 1, AGE_UNKNOWN], kdamond_idx=0, context_idx=0,
        intervals=Intervals(5000, 100000, 1000000, goal), data_source="vaddr",
        sample_interval_us=[5000, 4000, np.nan], total_bytes=[12288, 16384, 65536])
    stats = {"nr_tried": 7, "sz_tried": 28672, "nr_applied": 3, "sz_applied": 12288,
             "sz_ops_filter_passed": 8192, "qt_exceeds": 1, "nr_snapshots": 2}
    tried = Record(
        43, [2_000_000_000, 2_100_000_000], [2_100_000_000, 2_200_000_000], [0, 2, 3],
        [1 << 32, (1 << 32) + 8192, 1 << 32], [(1 << 32) + 8192, (1 << 32) + 65536,
                                               (1 << 32) + 4096],
        [0, 1, 0], [10, 11, 12], kdamond_idx=1, context_idx=2, scheme_idx=1,
        intervals=Intervals(10000, 200000, 2000000), data_source="paddr",
        scheme_filters=[{"filter_type": "anon", "matching": True, "allow": False}],
        damos_stats=[stats, dict(stats, nr_tried=9, nr_snapshots=3)],
        sz_filter_passed=[4096, 0, 4096], total_bytes=[1 << 30, 1 << 30])
    return Recording([mon, tried], metadata={"machine": {"cpus": 2}, "note": "x"})


@pytest.mark.parametrize("output_type", ["json_compressed", "json", "native"])
def test_round_trip_keeps_every_field(tmp_path, output_type):
    recording = full_recording()
    save(recording, tmp_path / "f", output_type)
    loaded = load(tmp_path / "f")
    assert loaded.format == output_type
    assert_every_field(recording.records, loaded.records)
    if output_type == "native":
        assert loaded.metadata == recording.metadata
    # and again: what was read writes back the same
    save(loaded, tmp_path / "g", output_type)
    assert_every_field(recording.records, load(tmp_path / "g").records)


def test_perf_script_round_trip_keeps_what_a_trace_has(tmp_path):
    """damon_aggregated and damos_before_apply events carry the target, regions,
    accesses and ages, and end times in microseconds; nothing else (damo, too,
    reads a damos_before_apply event as a region of its target, whatever the
    scheme)."""
    recording = full_recording()
    save(recording, tmp_path / "p", "perf_script")
    loaded = load(tmp_path / "p").records
    assert_every_field(recording.records, loaded,
                       ("target_id", "region_offsets", "starts", "ends",
                        "nr_accesses", "ages"))
    for ra, rb in zip(recording.records, loaded):
        assert np.array_equal(ra.end_ns // 1000, rb.end_ns // 1000)


def test_perf_data_event_formats_are_the_kernels_layouts():
    """The tracepoints' format descriptions perf decodes samples with: the C
    struct of include/trace/events/damon.h after the 8-byte common header,
    each field aligned to its size, the record padded to 8 bytes."""
    from damo.records import perf_data

    def fields(event):
        text = event.format.decode()
        return re.findall(r"\tfield:([^;]+);\toffset:(\d+);\tsize:(\d+);\tsigned:(\d);", text)

    agg = perf_data.EVENTS["damon_aggregated"]
    assert agg.id == 1 and agg.name == "damon_aggregated"
    assert fields(agg)[4:] == [
        ("unsigned long target_id", "8", "8", "0"), ("unsigned int nr_regions", "16", "4", "0"),
        ("unsigned long start", "24", "8", "0"), ("unsigned long end", "32", "8", "0"),
        ("unsigned int nr_accesses", "40", "4", "0"), ("unsigned int age", "44", "4", "0")]
    assert fields(agg)[:4] == [("unsigned short common_type", "0", "2", "0"),
                               ("unsigned char common_flags", "2", "1", "0"),
                               ("unsigned char common_preempt_count", "3", "1", "0"),
                               ("int common_pid", "4", "4", "1")]
    assert agg.struct.size == 48
    raw = agg.struct.pack(1, 0, 0, 7, 3, 2, 0x1000, 0x2000, 5, 9)
    assert struct.unpack_from("<QI", raw, 8) == (3, 2)
    assert struct.unpack_from("<QQII", raw, 24) == (0x1000, 0x2000, 5, 9)
    assert agg.format.decode().startswith("name: damon_aggregated\nID: 1\nformat:\n")
    assert agg.format.decode().endswith(
        '\nprint fmt: "target_id=%lu nr_regions=%u %lu-%lu: %u %u", REC->target_id, '
        'REC->nr_regions, REC->start, REC->end, REC->nr_accesses, REC->age\n')
    tune = perf_data.EVENTS["damon_monitor_intervals_tune"]
    assert fields(tune)[4:] == [("unsigned long sample_us", "8", "8", "0")]
    assert tune.struct.size == 16 and tune.id == 2
    before = perf_data.EVENTS["damos_before_apply"]
    assert [f[1] for f in fields(before)[4:]] == ["8", "12", "16", "24", "32", "40", "44",
                                                  "48"]
    assert before.struct.size == 56 and before.id == 3
    # a layout that needs padding inside and at the end
    odd = perf_data._Event(9, "odd", [("a", "unsigned int", "I"), ("b", "unsigned long", "Q"),
                                      ("c", "unsigned char", "B")], '"a=%u", REC->a')
    assert fields(odd)[4:] == [("unsigned int a", "8", "4", "0"),
                               ("unsigned long b", "16", "8", "0"),
                               ("unsigned char c", "24", "1", "0")]
    assert odd.struct.size == 32 and odd.fields[1] == ("b", "unsigned long", "Q")
