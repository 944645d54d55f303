"""damo's perf_script text recordings: ``perf script`` / ``trace-cmd report``
output of DAMON's tracepoints, one line per region.

    <comm> <pid> [<cpu>] <sec.usec>: damon:damon_aggregated: target_id=<id> nr_regions=<n> <start>-<end>: <nr_accesses> [<age>]

Also read: trace-cmd lines (``comm-pid [cpu] [flags] ts: damon_aggregated: ...``),
``damos_before_apply`` lines (``ctx_idx= scheme_idx= target_idx= nr_regions= a-b: nr age``)
and ``damon_monitor_intervals_tune sample_us=N`` lines, which give the next
snapshot its sample interval.  The text has no snapshot start times: like
damo, a snapshot starts where the previous one of its target ended, and the
first one is extrapolated from the mean snapshot length.  A record with one
snapshot is written with a fake trailing snapshot (a 0-0 region with -1
samples and age) so that its length survives; readers drop it.
"""
import numpy as np

from damo.records.model import AGE_UNKNOWN, INT64_MAX, UINT_MAX, ULONG_MAX, FormatError, Record

_AGGREGATED = ("damon_aggregated", "damon:damon_aggregated")
_BEFORE_APPLY = ("damos_before_apply", "damon:damos_before_apply")
_INTERVALS_TUNE = ("damon_monitor_intervals_tune", "damon:damon_monitor_intervals_tune")


def _event_fields(fields):
    """(timestamp text, event name, trace fields) of a split trace line.

    perf script and trace-cmd lines both put the timestamp right before the
    event; trace-cmd may or may not print a latency column before it.
    """
    ts_idx = 2 if fields[2].endswith(":") else 3
    timestamp, event = fields[ts_idx], fields[ts_idx + 1]
    if not timestamp.endswith(":") or not event.endswith(":"):
        raise ValueError("no '<timestamp>: <event>:' fields")
    return timestamp[:-1], event[:-1], fields[ts_idx + 2:]


def _kv(field, key):
    name, sep, value = field.partition("=")
    if name != key or not sep:
        raise ValueError("expected %s=<number>, got %r" % (key, field))
    return int(value)


def _region(trace_fields, before_apply):
    """(target, nr_regions, start, end, nr_accesses, age) of a region line."""
    if before_apply:
        # ctx_idx= scheme_idx= target_idx= nr_regions= a-b: nr age
        if len(trace_fields) != 7:
            return None
        target = _kv(trace_fields[2], "target_idx")
        nr_regions = _kv(trace_fields[3], "nr_regions")
        rest = trace_fields[4:]
    else:
        # target_id= nr_regions= a-b: nr [age]
        if len(trace_fields) not in (4, 5):
            return None
        target = _kv(trace_fields[0], "target_id")
        nr_regions = _kv(trace_fields[1], "nr_regions")
        rest = trace_fields[2:]
    if not rest[0].endswith(":"):
        raise ValueError("expected '<start>-<end>:', got %r" % rest[0])
    start, end = (int(x) for x in rest[0][:-1].split("-"))
    age = int(rest[2]) if len(rest) == 3 else AGE_UNKNOWN
    nr_accesses = int(rest[1])
    # the kernel's fields (the fake last snapshot damo writes has -1s)
    if not (0 <= start <= ULONG_MAX and 0 <= end <= ULONG_MAX):
        raise ValueError("address out of range [0, 2^64-1]")
    if not -1 <= nr_accesses <= UINT_MAX:
        raise ValueError("nr_accesses %d out of range [0, 2^32-1]" % nr_accesses)
    if age != AGE_UNKNOWN and not -1 <= age <= INT64_MAX:
        raise ValueError("age %d out of range" % age)
    # target ids of real traces are kernel pointers: up to 2^64-1
    if not 1 <= nr_regions <= INT64_MAX or not 0 <= target <= ULONG_MAX:
        raise ValueError("nr_regions or target out of range")
    return target, nr_regions, start, end, nr_accesses, age


class _Builder:
    """Snapshots of one target as they are parsed."""

    def __init__(self):
        self.end_ns = []
        self.sample_us = []
        self.counts = []
        self.nr_regions = 0         # of the last snapshot
        self.starts, self.ends, self.nr_accesses, self.ages = [], [], [], []

    @property
    def missing(self):
        return self.nr_regions - self.counts[-1]

    def add_region(self, start, end, nr_accesses, age):
        self.counts[-1] += 1
        self.starts.append(start)
        self.ends.append(end)
        self.nr_accesses.append(nr_accesses)
        self.ages.append(age)

    def last_is_fake(self):
        return self.counts[-1] == 1 and (self.starts[-1], self.ends[-1],
                                         self.nr_accesses[-1], self.ages[-1]) == (0, 0, -1, -1)

    def drop_last(self):
        count = self.counts.pop()
        self.end_ns.pop()
        self.sample_us.pop()
        for column in (self.starts, self.ends, self.nr_accesses, self.ages):
            del column[len(column) - count:]


def read(text, path=None):
    """Records from perf_script text (str)."""
    builders = {}   # target id -> _Builder, in order of appearance
    current = None  # the builder whose last snapshot is still open
    tune_us = None
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        # damo skips short lines (e.g. trace-cmd's header); so do we, and
        # comments (perf script's header)
        if len(fields) < 4 or fields[0].startswith("#"):
            continue
        try:
            timestamp, event, trace_fields = _event_fields(fields)
            prev_tune_us, tune_us = tune_us, None
            if event in _INTERVALS_TUNE:
                if len(trace_fields) == 1:
                    tune_us = _kv(trace_fields[0], "sample_us")
                    if not 0 <= tune_us <= ULONG_MAX:
                        raise ValueError("sample_us out of range")
                continue
            if event in _AGGREGATED or event in _BEFORE_APPLY:
                parsed = _region(trace_fields, event in _BEFORE_APPLY)
            else:
                continue
            if parsed is None:
                continue
            end_ns = int(float(timestamp) * 1000000000)
            if not -INT64_MAX <= end_ns <= INT64_MAX:
                raise ValueError("timestamp out of range")
        except (ValueError, IndexError, OverflowError) as e:
            raise FormatError("line %d is not a DAMON trace line (%s): %r"
                              % (lineno, e, line[:80])) from None
        target, nr_regions, start, end, nr_accesses, age = parsed
        builder = builders.setdefault(target, _Builder())
        if current is not None and builder is not current:
            raise FormatError("line %d: a region of target %s inside the unfinished snapshot "
                              "of another target (%d of its regions are missing)"
                              % (lineno, target, current.missing))
        if builder.end_ns and builder.end_ns[-1] > end_ns:
            raise FormatError("line %d: trace is not time-sorted" % lineno)
        if current is None:
            builder.end_ns.append(end_ns)
            builder.sample_us.append(np.nan if prev_tune_us is None else prev_tune_us)
            builder.counts.append(0)
            builder.nr_regions = nr_regions
            current = builder
        elif nr_regions != builder.nr_regions:
            raise FormatError("line %d: nr_regions=%d in a snapshot of %d regions"
                              % (lineno, nr_regions, builder.nr_regions))
        # like damo, a region goes to its own target's last snapshot
        builder.add_region(start, end, nr_accesses, age)
        if builder.counts[-1] == nr_regions:
            current = None
    records = []
    for target, b in builders.items():
        try:
            records.append(_record(target, b))
        except FormatError as e:
            raise FormatError("target %s: %s" % (target, e)) from None
    return records


def _record(target, b):
    if len(b.end_ns) >= 2:
        first_len = float(b.end_ns[-1] - b.end_ns[0]) / (len(b.end_ns) - 1)
        first_start = b.end_ns[0] - first_len
        if b.last_is_fake():
            b.drop_last()
    else:
        # damo leaves this unknown (and its reports then fail); take the
        # snapshot as instantaneous instead.
        first_start = float(b.end_ns[0])
    offsets = np.zeros(len(b.counts) + 1, dtype=np.int64)
    np.cumsum(b.counts, out=offsets[1:])
    return Record(
        target, np.array([first_start] + b.end_ns[:-1], dtype=np.float64),
        np.array(b.end_ns, dtype=np.int64), offsets,
        np.array(b.starts, dtype=np.uint64), np.array(b.ends, dtype=np.uint64),
        np.array(b.nr_accesses, dtype=np.int64), np.array(b.ages, dtype=np.int64),
        sample_interval_us=None if np.all(np.isnan(b.sample_us)) else b.sample_us)


def _lines(record, sidx, start, end, nr_accesses, ages):
    """perf script lines of one snapshot, as damo writes them."""
    timestamp = "%f" % (record.end_ns[sidx] / 1000000000.0) if sidx < record.nr_snapshots \
        else "%f" % ((2 * record.end_ns[-1] - record.start_ns[-1]) / 1000000000.0)
    head = "kdamond.x xxxx xxxx %s: damon:damon_aggregated: target_id=%s nr_regions=%d " % (
        timestamp, record.target_id, len(start))
    lines = []
    if record.sample_interval_us is not None and sidx < record.nr_snapshots and \
            not np.isnan(record.sample_interval_us[sidx]):
        lines.append("kdamond.x xxxx xxxx %s: damon:damon_monitor_intervals_tune: "
                     "sample_us=%d\n" % (timestamp, record.sample_interval_us[sidx]))
    lines.extend(
        "%s%d-%d: %d%s\n" % (head, s, e, n, "" if a == AGE_UNKNOWN else " %d" % a)
        for s, e, n, a in zip(start, end, nr_accesses, ages))
    return lines


def iter_text(records):
    """The perf_script text of ``records``, a snapshot at a time."""
    for record in records:
        for sidx in range(record.nr_snapshots):
            sl = record.snapshot_slice(sidx)
            yield "".join(_lines(record, sidx, record.starts[sl].tolist(),
                                 record.ends[sl].tolist(), record.nr_accesses[sl].tolist(),
                                 record.ages[sl].tolist()))
        if record.nr_snapshots == 1:
            yield "".join(_lines(record, 1, [0], [0], [-1], [-1]))
