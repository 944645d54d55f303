"""Columnar, in-memory model of a damo recording.

A ``Recording`` is damo's top-level JSON list: one ``Record`` per
kdamond/context/target (or DAMOS scheme).  A record keeps its snapshots and
their regions in flat numpy columns, so that a million regions cost a few
arrays instead of a million Python objects:

- per snapshot ``i``: ``start_ns[i]``, ``end_ns[i]``, and its regions at
  ``region_offsets[i]:region_offsets[i + 1]`` of the region columns;
- per region: ``starts``, ``ends`` (bytes, ``[start, end)``), ``nr_accesses``
  (samples within one aggregation interval), ``ages`` (aggregation
  intervals; ``AGE_UNKNOWN`` where the source had none) and, optionally,
  ``sz_filter_passed``.
"""
import dataclasses
from typing import Optional

import numpy as np

# Age of a region whose source did not say it (null in JSON, no age field in
# old perf traces).  damo prints such ages as -1 and writes them as null.
AGE_UNKNOWN = np.iinfo(np.int64).min


@dataclasses.dataclass
class Intervals:
    """DAMON monitoring intervals of a record, in microseconds."""
    sample_us: float
    aggr_us: float
    ops_update_us: float
    # {access_bp, aggrs, min_sample_us, max_sample_us} as numbers, or None
    goal: Optional[dict] = None

    @property
    def tuning_enabled(self):
        return bool(self.goal) and self.goal.get("aggrs", 0) != 0


def _as(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype)


class Record:
    """Monitoring results of one DAMON target (or one DAMOS scheme)."""

    def __init__(self, target_id, start_ns, end_ns, region_offsets,
                 starts, ends, nr_accesses, ages, *, kdamond_idx=0, context_idx=0,
                 scheme_idx=None, intervals=None, scheme_filters=None,
                 data_source="unknown", sample_interval_us=None, total_bytes=None,
                 damos_stats=None, sz_filter_passed=None):
        self.kdamond_idx = 0 if kdamond_idx is None else kdamond_idx
        self.context_idx = 0 if context_idx is None else context_idx
        self.scheme_idx = scheme_idx
        self.target_id = target_id
        self.intervals = intervals
        self.scheme_filters = list(scheme_filters or [])
        self.data_source = data_source
        # Times stay integers unless a reader had to extrapolate one (perf
        # traces carry no snapshot start time), as damo does.
        start_ns = np.asarray(start_ns)
        self.start_ns = _as(start_ns, np.float64 if start_ns.dtype.kind == "f" else np.int64)
        self.end_ns = _as(end_ns, np.int64)
        self.region_offsets = _as(region_offsets, np.int64)
        self.starts = _as(starts, np.uint64)
        self.ends = _as(ends, np.uint64)
        self.nr_accesses = _as(nr_accesses, np.int64)
        self.ages = _as(ages, np.int64)
        # Optional per-snapshot columns: NaN / None where a snapshot lacks one.
        self.sample_interval_us = (None if sample_interval_us is None
                                   else _as(sample_interval_us, np.float64))
        self.total_bytes = None if total_bytes is None else _as(total_bytes, np.int64)
        self.damos_stats = None if damos_stats is None else list(damos_stats)
        self.sz_filter_passed = (None if sz_filter_passed is None
                                 else _as(sz_filter_passed, np.int64))
        self._check()

    def _check(self):
        nr_snapshots = len(self.end_ns)
        if len(self.start_ns) != nr_snapshots or len(self.region_offsets) != nr_snapshots + 1:
            raise ValueError("snapshot columns disagree in length")
        nr_regions = len(self.starts)
        for name in ("ends", "nr_accesses", "ages"):
            if len(getattr(self, name)) != nr_regions:
                raise ValueError("region column %s disagrees in length" % name)
        if self.sz_filter_passed is not None and len(self.sz_filter_passed) != nr_regions:
            raise ValueError("region column sz_filter_passed disagrees in length")
        if self.region_offsets[0] != 0 or self.region_offsets[-1] != nr_regions or \
                np.any(np.diff(self.region_offsets) < 0):
            raise ValueError("region offsets do not index the region columns")

    @property
    def nr_snapshots(self):
        return len(self.end_ns)

    @property
    def nr_regions(self):
        return len(self.starts)

    def nr_regions_per_snapshot(self):
        return np.diff(self.region_offsets)

    def sizes(self):
        return (self.ends - self.starts).astype(np.int64)

    def per_snapshot_sum(self, values):
        """Sum of a per-region column over each snapshot's regions."""
        starts = self.region_offsets[:-1]
        sums = np.add.reduceat(np.append(values, 0), starts)
        sums[starts == self.region_offsets[1:]] = 0
        return sums

    def snapshot_total_bytes(self):
        """total_bytes of each snapshot: as recorded, else the sum of sizes."""
        sums = self.per_snapshot_sum(self.sizes())
        if self.total_bytes is None:
            return sums
        return np.where(self.total_bytes >= 0, self.total_bytes, sums)

    def key(self):
        """What identifies a record in damo's heatmap/guide selection."""
        return (self.kdamond_idx, self.context_idx, self.scheme_idx, self.target_id)

    def snapshot_slice(self, idx):
        return slice(int(self.region_offsets[idx]), int(self.region_offsets[idx + 1]))


@dataclasses.dataclass
class Recording:
    """A damo recording: its records, plus data only our native format keeps."""
    records: list
    metadata: dict = dataclasses.field(default_factory=dict)
    path: Optional[str] = None
    format: Optional[str] = None
