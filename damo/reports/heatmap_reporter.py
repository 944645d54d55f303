"""``report heatmap``: choose what to draw (as damo does, from the guide) and
render it to the terminal, as raw pixel triples, or as an image."""
import os

from damo import units
from damo.errors import DamoError
from damo.reports import guide as guide_mod
from damo.reports.heatmap import HeatMap


def _to_ns(text, what):
    try:
        return units.to_ns(text)
    except (ValueError, TypeError):
        raise DamoError("wrong %s value '%s'" % (what, text)) from None


def _to_bytes(text, what):
    try:
        return units.to_bytes(text)
    except (ValueError, TypeError):
        raise DamoError("wrong %s value '%s'" % (what, text)) from None


class HeatmapReporter:
    """What damo's ``report heatmap`` does between loading and printing."""

    def __init__(self, recording, kdamond_idx=None, context_idx=None, scheme_idx=None,
                 tid=None, time_range=None, address_ranges=None, draw_range="hottest",
                 resol=None, for_stdout=True):
        self.recording = recording
        records = recording.records
        with_intervals = [r for r in records if r.intervals is not None]
        if with_intervals and len(with_intervals) != len(records):
            raise DamoError("some records have intervals while some not; cannot draw "
                            "them in one unit")
        self.selection = [kdamond_idx, context_idx, scheme_idx, tid]
        self.resol = resol or ((40, 80) if for_stdout else (500, 500))
        if min(self.resol) <= 0:
            raise DamoError("--resol needs positive numbers")
        if self.resol[0] * self.resol[1] > 10 ** 8:
            # a cell costs bytes in several arrays: 10^8 cells are already GiBs
            raise DamoError("--resol %d %d: more than 100,000,000 cells" % tuple(self.resol))
        self.time_range = time_range
        self.address_ranges = address_ranges
        self.draw_range = draw_range
        self._complete()

    def _complete(self):
        """damo's complete_src_args(): fill unset selections from the guide."""
        if None not in self.selection and self.time_range is not None and \
                self.address_ranges is not None:
            return
        guides = guide_mod.guides_of(self.recording.records)
        if not guides:
            raise DamoError("%s: no snapshot to draw" % self.recording.path)
        self.selection = [given if given is not None else guided for given, guided
                          in zip(self.selection, guides[0].key())]
        proper = [g for g in guides if list(g.key()) == self.selection]
        if not proper:
            raise DamoError("no record of kdamond %s context %s scheme %s target %s" %
                            tuple(self.selection))
        guide = proper[0]
        self.time_range = self._complete_time_range(guide)
        if self.draw_range == "hottest":
            guided = [guide.hottest_region()]
        else:
            guided = guide.regions
        guided = [[r.start, r.end] for r in guided]
        if self.address_ranges is None:
            self.address_ranges = guided
        else:
            self.address_ranges = [self._complete_address_range(fields, guided, idx)
                                   for idx, fields in enumerate(self.address_ranges)]

    def _complete_time_range(self, guide):
        fields = self.time_range
        if fields is None:
            return [guide.start_time, guide.end_time]
        if len(fields) not in (2, 3):
            raise DamoError("--time_range takes <start> <end> [guided|guided_end|<base>]")
        start, end = (_to_ns(x, "--time_range") for x in fields[:2])
        if len(fields) == 2:
            return [start, end]
        base = {"guided": guide.start_time, "guided_end": guide.end_time}.get(fields[2])
        if base is None:
            base = _to_ns(fields[2], "--time_range")
        return [base + start, base + end]

    @staticmethod
    def _complete_address_range(fields, guided, idx):
        if len(fields) not in (2, 3):
            raise DamoError("--address_range takes <start> <end> [guided|<base>]")
        start, end = (_to_bytes(x, "--address_range") for x in fields[:2])
        if len(fields) == 2:
            return [start, end]
        if fields[2] == "guided":
            if idx >= len(guided):
                raise DamoError("no guided address range #%d to be the base" % idx)
            base = guided[idx][0]
        else:
            base = _to_bytes(fields[2], "--address_range")
        return [base + start, base + end]

    def selected_records(self):
        return [r for r in self.recording.records if list(r.key()) == self.selection]

    def heatmaps(self):
        """One HeatMap per address range, in order."""
        records = self.selected_records()
        for address_range in self.address_ranges:
            yield HeatMap.build(records, self.time_range, address_range, self.resol)

    # -------------------------------------------------------------- output

    def text(self, colorset="gray", color=True, legend=True):
        return "\n".join("\n".join(h.ascii_lines(colorset, color, legend))
                         for h in self.heatmaps())

    def raw(self, abs_time=False, abs_addr=False):
        return "\n".join("\n".join(h.raw_lines(abs_time, abs_addr)) for h in self.heatmaps())

    def draw(self, path, size, abs_time=False, abs_addr=False):
        """Images, one per address range; the 2nd and later get '.1', '.2'
        before their extension, as damo names them.  Returns the paths."""
        from damo.reports import plot
        kind = plot.image_kind(path)
        paths = []
        for idx, heatmap in enumerate(self.heatmaps()):
            out = path
            if idx > 0:
                root, ext = os.path.splitext(path)
                out = "%s.%d%s" % (root, idx, ext)
            title = "%s: target %s" % (os.path.basename(self.recording.path or "recording"),
                                       self.selection[3])
            plot.draw_heatmap(heatmap, out, kind, size, title, abs_time, abs_addr)
            paths.append(out)
        return paths
