"""What ``damo report access`` does to records between loading and printing:
per-snapshot views of the columns, damo's units (access rate in percent,
age in microseconds) and damo's record filters (``--sz_region``,
``--access_rate``, ``--age``, ``--address``, ``--sz_snapshot``,
``--snapshot_time``, ``--snapshot_idx``, ``--temperature``).

Values keep the Python types damo computes with (an age in microseconds is
an int when the aggregation interval is, a float otherwise), because the
reports print them with '%d' and friends and must print damo's digits.
"""
import numpy as np

from damo import units
from damo.errors import DamoError
from damo.records import AGE_UNKNOWN

_INT64_MAX = np.iinfo(np.int64).max


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
        self.snapshots = []
        for i in range(record.nr_snapshots):
            sl = slice(offsets[i], offsets[i + 1])
            tuned = None if sample_us is None or sample_us[i] != sample_us[i] else sample_us[i]
            if tuned is not None and float(tuned).is_integer():
                tuned = int(tuned)
            self.snapshots.append(SnapshotView(
                start_ns[i], end_ns[i], starts[sl], ends[sl], record.nr_accesses[sl],
                record.ages[sl], szfp[sl], totals[i],
                None if record.damos_stats is None else record.damos_stats[i], tuned))

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


# --------------------------------------------------------------- filters

def _parse(text, option, parse):
    try:
        return parse(text)
    except (ValueError, TypeError, AttributeError, IndexError):
        raise DamoError("%s: wrong value %r" % (option, text), exit_code=1) from None


def _sorted_ranges(pairs, option):
    """damo's parse_sort_bytes_ranges_input(): sorted, not overlapping."""
    ranges = sorted(([_parse(a, option, units.to_bytes), _parse(b, option, units.to_bytes)]
                     for a, b in pairs), key=lambda x: x[0])
    for idx, (start, end) in enumerate(ranges):
        if start > end:
            raise DamoError("wrong %s input (start > end ([%s, %s]))" % (option, start, end))
        if idx > 0 and ranges[idx - 1][1] > start:
            raise DamoError("wrong %s input (overlapping range)" % option)
    return ranges


def _clamp(value):
    """A bound compared with int64 columns ('max' is ULONG_MAX)."""
    if isinstance(value, int) and value > _INT64_MAX:
        return _INT64_MAX
    return value


class AccessFilter:
    """damo's RecordFilter, from its options' values (each a list of
    strings as given; None where not given)."""

    def __init__(self, sz_region=None, access_rate=None, age=None, address=None,
                 sz_snapshot=None, snapshot_time=None, snapshot_idx=None, temperature=None,
                 temperature_weights=(0, 100, 100)):
        sz_region = sz_region or ("min", "max")
        access_rate = access_rate or ("min", "max")
        age = age or ("min", "max")
        self.sz = [_parse(v, "--sz_region", units.to_bytes) for v in sz_region]
        self.access_rate = [_parse(v, "--access_rate", units.to_percent) for v in access_rate]
        # damo multiplies the list of --age values by 1000000 (repeating it)
        # instead of the seconds, so the values are taken as microseconds
        self.age_us = [_parse(v, "--age", units.to_us) for v in age]
        self.address = None if address is None else _sorted_ranges(address, "--address")
        self.sz_snapshot = (None if sz_snapshot is None
                            else _sorted_ranges(sz_snapshot, "--sz_snapshot"))
        self.snapshot_time = None if snapshot_time is None else [
            [_parse(a, "--snapshot_time", units.to_ns), _parse(b, "--snapshot_time", units.to_ns)]
            for a, b in snapshot_time]
        self.snapshot_idx = None if snapshot_idx is None else [
            [_parse(a, "--snapshot_idx", units.to_number),
             _parse(b, "--snapshot_idx", units.to_number)] for a, b in snapshot_idx]
        self.temperature = None if temperature is None else [list(t) for t in temperature]
        self.temperature_weights = list(temperature_weights)

    def apply(self, records):
        """Filter the RecordViews in place, in damo's order."""
        for record in records:
            self._by_pattern(record)
        if self.address is not None:
            for record in records:
                self._by_address(record)
        if self.sz_snapshot is not None:
            for record in records:
                record.snapshots = [s for s in record.snapshots if any(
                    lo <= s.total_bytes <= hi for lo, hi in self.sz_snapshot)]
        if self.snapshot_time is not None:
            for record in records:
                record.snapshots = [s for s in record.snapshots if any(
                    s.start_time >= lo and s.end_time <= hi for lo, hi in self.snapshot_time)]
        if self.snapshot_idx is not None:
            for record in records:
                record.snapshots = [s for i, s in enumerate(record.snapshots) if any(
                    lo <= i <= hi for lo, hi in self.snapshot_idx)]
        if self.temperature is not None:
            for record in records:
                self._by_temperature(record)

    def _by_pattern(self, record):
        lo, hi = (_clamp(v) for v in self.sz)
        if record.intervals is not None:
            add_units(record)
        for i, s in enumerate(record.snapshots):
            sizes = s.sizes()
            keep = (sizes >= lo) & (sizes <= hi)
            if record.intervals is not None:
                ar_lo, ar_hi = (_clamp(v) for v in self.access_rate)
                age_lo, age_hi = (_clamp(v) for v in self.age_us)
                keep &= (s.percent >= ar_lo) & (s.percent <= ar_hi)
                keep &= (s.usec >= age_lo) & (s.usec <= age_hi)
            if not keep.all():
                record.snapshots[i] = s.take(keep)

    def _by_address(self, record):
        for i, s in enumerate(record.snapshots):
            pieces = []
            for start, end in self.address:
                start, end = _clamp(start), _clamp(end)
                hit = ~((s.ends <= start) | (end <= s.starts))
                idx = np.flatnonzero(hit)
                piece = s.take(idx)
                piece.starts = np.maximum(piece.starts, start)
                piece.ends = np.minimum(piece.ends, end)
                pieces.append((idx, piece))
            # region by region, each range in order (damo's nested loops)
            idx = np.concatenate([p[0] for p in pieces])
            order = np.argsort(idx, kind="stable")
            merged = _concat([p[1] for p in pieces], s, order)
            merged.update_total_bytes()
            record.snapshots[i] = merged

    def _by_temperature(self, record):
        if record.intervals is None:
            raise DamoError("--temperature: records without intervals have no temperature "
                            "(damo 3.4.3 crashes here)")
        add_units(record)
        for i, s in enumerate(record.snapshots):
            temps = temperatures(s, self.temperature_weights)
            keep = np.zeros(s.nr_regions, dtype=bool)
            for lo, hi in self.temperature:
                keep |= (temps >= lo) & (temps <= hi)
            s = s.take(keep)
            s.update_total_bytes()
            record.snapshots[i] = s


def _concat(pieces, like, order):
    out = like.take(slice(0, 0))
    names = ["starts", "ends", "samples", "ages", "szfp"]
    if like.percent is not None:
        names += ["percent", "usec"]
    for name in names:
        setattr(out, name, np.concatenate([getattr(p, name) for p in pieces])[order])
    return out
