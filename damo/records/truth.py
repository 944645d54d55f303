"""The exact truth beside DAMON's estimate (``damo record --ground_truth``).

The engine counts every access of every page of a truth-tracking process,
and, per page, the sampling intervals of the monitoring context it was
accessed in (what DAMON's nr_accesses estimates by checking one random page
per region per interval).  At each aggregation, ``TruthCollector`` reduces
that to what a report needs, bounded by regions and bins, not pages:

- per snapshot: the exact working set size (bytes of the process accessed
  in the interval), the number of sampling intervals, and ``pieces``: each
  DAMON region cut into a few equal parts (at most ``PIECES`` per snapshot,
  spread by size) with their exact mean sample count, for the truth's
  heatmap;
- per DAMON region (aligned with the recording's region columns): the exact
  bytes accessed, the exact mean sample count over its pages, and a sparse
  histogram of its pages over (sample count, age): ``cells``.

A page's age is the number of aggregation intervals, up to this one, that it
has stayed accessed (or stayed unaccessed): the page-level counterpart of
DAMON's region age for the access patterns schemes use ("idle for 5 s", "hot
for 1 s").  Unmapped pages inside a region are unaccessed, of age ``NEVER``.
Sample counts are exact up to 63 sampling intervals per aggregation; above,
they are binned 64 ways (``nr_bin`` per snapshot, lower bound kept).  Ages are
exact unless a snapshot has more than 64 (count, age) cells per region on
average; then they are rounded down to powers of two (``age_rounded``).

Storage: inside a ``native`` recording (metadata ``ground_truth``), and in
``<out>.truth`` beside damo's formats (a numpy ``.npz`` archive, no pickles),
which damo itself never reads.
"""
import io
import json
import os
import zipfile

import numpy as np

from damo.errors import DamoError

FORMAT = "damo-sim-ground-truth"
VERSION = 1
SIDECAR = ".truth"
METADATA_KEY = "ground_truth"
PAGE = 4096
PIECES = 256            # truth heatmap pieces per snapshot (at least one per region)
MAX_BINS = 64           # sample-count bins
CELLS_PER_REGION = 64   # average (count, age) cells per region before ages are rounded
NEVER = np.iinfo(np.uint32).max     # age of unmapped pages

_SNAPSHOT_COLUMNS = (("wss", np.int64), ("nr_samples", np.int64), ("nr_bin", np.int64),
                     ("age_rounded", np.bool_))
_REGION_COLUMNS = (("accessed", np.int64), ("mean_nr", np.float64),
                   ("nr_cells", np.int64), ("nr_pieces", np.int64))
_CELL_COLUMNS = (("cell_nr", np.uint32), ("cell_age", np.uint32), ("cell_pages", np.int64))
_PIECE_COLUMNS = (("piece_nr", np.float32),)


class SnapshotTruth:
    """The truth of one snapshot of one target (see the module's columns)."""

    __slots__ = ("wss", "nr_samples", "nr_bin", "age_rounded", "accessed", "mean_nr",
                 "nr_cells", "cell_nr", "cell_age", "cell_pages", "nr_pieces", "piece_nr")

    def __init__(self, wss, nr_samples, nr_bin, age_rounded, accessed, mean_nr, nr_cells,
                 cell_nr, cell_age, cell_pages, nr_pieces, piece_nr):
        self.wss = wss
        self.nr_samples = nr_samples
        self.nr_bin = nr_bin
        self.age_rounded = age_rounded
        self.accessed = accessed
        self.mean_nr = mean_nr
        self.nr_cells = nr_cells
        self.cell_nr = cell_nr
        self.cell_age = cell_age
        self.cell_pages = cell_pages
        self.nr_pieces = nr_pieces
        self.piece_nr = piece_nr


class TruthCollector:
    """Turns the engine's per-page truth at each snapshot into SnapshotTruth
    (damo_engine.truth.TruthReducer: one pass over the process's pages)."""

    def __init__(self, sim):
        from damo_engine.truth import TruthReducer
        self.sim = sim
        sim.ground_truth_snapshots = False
        self.reducers = {}      # (kdamond, context, target) -> TruthReducer
        # what the processes did before monitoring started (their start-up)
        # is no sampling interval's
        self.initial = {}
        for w in sim.workloads:
            if w.mm is not None and w.mm.track_ground_truth:
                self.initial[w.mm.pid] = TruthReducer(w.mm)

    def snapshot(self, snap, target):
        """SnapshotTruth of a Simulation snapshot's TargetSnapshot, or None
        if its process does not track the truth."""
        from damo_engine.truth import TruthReducer
        mm = self.sim.process(target.pid) if target.pid is not None else None
        if mm is None or not mm.track_ground_truth:
            return None
        key = (snap.kdamond_idx, snap.context_idx, target.target_idx)
        reducer = self.reducers.get(key)
        if reducer is None:
            reducer = self.initial.pop(target.pid, None) or TruthReducer(mm)
            self.reducers[key] = reducer
        return reduce(mm, reducer, target.starts, target.ends)


def _bins(nr_samples):
    """Width of a sample-count bin."""
    return max(1, -(-(nr_samples + 1) // MAX_BINS))


def nr_pieces(starts, ends):
    """Pieces of each region of a snapshot: PIECES spread by size, at
    least one per region, at most one per page."""
    sizes = np.maximum((ends - starts) // PAGE, 0)
    extra = max(PIECES - len(starts), 0)
    k = 1 + (sizes * extra // max(int(sizes.sum()), 1))
    return np.minimum(k, np.maximum(sizes, 1))


def pieces(starts, ends, k):
    """[start, end) of each region [start, end) cut into k equal
    page-aligned pieces (any number of snapshots at once)."""
    starts = np.asarray(starts).astype(np.int64)
    ends = np.asarray(ends).astype(np.int64)
    n = len(starts)
    sizes = np.maximum((ends - starts) // PAGE, 0)
    owner = np.repeat(np.arange(n), k)
    j = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    kk = k[owner]
    p_start = starts[owner] + (sizes[owner] * j // kk) * PAGE
    p_end = np.where(j + 1 == kk, ends[owner],
                     starts[owner] + (sizes[owner] * (j + 1) // kk) * PAGE)
    return p_start, p_end


def reduce(mm, reducer, starts, ends):
    """SnapshotTruth of DAMON regions [starts, ends) (sorted) of the process
    ``mm``, since ``reducer``'s last aggregation."""
    n = len(starts)
    if starts.dtype != np.uint64 or not starts.flags.c_contiguous:
        starts = np.ascontiguousarray(starts, np.uint64)
    if ends.dtype != np.uint64 or not ends.flags.c_contiguous:
        ends = np.ascontiguousarray(ends, np.uint64)
    width = _bins(mm.gt_epoch - reducer.epoch)
    nr_samples, wss, accessed, mean_nr, k, piece_nr, cells, nr_cells, dup = reducer.reduce(
        mm, starts, ends, PIECES, width)
    rounded = False
    if dup:
        cells = _cells(*cells)
        nr_cells = None
    if len(cells[0]) > CELLS_PER_REGION * max(n, 1):
        rounded = True
        owner, nrb, age, pages = cells
        age = np.where((age > 0) & (age < NEVER), 1 << np.floor(np.log2(
            np.maximum(age, 1))).astype(np.int64), age)
        cells = _cells(owner, nrb, age, pages)
        nr_cells = None
    c_reg, c_nr, c_age, c_pages = cells
    if nr_cells is None:
        nr_cells = np.bincount(c_reg, minlength=n)[:n] if n else np.zeros(0, np.int64)
    return SnapshotTruth(
        wss=int(wss), nr_samples=int(nr_samples), nr_bin=width, age_rounded=rounded,
        accessed=accessed, mean_nr=mean_nr,
        nr_cells=nr_cells, cell_nr=c_nr, cell_age=c_age, cell_pages=c_pages, nr_pieces=k, piece_nr=piece_nr)


def _cells(owner, nrb, ages, pages):
    """(region, count bin, age, pages) of each distinct triple of runs."""
    if not len(owner):
        z = np.zeros(0, np.int64)
        return z, z, z, z
    order = np.lexsort((ages, nrb, owner))
    r, b, a, p = owner[order], nrb[order], ages[order], pages[order]
    change = np.empty(len(r), bool)
    change[0] = True
    change[1:] = (r[1:] != r[:-1]) | (b[1:] != b[:-1]) | (a[1:] != a[:-1])
    first = np.flatnonzero(change)
    return r[first], b[first], a[first], np.add.reduceat(p, first)


# ------------------------------------------------------------------ columns

class RecordTruth:
    """The truth of one record, as columns aligned with the record's."""

    def __init__(self, kdamond_idx, context_idx, target_id, columns):
        self.kdamond_idx = kdamond_idx
        self.context_idx = context_idx
        self.target_id = target_id
        for name, _ in _SNAPSHOT_COLUMNS + _REGION_COLUMNS + _CELL_COLUMNS + _PIECE_COLUMNS:
            setattr(self, name, columns[name])
        self.cell_offsets = np.concatenate([[0], np.cumsum(self.nr_cells)]).astype(np.int64)
        self.piece_offsets = np.concatenate([[0], np.cumsum(self.nr_pieces)]).astype(np.int64)

    def piece_bounds(self, record):
        """[start, end) of every piece, from the record's regions."""
        return pieces(record.starts, record.ends, self.nr_pieces)

    @property
    def nr_snapshots(self):
        return len(self.wss)

    def key(self):
        return (self.kdamond_idx, self.context_idx, self.target_id)

    def columns(self):
        return {name: getattr(self, name) for name, _ in
                _SNAPSHOT_COLUMNS + _REGION_COLUMNS + _CELL_COLUMNS + _PIECE_COLUMNS}

    def check(self, record, where):
        """It belongs to ``record`` (same snapshots and regions)."""
        n = record.nr_snapshots
        bad = None
        snapshot_lens = {len(getattr(self, name)) for name, _ in _SNAPSHOT_COLUMNS}
        region_lens = {len(getattr(self, name)) for name, _ in _REGION_COLUMNS}
        if snapshot_lens != {n}:
            bad = "%s snapshots, the recording has %d" % (
                "/".join(str(x) for x in sorted(snapshot_lens)), n)
        elif region_lens != {record.nr_regions}:
            bad = "%s regions, the recording has %d" % (
                "/".join(str(x) for x in sorted(region_lens)), record.nr_regions)
        elif len({len(getattr(self, name)) for name, _ in _CELL_COLUMNS}) != 1:
            bad = "its cell columns disagree in length"
        elif len(self.cell_nr) != self.cell_offsets[-1] or \
                len(self.piece_nr) != self.piece_offsets[-1] or \
                np.any(self.nr_pieces < 1) or np.any(self.nr_cells < 0):
            bad = "its columns disagree in length"
        if bad:
            raise DamoError("%s: the ground truth does not match the recording "
                            "(record %d/%d/%s: %s); record again with --ground_truth"
                            % (where, self.kdamond_idx, self.context_idx, self.target_id, bad))


def concat(key, truths):
    """RecordTruth of a record's SnapshotTruth list."""
    cols = {}
    for name, dtype in _SNAPSHOT_COLUMNS:
        cols[name] = np.array([getattr(t, name) for t in truths], dtype=dtype)
    for name, dtype in _REGION_COLUMNS + _CELL_COLUMNS + _PIECE_COLUMNS:
        parts = [getattr(t, name) for t in truths]
        cols[name] = np.concatenate(parts).astype(dtype, copy=False) if parts \
            else np.zeros(0, dtype)
    return RecordTruth(key[0], key[1], key[2], cols)


def _to_tree(truths):
    return {"format": FORMAT, "version": VERSION,
            "records": [dict(kdamond_idx=t.kdamond_idx, context_idx=t.context_idx,
                             target_id=t.target_id, columns=t.columns()) for t in truths]}


def _from_tree(tree, where):
    if not isinstance(tree, dict) or tree.get("format") != FORMAT:
        raise DamoError("%s: not damo-sim ground truth" % where)
    if tree.get("version") != VERSION:
        raise DamoError("%s: unsupported ground truth version %r" % (where, tree.get("version")))
    out = []
    try:
        for r in tree["records"]:
            cols = {}
            for name, dtype in _SNAPSHOT_COLUMNS + _REGION_COLUMNS + _CELL_COLUMNS + \
                    _PIECE_COLUMNS:
                col = np.asarray(r["columns"][name])
                if col.ndim != 1:
                    raise ValueError("%s is not a column" % name)
                cols[name] = col.astype(dtype, copy=False)
            out.append(RecordTruth(int(r["kdamond_idx"]), int(r["context_idx"]),
                                   r["target_id"], cols))
    except (KeyError, TypeError, ValueError) as e:
        raise DamoError("%s: corrupt ground truth (%s)" % (where, e)) from None
    return out


def metadata_value(truths):
    """What a native recording's metadata keeps."""
    return _to_tree(truths)


def add_sidecar(output_set, path, truths, digest):
    """Add ``<path>.truth`` (an .npz archive: a JSON header with the
    recording's checksum, and the columns) to the recording's OutputSet, or,
    without truths, have a stale one removed (kept as .old)."""
    sidecar = sidecar_path(path)
    if not truths:
        if os.path.lexists(sidecar):
            output_set.remove(sidecar, "truth")     # it described an earlier recording
        return
    header = {"format": FORMAT, "version": VERSION, "records": [],
              "recording": {"sha256": digest[0], "bytes": digest[1]}}
    arrays = {}
    for i, t in enumerate(truths):
        header["records"].append({"kdamond_idx": t.kdamond_idx, "context_idx": t.context_idx,
                                  "target_id": t.target_id})
        for name, col in t.columns().items():
            arrays["r%d_%s" % (i, name)] = np.ascontiguousarray(col)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    # numpy's savez_compressed, at zlib's fastest level (a tenth of the time, a
    # fifth more bytes)
    with zipfile.ZipFile(output_set.add(sidecar, "truth", hashed=False), "w",
                         zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, array in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def _load_sidecar(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            header = json.loads(bytes(z["header"]).decode())
            if not isinstance(header, dict) or not isinstance(header.get("records"), list):
                raise ValueError("no header")
            recs = []
            for i, r in enumerate(header["records"]):
                names = [n for n, _ in _SNAPSHOT_COLUMNS + _REGION_COLUMNS + _CELL_COLUMNS
                         + _PIECE_COLUMNS]
                r = dict(r, columns={n: z["r%d_%s" % (i, n)] for n in names})
                recs.append(r)
            header["records"] = recs
    except OSError as e:
        raise DamoError("%s: cannot read (%s)" % (path, e.strerror or e)) from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, zipfile.BadZipFile,
            EOFError) as e:
        raise DamoError("%s: not damo-sim ground truth (%s)" % (path, e)) from None
    return _from_tree(header, path), header


def sidecar_path(path):
    return os.fspath(path) + SIDECAR


def load(path, recording):
    """The RecordTruth of each of ``recording``'s records (None where a
    record has none), or None if the recording has no truth at all."""
    tree = (recording.metadata or {}).get(METADATA_KEY)
    if tree is not None:
        truths = _from_tree(tree, path)
    elif os.path.exists(sidecar_path(path)):
        truths, header = _load_sidecar(sidecar_path(path))
        want = header.get("recording")
        if isinstance(want, dict):
            from damo.metrics import file_digest
            try:
                got = file_digest(path)
            except OSError:
                got = None
            if got is not None and [want.get("sha256"), want.get("bytes")] != list(got):
                raise DamoError("%s belongs to another recording than %s (left by an "
                                "interrupted run?); record again with --ground_truth"
                                % (sidecar_path(path), path))
    else:
        return None
    by_key = {t.key(): t for t in truths}
    out = []
    for r in recording.records:
        t = by_key.get((r.kdamond_idx, r.context_idx, r.target_id))
        if t is not None and r.scheme_idx is None:
            t.check(r, path)
            out.append(t)
        else:
            out.append(None)
    return out if any(t is not None for t in out) else None
