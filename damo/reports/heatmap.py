"""Time x address access heatmaps (``damo report heatmap``).

``HeatMap.build`` computes the same pixel values as damo 3.4.3, to the last
bit, without its per-pixel Python loop: every (region, pixel) overlap becomes
one contribution computed with numpy in the same floating-point operations
damo does, and contributions are folded into their pixels in damo's order
(snapshot by snapshot, region by region) with

    heat = (contribution + heat * P) / P,    P = pixel time x pixel space

which is not associative, hence the ordered folding.  damo.reports._cpaint
(C) takes each region's pixels in turn and folds each contribution at once;
without it, numpy does one vectorised step per "k-th contribution of every
pixel", and a plain loop for the few pixels that have many more contributions
than the rest.  The two take the same heats, bit for bit
(tests/test_heatmap_cpaint.py).

Quirks kept from damo: a region-snapshot spans from ``start - age * aggr``
(clipped to the previous snapshot's end) when the record has intervals; an
index is truncated toward zero (so a region just before the map still lands
on its first row, possibly with a negative weight); a region touching a
pixel's edge adds a zero contribution that still marks the pixel as painted;
a painted pixel stays so even if a NaN or infinite contribution made its heat
NaN (damo's is no longer None).
"""
import functools
import math

import numpy as np

from damo import units
from damo.errors import DamoError
# the terminal map's colours (in a module of their own: report access and
# report heatmap's options use them without loading this one)
from damo.reports.colors import (  # noqa: F401 (also this module's names)
    COLOR_END, COLORSETS, MAX_LEVEL, color_samples, color_start)

# Regions painted per batch (small enough to stay in cache), and a bound on a
# batch's contributions (regions may span many pixels) to bound memory.
_BATCH_REGIONS = 1 << 14
_BATCH_CONTRIBUTIONS = 1 << 22
# Below this many pixels per fold step, finish pixel by pixel in Python.
_MIN_VECTOR_STEP = 64
_EXACT_FLOAT = 2.0**53
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_INT64 = np.dtype(np.int64)

try:
    from damo.reports import _cpaint
except ImportError:     # not built (a source tree before build_ext): numpy paints
    _cpaint = None

def _trunc_index(values, origin, unit, resol):
    """damo's int((value - origin) / unit), element-wise, clipped to
    [-1, resol] (damo skips indices off the map; an index beyond int64 made
    the count of rows wrap around), NaN as -1."""
    index = np.trunc((values - origin) / unit)
    np.nan_to_num(index, copy=False, nan=-1.0, posinf=resol, neginf=-1.0)
    return np.clip(index, -1, resol, out=index).astype(np.int64)


def _int64_range(values):
    """(min, max) of an int64 column with 0 (its .min(initial=0) and
    .max(initial=0)), in C where it is built: numpy's reductions page in code
    that a small report does not otherwise need."""
    if _cpaint is not None and values.dtype == _INT64:
        return _cpaint.int64_range(values)
    return int(values.min(initial=0)), int(values.max(initial=0))


def _snapshot_aggr_s(record):
    """Aggregation interval (s) of each snapshot, auto-tuned ones included
    (damo's snapshot_monitoring_intervals, in us, over 1,000,000)."""
    iv = record.intervals
    n = record.nr_snapshots
    if not iv.sample_us or not iv.aggr_us:
        # the kernel accepts zero intervals; access rates are undefined then
        raise DamoError("target %s: monitoring intervals %g us and %g us: the heat (access "
                        "rate) needs both above 0" % (record.target_id, iv.sample_us,
                                                      iv.aggr_us))
    if not iv.tuning_enabled:
        # the one value divided once, as numpy would divide each copy of it
        # (and without numpy's division, whose code a small report need not page in)
        return np.full(n, float(iv.aggr_us) / 1000000, dtype=np.float64)
    ratio = iv.aggr_us / iv.sample_us
    duration_us = (record.end_ns - record.start_ns) / 1000
    aggr = np.where(np.abs(duration_us - iv.aggr_us) / iv.aggr_us < 0.1,
                    float(iv.aggr_us), duration_us)
    if record.sample_interval_us is not None:
        tuned = ~np.isnan(record.sample_interval_us)
        aggr[tuned] = record.sample_interval_us[tuned] * ratio
    if np.any(~(aggr > 0)):
        raise DamoError("target %s snapshot %d: aggregation interval of 0: no heat"
                        % (record.target_id, int(np.argmax(~(aggr > 0)))))
    return aggr / 1000000


def _level_unit(lowest, highest):
    """damo's heat per colour level of a map whose heats span [lowest, highest]."""
    return float(highest + 1 - lowest) / 9


class HeatMap:
    """Pixels of one (time range, address range); ``heats`` holds NaN where
    nothing was painted."""

    def axis_lines(self):
        """damo's '# x-axis' and '# y-axis' lines of the map's ranges."""
        addr_len = self.addr_unit * self.addr_resol
        time_len = self.time_unit * self.time_resol
        return ["# x-axis: space [%s, %s) (%s)" % (
                    units.format_sz_accurate(self.addr_start, False),
                    units.format_sz_accurate(self.addr_start + addr_len, False),
                    units.format_sz(addr_len, False)),
                "# y-axis: time [%s, %s) (%s)" % (
                    units.format_time_ns(self.time_start, False),
                    units.format_time_ns(self.time_start + time_len, False),
                    units.format_time_ns(time_len, False))]

    def __init__(self, time_start, time_unit, time_resol, addr_start, addr_unit,
                 addr_resol, heat_unit):
        self.time_start = time_start
        self.time_unit = time_unit
        self.time_resol = time_resol
        self.addr_start = addr_start
        self.addr_unit = addr_unit
        self.addr_resol = addr_resol
        self.heat_unit = heat_unit
        self.heats = np.full(time_resol * addr_resol, np.nan)
        self.df_passed = False

    @classmethod
    def build(cls, records, time_range, addr_range, resol, df_passed=False):
        """damo's heatmap_from_records() for the (already selected) records;
        with ``df_passed``, only the DAMOS filter-passed part of each region
        heats its pixels."""
        time_start, time_end = time_range
        addr_start, addr_end = addr_range
        time_resol, addr_resol = resol
        time_unit = (time_end - time_start) // time_resol
        addr_unit = (addr_end - addr_start) // addr_resol
        if time_unit <= 0 or addr_unit <= 0:
            raise DamoError("the map is too small for %dx%d pixels (time %s, space %s)" % (
                time_resol, addr_resol, units.format_time_ns(time_end - time_start, False),
                units.format_sz(addr_end - addr_start, False)))
        heat_unit = "hz" if any(r.intervals is not None for r in records) else "samples"
        heatmap = cls(time_start, time_unit, time_resol, addr_start, addr_unit,
                      addr_resol, heat_unit)
        heatmap.df_passed = df_passed
        heatmap._paint(records)
        return heatmap

    # ------------------------------------------------------------ painting

    def _record_columns(self, records):
        """Per record with snapshots, in order, damo's checks done: the
        record, its snapshots' start and end times as float64, the end of the
        snapshot before it (NaN if none), with intervals its aggregation
        interval in ns and each snapshot's in seconds (else None, None), and
        with --df_passed its sz_filter_passed (None: nothing passed)."""
        prev_end = np.nan
        for record in records:
            if record.nr_snapshots == 0:
                continue
            start_ns = record.start_ns.astype(np.float64)
            end_ns = record.end_ns.astype(np.float64)
            aggr_ns = aggr_s = None
            if record.intervals is not None:
                low, high = _int64_range(record.ages)
                if low == _INT64_MIN:
                    raise DamoError("the record has intervals but regions without age")
                aggr_ns = record.intervals.aggr_us * 1000
                # the largest |age| (as np.abs(ages).max() would, without its copy)
                if isinstance(aggr_ns, int) and max(abs(high), abs(low)) * aggr_ns \
                        >= _EXACT_FLOAT:
                    raise DamoError("region ages are too large to draw exactly")
                aggr_s = _snapshot_aggr_s(record)
            passed = None
            if self.df_passed:
                # damo's heat * sz_filter_passed / size (samples * passed, exactly)
                passed = record.sz_filter_passed
                if np.any(record.ends == record.starts):
                    raise DamoError("--df_passed: a region of zero size has no filter-passed "
                                    "ratio (damo 3.4.3 divides by zero)")
            yield record, start_ns, end_ns, prev_end, aggr_ns, aggr_s, passed
            prev_end = float(end_ns[-1])

    def _batches(self, record, start_ns, end_ns, prev_end, aggr_ns, aggr_s, passed):
        """Per batch of a record's regions, in damo's order: the columns
        their contributions need (made a batch at a time: a column of every
        region of a big recording would be tens of MB each)."""
        offsets = record.region_offsets
        prev_ends = np.empty(record.nr_snapshots)
        prev_ends[0] = prev_end
        prev_ends[1:] = end_ns[:-1]
        samples = record.nr_accesses
        with_intervals = aggr_s is not None
        ages = record.ages
        heat_is_int = not with_intervals
        if self.df_passed and passed is None:
            passed = np.zeros(record.nr_regions, dtype=np.int64)
        starts = record.starts.view(np.int64)
        ends = record.ends.view(np.int64)
        for lo in range(0, record.nr_regions, _BATCH_REGIONS):
            hi = min(lo + _BATCH_REGIONS, record.nr_regions)
            snap = np.searchsorted(offsets, np.arange(lo, hi), side="right") - 1
            snap_start = start_ns[snap]
            snap_prev_end = prev_ends[snap]
            if with_intervals:
                observe = snap_start - ages[lo:hi] * float(aggr_ns)
                observe = np.where(observe < snap_prev_end, snap_prev_end, observe)
                row_from = observe
                heat = samples[lo:hi] / aggr_s[snap]
            else:
                observe = snap_start
                row_from = np.where(snap_start < snap_prev_end, snap_prev_end, snap_start)
                heat = samples[lo:hi].astype(np.float64)
            if self.df_passed:
                numer = (samples[lo:hi] * passed[lo:hi]) if heat_is_int \
                    else heat * passed[lo:hi]
                # (int64 ends - starts wraps as the uint64 one did)
                heat = numer / (ends[lo:hi] - starts[lo:hi])
            yield (starts[lo:hi], ends[lo:hi], observe, row_from, end_ns[snap], heat,
                   heat_is_int and not self.df_passed)

    def _paint(self, records):
        self._pixel_space = float(self.time_unit * self.addr_unit)
        self._painted = np.zeros(self.heats.size, dtype=np.uint8)
        painter = self._c_painter()
        for columns in self._record_columns(records):
            if painter is None or not painter(*columns):
                for batch in self._batches(*columns):
                    self._paint_batch(*batch)

    def _c_record(self, painter, record, start_ns, end_ns, prev_end, aggr_ns, aggr_s,
                  passed):
        """Paint the record in C, taking its columns as they are (no
        temporary); False if a column is not of a type the C loop reads
        (numpy paints it then)."""
        def column(values, *dtypes):
            return values if values.dtype in dtypes and values.flags.c_contiguous else None
        int64, uint64 = np.dtype(np.int64), np.dtype(np.uint64)
        cols = [column(record.region_offsets, int64), column(record.starts, uint64, int64),
                column(record.ends, uint64, int64),
                column(record.nr_accesses, int64, np.dtype(np.float64)),
                column(record.ages, int64), passed if passed is None else column(passed, int64)]
        if any(c is None for c in cols[:4]) or (aggr_s is not None and cols[4] is None) \
                or (passed is not None and cols[5] is None):
            return False
        offsets, starts, ends, samples, ages, passed = cols
        int_samples = samples.dtype == int64
        painter(offsets, start_ns, end_ns, prev_end, starts.view(np.int64),
                ends.view(np.int64), samples if int_samples else None,
                None if int_samples else samples, None if aggr_s is None else ages,
                0.0 if aggr_ns is None else float(aggr_ns), aggr_s, self.df_passed, passed)
        return True

    def _c_painter(self):
        """_cpaint.paint_record for this map's pixels, or None (not built,
        or a map value numpy refuses or overflows on: numpy decides)."""
        if _cpaint is None:
            return None
        addr_end = self.addr_start + self.addr_unit * self.addr_resol
        try:
            time = [float(self.time_start), float(self.time_unit)]
            addr = []
            for value in (self.addr_start, self.addr_unit, addr_end):
                # numpy computes in int64 with an int, in float64 with a float
                is_int = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
                if not is_int and not isinstance(value, (float, np.floating)):
                    return None
                if is_int and not _INT64_MIN <= value <= _INT64_MAX:
                    return None
                addr += [is_int, int(value) if is_int else 0, float(value)]
        except OverflowError:
            return None
        if not all(math.isfinite(x) for x in time + addr[2::3]):
            return None
        return functools.partial(self._c_record, functools.partial(
            _cpaint.paint_record, self.heats, self._painted, self.time_resol, self.addr_resol,
            *time, self._pixel_space, *addr))

    def _paint_batch(self, starts, ends, observe, row_from, snap_end, heat, heat_is_int):
        addr_end = self.addr_start + self.addr_unit * self.addr_resol
        keep = ~((ends < self.addr_start) | (addr_end < starts))
        starts, ends, observe, row_from, snap_end, heat = (
            c[keep] for c in (starts, ends, observe, row_from, snap_end, heat))
        r0 = np.maximum(_trunc_index(row_from, self.time_start, self.time_unit,
                                     self.time_resol), 0)
        r1 = np.minimum(_trunc_index(snap_end, self.time_start, self.time_unit,
                                     self.time_resol), self.time_resol - 1)
        c0 = np.maximum(_trunc_index(starts, self.addr_start, self.addr_unit,
                                     self.addr_resol), 0)
        c1 = np.minimum(_trunc_index(ends, self.addr_start, self.addr_unit,
                                     self.addr_resol), self.addr_resol - 1)
        nrows = np.maximum(r1 - r0 + 1, 0)
        ncols = np.maximum(c1 - c0 + 1, 0)
        per_region = nrows * ncols
        total = int(per_region.sum())
        if total == 0:
            return
        if total > _BATCH_CONTRIBUTIONS and len(per_region) > 1:
            half = len(per_region) // 2
            for part in (slice(0, half), slice(half, None)):
                self._paint_batch(starts[part], ends[part], observe[part], row_from[part],
                                  snap_end[part], heat[part], heat_is_int)
            return
        # one entry per (region, row, column), regions in order
        region = np.repeat(np.arange(len(per_region)), per_region)
        first = np.cumsum(per_region) - per_region
        within = np.arange(total) - first[region]
        row = r0[region] + within // ncols[region]
        col = c0[region] + within % ncols[region]

        pixel_time = np.trunc(self.time_start + row * float(self.time_unit))
        pixel_addr = self.addr_start + col * self.addr_unit
        if isinstance(self.addr_unit, float) or isinstance(self.addr_start, float):
            # damo's int(addr_start + j * addr_unit): ranges zoomed or scrolled
            pixel_addr = np.trunc(pixel_addr)
        account_time = (np.minimum(snap_end[region], pixel_time + self.time_unit)
                        - np.maximum(observe[region], pixel_time))
        account_sz = (np.minimum(ends[region], pixel_addr + self.addr_unit)
                      - np.maximum(starts[region], pixel_addr))
        hv = heat[region]
        partial = hv * account_time
        contribution = partial * account_sz.astype(np.float64)
        if heat_is_int:
            # damo multiplies integer samples and times exactly; so must we
            # (each contribution on its own: the batch's max() of a NaN
            # partial was NaN, and hid the others)
            inexact = np.flatnonzero((np.abs(partial) >= _EXACT_FLOAT)
                                     & (account_time == np.trunc(account_time)))
            contribution[inexact] = [float(int(a) * int(b) * int(c)) for a, b, c in zip(
                hv[inexact].tolist(), account_time[inexact].tolist(),
                account_sz[inexact].tolist())]
        self._fold(row * self.addr_resol + col, contribution)

    def _fold(self, pixels, contributions):
        """Apply contributions (in order) to their pixels, damo's way."""
        # group by pixel, keeping the order within a pixel (radix sort when
        # pixel numbers fit 16 bits)
        keys = pixels.astype(np.uint16) if self.heats.size <= 1 << 16 else pixels
        order = np.argsort(keys, kind="stable")
        pixels = pixels[order]
        contributions = contributions[order]
        group_start = np.flatnonzero(np.r_[True, pixels[1:] != pixels[:-1]])
        group_len = np.diff(np.r_[group_start, len(pixels)])
        rank = np.arange(len(pixels)) - np.repeat(group_start, group_len)
        # then by rank: step k applies every pixel's k-th contribution
        nr_ranks = int(group_len.max())
        by_rank = np.argsort(rank.astype(np.uint16) if nr_ranks <= 1 << 16 else rank,
                             kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(nr_ranks + 1)).tolist()
        step_pixels = pixels[by_rank]
        step_contributions = contributions[by_rank]
        heats = self.heats
        P = self._pixel_space
        first_pixels = pixels[group_start]
        # a pixel starts from 0 when first painted (not when NaN: a NaN
        # contribution of an earlier batch made it so, and damo keeps it)
        new_pixels = first_pixels[self._painted[first_pixels] == 0]
        heats[new_pixels] = 0.0
        self._painted[new_pixels] = 1
        k = 0
        while k < nr_ranks and bounds[k + 1] - bounds[k] >= _MIN_VECTOR_STEP:
            idx = step_pixels[bounds[k]:bounds[k + 1]]
            heats[idx] = (step_contributions[bounds[k]:bounds[k + 1]] + heats[idx] * P) / P
            k += 1
        # the few pixels with many more contributions: one at a time
        for g in np.flatnonzero(group_len > k).tolist():
            pixel = int(pixels[group_start[g]])
            h = float(heats[pixel])
            for c in contributions[group_start[g] + k:group_start[g] + group_len[g]].tolist():
                h = (c + h * P) / P
            heats[pixel] = h

    # ---------------------------------------------------------- rendering

    def min_max(self):
        """The lowest and highest heat painted (None, None if none is)."""
        if _cpaint is not None:
            found = _cpaint.heat_range(self.heats)
            return found if found is not None else (None, None)
        painted = self.heats[~np.isnan(self.heats)]
        if len(painted) == 0:
            return None, None
        return painted.min().item(), painted.max().item()

    def levels(self):
        """Colour level (0-9) of each pixel, -1 where nothing was painted."""
        lowest, highest = self.min_max()
        levels = np.full(self.heats.shape, -1, dtype=np.int64)
        if lowest is None:
            return levels
        unit = _level_unit(lowest, highest)
        painted = ~np.isnan(self.heats)
        levels[painted] = np.minimum(
            np.trunc((self.heats[painted] - lowest) / unit).astype(np.int64), MAX_LEVEL)
        return levels

    def ascii_lines(self, colorset, color, legend):
        """damo's terminal rendering; without ``color``, its ANSI-free text."""
        lowest, highest = self.min_max()
        lines = []
        if lowest is not None:
            if color:
                cells = [color_start(colorset, 4) + " "] + \
                    [color_start(colorset, lv) + "%d" % lv for lv in range(MAX_LEVEL + 1)]
                end = COLOR_END
            else:
                cells = [" "] + ["%d" % lv for lv in range(MAX_LEVEL + 1)]
                end = ""
            rows = None
            if _cpaint is not None:
                rows = _cpaint.heat_lines(self.heats, self.addr_resol, lowest,
                                          _level_unit(lowest, highest), cells, end)
            if rows is None:
                levels = self.levels().reshape(self.time_resol, self.addr_resol)
                rows = ["".join(row.tolist()) + end for row in np.array(cells)[levels + 1]]
            lines += rows
        if legend:
            if lowest is None:
                raise DamoError("nothing to draw in the selected ranges")
            lines.append("# access_frequency: %s (%.3f-%.3f %s)" % (
                color_samples(colorset) if color else "0123456789",
                lowest, highest, self.heat_unit))
        lines += self.axis_lines()
        addr_len = self.addr_unit * self.addr_resol
        time_len = self.time_unit * self.time_resol
        lines.append("# resolution: %dx%d (%s and %s for each character)" % (
            self.addr_resol, self.time_resol,
            units.format_sz(float(addr_len) / self.addr_resol, False),
            units.format_time_ns(float(time_len) / self.time_resol, False)))
        return lines

    def pixel_times(self, absolute):
        times = [int(self.time_start + i * self.time_unit) for i in range(self.time_resol)]
        return times if absolute else [t - self.time_start for t in times]

    def pixel_addrs(self, absolute):
        addrs = [int(self.addr_start + j * self.addr_unit) for j in range(self.addr_resol)]
        return addrs if absolute else [a - self.addr_start for a in addrs]

    def raw_lines(self, abs_time, abs_addr):
        """damo's ``--output raw``: '<time>\\t<addr>\\t<heat>' per pixel."""
        heats = ["NaN" if h != h else repr(h) for h in self.heats.tolist()]
        addrs = ["%s\t" % a for a in self.pixel_addrs(abs_addr)]
        lines = []
        for i, t in enumerate(self.pixel_times(abs_time)):
            prefix = "%s\t" % t
            row = heats[i * self.addr_resol:(i + 1) * self.addr_resol]
            lines.extend([prefix + a + h for a, h in zip(addrs, row)])
        return lines
