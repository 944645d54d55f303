"""damo's access filters: which regions and snapshots of a recording to keep.

The options are damo 3.4.3's (``--sz_region``, ``--access_rate``, ``--age``,
``--address``, ``--sz_snapshot``, ``--snapshot_time``, ``--snapshot_idx``,
``--temperature``), with damo's meaning, applied in damo's order:

1. the access pattern (region size, access rate, age), on every region;
2. address ranges: regions are clipped to them;
3. snapshot total size, 4. snapshot time, 5. snapshot index (counted among
   the snapshots still kept), 6. region temperature.

What damo does and we keep, so that results match it:

- ``--age`` values without a unit are microseconds (damo meant seconds, but
  multiplies the option's *list* by 10^6, which repeats it; its values then
  go through its microseconds parser); ``--age 5s 10s`` is unambiguous.
- the access rate of a region is ``int(samples * 100 / (aggr / sample))``
  percent, its age ``aggr_intervals * aggr_us``; records without monitoring
  intervals are filtered by size only;
- the pattern does not change a snapshot's total_bytes; the address and
  temperature filters set it to what is left.

Where damo crashes, we decide: a region of unknown age matches any age range
(damo multiplies None), and ``--temperature`` on a record that lacks intervals
or ages is one error (damo dies in its unit conversion).
"""
import argparse
import dataclasses
from typing import List, Optional

import click
import numpy as np

from damo import units
from damo.errors import DamoError
from damo.records.model import AGE_UNKNOWN, Record

# damo's default temperature weights (size, access rate, age) outside of
# `report access`, which has its own --temperature_weights
DEFAULT_TEMPERATURE_WEIGHTS = (0, 100, 100)

_INT64_MAX = np.iinfo(np.int64).max
# per-region percent/age_usec that damo leaves unset (None in its objects)
UNSET = np.iinfo(np.int64).min


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One filter option as damo's argparse declares it."""
    name: str
    metavar: tuple
    help: str
    default: Optional[tuple] = None     # None: repeatable (argparse's append)
    type: type = str


OPTIONS = (
    OptionSpec("--sz_region", ("<min>", "<max>"),
               "min/max size of regions (bytes) to filter in", ("min", "max")),
    OptionSpec("--access_rate", ("<min>", "<max>"),
               "min/max access rate of regions (percent) to filter in", ("min", "max")),
    OptionSpec("--age", ("<min>", "<max>"),
               "min/max age of regions (seconds) to filter in", ("min", "max")),
    OptionSpec("--address", ("<start>", "<end>"), "address ranges to filter in"),
    OptionSpec("--sz_snapshot", ("<min>", "<max>"),
               "min/max total size of regions of snapshots to filter in"),
    OptionSpec("--snapshot_time", ("<start (ns)>", "<end (ns)>"),
               "show snapshots generated in these time intervals"),
    OptionSpec("--snapshot_idx", ("<start>", "<end>"), "show snapshots of these indices range"),
    OptionSpec("--temperature", ("<min>", "<max>"),
               "min/max temperature of regions to filter in", type=int),
)

OPTION_NAMES = tuple(o.name.lstrip("-") for o in OPTIONS)


def filter_options(f):
    """Add damo's access filter options to a click command."""
    for spec in reversed(OPTIONS):
        kwargs = dict(nargs=2, metavar=" ".join(spec.metavar), help=spec.help,
                      type=click.INT if spec.type is int else click.STRING)
        if spec.default is None:
            kwargs["multiple"] = True
            kwargs["help"] = spec.help + " (repeatable)"
        else:
            kwargs["default"] = spec.default
            kwargs["show_default"] = True
        f = click.option(spec.name, spec.name.lstrip("-"), **kwargs)(f)
    return f


def add_argparse_options(parser):
    """The same options on an argparse parser, as damo declares them (for
    damo's help texts, which are argparse's formatting of them)."""
    for spec in OPTIONS:
        kwargs = dict(metavar=spec.metavar, nargs=2, help=spec.help)
        if spec.type is int:
            kwargs["type"] = int
        if spec.default is None:
            kwargs["action"] = "append"
        else:
            kwargs["default"] = list(spec.default)
        parser.add_argument(spec.name, **kwargs)


def argparse_help_body(add_options):
    """damo's help-topic text for a set of options: argparse's help of a
    parser holding only them, without the usage paragraph (and, when
    there is a single paragraph, without its heading)."""
    parser = argparse.ArgumentParser(add_help=False)
    add_options(parser)
    paragraphs = parser.format_help().split("\n\n")[1:]
    if len(paragraphs) == 1:
        return "\n".join(paragraphs[0].split("\n")[1:])
    return "\n\n".join(paragraphs)


def _parse(parse, text, option):
    try:
        value = parse(text)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise DamoError("%s: %r is not a valid value" % (option, text), exit_code=1) from None
    if value is None:
        raise DamoError("%s: %r is not a valid value" % (option, text), exit_code=1)
    return value


def _bytes(text, option):
    value = _parse(units.to_bytes, text, option)
    # sizes and addresses: finite and not negative (numpy's uint64 columns)
    if value != value or value < 0 or value == float("inf"):
        raise DamoError("%s: %r is not a valid size or address" % (option, text), exit_code=1)
    return min(units.ULONG_MAX, int(value))


def _sorted_ranges(pairs, option):
    """damo's parse_sort_bytes_ranges_input: sizes, sorted, not overlapping."""
    ranges = sorted(([_bytes(s, option), _bytes(e, option)] for s, e in pairs),
                    key=lambda r: r[0])
    for i, (start, end) in enumerate(ranges):
        if start > end:
            raise DamoError("%s: start > end (%s)" % (option, [start, end]))
        if i and ranges[i - 1][1] > start:
            raise DamoError("%s: overlapping ranges" % option)
    return ranges


def _min_max(values, option, parse):
    low, high = (_parse(parse, v, option) for v in values)
    for text, value in zip(values, (low, high)):
        if value != value or value in (float("inf"), float("-inf")):
            raise DamoError("%s: %r is not a finite value" % (option, text), exit_code=1)
    return low, high


@dataclasses.dataclass
class AccessFilter:
    """A parsed set of damo's access filter options."""
    sz_bytes: tuple = (0, units.ULONG_MAX)
    access_rate: tuple = (0, units.ULONG_MAX)      # percent
    age_us: tuple = (0, units.ULONG_MAX)
    address_ranges: Optional[List[list]] = None
    snapshot_sz_ranges: Optional[List[list]] = None
    snapshot_time_ranges: Optional[List[list]] = None    # ns
    snapshot_index_ranges: Optional[List[list]] = None
    temperature_ranges: Optional[List[list]] = None
    temperature_weights: tuple = DEFAULT_TEMPERATURE_WEIGHTS

    @classmethod
    def from_options(cls, sz_region=("min", "max"), access_rate=("min", "max"),
                     age=("min", "max"), address=(), sz_snapshot=(), snapshot_time=(),
                     snapshot_idx=(), temperature=(),
                     temperature_weights=DEFAULT_TEMPERATURE_WEIGHTS, **_ignored):
        """From the click options of ``filter_options`` (other keyword
        arguments are ignored, so that a command can pass all of its own)."""
        flt = cls()
        flt.sz_bytes = tuple(_bytes(v, "--sz_region") for v in sz_region)
        flt.access_rate = _min_max(access_rate, "--access_rate", units.to_percent)
        flt.age_us = _min_max(age, "--age", units.to_us)
        if address:
            flt.address_ranges = _sorted_ranges(address, "--address")
        if sz_snapshot:
            flt.snapshot_sz_ranges = _sorted_ranges(sz_snapshot, "--sz_snapshot")
        if snapshot_time:
            flt.snapshot_time_ranges = [list(_min_max(p, "--snapshot_time", units.to_ns))
                                        for p in snapshot_time]
        if snapshot_idx:
            flt.snapshot_index_ranges = [list(_min_max(p, "--snapshot_idx", units.to_number))
                                         for p in snapshot_idx]
        if temperature:
            flt.temperature_ranges = [[int(a), int(b)] for a, b in temperature]
        flt.temperature_weights = tuple(temperature_weights)
        return flt

    # ------------------------------------------------------------ output

    def to_kvpairs(self, raw=False):
        """damo's RecordFilter.to_kvpairs (``damo args accesses_filter``)."""
        def rate(percent):
            return "%s %%" % units.format_nr(percent, raw)

        def age(us):
            # damo's DamonAge.to_str(usec); raw, damo prints nanoseconds (its
            # "exact" formatter's bug), which read back as microseconds: ours
            # are microseconds
            return "%d" % us if raw else units.format_time_ns_exact(us * 1000, False)

        def sizes(ranges):
            if ranges is None:
                return None
            return [[units.format_sz(s, raw), units.format_sz(e, raw)] for s, e in ranges]

        return {
            "access_pattern": {
                "sz_bytes": {"min": units.format_sz(self.sz_bytes[0], raw),
                             "max": units.format_sz(self.sz_bytes[1], raw)},
                "nr_accesses": {"min": rate(self.access_rate[0]),
                                "max": rate(self.access_rate[1])},
                "age": {"min": age(self.age_us[0]), "max": age(self.age_us[1])},
            },
            "address_ranges": sizes(self.address_ranges),
            "snapshot_sz_ranges": sizes(self.snapshot_sz_ranges),
            "snapshot_time_ranges": self.snapshot_time_ranges,
            "snapshot_index_ranges": self.snapshot_index_ranges,
            "temperature_ranges": self.temperature_ranges,
            "temperature_weights": list(self.temperature_weights),
        }

    # ------------------------------------------------------------ applying

    def apply(self, records, source="the recording"):
        """The records with only the regions and snapshots this filter keeps
        (new Record objects; the given ones are not changed).  Kept regions
        carry ``percent`` and ``age_usec`` columns where damo fills them
        (see ``FilteredRecord``)."""
        return [self._apply_one(r, source) for r in records]

    def _apply_one(self, record, source):
        try:
            return self._apply_checked(record, source)
        except _TooLarge as e:
            raise DamoError("%s: snapshot %d: its regions add up to 2^63 bytes or more, "
                            "more than a snapshot's total can hold" % (source, e.args[0]))

    def _apply_checked(self, record, source):
        view = FilteredRecord.of(record)
        view.filter_pattern(self)
        if self.address_ranges is not None:
            view.clip_to(self.address_ranges)
        if self.snapshot_sz_ranges is not None:
            totals = view.total_bytes
            view.keep_snapshots(np.array([any(lo <= t <= hi for lo, hi in
                                              self.snapshot_sz_ranges)
                                          for t in totals.tolist()], dtype=bool))
        if self.snapshot_time_ranges is not None:
            starts, ends = view.start_ns.tolist(), view.end_ns.tolist()
            view.keep_snapshots(np.array([any(s >= lo and e <= hi for lo, hi in
                                              self.snapshot_time_ranges)
                                          for s, e in zip(starts, ends)], dtype=bool))
        if self.snapshot_index_ranges is not None:
            view.keep_snapshots(np.array([any(lo <= i <= hi for lo, hi in
                                              self.snapshot_index_ranges)
                                          for i in range(view.nr_snapshots)], dtype=bool))
        if self.temperature_ranges is not None:
            view.filter_temperature(self.temperature_ranges, self.temperature_weights, source)
        return view.record()


class _TooLarge(Exception):
    """(snapshot index,): a snapshot whose regions add up past int64."""


class FilteredRecord:
    """A record's columns while filters narrow them down.

    Besides the Record's columns, it keeps, per region, the access rate in
    percent and the age in microseconds that damo computes while filtering
    (``percent`` / ``age_usec``: UNSET where damo leaves them unset), and per
    snapshot the total_bytes damo keeps (the original one until an address
    or temperature filter recomputes it).
    """

    def __init__(self, base, snapshot_idx, start_ns, end_ns, total_bytes, offsets,
                 starts, ends, nr_accesses, ages, sz_filter_passed, percent, age_usec):
        self.base = base
        self.snapshot_idx = snapshot_idx
        self.start_ns, self.end_ns, self.total_bytes = start_ns, end_ns, total_bytes
        self.offsets = offsets
        self.starts, self.ends = starts, ends
        self.nr_accesses, self.ages = nr_accesses, ages
        self.sz_filter_passed = sz_filter_passed
        self.percent, self.age_usec = percent, age_usec

    @classmethod
    def of(cls, record):
        n = record.nr_regions
        totals = record.snapshot_total_bytes().astype(np.int64)
        if np.any(totals < 0):
            # int64 wrapped (regions near 2^63): no machine has that much
            raise _TooLarge(int(np.flatnonzero(totals < 0)[0]))
        return cls(record, np.arange(record.nr_snapshots), record.start_ns.copy(),
                   record.end_ns.copy(), totals,
                   record.region_offsets.copy(), record.starts, record.ends,
                   record.nr_accesses, record.ages,
                   None if record.sz_filter_passed is None else record.sz_filter_passed,
                   np.full(n, UNSET, dtype=np.int64), np.full(n, UNSET, dtype=np.int64))

    @property
    def nr_snapshots(self):
        return len(self.end_ns)

    def _snapshot_of_region(self):
        return np.repeat(np.arange(self.nr_snapshots), np.diff(self.offsets))

    def _take_regions(self, index, snapshot_of):
        """Keep the regions at ``index`` (in order); ``snapshot_of`` gives
        each kept region's snapshot position."""
        counts = np.bincount(snapshot_of, minlength=self.nr_snapshots)
        self.offsets = np.zeros(self.nr_snapshots + 1, dtype=np.int64)
        np.cumsum(counts, out=self.offsets[1:])
        for name in ("starts", "ends", "nr_accesses", "ages", "sz_filter_passed", "percent",
                     "age_usec"):
            column = getattr(self, name)
            if column is not None:
                setattr(self, name, column[index])

    def keep_snapshots(self, mask):
        snapshot_of = self._snapshot_of_region()
        region_mask = mask[snapshot_of] if len(snapshot_of) else np.zeros(0, dtype=bool)
        new_position = np.cumsum(mask) - 1
        for name in ("snapshot_idx", "start_ns", "end_ns", "total_bytes"):
            setattr(self, name, getattr(self, name)[mask])
        index = np.flatnonzero(region_mask)
        self.offsets = np.zeros(int(mask.sum()) + 1, dtype=np.int64)
        self._take_regions(index, new_position[snapshot_of[index]])

    def _sizes(self):
        return self.ends.astype(np.int64) - self.starts.astype(np.int64)

    def filter_pattern(self, flt):
        sizes = self._sizes()
        lo, hi = (min(v, _INT64_MAX) for v in flt.sz_bytes)
        keep = (sizes >= lo) & (sizes <= hi)
        intervals = self.base.intervals
        if intervals is not None and (not intervals.sample_us or not intervals.aggr_us) \
                and flt.access_rate == (0, units.ULONG_MAX) and \
                flt.age_us == (0, units.ULONG_MAX):
            intervals = None    # nothing asks for a rate (--raw_form): keep the regions
        if intervals is not None:
            if not intervals.sample_us or not intervals.aggr_us:
                # the kernel accepts zero intervals; a rate is undefined then
                raise DamoError("monitoring intervals %g us and %g us: access rates need "
                                "both above 0 (use --raw_form)" % (
                                    intervals.sample_us, intervals.aggr_us))
            max_samples = intervals.aggr_us / intervals.sample_us
            percent = access_percent(self.nr_accesses, max_samples)
            self.percent = np.where(keep, percent, UNSET)
            in_rate = (percent >= flt.access_rate[0]) & (percent <= flt.access_rate[1])
            keep &= in_rate
            known = self.ages != AGE_UNKNOWN
            _check_age_range(self.ages, intervals.aggr_us)
            usec = self.ages * int(intervals.aggr_us) if float(intervals.aggr_us).is_integer() \
                else self.ages * intervals.aggr_us
            usec = np.asarray(usec)
            in_age = ~known | ((usec >= flt.age_us[0]) & (usec <= flt.age_us[1]))
            self.age_usec = np.where(keep & known, usec, UNSET).astype(np.int64)
            keep &= in_age
        index = np.flatnonzero(keep)
        self._take_regions(index, self._snapshot_of_region()[index])

    def clip_to(self, ranges):
        """damo's filter_records_by_addr: each region, cut to each range it
        overlaps (in range order), keeping its other fields."""
        starts, ends = self.starts, self.ends
        range_starts = np.array([r[0] for r in ranges], dtype=np.uint64)
        range_ends = np.array([r[1] for r in ranges], dtype=np.uint64)
        # ranges are sorted and disjoint: those overlapping a region are a run
        lo = np.searchsorted(range_ends, starts, side="right")
        hi = np.searchsorted(range_starts, ends, side="left")
        counts = np.maximum(hi - lo, 0)
        region = np.repeat(np.arange(len(starts)), counts)
        which = lo[region] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts,
                                                                 counts)
        snapshot_of = self._snapshot_of_region()[region]
        self._take_regions(region, snapshot_of)
        self.starts = np.maximum(self.starts, range_starts[which])
        self.ends = np.minimum(self.ends, range_ends[which])
        self._update_total_bytes()

    def _update_total_bytes(self):
        sizes = self._sizes()
        totals = np.zeros(self.nr_snapshots, dtype=np.int64)
        np.add.at(totals, self._snapshot_of_region(), sizes)
        if np.any(totals < 0) or np.any(sizes < 0):
            # int64 wrapped: no machine has 2^63 bytes (report access refuses such
            # addresses too); one error rather than a record that fails its checks
            raise DamoError("target %s: a snapshot's regions add up to 2^63 bytes or more"
                            % (self.base.target_id,))
        self.total_bytes = totals

    def filter_temperature(self, ranges, weights, source):
        intervals = self.base.intervals
        if len(self.starts) and intervals is None:
            raise DamoError("--temperature: %s has no monitoring intervals, so its regions "
                            "have no access rate" % source)
        if len(self.starts) and np.any(self.ages == AGE_UNKNOWN):
            raise DamoError("--temperature: %s has regions of unknown age" % source)
        if len(self.starts):
            max_samples = intervals.aggr_us / intervals.sample_us
            percent = np.where(self.percent != UNSET, self.percent,
                               access_percent(self.nr_accesses, max_samples))
            usec = np.where(self.age_usec != UNSET, self.age_usec,
                            _check_age_range(self.ages, intervals.aggr_us) or
                            self.ages * intervals.aggr_us)
            self.percent = percent
            self.age_usec = np.asarray(usec).astype(np.int64)
            temps = temperatures(self._sizes(), percent, self.age_usec, weights)
            keep = np.zeros(len(temps), dtype=bool)
            for lo, hi in ranges:
                keep |= (temps >= lo) & (temps <= hi)
        else:
            keep = np.zeros(0, dtype=bool)
        index = np.flatnonzero(keep)
        self._take_regions(index, self._snapshot_of_region()[index])
        self._update_total_bytes()

    def record(self):
        """A Record of what is left; ``percent`` and ``age_usec`` attributes
        hold damo's per-region values (UNSET: unset)."""
        base = self.base

        def snapshot_column(column):
            return None if column is None else np.asarray(column)[self.snapshot_idx]

        stats = None
        if base.damos_stats is not None:
            stats = [base.damos_stats[i] for i in self.snapshot_idx.tolist()]
        record = Record(
            base.target_id, self.start_ns, self.end_ns, self.offsets, self.starts, self.ends,
            self.nr_accesses, self.ages, kdamond_idx=base.kdamond_idx,
            context_idx=base.context_idx, scheme_idx=base.scheme_idx,
            intervals=base.intervals, scheme_filters=base.scheme_filters,
            data_source=base.data_source,
            sample_interval_us=snapshot_column(base.sample_interval_us),
            total_bytes=self.total_bytes, damos_stats=stats,
            sz_filter_passed=self.sz_filter_passed)
        record.percent = self.percent
        record.age_usec = self.age_usec
        # each kept snapshot's index in the original record (report profile
        # maps them back to the accesses of their time)
        record.snapshot_idx = self.snapshot_idx
        return record


def access_percent(nr_accesses, max_samples):
    """damo's int(nr_accesses * 100 / max samples) of each region, as int64.
    A rate past int64 (a sampling interval near 2^64 against a microsecond
    aggregation interval: 1e21 %) is held at int64's top instead of cast
    into garbage (numpy warned and made it negative); no range reaches it
    but 'max', as no Python int of damo's does."""
    with np.errstate(over="ignore", invalid="ignore"):
        percent = np.trunc(np.asarray(nr_accesses) * 100.0 / max_samples)
    return np.minimum(percent, _PERCENT_TOP).astype(np.int64)


_PERCENT_TOP = float(2 ** 63 - 1024)   # the largest float below 2^63


def _check_age_range(ages, aggr_us):
    """Ages in microseconds must fit int64 (a fuzzed aggr_us of 10^30 made
    numpy raise OverflowError): one error naming the interval instead."""
    known = ages[ages != AGE_UNKNOWN] if len(ages) else ages
    oldest = int(known.max()) if len(known) else 0
    if not aggr_us < 2 ** 63 or oldest * aggr_us >= 2 ** 63:
        raise DamoError("aggregation interval %g us: region ages in time do not fit 64 "
                        "bits (at most %d us)" % (aggr_us, 2 ** 63 - 1))


def temperatures(sizes, percent, age_usec, weights):
    """damo's temperature_of: weighted size, access rate and age, negated
    for regions not accessed."""
    sz_w, rate_w, age_w = weights
    score = sizes.astype(np.float64) * sz_w + percent * rate_w + age_usec.astype(
        np.float64) * age_w
    if all(float(w).is_integer() for w in weights) and \
            np.all(np.abs(score) < 2.0 ** 52):
        score = sizes * int(sz_w) + percent * int(rate_w) + age_usec * int(age_w)
    return np.where(percent > 0, score, -score)
