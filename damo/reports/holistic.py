"""``damo report holistic``: one report of a recording's heatmaps, working set
size and memory footprint distributions, and hotspot functions, laid out as
damo 3.4.3 lays it out (a short form, and ``--long``).

Where damo's code does not do what it means, this does:

- damo draws each target's heatmap after selecting its records with
  kdamond, context and scheme indices of None, which no record has (damo
  makes them 0 when it reads a file), so its heatmaps are always empty:
  here they are the target's, as ``damo report heatmap`` draws them;
- the hotspot functions come from ``perf report`` of the recording's CPU
  profile (``<record>.profile``, from ``perf record``); damo runs it
  whenever perf is installed and crashes if the profile is not there (the
  long form even without perf).  Here the section is left out, with a
  warning, unless both perf and the profile are there.
"""
import os
import subprocess

from damo import units
from damo.records import aggregate
from damo.reports import footprints as footprints_mod
from damo.reports import guide as guide_mod
from damo.reports.dist import format_dists
from damo.reports.heatmap import HeatMap

PERCENTILES = (0, 25, 50, 75, 100)


def _heatmap_text(records, guide, time_range, address_range, resol, color):
    selected = [r for r in records if r.key() == guide.key()]
    heatmap = HeatMap.build(selected, time_range, address_range, resol)
    return "\n".join(heatmap.ascii_lines("gray", color, False))


def _wss_dists(records, do_sort):
    """damo's get_wss_dists(acc_thres=1, sz_thres=1), targets collapsed."""
    dists = {}
    for record in records:
        sizes = record.sizes()
        in_set = (record.nr_accesses >= 1) & (sizes >= 1)
        values = record.per_snapshot_sum(sizes * in_set).tolist()
        if do_sort:
            values.sort()
        dists[record.target_id] = values
    collapsed = []
    for values in dists.values():
        for idx, value in enumerate(values):
            if idx < len(collapsed):
                collapsed[idx] += value
            else:
                collapsed.append(value)
    return collapsed


def _for_distributions(records):
    """Records of many snapshots are re-aggregated as damo does (1 us
    windows after skipping 20 snapshots)."""
    if sum(r.nr_snapshots for r in records) > 200:
        return aggregate.adjust_records(records, 1, 20)
    return records


def hotspot_lines(profile, perf_path, first, last):
    """Lines ``first:last`` of ``perf report --stdio`` of the profile, or
    None (and why) when there is no perf or no profile."""
    import shutil
    perf = shutil.which(perf_path)
    if perf is None:
        return None, "perf (%s) is not installed" % perf_path
    if not os.path.exists(profile):
        return None, "there is no CPU profile %s" % profile
    done = subprocess.run([perf, "report", "-i", profile, "--stdio"], capture_output=True)
    if done.returncode != 0:
        return None, "perf report of %s failed" % profile
    return done.stdout.decode(errors="replace").split("\n")[first:last], None


class HolisticReporter:
    def __init__(self, recording, footprints_path, profile_path, perf_path="perf",
                 color=True, time_last_n_sec=None):
        self.records = recording.records
        self.guides = guide_mod.guides_of(self.records)
        self.footprints = footprints_mod.load(footprints_path)
        self.footprints_path = footprints_path
        self.profile_path = profile_path
        self.perf_path = perf_path
        self.color = color
        self.time_last_n_sec = time_last_n_sec
        self.warnings = []

    def _time_range(self, guide):
        if self.time_last_n_sec is not None:
            return [guide.end_time - self.time_last_n_sec * 1000000000, guide.end_time]
        return [guide.start_time, guide.end_time]

    def _footprint_dists(self, metric, do_sort):
        return footprints_mod.dists(self.footprints, metric, do_sort, self.footprints_path)

    def short(self):
        lines = ["# Heatmap"]
        for guide in self.guides:
            for region in guide.regions:
                lines.append("# target %d, address range %d-%d" % (
                    guide.target_id, region.start, region.end))
                lines.append(_heatmap_text(self.records, guide, self._time_range(guide),
                                           [region.start, region.end], (5, 80), self.color))
        lines.append("")
        lines.append("# Memory Footprints Distribution")
        records = _for_distributions(self.records)
        lines.append("%10s %15s %15s %15s %15s %15s" % (("percentile",) + tuple(
            str(p) for p in PERCENTILES)))
        rows = [("wss", _wss_dists(records, True))]
        rows += [(m, self._footprint_dists(m, True)) for m in ("rss", "vsz", "sys_used")]
        for name, values in rows:
            lines.append("%10s " % name + "".join(
                "%15s " % units.format_sz(footprints_mod.percentile_value(values, p), False)
                for p in PERCENTILES))
        hot, why = hotspot_lines(self.profile_path, self.perf_path, 5, 21)
        if hot is None:
            self.warnings.append("no hotspot functions: %s" % why)
        else:
            lines += ["", "# Hotspot functions"] + hot
        return "\n".join(lines)

    def long(self):
        lines = ["Overall recorded access pattern", "=" * 31, ""]
        lines += [g.to_str(True) for g in self.guides]
        lines += ["", "# regions above are regions that access pattern recorded",
                  "# you can get this via 'damo record_info', too", "", "Heatmap",
                  "=======", ""]
        for guide in self.guides:
            lines.append("# target %d" % guide.target_id)
            for region in guide.regions:
                lines.append("# address range %d-%d" % (region.start, region.end))
                lines.append(_heatmap_text(self.records, guide,
                                           [guide.start_time, guide.end_time],
                                           [region.start, region.end], (10, 80), self.color))
        lines += ["# you can get above via 'damo report heatmap'", "",
                  "Working Set Size and Memory Footprints Distribution", "=" * 51, ""]
        records = _for_distributions(self.records)
        for sort_key in ("size", "time"):
            lines += ["Sorted by %s" % sort_key, "-" * 14, ""]
            do_sort = sort_key == "size"
            lines.append(format_dists("wss", _wss_dists(records, do_sort), PERCENTILES,
                                      False, units.format_sz, False, 59))
            for metric in ("rss", "vsz", "sys_used"):
                lines.append(format_dists(metric, self._footprint_dists(metric, do_sort),
                                          PERCENTILES, False, units.format_sz, False, 59))
            lines.append("")
        lines.append("# you can get above via 'damo report wss' and 'damo report footprints'")
        hot, why = hotspot_lines(self.profile_path, self.perf_path, 0, 30)
        if hot is None:
            self.warnings.append("no hotspot functions: %s" % why)
        else:
            lines += ["", "Hotspot functions", "=================", "", "\n".join(hot),
                      "# you can get above via 'damo report profile'"]
        return "\n".join(lines)
