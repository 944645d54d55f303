"""Per-snapshot region listings (``damo report access``)."""
import numpy as np

from damo import units
from damo.errors import DamoError
from damo.records import AGE_UNKNOWN


class RawFormReporter:
    """damo's ``report access --raw_form``: every region of every snapshot."""

    def __init__(self, records):
        self.records = records

    def iter_lines(self, raw_number=False):
        fmt_time = units.format_time_ns
        for record in self.records:
            if record.nr_snapshots == 0:
                continue
            base = record.start_ns[0].item()
            yield "base_time_absolute: %s" % fmt_time(base, raw_number)
            yield "data source: %s\n" % record.data_source
            starts, ends = record.starts.tolist(), record.ends.tolist()
            sizes = (record.ends - record.starts).tolist()
            samples = record.nr_accesses.tolist()
            ages = np.where(record.ages == AGE_UNKNOWN, -1, record.ages).tolist()
            start_ns, end_ns = record.start_ns.tolist(), record.end_ns.tolist()
            offsets = record.region_offsets.tolist()
            for sidx in range(record.nr_snapshots):
                start, end = start_ns[sidx], end_ns[sidx]
                yield "monitoring_start:    %16s" % fmt_time(start - base, raw_number)
                yield "monitoring_end:      %16s" % fmt_time(end - base, raw_number)
                yield "monitoring_duration: %16s" % fmt_time(end - start, raw_number)
                yield "target_id: %s" % record.target_id
                lo, hi = offsets[sidx], offsets[sidx + 1]
                yield "nr_regions: %s" % (hi - lo)
                yield "# %10s %12s  %12s  %11s %5s" % (
                    "start_addr", "end_addr", "length", "nr_accesses", "age")
                for i in range(lo, hi):
                    yield "%012x-%012x (%12s) %11d %5d" % (
                        starts[i], ends[i], units.format_sz(sizes[i], raw_number),
                        samples[i], ages[i])
                yield ""
        yield ""

    def text(self, raw_number=False):
        return "\n".join(self.iter_lines(raw_number))


# Least widths of fields in damo's default region and snapshot lines.
_MIN_CHARS = {"index": 3, "start": 12, "size": 11, "hz": 6, "age": 13}
_SNAPSHOT_HEATMAP_WIDTH = 80


def _pad(text, field):
    return text.ljust(_MIN_CHARS[field])


def _snapshot_aggr_us(record, sidx):
    """damo's snapshot_monitoring_intervals()[1]; a zero interval (which the
    kernel accepts) has no access rate: one error instead of damo's crash."""
    iv = record.intervals
    if not iv.sample_us or not iv.aggr_us:
        raise DamoError("target %s: monitoring intervals %g us and %g us: access rates need "
                        "both above 0 (use --raw_form)" % (record.target_id, iv.sample_us,
                                                          iv.aggr_us))
    if not iv.tuning_enabled:
        return iv.aggr_us
    ratio = iv.aggr_us / iv.sample_us
    if record.sample_interval_us is not None and not np.isnan(record.sample_interval_us[sidx]):
        aggr_us = record.sample_interval_us[sidx].item() * ratio
    else:
        aggr_us = (record.end_ns[sidx].item() - record.start_ns[sidx].item()) / 1000
        if abs(aggr_us - iv.aggr_us) / iv.aggr_us < 0.1:
            return iv.aggr_us
    if not aggr_us > 0:
        raise DamoError("target %s snapshot %d: aggregation interval %g us: no access rate "
                        "(use --raw_form)" % (record.target_id, sidx, aggr_us))
    return aggr_us


def _snapshot_heatmap(starts, ends, temps, raw, color):
    """damo's one-line heatmap of a snapshot: 80 columns of the regions laid
    end to end, gaps shown as dots, each digit a temperature level."""
    from damo.reports.heatmap import COLOR_END, color_start

    n = len(starts)
    if n == 0:
        return "n/a (no region)"
    sz_unit = sum(e - s for s, e in zip(starts, ends)) / _SNAPSHOT_HEATMAP_WIDTH
    if sz_unit <= 0:
        return "n/a (no region)"    # only empty regions
    pixels = []     # [start, end, temperature or None when void]
    lowest = highest = None
    start = starts[0]
    first = 0
    # near 2^64 a float column step may round to nothing: never loop on it
    steps_left = 4 * (n + _SNAPSHOT_HEATMAP_WIDTH) + 8
    while start < ends[-1]:
        steps_left -= 1
        if steps_left < 0 or start + sz_unit <= start:
            raise DamoError("snapshot heatmap: addresses around %s are too large for its "
                            "columns of %s" % (units.format_nr(int(start), False),
                                               units.format_sz(sz_unit, False)))
        end = start + sz_unit
        while first < n and ends[first] <= start:
            first += 1
        total = 0
        j = first
        while j < n and starts[j] < end:
            rs, re = starts[j], ends[j]
            if start <= rs and re <= end:
                size = re - rs
            elif rs <= start and end <= re:
                size = end - start
            elif rs < start:
                size = re - start
            else:
                size = end - rs
            total += temps[j] * size
            j += 1
        if j == first:
            pixels.append([start, end, None])
            nxt = next((s for s in starts if s > end), None)
            if nxt is None:
                break
            start = nxt // sz_unit * sz_unit
            pixels[-1][1] = start
            continue
        temperature = total / (end - start)
        pixels.append([start, end, temperature])
        lowest = temperature if lowest is None else min(lowest, temperature)
        highest = temperature if highest is None else max(highest, temperature)
        start = end
    if lowest is None:
        return "n/a (no region)"    # unsorted regions: none at the first's start
    unit = (highest - lowest) / 9 if highest is not None else 1
    if unit == 0:
        unit = highest / 9
    if unit == 0:
        unit = 1
    dots = []
    for pstart, pend, temperature in pixels:
        if temperature is None:
            nr_dots = (pend - pstart) / sz_unit
            dots.append("[...]" if nr_dots > 4 else "." * int(nr_dots))
            continue
        level = int((temperature - lowest) / unit)
        dots.append("%s%d%s" % (color_start("gray", level), level, COLOR_END) if color
                    else "%d" % level)
    return "%s\n# min/max temperatures: %s, %s, column size: %s" % (
        "".join(dots), units.format_nr(lowest, raw), units.format_nr(highest, raw),
        units.format_sz(sz_unit, raw))


class DetailedReporter:
    """damo's default ``report access`` view (style 'detailed') of records
    that have monitoring intervals."""

    def __init__(self, records, color=True):
        self.records = records
        self.color = color

    def _region_lines(self, record, sidx, raw):
        sl = record.snapshot_slice(sidx)
        iv = record.intervals
        aggr_us = _snapshot_aggr_us(record, sidx)
        ages = record.ages[sl]
        if np.any(ages == AGE_UNKNOWN):
            raise DamoError("target %s has regions without age" % record.target_id)
        starts, ends = record.starts[sl].tolist(), record.ends[sl].tolist()
        samples = record.nr_accesses[sl].tolist()
        usecs = [a * iv.aggr_us for a in ages.tolist()]
        szfp = (None if not record.scheme_filters else
                [0] * len(starts) if record.sz_filter_passed is None
                else record.sz_filter_passed[sl].tolist())
        lines = []
        for idx, (s, e, n, usec) in enumerate(zip(starts, ends, samples, usecs)):
            line = "%s addr %s size %s access %s age %s" % (
                _pad(units.format_nr(idx, raw), "index"),
                _pad(units.format_sz(s, raw), "start"), _pad(units.format_sz(e - s, raw), "size"),
                _pad(units.format_hz(n / (aggr_us / 1000000), raw), "hz"),
                _pad(units.format_time_us(usec, raw), "age"))
            if szfp is not None:
                line += " df-passed %s" % units.format_sz(szfp[idx], raw)
            lines.append(line)
        return lines, starts, ends, samples, usecs

    def _snapshot_lines(self, record, sidx, multi_snapshots, raw):
        iv = record.intervals
        base = record.start_ns[0].item()
        start, end = record.start_ns[sidx].item(), record.end_ns[sidx].item()
        regions, starts, ends, samples, usecs = self._region_lines(record, sidx, raw)
        max_samples = iv.aggr_us / iv.sample_us
        # damo's temperature with its default weights (size 0, rate 100, age 100)
        temps = []
        for n, usec in zip(samples, usecs):
            percent = int(n * 100.0 / max_samples)
            score = percent * 100 + usec * 100
            temps.append(score if percent > 0 else -score)
        aggr_us = _snapshot_aggr_us(record, sidx)
        lines = []
        if multi_snapshots:
            lines.append("snapshot time: [%s, %s] (%s)" % (
                units.format_time_ns(start - base, raw), units.format_time_ns(end - base, raw),
                units.format_time_ns(end - start, raw)))
        lines.append("heatmap: %s" % _snapshot_heatmap(starts, ends, temps, raw, self.color))
        ratio = iv.aggr_us / iv.sample_us
        hz = ratio / (aggr_us / 1000000)
        lines.append("intervals: sample %s aggr %s (max access hz %s)" % (
            units.format_time_us(aggr_us / ratio, raw), units.format_time_us(aggr_us, raw),
            "%f" % hz if raw else ("%.3f" % hz if hz < 10 and hz != 0
                                   else units.format_nr(hz, False))))
        lines.extend(regions)
        access_bytes = sum((e - s) * n for s, e, n in zip(starts, ends, samples))
        lines.append("memory bw estimate: %s per second" % units.format_sz(
            access_bytes / (aggr_us / 1000000), raw))
        lines.append("total size: %s" % units.format_sz(
            record.snapshot_total_bytes()[sidx].item(), raw))
        return lines

    def text(self, raw=False):
        multi_snapshots = any(r.nr_snapshots > 1 for r in self.records)
        out = []
        for record in self.records:
            iv = record.intervals
            if len(self.records) > 1:
                first = record.start_ns[0].item() if record.nr_snapshots else 0
                last = record.end_ns[-1].item() if record.nr_snapshots else 0
                out.append("kdamond %s / context %s / scheme %s / target id %s / recorded "
                           "for %s from %s" % (
                               record.kdamond_idx, record.context_idx, record.scheme_idx,
                               record.target_id, units.format_time_ns(last - first, raw),
                               units.format_time_ns(first, raw)))
            for sidx in range(record.nr_snapshots):
                out.extend(self._snapshot_lines(record, sidx, multi_snapshots, raw))
                if sidx < record.nr_snapshots - 1:
                    out.append("")
            out.append("record DAMON intervals: sample %s, aggr %s" % (
                units.format_time_us(iv.sample_us, raw), units.format_time_us(iv.aggr_us, raw)))
            if any(r.intervals.tuning_enabled for r in self.records):
                goal = iv.goal or {}
                out.append("# target %s accesses per %s aggrs, [%s, %s] sampling interval" % (
                    units.format_ratio(goal.get("access_bp", 0) / 10000, raw),
                    units.format_nr(goal.get("aggrs", 0), raw),
                    units.format_time_us(goal.get("min_sample_us", 0), raw),
                    units.format_time_us(goal.get("max_sample_us", 0), raw)))
        return "\n".join(out)
