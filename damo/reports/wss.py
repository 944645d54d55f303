"""Working set size distributions (``damo report wss``).

damo first re-aggregates every record to ``--work_time`` windows: snapshots
are gathered until the window spans the work time (a trailing partial window
is dropped), then merged region by region.  Merging a snapshot into the
window's regions adds, to every region, the highest sample count of the new
regions overlapping it, and appends the parts of new regions that overlap
nothing.  damo does that with a quadratic list walk; here, for the regions
DAMON produces (sorted, disjoint, non-empty), it is a sorted-interval merge,
O(n log n) per window, with the same result.  Windows holding anything else
take a direct port of damo's walk.
"""
import numpy as np

from damo import units
from damo.reports.dist import format_dists


def _odd_snapshots(record, starts, ends):
    """Per snapshot: whether it has regions that are empty, overlapping or
    out of order (which only damo's own walk merges the way damo does)."""
    odd = starts >= ends
    first = np.zeros(len(starts), dtype=bool)
    first[record.region_offsets[:-1][record.region_offsets[:-1] < len(starts)]] = True
    odd[1:] |= (ends[:-1] > starts[1:]) & ~first[1:]
    return record.per_snapshot_sum(odd) > 0


def _merge(window, new):
    """Merge a snapshot's (starts, ends, samples) into the window's."""
    ws, we, wn = window
    ns, ne, nn = new
    # the new regions overlapping each window region: a run [lo, hi) of them
    lo = np.searchsorted(ne, ws, side="right")
    hi = np.searchsorted(ns, we, side="left")
    counts = np.maximum(hi - lo, 0)
    add = np.zeros(len(ws), dtype=np.int64)
    if counts.sum():
        owner = np.repeat(np.arange(len(ws)), counts)
        member = lo[owner] + np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts,
                                                                 counts)
        np.maximum.at(add, owner, nn[member])
    wn = wn + add   # damo adds max(0, highest overlapping samples)
    # parts of the new regions that no window region covers
    order = np.argsort(ws, kind="stable")
    cs, ce = ws[order], we[order]
    covered_to = np.maximum.accumulate(ce)
    gap_starts = np.r_[np.iinfo(np.int64).min, covered_to]
    gap_ends = np.r_[cs, np.iinfo(np.int64).max]
    open_gap = gap_starts < gap_ends
    gap_starts, gap_ends = gap_starts[open_gap], gap_ends[open_gap]
    glo = np.searchsorted(gap_ends, ns, side="right")
    ghi = np.searchsorted(gap_starts, ne, side="left")
    gcounts = np.maximum(ghi - glo, 0)
    region = np.repeat(np.arange(len(ns)), gcounts)
    gap = glo[region] + np.arange(gcounts.sum()) - np.repeat(np.cumsum(gcounts) - gcounts,
                                                             gcounts)
    piece_s = np.maximum(ns[region], gap_starts[gap])
    piece_e = np.minimum(ne[region], gap_ends[gap])
    return (np.r_[ws, piece_s], np.r_[we, piece_e], np.r_[wn, nn[region]])


def _merge_like_damo(snapshots):
    """damo's aggregate_snapshots() as it is: for windows of odd regions."""
    regions = []    # [start, end, samples]

    def intersect(a, b):
        return not (a[1] <= b[0] or b[1] <= a[0])

    def add_region(region, to_add):
        for r in regions:
            if not intersect(r, region):
                continue
            to_add[id(r)] = (r, max(to_add.get(id(r), (r, 0))[1], region[2]))
            pieces = []
            if region[0] < r[0]:
                pieces.append([region[0], r[0], region[2]])
            if r[1] < region[1]:
                pieces.append([r[1], region[1], region[2]])
            for piece in pieces:
                add_region(piece, to_add)
            return
        regions.append(region)

    for starts, ends, samples in snapshots:
        to_add = {}
        for region in zip(starts.tolist(), ends.tolist(), samples.tolist()):
            add_region(list(region), to_add)
        for r, extra in to_add.values():
            r[2] += extra
    if not regions:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts, ends, samples = zip(*regions)
    return np.array(starts), np.array(ends), np.array(samples)


def _window_bounds(record, first, work_time_ns):
    """[(lo, hi)) snapshot index ranges of the work-time windows."""
    bounds = []
    start = first
    starts = record.start_ns.tolist()
    ends = record.end_ns.tolist()
    for idx in range(first, record.nr_snapshots):
        if ends[idx] - starts[start] >= work_time_ns:
            bounds.append((start, idx + 1))
            start = idx + 1
    return bounds


def wss_of_record(record, exclude_samples, work_time_us, acc_thres, sz_thres):
    """Working set size of each work-time window of ``record``, in time order."""
    starts = record.starts.view(np.int64)
    ends = record.ends.view(np.int64)
    samples = record.nr_accesses
    offsets = record.region_offsets
    windows = _window_bounds(record, min(exclude_samples, record.nr_snapshots),
                             work_time_us * 1000)
    if not windows:
        return []
    sizes = ends - starts
    in_set = np.where((samples >= acc_thres) & (sizes >= sz_thres), sizes, 0)
    single_wss = record.per_snapshot_sum(in_set).tolist()
    odd = _odd_snapshots(record, starts, ends).tolist()
    wss = []
    for lo, hi in windows:
        if hi - lo == 1 and not odd[lo]:
            # a window of one well-formed snapshot is that snapshot
            wss.append(single_wss[lo])
            continue
        parts = [(starts[offsets[i]:offsets[i + 1]], ends[offsets[i]:offsets[i + 1]],
                  samples[offsets[i]:offsets[i + 1]]) for i in range(lo, hi)]
        if any(odd[lo:hi]):
            window = _merge_like_damo(parts)
        else:
            window = parts[0]
            for part in parts[1:]:
                window = _merge(window, part)
        ws, we, wn = window
        size = we - ws
        wss.append(int(size[(wn >= acc_thres) & (size >= sz_thres)].sum()))
    return wss


class WssReporter:
    """damo's ``report wss``: per target (or collapsed), a distribution."""

    def __init__(self, records, exclude_samples=20, work_time_us=1, acc_thres=1, sz_thres=1,
                 sort=True, collapse_targets=True):
        dists = {}
        for record in records:
            wss = wss_of_record(record, exclude_samples, work_time_us, acc_thres, sz_thres)
            if sort:
                wss.sort()
            # like damo, a later record of the same target id replaces it
            dists[record.target_id] = wss
        if collapse_targets:
            collapsed = []
            for dist in dists.values():
                for idx, value in enumerate(dist):
                    if idx < len(collapsed):
                        collapsed[idx] += value
                    else:
                        collapsed.append(value)
            dists = {0: collapsed}
        self.dists = dists
        self.sorted = sort

    def text(self, percentiles, all_wss=False, raw=False, nr_cols_bar=59):
        lines = []
        for tid, dist in self.dists.items():
            lines.append("# target_id\t%s" % tid)
            lines.append(format_dists("wss", dist, percentiles, all_wss, units.format_sz, raw,
                                      nr_cols_bar))
        return "\n".join(lines)

    def plot(self, path, percentiles, size):
        from damo.reports import plot
        from damo.reports.dist import percentile_index
        series = []
        for tid, dist in self.dists.items():
            if dist:
                series.append(("target %s" % tid, list(percentiles),
                               [dist[percentile_index(p, len(dist))] for p in percentiles]))
        plot.draw_lines(series, path, size,
                        "percentile" if self.sorted else "runtime (percent)",
                        "working set size", "Working set size distribution", True)
