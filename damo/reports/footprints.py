"""Memory footprints (``damo report footprints``, and ``report holistic``'s
table): damo's ``<record>.mem_footprint`` file, a JSON list of snapshots
``{"time": t, "footprints": [{"pid": P, "footprint": {...}}, ...]}`` where a
process's footprint is /proc/P/statm-like pages (``size``, ``resident``, ...)
and the system's (pid null) /proc/meminfo-like kB (``total``, ``free``, ...).
``damo record`` here writes it in simulated time, from the simulated machine.

Per snapshot, as damo sums them: ``vsz`` and ``rss`` add up the processes'
size and resident pages (4 KiB each), ``sys_used`` is total - free.
"""
import json
import os

from damo import units
from damo.errors import DamoError
from damo.reports.dist import format_dists, percentile_index

METRICS = ("vsz", "rss", "sys_used")
PAGE_SIZE = 4096


def load(path):
    """[(time, {pid: footprint dict})] of a mem_footprint file."""
    try:
        with open(path) as f:
            snapshots = json.load(f)
    except OSError as e:
        raise DamoError("%s: %s" % (path, e.strerror or e)) from None
    except UnicodeDecodeError:
        raise DamoError("%s: not a memory footprints file (not JSON text)" % path) from None
    except ValueError as e:
        raise DamoError("%s: not a memory footprints file (%s)" % (path, e)) from None
    out = []
    try:
        if not isinstance(snapshots, list):
            raise TypeError("not a list")
        for idx, snapshot in enumerate(snapshots):
            footprints = {}
            for entry in snapshot["footprints"]:
                # a later entry of the same pid replaces the earlier, as in damo's dict
                footprints[entry["pid"]] = entry["footprint"]
            out.append((snapshot["time"], footprints))
    except (KeyError, TypeError) as e:
        raise DamoError("%s: not a memory footprints file (snapshot %d: %s)"
                        % (path, len(out), e)) from None
    return out


def _number(footprint, key, path, idx):
    try:
        value = footprint[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        return value
    except (KeyError, TypeError):
        raise DamoError("%s: snapshot %d: footprint without a number '%s'"
                        % (path, idx, key)) from None


def dists(snapshots, metric, do_sort, path=""):
    """One value per snapshot, sorted unless in time order."""
    values = []
    for idx, (_, footprints) in enumerate(snapshots):
        total = 0
        for pid, fp in footprints.items():
            if metric == "sys_used":
                if pid is None:
                    total = (_number(fp, "total", path, idx) -
                             _number(fp, "free", path, idx)) * 1024
                continue
            if pid is None:
                continue
            key = "size" if metric == "vsz" else "resident"
            total += _number(fp, key, path, idx) * PAGE_SIZE
        values.append(total)
    if do_sort:
        values.sort()
    return values


def percentile_value(values, percentile):
    """damo's get_percentile(): '-1' when there is no value."""
    if not values:
        return -1
    return values[percentile_index(percentile, len(values))]


class FootprintsReporter:
    def __init__(self, path, sort=True):
        self.path = os.fspath(path)
        self.snapshots = load(self.path)
        self.sort = sort

    def dists(self, metric):
        return dists(self.snapshots, metric, self.sort, self.path)

    def text(self, metric, percentiles, all_values=False, raw=False, nr_cols_bar=59):
        return format_dists(metric, self.dists(metric), percentiles, all_values,
                            units.format_sz, raw, nr_cols_bar)

    def plot(self, path, metrics, percentiles, size):
        from damo.reports import plot
        series = []
        for metric in metrics:
            values = self.dists(metric)
            if values:
                series.append((metric, list(percentiles),
                               [percentile_value(values, p) for p in percentiles]))
        plot.draw_lines(series, path, size,
                        "percentile" if self.sort else "runtime (percent)",
                        "memory footprint", "Memory footprint distribution", True)
