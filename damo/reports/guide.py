"""The "guide" of a recording (``report record_info``, ``heatmap --guide``):
per target, the recorded time span and the contiguous address ranges.

It follows damo 3.4.3 exactly, quirks included, because ``report heatmap``
picks what to draw from it:

- an address of 0 counts as "unset": a region ending at 0 is not checked for
  a gap after it, and a lowest address of 0 is overwritten by the next
  region's start;
- a snapshot's gaps narrow the gaps seen so far only where they overlap
  (a gap some snapshot fills is kept), and a snapshot without gaps never
  clears them;
- a contiguous range's heat adds up whole regions that merely touch it.
"""
import numpy as np

from damo import units


class GuideRegion:
    def __init__(self, start, end):
        self.start = start
        self.end = end
        self.heats = None   # sum of size * samples of the regions touching it

    def heat_per_byte(self):
        if self.heats is None:
            return 0
        if self.end == self.start:
            return float("inf") if self.heats > 0 else 0
        return float(self.heats) / (self.end - self.start)


class Guide:
    def __init__(self, key, start_time):
        self.kdamond_idx, self.context_idx, self.scheme_idx, self.target_id = key
        self.start_time = start_time
        self.end_time = None
        self.lowest = None
        self.highest = None
        self.gaps = []
        self.regions = []   # GuideRegion, set once all snapshots are seen

    def key(self):
        return (self.kdamond_idx, self.context_idx, self.scheme_idx, self.target_id)

    def total_space(self):
        return sum(r.end - r.start for r in self.regions)

    def hottest_region(self):
        return max(self.regions, key=lambda r: r.heat_per_byte())

    def to_str(self, raw):
        lines = []
        for name, value in (("kdamond_idx", self.kdamond_idx),
                            ("context_idx", self.context_idx),
                            ("scheme_idx", self.scheme_idx), ("target_id", self.target_id)):
            if value is not None:
                lines.append("%s: %s" % (name, value))
        lines.append("time: [%s, %s) (%s)" % (
            units.format_time_ns(self.start_time, raw), units.format_time_ns(self.end_time, raw),
            units.format_time_ns(self.end_time - self.start_time, raw)))
        for idx, region in enumerate(self.regions):
            lines.append("region\t%2d: [%s, %s) (%s)" % (
                idx, units.format_sz_accurate(region.start, raw),
                units.format_sz_accurate(region.end, raw),
                units.format_sz(region.end - region.start, raw)))
        return "\n".join(lines)


def _oldest_monitor_time(record, sidx):
    """Start of the first snapshot, moved back by its oldest region's age."""
    start = record.start_ns[sidx].item()
    if record.intervals is None:
        return start
    ages = record.ages[record.snapshot_slice(sidx)]
    longest = max(0, int(ages.max())) if len(ages) else 0
    return start - longest * (record.intervals.aggr_us * 1000)


def _narrow_gaps(gaps, new_gaps):
    """damo's overlapping_regions(gaps, new_gaps)."""
    if not new_gaps:
        return list(gaps)
    starts = np.array([g[0] for g in new_gaps])
    ends = np.array([g[1] for g in new_gaps])
    if len(new_gaps) > 1 and not np.all(starts[1:] > ends[:-1]):
        # not sorted and apart: take damo's quadratic walk
        result = []
        for g in gaps:
            for n in new_gaps:
                if not (g[1] < n[0] or n[1] < g[0]):
                    g = [max(g[0], n[0]), min(g[1], n[1])]
            result.append(g)
        return result
    # Sorted gaps that do not touch: a gap narrowed by the first new gap it
    # overlaps cannot overlap any later one.
    result = []
    for g in gaps:
        i = int(np.searchsorted(ends, g[0], side="left"))
        if i < len(new_gaps) and starts[i] <= g[1]:
            g = [max(g[0], starts[i].item()), min(g[1], ends[i].item())]
        result.append(g)
    return result


def _add_extent(guide, starts, ends):
    """Lowest and highest addresses after walking these regions."""
    zeros = np.flatnonzero(starts == 0)
    if len(zeros):
        tail = starts[zeros[-1] + 1:]
        guide.lowest = int(tail.min()) if len(tail) else 0
    elif not guide.lowest:
        guide.lowest = int(starts.min())
    else:
        guide.lowest = min(guide.lowest, int(starts.min()))
    highest = int(ends.max())
    if not guide.highest or highest > guide.highest:
        guide.highest = highest


def _add_snapshot(guide, starts, ends):
    """damo's walk over one snapshot's regions."""
    if len(starts) == 0:
        return
    _add_extent(guide, starts, ends)
    prev_ends = ends[:-1]
    is_gap = (prev_ends != 0) & (prev_ends != starts[1:])
    gaps = [[int(a), int(b)] for a, b in zip(prev_ends[is_gap], starts[1:][is_gap])]
    guide.gaps = gaps if not guide.gaps else _narrow_gaps(guide.gaps, gaps)


def _add_record(guide, record):
    """Add a record's snapshots to its guide.

    Only snapshots with gaps or a region at address 0 need damo's walk; for
    the others, lowest and highest addresses are plain minimum and maximum.
    """
    if record.nr_snapshots == 0:
        return
    guide.end_time = record.end_ns[-1].item()
    starts = record.starts.view(np.int64)
    ends = record.ends.view(np.int64)
    offsets = record.region_offsets
    # a gap between regions i-1 and i of one snapshot (not after an end at 0)
    after_gap = np.zeros(len(starts), dtype=bool)
    after_gap[1:] = (ends[:-1] != 0) & (ends[:-1] != starts[1:])
    after_gap[offsets[:-1][offsets[:-1] < len(starts)]] = False
    # snapshots holding those regions, once each (sorted already; np.unique
    # would import numpy.ma, a few MB, to say so)
    special = np.searchsorted(offsets, np.flatnonzero(after_gap | (starts == 0)),
                              side="right") - 1
    special = special[np.r_[True, special[1:] != special[:-1]]] if len(special) else special
    special = special.tolist()
    done = 0
    for sidx in special + [record.nr_snapshots]:
        lo, hi = int(offsets[done]), int(offsets[sidx])
        if hi > lo:     # snapshots without gaps leave the gaps as they are
            _add_extent(guide, starts[lo:hi], ends[lo:hi])
        if sidx < record.nr_snapshots:
            sl = record.snapshot_slice(sidx)
            _add_snapshot(guide, starts[sl], ends[sl])
        done = sidx + 1


def _contig_regions(guide):
    bounds = [guide.lowest]
    for gap_start, gap_end in guide.gaps:
        bounds += [gap_start, gap_end]
    bounds.append(guide.highest)
    return [GuideRegion(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]


def _add_heats(regions, records):
    """Sum size * samples of the regions touching each range (regions that
    were not accessed add nothing; damo skips them, which only tells "no
    heat" from "zero heat", and both rank as 0)."""
    for record in records:
        starts = record.starts.view(np.int64)
        ends = record.ends.view(np.int64)
        # in place, and summed where they touch rather than copied out: a
        # 1000 x 1000 heatmap's peak held three 8 MB temporaries here
        weights = ends - starts
        ints = record.nr_accesses.dtype == weights.dtype
        if ints:
            np.multiply(weights, record.nr_accesses, out=weights)
            exact = len(weights) == 0 or max(abs(weights.max().item()),
                                             abs(weights.min().item())) * len(weights) < 2**62
        else:       # a float column: checked and summed as before
            weights = weights * record.nr_accesses
            exact = len(weights) == 0 or \
                float(np.abs(weights).max()) * len(weights) < 2.0**62
        for region in regions:
            touching = (ends >= region.start) & (starts <= region.end)
            if not touching.any():
                continue
            if exact:
                heat = int(weights.sum(where=touching) if ints else weights[touching].sum())
            else:
                heat = sum(int(e - s) * int(n) for s, e, n in zip(
                    starts[touching].tolist(), ends[touching].tolist(),
                    record.nr_accesses[touching].tolist()))
            region.heats = heat if region.heats is None else region.heats + heat


def guides_of(records):
    """damo's get_guide_info(): one Guide per record key, widest first."""
    guides = {}
    members = {}
    for record in records:
        key = record.key()
        if record.nr_snapshots == 0:
            continue
        if key not in guides:
            guides[key] = Guide(key, _oldest_monitor_time(record, 0))
        _add_record(guides[key], record)
        members.setdefault(key, []).append(record)
    # snapshots without a region give no address range (damo crashes there)
    guides = {k: g for k, g in guides.items() if g.lowest is not None}
    for key, guide in guides.items():
        guide.regions = _contig_regions(guide)
        _add_heats(guide.regions, members[key])
    return sorted(guides.values(), key=lambda g: g.total_space(), reverse=True)


def format_guides(records, raw=True):
    return "\n".join(g.to_str(raw) for g in guides_of(records))
