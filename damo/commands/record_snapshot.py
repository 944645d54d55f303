"""``damo record``'s own options beside the DAMON ones: --snapshot (access
snapshots through a DAMOS scheme's tried regions, as damo takes them from a
running kdamond), its access filters and --snapshot_damos_filter,
--do_record and --output_flush_sec.

``damo record --snapshot <delay> <count>`` installs, in every context, a
``stat`` scheme whose access pattern is the one --sz_region, --access_rate
and --age give, with a ``reject none addr`` filter per --address range and
the --snapshot_damos_filter filters, applied every <delay> seconds (or every
sampling interval for 0).  Each of its first <count> passes is a snapshot:
one record per kdamond, context and scheme (target id null), with the
scheme's filters, the bytes of each region that passed them, and the
scheme's stats for that pass; adjacent regions of equal access frequency
and age that no filter passed are merged, as damo merges them.  The other
filters (--sz_snapshot, --snapshot_time, --snapshot_idx, --temperature)
are accepted and, as in damo, not applied when recording.
"""
import datetime
import os
import time

import click
import numpy as np

from damo import units
from damo.errors import DamoError
from damo.params.damon_args import DamonOption

DO_RECORD = ("access", "cpu_profile", "mem_footprint", "vmas", "proc_stats",
             "damon_trace_events")
# what the simulation has no counterpart for (perf profiles, /proc files,
# raw trace events): accepted, nothing recorded
NOT_SIMULATED = ("cpu_profile", "vmas", "proc_stats", "damon_trace_events")
FILTER_OPTIONS = ("sz_region", "access_rate", "age", "address", "sz_snapshot",
                  "snapshot_time", "snapshot_idx", "temperature")


def record_options(f):
    """damo record's --snapshot, --do_record, --snapshot_damos_filter, the
    access filters and --output_flush_sec."""
    from damo.params import access_filter
    f = access_filter.filter_options(f)
    opts = [
        click.option("--snapshot", nargs=2, metavar="<delay> <count>",
                     help="record accesses as <count> snapshots, one every <delay> "
                          "(simulated) seconds, through a DAMOS scheme's tried regions"),
        click.option("--do_record", cls=DamonOption, many=True, multiple=True,
                     metavar="<what>...",
                     help="what to record: access, mem_footprint (also accepted: "
                          "cpu_profile, vmas, proc_stats, damon_trace_events, which "
                          "have no simulated counterpart)  [default: all]"),
        click.option("--snapshot_damos_filter", cls=DamonOption, many=True, multiple=True,
                     metavar="<damos filter argument>...",
                     help="region-internal DAMOS filters for the snapshots (as "
                          "--damos_filter)"),
        click.option("--output_flush_sec", default="3600", show_default=True,
                     metavar="<seconds>",
                     help="write what was recorded so far every <seconds> simulated "
                          "seconds, into OUT.<date-time>/, and go on"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def do_record_of(values):
    """The --do_record choices (the last use wins, as argparse's nargs='+')."""
    from damo.cliutil import split_values
    if not values:
        return list(DO_RECORD[:5])
    chosen = split_values(values[-1])
    for v in chosen:
        if v not in DO_RECORD:
            raise DamoError("--do_record: invalid choice: %r (choose from %s)"
                            % (v, ", ".join(DO_RECORD)), exit_code=2)
    return chosen


def text_to_sec(text, option):
    """damo's text_to_sec(): a plain number is seconds, else a time."""
    try:
        value = units.to_number(text)
    except ValueError:
        try:
            value = units.to_us(text) / 1000000
        except (ValueError, TypeError):
            raise DamoError("%s: wrong time %r" % (option, text), exit_code=1) from None
    if not np.isfinite(value) or value < 0:
        raise DamoError("%s: wrong time %r" % (option, text), exit_code=1)
    return value


def parse_snapshot(values):
    """(delay seconds, count) of --snapshot."""
    delay = text_to_sec(values[0], "--snapshot")
    try:
        count = units.to_number(values[1])
    except ValueError:
        raise DamoError("--snapshot: wrong count %r" % values[1]) from None
    if count != int(count) or count < 1:
        raise DamoError("--snapshot: the count must be a positive integer, not %r" % values[1])
    return delay, int(count)


def snapshot_scheme(opts, apply_interval_us):
    """The stat scheme damo installs to take snapshots (its access pattern
    and filters from the options)."""
    from damo.commands.report_access import access_filter, snapshot_damos_filters
    from damo.params import schemes

    flt = access_filter(opts)
    s = schemes.SchemeParams()
    s.action = "stat"
    s.origin = "--snapshot"
    p = s.access_pattern
    p.sz_bytes = [flt.sz_bytes[0], flt.sz_bytes[1]]
    p.nr_accesses = [flt.access_rate[0], min(flt.access_rate[1], units.ULONG_MAX)]
    p.nr_accesses_unit = "percent"
    p.age = [flt.age_us[0], min(flt.age_us[1], units.ULONG_MAX)]
    p.age_unit = "usec"
    filters = []
    for start, end in flt.address_ranges or []:
        f = schemes.FilterParams("addr", False, False)
        f.address_range = (start, end)
        filters.append(f)
    s.filters = filters + snapshot_damos_filters(opts.get("snapshot_damos_filter"))
    s.apply_interval_us = apply_interval_us
    return s


def ignored_filters(opts):
    """Filter options given that recording does not apply."""
    from damo.params.access_filter import OPTIONS
    given = []
    for spec in OPTIONS:
        name = spec.name.lstrip("-")
        value = opts.get(name)
        if spec.default is not None:
            if value is not None and tuple(value) != tuple(spec.default):
                given.append(spec.name)
        elif value:
            given.append(spec.name)
    return given


class RecordPlan:
    """What damo record's own options ask for (checked, before running)."""

    def __init__(self, opts):
        self.do_record = do_record_of(opts.get("do_record"))
        self.access = "access" in self.do_record
        self.footprints = "mem_footprint" in self.do_record
        flush_s = text_to_sec(opts.get("output_flush_sec") or "3600", "--output_flush_sec")
        if flush_s < 1:
            raise DamoError("--output_flush_sec: %s is shorter than a second (each part is a "
                            "directory named to the second)" % opts["output_flush_sec"])
        self.flush_ns = int(flush_s * 1e9) if flush_s * 1e9 < 2**62 else 0
        self.snapshot = False
        if opts.get("snapshot"):
            self.delay_s, self.count = parse_snapshot(opts["snapshot"])
            # damo takes snapshots only when it records accesses
            self.snapshot = self.access
        # checked now, used or not (damo parses them all)
        from damo.commands.report_access import access_filter, snapshot_damos_filters
        access_filter(opts)
        snapshot_damos_filters(opts.get("snapshot_damos_filter"))
        given = [name for name in ("snapshot", "do_record", "snapshot_damos_filter")
                 if opts.get(name)]
        self.special = bool(given) or opts.get("output_flush_sec") not in (None, "3600")
        explicit = opts.get("do_record")
        for what in NOT_SIMULATED:
            if explicit and what in self.do_record:
                click.echo("damo: warning: --do_record %s: not simulated, nothing recorded "
                           "for it" % what, err=True)
        ignored = ignored_filters(opts)
        if not self.snapshot:
            if opts.get("snapshot_damos_filter"):
                ignored.append("--snapshot_damos_filter")
            if ignored:
                click.echo("damo: warning: %s: applied to --snapshot snapshots only (as in "
                           "damo); ignored" % ", ".join(ignored), err=True)
        else:
            late = [o for o in ignored if o not in (
                "--sz_region", "--access_rate", "--age", "--address")]
            if late:
                click.echo("damo: warning: %s: not applied when recording (as in damo; "
                           "give them to damo report)" % ", ".join(late), err=True)

    def add_snapshot_schemes(self, kdamonds, opts):
        """Install the snapshot schemes (or, with --schemes_target_regions,
        take the existing ones): [(kdamond, context, scheme idx, filters)]."""
        if not self.snapshot:
            return None
        out = []
        for kd, kdp in enumerate(kdamonds):
            for ci, ctx in enumerate(kdp.contexts):
                if opts.get("schemes_target_regions"):
                    for si, s in enumerate(ctx.schemes):
                        out.append((kd, ci, si, [f.to_kvpairs() for f in s.filters]))
                    continue
                s = snapshot_scheme(opts, max(int(self.delay_s * 1e6), int(ctx.sample_us)))
                ctx.schemes.append(s)
                out.append((kd, ci, len(ctx.schemes) - 1, [f.to_kvpairs() for f in s.filters]))
        return out


class Done(Exception):
    """Every snapshot was taken: the recording ends here."""


def merged_regions(rows):
    """damo's merged_regions(): adjacent regions of equal access frequency
    and age join, unless any filter passed bytes of either."""
    out = []
    for r in rows:
        if out:
            last = out[-1]
            if not (last[4] or r[4]) and last[1] == r[0] and last[2] == r[2] and \
                    last[3] == r[3]:
                last[1] = r[1]
                continue
        out.append(list(r))
    return out


class SnapshotTaker:
    """Sinks for the snapshot schemes' tried regions: keeps one pass every
    ``delay`` seconds per scheme, ``count`` of them, each a record of its
    own (through ``writer``)."""

    def __init__(self, run, writer, schemes, delay_s, count, intervals_of):
        """schemes: (kdamond idx, context idx, scheme idx, filters as the
        records keep them) of each scheme to take snapshots of."""
        self.writer = writer
        self.delay_ns = int(delay_s * 1e9)
        self.count = count
        self.intervals_of = intervals_of
        self.taken = {}
        self.next_ns = {}
        self.prev_stats = {}
        self.pending = set()
        for kd, ci, si, filters in schemes:
            ctx = run.contexts[kd][ci]
            key = (kd, ci, si)
            self.taken[key] = 0
            self.next_ns[key] = 0
            self.pending.add(key)
            ctx.schemes[si].tried_regions_sink = self._sink(key, ctx, filters)

    @property
    def nr_taken(self):
        return sum(self.taken.values())

    def _sink(self, key, ctx, filters):
        from damo.params.schemes import STAT_FIELDS
        kd, ci, si = key

        def sink(scheme, regions):
            now = int(ctx.kstate.clock_ns)
            stats = scheme.stats()
            prev = self.prev_stats.get(key) or {}
            self.prev_stats[key] = dict(stats)
            if key not in self.pending or now < self.next_ns[key]:
                return
            # the stats of this pass: what a scheme installed for it counts
            delta = {f: stats[f] - prev.get(f, 0) for f in STAT_FIELDS if f in stats}
            if "max_nr_snapshots" in stats:
                delta["max_nr_snapshots"] = stats["max_nr_snapshots"]
            rows = merged_regions([r[:5] for r in regions])
            cols = np.array(rows, dtype=np.int64).reshape(-1, 5)
            iv, _ = self.intervals_of[(kd, ci)]
            self.writer.add_snapshot(
                kd, ci, None, now - int(iv["aggr_us"]) * 1000, now,
                cols[:, 0].astype(np.uint64), cols[:, 1].astype(np.uint64), cols[:, 2],
                cols[:, 3], intervals=iv, damos_stats=delta, scheme_idx=si,
                sz_filter_passed=cols[:, 4], scheme_filters=filters, separate=True)
            self.taken[key] += 1
            self.next_ns[key] = now + self.delay_ns
            if self.taken[key] >= self.count:
                self.pending.discard(key)
                if not self.pending:
                    raise Done()
        return sink


# --------------------------------------------------------- output flushing

def flush_dir(out, second):
    """damo's OUT.%Y-%m-%d-%H-%M-%S directory of a flush at ``second`` (a
    wall-clock time, in seconds since the epoch)."""
    when = datetime.datetime.fromtimestamp(second)
    return "%s.%s" % (out, when.strftime("%Y-%m-%d-%H-%M-%S"))


class FlushingWriter:
    """A RecordingWriter that writes what it holds every ``period_ns``
    simulated nanoseconds and starts over, as damo's --output_flush_sec:
    each part is a complete recording of its own, ``OUT.<date-time>/OUT``
    (with the memory footprints of its period), the last one included once
    any was flushed; otherwise it is ``OUT``, as without flushing."""

    def __init__(self, out, output_type, permission, period_ns, footprints_of):
        from damo.records import RecordingWriter
        self.out = out
        self.output_type = output_type
        self.permission = permission
        self.period_ns = period_ns
        self.footprints_of = footprints_of
        self.start_wall = time.time()
        self.next_flush_ns = period_ns
        self.parts = []           # paths of the parts written
        self.last_second = None
        self._flushed_snapshots = 0     # in the parts written
        self._from_ns = 0
        self.current = RecordingWriter(out, output_type, permission)
        self.metadata = self.current.metadata

    def add_snapshot(self, kdamond_idx, context_idx, target_id, start_ns, end_ns, *args,
                     **kwargs):
        while end_ns > self.next_flush_ns:
            self._flush(self.next_flush_ns)
            self.next_flush_ns += self.period_ns
        self.current.add_snapshot(kdamond_idx, context_idx, target_id, start_ns, end_ns,
                                  *args, **kwargs)

    @property
    def nr_snapshots(self):
        """Snapshots in the parts written and the one being collected (from
        the writers, so that an interruption cannot make them disagree)."""
        return self._flushed_snapshots + self.current.nr_snapshots

    def recording(self):
        return self.current.recording()

    def _part_path(self, at_ns):
        # named for when it is written: the recording's start (wall clock)
        # plus the simulated time; a last part that would share its second
        # with the previous one (where damo 3.4.3 fails: its mkdir finds the
        # directory there) takes the next second
        second = int(self.start_wall + at_ns / 1e9)
        if self.last_second is not None and second <= self.last_second:
            second = self.last_second + 1
        self.last_second = second
        directory = flush_dir(self.out, second)
        if os.path.exists(directory):
            raise DamoError("--output_flush_sec: %s exists already" % directory)
        try:
            os.mkdir(directory)
        except OSError as e:
            raise DamoError("%s: cannot make it (%s)" % (directory, e.strerror or e)) from None
        return os.path.join(directory, os.path.basename(self.out))

    def _write_footprints(self, path, at_ns):
        import json
        from damo import fileutil
        fps = [f for f in self.footprints_of() if self._from_ns <= f["time"] * 1e9 < at_ns]
        with fileutil.atomic_output(path + ".mem_footprint", "w",
                                    permission=self.permission) as f:
            json.dump(fps, f, separators=(",", ":"))

    def _flush(self, at_ns):
        from damo import fileutil
        from damo.records import RecordingWriter
        # one step: a ^C or SIGTERM waits until the part is written and the
        # next writer is in place (else the final commit met a committed one)
        with fileutil.signals_deferred():
            path = self._part_path(at_ns)
            self.current.path = path
            if self.current.recording().records:
                self.current.commit()
            else:
                self.current.abort()
            self._write_footprints(path, at_ns)
            self._from_ns = at_ns
            self.parts.append(path)
            self._flushed_snapshots += self.current.nr_snapshots
            self.current = RecordingWriter(self.out, self.output_type, self.permission)
            self.current.metadata = self.metadata

    def commit(self, end_ns, sidecars_for=None):
        """Write the last part (with the sidecars ``sidecars_for(path)`` gives,
        committed with it); returns its path."""
        if not self.parts:
            self.current.commit(sidecars=sidecars_for and sidecars_for(self.out))
            return self.out
        path = self._part_path(max(end_ns, self._from_ns + 1))
        self.current.path = path
        self.current.commit(sidecars=sidecars_for and sidecars_for(path))
        self._write_footprints(path, float("inf"))
        self.parts.append(path)
        return path

    def abort(self):
        self.current.abort()
