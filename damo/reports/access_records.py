"""What ``damo report access`` prints from: per-snapshot views of records
(filtered by damo.params.access_filter) with damo's units (access rate in
percent, age in microseconds).

Values keep the Python types damo computes with (an age in microseconds is
an int when the aggregation interval is, a float otherwise), because the
reports print them with '%d' and friends and must print damo's digits.
"""
import numpy as np

from damo.errors import DamoError
from damo.params.access_filter import UNSET
from damo.records import AGE_UNKNOWN


class SnapshotView:
    """One snapshot's regions as numpy columns (damo's DamonSnapshot)."""

    __slots__ = ("start_time", "end_time", "starts", "ends", "samples", "ages", "szfp",
                 "total_bytes", "damos_stats", "sample_interval_us", "percent", "usec")

    def __init__(self, start_time, end_time, starts, ends, samples, ages, szfp,
                 total_bytes, damos_stats=None, sample_interval_us=None):
        self.start_time = start_time
        self.end_time = end_time
        self.starts = starts
        self.ends = ends
        self.samples = samples
        self.ages = ages
        self.szfp = szfp
        self.total_bytes = total_bytes
        self.damos_stats = damos_stats
        self.sample_interval_us = sample_interval_us
        self.percent = None
        self.usec = None

    @property
    def nr_regions(self):
        return len(self.starts)

    def sizes(self):
        return self.ends - self.starts

    def take(self, idx):
        """A copy holding only the regions at ``idx`` (an index array or mask)."""
        s = SnapshotView(self.start_time, self.end_time, self.starts[idx], self.ends[idx],
                         self.samples[idx], self.ages[idx], self.szfp[idx], self.total_bytes,
                         self.damos_stats, self.sample_interval_us)
        if self.percent is not None:
            s.percent = self.percent[idx]
            s.usec = self.usec[idx]
        return s

    def update_total_bytes(self):
        self.total_bytes = int(self.sizes().sum())


class RecordView:
    """One record (damo's DamonRecord) with its snapshots as SnapshotViews."""

    def __init__(self, record):
        self.kdamond_idx = record.kdamond_idx
        self.context_idx = record.context_idx
        self.scheme_idx = record.scheme_idx
        self.target_id = record.target_id
        self.intervals = record.intervals
        self.scheme_filters = record.scheme_filters
        self.data_source = record.data_source
        # int64 columns keep numpy's arithmetic exact (uint64 with int64 makes
        # floats); no machine has addresses at 2^63 (x86-64 stops at 2^57)
        if record.nr_regions and int(record.ends.max()) >= 1 << 63:
            raise DamoError("target %s: region addresses up to %d: report access takes "
                            "addresses below 2^63 (no machine maps more; x86-64's "
                            "5-level page tables stop at 2^57)" % (
                                record.target_id, int(record.ends.max())))
        starts = record.starts.view(np.int64)
        ends = record.ends.view(np.int64)
        szfp = record.sz_filter_passed
        if szfp is None:
            # damo takes a missing sz_filter_passed as 0
            szfp = np.zeros(record.nr_regions, dtype=np.int64)
        totals = record.snapshot_total_bytes().tolist()
        start_ns, end_ns = record.start_ns.tolist(), record.end_ns.tolist()
        offsets = record.region_offsets.tolist()
        sample_us = (None if record.sample_interval_us is None
                     else record.sample_interval_us.tolist())
        # damo's access rate and age in us, where the filters computed them
        percent, usec = getattr(record, "percent", None), getattr(record, "age_usec", None)
        iv = record.intervals
        if iv is not None and (not iv.sample_us or not iv.aggr_us):
            # zero intervals (the kernel takes them): no rates; the raw form
            # still shows the regions, a rate asked for is one error later
            percent = usec = None
        if record.intervals is not None and percent is not None and len(percent) and \
                (np.any(percent == UNSET) or np.any(usec == UNSET)):
            raise DamoError("target %s has regions without age, but intervals: damo cannot "
                            "tell their age in time" % (record.target_id,))
        if percent is not None and record.intervals is not None and \
                not float(record.intervals.aggr_us).is_integer():
            usec = record.ages * record.intervals.aggr_us
        self.snapshots = []
        for i in range(record.nr_snapshots):
            sl = slice(offsets[i], offsets[i + 1])
            tuned = None if sample_us is None or sample_us[i] != sample_us[i] else sample_us[i]
            if tuned is not None and float(tuned).is_integer():
                tuned = int(tuned)
            s = SnapshotView(
                start_ns[i], end_ns[i], starts[sl], ends[sl], record.nr_accesses[sl],
                record.ages[sl], szfp[sl], totals[i],
                None if record.damos_stats is None else record.damos_stats[i], tuned)
            if percent is not None and record.intervals is not None:
                s.percent, s.usec = percent[sl], usec[sl]
            self.snapshots.append(s)

    def ops_filters(self):
        return [f for f in self.scheme_filters if handled_by_ops(f)]


def handled_by_ops(kv):
    """Whether a DAMOS filter (as a record's scheme_filters hold it) is
    handled by the operations set layer (damo's DamosFilter.handled_by_ops)."""
    return kv.get("filter_type") in ("anon", "active", "memcg", "young", "hugepage_size",
                                    "unmapped")


def views_of(records):
    return [RecordView(r) for r in records]


# ------------------------------------------------------------------ units

def max_samples(intervals):
    """damo's aggr / sample: samples in one aggregation interval (a float)."""
    if not intervals.sample_us or not intervals.aggr_us:
        # the kernel accepts zero intervals; damo divides by zero here
        raise DamoError("monitoring intervals %g us and %g us: access rates need both "
                        "above 0 (use --raw_form)" % (intervals.sample_us, intervals.aggr_us))
    return intervals.aggr_us / intervals.sample_us


def add_units(record):
    """Fill every snapshot's percent and usec columns as damo's
    add_unset_unit() does: percent = int(samples * 100.0 / max samples),
    usec = aggregation intervals * aggr_us."""
    iv = record.intervals
    if iv is None:
        return
    max_val = max_samples(iv)
    for s in record.snapshots:
        if s.percent is not None:
            continue
        s.percent = np.trunc(s.samples * 100.0 / max_val).astype(np.int64)
        if np.any(s.ages == AGE_UNKNOWN):
            raise DamoError("target %s has regions without age, but intervals: damo cannot "
                            "tell their age in time" % (record.target_id,))
        s.usec = s.ages * iv.aggr_us


def temperatures(snapshot, weights):
    """damo's temperature_of() of every region: size, access rate and age
    scores with the given weights, negated for regions not accessed."""
    w_sz, w_ar, w_age = weights
    score = snapshot.sizes() * w_sz + snapshot.percent * w_ar + snapshot.usec * w_age
    return np.where(snapshot.percent > 0, score, -score)
