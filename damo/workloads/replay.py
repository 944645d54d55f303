"""Turning a recording's access pattern back into accesses (``damo replay``).

damo's replay cuts each snapshot's time into aggr/sample slices and, in slice
i, touches one byte of every 4 KiB page of the regions whose nr_accesses is
above i.  ``ReplayPlan`` prepares that for one record: page-aligned regions,
their contiguous address ranges (laid out as mappings in the simulator, or
as one compact buffer for real accesses), times relative to the replay's
start, and the number of slices per snapshot, from the record's intervals or,
when it has none (damo's own real recording), inferred from its snapshots.
"""
import dataclasses
from typing import List, Optional, Tuple

import numpy as np

from damo import units
from damo.errors import DamoError

PAGE = 4096
MAX_REPLAY_BYTES = 4 << 40      # address ranges of one record, in all


@dataclasses.dataclass
class ReplayPlan:
    record_index: int
    target_id: object
    ranges: List[Tuple[int, int]]       # disjoint, page aligned, sorted
    start_ns: np.ndarray                # snapshot times relative to t0
    end_ns: np.ndarray
    region_offsets: np.ndarray
    starts: np.ndarray                  # page aligned regions
    ends: np.ndarray
    samples: np.ndarray
    nr_slices: np.ndarray               # per snapshot
    sample_us: float
    aggr_us: float
    intervals_inferred: bool
    t0_ns: float                        # absolute time of the replay's start

    @property
    def duration_ns(self):
        return float(self.end_ns[-1]) if len(self.end_ns) else 0.0

    @property
    def footprint(self):
        return sum(b - a for a, b in self.ranges)

    def workload(self, access_rate=None):
        """The simulated process replaying this plan (access_rate: its
        accesses per ms while busy; default: the nominal speed)."""
        from damo_engine.replay import ReplayWorkload
        return ReplayWorkload(self.ranges, self.start_ns, self.end_ns, self.region_offsets,
                              self.starts, self.ends, self.samples, self.nr_slices,
                              access_rate=access_rate,
                              name="replay of target %s" % self.target_id)

    def bytes_per_pass(self):
        """Bytes of pages that one pass over the recording touches (each
        slice of each snapshot), counted as damo counts them."""
        sizes = (self.ends - self.starts).astype(np.float64)
        per_region_slices = np.minimum(self.samples, np.repeat(
            self.nr_slices, np.diff(self.region_offsets)))
        return float((sizes * per_region_slices).sum())


def replayable_records(recording):
    """The records to replay: the access records (not DAMOS tried regions,
    unless there is nothing else)."""
    records = [r for r in recording.records if r.scheme_idx is None and r.nr_snapshots]
    if not records:
        records = [r for r in recording.records if r.nr_snapshots]
    if not records:
        raise DamoError("%s: cannot replay: it has no snapshots (replay needs snapshots "
                        "with start_time, end_time and regions with nr_accesses)"
                        % recording.path)
    return records


def _unions(starts, ends):
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    run_end = np.maximum.accumulate(e)
    new = np.r_[True, s[1:] > run_end[:-1]]
    first = np.flatnonzero(new)
    last = np.r_[first[1:], len(s)] - 1
    return [(int(a), int(b)) for a, b in zip(s[first].tolist(), run_end[last].tolist())]


def plan(recording, record, index=0, source_intervals=None, t0_ns=None):
    """The ReplayPlan of one record.  ``source_intervals``: (sample_us,
    aggr_us) to use instead of the record's own (or of the inferred ones)."""
    path = recording.path
    n = record.nr_snapshots
    start = record.start_ns.astype(np.float64)
    end = record.end_ns.astype(np.float64)
    if n == 0:
        raise DamoError("%s: cannot replay: record %d has no snapshots" % (path, index))
    durations = end - start
    bad = np.flatnonzero(~(durations > 0))
    if len(bad):
        raise DamoError(
            "%s: cannot replay: snapshot %d of record %d has no duration (replay needs "
            "each snapshot's start_time before its end_time)" % (path, int(bad[0]), index))
    # a snapshot may start before the previous one ended (extrapolated perf
    # times); replay it from there
    start[1:] = np.maximum(start[1:], end[:-1])
    if np.any(end[1:] < end[:-1]) or np.any(end <= start):
        raise DamoError("%s: cannot replay: the snapshots of record %d are not in time "
                        "order (end_time)" % (path, index))
    inferred = False
    if source_intervals is not None:
        sample_us, aggr_us = (float(x) for x in source_intervals)
    elif record.intervals is not None and record.intervals.sample_us > 0:
        sample_us, aggr_us = float(record.intervals.sample_us), float(record.intervals.aggr_us)
    else:
        # no intervals (perf-script/trace-cmd recordings, damo's upstream
        # sample): the aggregation interval is the typical snapshot length
        # and the most samples seen is aggr/sample
        inferred = True
        aggr_us = float(np.median(durations)) / 1000
        ratio = int(record.nr_accesses.max(initial=0))
        if ratio <= 0:
            ratio = 20          # damo's default 5 ms / 100 ms
        sample_us = aggr_us / ratio
    if not (sample_us > 0 and aggr_us >= sample_us):
        raise DamoError("%s: cannot replay: bad monitoring intervals (sample %s us, "
                        "aggregation %s us)" % (path, sample_us, aggr_us))
    ratio = max(1, int(round(aggr_us / sample_us)))
    if record.intervals is not None and record.intervals.tuning_enabled and \
            record.sample_interval_us is not None and source_intervals is None:
        tuned = record.sample_interval_us
        per_snap = np.where(np.isnan(tuned), sample_us, tuned)
        nr_slices = np.maximum(1, np.round(durations / 1000 / per_snap)).astype(np.int64)
    else:
        nr_slices = np.full(n, ratio, dtype=np.int64)
    starts = record.starts.astype(np.uint64) // np.uint64(PAGE) * np.uint64(PAGE)
    ends = (record.ends.astype(np.uint64) + np.uint64(PAGE - 1)) // np.uint64(PAGE) \
        * np.uint64(PAGE)
    keep = ends > starts
    samples = record.nr_accesses.astype(np.int64)
    offsets = record.region_offsets
    if not keep.all():
        counts = np.add.reduceat(keep.astype(np.int64), offsets[:-1]) \
            if len(keep) else np.zeros(n, np.int64)
        counts[offsets[:-1] == offsets[1:]] = 0
        offsets = np.r_[0, np.cumsum(counts)]
        starts, ends, samples = starts[keep], ends[keep], samples[keep]
    ranges = _unions(starts, ends) if len(starts) else []
    total = sum(b - a for a, b in ranges)
    if total > MAX_REPLAY_BYTES:
        raise DamoError("%s: cannot replay record %d: its regions span %s, more than the "
                        "%s a replay can map" % (path, index, units.format_sz(total, False),
                                                 units.format_sz(MAX_REPLAY_BYTES, False)))
    base = float(start[0]) if t0_ns is None else float(t0_ns)
    return ReplayPlan(index, record.target_id, ranges, start - base, end - base,
                      np.asarray(offsets, dtype=np.int64), starts, ends, samples, nr_slices,
                      sample_us, aggr_us, inferred, base)


def plans(recording, source_intervals=None):
    records = replayable_records(recording)
    t0 = min(float(r.start_ns[0]) for r in records)
    return [plan(recording, r, recording.records.index(r), source_intervals, t0)
            for r in records]


# ---------------------------------------------------------------------------
# real accesses

class RealReplay:
    """A plan laid out in one real buffer: its ranges back to back."""

    def __init__(self, p):
        from damo_engine.replay import RealBuffer

        self.plan = p
        self.range_starts = np.array([a for a, _ in p.ranges], dtype=np.uint64)
        sizes = np.array([b - a for a, b in p.ranges], dtype=np.uint64)
        self.range_offsets = np.r_[np.uint64(0), np.cumsum(sizes)].astype(np.uint64)
        size = int(self.range_offsets[-1]) if len(sizes) else PAGE
        try:
            self.buffer = RealBuffer(max(size, PAGE))
        except MemoryError as e:
            raise DamoError(str(e)) from None
        # buffer offsets of the regions
        idx = np.searchsorted(self.range_starts, p.starts, side="right") - 1
        self.offsets = (p.starts - self.range_starts[idx] + self.range_offsets[idx]) \
            .astype(np.uint64)
        self.npages = ((p.ends - p.starts) // np.uint64(PAGE)).astype(np.uint64)
        self.samples = p.samples.clip(0, 1 << 30).astype(np.int32)

    def play(self, paced=True, on_snapshot=None, start_s=None, stop=None):
        """Replay every snapshot once; returns (pages touched, seconds)."""
        from damo_engine.replay import monotonic

        p = self.plan
        t0 = monotonic() if start_s is None else start_s
        pages = 0
        for k in range(len(p.start_ns)):
            lo, hi = int(p.region_offsets[k]), int(p.region_offsets[k + 1])
            nsl = int(p.nr_slices[k])
            slice_s = (p.end_ns[k] - p.start_ns[k]) / 1e9 / nsl
            done, _ = self.buffer.play_snapshot(
                self.offsets[lo:hi], self.npages[lo:hi], self.samples[lo:hi], nsl, slice_s,
                t0 + p.start_ns[k] / 1e9, paced)
            pages += done
            if on_snapshot is not None:
                on_snapshot(k, monotonic() - t0)
            if stop is not None and stop():
                break
        return pages, monotonic() - t0
