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


def test_pattern_options_are_checked():
    p = ca.pattern_from_options({"access_rate": ("50%", "100"), "sz_region": ("4K", "1 MiB"),
                                 "age": ("5ms", "max"), "address": [("0x1000", "8192")],
                                 "hottest": 10.0})
    assert p.access_rate == (50, 100) and p.sz_region == (4096, 1 << 20)
    assert p.age[0] == 5000 and p.addresses == [(0x1000, 0x2000)] and p.hottest == 10.0
    for opts, message in (({"access_rate": ("9x", "1")}, "--access_rate: '9x 1' is not a "
                                                         "valid range"),
                          ({"sz_region": ("2M", "1M")}, "--sz_region: the minimum is above"),
                          ({"address": [("8192", "4096")]}, "--address: the range 8192 4096 "
                                                            "is empty")):
        with pytest.raises(DamoError, match=message) as e:
            ca.pattern_from_options(opts)
        assert e.value.exit_code == 2


def test_bad_code_files_are_one_error(tmp_path, made):
    bad = tmp_path / "x.code"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DamoError, match="not a code attribution file"):
        ca.load(str(bad))
    with pytest.raises(DamoError, match="no code attribution beside the recording"):
        ca.load(str(tmp_path / "none.code"))
