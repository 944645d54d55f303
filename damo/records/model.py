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
import math

import numpy as np

# Age of a region whose source did not say it (null in JSON, no age field in
# old perf traces).  damo prints such ages as -1 and writes them as null.
AGE_UNKNOWN = np.iinfo(np.int64).min
INT64_MAX = 2**63 - 1
ULONG_MAX = 2**64 - 1
UINT_MAX = 2**32 - 1


class FormatError(ValueError):
    """The content is not a valid damo recording; the message says where."""


def check_int(value, where, lo=0, hi=INT64_MAX):
    """``value`` (a JSON number) as an int in [lo, hi]: integral floats are
    taken as damo takes them (int()), NaN, infinities and booleans refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                         np.floating)):
        raise FormatError("%s: %r is not a number" % (where, value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise FormatError("%s: %r is not a finite number" % (where, value))
        value = int(value)
    if not lo <= value <= hi:
        raise FormatError("%s: %d is out of range [%d, %d]" % (where, value, lo, hi))
    return int(value)


def check_interval(value, where):
    """A monitoring interval in us: finite, 0 to ULONG_MAX (the kernel's field)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not (math.isfinite(value) and 0 <= value <= ULONG_MAX):
        raise FormatError("%s: %r is not an interval (0 to 2^64-1 us)" % (where, value))
    return value


class _Fields:
    """What @dataclasses.dataclass would give (init, repr, ==, unhashable),
    written out: every report reads these, and the dataclasses module is 0.16 MB
    of a small report's memory, which must stay within damo 3.4.3's."""
    _FIELDS = ()
    _DEFAULTS = {}
    __hash__ = None

    def __init__(self, *args, **kwargs):
        if len(args) > len(self._FIELDS):
            raise TypeError("%s takes %d arguments" % (type(self).__name__, len(self._FIELDS)))
        values = dict(zip(self._FIELDS, args))
        for name, value in kwargs.items():
            if name not in self._FIELDS or name in values:
                raise TypeError("%s: unexpected or repeated argument %r"
                                % (type(self).__name__, name))
            values[name] = value
        for name in self._FIELDS:
            if name not in values:
                if name not in self._DEFAULTS:
                    raise TypeError("%s: missing argument %r" % (type(self).__name__, name))
                default = self._DEFAULTS[name]
                values[name] = default() if callable(default) else default
            setattr(self, name, values[name])

    def _values(self):
        return tuple(getattr(self, name) for name in self._FIELDS)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (name, getattr(self, name)) for name in self._FIELDS))


class Intervals(_Fields):
    """DAMON monitoring intervals of a record, in microseconds: sample_us,
    aggr_us, ops_update_us, and goal ({access_bp, aggrs, min_sample_us,
    max_sample_us} as numbers, or None)."""
    _FIELDS = ("sample_us", "aggr_us", "ops_update_us", "goal")
    _DEFAULTS = {"goal": None}

    @property
    def tuning_enabled(self):
        return bool(self.goal) and self.goal.get("aggrs", 0) != 0

    def check(self, where="intervals"):
        for name in ("sample_us", "aggr_us", "ops_update_us"):
            check_interval(getattr(self, name), "%s.%s" % (where, name))
        if self.goal is not None:
            if not isinstance(self.goal, dict):
                raise FormatError("%s.intervals_goal is not an object" % where)
            for name in ("access_bp", "aggrs", "min_sample_us", "max_sample_us"):
                if name not in self.goal:
                    raise FormatError("%s.intervals_goal lacks %s" % (where, name))
                check_interval(self.goal[name], "%s.intervals_goal.%s" % (where, name))


def _as(values, dtype):
    return np.ascontiguousarray(values, dtype=dtype)


def _first(mask):
    return int(np.argmax(mask))


def _refuse(mask, message, args):
    """FormatError(message % args(i)) for the first i where mask is set."""
    if np.any(mask):
        raise FormatError(message % args(_first(mask)))


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
        try:
            start_ns = np.asarray(start_ns)
            self.start_ns = _as(start_ns, np.float64 if start_ns.dtype.kind == "f"
                                else np.int64)
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
            self.sz_filter_passed = (None if sz_filter_passed is None
                                     else _as(sz_filter_passed, np.int64))
        except (OverflowError, ValueError, TypeError) as e:
            raise FormatError("a column holds a value out of its range (%s)" % e) from None
        self.damos_stats = None if damos_stats is None else list(damos_stats)
        self._check()

    def _check(self):
        """Refuse what no DAMON could have recorded, so that reports can
        trust a loaded record (FormatError, naming the snapshot and region)."""
        nr_snapshots = len(self.end_ns)
        if len(self.start_ns) != nr_snapshots or len(self.region_offsets) != nr_snapshots + 1:
            raise FormatError("snapshot columns disagree in length")
        nr_regions = len(self.starts)
        for name in ("ends", "nr_accesses", "ages"):
            if len(getattr(self, name)) != nr_regions:
                raise FormatError("region column %s disagrees in length" % name)
        if self.sz_filter_passed is not None and len(self.sz_filter_passed) != nr_regions:
            raise FormatError("region column sz_filter_passed disagrees in length")
        offsets = self.region_offsets
        if offsets[0] != 0 or offsets[-1] != nr_regions or np.any(np.diff(offsets) < 0):
            raise FormatError("region offsets do not index the region columns")
        tid = self.target_id
        if not (tid is None or isinstance(tid, str) or
                (isinstance(tid, int) and not isinstance(tid, bool))):
            raise FormatError("target_id %r is not a number or a string" % (tid,))
        for name in ("kdamond_idx", "context_idx", "scheme_idx"):
            value = getattr(self, name)
            if value is not None:
                check_int(value, name)
        for i, f in enumerate(self.scheme_filters):
            if not isinstance(f, dict):
                raise FormatError("scheme_filters %d is not an object" % i)
        if not isinstance(self.data_source, str):
            raise FormatError("data_source %r is not a string" % (self.data_source,))
        if self.intervals is not None:
            self.intervals.check()
        if self.start_ns.dtype.kind == "f":
            bad = ~np.isfinite(self.start_ns) | (np.abs(self.start_ns) >= 2.0**63)
            if np.any(bad):
                raise FormatError("snapshot %d: start time %r is not a time"
                                  % (_first(bad), float(self.start_ns[_first(bad)])))
        _refuse(self.start_ns > self.end_ns, "snapshot %d: starts after it ends",
                lambda i: (i,))
        if self.sample_interval_us is not None:
            if len(self.sample_interval_us) != nr_snapshots:
                raise FormatError("sample_interval_us disagrees in length")
            v = self.sample_interval_us
            _refuse(np.isinf(v) | (v < 0) | (v > 2.0**64),
                    "snapshot %d: sample_interval_us %r is not an interval",
                    lambda i: (i, float(v[i])))
        if self.total_bytes is not None:
            if len(self.total_bytes) != nr_snapshots:
                raise FormatError("total_bytes disagrees in length")
            _refuse(self.total_bytes < -1, "snapshot %d: total_bytes %d is negative",
                    lambda i: (i, self.total_bytes[i]))
        if self.damos_stats is not None:
            if len(self.damos_stats) != nr_snapshots:
                raise FormatError("damos_stats disagrees in length")
            for i, st in enumerate(self.damos_stats):
                if st is not None and not isinstance(st, dict):
                    raise FormatError("snapshot %d: damos_stats is not an object" % i)
        if not nr_regions:
            return
        where = self._region_where
        # an inverted region is refused; empty, overlapping and unsorted ones
        # are read (damo reads them, and its reports give them numbers)
        _refuse(self.starts > self.ends, "%s: start %d is above end %d",
                lambda i: (where(i), self.starts[i], self.ends[i]))
        _refuse((self.nr_accesses < 0) | (self.nr_accesses > UINT_MAX),
                "%s: nr_accesses %d is out of range [0, 2^32-1]",
                lambda i: (where(i), self.nr_accesses[i]))
        _refuse((self.ages < 0) & (self.ages != AGE_UNKNOWN),
                "%s: age %d is negative", lambda i: (where(i), self.ages[i]))
        if self.sz_filter_passed is not None:
            _refuse(self.sz_filter_passed < 0, "%s: sz_filter_passed %d is negative",
                    lambda i: (where(i), self.sz_filter_passed[i]))

    def _region_where(self, i):
        sidx = int(np.searchsorted(self.region_offsets, i, side="right")) - 1
        return "snapshot %d region %d" % (sidx, i - int(self.region_offsets[sidx]))

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


class RecordHead:
    """A record without its region columns, for reading a recording snapshot
    by snapshot: its own fields, and per snapshot the times and the number of
    regions (``region_offsets`` as a Record's)."""

    def __init__(self, target_id, start_ns, end_ns, region_offsets, refs=None, *,
                 kdamond_idx=0, context_idx=0, scheme_idx=None, intervals=None,
                 data_source="unknown"):
        self.target_id = target_id
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.region_offsets = _as(region_offsets, np.int64)
        self.refs = refs        # where the reader finds each snapshot's regions
        self.kdamond_idx = 0 if kdamond_idx is None else kdamond_idx
        self.context_idx = 0 if context_idx is None else context_idx
        self.scheme_idx = scheme_idx
        self.intervals = intervals
        self.data_source = data_source

    @property
    def nr_snapshots(self):
        return len(self.end_ns)


class Recording(_Fields):
    """A damo recording: its records, plus data only our native format keeps
    (metadata, a dict), and where it was read from (path, format)."""
    _FIELDS = ("records", "metadata", "path", "format")
    _DEFAULTS = {"metadata": dict, "path": None, "format": None}
