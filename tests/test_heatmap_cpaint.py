"""``report heatmap``'s C painting (damo/reports/_cpaint.pyx) against the numpy
painting it stands in for (HeatMap._paint_batch and _fold, which the tests
of test_diff_access_heatmap and others hold to damo 3.4.3 itself).

Random recordings (random regions, ages, intervals, auto-tuned ones among
them, integer and fractional ranges, --df_passed, --sort_temperature, tiny
and huge values, products beyond 2^53) are painted both ways: the heats must
be the same bits, and a case numpy refuses must be refused the same way.
"""
import random

import numpy as np
import pytest

from damo.errors import DamoError
from damo.records.model import FormatError, Intervals, Record
from damo.reports import heatmap
from damo.reports.heatmap import HeatMap
from damo.reports.heatmap_reporter import sorted_by_temperature

_cpaint = pytest.importorskip("damo.reports._cpaint")


def _numpy_build(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(heatmap, "_cpaint", None)
        return HeatMap.build(*args, **kwargs)


def _outcome(build, *args, **kwargs):
    try:
        return build(*args, **kwargs).heats
    except (DamoError, OverflowError, ValueError) as e:
        return (type(e), str(e))


def _same(theirs, ours):
    """The same bits (NaN included), or the same refusal."""
    if isinstance(theirs, tuple) or isinstance(ours, tuple):
        return theirs == ours
    return theirs.shape == ours.shape and np.array_equal(theirs.view(np.int64),
                                                         ours.view(np.int64))


def _record(rng, t0, base, tid, intervals):
    """A record of random snapshots (overlapping, gapped or empty) and regions
    (empty, overlapping, unsorted, beyond 2^63), near time t0 and address base."""
    nr_snapshots = rng.randint(1, 12)
    scale = rng.choice([1, 1000, 10 ** 6, 10 ** 9])
    starts_ns, ends_ns, offsets = [], [], [0]
    starts, ends, samples, ages, passed = [], [], [], [], []
    t = t0
    big_samples = rng.random() < 0.3
    for _ in range(nr_snapshots):
        duration = rng.randint(0, 50) * scale + rng.randint(0, 999)
        starts_ns.append(t)
        ends_ns.append(t + duration)
        t = max(0, t + duration + rng.randint(-duration, 3 * duration + 1))
        for _ in range(rng.choice([0, 1, 3, 8, 20])):
            start = base + rng.randint(0, 64) * rng.choice([1, 4096, 1 << 30]) \
                + rng.randint(-5, 5)
            start = min(max(start, 0), (1 << 64) - 1)
            end = min(start + rng.choice([0, 1, rng.randint(1, 1 << 20),
                                          rng.randint(1, 1 << 36)]), (1 << 64) - 1)
            starts.append(start)
            ends.append(end)
            samples.append(rng.choice([0, 1, rng.randint(0, 20),
                                       rng.randint(0, 1 << 32) if big_samples else 3]))
            ages.append(rng.choice([0, 1, rng.randint(0, 100), rng.randint(0, 1 << 40)]))
            passed.append(rng.randint(0, end - start))
        offsets.append(len(starts))
    sample_interval_us = None
    if intervals is not None and intervals.tuning_enabled:
        sample_interval_us = [rng.choice([float("nan"), 5000.0, 0.5, 1e-300, 7.25])
                              for _ in range(nr_snapshots)]
    float_start = rng.random() < 0.2
    if float_start:
        starts_ns = [s + rng.random() for s in starts_ns]
        ends_ns = [max(e, int(s) + 1) for s, e in zip(starts_ns, ends_ns)]
    record = Record(tid, starts_ns, ends_ns, offsets, starts, ends, samples, ages,
                    intervals=intervals, sample_interval_us=sample_interval_us,
                    sz_filter_passed=passed if rng.random() < 0.8 else None)
    kind = rng.random()
    if kind < 0.15:
        # report accuracy's truth: fractional sample counts
        record.nr_accesses = record.nr_accesses * rng.choice([0.37, 1.5, 1e300])
    elif kind < 0.2:
        # a column the C loop does not read: numpy paints this record
        record.nr_accesses = record.nr_accesses.astype(np.float32)
    return record


def _intervals(rng):
    kind = rng.choice(["none", "plain", "float", "tuned"])
    if kind == "none":
        return None
    if kind == "plain":
        return Intervals(5000, 100000, 1000000)
    if kind == "float":
        return Intervals(rng.choice([5000.0, 0.75]), rng.choice([100000.5, 3.0]), 1000000)
    return Intervals(5000, 100000, 1000000,
                     {"access_bp": 400, "aggrs": 3, "min_sample_us": 5000,
                      "max_sample_us": 10000000})


def _range(rng, lo, hi, resol):
    """A map range about [lo, hi): whole numbers, or fractional ones as
    zooming and scrolling make."""
    size = max(hi - lo, resol)
    start = lo + rng.choice([0, 0, -size // 4, size // 3, rng.randint(-size, size)])
    end = start + max(resol, size + rng.choice([0, 0, size // 2, -size // 2]))
    if rng.random() < 0.35:
        ratio = rng.choice([0.9, 1.1, 0.1, -0.1, 0.81, 0.5])
        if rng.random() < 0.5:
            mid = int(start + (end - start) / 2)
            half = (end - start) * abs(ratio) / 2
            start, end = mid - half, mid + half
        else:
            start, end = start + (end - start) * ratio, end + (end - start) * ratio
    return start, end


def _case(seed):
    rng = random.Random(seed)
    intervals = _intervals(rng)
    base = rng.choice([0, 4096, 1 << 40, (1 << 62) + 17, (1 << 63) - (1 << 20),
                       (1 << 64) - (1 << 36) - 1])
    t0 = rng.choice([0, 10 ** 9, 10 ** 15, 1 << 61])
    records = []
    for tid in range(rng.choice([1, 1, 2])):
        records.append(_record(rng, t0, base, tid, intervals))
    time_resol, addr_resol = rng.randint(1, 40), rng.randint(1, 60)
    t_lo = min(float(r.start_ns[0]) for r in records)
    t_hi = max(float(r.end_ns[-1]) for r in records)
    a_lo = min(int(r.starts.min(initial=base)) for r in records)
    a_hi = max(int(r.ends.max(initial=base + 1)) for r in records)
    time_range = _range(rng, int(t_lo), int(t_hi) + 1, time_resol)
    addr_range = _range(rng, a_lo, a_hi, addr_resol)
    if rng.random() < 0.15:
        addr_range = (int(addr_range[0]), int(addr_range[0]) + rng.randint(addr_resol, 1 << 64))
    df_passed = rng.random() < 0.3
    if intervals is not None and rng.random() < 0.25 and \
            not any(isinstance(v, float) for v in addr_range):
        try:
            records = [sorted_by_temperature(r, [addr_range], [0, rng.choice([1.0, 2.0]),
                                                               rng.choice([1.0, 0.5])])
                       for r in records]
        except (DamoError, FormatError, OverflowError):
            pass        # what sorting refuses (a region wrapping past 2^64)
    return records, time_range, addr_range, (time_resol, addr_resol), df_passed


@pytest.mark.parametrize("seed", range(400))
def test_random_recordings_paint_the_same_bits(monkeypatch, seed):
    records, time_range, addr_range, resol, df_passed = _case(seed)
    theirs = _outcome(_numpy_build, monkeypatch, records, time_range, addr_range, resol,
                      df_passed=df_passed)
    ours = _outcome(HeatMap.build, records, time_range, addr_range, resol, df_passed=df_passed)
    assert _same(theirs, ours), (time_range, addr_range, resol, df_passed)


def test_the_random_cases_reach_what_they_are_for(monkeypatch):
    """The cases above paint with C (not only fall back), in integer and
    fractional address modes, with infinite and NaN heats, and with exact
    products beyond 2^53."""
    seen = set()
    exact = []
    real = heatmap.HeatMap._c_painter

    def watch(self):
        painter = real(self)
        if painter is not None:
            grid = painter.args[0].args
            seen.add("int" if grid[7] and grid[10] else "float")
        return painter
    monkeypatch.setattr(heatmap.HeatMap, "_c_painter", watch)
    for seed in range(400):
        records, time_range, addr_range, resol, df_passed = _case(seed)
        try:
            heats = HeatMap.build(records, time_range, addr_range, resol,
                                  df_passed=df_passed).heats
        except (DamoError, OverflowError, ValueError):
            seen.add("refused")
            continue
        painted = heats[~np.isnan(heats)]
        if len(painted):
            seen.add("painted")
        if np.any(np.isinf(painted)):
            seen.add("inf")
        if records[0].intervals is None and not df_passed and any(
                r.nr_accesses.dtype == np.int64 and r.nr_accesses.max(initial=0) > 1 << 20
                for r in records):
            exact.append(seed)
    assert {"int", "float", "painted", "inf", "refused"} <= seen, seen
    assert exact


def test_exact_products_are_rounded_as_python_rounds_them(monkeypatch):
    """samples x time x size beyond 2^53: damo's exact int product, rounded
    once (a float64 product rounds twice and differs in the last bit)."""
    # 2418525393 samples over 1273878287 ns: the partial product is beyond 2^53
    s, t, z = 2418525393, 1273878287, 122
    r = Record(1, [0], [t], [0, 2], [0, z], [z, z + 10 ** 6], [s, 3], [0, 0])
    args = ([r], (0, t), (0, z + 10 ** 6), (1, 1))
    ours = HeatMap.build(*args).heats
    assert _same(_numpy_build(monkeypatch, *args).heats, ours)
    P = float(t * (z + 10 ** 6))
    first = float(s * t * z)
    assert first != float(s) * float(t) * float(z)     # float64 products round twice
    expected = (float(3 * t * 10 ** 6) + (first + 0.0 * P) / P * P) / P
    assert ours.tolist() == [expected]


def test_many_batches_paint_as_one(monkeypatch):
    """More regions than a batch (numpy, in tiny batches of regions and
    contributions, against C in the default ones), NaN and infinite heats
    among them: a pixel NaN'd in one batch stays painted (damo keeps it)."""
    rng = random.Random(5)
    n = 30000
    starts = np.array([rng.randrange(0, 1 << 20) for _ in range(n)], dtype=np.uint64)
    ends = starts + np.array([rng.choice([0, 1, 4096, 1 << 16]) for _ in range(n)],
                             dtype=np.uint64)
    offsets = [0, 10000, 10000, 25000, n]
    start_ns = [0, 1000, 2000, 2500]
    end_ns = [1000, 1500, 3000, 4000]
    samples = [rng.randrange(21) for _ in range(n)]
    ages = [rng.randrange(3) for _ in range(n)]
    iv = Intervals(5000, 100000, 1000000, {"access_bp": 400, "aggrs": 3,
                                           "min_sample_us": 5000, "max_sample_us": 10 ** 7})
    r = Record(1, start_ns, end_ns, offsets, starts, ends, samples, ages, intervals=iv,
               sample_interval_us=[5000.0, float("nan"), 1e-300, 7.5])
    args = ([r], (0, 4000), (0, 1 << 20), (20, 30))
    ours = HeatMap.build(*args).heats
    assert np.isnan(ours).any() and np.isinf(ours).any() and np.isfinite(ours).any()
    monkeypatch.setattr(heatmap, "_BATCH_REGIONS", 777)
    monkeypatch.setattr(heatmap, "_BATCH_CONTRIBUTIONS", 1000)
    assert _same(_numpy_build(monkeypatch, *args).heats, ours)
    monkeypatch.setattr(heatmap, "_BATCH_REGIONS", 1)
    assert _same(HeatMap.build(*args).heats, ours)


def test_an_index_beyond_int64_paints_nothing_past_the_map(monkeypatch):
    """A snapshot ending at 2^63 ns on a map of 1 ns rows: its last row's
    index does not fit int64 (it became INT64_MIN, and the numpy path's row
    count wrapped around); damo paints the rows up to the map's end."""
    r = Record(1, [5], [(1 << 63) - 1], [0, 1], [0], [10], [4], [0])
    args = ([r], (0, 20), (0, 10), (20, 10))
    ours = HeatMap.build(*args).heats.reshape(20, 10)
    assert _same(_numpy_build(monkeypatch, *args).heats, ours.ravel())
    assert np.isnan(ours[:5]).all() and not np.isnan(ours[5:]).any()


def test_painter_refuses_columns_that_disagree():
    heats = np.full(4, np.nan)
    marks = np.zeros(4, dtype=np.uint8)
    grid = (0.0, 1.0, 1.0, True, 0, 0.0, True, 1, 1.0, True, 2, 2.0)
    one_i, one_f = np.zeros(1, dtype=np.int64), np.zeros(1)
    two_i = np.zeros(2, dtype=np.int64)
    record = (np.array([0, 1]), one_f, one_f, np.nan, one_i, one_i, one_i, None, None, 0.0,
              None, False, None)
    _cpaint.paint_record(heats, marks, 2, 2, *grid, *record)
    assert marks.tolist() == [1, 0, 0, 0]
    with pytest.raises(ValueError):         # 4 heats, not 2 x 3
        _cpaint.paint_record(heats, marks, 2, 3, *grid, *record)
    bad = [record[:4] + (two_i,) + record[5:],                  # starts of 2, ends of 1
           (np.array([0, 2]),) + record[1:],                    # offsets beyond the regions
           (np.array([0, 1, 0, 1]), np.zeros(3), np.zeros(3)) + record[3:],  # decreasing
           record[:7] + (one_f,) + record[8:],                  # samples both int and float
           record[:6] + (None, None) + record[8:],              # no samples
           record[:8] + (None, 0.0, one_f) + record[11:],       # intervals without ages
           record[:11] + (True, two_i)]                         # 2 passed for 1 region
    for columns in bad:
        with pytest.raises(ValueError):
            _cpaint.paint_record(heats, marks, 2, 2, *grid, *columns)
    assert marks.tolist() == [1, 0, 0, 0]


def _rendered(heatmap_obj, colorset, color):
    try:
        return heatmap_obj.min_max(), heatmap_obj.ascii_lines(colorset, color, True)
    except (DamoError, IndexError, OverflowError, ValueError) as e:
        return (type(e), str(e))


@pytest.mark.parametrize("seed", range(0, 400, 3))
def test_random_maps_render_the_same_text_both_ways(monkeypatch, seed):
    """The terminal rendering in C (heat_range, heat_lines) against numpy's
    (min_max's reductions, levels() and a string array), on the random maps
    above: the same lowest and highest heats and the same lines, or the same
    refusal."""
    records, time_range, addr_range, resol, df_passed = _case(seed)
    try:
        built = HeatMap.build(records, time_range, addr_range, resol, df_passed=df_passed)
    except (DamoError, OverflowError, ValueError):
        return
    colorset = random.Random(seed).choice(["gray", "flame", "emotion"])
    for color in (True, False):
        ours = _rendered(built, colorset, color)
        with monkeypatch.context() as m:
            m.setattr(heatmap, "_cpaint", None)
            theirs = _rendered(built, colorset, color)
        assert ours == theirs


def test_heat_range_keeps_the_first_of_equal_heats_as_damo_does():
    """damo's loop keeps the first lowest and highest in pixel order: 0.0 and
    -0.0 print differently ('%.3f'), and numpy's reductions pick either."""
    nan = float("nan")
    assert _cpaint.heat_range(np.array([nan, nan])) is None
    assert _cpaint.heat_range(np.array([], dtype=np.float64)) is None
    low, high = _cpaint.heat_range(np.array([nan, 0.0, 3.0, -0.0, 3.0, nan]))
    assert (low, high) == (0.0, 3.0) and str(low) == "0.0"
    low, high = _cpaint.heat_range(np.array([-0.0, 0.0]))
    assert str(low) == "-0.0" and str(high) == "-0.0"
    assert _cpaint.heat_range(np.array([nan, 7.5])) == (7.5, 7.5)


def test_heat_lines_levels_and_refusals():
    cells = [" "] + [str(lv) for lv in range(10)]
    nan = float("nan")
    heats = np.array([nan, 0.0, 0.5, 1.0, 4.5, 9.0, 1e300, 2.0])
    # unit 0.5: levels int(h / 0.5) at most 9; NaN is the blank cell
    assert _cpaint.heat_lines(heats, 4, 0.0, 0.5, cells, "|") == [" 012|", "9994|"]
    assert _cpaint.heat_lines(np.array([float("inf")]), 1, 0.0, 1.0, cells, "") is None
    assert _cpaint.heat_lines(np.array([1.0]), 1, 0.0, float("inf"), cells, "") == ["0"]
    assert _cpaint.heat_lines(np.array([1.0]), 1, float("inf"), float("inf"), cells, "") \
        is None
    with pytest.raises(ValueError):
        _cpaint.heat_lines(heats, 3, 0.0, 1.0, cells, "")      # 8 pixels, not rows of 3
    with pytest.raises(ValueError):
        _cpaint.heat_lines(heats, 4, 0.0, 1.0, cells[:5], "")


def test_int64_range_is_numpys_min_and_max_with_zero():
    rng = np.random.default_rng(7)
    for values in (np.array([], dtype=np.int64), np.array([5, 9], dtype=np.int64),
                   np.array([-3, -1], dtype=np.int64),
                   np.array([-(1 << 63), (1 << 63) - 1], dtype=np.int64),
                   rng.integers(-(1 << 62), 1 << 62, 1000),
                   rng.integers(0, 100, 100)[::3]):
        assert _cpaint.int64_range(values) == (int(values.min(initial=0)),
                                               int(values.max(initial=0)))
    with pytest.raises(ValueError):
        _cpaint.int64_range(np.zeros(3))
