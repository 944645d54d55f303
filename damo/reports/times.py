"""``damo report times``: time spans of snapshots that have regions."""


def time_spans(records):
    """[start_ns, end_ns] spans of the snapshots with regions, in record and
    snapshot order, a snapshot joining the previous span where that ends as
    it starts (across records too, as damo does)."""
    spans = []
    for record in records:
        counts = record.nr_regions_per_snapshot().tolist()
        starts, ends = record.start_ns.tolist(), record.end_ns.tolist()
        for count, start, end in zip(counts, starts, ends):
            if count == 0:
                continue
            if spans and spans[-1][1] == start:
                spans[-1][1] = end
            else:
                spans.append([start, end])
    return spans
