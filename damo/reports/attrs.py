"""``damo report attrs``: damo 3.4.3's "data attributes" view (experimental):
report access's layout around the probe hits of DAMON's data attribute
monitoring, with the probes of the recording's kdamonds (``<record>.kdamonds``,
the file damo record writes beside it).

A region's temperature here is weighted from its probe hits (by the probes'
weights), its age and its size (--temperature_weights: 100 100 0), negative
when nothing hit it; regions are shown hottest last (sorted by temperature)
unless --sort_regions_by says otherwise.  Each snapshot starts with a
heatmap of those temperatures, the probes and the sampling intervals, and
ends with the estimated memory bandwidth and the total size.

The simulated kernel has no data attribute monitoring: its recordings carry
no probe hits (their hits weigh 0), and recordings' probe hits are not kept
by our reader.  Where damo fails: a record without monitoring intervals is
one error (damo dies converting its ages), the <format strings> keyword
prints the formats (damo calls it with the wrong arguments), a snapshot
whose regions are all empty has no heatmap (damo divides by zero), and raw
JSON sample intervals are in microseconds (damo's are nanoseconds).
"""
import itertools
import json
import operator
import re

import numpy as np

from damo import units
from damo.errors import DamoError
from damo.params import kdamonds_model as model
from damo.params.access_filter import UNSET
from damo.reports.access_format import _hist_ranges as hist_ranges, histogram_str
from damo.records.damo_exact import filter_kvpairs, stats_kvpairs
from damo.records.model import AGE_UNKNOWN

STYLES = ("detailed", "temperature-sz-hist", "recency-sz-hist", "cold-memory-tail",
          "recency-percentiles", "idle-time-percentiles", "temperature-percentiles")
SORT_KEYS = ("address", "probe_hits_wsum", "age", "size", "temperature")
MIN_CHARS = [["<index>", 3], ["<start address>", 12], ["<end address>", 11], ["<size>", 11],
             ["<age>", 13], ["<filters passed bytes>", 11], ["<filters passed type>", 10]]
UNSET_USEC = int(UNSET)       # age_usec that the access filter left unset
OPS_FILTER_TYPES = ("anon", "active", "memcg", "young", "hugepage_size", "unmapped")

fmt_nr, fmt_sz, fmt_time_ns, fmt_time_us = (units.format_nr, units.format_sz,
                                            units.format_time_ns, units.format_time_us)


class Region:
    __slots__ = ("start", "end", "samples", "aggrs", "usec", "szfp", "hits")

    def __init__(self, start, end, samples, aggrs, usec, szfp, hits=()):
        self.start, self.end, self.samples = start, end, samples
        self.aggrs, self.usec, self.szfp, self.hits = aggrs, usec, szfp, list(hits)

    def size(self):
        return self.end - self.start


class Snapshot:
    """A snapshot: its regions as columns (lists of Python numbers, damo's
    arithmetic, made from the record's numpy columns when first asked for
    and dropped by release()), and as Region objects only when something
    asks for them (the styles that walk regions, --adjust_region, --json):
    a million objects, or lists of a million numbers, cost more than the
    report."""

    def __init__(self, start, end, source, total_bytes, stats, sample_us):
        self.start, self.end = start, end
        self._source = source       # (Record's columns, first region, end)
        self._columns = None        # (starts, ends, samples, aggrs, usecs, szfps)
        self._regions = None
        self.total_bytes, self.stats, self.sample_us = total_bytes, stats, sample_us

    def _region_columns(self):
        if self._columns is None:
            cols, a, b = self._source
            starts, ends, samples, ages = (c[a:b].tolist() for c in cols[:4])
            szfps = cols[5][a:b].tolist() if cols[5] is not None else [0] * (b - a)
            aggr_us = cols[6]
            if cols[4] is None:
                usecs = [age * aggr_us for age in ages]
            else:
                usecs = [u if u != UNSET_USEC else age * aggr_us
                         for u, age in zip(cols[4][a:b].tolist(), ages)]
            self._columns = (starts, ends, samples, ages, usecs, szfps)
        return self._columns

    def release(self):
        """Drop the column lists (they are made again when asked for)."""
        self._columns = None

    @property
    def regions(self):
        if self._regions is None:
            self._regions = [Region(*values) for values in zip(*self._region_columns())]
        return self._regions

    @regions.setter
    def regions(self, regions):
        self._regions = list(regions)

    def nr_regions(self):
        if self._regions is not None:
            return len(self._regions)
        return self._source[2] - self._source[1]

    def columns(self):
        """(starts, ends, samples, aggrs, usecs, szfps, hits): hits is None
        when no region has any (ours never do: the simulated kernel has no
        probes, and the reader keeps none)."""
        if self._regions is None:
            return self._region_columns() + (None,)
        rs = self._regions
        hits = [r.hits for r in rs] if any(r.hits for r in rs) else None
        return ([r.start for r in rs], [r.end for r in rs], [r.samples for r in rs],
                [r.aggrs for r in rs], [r.usec for r in rs], [r.szfp for r in rs], hits)

    def sizes(self):
        starts, ends = self.columns()[:2]
        return list(map(operator.sub, ends, starts))


class Record:
    """A record as damo's objects see it, with the kdamonds it came from."""

    def __init__(self, record, kdamonds, path):
        self.base = record
        self.kdamond_idx = record.kdamond_idx
        self.context_idx = record.context_idx
        self.scheme_idx = record.scheme_idx
        self.target_id = record.target_id
        self.intervals = record.intervals
        self.data_source = record.data_source
        self.scheme_filters = [model.Filter(f) for f in record.scheme_filters]
        try:
            ctx = kdamonds[self.kdamond_idx].contexts[self.context_idx]
        except IndexError:
            raise DamoError("%s.kdamonds: no kdamond %d context %d for its records" % (
                path, self.kdamond_idx, self.context_idx)) from None
        self.ctx = ctx
        self.weights = [p.weight for p in ctx.probes]
        if record.nr_regions and self.intervals is None:
            raise DamoError("%s: a record without monitoring intervals (report attrs needs "
                            "them for the regions' ages)" % path)
        totals = record.snapshot_total_bytes().tolist()
        aggr_us = self.intervals.aggr_us if self.intervals is not None else 0
        if len(record.ages) and bool(np.any(record.ages == AGE_UNKNOWN)):
            raise DamoError("%s: a region of unknown age (report attrs needs ages)" % path)
        columns = (record.starts, record.ends, record.nr_accesses, record.ages,
                   getattr(record, "age_usec", None), record.sz_filter_passed, aggr_us)
        offsets = record.region_offsets.tolist()
        self.snapshots = []
        for sidx in range(record.nr_snapshots):
            a, b = offsets[sidx], offsets[sidx + 1]
            stats = None if record.damos_stats is None else record.damos_stats[sidx]
            sample_us = None
            if record.sample_interval_us is not None and \
                    not np.isnan(record.sample_interval_us[sidx]):
                sample_us = record.sample_interval_us[sidx]
            self.snapshots.append(Snapshot(record.start_ns[sidx].item(),
                                           record.end_ns[sidx].item(), (columns, a, b),
                                           totals[sidx], stats, sample_us))


# ----------------------------------------------------------------- values

def hits_wsum(region, weights):
    return sum(h * weights[i] for i, h in enumerate(region.hits))


def _hits_wsums(hits, weights, n):
    """hits_wsum() of each region, from a columns() hits column."""
    if hits is None:
        return [0] * n
    return [sum(h * weights[i] for i, h in enumerate(hs)) for hs in hits]


def temperature(region, weights, hits_age_sz):
    wsum = hits_wsum(region, weights)
    hw, aw, sw = hits_age_sz
    score = wsum * hw + region.usec * aw + region.size() * sw
    return -score if wsum <= 0 else score


def goal_enabled(intervals):
    return bool(intervals.goal) and intervals.goal.get("aggrs", 0) != 0


def snapshot_intervals(snapshot, record):
    """(sample_us, aggr_us) of a snapshot, as damo infers them."""
    iv = record.intervals
    if not goal_enabled(iv):
        return iv.sample_us, iv.aggr_us
    ratio = iv.aggr_us / iv.sample_us
    if snapshot.sample_us is not None:
        return snapshot.sample_us, snapshot.sample_us * ratio
    aggr = (snapshot.end - snapshot.start) / 1000
    if abs(aggr - iv.aggr_us) / iv.aggr_us < 0.1:
        return iv.sample_us, iv.aggr_us
    return aggr / ratio, aggr


def intervals_goal_str(goal, raw):
    goal = goal or {"access_bp": 0, "aggrs": 0, "min_sample_us": 0, "max_sample_us": 0}
    return "target %s accesses per %s aggrs, [%s, %s] sampling interval" % (
        model.bp(goal["access_bp"], raw), fmt_nr(goal["aggrs"], raw),
        fmt_time_us(goal["min_sample_us"], raw), fmt_time_us(goal["max_sample_us"], raw))


def probes_str(ctx, raw):
    if not ctx.probes:
        return "No probe"
    if len(ctx.probes) == 1:
        return "probe %s" % ctx.probes[0].to_str(raw)
    return "\n".join(["probes"] + ["- %s" % p.to_str(raw) for p in ctx.probes])


class Report:
    def __init__(self, records, fmt):
        self.records = records
        self.fmt = fmt
        self.text_caches = {}       # region keyword -> {value: padded text}

    # -------------------------------------------------------- snapshot values

    def heatmap(self, snapshot, record):
        """report access's snapshot heatmap (damo's heatmap_str) over probe
        hits: a region's temperature has the same form there (its size, access
        rate and age by weights, negative when not accessed), here with the
        weighted probe hits for the access rate."""
        from damo.reports.access_format import snapshot_heatmap
        fmt = self.fmt
        starts, ends, _, _, usecs, _, hits = snapshot.columns()
        hits_w, age_w, size_w = fmt["temperature_weights"]
        return snapshot_heatmap(
            starts, ends, _hits_wsums(hits, record.weights, len(starts)), usecs,
            (size_w, hits_w, age_w), fmt["snapshot_heatmap_width"],
            fmt["snapshot_heatmap_static"], fmt["snapshot_heatmap_colorset"], fmt["color"],
            fmt["raw_number"])

    def _hist_str(self, snapshot, record, metric, fmt_x, parse_x):
        fmt = self.fmt
        if not snapshot.regions:
            return "no region in snapshot"
        aggr_us = snapshot_intervals(snapshot, record)[1]
        dist = {}
        for r in snapshot.regions:
            v = metric(r, aggr_us, record)
            dist[v] = dist.get(v, 0) + r.size()
        metrics = sorted(dist)
        if fmt["hist_ranges"] is not None:
            ranges = [[parse_x(fmt["hist_ranges"][i]), parse_x(fmt["hist_ranges"][i + 1])]
                      for i in range(0, len(fmt["hist_ranges"]), 2)]
        else:
            ranges = hist_ranges(metrics[0], metrics[-1], 10, fmt["hist_logscale"],
                                 fmt["hist_cumulate"])
        raw = fmt["raw_number"]
        hist = []
        for lo, hi in ranges:
            y = sum(dist[x] for x in metrics if lo <= x < hi)
            hist.append(["[%s, %s)" % (fmt_x(lo, raw), fmt_x(hi, raw)), fmt_sz(y, raw), y])
        return histogram_str(hist)

    def _temperature(self, r, aggr_us, record):
        tw = self.fmt["temperature_weights"]
        return temperature(r, record.weights, [tw[0], tw[1], 0])

    @staticmethod
    def _idle_time(r, aggr_us, record):
        if any(h > 0 for h in r.hits):
            return 0
        return r.usec + aggr_us

    def _percentiles(self, snapshot, record, kind):
        fmt = self.fmt
        if not snapshot.regions:
            return "no region in snapshot"
        aggr_us = snapshot_intervals(snapshot, record)[1]
        metric = self._idle_time if kind == "recency" else self._temperature
        pr = fmt["percentiles_range"]
        if pr is None:
            wanted = [0, 1, 25, 50, 75, 99, 100]
        elif len(pr) <= 3:
            wanted = list(range(*pr))
        else:
            wanted = sorted(pr)
        regions = sorted(snapshot.regions, key=lambda r: metric(r, aggr_us, record))
        total = sum(r.size() for r in regions)
        values, percentile = [], 0
        for r in regions:
            percentile += r.size() * 100 / total
            while wanted and percentile >= wanted[0]:
                values.append([wanted[0], metric(r, aggr_us, record)])
                wanted = wanted[1:]
            if percentile >= 100.0:
                break
        if 100 in wanted:
            values.append([100, metric(r, aggr_us, record)])
        raw = fmt["raw_number"]
        if kind == "recency":
            legend = "<idle time (us)>" if raw else "<idle time>"
            fmt_fn = fmt_time_us
        else:
            legend = "<temperature (weights: %s)>" % list(fmt["temperature_weights"])
            fmt_fn = fmt_nr
        lines = ["<percentile> %s" % legend]
        ptxt = ["%d" % p for p, _ in values]
        vtxt = [fmt_fn(v, raw) for _, v in values]
        pw, vw = max(len(p) for p in ptxt), max(len(v) for v in vtxt)
        lo, hi = values[0][-1], values[-1][-1]
        per_dot = (hi - lo) / 20 if hi != lo else 1
        for (p, v), pt, vt in zip(values, ptxt, vtxt):
            bar = int((v - lo) / per_dot)
            lines.append("%s%s  %s%s  |%s%s|" % (" " * (pw - len(pt)), pt, " " * (vw - len(vt)),
                                                 vt, "*" * bar, " " * (20 - bar)))
        return "\n".join(lines)

    def filters_pass_type(self, record):
        ops = [f for f in record.scheme_filters if f.filter_type in OPS_FILTER_TYPES]
        if not ops:
            return "n/a"
        return ", ".join(f.to_str(False) for f in ops)

    def mem_bw(self, snapshot, record, df_only=False):
        samples, szfps = snapshot.columns()[2], snapshot.columns()[5]
        total = sum(map(operator.mul, szfps if df_only else snapshot.sizes(), samples))
        sec = snapshot_intervals(snapshot, record)[1] / 1000000
        return "%s per second" % fmt_sz(total / sec, self.fmt["raw_number"])

    def tuning_status(self, snapshot, record):
        iv = record.intervals
        per_region = iv.aggr_us / iv.sample_us
        sizes = snapshot.sizes()
        max_obs = sum(per_region * z for z in sizes)
        obs = sum(map(operator.mul, sizes, snapshot.columns()[2]))
        raw = self.fmt["raw_number"]
        return "%s (%s / %s) %s %s" % (
            units.format_percent(obs * 100 / max(max_obs, 1), raw), fmt_sz(obs, raw),
            fmt_sz(max_obs, raw), fmt_time_us(iv.sample_us, raw), fmt_time_us(iv.aggr_us, raw))

    def snapshot_intervals_str(self, snapshot, record):
        iv = record.intervals
        ratio = iv.aggr_us // iv.sample_us
        aggr = snapshot_intervals(snapshot, record)[1]
        raw = self.fmt["raw_number"]
        return "sample %s aggr %s (max probe hits %s)" % (
            fmt_time_us(aggr / ratio, raw), fmt_time_us(aggr, raw), fmt_nr(ratio, raw))

    def damos_stats(self, snapshot):
        if snapshot.stats is None:
            return "none"
        return model.Stats(snapshot.stats).to_str(self.fmt["raw_number"])

    # ----------------------------------------------------------- keywords

    def record_value(self, keyword, record):
        raw = self.fmt["raw_number"]
        snaps = record.snapshots
        if keyword == "<kdamond index>":
            return "%s" % record.kdamond_idx
        if keyword == "<context index>":
            return "%s" % record.context_idx
        if keyword == "<scheme index>":
            return "%s" % record.scheme_idx
        if keyword == "<target id>":
            return "%s" % record.target_id
        if keyword == "<abs start time>":
            return fmt_time_ns(snaps[0].start, raw)
        if keyword == "<duration>":
            return fmt_time_ns(snaps[-1].end - snaps[0].start, raw)
        if keyword == "<intervals>":
            return "sample %s, aggr %s" % (fmt_time_us(record.intervals.sample_us, raw),
                                           fmt_time_us(record.intervals.aggr_us, raw))
        if keyword == "<intervals goal>":
            return intervals_goal_str(record.intervals.goal, raw)
        if keyword == "<data source>":
            return record.data_source
        if keyword == "<format strings>":
            f = self.fmt
            return "\n".join(['record head: "%s"' % f["format_record_head"],
                              'snapshot head: "%s"' % f["format_snapshot_head"],
                              'region: "%s"' % f["format_region"],
                              'snapshot tail: "%s"' % f["format_snapshot_tail"],
                              'record tail: "%s"' % f["format_record_tail"]])
        raise KeyError(keyword)

    def snapshot_value(self, keyword, snapshot, record):
        raw = self.fmt["raw_number"]
        first = record.snapshots[0].start
        k = keyword
        if k == "<probes>":
            return probes_str(record.ctx, raw)
        if k == "<total bytes>":
            return fmt_sz(snapshot.total_bytes, raw)
        if k == "<duration>":
            return fmt_time_ns(snapshot.end - snapshot.start, raw)
        if k == "<start time>":
            return fmt_time_ns(snapshot.start - first, raw)
        if k == "<end time>":
            return fmt_time_ns(snapshot.end - first, raw)
        if k == "<abs start time>":
            return fmt_time_ns(snapshot.start, raw)
        if k == "<abs end time>":
            return fmt_time_ns(snapshot.end, raw)
        if k == "<number of regions>":
            return fmt_nr(snapshot.nr_regions(), raw)
        if k == "<temperature-sz histogram>":
            return self._hist_str(snapshot, record, self._temperature, fmt_nr, model.to_nr)
        if k == "<recency-sz histogram>":
            return self._hist_str(snapshot, record, self._idle_time, fmt_time_us,
                                  model.to_us)
        if k == "<recency percentiles>":
            return self._percentiles(snapshot, record, "recency")
        if k == "<temperature percentiles>":
            return self._percentiles(snapshot, record, "temperature")
        if k == "<heatmap>":
            return self.heatmap(snapshot, record)
        if k == "<filters passed type>":
            return self.filters_pass_type(record)
        if k == "<filters passed bytes>":
            return fmt_sz(sum(snapshot.columns()[5]), raw)
        if k == "<estimated memory bandwidth>":
            return self.mem_bw(snapshot, record)
        if k == "<filters passed estimated memory bandwidth>":
            return self.mem_bw(snapshot, record, df_only=True)
        if k == "<intervals tuning status>":
            return self.tuning_status(snapshot, record)
        if k == "<damos stats>":
            return self.damos_stats(snapshot)
        if k == "<snapshot intervals>":
            return self.snapshot_intervals_str(snapshot, record)
        raise KeyError(k)

    def region_value(self, keyword, region, idx, record):
        raw = self.fmt["raw_number"]
        if keyword == "<index>":
            return fmt_nr(idx, raw)
        if keyword == "<start address>":
            return fmt_sz(region.start, raw)
        if keyword == "<end address>":
            return fmt_sz(region.end, raw)
        if keyword == "<size>":
            return fmt_sz(region.size(), raw)
        if keyword == "<age>":
            return fmt_time_us(region.usec, raw)
        if keyword == "<temperature>":
            return fmt_nr(temperature(region, record.weights, self.fmt["temperature_weights"]),
                          raw)
        if keyword == "<probe hits>":
            return " ".join("%d" % h for h in region.hits)
        if keyword == "<filters passed bytes>":
            return fmt_sz(region.szfp, raw)
        raise KeyError(keyword)


RECORD_KEYWORDS = ("<kdamond index>", "<context index>", "<scheme index>", "<target id>",
                   "<abs start time>", "<duration>", "<intervals>", "<intervals goal>",
                   "<data source>", "<format strings>")
SNAPSHOT_KEYWORDS = ("<probes>", "<total bytes>", "<duration>", "<start time>", "<end time>",
                     "<abs start time>", "<abs end time>", "<number of regions>",
                     "<temperature-sz histogram>", "<recency-sz histogram>",
                     "<recency percentiles>", "<temperature percentiles>", "<heatmap>",
                     "<filters passed type>", "<filters passed bytes>",
                     "<estimated memory bandwidth>",
                     "<filters passed estimated memory bandwidth>",
                     "<intervals tuning status>", "<damos stats>", "<snapshot intervals>")
REGION_KEYWORDS = ("<index>", "<start address>", "<end address>", "<size>", "<age>",
                   "<temperature>", "<probe hits>", "<filters passed bytes>")


# ------------------------------------------------------------------ formats

def default_format(options):
    """damo's ReportFormat fields from the options (before the defaults)."""
    fmt = dict(options)
    fmt.setdefault("min_chars_for", [list(x) for x in MIN_CHARS])
    for area in ("record_head", "record_tail", "snapshot_head", "snapshot_tail", "region"):
        fmt.setdefault("format_" + area, None)
    return fmt


def _min_chars(fmt, keyword, text):
    for name, nr in fmt["min_chars_for"]:
        if name == keyword:
            nr = int(nr)
            return text if len(text) >= nr else text + " " * (nr - len(text))
    return text


def fill(template, keywords, value_of, fmt):
    """damo's format_output(): each keyword in its order, replaced."""
    if template == "":
        return None
    for keyword in keywords:
        if keyword not in template:
            continue
        template = template.replace(keyword, _min_chars(fmt, keyword, value_of(keyword)))
    return template.replace("\\n", "\n")


def set_formats(fmt, records, style, formats, total_sz_only):
    for fields in formats or ():
        if len(fields) != 3:
            raise DamoError("--format: wrong number of fields (%s)" % list(fields))
        action, area, text = fields
        if action not in ("set", "append"):
            raise DamoError("--format: wrong action %r (set or append)" % action)
        if area not in ("record_head", "snapshot_head", "region", "snapshot_tail",
                        "record_tail"):
            raise DamoError("--format: wrong target area %r" % area)
        if action == "set":
            fmt["format_" + area] = text
    multi = any(len(r.snapshots) > 1 for r in records)
    if style in ("temperature-sz-hist", "recency-sz-hist", "cold-memory-tail"):
        if style == "temperature-sz-hist":
            legend, keyword = "<temperature>", "<temperature-sz histogram>"
        else:
            legend, keyword = "<idle time (us)>", "<recency-sz histogram>"
        fmt["format_snapshot_head"] = "%s <total size>\n%s" % (legend, keyword)
        fmt["format_region"] = ""
    elif style in ("recency-percentiles", "idle-time-percentiles", "temperature-percentiles"):
        head = ["snapshot time: [<start time>, <end time>] (<duration>)"] if multi else []
        if style == "temperature-percentiles":
            head += ["# total temperature percentiles", "<temperature percentiles>"]
        else:
            head += ["# total recency percentiles", "<recency percentiles>"]
        fmt["format_snapshot_head"] = "\n".join(head)
        fmt["format_region"] = ""
    if total_sz_only:
        fmt["format_snapshot_head"] = ""
        fmt["format_region"] = ""
        fmt["format_snapshot_tail"] = "<total bytes>"
    df = any(r.scheme_filters for r in records)
    if fmt["format_record_head"] is None:
        fmt["format_record_head"] = (
            "kdamond <kdamond index> / context <context index> / scheme <scheme index> / "
            "target id <target id> / recorded for <duration> from <abs start time>"
            if len(records) > 1 else "")
    if fmt["format_record_tail"] is None:
        tail = ["record DAMON intervals: <intervals>"]
        if any(r.intervals is not None and goal_enabled(r.intervals) for r in records):
            tail.append("# <intervals goal>")
        if any(r.data_source == "damon_stat" for r in records):
            tail.append("# data source: <data source>")
        fmt["format_record_tail"] = "\n".join(tail)
    if fmt["format_snapshot_head"] is None:
        head = ["snapshot time: [<start time>, <end time>] (<duration>)"] if multi else []
        head += ["heatmap: <heatmap>", "<probes>", "intervals: <snapshot intervals>"]
        if df:
            head.append("# damos filters (df): <filters passed type>")
        if fmt["format_region"] is None:
            head.append(legend_line(fmt["min_chars_for"], df))
        fmt["format_snapshot_head"] = "\n".join(head)
    if fmt["format_snapshot_tail"] is None:
        if df:
            tail = ("memory bw estimate: <estimated memory bandwidth>  df-passed: "
                    "<filters passed estimated memory bandwidth>\ntotal size: <total bytes>  "
                    "df-passed <filters passed bytes>")
        else:
            tail = "memory bw estimate: <estimated memory bandwidth>\ntotal size: <total bytes>"
        if df:
            tail += "\nscheme stats\n<damos stats>"
        fmt["format_snapshot_tail"] = tail
    if fmt["format_region"] is None:
        region = "<index> <size>  <start address>"
        if df:
            region += "  <filters passed bytes>"
        fmt["format_region"] = region + "  <age> <probe hits>"
    for action, area, text in formats or ():
        if action == "append":
            fmt["format_" + area] += text
    return fmt


def legend_line(min_chars, df):
    def width(name):
        return next(int(v) for n, v in min_chars if n == name)
    words = ["#", " " * width("<index>"), "size", " " * (width("<size>") - 4 + 2), "address",
             " " * (width("<start address>") - 7 + 2)]
    if df:
        words += ["df-passed", " " * (width("<filters passed bytes>") - 9 + 2)]
    words += ["age", " " * (width("<age>") - 3 + 1), "probe_hits"]
    return "".join(words)


def sort_steps(keys):
    """damo's sort_regions_by words as (key, reverse) steps, in order: a key,
    reversed when the word after it is 'reverse' (temperature when none)."""
    keys = list(keys) if keys is not None else ["temperature"]
    i = 0
    while i < len(keys):
        key = keys[i]
        i += 1
        reverse = i < len(keys) and keys[i] == "reverse"
        if reverse:
            i += 1
        yield key, reverse


def sorted_regions(regions, keys, record, weights):
    for key, reverse in sort_steps(keys):
        if key == "address":
            regions = sorted(regions, key=lambda r: r.start, reverse=reverse)
        elif key == "probe_hits_wsum":
            regions = sorted(regions, key=lambda r: hits_wsum(r, record.weights),
                             reverse=reverse)
        elif key == "age":
            regions = sorted(regions, key=lambda r: r.usec, reverse=reverse)
        elif key == "size":
            regions = sorted(regions, key=lambda r: r.size(), reverse=reverse)
        elif key == "temperature":
            regions = sorted(regions, reverse=reverse,
                             key=lambda r: temperature(r, record.weights, weights))
    return regions


def sorted_order(snapshot, keys, record, weights):
    """The positions of sorted_regions(), from the snapshot's columns:
    successive stable sorts, as damo's sorted() calls (the keys are Python
    numbers, compared as damo compares them)."""
    starts, ends, _, _, usecs, _, hits = snapshot.columns()
    n = len(starts)
    order = list(range(n))
    sizes = wsums = None
    for key, reverse in sort_steps(keys):
        if key == "address":
            column = starts
        elif key == "probe_hits_wsum":
            column = wsums = wsums or _hits_wsums(hits, record.weights, n)
        elif key == "age":
            column = usecs
        elif key == "size":
            column = sizes = sizes or list(map(operator.sub, ends, starts))
        elif key == "temperature":
            sizes = sizes or list(map(operator.sub, ends, starts))
            hw, aw, sw = weights
            if hits is None:
                # nothing hit: -(0 * hw + u * aw + z * sw), the same order
                # without the zero term (only -0.0 and 0.0 differ, and they tie)
                column = list(map(operator.neg, map(
                    operator.add, map(operator.mul, usecs, itertools.repeat(aw, n)),
                    map(operator.mul, sizes, itertools.repeat(sw, n)))))
            else:
                wsums = wsums or _hits_wsums(hits, record.weights, n)
                column = [(-1 if w <= 0 else 1) * (w * hw + u * aw + z * sw)
                          for w, u, z in zip(wsums, usecs, sizes)]
        else:
            continue
        order.sort(key=column.__getitem__, reverse=reverse)
    return order


# the region template's keywords as a single pattern: a region line is one
# %-format of its columns' texts
_REGION_RE = re.compile("|".join(re.escape(k) for k in REGION_KEYWORDS))


def _region_plan(template):
    """(format string, keywords) of a region template, or None when damo's
    keyword-by-keyword replacement could differ from a single pass (a '<' or
    '>' outside the keywords: a replaced value could complete a keyword)."""
    keywords = _REGION_RE.findall(template)
    if template.count("<") != len(keywords) or template.count(">") != len(keywords):
        return None
    pieces = _REGION_RE.split(template)
    out = [p.replace("\\n", "\n").replace("%", "%%") for p in pieces]
    return "%s".join(out), keywords


def _region_lines(report, template, snapshot, record, fmt):
    """The region lines of a snapshot, a column at a time: each distinct
    value is formatted (and padded) once."""
    plan = _region_plan(template)
    if plan is None:
        regions = sorted_regions(snapshot.regions, fmt["sort_regions_by"], record,
                                 fmt["temperature_weights"])
        return [fill(template, REGION_KEYWORDS,
                     lambda k: report.region_value(k, r, idx, record), fmt)
                for idx, r in enumerate(regions)]
    fmtstr, keywords = plan
    n = snapshot.nr_regions()
    if n == 0:
        return []
    block = _region_block(report, template, keywords, snapshot, fmt)
    if block is not None:
        return [block]
    order = sorted_order(snapshot, fmt["sort_regions_by"], record, fmt["temperature_weights"])
    starts, ends, _, _, usecs, szfps, hits = snapshot.columns()
    raw = fmt["raw_number"]
    caches = report.text_caches

    def texts(keyword, values, fn, mixed=False):
        kind = None
        if mixed:
            # ages may mix ints and floats: 5000 and 5000.0 are one key but
            # not one text
            types = set(map(type, values))
            if len(types) > 1:
                return [_min_chars(fmt, keyword, fn(v)) for v in values]
            kind = types.pop() if types else None
        cache = caches.setdefault((keyword, kind), {})
        out = list(map(cache.get, values))
        if None in out:     # (texts are never None)
            for i, v in enumerate(values):
                if out[i] is None:
                    text = cache.get(v)
                    if text is None:
                        text = cache[v] = _min_chars(fmt, keyword, fn(v))
                    out[i] = text
        return out

    def sz(v):
        return fmt_sz(v, raw)

    def sorted_(column):
        return list(map(column.__getitem__, order))

    cols = []
    for kw in keywords:
        if kw == "<index>":
            index = caches.setdefault("<index> lines", [])
            if len(index) < n:
                index[:] = [_min_chars(fmt, kw, fmt_nr(i, raw)) for i in range(n)]
            cols.append(index[:n])
        elif kw == "<start address>":
            cols.append(texts(kw, sorted_(starts), sz))
        elif kw == "<end address>":
            cols.append(texts(kw, sorted_(ends), sz))
        elif kw == "<size>":
            cols.append(texts(kw, sorted_(snapshot.sizes()), sz))
        elif kw == "<age>":
            cols.append(texts(kw, sorted_(usecs), lambda v: fmt_time_us(v, raw), mixed=True))
        elif kw == "<temperature>":
            hw, aw, sw = fmt["temperature_weights"]
            wsums = _hits_wsums(hits, record.weights, n)
            temps = [(-1 if wsums[i] <= 0 else 1) *
                     (wsums[i] * hw + usecs[i] * aw + (ends[i] - starts[i]) * sw)
                     for i in order]
            cols.append(texts(kw, temps, lambda v: fmt_nr(v, raw), mixed=True))
        elif kw == "<probe hits>":
            if hits is None:
                cols.append([_min_chars(fmt, kw, "")] * n)
            else:
                cols.append([_min_chars(fmt, kw, " ".join("%d" % h for h in hits[i]))
                             for i in order])
        elif kw == "<filters passed bytes>":
            cols.append(texts(kw, [szfps[i] for i in order], sz))
    if not cols:
        return [fmtstr % ()] * n        # no keyword: the same line for each region
    return list(map(fmtstr.__mod__, zip(*cols)))


# a column of integers past this is left to Python's numbers (int64 would wrap)
_INT_LIMIT = 1 << 62


def _region_block(report, template, keywords, snapshot, fmt):
    """_region_lines()'s lines as one text (joined by newlines), their
    columns sorted with numpy and joined in C (damo.reports._ctrace), or
    None where that does not give the same text: no C module, regions made
    as objects (--adjust_region), probe hits, recorded age_usec, a float
    aggregation interval, or numbers past int64.  Each distinct value's text
    is the Python path's (the same cache); sorts are stable, as damo's."""
    try:
        from damo.reports import _ctrace
    except ImportError:
        return None
    if snapshot._regions is not None:
        return None
    cols, a, b = snapshot._source
    aggr_us = cols[6]
    if type(aggr_us) is not int or not 0 <= aggr_us < (1 << 30) or \
            (cols[4] is not None and cols[4].dtype.kind not in "iu"):
        return None
    if any(c.dtype.kind not in "iu" for c in cols[:4]) or \
            (cols[5] is not None and cols[5].dtype.kind not in "iu"):
        return None
    starts, ends, ages = cols[0][a:b], cols[1][a:b], cols[3][a:b]
    if int(ends.max()) >= _INT_LIMIT or int(starts.min()) < 0 or \
            not (0 <= int(ages.min()) and int(ages.max()) < (1 << 31)):
        return None
    starts, ends, ages = starts.astype(np.int64), ends.astype(np.int64), ages.astype(np.int64)
    usecs = ages * aggr_us
    if cols[4] is not None:
        # a recorded age in us where the access filter set one
        recorded = cols[4][a:b]
        kept = recorded != UNSET_USEC
        if np.any(kept):
            if int(recorded[kept].max()) >= _INT_LIMIT or int(recorded[kept].min()) < 0:
                return None
            usecs = np.where(kept, recorded.astype(np.int64), usecs)
    sizes = ends - starts
    hw, aw, sw = fmt["temperature_weights"]
    if max(abs(aw), abs(sw)) >= (1 << 20) or (len(sizes) and int(np.abs(sizes).max()) >=
                                              (1 << 40)):
        return None
    # nothing hit: (-1) * (0 * hw + u * aw + z * sw)
    temps = -(usecs * aw + sizes * sw)
    n = len(starts)
    order = np.arange(n)
    for key, reverse in sort_steps(fmt["sort_regions_by"]):
        column = {"address": starts, "age": usecs, "size": sizes,
                  "temperature": temps}.get(key)
        if column is None:      # an unknown key, or probe_hits_wsum: every wsum is 0, all tie
            continue
        keyed = column[order]
        if reverse:
            # stable descending: equal keys keep their order, as list.sort(reverse=True)
            order = order[::-1][np.argsort(keyed[::-1], kind="stable")[::-1]]
        else:
            order = order[np.argsort(keyed, kind="stable")]
    raw = fmt["raw_number"]
    caches = report.text_caches

    def column(keyword, values, fn, kind=None):
        uniq, inverse = np.unique(values[order], return_inverse=True)
        inverse = np.ascontiguousarray(inverse.reshape(-1), dtype=np.int64)
        last = caches.get(("last distinct", keyword))
        if last is not None and len(last[0]) == len(uniq) and np.array_equal(last[0], uniq):
            # the snapshot before had these values (a recording's regions)
            return last[1], last[2], inverse
        cache = caches.setdefault((keyword, kind), {})
        encoded_cache = caches.setdefault(("encoded", keyword, kind), {})
        encoded, lengths = [], []
        for v in uniq.tolist():
            got = encoded_cache.get(v)
            if got is None:
                text = cache.get(v)
                if text is None:
                    text = cache[v] = _min_chars(fmt, keyword, fn(v))
                got = encoded_cache[v] = (text.encode(), len(text))
            encoded.append(got[0])
            lengths.append(got[1])
        caches[("last distinct", keyword)] = (uniq, encoded, lengths)
        return encoded, lengths, inverse

    def sz(v):
        return fmt_sz(v, raw)

    parts = []
    for kw in keywords:
        if kw == "<index>":
            index = caches.setdefault("<index> lines", [])
            if len(index) < n:
                index[:] = [_min_chars(fmt, kw, fmt_nr(j, raw)) for j in range(n)]
            encoded = caches.get("<index> encoded")
            if encoded is None or len(encoded[0]) < n:
                encoded = caches["<index> encoded"] = ([t.encode() for t in index],
                                                       [len(t) for t in index])
            parts.append((encoded[0][:n], encoded[1][:n], np.arange(n, dtype=np.int64)))
        elif kw == "<start address>":
            parts.append(column(kw, starts, sz))
        elif kw == "<end address>":
            parts.append(column(kw, ends, sz))
        elif kw == "<size>":
            parts.append(column(kw, sizes, sz))
        elif kw == "<age>":
            parts.append(column(kw, usecs, lambda v: fmt_time_us(v, raw), int))
        elif kw == "<temperature>":
            parts.append(column(kw, temps, lambda v: fmt_nr(v, raw), int))
        elif kw == "<probe hits>":
            text = _min_chars(fmt, kw, "")
            parts.append(([text.encode()], [len(text)], np.zeros(n, dtype=np.int64)))
        elif kw == "<filters passed bytes>":
            szfps = cols[5][a:b].astype(np.int64) if cols[5] is not None \
                else np.zeros(n, dtype=np.int64)
            parts.append(column(kw, szfps, sz))
        else:
            return None
    seps = [p.replace("\\n", "\n").encode() for p in _REGION_RE.split(template)]
    data, _ = _ctrace.join_lines(seps, parts, n)
    return data[:-1].decode()


def check_sort_keys(keys):
    for i, key in enumerate(keys or ()):
        if key in SORT_KEYS:
            continue
        if key == "reverse":
            if i > 0 and keys[i - 1] in SORT_KEYS:
                continue
            raise DamoError('--sort_regions_by: "reverse" at unexpected position (%d-th)' % i)
        raise DamoError("--sort_regions_by: unsupported input (%s)" % key)


def text_chunks(report, fmt):
    """damo's fmt_records(), as pieces whose concatenation is the text
    (a snapshot's lines at a time: no list of every line, and no copy of
    the whole text to join them)."""
    chunks = []
    out = []
    total_sz_only = (fmt["format_snapshot_head"] == "" and fmt["format_region"] == "" and
                     fmt["format_snapshot_tail"] == "<total bytes>")

    def add(text):
        if text is not None:
            out.append(text)

    def flush():
        if out:
            chunks.append(("\n" if chunks else "") + "\n".join(out))
            out.clear()

    for record in report.records:
        add(fill(fmt["format_record_head"], RECORD_KEYWORDS,
                 lambda k: report.record_value(k, record), fmt))
        for sidx, snapshot in enumerate(record.snapshots):
            add(fill(fmt["format_snapshot_head"], SNAPSHOT_KEYWORDS,
                     lambda k: report.snapshot_value(k, snapshot, record), fmt))
            if fmt["format_region"] != "":
                out.extend(_region_lines(report, fmt["format_region"], snapshot, record, fmt))
            add(fill(fmt["format_snapshot_tail"], SNAPSHOT_KEYWORDS,
                     lambda k: report.snapshot_value(k, snapshot, record), fmt))
            snapshot.release()
            if sidx < len(record.snapshots) - 1 and not total_sz_only:
                out.append("")
            if len(out) > 256:
                flush()
        add(fill(fmt["format_record_tail"], RECORD_KEYWORDS,
                 lambda k: report.record_value(k, record), fmt))
    flush()
    return chunks


def text(report, fmt):
    """damo's fmt_records(): the lines of every record."""
    return "".join(text_chunks(report, fmt))


def raw_form(records, raw):
    lines = []
    for record in records:
        snaps = record.snapshots
        if not snaps:
            continue
        base = snaps[0].start
        lines.append("base_time_absolute: %s" % fmt_time_ns(base, raw))
        lines.append("data source: %s\n" % record.data_source)
        for s in snaps:
            lines.append("monitoring_start:    %16s" % fmt_time_ns(s.start - base, raw))
            lines.append("monitoring_end:      %16s" % fmt_time_ns(s.end - base, raw))
            lines.append("monitoring_duration: %16s" % fmt_time_ns(s.end - s.start, raw))
            lines.append("target_id: %s" % record.target_id)
            lines.append("nr_regions: %s" % len(s.regions))
            lines.append("# %10s %12s  %12s  %5s probe_hits" % ("start_addr", "end_addr",
                                                               "length", "age"))
            for r in s.regions:
                lines.append("%012x-%012x (%12s) %5d %s" % (
                    r.start, r.end, fmt_sz(r.size(), raw), r.aggrs,
                    " ".join("%d" % h for h in r.hits)))
            lines.append("")
    lines.append("")
    return "\n".join(lines)


def adjust_regions(records, rules):
    """damo's --adjust_region: a region's size (or a probe's hits) scaled by
    its DAMOS-filter-passed share or a probe's hit rate.  As damo, only the
    first rule of the list is applied."""
    for record in records:
        iv = record.ctx.intervals
        max_hits = iv.aggr / iv.sample
        for snapshot in record.snapshots:
            for r in snapshot.regions:
                rule = list(rules[0])
                if len(rule) not in (2, 3, 4):
                    raise DamoError("--adjust_region: wrong number of fields (%d)" % len(rule))
                what, rest = rule[0], rule[1:]
                if what == "size":
                    if len(rest) not in (1, 2):
                        raise DamoError("--adjust_region: wrong number of size adjustment "
                                        "fields (%d)" % len(rest))
                    if rest[0] == "df_passed":
                        new = r.szfp
                    elif rest[0] == "probe_hits_rate":
                        idx = _probe_idx(rest, 1, r, "probe idx")
                        new = r.size() * (r.hits[idx] / max_hits)
                    else:
                        continue
                    r.end = r.start + new
                elif what == "probe_hits":
                    if len(rest) not in (2, 3):
                        raise DamoError("--adjust_region: wrong number of probe hits "
                                        "adjustment fields (%d)" % len(rest))
                    dst = _probe_idx(rest, 0, r, "dst probe idx")
                    if rest[1] == "df_passed":
                        rate = r.szfp / r.size()
                    elif rest[1] == "probe_hits_rate":
                        rate = r.hits[_probe_idx(rest, 2, r, "src probe idx")] / max_hits
                    else:
                        continue
                    r.hits[dst] *= rate


def _probe_idx(fields, i, region, what):
    if len(fields) <= i:
        raise DamoError("--adjust_region: no %s" % what)
    if not fields[i].isnumeric():
        raise DamoError("--adjust_region: %s is not number" % what)
    idx = int(fields[i])
    if idx >= len(region.hits):
        raise DamoError("--adjust_region: %s >= %d (the region has %d probe hits)"
                        % (what, len(region.hits), len(region.hits)))
    return idx


def json_text(records, kdamonds, raw):
    """damo's --json: per input file, its kdamonds and records (damo's
    to_kvpairs(raw); regions in its human-readable layout)."""
    def region_kv(r, intervals):
        percent = None
        if intervals is not None:
            percent = int(r.samples * 100.0 / (intervals.aggr_us / intervals.sample_us))
        return {"start": fmt_nr(r.start, False), "end": fmt_nr(r.end, False),
                "nr_accesses": {"samples": r.samples, "percent": percent},
                "age": {"usec": units.format_time_us_exact(r.usec, False)
                        if intervals is not None else None,
                        "aggr_intervals": fmt_nr(r.aggrs, False)},
                "probe_hits": list(r.hits), "sz_filter_passed": fmt_sz(r.szfp, False)}

    def intervals_kv(iv):
        if iv is None:
            return None
        goal = iv.goal or {"access_bp": 0, "aggrs": 0, "min_sample_us": 0,
                           "max_sample_us": 0}
        return {"sample_us": fmt_time_us(iv.sample_us, raw),
                "aggr_us": fmt_time_us(iv.aggr_us, raw),
                "ops_update_us": fmt_time_us(iv.ops_update_us, raw),
                "intervals_goal": {"access_bp": model.bp(goal["access_bp"], raw),
                                   "aggrs": fmt_nr(goal["aggrs"], raw),
                                   "min_sample_us": fmt_time_us(goal["min_sample_us"], raw),
                                   "max_sample_us": fmt_time_us(goal["max_sample_us"], raw)}}

    def stats_kv(kv):
        return None if kv is None else model.Stats(kv).to_kvpairs(raw)

    def record_kv(r):
        return {
            "kdamond_idx": r.kdamond_idx, "context_idx": r.context_idx,
            "intervals": intervals_kv(r.intervals), "scheme_idx": r.scheme_idx,
            "target_id": r.target_id,
            "scheme_filters": [f.to_kvpairs(raw) for f in r.scheme_filters],
            "snapshots": [{
                "start_time": model.time_ns_exact(s.start, raw),
                "end_time": model.time_ns_exact(s.end, raw),
                "regions": [region_kv(x, r.intervals) for x in s.regions],
                "total_bytes": fmt_sz(s.total_bytes, raw),
                "damos_stats": stats_kv(s.stats),
                "sample_interval_us": None if s.sample_us is None
                else model.time_us_exact(s.sample_us, raw)} for s in r.snapshots],
            "data_source": r.data_source}

    return json.dumps([{"damon_records": {
        "kdamonds": [k.to_kvpairs(raw) for k in kds],
        "record_list": [record_kv(r) for r in recs]}} for kds, recs in zip(kdamonds, records)],
        indent=4)


__all__ = ["Report", "Record", "adjust_regions", "check_sort_keys", "default_format",
           "json_text", "raw_form", "set_formats", "text", "text_chunks", "filter_kvpairs",
           "stats_kvpairs"]
