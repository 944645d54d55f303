"""``damo report access``'s text: damo 3.4.3's format templates, styles and
keywords, over RecordViews (damo.reports.access_records).

A report is five templates (record head and tail, snapshot head and tail,
region) whose ``<keywords>`` are replaced, keyword by keyword in damo's
order, with values of the record, snapshot or region; ``--style`` and the
defaults pick the templates as damo's set_formats() does.  Record and
snapshot templates are filled as damo fills them; region templates, which
run once per region, are cut into literal pieces and value columns once and
filled a snapshot at a time from per-value caches, which gives the same
text (region values never contain '<', '>' or a backslash).
"""
import json
import math
import os
import re

import numpy as np

from damo import units
from damo.errors import DamoError
from damo.reports.access_records import add_units, max_samples, temperatures
from damo.reports.colors import COLOR_END, COLORSETS, color_samples, color_start

STYLES = ("detailed", "simple-boxes", "temperature-sz-hist", "recency-sz-hist",
          "cold-memory-tail", "recency-percentiles", "idle-time-percentiles",
          "temperature-percentiles", "cold", "hot")
SORT_FIELDS = ("address", "access_rate", "age", "size", "temperature")
BOX_VALUES = ("size", "access_rate", "age", "none")
FORMAT_AREAS = ("record_head", "snapshot_head", "region", "snapshot_tail", "record_tail")
MIN_CHARS = [["<index>", 3], ["<start address>", 12], ["<end address>", 11], ["<size>", 11],
             ["<access rate>", 5], ["<access hz>", 6], ["<age>", 13],
             ["<filters passed type>", 10]]
MAX_COLOR_LEVEL = 9
DEFAULT_REGION = "<index> addr <start address> size <size> access <access hz> age <age>"

fmt_nr, fmt_sz, fmt_time_ns, fmt_time_us = (
    units.format_nr, units.format_sz, units.format_time_ns, units.format_time_us)


def colored(text, colorset, level, color):
    if not color:
        return text
    return color_start(colorset, level) + text + COLOR_END


def color_samples_text(colorset, color):
    return color_samples(colorset) if color else "0123456789"


def format_bp(bp, raw):
    return "%f" % bp if raw else units.format_ratio(float(bp) / 10000, False)


def format_hz_no_suffix(hz, raw):
    if raw:
        return "%f" % hz
    if hz < 10 and hz != 0:
        return "%.3f" % hz
    return fmt_nr(hz, False)


# ------------------------------------------------------------------ options

class ReportFormat:
    """damo's ReportFormat: what to print and how (from the options)."""

    def __init__(self, **kv):
        self.sort_regions_by = ["address"]
        self.sort_regions_dsc = None
        self.temperature_weights = [0, 100, 100]
        self.dont_merge_regions = False
        self.hist_logscale = False
        self.hist_cumulate = False
        self.hist_ranges = None
        self.percentiles_range = None
        self.format_record_head = None
        self.format_record_tail = None
        self.format_snapshot_head = None
        self.format_snapshot_tail = None
        self.format_region = None
        self.snapshot_heatmap_width = 80
        self.snapshot_heatmap_colorset = "gray"
        self.snapshot_heatmap_static = False
        self.region_box_values = ["age", "access_rate", "size"]
        self.region_box_min_max_height = [1, 5]
        self.region_box_min_max_length = [1, 30]
        self.region_box_colorset = "gray"
        self.region_box_scales = ["log", "linear", "log"]
        self.region_box_align = "left"
        self.min_chars_for = [list(x) for x in MIN_CHARS]
        self.raw_number = False
        self.json = False
        self.raw = False
        for key, value in kv.items():
            if not hasattr(self, key):
                raise TypeError(key)
            setattr(self, key, value)

    def total_sz_only(self):
        return (self.format_snapshot_head == "" and self.format_region == "" and
                self.format_snapshot_tail == "<total bytes>")

    _KV_KEYS = ("sort_regions_by", "sort_regions_dsc", "temperature_weights",
                "dont_merge_regions", "hist_logscale", "hist_cumulate", "hist_ranges",
                "percentiles_range", "format_record_head", "format_record_tail",
                "format_snapshot_head", "format_snapshot_tail", "format_region",
                "snapshot_heatmap_width", "snapshot_heatmap_static",
                "snapshot_heatmap_colorset", "region_box_values", "region_box_min_max_height",
                "region_box_min_max_length", "region_box_colorset", "region_box_scales",
                "region_box_align", "min_chars_for", "raw_number", "json")

    @classmethod
    def from_kvpairs(cls, kv):
        """damo's --format <json string or file> (its ReportFormat.to_kvpairs).
        damo 3.4.3 drops the heatmap colorset of such a format (and then fails
        to draw the snapshot heatmap); we keep it."""
        self = cls()
        required = ("sort_regions_by", "sort_regions_dsc", "temperature_weights",
                    "dont_merge_regions", "format_record_head", "format_record_tail",
                    "format_snapshot_head", "format_snapshot_tail", "format_region",
                    "region_box_values", "region_box_min_max_height",
                    "region_box_min_max_length", "region_box_colorset", "region_box_scales",
                    "region_box_align", "min_chars_for", "raw_number", "json")
        for key in required:
            if key not in kv:
                raise KeyError(key)
        for key in cls._KV_KEYS:
            if key in kv:
                setattr(self, key, kv[key])
        self.region_box_values = [v if v != "none" else None for v in self.region_box_values]
        return self


def _format_arg_fields(format_args):
    """--format uses, each a list of its words."""
    return [list(f) for f in (format_args or [])]


def _apply_format_set(fmt, format_args):
    if not format_args:
        return fmt
    if len(format_args) == 1 and len(format_args[0]) == 1:
        text = format_args[0][0]
        if os.path.isfile(text):
            try:
                with open(text) as f:
                    text = f.read()
            except OSError as e:
                raise DamoError("--format: %s: %s" % (format_args[0][0], e.strerror or e))
        try:
            return ReportFormat.from_kvpairs(json.loads(text))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise DamoError("format setting failed (wrong --format option)") from None
    for fields in format_args:
        if len(fields) != 3:
            raise DamoError("format setting failed (wrong nr of --format option (%s))"
                            % fields)
        action, area, text = fields
        if action not in ("set", "append"):
            raise DamoError("format setting failed (wrong --format action (%s))" % fields)
        if area not in FORMAT_AREAS:
            raise DamoError("format setting failed (wrong --format target area (%s))"
                            % fields)
        if action == "set":
            setattr(fmt, "format_" + area, text)
    return fmt


def _apply_format_append(fmt, format_args):
    if not format_args or (len(format_args) == 1 and len(format_args[0]) == 1):
        return
    for action, area, text in format_args:
        if action == "append":
            setattr(fmt, "format_" + area, getattr(fmt, "format_" + area) + text)


def _has_ops_filters(records):
    return any(r.ops_filters() for r in records)


def _apply_style(fmt, style, records):
    if style in (None, "detailed"):
        return
    boxed = dict(region_box_min_max_height=[1, 1], region_box_min_max_length=[1, 40],
                 region_box_align="right", region_box_colorset="emotion")
    if style == "simple-boxes":
        fmt.format_snapshot_head = "snapshot time: [<start time>, <end time>] (<duration>)"
        fmt.format_region = "<box> size <size> access <access hz> age <age>"
        for k, v in boxed.items():
            setattr(fmt, k, v)
    elif style in ("temperature-sz-hist", "recency-sz-hist", "cold-memory-tail"):
        if style == "temperature-sz-hist":
            legend, hist, df_hist = ("<temperature>", "<temperature-sz histogram>",
                                     "<temperature-df-passed-sz histogram>")
        else:
            legend, hist, df_hist = ("<idle time (us)>", "<recency-sz histogram>",
                                     "<recency-df-passed-sz histogram>")
        head = []
        if _has_ops_filters(records):
            head += ["# damos filters (df): <filters passed type>",
                     "%s <df-passed size>" % legend, df_hist, ""]
        head += ["%s <total size>" % legend, hist]
        fmt.format_snapshot_head = "\n".join(head)
        fmt.format_region = ""
    elif style in ("recency-percentiles", "idle-time-percentiles", "temperature-percentiles"):
        kind = "temperature" if style == "temperature-percentiles" else "recency"
        head = []
        if any(len(r.snapshots) > 1 for r in records):
            head.append("snapshot time: [<start time>, <end time>] (<duration>)")
        if _has_ops_filters(records):
            head += ["# damos filters (df): <filters passed type>",
                     "# df-passed %s percentiles" % kind,
                     "<df-passed %s percentiles>" % kind, ""]
        head += ["# total %s percentiles" % kind, "<%s percentiles>" % kind]
        fmt.format_snapshot_head = "\n".join(head)
        fmt.format_region = ""
    elif style in ("cold", "hot"):
        fmt.format_region = "<box> <size> access <access hz> <age>"
        for k, v in boxed.items():
            setattr(fmt, k, v)
        fmt.sort_regions_by = ["temperature"]
        if style == "hot":
            fmt.sort_regions_dsc = ["temperature"]


def _apply_defaults(fmt, records, region_box):
    with_filters = any(r.scheme_filters for r in records)
    if fmt.format_record_head is None:
        fmt.format_record_head = (
            "kdamond <kdamond index> / context <context index> / scheme <scheme index> / "
            "target id <target id> / recorded for <duration> from <abs start time>"
            if len(records) > 1 else "")
    if fmt.format_record_tail is None:
        tail = ["record DAMON intervals: <intervals>"]
        if any(r.intervals is not None and r.intervals.tuning_enabled for r in records):
            tail.append("# <intervals goal>")
        if any(r.data_source == "damon_stat" for r in records):
            tail.append("# data source: <data source>")
        fmt.format_record_tail = "\n".join(tail)
    if fmt.format_snapshot_head is None:
        head = []
        if any(len(r.snapshots) > 1 for r in records):
            head.append("snapshot time: [<start time>, <end time>] (<duration>)")
        head += ["heatmap: <heatmap>", "intervals: <snapshot intervals>"]
        if with_filters:
            head += ["# damos filters (df): <filters passed type>",
                     "df-pass: <filters passed heatmap>"]
        fmt.format_snapshot_head = "\n".join(head)
    if fmt.format_snapshot_tail is None:
        if with_filters:
            fmt.format_snapshot_tail = (
                "memory bw estimate: <estimated memory bandwidth>  df-passed: <filters "
                "passed estimated memory bandwidth>\ntotal size: <total bytes>  df-passed "
                "<filters passed bytes>")
        else:
            fmt.format_snapshot_tail = ("memory bw estimate: <estimated memory bandwidth>\n"
                                        "total size: <total bytes>")
        if with_filters:
            fmt.format_snapshot_tail += "\nscheme stats\n<damos stats>"
    if region_box and "<region box description>" not in fmt.format_snapshot_tail:
        # damo 3.4.3 builds this from the record tail, not the snapshot tail
        # (so the snapshot's own tail is lost); kept, as it is what damo prints
        fmt.format_snapshot_tail = "%s\n<region box description>" % fmt.format_record_tail
    if region_box:
        if fmt.region_box_min_max_height[1] > 1:
            fmt.format_region = "<box>" + DEFAULT_REGION
        else:
            fmt.format_region = "<box>\n" + DEFAULT_REGION
    if fmt.format_region is None:
        fmt.format_region = DEFAULT_REGION
        if with_filters:
            fmt.format_region += " df-passed <filters passed bytes>"


def set_formats(opts, records):
    """damo's set_formats(): a ReportFormat from the options (a dict of
    ReportFormat fields plus style, format, total_sz_only, region_box)."""
    fields = vars(ReportFormat())
    fmt = ReportFormat(**{k: v for k, v in opts.items() if k in fields})
    format_args = _format_arg_fields(opts.get("format"))
    fmt = _apply_format_set(fmt, format_args)
    _apply_style(fmt, opts.get("style"), records)
    if opts.get("total_sz_only"):
        fmt.format_snapshot_head = ""
        fmt.format_region = ""
        fmt.format_snapshot_tail = "<total bytes>"
    _apply_defaults(fmt, records, opts.get("region_box"))
    _apply_format_append(fmt, format_args)
    return fmt


# --------------------------------------------------------------- helpers

def apply_min_chars(min_chars, keyword, text):
    """damo's apply_min_chars(): the first entry for the keyword wins."""
    for name, nr in min_chars:
        if name == keyword:
            return text.ljust(nr)
    return text


def snapshot_intervals(snapshot, iv):
    """damo's snapshot_monitoring_intervals(): [sample, aggr] (us) of a
    snapshot, auto-tuned ones included.  A zero interval (which the kernel
    accepts) has no access rate: one error instead of damo's crash."""
    if not iv.sample_us or not iv.aggr_us:
        raise DamoError("monitoring intervals %g us and %g us: access rates need both "
                        "above 0 (use --raw_form)" % (iv.sample_us, iv.aggr_us))
    if not iv.tuning_enabled:
        return [iv.sample_us, iv.aggr_us]
    ratio = iv.aggr_us / iv.sample_us
    if snapshot.sample_interval_us is not None:
        out = [snapshot.sample_interval_us, snapshot.sample_interval_us * ratio]
    else:
        aggr_us = (snapshot.end_time - snapshot.start_time) / 1000
        if abs(aggr_us - iv.aggr_us) / iv.aggr_us < 0.1:
            return [iv.sample_us, iv.aggr_us]
        out = [aggr_us / ratio, aggr_us]
    if not out[1] > 0:
        raise DamoError("a snapshot's aggregation interval is %g us: no access rate "
                        "(use --raw_form)" % out[1])
    return out


def _hist_ranges(minv, maxv, nr_ranges, logscale, cumulate):
    if logscale:
        interval = max(int((maxv - minv) / 2**nr_ranges), 1)
        ranges = [[minv, minv + interval]]
        while ranges[-1][-1] < maxv:
            last = ranges[-1][1] - ranges[-1][0]
            ranges.append([minv if cumulate else ranges[-1][-1], ranges[-1][-1] + last * 2])
        return ranges
    interval = max(math.ceil((maxv + 1 - minv) / nr_ranges), 1)
    return [[minv if cumulate else minv + interval * i, minv + interval * (i + 1)]
            for i in range(nr_ranges)]


def histogram_str(hist):
    yvals = [e[2] for e in hist]
    min_y, max_y = min(yvals), max(yvals)
    x_width = max(len(e[0]) for e in hist)
    y_width = max(len(e[1]) for e in hist)
    interval = max(int((max_y - min_y) / 20), 1)
    lines = []
    for x, y, yval in hist:
        nr_dots = min(math.ceil((yval - min_y) / interval), 20)
        lines.append("%s %s |%s%s|" % (x.ljust(x_width), y.ljust(y_width), "*" * nr_dots,
                                       " " * (20 - nr_dots)))
    return "\n".join(lines)


def _log2(v):
    return math.log(v, 2) if v > 0 else 0


def rescale(val, orig, new, logscale=True):
    if logscale:
        val = _log2(val)
        orig = [_log2(v) for v in orig]
    orig_len = orig[1] - orig[0]
    new_len = new[1] - new[0]
    ratio = new_len / orig_len if orig_len > 0 else 1
    return (val - orig[0]) * ratio + new[0]


def _pyval(v):
    return v.item() if hasattr(v, "item") else v


# ------------------------------------------------------------ the report

_REGION_KEYWORDS = ("<index>", "<start address>", "<end address>", "<size>", "<access rate>",
                    "<access hz>", "<age>", "<temperature>", "<probe hits>",
                    "<filters passed bytes>", "<box>")
_REGION_RE = re.compile("|".join(re.escape(k) for k in _REGION_KEYWORDS))


class AccessReport:
    """damo's fmt_records() of RecordViews with a ReportFormat."""

    def __init__(self, fmt, records, color=True):
        self.fmt = fmt
        self.records = records
        self.color = color
        self.raw = fmt.raw_number
        self._box_minmax = None
        self._caches = {}
        self._index_texts = []
        self._record_keywords = [
            ("<kdamond index>", lambda r: "%s" % r.kdamond_idx),
            ("<context index>", lambda r: "%s" % r.context_idx),
            ("<scheme index>", lambda r: "%s" % r.scheme_idx),
            ("<target id>", lambda r: "%s" % r.target_id),
            ("<abs start time>", self._record_abs_start),
            ("<duration>", self._record_duration),
            ("<intervals>", self._record_intervals),
            ("<intervals goal>", self._intervals_goal),
            ("<data source>", lambda r: "%s" % r.data_source),
            ("<format strings>", lambda r: self._format_strings()),
        ]
        self._snapshot_keywords = [
            ("<total bytes>", lambda s, r: fmt_sz(s.total_bytes, self.raw)),
            ("<duration>", lambda s, r: fmt_time_ns(s.end_time - s.start_time, self.raw)),
            ("<start time>", lambda s, r: fmt_time_ns(
                s.start_time - r.snapshots[0].start_time, self.raw)),
            ("<end time>", lambda s, r: fmt_time_ns(
                s.end_time - r.snapshots[0].start_time, self.raw)),
            ("<abs start time>", lambda s, r: fmt_time_ns(s.start_time, self.raw)),
            ("<abs end time>", lambda s, r: fmt_time_ns(s.end_time, self.raw)),
            ("<number of regions>", lambda s, r: fmt_nr(s.nr_regions, self.raw)),
            ("<region box colors>", lambda s, r: color_samples_text(
                self.fmt.region_box_colorset, self.color)),
            ("<region box description>", lambda s, r: self._box_description()),
            ("<temperature-sz histogram>", lambda s, r: self._hist(s, r, "temperature", False)),
            ("<temperature-df-passed-sz histogram>",
             lambda s, r: self._hist(s, r, "temperature", True)),
            ("<recency-sz histogram>", lambda s, r: self._hist(s, r, "recency", False)),
            ("<recency-df-passed-sz histogram>",
             lambda s, r: self._hist(s, r, "recency", True)),
            ("<recency percentiles>", lambda s, r: self._percentiles(s, r, "recency", False)),
            ("<df-passed recency percentiles>",
             lambda s, r: self._percentiles(s, r, "recency", True)),
            ("<temperature percentiles>",
             lambda s, r: self._percentiles(s, r, "temperature", False)),
            ("<df-passed temperature percentiles>",
             lambda s, r: self._percentiles(s, r, "temperature", True)),
            ("<heatmap>", lambda s, r: self._heatmap(s, r, False)),
            ("<filters passed heatmap>", lambda s, r: self._heatmap(s, r, True)),
            ("<filters passed type>", lambda s, r: self._filters_pass_type(r)),
            ("<filters passed bytes>", lambda s, r: fmt_sz(int(s.szfp.sum()), self.raw)),
            ("<positive access samples ratio>", self._positive_samples_ratio),
            ("<estimated memory bandwidth>", lambda s, r: self._mem_bw(s, r, False)),
            ("<filters passed estimated memory bandwidth>",
             lambda s, r: self._mem_bw(s, r, True)),
            ("<intervals tuning status>", self._tuning_status),
            ("<damos stats>", self._damos_stats),
            ("<snapshot intervals>", self._snapshot_intervals),
        ]

    def validate(self):
        """Refuse, before printing anything, what would fail mid-report."""
        f = self.fmt
        templates = [f.format_record_head, f.format_record_tail, f.format_snapshot_head,
                     f.format_snapshot_tail, f.format_region]
        for t in templates:
            if t is not None and not isinstance(t, str):
                raise DamoError("format setting failed (a format template is not a string)")
        uses = "".join(t for t in templates if t)
        if f.hist_ranges is not None and "histogram>" in uses and len(f.hist_ranges) % 2:
            raise DamoError("--hist_ranges takes pairs of <min> <max>, not %d values"
                            % len(f.hist_ranges))
        if "percentiles>" in uses:
            self._percentiles_to_show()
        if "<box>" in uses and f.region_box_values[0] is None:
            raise DamoError("--region_box_values: the box length cannot be 'none'")
        for colorset in (f.snapshot_heatmap_colorset, f.region_box_colorset):
            if colorset not in COLORSETS:
                raise DamoError("wrong colorset (%s)" % colorset)

    # ----------------------------------------------------------- templates

    def _fill(self, template, keywords, args):
        """damo's format_output() for record and snapshot templates."""
        if template == "":
            return None
        for keyword, fn in keywords:
            if template.find(keyword) == -1:
                continue
            text = apply_min_chars(self.fmt.min_chars_for, keyword, fn(*args))
            template = template.replace(keyword, text)
        return template.replace("\\n", "\n")

    def iter_chunks(self):
        """The report text, a snapshot at a time (pieces to be joined)."""
        fmt = self.fmt
        region_plan = self._region_plan(fmt.format_region)
        first = True
        for record in self.records:
            add_units(record)
            out = []
            head = self._fill(fmt.format_record_head, self._record_keywords, (record,))
            if head is not None:
                out.append(head)
            for sidx, snapshot in enumerate(record.snapshots):
                head = self._fill(fmt.format_snapshot_head, self._snapshot_keywords,
                                  (snapshot, record))
                if head is not None:
                    out.append(head)
                if region_plan is not None:
                    out.extend(self._region_lines(region_plan, snapshot, record))
                tail = self._fill(fmt.format_snapshot_tail, self._snapshot_keywords,
                                  (snapshot, record))
                if tail is not None:
                    out.append(tail)
                if sidx < len(record.snapshots) - 1 and not fmt.total_sz_only():
                    out.append("")
                if len(out) > 256:
                    yield ("" if first else "\n") + "\n".join(out)
                    first = False
                    out = []
            tail = self._fill(fmt.format_record_tail, self._record_keywords, (record,))
            if tail is not None:
                out.append(tail)
            if out:
                yield ("" if first else "\n") + "\n".join(out)
                first = False

    def text(self):
        return "".join(self.iter_chunks())

    # ------------------------------------------------------ record values

    def _record_abs_start(self, r):
        if not r.snapshots:
            return "n/a"
        return fmt_time_ns(r.snapshots[0].start_time, self.raw)

    def _record_duration(self, r):
        if not r.snapshots:
            return "n/a"
        return fmt_time_ns(r.snapshots[-1].end_time - r.snapshots[0].start_time, self.raw)

    def _record_intervals(self, r):
        iv = r.intervals
        return "sample %s, aggr %s" % (fmt_time_us(iv.sample_us, self.raw),
                                       fmt_time_us(iv.aggr_us, self.raw))

    def _intervals_goal(self, r):
        goal = r.intervals.goal or {}
        return "target %s accesses per %s aggrs, [%s, %s] sampling interval" % (
            format_bp(goal.get("access_bp", 0), self.raw),
            fmt_nr(goal.get("aggrs", 0), self.raw),
            fmt_time_us(goal.get("min_sample_us", 0), self.raw),
            fmt_time_us(goal.get("max_sample_us", 0), self.raw))

    def _format_strings(self):
        f = self.fmt
        return "\n".join([
            'record head: "%s"' % f.format_record_head,
            'snapshot head: "%s"' % f.format_snapshot_head,
            'region: "%s"' % f.format_region,
            'snapshot tail: "%s"' % f.format_snapshot_tail,
            'record tail: "%s"' % f.format_record_tail])

    # ---------------------------------------------------- snapshot values

    def _aggr_us(self, s, r):
        return snapshot_intervals(s, r.intervals)[1]

    def _snapshot_intervals(self, s, r):
        iv = r.intervals
        ratio = iv.aggr_us / iv.sample_us
        aggr_us = self._aggr_us(s, r)
        return "sample %s aggr %s (max access hz %s)" % (
            fmt_time_us(aggr_us / ratio, self.raw), fmt_time_us(aggr_us, self.raw),
            format_hz_no_suffix(ratio / (aggr_us / 1000000), self.raw))

    def _mem_bw(self, s, r, df_passed):
        sizes = s.szfp if df_passed else s.sizes()
        access_bytes = int((sizes * s.samples).sum())
        return "%s per second" % fmt_sz(access_bytes / (self._aggr_us(s, r) / 1000000),
                                        self.raw)

    def _positive_samples_ratio(self, s, r):
        total = max_samples(r.intervals) * s.nr_regions
        if total == 0:
            return units.format_percent(0, self.raw)
        return units.format_percent(int(s.samples.sum()) * 100 / total, self.raw)

    def _tuning_status(self, s, r):
        per_region = max_samples(r.intervals)
        sizes = s.sizes()
        max_obs = per_region * int(sizes.sum())
        obs = int((sizes * s.samples).sum())
        return "%s (%s / %s) %s %s" % (
            units.format_percent(obs * 100 / max(max_obs, 1), self.raw),
            fmt_sz(obs, self.raw), fmt_sz(max_obs, self.raw),
            fmt_time_us(r.intervals.sample_us, self.raw),
            fmt_time_us(r.intervals.aggr_us, self.raw))

    def _damos_stats(self, s, r):
        kv = s.damos_stats
        if kv is None:
            return "none"
        st = damos_stats_values(kv)
        raw = self.raw
        return "\n".join([
            "tried %s times (%s)" % (fmt_nr(st["nr_tried"], raw), fmt_sz(st["sz_tried"], raw)),
            "applied %s times (%s)" % (fmt_nr(st["nr_applied"], raw),
                                       fmt_sz(st["sz_applied"], raw)),
            "%s passed filters" % fmt_sz(st["sz_ops_filter_passed"], raw),
            "quota exceeded %s times" % fmt_nr(st["qt_exceeds"], raw),
            # sic: damo prints the ops-filter-passed size twice
            fmt_sz(st["sz_ops_filter_passed"], raw),
            "tried %s snapshots (max %s)" % (fmt_nr(st["nr_snapshots"], raw),
                                             fmt_nr(st["max_nr_snapshots"], raw))])

    def _filters_pass_type(self, r):
        ops = r.ops_filters()
        if not ops:
            return "n/a"
        return ", ".join(filter_str(f, False) for f in ops)

    # metrics of histograms and percentiles
    def _metric(self, s, r, kind):
        if kind == "temperature":
            w = self.fmt.temperature_weights
            return temperatures(s, [0, w[1], w[2]])
        aggr_us = self._aggr_us(s, r)
        return np.where(s.percent > 0, 0, s.usec + aggr_us)

    def _hist(self, s, r, kind, df_passed):
        if s.nr_regions == 0:
            return "no region in snapshot"
        metric = self._metric(s, r, kind)
        counts = s.szfp if df_passed else s.sizes()
        keys, inverse = np.unique(metric, return_inverse=True)
        sums = np.zeros(len(keys), dtype=np.int64)
        np.add.at(sums, inverse.ravel(), counts)
        keys = keys.tolist()
        if kind == "temperature":
            fmt_x, parse_x = fmt_nr, units.to_number
        else:
            fmt_x, parse_x = fmt_time_us, units.to_us
        if self.fmt.hist_ranges is not None:
            texts = self.fmt.hist_ranges
            if len(texts) % 2:
                raise DamoError("--hist_ranges takes pairs of <min> <max>, not %d values"
                                % len(texts))
            try:
                ranges = [[parse_x(texts[i]), parse_x(texts[i + 1])]
                          for i in range(0, len(texts), 2)]
            except (ValueError, TypeError):
                raise DamoError("--hist_ranges: wrong value in %s" % " ".join(texts)) from None
        else:
            ranges = _hist_ranges(keys[0], keys[-1], 10, self.fmt.hist_logscale,
                                  self.fmt.hist_cumulate)
        cum = np.concatenate([[0], np.cumsum(sums)]).tolist()
        karr = np.array(keys)
        hist = []
        for lo, hi in ranges:
            a = int(np.searchsorted(karr, lo, "left"))
            b = int(np.searchsorted(karr, hi, "left"))
            yval = cum[b] - cum[a] if b > a else 0
            hist.append(["[%s, %s)" % (fmt_x(lo, self.raw), fmt_x(hi, self.raw)),
                         fmt_sz(yval, self.raw), yval])
        return histogram_str(hist)

    def _percentiles_to_show(self):
        prange = self.fmt.percentiles_range
        if prange is None:
            return [0, 1, 25, 50, 75, 99, 100]
        if len(prange) <= 3:
            if len(prange) == 3 and prange[2] == 0:
                raise DamoError("--percentiles_range: the step must not be zero")
            return list(range(*prange))
        return sorted(prange)

    def _percentiles(self, s, r, kind, df_passed):
        if s.nr_regions == 0:
            return "no region in snapshot"
        pts = self._percentiles_to_show()
        metric = self._metric(s, r, kind)
        order = np.argsort(metric, kind="stable")
        metric = metric[order].tolist()
        sizes = (s.szfp if df_passed else s.sizes())[order]
        total = int(sizes.sum())
        values = []
        if total == 0:
            # damo 3.4.3 divides by zero here (no df-passed byte): no percentile
            pass
        else:
            # damo's loop: each region adds its share (a running float sum,
            # which cumsum keeps), then takes the percentiles it reached, in
            # the order given; the loop stops at the region reaching 100
            cum = np.cumsum(sizes * 100 / total)
            full = np.flatnonzero(cum >= 100.0)
            stop = int(full[0]) if len(full) else len(cum) - 1
            cum = cum[:stop + 1]
            remaining = list(pts)
            j = 0
            while remaining:
                # the first region whose running share reaches it (shares
                # only grow), not before the one that took the previous
                k = int(np.searchsorted(cum, remaining[0], "left"))
                if k > stop:
                    break
                j = max(j, k)
                values.append([remaining.pop(0), metric[j]])
            if 100 in remaining:
                values.append([100, metric[stop]])
        return self._percentiles_text(values, kind, df_passed)

    def _percentiles_text(self, values, kind, df_passed):
        raw = self.raw
        if kind == "recency":
            legend = "<idle time (us)>" if raw else "<idle time>"
            fmt_fn = fmt_time_us
        else:
            legend = "<temperature (weights: %s)>" % self.fmt.temperature_weights
            fmt_fn = fmt_nr
        lines = ["<%s> %s" % ("df-passed percentile" if df_passed else "percentile", legend)]
        if not values:
            return lines[0]
        ptexts = ["%d" % p for p, _ in values]
        vtexts = [fmt_fn(v, raw) for _, v in values]
        pw, vw = max(len(t) for t in ptexts), max(len(t) for t in vtexts)
        lo, hi = values[0][1], values[-1][1]
        per_dot = (hi - lo) / 20 if hi != lo else 1
        for (p, v), pt, vt in zip(values, ptexts, vtexts):
            bar = int((v - lo) / per_dot)
            lines.append("%s  %s  |%s%s|" % (pt.rjust(pw), vt.rjust(vw), "*" * bar,
                                             " " * (20 - bar)))
        return "\n".join(lines)

    # ------------------------------------------------- snapshot heatmaps

    def _heatmap(self, s, r, df_passed):
        keep = slice(None) if not df_passed else (s.szfp != 0)
        return snapshot_heatmap(
            s.starts[keep].tolist(), s.ends[keep].tolist(), s.percent[keep].tolist(),
            s.usec[keep].tolist(), self.fmt.temperature_weights,
            self.fmt.snapshot_heatmap_width, self.fmt.snapshot_heatmap_static,
            self.fmt.snapshot_heatmap_colorset, self.color, self.raw)

    # ------------------------------------------------------- region box

    def _minmax(self, name):
        if self._box_minmax is None:
            mins, maxs = {}, {}
            for rec in self.records:
                add_units(rec)
                for s in rec.snapshots:
                    if s.nr_regions == 0:
                        continue
                    for key, col in (("size", s.sizes()), ("access_rate", s.percent),
                                     ("age", s.usec)):
                        lo, hi = _pyval(col.min()), _pyval(col.max())
                        mins[key] = lo if key not in mins else min(mins[key], lo)
                        maxs[key] = hi if key not in maxs else max(maxs[key], hi)
            self._box_minmax = (mins, maxs)
        mins, maxs = self._box_minmax
        if name not in mins:
            if name is None:
                return None, None
            raise DamoError("no region to draw a region box for")
        return mins[name], maxs[name]

    def _box_attrs(self):
        f = self.fmt
        return [(f.region_box_values[0], f.region_box_min_max_length, f.region_box_scales[0]),
                (f.region_box_values[1], [0, 9], f.region_box_scales[1]),
                (f.region_box_values[2], f.region_box_min_max_height, f.region_box_scales[2])]

    def _format_minmax(self, lo, hi, name):
        raw = self.raw
        if name == "size":
            return "[%s, %s]" % (fmt_sz(lo, raw), fmt_sz(hi, raw))
        if name == "age":
            return "[%s, %s] " % (fmt_time_us(lo, raw), fmt_time_us(hi, raw))
        if name == "access_rate":
            return "[%s, %s]" % (units.format_percent(lo, raw), units.format_percent(hi, raw))
        return "None"

    def _box_description(self):
        (l_name, l_mm, l_scale), (c_name, c_mm, c_scale), (h_name, h_mm, h_scale) = \
            self._box_attrs()

        def scale(s):
            return "logscale" if s == "log" else "linearscale"
        return "\n".join([
            "# length: %s (represents %s with [%d, %d] columns in %s)" % (
                l_name, self._format_minmax(*self._minmax(l_name), l_name), l_mm[0], l_mm[1],
                scale(l_scale)),
            "# color: %s (represents %s with [%d, %d] number and color (%s) in %s)" % (
                c_name, self._format_minmax(*self._minmax(c_name), c_name), c_mm[0], c_mm[1],
                color_samples_text(self.fmt.region_box_colorset, self.color), scale(c_scale)),
            "# height: %s (represents %s with [%d, %d] rows in %s)" % (
                h_name, self._format_minmax(*self._minmax(h_name), h_name), h_mm[0], h_mm[1],
                scale(h_scale))])

    def _boxes(self, s, order):
        """damo's ColoredBox text of each region (in ``order``)."""
        (l_name, l_mm, l_scale), (c_name, c_mm, c_scale), (h_name, h_mm, h_scale) = \
            self._box_attrs()
        if l_name is None:
            raise DamoError("--region_box_values: the box length cannot be 'none'")
        cols = {"size": s.sizes()[order], "access_rate": s.percent[order],
                "age": s.usec[order]}
        lengths = self._rescaled(cols[l_name], self._minmax(l_name), l_mm, l_scale)
        if h_name is None:
            heights = [1] * len(lengths)
        else:
            heights = self._rescaled(cols[h_name], self._minmax(h_name), h_mm, h_scale)
        if c_name is None:
            levels = [None] * len(lengths)
        else:
            levels = self._rescaled(cols[c_name], self._minmax(c_name), [0, 9], c_scale)
        colorset = self.fmt.region_box_colorset
        right = self.fmt.region_box_align == "right"
        trailing = "\n" if h_mm[1] > 1 else ""
        cache = self._caches.setdefault(("box", colorset, self.color), {})
        out = []
        for length, height, level in zip(lengths, heights, levels):
            key = (length, height, level)
            text = cache.get(key)
            if text is None:
                if level is None:
                    row = "-" * length
                else:
                    row = colored(("%d" % level) * length, colorset, level, self.color)
                row = "|%s|" % row
                if right:
                    row = " " * (l_mm[1] - length) + row
                text = cache[key] = "\n".join([row] * height) + trailing
            out.append(text)
        return out

    def _rescaled(self, values, minmax, display, scale):
        """int(rescale(...)) of each value, through a per-value cache."""
        cache = self._caches.setdefault(("rescale", minmax, tuple(display), scale), {})
        out = []
        for v in values.tolist():
            got = cache.get(v)
            if got is None:
                got = cache[v] = int(rescale(v, list(minmax), display, scale == "log"))
            out.append(got)
        return out

    # ------------------------------------------------------- region lines

    def _region_plan(self, template):
        """(format string, keywords) of a region template, or None if empty."""
        if template == "":
            return None
        keywords = []
        pieces = []
        pos = 0
        for m in _REGION_RE.finditer(template):
            pieces.append(template[pos:m.start()].replace("\\n", "\n").replace("%", "%%"))
            pieces.append("%s")
            keywords.append(m.group(0))
            pos = m.end()
        pieces.append(template[pos:].replace("\\n", "\n").replace("%", "%%"))
        return "".join(pieces), keywords

    def _texts(self, name, values, fn, keyword):
        cache = self._caches.setdefault(name, {})
        vals = values.tolist() if hasattr(values, "tolist") else values
        min_chars = self.fmt.min_chars_for
        for v in set(vals) - cache.keys():
            cache[v] = apply_min_chars(min_chars, keyword, fn(v))
        return list(map(cache.__getitem__, vals))

    def _sort_order(self, s):
        n = s.nr_regions
        order = np.arange(n)
        dsc_keys = self.fmt.sort_regions_dsc
        for field in self.fmt.sort_regions_by:
            dsc = dsc_keys is not None and ("all" in dsc_keys or field in dsc_keys)
            if field == "address":
                key = s.starts
            elif field == "access_rate":
                key = s.percent
            elif field == "age":
                key = s.usec
            elif field == "size":
                key = s.sizes()
            elif field == "temperature":
                key = temperatures(s, self.fmt.temperature_weights)
            else:
                continue
            key = key[order]
            sub = np.argsort(-key if dsc else key, kind="stable")
            order = order[sub]
        return order

    def _region_lines(self, plan, s, r):
        fmtstr, keywords = plan
        n = s.nr_regions
        if n == 0:
            return []
        order = self._sort_order(s)
        raw = self.raw
        cols = []
        for kw in keywords:
            if kw == "<index>":
                if len(self._index_texts) < n:
                    self._index_texts = [apply_min_chars(self.fmt.min_chars_for, kw,
                                                         fmt_nr(i, raw)) for i in range(n)]
                cols.append(self._index_texts[:n])
            elif kw == "<start address>":
                cols.append(self._texts(kw, s.starts[order], lambda v: fmt_sz(v, raw), kw))
            elif kw == "<end address>":
                cols.append(self._texts(kw, s.ends[order], lambda v: fmt_sz(v, raw), kw))
            elif kw == "<size>":
                cols.append(self._texts(kw, s.sizes()[order], lambda v: fmt_sz(v, raw), kw))
            elif kw == "<access rate>":
                cols.append(self._texts(kw, s.percent[order],
                                        lambda v: units.format_percent(v, raw), kw))
            elif kw == "<access hz>":
                aggr_us = self._aggr_us(s, r)
                hz = s.samples[order] / (aggr_us / 1000000)
                cols.append(self._texts(kw, hz, lambda v: units.format_hz(v, raw), kw))
            elif kw == "<age>":
                cols.append(self._texts(kw, s.usec[order], lambda v: fmt_time_us(v, raw), kw))
            elif kw == "<temperature>":
                temps = temperatures(s, self.fmt.temperature_weights)[order]
                cols.append(self._texts(kw, temps, lambda v: fmt_nr(v, raw), kw))
            elif kw == "<probe hits>":
                cols.append([apply_min_chars(self.fmt.min_chars_for, kw, "")] * n)
            elif kw == "<filters passed bytes>":
                cols.append(self._texts(kw, s.szfp[order], lambda v: fmt_sz(v, raw), kw))
            elif kw == "<box>":
                boxes = self._boxes(s, order)
                cols.append([apply_min_chars(self.fmt.min_chars_for, kw, b) for b in boxes])
        if not cols:
            return [fmtstr % ()] * n
        return list(map(fmtstr.__mod__, zip(*cols)))


def snapshot_heatmap(starts, ends, percent, usec, weights, width, static, colorset, color,
                     raw):
    """damo's heatmap_str(): one line of ``width`` temperature digits over
    the regions laid end to end (gaps as dots), and its legend.  The region
    columns are lists of Python numbers (damo's arithmetic, exactly)."""
    n = len(starts)
    if n == 0:
        return "n/a (no region)"
    if static:
        total_sz = ends[-1] - starts[0]
    else:
        total_sz = sum(e - s for s, e in zip(starts, ends))
    if total_sz <= 0:
        # damo 3.4.3 divides by zero (or never ends) here
        return "n/a (no region size)"
    sz_unit = total_sz / width
    # near 2^64 a float column step is coarser than a column (damo loops on it
    # or prints garbage): refuse rather than draw columns that are not there
    top = max(ends[-1], max(ends))
    if math.ulp(float(top)) * 4 > sz_unit:
        raise DamoError("snapshot heatmap: addresses around %s are too large for its "
                        "columns of %s" % (fmt_nr(int(top), False), fmt_sz(sz_unit, False)))
    ordered = all(e <= s for e, s in zip(ends, starts[1:])) and \
        all(s < e for s, e in zip(starts, ends))
    pixel_fn = _heat_pixels_ordered if ordered else _heat_pixels
    pixels, lowest, highest = pixel_fn(starts, ends, percent, usec, weights, sz_unit)
    if highest is None:
        # unsorted regions whose last ends below the first's start: damo
        # walks no pixel and fails on the missing temperatures
        return "n/a (no region in the heatmap's address range)"
    unit = (highest - lowest) / MAX_COLOR_LEVEL
    if unit == 0:
        unit = highest / MAX_COLOR_LEVEL
    if unit == 0:
        unit = 1
    dots = []
    for pstart, pend, temperature in pixels:
        if temperature is None:
            nr_dots = (pend - pstart) / sz_unit
            dots.append("[...]" if not static and nr_dots > 4 else "." * int(nr_dots))
            continue
        level = int((temperature - lowest) / unit)
        dots.append(colored("%d" % level, colorset, level, color))
    return "%s\n# min/max temperatures: %s, %s, column size: %s" % (
        "".join(dots), fmt_nr(lowest, raw), fmt_nr(highest, raw), fmt_sz(sz_unit, raw))


def _vanishing(sz_unit, start):
    return DamoError("snapshot heatmap: %d-byte columns vanish at address %d; give a "
                     "smaller --snapshot_heatmap_width" % (sz_unit, start))


def _clipped_heat(start, end, rs, re_, p, u, weights):
    """damo's HeatPixel.add_temperature() of one region: its (clipped)
    temperature times its (clipped) size."""
    w_sz, w_ar, w_age = weights
    if start <= rs and re_ <= end:
        size = re_ - rs
    elif rs <= start and end <= re_:
        size = end - start
    elif rs < start:
        size = re_ - start
    else:
        size = end - rs
    score = size * w_sz + p * w_ar + u * w_age
    return (score if p > 0 else -1 * score) * size


def _heat_pixels(starts, ends, percent, usec, weights, sz_unit):
    """damo's heatmap_pixels_minmax_temps(), as damo walks it: every pixel
    looks at the regions from the first (they may be unsorted, overlap)."""
    n = len(starts)
    pixels = []     # [start, end, temperature or None when void]
    lowest = highest = None
    start = starts[0]
    first = 0
    last_end = ends[-1]
    while start < last_end:
        end = start + sz_unit
        if end == start:
            raise _vanishing(sz_unit, start)
        # regions ending before the pixel stay so for the later ones
        while first < n and ends[first] <= start:
            first += 1
        total = 0
        void = True
        for j in range(first, n):
            rs, re_ = starts[j], ends[j]
            if re_ <= start:
                continue
            if end <= rs:
                break
            void = False
            total += _clipped_heat(start, end, rs, re_, percent[j], usec[j], weights)
        temperature = total / (end - start)
        if void:
            pixels.append([start, end, None])
            nxt = next((s for s in starts if s > end), None)
            if nxt is None:
                break
            start = nxt // sz_unit * sz_unit
            pixels[-1][1] = start
            continue
        pixels.append([start, end, temperature])
        if lowest is None or temperature < lowest:
            lowest = temperature
        if highest is None or temperature > highest:
            highest = temperature
        start = end
    return pixels, lowest, highest


def _heat_pixels_ordered(starts, ends, percent, usec, weights, sz_unit):
    """_heat_pixels() for regions sorted and apart (as DAMON makes them):
    the regions a pixel meets are found by bisection, and those it holds
    whole add their precomputed heat in damo's order (operator.add keeps
    Python's int-then-float arithmetic exactly)."""
    import bisect
    import functools
    import operator

    w_sz, w_ar, w_age = weights
    full = [((z * w_sz + p * w_ar + u * w_age) if p > 0 else -1 * (z * w_sz + p * w_ar
                                                                   + u * w_age)) * z
            for z, p, u in zip((e - s for s, e in zip(starts, ends)), percent, usec)]
    pixels = []
    lowest = highest = None
    start = starts[0]
    last_end = ends[-1]
    while start < last_end:
        end = start + sz_unit
        if end == start:
            raise _vanishing(sz_unit, start)
        j0 = bisect.bisect_right(ends, start)       # first region ending after start
        j1 = bisect.bisect_left(starts, end, j0)    # first region starting at end or later
        if j0 >= j1:
            pixels.append([start, end, None])
            k = bisect.bisect_right(starts, end)
            if k >= len(starts):
                break
            start = starts[k] // sz_unit * sz_unit
            pixels[-1][1] = start
            continue
        total = 0 + _clipped_heat(start, end, starts[j0], ends[j0], percent[j0], usec[j0],
                                  weights)
        if j1 - j0 > 1:
            total = functools.reduce(operator.add, full[j0 + 1:j1 - 1], total)
            last = j1 - 1
            total += _clipped_heat(start, end, starts[last], ends[last], percent[last],
                                   usec[last], weights)
        temperature = total / (end - start)
        pixels.append([start, end, temperature])
        if lowest is None or temperature < lowest:
            lowest = temperature
        if highest is None or temperature > highest:
            highest = temperature
        start = end
    return pixels, lowest, highest


# ------------------------------------------------------- DAMOS in records

def damos_stats_values(kv):
    """A snapshot's damos_stats (as a record file holds it) as numbers."""
    out = {}
    for key in ("nr_tried", "nr_applied", "qt_exceeds", "nr_snapshots", "max_nr_snapshots"):
        out[key] = units.to_number(kv.get(key, 0))
    for key in ("sz_tried", "sz_applied", "sz_ops_filter_passed"):
        out[key] = units.to_bytes(kv.get(key, 0))
    return out


def _bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("y", "yes", "true"):
        return True
    if text in ("n", "no", "false"):
        return False
    raise ValueError("not a boolean: %r" % value)


def filter_str(kv, raw):
    """damo's DamosFilter.to_str() of a record's scheme filter."""
    ftype = kv.get("filter_type")
    allow = _bool(kv.get("allow", kv.get("filter_pass", False)))
    words = ["allow" if allow else "reject"]
    if _bool(kv.get("matching")) is False:
        words.append("none")
    words.append(ftype)
    if ftype in ("anon", "active", "young", "unmapped"):
        return " ".join(words)
    if ftype == "memcg":
        return " ".join(words + [kv.get("memcg_path")])
    if ftype == "addr":
        ar = kv["address_range"]
        start, end = units.to_bytes(ar["start"]), units.to_bytes(ar["end"])
        return " ".join(words + ["[%s, %s) (%s)" % (fmt_nr(start, raw), fmt_nr(end, raw),
                                                    fmt_sz(end - start, raw))])
    if ftype == "target":
        return " ".join(words + [fmt_nr(units.to_number(kv["damon_target_idx"]), raw)])
    if ftype == "hugepage_size":
        hs = kv.get("hugepage_size")
        if hs is not None:
            words.append("[%s, %s]" % (fmt_sz(units.to_bytes(hs[0]), raw),
                                       fmt_sz(units.to_bytes(hs[1]), raw)))
        return " ".join(words)
    if ftype == "probe_hits_wsum":
        rng = kv.get("probe_hits_wsum_range")
        words.append("[%s, %s]" % (fmt_nr(units.to_number(rng[0]), raw),
                                   fmt_nr(units.to_number(rng[1]), raw)))
        return " ".join(words)
    return "None"
