"""Distribution of the number of regions per snapshot (``damo report nr_regions``)."""
from damo.reports.dist import percentile_index

# damo skips the first snapshots, whose regions DAMON has not adapted yet.
SKIPPED_SNAPSHOTS = 20


class NrRegionsReporter:
    def __init__(self, records, sort=True):
        self.sorted = sort
        self.dists = []     # (target id, [nr_regions...])
        for record in records:
            counts = record.nr_regions_per_snapshot()[SKIPPED_SNAPSHOTS:].tolist()
            if sort:
                counts.sort()
            self.dists.append((record.target_id, counts))

    def text(self, percentiles):
        lines = ["# <percentile> <# regions>"]
        for tid, counts in self.dists:
            lines.append("# target_id\t%s" % tid)
            if not counts:
                # damo divides by zero here
                lines.append("# no snapshot")
                continue
            lines.append("# avr:\t%d" % (sum(counts) / len(counts)))
            lines.extend("%d\t%d" % (p, counts[percentile_index(p, len(counts))])
                         for p in percentiles)
        return "\n".join(lines)

    def plot(self, path, percentiles, size):
        from damo.reports import plot
        series = [("target %s" % tid, list(percentiles),
                   [counts[percentile_index(p, len(counts))] for p in percentiles])
                  for tid, counts in self.dists if counts]
        plot.draw_lines(series, path, size,
                        "percentile" if self.sorted else "runtime (percent)",
                        "number of monitoring target regions",
                        "Number of regions distribution", False)
