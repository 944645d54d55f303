"""``report heatmap``: choose what to draw (as damo does, from the guide) and
render it to the terminal, as raw pixel triples, or as an image."""
import math
import os

from damo import units
from damo.errors import DamoError
from damo.reports import guide as guide_mod
from damo.reports.heatmap import HeatMap


def _finite(value):
    """A finite number a float holds within 64 bits (a 200-digit integer
    made math.isfinite() raise OverflowError)."""
    try:
        return math.isfinite(value) and abs(value) < 2.0 ** 64
    except OverflowError:
        return False


def _to_ns(text, what):
    try:
        value = units.to_ns(text)
    except (ValueError, TypeError):
        raise DamoError("wrong %s value '%s'" % (what, text)) from None
    if not _finite(value):              # 'nan', 'inf' parse as floats
        raise DamoError("wrong %s value '%s' (not a finite time)" % (what, text))
    return value


def _to_bytes(text, what):
    try:
        value = units.to_bytes(text)
    except (ValueError, TypeError, OverflowError):
        raise DamoError("wrong %s value '%s'" % (what, text)) from None
    if not _finite(value):
        raise DamoError("wrong %s value '%s' (not a finite address)" % (what, text))
    return value


def _held(pair, option):
    """A completed range whose ends a recording's int64 columns can be
    compared with (a base of 2^63 made the painting's int64 subtraction
    overflow: OverflowError)."""
    for value in pair:
        if not 0 <= value < 1 << 63:
            raise DamoError("%s: %s is not within 0 and 2^63 - 1, what a recording holds"
                            % (option, value))
    return pair


MAX_CELLS = 1 << 22        # the most pixels a heatmap paints (16x the image default)


class HeatmapReporter:
    """What damo's ``report heatmap`` does between loading and printing."""

    def __init__(self, recording, kdamond_idx=None, context_idx=None, scheme_idx=None,
                 tid=None, time_range=None, address_ranges=None, draw_range="hottest",
                 resol=None, for_stdout=True, df_passed=False, sort_temperature=False,
                 temperature_weights=(1.0, 1.0)):
        self.recording = recording
        self.df_passed = df_passed
        records = recording.records
        with_intervals = [r for r in records if r.intervals is not None]
        if with_intervals and len(with_intervals) != len(records):
            raise DamoError("some records have intervals while some not; cannot draw "
                            "them in one unit")
        self.selection = [kdamond_idx, context_idx, scheme_idx, tid]
        self.resol = resol or ((40, 80) if for_stdout else (500, 500))
        if min(self.resol) <= 0:
            raise DamoError("--resol needs positive numbers")
        if self.resol[0] * self.resol[1] > MAX_CELLS:
            # a cell costs ~160 bytes while painted (its heat, its level, the
            # contributions sorted into it, its line): 2^22 cells ~ 700 MB
            raise DamoError("--resol %d %d: more than %s cells (2048 x 2048)" % (
                self.resol[0], self.resol[1], format(MAX_CELLS, ",")))
        self.time_range = time_range
        self.address_ranges = address_ranges
        self.draw_range = draw_range
        self._complete()
        self._records = [r for r in self.recording.records if list(r.key()) == self.selection]
        if sort_temperature:
            self._records = [sorted_by_temperature(r, self.address_ranges,
                                                   [0] + list(temperature_weights))
                             for r in self._records]

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
            return _held([start, end], "--time_range")
        base = {"guided": guide.start_time, "guided_end": guide.end_time}.get(fields[2])
        if base is None:
            base = _to_ns(fields[2], "--time_range")
        return _held([base + start, base + end], "--time_range")

    @staticmethod
    def _complete_address_range(fields, guided, idx):
        if len(fields) not in (2, 3):
            raise DamoError("--address_range takes <start> <end> [guided|<base>]")
        start, end = (_to_bytes(x, "--address_range") for x in fields[:2])
        if len(fields) == 2:
            return _held([start, end], "--address_range")
        if fields[2] == "guided":
            if idx >= len(guided):
                raise DamoError("no guided address range #%d to be the base" % idx)
            base = guided[idx][0]
        else:
            base = _to_bytes(fields[2], "--address_range")
        return _held([base + start, base + end], "--address_range")

    def selected_records(self):
        return self._records

    def heatmaps(self):
        """One HeatMap per address range, in order."""
        for address_range in self.address_ranges:
            yield HeatMap.build(self._records, self.time_range, address_range, self.resol,
                                df_passed=self.df_passed)

    # ------------------------------------------------- interactive edits

    def edit(self, action, target, ratio):
        """damo's edit_time_address_ranges(): zoom (scale around the middle)
        or scroll (shift by a ratio of the size) time, space or both."""
        def scale(start_end):
            start, end = start_end
            size = end - start
            new_size = size * ratio
            mid = int(start + size / 2)
            return [mid - new_size / 2, mid + new_size / 2]

        def shift(start_end):
            start, end = start_end
            diff = (end - start) * ratio
            return [start + diff, end + diff]
        move = scale if action == "zoom" else shift
        if target in ("time", "both"):
            self.time_range = move(self.time_range)
        if target in ("space", "both"):
            self.address_ranges = [move(r) for r in self.address_ranges]

    def shortcut(self, answer, for_stdout):
        """damo's handle_shortcuts(): True if ``answer`` was one."""
        if answer not in ("+", "-", "j", "h", "k", "l"):
            return False
        if for_stdout:
            xaxis, yaxis, down, up = "space", "time", -0.1, 0.1
        else:
            xaxis, yaxis, down, up = "time", "space", 0.1, -0.1
        if answer == "+":
            self.edit("zoom", "both", 0.9)
        elif answer == "-":
            self.edit("zoom", "both", 1.1)
        elif answer == "h":
            self.edit("scroll", xaxis, 0.1)
        elif answer == "j":
            self.edit("scroll", yaxis, down)
        elif answer == "k":
            self.edit("scroll", yaxis, up)
        elif answer == "l":
            self.edit("scroll", xaxis, -0.1)
        return True

    # -------------------------------------------------------------- output

    def text(self, colorset="gray", color=True, legend=True):
        return "\n".join("\n".join(h.ascii_lines(colorset, color, legend))
                         for h in self.heatmaps())

    def raw(self, abs_time=False, abs_addr=False):
        return "\n".join("\n".join(h.raw_lines(abs_time, abs_addr)) for h in self.heatmaps())

    def draw(self, path, size, abs_time=False, abs_addr=False, ylabel=None):
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
            plot.draw_heatmap(heatmap, out, kind, size, title, abs_time, abs_addr, ylabel)
            paths.append(out)
        return paths


def sorted_by_temperature(record, address_ranges, weights):
    """damo's --sort_temperature: in each snapshot, the regions touching each
    address range are cut to it and laid out from its start, coldest first
    (temperature with these [size, access rate, age] weights).  damo does
    this on its region objects in place, range after range, so a region in
    two ranges ends up where the last one put it; so does this."""
    import numpy as np

    from damo.records import AGE_UNKNOWN, Record

    if record.intervals is None:
        raise DamoError("--sort_temperature: the record has no monitoring intervals, so its "
                        "regions have no access rate (damo 3.4.3 crashes here)")
    if np.any(record.ages == AGE_UNKNOWN):
        raise DamoError("--sort_temperature: the record has regions of unknown age")
    iv = record.intervals
    max_samples = iv.aggr_us / iv.sample_us
    floats = any(isinstance(v, float) for r in address_ranges for v in r)
    dtype = np.float64 if floats else np.int64
    cols = {"starts": [], "ends": [], "nr_accesses": [], "ages": [], "szfp": []}
    offsets = [0]
    szfp_all = record.sz_filter_passed
    for sidx in range(record.nr_snapshots):
        sl = record.snapshot_slice(sidx)
        cur_s = record.starts[sl].astype(dtype)
        cur_e = record.ends[sl].astype(dtype)
        samples = record.nr_accesses[sl]
        percent = np.trunc(samples * 100.0 / max_samples)
        usec = record.ages[sl] * iv.aggr_us
        score = percent * weights[1] + usec * weights[2]
        temps = np.where(percent > 0, score, -score)
        picked = []
        for start, end in address_ranges:
            sel = np.flatnonzero(~((end < cur_s) | (cur_e < start)))
            cur_s[sel] = np.where(cur_s[sel] < start, start, cur_s[sel])
            cur_e[sel] = np.where(end < cur_e[sel], end, cur_e[sel])
            order = sel[np.argsort(temps[sel], kind="stable")]
            sizes = cur_e[order] - cur_s[order]
            new_starts = start + np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(dtype)
            cur_s[order] = new_starts
            cur_e[order] = new_starts + sizes
            picked.append(order)
        idx = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
        cols["starts"].append(cur_s[idx])
        cols["ends"].append(cur_e[idx])
        cols["nr_accesses"].append(samples[idx])
        cols["ages"].append(record.ages[sl][idx])
        if szfp_all is not None:
            cols["szfp"].append(szfp_all[sl][idx])
        offsets.append(offsets[-1] + len(idx))

    def cat(name, dt):
        return np.concatenate(cols[name]).astype(dt) if cols[name] else np.zeros(0, dt)
    if floats:
        raise DamoError("--sort_temperature: address ranges must be whole bytes")
    return Record(record.target_id, record.start_ns, record.end_ns, offsets,
                  cat("starts", np.uint64), cat("ends", np.uint64), cat("nr_accesses", np.int64),
                  cat("ages", np.int64), kdamond_idx=record.kdamond_idx,
                  context_idx=record.context_idx, scheme_idx=record.scheme_idx,
                  intervals=record.intervals, scheme_filters=record.scheme_filters,
                  data_source=record.data_source, sample_interval_us=record.sample_interval_us,
                  total_bytes=None, damos_stats=record.damos_stats,
                  sz_filter_passed=None if szfp_all is None else cat("szfp", np.int64))
