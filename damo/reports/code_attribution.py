"""Which code touches the memory that matches an access pattern.

A traced program's recording ``P`` (``damo record -- CMD`` or ``--trace``)
comes with ``P.code``: how many accesses each function made to each page,
per time bucket (one aggregation interval long), with the functions named
from the program's ELF symbols.  For each snapshot of the recording, the
regions matching an access pattern (``AccessPattern``: damo's access filters,
or the hottest N% of memory) select the accesses of that snapshot's time
that fall in them; adding those up by function answers "which code touches
this memory", as damo's ``report profile`` answers it with perf.

``P.code`` is a numpy ``.npz`` archive: ``format`` (1), ``bucket_ns``, the
columns ``bucket``, ``func``, ``page``, ``count`` (one row per bucket,
function and 4 KiB page), and ``func_names`` / ``func_objects``.
"""
import dataclasses
import zipfile
from typing import List, Optional, Tuple

import numpy as np

from damo import fileutil, units
from damo.errors import DamoError

SUFFIX = ".code"
FORMAT = 1
PAGE_SHIFT = 12


def build(attribution, names, objects):
    """The ``P.code`` arrays from a TraceWorkload's attribution() and its
    symboliser's function names and objects."""
    bucket_ns, buckets, funcs, pages, counts = attribution
    counts = np.asarray(counts, dtype=np.uint64)
    buckets = np.asarray(buckets, dtype=np.int64)
    return {"format": np.int64(FORMAT), "bucket_ns": np.float64(bucket_ns),
            "bucket": buckets.astype(np.uint32) if buckets.max(initial=0) < 2**32 else buckets,
            "func": np.asarray(funcs, dtype=np.int32),
            "page": np.asarray(pages, dtype=np.uint64),
            "count": counts.astype(np.uint32) if counts.max(initial=0) < 2**32 else counts,
            "func_names": np.array(names, dtype=str),
            "func_objects": np.array(objects, dtype=str)}


def save(path, data, permission=0o600):
    """An .npz archive (what np.load reads), deflated at level 1: the
    columns of a long trace are large, and level 6 costs more than the
    simulation that made them."""
    with fileutil.atomic_output(path, "wb", permission) as f:
        write(f, data)


def write(f, data):
    """The .npz archive of ``save`` into an open binary file."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, value in data.items():
            with z.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


class CodeAccesses:
    """The contents of a ``P.code`` file."""

    def __init__(self, data, path=None):
        self.path = path
        try:
            if int(data["format"]) != FORMAT:
                raise DamoError("%s: unsupported code attribution format %s"
                                % (path, int(data["format"])))
            self.bucket_ns = float(data["bucket_ns"])
            self.bucket = np.asarray(data["bucket"], dtype=np.int64)
            self.func = np.asarray(data["func"], dtype=np.int64)
            self.page = np.asarray(data["page"], dtype=np.uint64)
            self.count = np.asarray(data["count"], dtype=np.uint64)
            self.names = [str(x) for x in data["func_names"]]
            self.objects = [str(x) for x in data["func_objects"]]
        except KeyError as e:
            raise DamoError("%s: not a code attribution file (no %s)" % (path, e)) from None
        n = len(self.bucket)
        if not (len(self.func) == len(self.page) == len(self.count) == n) or \
                len(self.names) != len(self.objects) or \
                (n and (self.func.min() < 0 or self.func.max() >= len(self.names))) or \
                self.bucket_ns <= 0:
            raise DamoError("%s: corrupt code attribution file" % path)


def load(path):
    try:
        with np.load(path, allow_pickle=False) as z:
            return CodeAccesses({k: z[k] for k in z.files}, path)
    except FileNotFoundError:
        raise DamoError("%s: no code attribution beside the recording (only traced "
                        "programs, damo record -- CMD or --trace, have one)" % path) from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise DamoError("%s: not a code attribution file (%s)" % (path, e)) from None


@dataclasses.dataclass
class AccessPattern:
    """damo's access filters (ranges are inclusive), plus ``hottest``: the
    hottest ``hottest`` percent of each snapshot's memory (by access rate,
    then age)."""
    access_rate: Optional[Tuple[float, float]] = None     # percent of the max
    sz_region: Optional[Tuple[int, int]] = None           # bytes
    age: Optional[Tuple[float, float]] = None             # microseconds
    addresses: Optional[List[Tuple[int, int]]] = None
    hottest: Optional[float] = None                       # percent of memory
    # damo's access filters (damo.params.access_filter.AccessFilter), applied
    # first, as damo's report profile applies them; and their options as given
    damo_filter: object = None
    damo_options: Optional[List[Tuple[str, tuple]]] = None

    def describe(self):
        parts = []
        if self.hottest is not None:
            parts.append("the hottest %g%% of memory" % self.hottest)
        if self.damo_options:
            words = []
            for name, values in self.damo_options:
                # repeatable options: a tuple of pairs
                pairs = values if values and isinstance(values[0], (tuple, list)) \
                    else [values]
                words += ["--%s %s" % (name, " ".join(str(v) for v in pair))
                          for pair in pairs]
            parts.append("memory of " + ", ".join(words))
        if self.access_rate is not None:
            parts.append("access rate %g%%-%g%%" % self.access_rate)
        if self.sz_region is not None:
            parts.append("region size %s-%s" % tuple(
                units.format_sz(v, False) for v in self.sz_region))
        if self.age is not None:
            parts.append("age %s-%s" % tuple(
                units.format_time_us(v, False) for v in self.age))
        if self.addresses:
            parts.append("addresses " + ", ".join("%#x-%#x" % a for a in self.addresses))
        return ", ".join(parts) if parts else "all memory"


def _max_samples(record):
    iv = record.intervals
    if iv is not None and iv.sample_us > 0:
        return max(iv.aggr_us / iv.sample_us, 1.0)
    return float(max(int(record.nr_accesses.max(initial=0)), 1))


def damo_filtered(record, pattern):
    """The record after the pattern's damo access filters (None without
    them): a Record whose ``snapshot_idx`` names each kept snapshot."""
    if pattern.damo_filter is None:
        return None
    return pattern.damo_filter.apply([record])[0]


def _hot_mask(nr, ages, sizes, share):
    """The regions making the hottest ``share`` percent of a snapshot's
    memory: by access count, then age, never an idle one."""
    order = np.lexsort((-ages, -nr))            # hottest first
    hot = np.zeros(len(nr), dtype=bool)
    budget = int(sizes.sum()) * share / 100.0
    taken = 0
    for i in order.tolist():
        if taken >= budget or nr[i] <= 0:
            break
        hot[i] = True
        taken += int(sizes[i])
    return hot


def matching_regions(record, sidx, pattern, filtered=None):
    """(starts, ends) of the regions of snapshot sidx matching the pattern,
    sorted by start.  ``filtered``: damo_filtered(record, pattern), when the
    caller has it already."""
    sl = record.snapshot_slice(sidx)
    starts = record.starts[sl].astype(np.int64)
    ends = record.ends[sl].astype(np.int64)
    nr = record.nr_accesses[sl]
    ages = record.ages[sl]
    hot = None
    if pattern.hottest is not None:
        # of the snapshot's whole memory, before any filter
        hot = _hot_mask(nr, ages, ends - starts, pattern.hottest)
    if pattern.damo_filter is not None:
        if filtered is None:
            filtered = damo_filtered(record, pattern)
        pos = int(np.searchsorted(filtered.snapshot_idx, sidx))
        if pos >= len(filtered.snapshot_idx) or filtered.snapshot_idx[pos] != sidx:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        fsl = filtered.snapshot_slice(pos)
        f_starts = filtered.starts[fsl].astype(np.int64)
        if hot is not None:
            # a kept region (maybe clipped to an address range) is hot where
            # the region it comes from is
            by_start = np.argsort(starts, kind="stable")
            origin = by_start[np.searchsorted(starts[by_start], f_starts, side="right") - 1]
            hot = hot[origin] if len(origin) else np.zeros(0, dtype=bool)
        starts, ends = f_starts, filtered.ends[fsl].astype(np.int64)
        nr, ages = filtered.nr_accesses[fsl], filtered.ages[fsl]
    keep = np.ones(len(starts), dtype=bool)
    if pattern.access_rate is not None:
        rate = nr * 100.0 / _max_samples(record)
        keep &= (rate >= pattern.access_rate[0]) & (rate <= pattern.access_rate[1])
    if pattern.sz_region is not None:
        sz = ends - starts
        keep &= (sz >= pattern.sz_region[0]) & (sz <= pattern.sz_region[1])
    if pattern.age is not None and record.intervals is not None:
        age_us = np.where(ages < 0, 0, ages) * float(record.intervals.aggr_us)
        keep &= (age_us >= pattern.age[0]) & (age_us <= pattern.age[1])
    if pattern.addresses:
        inside = np.zeros(len(starts), dtype=bool)
        for lo, hi in pattern.addresses:
            inside |= (starts < hi) & (ends > lo)
        keep &= inside
    if hot is not None:
        keep &= hot
    starts, ends = starts[keep], ends[keep]
    if pattern.addresses:
        # clip to the address ranges asked for
        out_s, out_e = [], []
        for s, e in zip(starts.tolist(), ends.tolist()):
            for lo, hi in pattern.addresses:
                if s < hi and e > lo:
                    out_s.append(max(s, lo))
                    out_e.append(min(e, hi))
        starts = np.array(out_s, dtype=np.int64)
        ends = np.array(out_e, dtype=np.int64)
    order = np.argsort(starts, kind="stable")
    return starts[order], ends[order]


@dataclasses.dataclass
class Attribution:
    rows: list                  # [(name, object, accesses)], most accesses first
    matched: int                # accesses to matching memory
    total: int                  # accesses in the recording's snapshots
    snapshots_matched: int
    snapshots: int
    pattern: AccessPattern


def attribute(record, code, pattern):
    """Accesses to memory matching ``pattern``, by function."""
    n = record.nr_snapshots
    start_ns = record.start_ns.astype(np.float64)
    end_ns = record.end_ns.astype(np.float64)
    mid = (code.bucket.astype(np.float64) + 0.5) * code.bucket_ns
    snap = np.searchsorted(end_ns, mid, side="left")
    ok = snap < n
    ok[ok] &= start_ns[snap[ok]] <= mid[ok]
    total = int(code.count[ok].sum())
    by_func = np.zeros(len(code.names), dtype=np.float64)
    matched_snaps = 0
    entries = np.flatnonzero(ok)
    order = entries[np.argsort(snap[entries], kind="stable")]
    snaps_sorted = snap[order]
    bounds = np.flatnonzero(np.r_[True, snaps_sorted[1:] != snaps_sorted[:-1]]) \
        if len(order) else np.zeros(0, dtype=np.int64)
    bounds = np.r_[bounds, len(order)]
    filtered = damo_filtered(record, pattern)
    for k in range(len(bounds) - 1):
        rows = order[bounds[k]:bounds[k + 1]]
        s, e = matching_regions(record, int(snaps_sorted[bounds[k]]), pattern, filtered)
        if not len(s):
            continue
        addr = (code.page[rows] << np.uint64(PAGE_SHIFT)).astype(np.int64)
        pos = np.searchsorted(s, addr, side="right") - 1
        inside = pos >= 0
        inside[inside] &= addr[inside] < e[pos[inside]]
        if inside.any():
            matched_snaps += 1
            by_func += np.bincount(code.func[rows[inside]],
                                   weights=code.count[rows[inside]].astype(np.float64),
                                   minlength=len(code.names))
    order = np.argsort(-by_func, kind="stable")
    out = [(code.names[i], code.objects[i], int(by_func[i]))
           for i in order.tolist() if by_func[i] > 0]
    return Attribution(out, int(by_func.sum()), total, matched_snaps, n, pattern)


def report_lines(result, top=20):
    """Text lines of an Attribution."""
    lines = ["# functions accessing %s" % result.pattern.describe(),
             "# %d of %d accesses (%.1f%%) hit it, in %d of %d snapshots" % (
                 result.matched, result.total,
                 100.0 * result.matched / result.total if result.total else 0.0,
                 result.snapshots_matched, result.snapshots)]
    if not result.rows:
        lines.append("# no function accessed matching memory")
        return lines
    lines.append("#%7s %12s  %s" % ("share", "accesses", "function (object)"))
    shown = result.rows if top is None or top <= 0 else result.rows[:top]
    for name, obj, count in shown:
        lines.append("%7.2f%% %12d  %s (%s)" % (100.0 * count / result.matched, count,
                                                name, obj))
    if len(shown) < len(result.rows):
        rest = sum(c for _, _, c in result.rows[len(shown):])
        lines.append("%7.2f%% %12d  (%d more functions)" % (
            100.0 * rest / result.matched, rest, len(result.rows) - len(shown)))
    return lines


# ------------------------------------------------------------ report profile

def _filter_names():
    from damo.params import access_filter
    return access_filter.OPTION_NAMES


def profile_options(f):
    """``damo report profile``'s options for the functions section: --hottest,
    damo's access filters (its report profile's, with damo's meaning and
    order; damo.params.access_filter) and --nr_functions."""
    import click
    from damo.params import access_filter
    opts = [click.option("--hottest", type=click.FloatRange(min=0, max=100, min_open=True),
                         metavar="<percent>",
                         help="functions section: the hottest <percent> of each snapshot's "
                              "memory (traced programs)")]
    for spec in access_filter.OPTIONS:
        repeatable = spec.default is None
        opts.append(click.option(
            spec.name, spec.name.lstrip("-"), nargs=2, multiple=repeatable,
            type=click.INT if spec.type is int else click.STRING,
            metavar=" ".join(spec.metavar),
            help="functions section: " + spec.help + (" (repeatable)" if repeatable else "")))
    opts.append(click.option("--nr_functions", type=click.IntRange(min=1), default=10,
                             show_default=True, metavar="<n>",
                             help="functions section: the busiest <n> functions"))
    for opt in reversed(opts):
        f = opt(f)
    return f


def filter_options_given(opts):
    """[(name, values)] of the damo access filter options given, in damo's
    order."""
    given = []
    for name in _filter_names():
        v = opts.get(name)
        if v:
            given.append((name, tuple(v)))
    return given


def pattern_from_options(opts):
    """An AccessPattern from the options above: damo's access filters (its
    parsing and errors) and --hottest."""
    from damo.params import access_filter
    given = filter_options_given(opts)
    flt = None
    if given:
        flt = access_filter.AccessFilter.from_options(
            **{name: values for name, values in given})
    return AccessPattern(hottest=opts.get("hottest"), damo_filter=flt,
                         damo_options=given or None)


def profile_section(data):
    """The profile's functions section: which functions accessed the
    memory matching the options' pattern (traced programs only)."""
    import os
    from rich.table import Table
    from rich.text import Text

    opts = data.options or {}
    asked = opts.get("hottest") is not None or bool(filter_options_given(opts))
    path = data.path + SUFFIX
    if not os.path.exists(path):
        if asked:
            return [Text("Functions: %s has no code attribution (%s): only traced programs "
                         "(damo record -- CMD, --trace) have one" % (data.path, path))]
        return None
    code = load(path)
    records = [r for r in (data.recording.records if data.recording else [])
               if r.scheme_idx is None]
    if not records:
        return [Text("Functions: %s has no access snapshots" % data.path)]
    result = attribute(records[0], code, pattern_from_options(opts))
    top = opts.get("nr_functions") or 10
    summary = Text("%s of %s accesses (%.1f%%) hit it, in %d of %d snapshots" % (
        units.format_nr(result.matched, False), units.format_nr(result.total, False),
        100.0 * result.matched / result.total if result.total else 0.0,
        result.snapshots_matched, result.snapshots))
    if not result.rows:
        return [Text("Functions accessing %s: none" % result.pattern.describe()), summary]
    table = Table(title="Functions accessing %s" % result.pattern.describe(),
                  title_justify="left", show_edge=False, pad_edge=False)
    for name, justify in (("function", "left"), ("object", "left"), ("accesses", "right"),
                          ("share", "right")):
        table.add_column(name, justify=justify)
    for name, obj, count in result.rows[:top]:
        # Text cells: names like [unknown] are not rich markup
        table.add_row(Text(name), Text(obj), units.format_nr(count, False),
                      "%.1f%%" % (100.0 * count / result.matched))
    if len(result.rows) > top:
        rest = sum(c for _, _, c in result.rows[top:])
        table.add_row("(%d more)" % (len(result.rows) - top), "",
                      units.format_nr(rest, False), "%.1f%%" % (100.0 * rest / result.matched))
    return [table, summary]
