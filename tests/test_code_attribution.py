"""Which functions touch the memory matching an access pattern, on a
hand-made recording and code file whose answer is known."""
import numpy as np
import pytest

from damo import records
from damo.errors import DamoError
from damo.reports import code_attribution as ca

INTERVALS = {"sample_us": 100, "aggr_us": 1000, "ops_update_us": 10000}
MB = 1 << 20
BASE = 0x10000000


@pytest.fixture
def made(tmp_path):
    """Four snapshots of three 1 MiB regions: region 0 hot then cold,
    region 2 cold then hot, region 1 lukewarm; function 0 ('sweep') touches
    region 0, function 1 ('reads') region 2, function 2 ('misc') region 1."""
    path = str(tmp_path / "r.data")
    w = records.RecordingWriter(path)
    starts = np.array([BASE, BASE + MB, BASE + 2 * MB], dtype=np.uint64)
    ends = starts + np.uint64(MB)
    hot = [[10, 2, 0], [10, 2, 0], [0, 2, 10], [0, 2, 10]]
    for s, nr in enumerate(hot):
        w.add_snapshot(0, 0, 0, s * 1_000_000, (s + 1) * 1_000_000, starts, ends,
                       np.array(nr), np.array([s, s, s]), intervals=INTERVALS)
    w.commit()
    rows = []        # (bucket, func, page, count)
    for b in range(4):
        first, second = (0, 2) if b < 2 else (2, 0)
        for p in range(0, 256, 16):
            rows.append((b, 0 if first == 0 else 1, (BASE >> 12) + first * 256 + p, 100))
            rows.append((b, 2, (BASE >> 12) + 256 + p, 5))
    b, f, p, c = (np.array(x) for x in zip(*rows))
    ca.save(path + ca.SUFFIX, ca.build((1_000_000.0, b, f, p, c), ["sweep", "reads", "misc"],
                                       ["prog", "prog", "libc.so.6"]))
    return path


def result(path, **pattern):
    rec, = records.load(path).records
    return ca.attribute(rec, ca.load(path + ca.SUFFIX), ca.AccessPattern(**pattern))


def test_all_memory_counts_every_access(made):
    r = result(made)
    assert r.total == r.matched == 4 * 16 * 105
    assert [(n, c) for n, _, c in r.rows] == [("sweep", 3200), ("reads", 3200), ("misc", 320)]


def test_hottest_memory_is_each_snapshots_hottest_region(made):
    r = result(made, hottest=30)
    assert [(n, c) for n, _, c in r.rows] == [("sweep", 3200), ("reads", 3200)]
    assert r.snapshots_matched == 4
    lines = ca.report_lines(r)
    assert lines[0] == "# functions accessing the hottest 30% of memory"
    assert lines[3].split()[-2:] == ["sweep", "(prog)"]


def test_access_rate_and_address_filters(made):
    # 20% of the maximum (10 samples): only the lukewarm region
    assert [n for n, _, _ in result(made, access_rate=(15, 25)).rows] == ["misc"]
    # region 2's first half, whatever its heat
    r = result(made, addresses=[(BASE + 2 * MB, BASE + 2 * MB + MB // 2)])
    assert [(n, c) for n, _, c in r.rows] == [("reads", 1600)]
    assert result(made, access_rate=(100, 100)).rows == [("sweep", "prog", 3200),
                                                         ("reads", "prog", 3200)]


def test_pattern_options_are_damos_filters():
    p = ca.pattern_from_options({"access_rate": ("50%", "100"), "sz_region": ("4K", "1 MiB"),
                                 "age": ("5ms", "max"), "address": [("4096", "8192")],
                                 "snapshot_idx": [("1", "2"), ("4", "5")], "temperature": [(5, 9)],
                                 "hottest": 10.0})
    f = p.damo_filter
    assert f.access_rate == (50, 100) and f.sz_bytes == (4096, 1 << 20)
    assert f.age_us[0] == 5000 and f.address_ranges == [[0x1000, 0x2000]]
    assert f.snapshot_index_ranges == [[1, 2], [4, 5]] and f.temperature_ranges == [[5, 9]]
    assert p.hottest == 10.0
    assert p.describe() == ("the hottest 10% of memory, memory of --sz_region 4K 1 MiB, "
                            "--access_rate 50% 100, --age 5ms max, --address 4096 8192, "
                            "--snapshot_idx 1 2, --snapshot_idx 4 5, --temperature 5 9")
    assert ca.pattern_from_options({"hottest": None}).damo_filter is None
    # damo's errors (exit 1, as its 'wrong --X input' messages)
    for opts, message in (({"access_rate": ("9x", "1")}, "--access_rate: '9x' is not a "
                                                         "valid value"),
                          ({"sz_snapshot": [("1M", "2M"), ("1500K", "3M")]},
                           "--sz_snapshot: overlapping ranges"),
                          ({"address": [("8192", "4096")]}, "--address: start > end")):
        with pytest.raises(DamoError, match=message) as e:
            ca.pattern_from_options(opts)
        assert e.value.exit_code == 1


def _damo(**options):
    return ca.pattern_from_options(options)


def test_damo_filters_by_hand(made):
    """made: snapshots s = 0..3 of 1 ms, 3 MiB each; sweep touches region 0
    in buckets 0-1, reads region 2 in buckets 2-3 (1600 accesses a bucket),
    misc region 1 in every bucket (80 a bucket)."""
    rec, = records.load(made).records
    code = ca.load(made + ca.SUFFIX)

    def rows(**options):
        r = ca.attribute(rec, code, _damo(**options))
        return [(n, c) for n, _, c in r.rows], r.snapshots_matched

    assert rows(snapshot_idx=[("2", "3")]) == ([("reads", 3200), ("misc", 160)], 2)
    assert rows(snapshot_idx=[("0", "0"), ("3", "3")]) == (
        [("sweep", 1600), ("reads", 1600), ("misc", 160)], 2)
    # snapshot s spans [s, s + 1) ms: damo keeps those inside a range
    assert rows(snapshot_time=[("1ms", "3ms")]) == ([("sweep", 1600), ("reads", 1600),
                                                     ("misc", 160)], 2)
    # every snapshot holds 3 MiB; the pattern does not change that total
    assert rows(sz_snapshot=[("0", "3M")], access_rate=("100", "100")) == (
        [("sweep", 3200), ("reads", 3200)], 4)
    assert rows(sz_snapshot=[("0", "2M")]) == ([], 0)
    # the address filter sets the total to what is left: 1 MiB, region 1
    assert rows(address=[(str(BASE + MB), str(BASE + 2 * MB))],
                sz_snapshot=[("1M", "1M")]) == ([("misc", 320)], 4)
    # temperature, damo's weights (0, 100, 100): rate% * 100 + age_us * 100,
    # negated when not accessed.  Region 0 of snapshot 0: 100% and age 0
    # -> 10000; of snapshot 1: 100% and 1 ms -> 110000.
    assert rows(temperature=[(10000, 10000)]) == ([("sweep", 1600)], 1)
    # misc's region: 20%, ages 0..3 ms -> 2000, 102000, 202000, 302000
    assert rows(temperature=[(10000, 110000)]) == ([("sweep", 3200), ("misc", 80)], 2)
    assert rows(temperature=[(2000, 2000), (302000, 302000)]) == ([("misc", 160)], 2)
    # the hottest share is of the whole snapshot's memory, then the filters
    r = ca.attribute(rec, code, ca.AccessPattern(
        hottest=30, damo_filter=_damo(snapshot_idx=[("0", "0")]).damo_filter))
    assert [(n, c) for n, _, c in r.rows] == [("sweep", 1600)]
    # the accesses and snapshots counted in all are still the recording's
    r = ca.attribute(rec, code, _damo(snapshot_idx=[("2", "3")]))
    assert (r.total, r.snapshots) == (4 * 16 * 105, 4)


def test_bad_code_files_are_one_error(tmp_path, made):
    bad = tmp_path / "x.code"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DamoError, match="not a code attribution file"):
        ca.load(str(bad))
    with pytest.raises(DamoError, match="no code attribution beside the recording"):
        ca.load(str(tmp_path / "none.code"))


# ------------------------------------------------------------ each rule by hand

K = 1024
# one snapshot: (offset, size, nr_accesses, age); 10 samples per aggregation
REGIONS = [(0, 4 * K, 10, 3), (4 * K, 8 * K, 5, 0), (12 * K, 16 * K, 2, 7),
           (28 * K, 32 * K, 0, 20), (60 * K, 4 * K, 5, 9)]


@pytest.fixture
def one_snapshot(tmp_path):
    path = str(tmp_path / "one.data")
    w = records.RecordingWriter(path)
    starts = np.array([BASE + o for o, _, _, _ in REGIONS], dtype=np.uint64)
    ends = np.array([BASE + o + sz for o, sz, _, _ in REGIONS], dtype=np.uint64)
    w.add_snapshot(0, 0, 0, 0, 1_000_000, starts, ends,
                   np.array([nr for *_, nr, _ in REGIONS]),
                   np.array([age for *_, age in REGIONS]), intervals=INTERVALS)
    w.commit()
    rec, = records.load(path).records
    return rec


def regions_of(rec, **pattern):
    s, e = ca.matching_regions(rec, 0, ca.AccessPattern(**pattern))
    return [(int(a) - BASE, int(b) - int(a)) for a, b in zip(s, e)]


def picked(*indexes):
    return [REGIONS[i][:2] for i in indexes]


def test_matching_regions_rule_by_rule(one_snapshot):
    rec = one_snapshot
    assert regions_of(rec) == picked(0, 1, 2, 3, 4)
    # access rate: nr_accesses * 100 / (1000 us / 100 us), both ends inclusive
    assert regions_of(rec, access_rate=(50, 50)) == picked(1, 4)
    assert regions_of(rec, access_rate=(20, 50)) == picked(1, 2, 4)
    assert regions_of(rec, access_rate=(50.5, 100)) == picked(0)
    assert regions_of(rec, access_rate=(0, 0)) == picked(3)
    # size, inclusive
    assert regions_of(rec, sz_region=(8 * K, 16 * K)) == picked(1, 2)
    assert regions_of(rec, sz_region=(8 * K + 1, 16 * K - 1)) == []
    # age in aggregation intervals (1 ms) against microseconds, inclusive
    assert regions_of(rec, age=(3000, 9000)) == picked(0, 2, 4)
    assert regions_of(rec, age=(3001, 8999)) == picked(2)
    # address ranges: the regions overlapping them, clipped to them, by start
    assert regions_of(rec, addresses=[(BASE + 30 * K, BASE + 31 * K),
                                      (BASE + 2 * K, BASE + 6 * K)]) == [
        (2 * K, 2 * K), (4 * K, 2 * K), (30 * K, K)]
    assert regions_of(rec, addresses=[(BASE + 4 * K, BASE + 12 * K)]) == picked(1)  # [ )
    # filters combine
    assert regions_of(rec, access_rate=(50, 100), sz_region=(0, 4 * K)) == picked(0, 4)


def test_hottest_takes_regions_by_rate_then_age_until_the_share(one_snapshot):
    rec = one_snapshot
    # 64 KiB in all.  By rate, then age: 0 (10), 4 (5, age 9), 1 (5, age 0), 2, 3.
    assert regions_of(rec, hottest=5) == picked(0)              # 3.2 KiB: one region
    assert regions_of(rec, hottest=6.25) == picked(0)           # exactly 4 KiB
    assert regions_of(rec, hottest=6.26) == picked(0, 4)
    assert regions_of(rec, hottest=20) == picked(0, 1, 4)       # 12.8 KiB: 4 + 4 + 8
    assert regions_of(rec, hottest=100) == picked(0, 1, 2, 4)   # never the idle one
    assert regions_of(rec, hottest=100, sz_region=(16 * K, 64 * K)) == picked(2)


def test_max_samples_without_intervals_is_the_highest_count(tmp_path):
    path = str(tmp_path / "noiv.data")
    w = records.RecordingWriter(path)
    starts = np.array([BASE, BASE + 4 * K], dtype=np.uint64)
    w.add_snapshot(0, 0, 0, 0, 1_000_000, starts, starts + np.uint64(4 * K),
                   np.array([8, 4]), np.array([1, 1]))
    w.commit()
    rec, = records.load(path).records
    assert rec.intervals is None
    # 4 of at most 8 samples: 50%; no intervals, so ages are not filtered
    s, _ = ca.matching_regions(rec, 0, ca.AccessPattern(access_rate=(50, 50), age=(7, 8)))
    assert [int(a) for a in s] == [BASE + 4 * K]


def test_attribute_counts_only_accesses_inside_snapshots(tmp_path):
    """Snapshots [0, 1) and [2, 3) ms; a bucket (1 ms) in the gap and one
    after the last snapshot count nowhere, not even in the total."""
    path = str(tmp_path / "gap.data")
    w = records.RecordingWriter(path)
    starts = np.array([BASE, BASE + MB], dtype=np.uint64)
    for t0, nr in ((0, [10, 0]), (2_000_000, [0, 10])):
        w.add_snapshot(0, 0, 0, t0, t0 + 1_000_000, starts, starts + np.uint64(MB),
                       np.array(nr), np.array([0, 0]), intervals=INTERVALS)
    w.commit()
    rec, = records.load(path).records
    page0, page1 = BASE >> 12, (BASE + MB) >> 12
    # (bucket, func, page, count)
    rows = [(0, 0, page0, 7), (0, 1, page1, 3), (1, 0, page0, 1000), (2, 1, page1, 11),
            (2, 0, page0, 2), (3, 1, page1, 1000)]
    b, f, p, c = (np.array(x) for x in zip(*rows))
    code = ca.CodeAccesses(ca.build((1_000_000.0, b, f, p, c), ["f0", "f1"], ["o", "o"]))
    r = ca.attribute(rec, code, ca.AccessPattern(access_rate=(100, 100)))
    assert (r.total, r.matched) == (7 + 3 + 11 + 2, 7 + 11)
    assert r.rows == [("f1", "o", 11), ("f0", "o", 7)]
    assert (r.snapshots_matched, r.snapshots) == (2, 2)
    r = ca.attribute(rec, code, ca.AccessPattern(addresses=[(BASE, BASE + MB)]))
    assert r.rows == [("f0", "o", 9)] and r.snapshots_matched == 2
    r = ca.attribute(rec, code, ca.AccessPattern(addresses=[(0, 4096)]))
    assert r.rows == [] and (r.matched, r.snapshots_matched) == (0, 0)


def test_describe_names_every_part():
    assert ca.AccessPattern().describe() == "all memory"
    p = ca.AccessPattern(hottest=12.5, access_rate=(5, 50.5), sz_region=(4096, 1 << 20),
                         age=(5000, 2_000_000), addresses=[(0x1000, 0x2000), (0x3000, 0x4000)])
    assert p.describe() == ("the hottest 12.5% of memory, access rate 5%-50.5%, "
                            "region size 4.000 KiB-1024.000 KiB, age 5 ms-2 s, "
                            "addresses 0x1000-0x2000, 0x3000-0x4000")
    assert ca.AccessPattern(age=(0, 1000)).describe() == "age 0 ns-1 ms"


def test_report_lines_by_hand():
    rows = [("a", "x", 60), ("b", "y", 30), ("c", "z", 6), ("d", "w", 4)]
    r = ca.Attribution(rows, 100, 400, 2, 3, ca.AccessPattern(hottest=10))
    header = ["# functions accessing the hottest 10% of memory",
              "# 100 of 400 accesses (25.0%) hit it, in 2 of 3 snapshots",
              "#  share     accesses  function (object)"]
    assert ca.report_lines(r, top=2) == header + [
        "  60.00%           60  a (x)", "  30.00%           30  b (y)",
        "  10.00%           10  (2 more functions)"]
    assert ca.report_lines(r, top=4) == header + [
        "  60.00%           60  a (x)", "  30.00%           30  b (y)",
        "   6.00%            6  c (z)", "   4.00%            4  d (w)"]
    assert ca.report_lines(r, top=0) == ca.report_lines(r, top=None) == ca.report_lines(r, 4)
    empty = ca.Attribution([], 0, 0, 0, 5, ca.AccessPattern())
    assert ca.report_lines(empty) == [
        "# functions accessing all memory",
        "# 0 of 0 accesses (0.0%) hit it, in 0 of 5 snapshots",
        "# no function accessed matching memory"]


def test_code_file_round_trip_and_column_types(tmp_path):
    data = ca.build((250.0, [0, 3, 3], [1, 0, 1], [5, 6, 2**40], [1, 2, 2**33]),
                    ["main", "helper"], ["prog", "libc.so.6"])
    assert int(data["format"]) == 1 and float(data["bucket_ns"]) == 250.0
    assert data["bucket"].dtype == np.uint32 and data["func"].dtype == np.int32
    assert data["page"].dtype == np.uint64 and data["count"].dtype == np.uint64  # > 2^32
    assert ca.build((1.0, [2**32], [0], [0], [1]), ["f"], ["o"])["bucket"].dtype == np.int64
    assert ca.build((1.0, [1], [0], [0], [2**32 - 1]), ["f"], ["o"])["count"].dtype == np.uint32
    path = str(tmp_path / "c.code")
    ca.save(path, data)
    code = ca.load(path)
    assert code.path == path and code.bucket_ns == 250.0
    assert code.bucket.tolist() == [0, 3, 3] and code.func.tolist() == [1, 0, 1]
    assert code.page.tolist() == [5, 6, 2**40] and code.count.tolist() == [1, 2, 2**33]
    assert code.names == ["main", "helper"] and code.objects == ["prog", "libc.so.6"]
    import os
    import stat
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_corrupt_code_contents_are_named():
    good = ca.build((1.0, [0, 1], [0, 1], [5, 6], [1, 2]), ["f", "g"], ["o", "o"])

    def error(**changes):
        data = dict(good, **changes)
        for k in [k for k, v in changes.items() if v is None]:
            del data[k]
        with pytest.raises(DamoError) as e:
            ca.CodeAccesses(data, "p.code")
        return str(e.value)
    assert error(format=np.int64(2)) == "p.code: unsupported code attribution format 2"
    assert error(page=None) == "p.code: not a code attribution file (no 'page')"
    corrupt = "p.code: corrupt code attribution file"
    assert error(count=np.array([1], dtype=np.uint64)) == corrupt
    assert error(func_objects=np.array(["o"])) == corrupt
    assert error(func=np.array([0, 2], dtype=np.int32)) == corrupt
    assert error(func=np.array([-1, 0], dtype=np.int32)) == corrupt
    assert error(bucket_ns=np.float64(0)) == corrupt
    assert ca.CodeAccesses(dict(good, func=np.array([1, 1], dtype=np.int32))).func.tolist() \
        == [1, 1]


def test_profile_section_texts(made, tmp_path):
    from types import SimpleNamespace
    rec = records.load(made)
    texts = lambda parts: [p.plain if hasattr(p, "plain") else p for p in parts]  # noqa: E731
    # no code file: nothing, or a line when its options were asked for
    plain = str(tmp_path / "plain.data")
    assert ca.profile_section(SimpleNamespace(path=plain, options={}, recording=rec)) is None
    assert texts(ca.profile_section(SimpleNamespace(path=plain, options={"hottest": 5.0},
                                                    recording=rec))) == [
        "Functions: %s has no code attribution (%s.code): only traced programs "
        "(damo record -- CMD, --trace) have one" % (plain, plain)]
    assert texts(ca.profile_section(SimpleNamespace(path=made, options={}, recording=None))) \
        == ["Functions: %s has no access snapshots" % made]
    table, summary = ca.profile_section(SimpleNamespace(
        path=made, options={"nr_functions": 2}, recording=rec))
    assert summary.plain == "6,720 of 6,720 accesses (100.0%) hit it, in 4 of 4 snapshots"
    assert table.title == "Functions accessing all memory"
    cells = [[str(c) for c in col.cells] for col in table.columns]
    assert cells == [["sweep", "reads", "(1 more)"], ["prog", "prog", ""],
                     ["3,200", "3,200", "320"], ["47.6%", "47.6%", "4.8%"]]
    parts = ca.profile_section(SimpleNamespace(
        path=made, options={"address": [("0", "4096")]}, recording=rec))
    assert texts(parts) == ["Functions accessing memory of --address 0 4096: none",
                            "0 of 6,720 accesses (0.0%) hit it, in 0 of 4 snapshots"]
