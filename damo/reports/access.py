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
