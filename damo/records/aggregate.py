"""Re-aggregating a recording to a longer aggregation interval, as ``damo
adjust`` does (damo's adjust_records).

After skipping the first snapshots, snapshots are gathered until they span
the new interval (a trailing partial window is dropped) and merged into one.
Merging a snapshot into the window's regions adds, to each window region,
the highest sample count (at least 0) of the snapshot's regions overlapping
it, and appends the parts of the snapshot's regions that no window region
covers: the whole region (keeping all its fields) when nothing covers any of
it, else each uncovered piece, in address order, with the region's samples
and age, no access rate or age in microseconds, and its share of
sz_filter_passed.

damo walks lists for that (quadratic).  When the window's and the
snapshot's regions are each disjoint and non-empty (what DAMON produces),
the same result comes from sorted-interval arithmetic here; anything else
takes a direct port of damo's walk.
"""
import numpy as np

from damo.records.model import AGE_UNKNOWN, Intervals, Record

UNSET = np.iinfo(np.int64).min
_FIELDS = ("starts", "ends", "nr_accesses", "ages", "sz_filter_passed", "percent",
           "age_usec")


class _Regions:
    """Region columns in damo's list order."""

    def __init__(self, columns):
        self.c = columns    # name -> numpy array

    @classmethod
    def of(cls, record, sl):
        n = sl.stop - sl.start
        c = {"starts": record.starts[sl], "ends": record.ends[sl],
             "nr_accesses": record.nr_accesses[sl], "ages": record.ages[sl]}
        for name, default in (("sz_filter_passed", 0), ("percent", UNSET),
                              ("age_usec", UNSET)):
            column = getattr(record, name, None)
            c[name] = np.full(n, default, dtype=np.int64) if column is None else column[sl]
        c["starts"] = c["starts"].astype(np.uint64)
        c["ends"] = c["ends"].astype(np.uint64)
        for name in _FIELDS[2:]:
            c[name] = np.asarray(c[name], dtype=np.int64)
        return cls(c)

    def __len__(self):
        return len(self.c["starts"])

    def disjoint(self):
        s, e = self.c["starts"], self.c["ends"]
        if np.any(s >= e):
            return False
        order = np.argsort(s, kind="stable")
        return bool(np.all(s[order][1:] >= e[order][:-1]))


def _merge_fast(window, snap):
    """Merge disjoint ``snap`` regions into a disjoint window (see module doc)."""
    w, n = window.c, snap.c
    order = np.argsort(w["starts"], kind="stable")
    cs, ce = w["starts"][order], w["ends"][order]
    ns, ne, nn = n["starts"], n["ends"], n["nr_accesses"]
    # the window regions overlapping each snapshot region: a run [lo, hi)
    lo = np.searchsorted(ce, ns, side="right")
    hi = np.searchsorted(cs, ne, side="left")
    counts = np.maximum(hi - lo, 0)
    add = np.zeros(len(cs), dtype=np.int64)
    if counts.sum():
        owner = np.repeat(np.arange(len(ns)), counts)
        member = lo[owner] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts,
                                                                 counts)
        np.maximum.at(add, member, nn[owner])
    samples = w["nr_accesses"].copy()
    samples[order] += add
    # uncovered parts: the snapshot regions cut by the gaps between window regions
    gap_s = np.concatenate(([np.uint64(0)], ce)).astype(np.uint64)
    gap_e = np.concatenate((cs, [np.uint64(np.iinfo(np.uint64).max)])).astype(np.uint64)
    open_ = gap_s < gap_e
    gap_s, gap_e = gap_s[open_], gap_e[open_]
    glo = np.searchsorted(gap_e, ns, side="right")
    ghi = np.searchsorted(gap_s, ne, side="left")
    gcounts = np.maximum(ghi - glo, 0)
    region = np.repeat(np.arange(len(ns)), gcounts)
    gap = glo[region] + np.arange(gcounts.sum()) - np.repeat(np.cumsum(gcounts) - gcounts,
                                                             gcounts)
    piece_s = np.maximum(ns[region], gap_s[gap])
    piece_e = np.minimum(ne[region], gap_e[gap])
    whole = counts[region] == 0
    sizes = (ne[region] - ns[region]).astype(np.float64)
    new_sizes = (piece_e - piece_s).astype(np.float64)
    szfp = n["sz_filter_passed"][region]
    # damo: int(sz_filter_passed / size * new_size)
    piece_szfp = np.trunc(szfp / sizes * new_sizes).astype(np.int64)
    pieces = {
        "starts": piece_s, "ends": piece_e, "nr_accesses": nn[region],
        "ages": n["ages"][region],
        "sz_filter_passed": np.where(whole, szfp, piece_szfp),
        "percent": np.where(whole, n["percent"][region], UNSET),
        "age_usec": np.where(whole, n["age_usec"][region], UNSET),
    }
    merged = {name: np.concatenate((w[name] if name != "nr_accesses" else samples,
                                    pieces[name])).astype(w[name].dtype)
              for name in _FIELDS}
    return _Regions(merged)


def _merge_like_damo(window, snap):
    """damo's add_region() walk, for regions that are empty, overlapping or
    otherwise not what DAMON makes.  Regions are lists of field values."""
    regions = [list(x) for x in zip(*(window.c[name].tolist() for name in _FIELDS))]
    # damo keys its "accesses to add" by region equality: same range and text
    to_add = {}

    def key(r):
        return (r[0], r[1], r[2], r[3], r[4])

    def add_region(region):
        for idx, r in enumerate(regions):
            if r[1] <= region[0] or region[1] <= r[0]:
                continue
            k = key(r)
            first, best = to_add.get(k, (idx, 0))
            to_add[k] = (first, max(best, region[2]))
            size = region[1] - region[0]
            new = []
            if region[0] < r[0]:
                new.append((region[0], r[0]))
            if r[1] < region[1]:
                new.append((r[1], region[1]))
            for start, end in new:
                szfp = int(region[4] / size * (end - start))
                add_region([start, end, region[2], region[3], szfp, UNSET, UNSET])
            return
        regions.append(region)

    for region in zip(*(snap.c[name].tolist() for name in _FIELDS)):
        add_region(list(region))
    for first, best in to_add.values():
        regions[first][2] += best
    columns = list(zip(*regions)) if regions else [[] for _ in _FIELDS]
    dtypes = (np.uint64, np.uint64) + (np.int64,) * 5
    return _Regions({name: np.array(col, dtype=t) for name, col, t in
                     zip(_FIELDS, columns, dtypes)})


def _aggregate(record, snapshot_idxs):
    """One snapshot merging the given snapshots of a record."""
    window = _Regions.of(record, slice(0, 0))
    fast = True
    for sidx in snapshot_idxs:
        snap = _Regions.of(record, record.snapshot_slice(sidx))
        fast = fast and snap.disjoint()
        if fast and len(window):
            window = _merge_fast(window, snap)
        elif fast:
            window = snap
        else:
            window = _merge_like_damo(window, snap)
    return window


def adjust_record(record, aggregate_interval_us, skip):
    """damo's adjust_records() on one record: a new Record."""
    first = min(skip, record.nr_snapshots) if skip >= 0 else max(0, record.nr_snapshots + skip)
    windows = []
    todo = []
    for sidx in range(first, record.nr_snapshots):
        todo.append(sidx)
        if record.end_ns[todo[-1]] - record.start_ns[todo[0]] >= aggregate_interval_us * 1000:
            windows.append(todo)
            todo = []
    merged = [_aggregate(record, w) for w in windows]
    counts = [len(m) for m in merged]
    offsets = np.zeros(len(merged) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])

    def cat(name, dtype):
        if not merged:
            return np.zeros(0, dtype=dtype)
        return np.concatenate([m.c[name] for m in merged]).astype(dtype)

    start_ns = np.array([record.start_ns[w[0]] for w in windows],
                        dtype=record.start_ns.dtype)
    end_ns = np.array([record.end_ns[w[-1]] for w in windows], dtype=np.int64)
    intervals = record.intervals
    if intervals is not None:
        intervals = Intervals(intervals.sample_us, aggregate_interval_us,
                              intervals.ops_update_us, intervals.goal)
    out = Record(record.target_id, start_ns, end_ns, offsets, cat("starts", np.uint64),
                 cat("ends", np.uint64), cat("nr_accesses", np.int64), cat("ages", np.int64),
                 kdamond_idx=record.kdamond_idx, context_idx=record.context_idx,
                 scheme_idx=record.scheme_idx, intervals=intervals,
                 scheme_filters=record.scheme_filters, data_source=record.data_source,
                 sz_filter_passed=cat("sz_filter_passed", np.int64))
    out.percent = cat("percent", np.int64)
    out.age_usec = cat("age_usec", np.int64)
    return out


def adjust_records(records, aggregate_interval_us, skip):
    return [adjust_record(r, aggregate_interval_us, skip) for r in records]


__all__ = ["AGE_UNKNOWN", "adjust_record", "adjust_records"]
