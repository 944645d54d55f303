"""``damo validate``'s checks, in damo's order, over a recording's columns.

Per record, snapshot by snapshot: the aggregation interval (snapshot length),
then the number of regions (both may be out of range in up to
--allow_error percent of the record's snapshots: a snapshot is forgiven
while fewer errors than that were seen before it), then each region: not
empty, inside a --regions_boundary range if any, sample count in range.
The first violation is the result.
"""
import numpy as np

from damo.errors import DamoError


def parse_boundaries(values):
    """--regions_boundary '<start>-<end>' values -> [(start, end)]."""
    boundaries = []
    for text in values or ():
        parts = text.split("-")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = None
        if numbers is None or len(numbers) != 2:
            # damo prints "wrong boundary input" and goes on (then crashes on
            # one number, or ignores a third)
            raise DamoError("--regions_boundary: %r is not <start>-<end>" % text)
        boundaries.append(tuple(numbers))
    return boundaries


def _first_forgiven_out(out, nr_allowed):
    """Index of the first out-of-range snapshot that is not forgiven, or None."""
    seen_before = np.cumsum(out) - out
    fails = np.flatnonzero(out & (seen_before >= nr_allowed))
    return int(fails[0]) if len(fails) else None


def _in_range(values, min_max):
    return (values >= min_max[0]) & (values <= min_max[1])


def _record_problem(record, aggr, nr_regions, nr_accesses, allow_error, boundaries):
    n = record.nr_snapshots
    nr_allowed = n * allow_error / 100.0
    aggr_us = (record.end_ns - record.start_ns) / 1000
    counts = record.nr_regions_per_snapshot()
    candidates = []     # (snapshot, stage, message)
    i = _first_forgiven_out(~_in_range(aggr_us, aggr), nr_allowed)
    if i is not None:
        candidates.append((i, 0, "invalid: expect %d<=%s<=%d but %d" % (
            aggr[0], "aggregate interval", aggr[1], aggr_us[i])))
    i = _first_forgiven_out(~_in_range(counts, nr_regions), nr_allowed)
    if i is not None:
        candidates.append((i, 1, "invalid: expect %d<=%s<=%d but %d" % (
            nr_regions[0], "nr_regions", nr_regions[1], counts[i])))
    starts, ends = record.starts, record.ends
    empty = starts >= ends
    outside = np.zeros(len(starts), dtype=bool)
    if boundaries:
        inside = np.zeros(len(starts), dtype=bool)
        s, e = starts.astype(object), ends.astype(object)
        for lo, hi in boundaries:
            inside |= np.array((s >= lo) & (e <= hi), dtype=bool)
        outside = ~inside
    bad_samples = ~_in_range(record.nr_accesses, nr_accesses)
    bad = np.flatnonzero(empty | outside | bad_samples)
    if len(bad):
        r = int(bad[0])
        snapshot = int(np.searchsorted(record.region_offsets, r, side="right") - 1)
        if empty[r]:
            message = "wrong regiosn [%d, %d)" % (starts[r], ends[r])
        elif outside[r]:
            message = "region %s-%s out of the boundary" % (starts[r], ends[r])
        else:
            message = "invalid: expect %d<=%s<=%d but %d" % (
                nr_accesses[0], "nr_accesses", nr_accesses[1], record.nr_accesses[r])
        candidates.append((snapshot, 2, message))
    return min(candidates)[2] if candidates else None


def first_problem(records, aggr, nr_regions, nr_accesses, allow_error, boundaries):
    """damo validate's message for the first violation, or None."""
    if not records:
        return "target snapshots is zero"
    for record in records:
        problem = _record_problem(record, aggr, nr_regions, nr_accesses, allow_error,
                                  boundaries)
        if problem is not None:
            return problem
    return None
