"""``damo report access``: damo's raw form of the (filtered) records, and
the report's entry point over the views of damo.reports.access_records."""
import numpy as np

from damo import units
from damo.records import AGE_UNKNOWN


def iter_raw_form(records, raw_number=False):
    """damo's pr_records_raw_form() text, in pieces joined by newlines."""
    fmt_time = units.format_time_ns
    for record in records:
        if not record.snapshots:
            continue
        base = record.snapshots[0].start_time
        yield "base_time_absolute: %s" % fmt_time(base, raw_number)
        yield "data source: %s\n" % record.data_source
        size_texts = {}
        for s in record.snapshots:
            yield "monitoring_start:    %16s" % fmt_time(s.start_time - base, raw_number)
            yield "monitoring_end:      %16s" % fmt_time(s.end_time - base, raw_number)
            yield "monitoring_duration: %16s" % fmt_time(s.end_time - s.start_time, raw_number)
            yield "target_id: %s" % record.target_id
            yield "nr_regions: %s" % s.nr_regions
            yield "# %10s %12s  %12s  %11s %5s" % (
                "start_addr", "end_addr", "length", "nr_accesses", "age")
            sizes = s.sizes().tolist()
            for v in set(sizes) - size_texts.keys():
                size_texts[v] = units.format_sz(v, raw_number)
            ages = np.where(s.ages == AGE_UNKNOWN, -1, s.ages).tolist()
            for start, end, size, samples, age in zip(
                    s.starts.tolist(), s.ends.tolist(), sizes, s.samples.tolist(), ages):
                yield "%012x-%012x (%12s) %11d %5d" % (start, end, size_texts[size], samples,
                                                       age)
            yield ""
    yield ""


def raw_form_text(records, raw_number=False):
    return "\n".join(iter_raw_form(records, raw_number))


try:
    from damo.records._cscan import raw_form_regions as _c_region_lines
except ImportError:     # not built: the Python lines below
    _c_region_lines = None

_RAW_FORM_HEADER = "# %10s %12s  %12s  %11s %5s" % (
    "start_addr", "end_addr", "length", "nr_accesses", "age")


def _region_lines(starts, ends, samples, ages, raw_number):
    """The raw form's region lines of one snapshot, each ending in a newline."""
    if _c_region_lines is not None:
        return _c_region_lines(np.ascontiguousarray(starts, np.uint64),
                               np.ascontiguousarray(ends, np.uint64),
                               np.ascontiguousarray(samples, np.int64),
                               np.ascontiguousarray(ages, np.int64),
                               raw_number).decode("ascii")
    sizes = (ends - starts).tolist()
    ages = np.where(ages == AGE_UNKNOWN, -1, ages).tolist()
    return "".join("%012x-%012x (%12s) %11d %5d\n" % (
        s, e, units.format_sz(sz, raw_number), n, a)
        for s, e, sz, n, a in zip(starts.tolist(), ends.tolist(), sizes, samples.tolist(),
                                  ages))


class RawFormReporter:
    """raw_form_text() of unfiltered records, in pieces: a snapshot's regions
    at a time, the region lines formatted in C.  ``records`` are Records, or
    (record, snapshots) pairs as damo.records.stream_all gives them, read as
    they are printed."""

    def __init__(self, records):
        self.records = records

    def iter_text(self, raw_number=False):
        fmt_time = units.format_time_ns
        for item in self.records:
            record, snapshots = item if isinstance(item, tuple) else (item, None)
            if record.nr_snapshots == 0:
                continue
            if snapshots is None:
                from damo.records.files import _snapshots_of
                snapshots = _snapshots_of(record)
            base = record.start_ns[0].item()
            yield "base_time_absolute: %s\ndata source: %s\n\n" % (
                fmt_time(base, raw_number), record.data_source)
            start_ns, end_ns = record.start_ns.tolist(), record.end_ns.tolist()
            for sidx, (starts, ends, samples, ages) in enumerate(snapshots):
                start, end = start_ns[sidx], end_ns[sidx]
                yield ("monitoring_start:    %16s\nmonitoring_end:      %16s\n"
                       "monitoring_duration: %16s\ntarget_id: %s\nnr_regions: %s\n%s\n" % (
                           fmt_time(start - base, raw_number), fmt_time(end - base, raw_number),
                           fmt_time(end - start, raw_number), record.target_id, len(starts),
                           _RAW_FORM_HEADER))
                yield _region_lines(starts, ends, samples, ages, raw_number) + "\n"

    def text(self, raw_number=False):
        return "".join(self.iter_text(raw_number))
