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

    def __init__(self, **kw):
        for k in self.__slots__:
            setattr(self, k, kw[k])


class _PageState:
    """One target's process between aggregations: its cumulative truth at
    the last one, and each page's age."""

    def __init__(self):
        self.layout = None      # (VMA starts, page counts)
        self.counts = self.samples = None
        self.pg = self.accessed = self.age = None
        self.epoch = 1
        self.fresh = False      # the arrays are a baseline: no interval ended yet

    def update(self, starts, lens, counts, samples):
        """Page numbers, accessed flags, sampling intervals and ages of the
        aggregation interval that ends now, from cumulative page arrays."""
        same = self.layout is not None and np.array_equal(starts, self.layout[0]) and \
            np.array_equal(lens, self.layout[1])
        if same:
            acc = counts != self.counts
            smp = samples - self.samples
            if self.fresh:
                age = np.zeros(len(acc), np.uint32)
            else:
                age = self.age + 1
                np.minimum(age, NEVER - 1, out=age)
                age[acc != self.accessed] = 0
        else:
            # VMAs came or went: match them by start and length
            offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
            acc = counts > 0
            smp = samples.copy()
            age = np.zeros(len(counts), np.uint32)
            if self.layout is not None:
                old = {}
                o_off = np.concatenate([[0], np.cumsum(self.layout[1])]).astype(np.int64)
                for i, (s, n) in enumerate(zip(self.layout[0].tolist(),
                                               self.layout[1].tolist())):
                    old[(s, n)] = int(o_off[i])
                for i, (s, n) in enumerate(zip(starts.tolist(), lens.tolist())):
                    o = old.get((s, n))
                    if o is None:
                        continue
                    a, b = int(offsets[i]), int(offsets[i]) + n
                    acc[a:b] = counts[a:b] != self.counts[o:o + n]
                    smp[a:b] = samples[a:b] - self.samples[o:o + n]
                    was = self.accessed[o:o + n]
                    age[a:b] = np.where(was == acc[a:b], np.minimum(
                        self.age[o:o + n].astype(np.int64) + 1, NEVER - 1), 0)
            first = np.asarray(starts, np.uint64).astype(np.int64) // PAGE
            self.pg = np.repeat(first - offsets[:-1], lens) + \
                np.arange(int(offsets[-1]), dtype=np.int64)
            self.layout = (np.array(starts), np.array(lens))
        if self.fresh and not same:
            age[:] = 0
        self.fresh = False
        self.counts, self.samples = counts, samples
        self.accessed, self.age = acc, age
        return self.pg, acc, smp, age


class TruthCollector:
    """Turns the engine's per-page truth at each snapshot into SnapshotTruth
    (read straight from the process, all VMAs in one array)."""

    def __init__(self, sim):
        self.sim = sim
        sim.ground_truth_snapshots = False
        self.pages = {}         # (kdamond, context, target) -> _PageState
        # what the processes did before monitoring started (their start-up)
        # is no sampling interval's
        self.baseline = {}
        for w in sim.workloads:
            if w.mm is not None and w.mm.track_ground_truth:
                self.baseline[w.mm.pid] = (w.mm.ground_truth_pages(), w.mm.gt_epoch)

    def snapshot(self, snap, target):
        """SnapshotTruth of a Simulation snapshot's TargetSnapshot, or None
        if its process does not track the truth."""
        mm = self.sim.process(target.pid) if target.pid is not None else None
        data = None if mm is None else mm.ground_truth_pages()
        if data is None:
            return None
        key = (snap.kdamond_idx, snap.context_idx, target.target_idx)
        state = self.pages.get(key)
        if state is None:
            state = self.pages[key] = _PageState()
            base = self.baseline.get(target.pid)
            if base is not None:
                state.update(*base[0])
                state.epoch = base[1]
                state.fresh = True
        epoch = mm.gt_epoch
        nr_samples = epoch - state.epoch
        state.epoch = epoch
        pg, acc, smp, age = state.update(*data)
        return reduce(target.starts, target.ends, pg, acc, smp, age, nr_samples)


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


def reduce(starts, ends, pg, acc, smp, age, nr_samples):
    """SnapshotTruth of DAMON regions [starts, ends) from the process's
    pages of the interval: page numbers (sorted), accessed, sampling
    intervals accessed in, ages.

    The pages are cut into runs of equal (sample count, age) that no region
    or piece boundary crosses; everything after that is per run, so that a
    snapshot costs a few passes over its pages."""
    starts = np.asarray(starts, np.uint64).astype(np.int64)
    ends = np.asarray(ends, np.uint64).astype(np.int64)
    n = len(starts)
    npg = len(pg)
    wss = int(np.count_nonzero(acc)) * PAGE
    k = nr_pieces(starts, ends)
    p_start, p_end = pieces(starts, ends, k)
    # page indexes of region and piece boundaries
    plo = np.searchsorted(pg, p_start // PAGE)
    phi = np.searchsorted(pg, -(-p_end // PAGE))
    lo = np.searchsorted(pg, starts // PAGE)
    hi = np.searchsorted(pg, -(-ends // PAGE))
    if npg:
        change = np.flatnonzero((smp[1:] != smp[:-1]) | (age[1:] != age[:-1])
                                | (acc[1:] != acc[:-1]) | (np.diff(pg) != 1)) + 1
    else:
        change = np.zeros(0, np.int64)
    bounds = np.unique(np.concatenate([[0, npg], change, plo, phi, lo, hi]))
    bounds = bounds[bounds <= npg]
    r_first = bounds[:-1]
    r_len = np.diff(bounds)
    keep = r_len > 0
    r_first, r_len = r_first[keep], r_len[keep]
    r_pg = pg[r_first] if npg else np.zeros(0, np.int64)
    r_smp = smp[r_first].astype(np.int64) if npg else np.zeros(0, np.int64)
    r_acc = acc[r_first] if npg else np.zeros(0, bool)
    r_age = age[r_first].astype(np.int64) if npg else np.zeros(0, np.int64)
    # runs inside a region (none crosses a boundary)
    owner = np.searchsorted(starts, r_pg * PAGE, side="right") - 1
    inside = owner >= 0
    inside[inside] = r_pg[inside] * PAGE < ends[owner[inside]]
    owner, r_len, r_smp, r_acc, r_age, r_pg = (
        x[inside] for x in (owner, r_len, r_smp, r_acc, r_age, r_pg))
    region_pages = (ends - starts) // PAGE
    accessed = np.bincount(owner, weights=r_len * r_acc, minlength=n)[:n].astype(np.int64) \
        * PAGE
    sum_smp = np.bincount(owner, weights=r_len * r_smp, minlength=n)[:n]
    mean_nr = np.where(region_pages > 0, sum_smp / np.maximum(region_pages, 1), 0.0)
    mapped = np.bincount(owner, weights=r_len, minlength=n)[:n].astype(np.int64)

    width = _bins(nr_samples)
    nrb = (r_smp // width) * width
    rounded = False
    cells = _cells(owner, nrb, r_age, r_len)
    if len(cells[0]) > CELLS_PER_REGION * max(n, 1):
        rounded = True
        r_age = np.where(r_age > 0, 1 << np.floor(np.log2(np.maximum(r_age, 1))).astype(
            np.int64), 0)
        cells = _cells(owner, nrb, r_age, r_len)
    c_reg, c_nr, c_age, c_pages = cells
    # unmapped pages of each region: unaccessed, never
    unmapped = region_pages - mapped
    has = unmapped > 0
    nh = int(has.sum())
    c_reg = np.concatenate([c_reg, np.flatnonzero(has)])
    c_nr = np.concatenate([c_nr, np.zeros(nh, np.int64)])
    c_age = np.concatenate([c_age, np.full(nh, NEVER, np.int64)])
    c_pages = np.concatenate([c_pages, unmapped[has]])
    order = np.lexsort((c_age, c_nr, c_reg))
    c_reg, c_nr, c_age, c_pages = (x[order] for x in (c_reg, c_nr, c_age, c_pages))
    nr_cells = np.bincount(c_reg, minlength=n)[:n].astype(np.int64)

    # pieces: mean sample count over each piece's pages
    piece = np.searchsorted(p_start, r_pg * PAGE, side="right") - 1
    p_sum = np.bincount(piece, weights=r_len * r_smp, minlength=len(p_start))[:len(p_start)]
    p_pages = np.maximum((p_end - p_start) // PAGE, 1)
    return SnapshotTruth(
        wss=wss, nr_samples=int(nr_samples), nr_bin=width, age_rounded=rounded,
        accessed=accessed, mean_nr=mean_nr.astype(np.float64),
        nr_cells=nr_cells, cell_nr=c_nr.astype(np.uint32),
        cell_age=np.minimum(c_age, NEVER).astype(np.uint32), cell_pages=c_pages.astype(np.int64),
        nr_pieces=k, piece_nr=(p_sum / p_pages).astype(np.float32))


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
        parts = [np.asarray(getattr(t, name), dtype) for t in truths]
        cols[name] = np.concatenate(parts) if parts else np.zeros(0, dtype)
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
    np.savez_compressed(output_set.add(sidecar, "truth", hashed=False), **arrays)


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
