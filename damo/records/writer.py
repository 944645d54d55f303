"""``RecordingWriter``: builds a recording snapshot by snapshot, then writes it."""
import numpy as np

from damo import fileutil, units
from damo.errors import DamoError
from damo.records import files
from damo.records.model import Intervals, Record, Recording


def _intervals(intervals):
    if intervals is None or isinstance(intervals, Intervals):
        return intervals
    return Intervals(intervals["sample_us"], intervals["aggr_us"], intervals["ops_update_us"],
                     intervals.get("intervals_goal"))


class _RecordBuilder:
    def __init__(self, intervals, scheme_filters=None):
        self.intervals = intervals
        self.scheme_filters = scheme_filters
        self.start_ns, self.end_ns, self.counts = [], [], []
        self.sample_us, self.stats = [], []
        self.columns = ([], [], [], [])
        self.sz_filter_passed = []      # per snapshot: an array or None
        self.truths = []                # per snapshot: damo.records.truth.SnapshotTruth or None

    def trim(self):
        """A snapshot counts once its count is appended, which add_snapshot()
        does last: drop what one interrupted (^C) while being added left."""
        n = len(self.counts)
        for name in ("start_ns", "end_ns", "sample_us", "stats", "sz_filter_passed", "truths"):
            del getattr(self, name)[n:]
        for column in self.columns:
            del column[n:]

    def build(self, key):
        kdamond_idx, context_idx, target_id, scheme_idx = key[:4]
        self.trim()
        offsets = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=offsets[1:])
        dtypes = (np.uint64, np.uint64, np.int64, np.int64)
        starts, ends, nr_accesses, ages = (
            np.concatenate(c).astype(t, copy=False) if c else np.zeros(0, t)
            for c, t in zip(self.columns, dtypes))
        sz_filter_passed = None
        if any(p is not None for p in self.sz_filter_passed):
            sz_filter_passed = np.concatenate(
                [np.zeros(n, np.int64) if p is None else np.asarray(p, np.int64)
                 for p, n in zip(self.sz_filter_passed, self.counts)]) \
                if self.counts else np.zeros(0, np.int64)
        return Record(
            target_id, self.start_ns, self.end_ns, offsets, starts, ends, nr_accesses, ages,
            kdamond_idx=kdamond_idx, context_idx=context_idx, scheme_idx=scheme_idx,
            intervals=self.intervals, scheme_filters=self.scheme_filters,
            sample_interval_us=(None if all(np.isnan(self.sample_us)) else self.sample_us),
            damos_stats=None if all(s is None for s in self.stats) else self.stats,
            sz_filter_passed=sz_filter_passed)


class RecordingFull(DamoError):
    """The recording reached RecordingWriter.MAX_SNAPSHOTS (or MAX_REGIONS):
    what it holds is kept, the run stops there."""


class RecordingWriter:
    """Collects snapshots as ``damo record`` produces them and writes them out.

    Snapshots are grouped into one record per (kdamond_idx, context_idx,
    target_id, scheme_idx), in order of first appearance, as damo does.
    Nothing touches the output file before ``commit()``.
    """

    # what one recording may hold in memory: beyond, the command stops with an
    # error (e.g. --monitoring_intervals 0 0 1s aggregates every microsecond)
    MAX_SNAPSHOTS = 1_000_000
    MAX_REGIONS = 100_000_000

    def __init__(self, path, output_type="json_compressed", permission=0o600):
        if output_type not in files.WRITE_TYPES:
            raise ValueError("unsupported output type %r" % (output_type,))
        if path is not None:
            # refused now, not after the simulation
            fileutil.check_output_path(path)
        self.path = path
        self.nr_snapshots = 0
        self.nr_regions = 0
        self.output_type = output_type
        self.permission = permission
        self.metadata = {}
        self._records = {}
        self._done = False

    def add_snapshot(self, kdamond_idx, context_idx, target_id, start_ns, end_ns,
                     starts, ends, nr_accesses, ages, intervals=None,
                     sample_interval_us=None, damos_stats=None, scheme_idx=None,
                     sz_filter_passed=None, scheme_filters=None, separate=False,
                     truth=None):
        """Append one snapshot (its regions as 1-D arrays) to its record.

        ``intervals`` (dict of sample_us/aggr_us/ops_update_us and optionally
        intervals_goal, in microseconds) is kept from the first snapshot of a
        record; give auto-tuned sampling intervals as ``sample_interval_us``.
        ``scheme_filters`` (damo's kvpairs of the DAMOS filters behind a
        scheme's record) is kept from its first snapshot too.  ``separate``
        starts a record of its own for the snapshot, as damo writes the
        snapshots that ``record --snapshot`` takes.  ``truth`` is the
        snapshot's exact truth (damo.records.truth), if any.
        """
        if self._done:
            raise RuntimeError("the recording was already committed or aborted")
        columns = [np.asarray(c) for c in (starts, ends, nr_accesses, ages)]
        if any(c.ndim != 1 or len(c) != len(columns[0]) for c in columns):
            raise ValueError("region arrays must be 1-D and of one length")
        if self.nr_snapshots + 1 > self.MAX_SNAPSHOTS or \
                self.nr_regions + len(columns[0]) > self.MAX_REGIONS:
            raise RecordingFull(
                "stopped recording at %s snapshots (%s regions), the most a recording holds "
                "in memory; raise the aggregation interval (--monitoring_intervals) to "
                "record longer" % (units.format_nr(self.nr_snapshots, False),
                                   units.format_nr(self.nr_regions, False)))
        # one unit: a ^C or SIGTERM landing in here would leave the count
        # and the columns disagreeing (the 'wrote N' line one above the file)
        with fileutil.signals_deferred():
            self._add(kdamond_idx, context_idx, target_id, start_ns, end_ns, columns,
                      intervals, sample_interval_us, damos_stats, scheme_idx,
                      sz_filter_passed, scheme_filters, separate, truth)

    def _add(self, kdamond_idx, context_idx, target_id, start_ns, end_ns, columns, intervals,
             sample_interval_us, damos_stats, scheme_idx, sz_filter_passed, scheme_filters,
             separate, truth):
        key = (kdamond_idx, context_idx, target_id, scheme_idx)
        if separate:
            key += (len(self._records),)
        builder = self._records.get(key)
        if builder is None:
            builder = self._records[key] = _RecordBuilder(_intervals(intervals),
                                                          scheme_filters)
        if sz_filter_passed is not None and len(sz_filter_passed) != len(columns[0]):
            raise ValueError("sz_filter_passed must have one value per region")
        szfp = None if sz_filter_passed is None else np.array(sz_filter_passed, dtype=np.int64)
        copies = [column.copy() for column in columns]
        builder.trim()
        builder.start_ns.append(start_ns)
        builder.end_ns.append(end_ns)
        builder.sample_us.append(np.nan if sample_interval_us is None else sample_interval_us)
        builder.stats.append(damos_stats)
        builder.sz_filter_passed.append(szfp)
        builder.truths.append(truth)
        for store, column in zip(builder.columns, copies):
            store.append(column)
        builder.counts.append(len(columns[0]))      # last: see _RecordBuilder.build
        self.nr_snapshots += 1
        self.nr_regions += len(columns[0])

    def recording(self):
        """The Recording collected so far."""
        # a snapshot's own record (separate) exists once its snapshot does
        return Recording([b.build(key) for key, b in self._records.items()
                          if len(key) == 4 or b.counts],
                         self.metadata, path=self.path, format=self.output_type)

    def truths(self):
        """damo.records.truth.RecordTruth of each record whose every snapshot
        has its truth."""
        from damo.records import truth as truth_mod
        out = []
        for key, b in self._records.items():
            b.trim()
            if len(key) == 4 and key[3] is None and b.truths and \
                    all(t is not None for t in b.truths):
                out.append(truth_mod.concat(key[:3], b.truths))
        return out

    def commit(self, sidecars=None):
        """Write the recording atomically (an existing file becomes
        ``<path>.old``) and return it; ``sidecars(output_set, digest)`` adds
        the files committed with it (see files.save).  Its exact truth, if
        any, goes into a native recording or beside the others
        (``<path>.truth``, committed with it)."""
        from damo.records import truth as truth_mod
        if self._done:
            raise RuntimeError("the recording was already committed or aborted")
        recording = self.recording()
        truths = self.truths()
        if truths and self.output_type == "native":
            recording.metadata[truth_mod.METADATA_KEY] = truth_mod.metadata_value(truths)

        def with_truth(output_set, digest):
            if sidecars is not None:
                sidecars(output_set, digest)
            truth_mod.add_sidecar(output_set, self.path,
                                  truths if self.output_type != "native" else None, digest)
        files.save(recording, self.path, self.output_type, self.permission, with_truth)
        self._done = True
        self._records = {}
        return recording

    def abort(self):
        """Discard everything; no file is written."""
        self._done = True
        self._records = {}
