"""perf.data files of DAMON's tracepoints, as ``perf record -e damon:...`` writes
them (damo's ``perf_data`` record format), made from a recording.

The file is perf's on-disk format (tools/perf/Documentation/perf.data-file-
format.txt): a header, one perf_event_attr per tracepoint (type
PERF_TYPE_TRACEPOINT, config = the event's ID), the data section, and the
HEADER_TRACING_DATA feature holding the ftrace descriptions of the events
(their ``format`` files, as the kernel exports them for
include/trace/events/damon.h), which is how ``perf script`` decodes and
prints a sample's raw data.  Each region of a snapshot is one
``damon:damon_aggregated`` sample (``damon:damos_before_apply`` for the
regions a scheme tried), at the snapshot's end time, from a kdamond thread
named ``kdamond.<idx>``; a snapshot with its own sampling interval is
preceded by a ``damon:damon_monitor_intervals_tune`` sample.

Reading it back needs perf (``perf script``), as it does for damo.
"""
import os
import struct

import numpy as np

from damo import fileutil
from damo.errors import DamoError
from damo.records.model import AGE_UNKNOWN

PERF_TYPE_TRACEPOINT = 2
PERF_RECORD_COMM = 3
PERF_RECORD_SAMPLE = 9
PERF_RECORD_FINISHED_ROUND = 68
HEADER_TRACING_DATA = 1

SAMPLE_TID, SAMPLE_TIME, SAMPLE_CPU = 1 << 1, 1 << 2, 1 << 7
SAMPLE_PERIOD, SAMPLE_RAW, SAMPLE_IDENTIFIER = 1 << 8, 1 << 10, 1 << 16
SAMPLE_TYPE = (SAMPLE_IDENTIFIER | SAMPLE_TID | SAMPLE_TIME | SAMPLE_CPU | SAMPLE_PERIOD
               | SAMPLE_RAW)
ATTR_SIZE = 128                 # PERF_ATTR_SIZE_VER7
ATTR_FLAG_SAMPLE_ID_ALL = 1 << 18
KDAMOND_PID_BASE = 4000         # pid of kdamond.<i>: 4000 + i
PAGE_SIZE = 4096

_COMMON = ("\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
           "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
           "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
           "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n")


class _Event:
    """A DAMON tracepoint: its fields (name, C type, struct format) and print format."""

    def __init__(self, id, name, fields, print_fmt):
        self.id = id
        self.name = name
        self.fields = fields
        offset, lines, layout = 8, [], "<HBBi"
        for fname, ctype, code in fields:
            size = struct.calcsize(code)
            pad = -offset % size
            if pad:
                layout += "%dx" % pad
                offset += pad
            lines.append("\tfield:%s %s;\toffset:%d;\tsize:%d;\tsigned:0;\n"
                         % (ctype, fname, offset, size))
            layout += code
            offset += size
        layout += "%dx" % (-offset % 8)
        self.struct = struct.Struct(layout)
        self.format = ("name: %s\nID: %d\nformat:\n%s%s\nprint fmt: %s\n"
                       % (name, id, _COMMON, "".join(lines), print_fmt)).encode()


EVENTS = {
    "damon_aggregated": _Event(1, "damon_aggregated", [
        ("target_id", "unsigned long", "Q"), ("nr_regions", "unsigned int", "I"),
        ("start", "unsigned long", "Q"), ("end", "unsigned long", "Q"),
        ("nr_accesses", "unsigned int", "I"), ("age", "unsigned int", "I")],
        '"target_id=%lu nr_regions=%u %lu-%lu: %u %u", REC->target_id, REC->nr_regions, '
        'REC->start, REC->end, REC->nr_accesses, REC->age'),
    "damon_monitor_intervals_tune": _Event(2, "damon_monitor_intervals_tune", [
        ("sample_us", "unsigned long", "Q")], '"sample_us=%lu", REC->sample_us'),
    "damos_before_apply": _Event(3, "damos_before_apply", [
        ("context_idx", "unsigned int", "I"), ("scheme_idx", "unsigned int", "I"),
        ("target_idx", "unsigned long", "Q"), ("start", "unsigned long", "Q"),
        ("end", "unsigned long", "Q"), ("nr_accesses", "unsigned int", "I"),
        ("age", "unsigned int", "I"), ("nr_regions", "unsigned int", "I")],
        '"ctx_idx=%u scheme_idx=%u target_idx=%lu nr_regions=%u %lu-%lu: %u %u", '
        'REC->context_idx, REC->scheme_idx, REC->target_idx, REC->nr_regions, REC->start, '
        'REC->end, REC->nr_accesses, REC->age'),
}

# the ring buffer's page and event headers, as tracefs describes them
_HEADER_PAGE = (b"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
                b"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
                b"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
                b"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:1;\n")
_HEADER_EVENT = (b"# compressed entry header\n\ttype_len    :    5 bits\n"
                 b"\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n"
                 b"\tpadding     : type == 29\n\ttime_extend : type == 30\n"
                 b"\ttime_stamp : type == 31\n\tdata max type_len  == 28\n")


def tracing_data(events):
    """perf's HEADER_TRACING_DATA payload (trace-cmd's tracing.dat layout,
    version 0.6) describing ``events``."""
    parts = [b"\x17\x08Dtracing0.6\0", b"\0", b"\x08", struct.pack("<I", PAGE_SIZE),
             b"header_page\0", struct.pack("<Q", len(_HEADER_PAGE)), _HEADER_PAGE,
             b"header_event\0", struct.pack("<Q", len(_HEADER_EVENT)), _HEADER_EVENT,
             struct.pack("<I", 0),                       # no ftrace formats
             struct.pack("<I", 1), b"damon\0", struct.pack("<I", len(events))]
    for event in events:
        parts += [struct.pack("<Q", len(event.format)), event.format]
    parts += [struct.pack("<I", 0),                      # kallsyms
              struct.pack("<I", 0),                      # ftrace_printk
              struct.pack("<Q", 0)]                      # saved cmdlines
    return b"".join(parts)


def _attr(event):
    attr = bytearray(ATTR_SIZE)
    struct.pack_into("<IIQQQQQ", attr, 0, PERF_TYPE_TRACEPOINT, ATTR_SIZE, event.id, 1,
                     SAMPLE_TYPE, 0, ATTR_FLAG_SAMPLE_ID_ALL)
    struct.pack_into("<I", attr, 48, 1)    # wakeup_events
    return bytes(attr)


class _Samples:
    """The data section: comm records, then samples in time order."""

    def __init__(self, ids):
        self.ids = ids          # event name -> sample id
        self.items = []         # (time, seq, bytes)

    def sample_id(self, pid, time_ns, event_name):
        # sample_id_all trailer of non-sample records: tid, time, cpu, identifier
        return struct.pack("<IIQIIQ", pid, pid, time_ns, 0, 0, self.ids[event_name])

    def comm(self, pid, comm, time_ns):
        name = comm.encode() + b"\0"
        name += b"\0" * (-len(name) % 8)
        body = struct.pack("<II", pid, pid) + name + self.sample_id(
            pid, time_ns, "damon_aggregated")
        self.items.append((time_ns, len(self.items),
                           struct.pack("<IHH", PERF_RECORD_COMM, 0, 8 + len(body)) + body))

    def sample(self, event_name, pid, time_ns, raw):
        raw_size = len(raw) + (-(len(raw) + 4) % 8)
        raw = raw + b"\0" * (raw_size - len(raw))
        body = struct.pack("<QIIQIIQI", self.ids[event_name], pid, pid, time_ns, 0, 0, 1,
                           raw_size) + raw
        self.items.append((time_ns, len(self.items),
                           struct.pack("<IHH", PERF_RECORD_SAMPLE, 0, 8 + len(body)) + body))

    def data(self, sort=True):
        if sort:
            self.items.sort(key=lambda x: (x[0], x[1]))
        return b"".join(item[2] for item in self.items)


def _entry(event, pid, **values):
    return event.struct.pack(event.id, 0, 0, pid, *(values[f[0]] for f in event.fields))


def _u32(value):
    """An unsigned int field (negative values, which DAMON never makes, as 0)."""
    return min(max(int(value), 0), 0xffffffff)


def build(records, time_sorted=True):
    """The bytes of a perf.data file of ``records`` (samples in time order, as
    perf record writes them from one CPU; ``time_sorted=False`` leaves them
    record by record, as several CPUs' buffers may)."""
    events = [EVENTS["damon_aggregated"], EVENTS["damon_monitor_intervals_tune"],
              EVENTS["damos_before_apply"]]
    ids = {e.name: i + 1 for i, e in enumerate(events)}
    samples = _Samples(ids)
    kdamonds = sorted({r.kdamond_idx for r in records}) or [0]
    first_ns = min([int(r.end_ns[0]) for r in records if r.nr_snapshots] or [0])
    for k in kdamonds:
        samples.comm(KDAMOND_PID_BASE + k, "kdamond.%d" % k, max(first_ns - 1, 0))
    agg, tune, before = (EVENTS[n] for n in ("damon_aggregated",
                                             "damon_monitor_intervals_tune",
                                             "damos_before_apply"))
    for record in records:
        pid = KDAMOND_PID_BASE + record.kdamond_idx
        end_ns = record.end_ns.tolist()
        # no fake trailing snapshot (as damo's perf_script text has): a kernel's
        # trace has none, and its -1 fields would read back as 2^32 - 1
        for sidx in range(record.nr_snapshots):
            t = end_ns[sidx]
            sl = record.snapshot_slice(sidx)
            regions = list(zip(record.starts[sl].tolist(), record.ends[sl].tolist(),
                               record.nr_accesses[sl].tolist(), record.ages[sl].tolist()))
            if record.sample_interval_us is not None and \
                    not np.isnan(record.sample_interval_us[sidx]):
                samples.sample("damon_monitor_intervals_tune", pid, t, _entry(
                    tune, pid, sample_us=int(record.sample_interval_us[sidx])))
            n = len(regions)
            for start, end, nr_accesses, age in regions:
                age = 0 if age == AGE_UNKNOWN else age
                if record.scheme_idx is None:
                    raw = _entry(agg, pid, target_id=int(record.target_id or 0) &
                                 0xffffffffffffffff, nr_regions=n, start=start, end=end,
                                 nr_accesses=_u32(nr_accesses),
                                 age=_u32(age))
                    samples.sample("damon_aggregated", pid, t, raw)
                else:
                    raw = _entry(before, pid, context_idx=record.context_idx,
                                 scheme_idx=record.scheme_idx,
                                 target_idx=int(record.target_id or 0), start=start, end=end,
                                 nr_accesses=_u32(nr_accesses),
                                 age=_u32(age), nr_regions=n)
                    samples.sample("damos_before_apply", pid, t, raw)
    data = samples.data(time_sorted)
    header_size = 104
    attrs_offset = header_size
    attr_entry = ATTR_SIZE + 16
    ids_offset = attrs_offset + attr_entry * len(events)
    data_offset = ids_offset + 8 * len(events)
    feature_offset = data_offset + len(data)
    tdata = tracing_data(events)
    header = struct.pack("<8sQQQQQQQQ", b"PERFILE2", header_size, attr_entry,
                         attrs_offset, attr_entry * len(events), data_offset, len(data), 0, 0)
    features = bytearray(32)
    features[0] |= 1 << HEADER_TRACING_DATA
    parts = [header, bytes(features)]
    for i, event in enumerate(events):
        parts.append(_attr(event))
        parts.append(struct.pack("<QQ", ids_offset + 8 * i, 8))
    parts.append(b"".join(struct.pack("<Q", ids[e.name]) for e in events))
    parts.append(data)
    # the feature section table, then the features
    parts.append(struct.pack("<QQ", feature_offset + 16, len(tdata)))
    parts.append(tdata)
    return b"".join(parts)


def save(records, path, permission=None):
    """Write ``records`` as a perf.data file at ``path`` (atomically)."""
    from damo.records import damo_exact

    path = os.fspath(path)
    mode = damo_exact.default_mode(path) if permission is None else permission
    try:
        content = build(records)
        with fileutil.atomic_output(path, "wb", permission=mode) as f:
            f.write(content)
    except OSError as e:
        raise DamoError("%s: cannot write (%s)" % (path, e.strerror or e)) from None


def perf_path():
    import shutil
    return shutil.which("perf")


def script_text(path):
    """``perf script`` output of a perf.data file (what damo parses), as str.

    Raises DamoError, naming the file, when perf is missing or fails."""
    import subprocess

    perf = perf_path()
    if perf is None:
        raise DamoError("%s: a perf.data file, and perf is not installed to read it "
                        "(install perf, e.g. apt-get install linux-perf)" % path)
    try:
        done = subprocess.run([perf, "script", "--force", "-i", os.fspath(path)],
                              capture_output=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as e:
        raise DamoError("%s: perf script failed (%s)" % (path, e)) from None
    if done.returncode != 0:
        tail = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])
        raise DamoError("%s: perf script failed: %s" % (path, tail[-1]))
    return done.stdout.decode(errors="replace")


# ------------------------------------------------------------------ reading

class Unsupported(Exception):
    """A perf.data layout this reader does not decode (perf script then does)."""


_SAMPLE_FIXED = ((1 << 16, "identifier", 8), (1 << 0, "ip", 8), (SAMPLE_TID, "tid", 8),
                 (SAMPLE_TIME, "time", 8), (1 << 3, "addr", 8), (1 << 6, "id", 8),
                 (1 << 9, "stream_id", 8), (SAMPLE_CPU, "cpu", 8), (SAMPLE_PERIOD, "period", 8))
_SAMPLE_VARIABLE_BEFORE_RAW = (1 << 4) | (1 << 5)      # READ, CALLCHAIN


def _parse_formats(tdata):
    """{event id: (system, name, {field: (offset, size)})} of tracing data."""
    view = memoryview(tdata)
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(tdata):
            raise Unsupported("truncated tracing data")
        out = bytes(view[pos:pos + n])
        pos += n
        return out

    def string():
        nonlocal pos
        end = tdata.find(b"\0", pos)
        if end < 0:
            raise Unsupported("truncated tracing data")
        out = tdata[pos:end].decode(errors="replace")
        pos = end + 1
        return out

    if take(10) != b"\x17\x08Dtracing":
        raise Unsupported("no tracing data magic")
    string()                                    # version
    if take(1) != b"\0":
        raise Unsupported("big-endian tracing data")
    take(1)                                     # long size
    take(4)                                     # page size
    for name in (b"header_page\0", b"header_event\0"):
        if take(len(name)) != name:
            raise Unsupported("no %s" % name)
        take(struct.unpack("<Q", take(8))[0])
    for _ in range(struct.unpack("<I", take(4))[0]):        # ftrace formats
        take(struct.unpack("<Q", take(8))[0])
    events = {}
    for _ in range(struct.unpack("<I", take(4))[0]):        # systems
        system = string()
        for _ in range(struct.unpack("<I", take(4))[0]):
            text = take(struct.unpack("<Q", take(8))[0]).decode(errors="replace")
            name, eid, fields = None, None, {}
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("name:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("ID:"):
                    eid = int(line.split(":", 1)[1])
                elif line.startswith("field:"):
                    parts = dict(p.strip().split(":", 1) for p in line.split(";") if ":" in p)
                    fname = parts["field"].split()[-1].split("[")[0]
                    fields[fname] = (int(parts["offset"]), int(parts["size"]))
            if name is not None and eid is not None:
                events[eid] = (system, name, fields)
    return events


class Trace:
    """The samples of a perf.data file of tracepoint events, decoded with
    numpy, a window of the data section at a time (the file is mapped, and
    each window's pages are let go once decoded): per event, columns of time,
    tid, cpu and the raw fields, in perf script's order (by time, ties in
    file order)."""

    WINDOW = 2 << 20

    def __init__(self, path):
        import mmap
        self.file = open(path, "rb")
        try:
            self.data = mmap.mmap(self.file.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:
            raise Unsupported("an empty file") from None
        data = self.data
        if len(data) < 104 or data[:8] != b"PERFILE2":
            raise Unsupported("not a PERFILE2 file")
        (_, _, attr_entry, attrs_off, attrs_size, data_off, data_size,
         _, _) = struct.unpack_from("<8sQQQQQQQQ", data, 0)
        if attr_entry < 16 + 40 or data_off + data_size > len(data):
            raise Unsupported("a malformed header")
        features = int.from_bytes(data[72:104], "little")
        if not features & (1 << HEADER_TRACING_DATA):
            raise Unsupported("no tracing data")
        # the feature sections follow the data, one per feature bit set, in bit order
        idx = bin(features & ((1 << HEADER_TRACING_DATA) - 1)).count("1")
        t_off, t_size = struct.unpack_from("<QQ", data, data_off + data_size + 16 * idx)
        self.formats = _parse_formats(bytes(data[t_off:t_off + t_size]))
        self.attrs = []         # (sample_type, config, ids)
        for i in range(attrs_size // attr_entry):
            base = attrs_off + i * attr_entry
            ptype, _, config, _, sample_type = struct.unpack_from("<IIQQQ", data, base)
            ids_off, ids_size = struct.unpack_from("<QQ", data, base + attr_entry - 16)
            ids = struct.unpack_from("<%dQ" % (ids_size // 8), data, ids_off)
            if ptype != PERF_TYPE_TRACEPOINT:
                raise Unsupported("a non-tracepoint event")
            self.attrs.append((sample_type, config, ids))
        types = {st for st, _, _ in self.attrs}
        if len(types) != 1:
            raise Unsupported("events of different sample layouts")
        self.sample_type = types.pop()
        if self.sample_type & _SAMPLE_VARIABLE_BEFORE_RAW or not self.sample_type & SAMPLE_RAW:
            raise Unsupported("samples without raw data at a fixed place")
        if len(self.attrs) > 1 and not self.sample_type & ((1 << 16) | (1 << 6)):
            raise Unsupported("several events without sample ids")
        for bit in (SAMPLE_TID, SAMPLE_TIME, SAMPLE_CPU):
            if not self.sample_type & bit:
                raise Unsupported("samples without tid, time or cpu")
        self.where = {}
        pos = 8
        for bit, name, size in _SAMPLE_FIXED:
            if self.sample_type & bit:
                self.where[name] = pos
                pos += size
        self.raw_pos = pos + 4
        self.names = []
        for _, config, _ in self.attrs:
            fmt = self.formats.get(config)
            self.names.append(None if fmt is None else "%s:%s" % (fmt[0], fmt[1]))
        self.id_to_attr = {i: a for a, (_, _, ids) in enumerate(self.attrs) for i in ids}
        self._id_lookup = None      # (sorted sample ids, their attr indexes)
        self._runs = None           # (offsets, their runs of even spacing): _u()'s last
        self.start, self.end = data_off, data_off + data_size
        self.comms = {}
        self.sorted = True
        # the windows' record offsets and sample times, found once: the
        # decoding pass takes them again (1M records: about 20 MB)
        self._windows = None
        windows = []
        last = -1
        for batch in self._scan(times_only=True):
            windows.append(batch[1:])
            times = batch[0]
            if len(times) and (times[0] < last or np.any(times[1:] < times[:-1])):
                self.sorted = False
            if len(times):
                last = int(times[-1])
        self._windows = windows if self.sorted else None     # (batches() sorts them all)

    def close(self):
        self.data.close()
        self.file.close()

    def _release(self, lo, hi):
        """Let the mapped pages of [lo, hi) go (they are file-backed)."""
        import mmap
        lo = lo // mmap.PAGESIZE * mmap.PAGESIZE
        hi = hi // mmap.PAGESIZE * mmap.PAGESIZE
        if hi > lo and hasattr(self.data, "madvise"):
            self.data.madvise(mmap.MADV_DONTNEED, lo, hi - lo)

    def _record_offsets(self, pos, limit):
        """Offsets and types of the records starting in [pos, limit), and where
        the next record starts."""
        header = np.dtype([("type", "<u4"), ("misc", "<u2"), ("size", "<u2")])
        offsets, types = [], []
        end = self.end
        while pos + 8 <= end and pos < limit:
            rtype, _, rsize = struct.unpack_from("<IHH", self.data, pos)
            if rsize < 8:
                raise Unsupported("a record of size %d" % rsize)
            n = min((end - pos) // rsize, max((limit - pos) // rsize, 1))
            run = np.ndarray((n,), dtype=header, buffer=self.data, offset=pos,
                             strides=(rsize,))
            same = (run["size"] == rsize) & (run["type"] == rtype)
            k = max(int(np.argmin(same)) if not same.all() else n, 1)
            offsets.append(pos + rsize * np.arange(k, dtype=np.int64))
            types.append(np.full(k, rtype, dtype=np.uint32))
            pos += rsize * k
        if not offsets:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32), pos
        return np.concatenate(offsets), np.concatenate(types), pos

    def _scan(self, times_only=False):
        """Per window: (times, attr index, tids, cpus, {attr: {field: values,
        "__rows__": rows}}) of its samples, in file order (times_only: its
        times, where it starts and ends, its samples' offsets and times).
        The windows of the first pass are kept for the next.  A window ends
        before the samples of its last timestamp when it has others (so that
        a snapshot's regions, which share one, come in one window, and the
        windows of a recording repeat the same regions)."""
        if self._windows is not None:
            for window_start, pos, offs, times in self._windows:
                yield self._decode(offs, times)
                self._release(window_start, pos)
            return
        pos = self.start
        while pos < self.end:
            window_start = pos
            offsets, types, pos = self._record_offsets(pos, pos + self.WINDOW)
            offs = offsets[types == PERF_RECORD_SAMPLE]
            times = self._u(offs, self.where["time"], 8)
            if pos < self.end and len(times) > 1:
                others = np.flatnonzero(times != times[-1])
                if len(others):
                    cut = int(others[-1]) + 1
                    pos = int(offs[cut])
                    keep = offsets < pos
                    offsets, types = offsets[keep], types[keep]
                    offs, times = offs[:cut], times[:cut]
            for off in offsets[types == PERF_RECORD_COMM].tolist():
                _, tid = struct.unpack_from("<II", self.data, off + 8)
                name_end = self.data.find(b"\0", off + 16)
                self.comms[tid] = self.data[off + 16:name_end].decode(errors="replace")
            if times_only:
                self._release(window_start, pos)
                yield (times, window_start, pos, offs, times)
                continue
            yield self._decode(offs, times)
            self._release(window_start, pos)

    def _attr_of(self, offs):
        if len(self.attrs) == 1:
            return np.zeros(len(offs), dtype=np.int64)
        key = "identifier" if "identifier" in self.where else "id"
        sample_ids = self._u(offs, self.where[key], 8)
        if self._id_lookup is None:
            lookup = np.array(sorted(self.id_to_attr), dtype=np.uint64)
            self._id_lookup = (lookup, np.array([self.id_to_attr[i] for i in lookup.tolist()],
                                                dtype=np.int64))
        lookup, attr_idx = self._id_lookup
        if not len(offs):
            return np.zeros(0, np.int64)
        pos_in = np.minimum(np.searchsorted(lookup, sample_ids), len(lookup) - 1)
        if np.any(lookup[pos_in] != sample_ids):
            raise Unsupported("samples of unknown ids")
        return attr_idx[pos_in]

    def _decode(self, offs, times):
        attr_of = self._attr_of(offs)
        tids = self._u(offs, self.where["tid"] + 4, 4)
        cpus = self._u(offs, self.where["cpu"], 4)
        fields = {}
        for a, (_, config, _) in enumerate(self.attrs):
            fmt = self.formats.get(config)
            mine = np.flatnonzero(attr_of == a)
            if fmt is None or not len(mine):
                continue
            at = offs if len(mine) == len(offs) else offs[mine]
            fields[a] = {fname: self._u(at, self.raw_pos + off, size)
                         for fname, (off, size) in fmt[2].items()
                         if size in (1, 2, 4, 8) and not fname.startswith("common_")}
            fields[a]["__rows__"] = mine
        return times, attr_of, tids, cpus, fields

    def batches(self):
        """Decoded samples in perf script's order, a batch at a time."""
        if self.sorted:
            yield from self._scan()
            return
        # out of time order (several CPUs' buffers): all at once, sorted
        offs = []
        pos = self.start
        while pos < self.end:
            offsets, types, pos = self._record_offsets(pos, pos + self.WINDOW)
            for off in offsets[types == PERF_RECORD_COMM].tolist():
                _, tid = struct.unpack_from("<II", self.data, off + 8)
                name_end = self.data.find(b"\0", off + 16)
                self.comms[tid] = self.data[off + 16:name_end].decode(errors="replace")
            offs.append(offsets[types == PERF_RECORD_SAMPLE])
        offs = np.concatenate(offs) if offs else np.zeros(0, np.int64)
        times = self._u(offs, self.where["time"], 8)
        order = np.argsort(times, kind="stable")
        yield self._decode(offs[order], times[order])

    def _u(self, offsets, pos, size):
        """Little-endian unsigned fields of ``size`` bytes at offsets + pos:
        strided views over runs of evenly spaced records (a recording's
        samples mostly are), a gather elsewhere."""
        dtype = "<u%d" % size
        n = len(offsets)
        if n == 0:
            return np.zeros(0, dtype=dtype)
        if n == 1:
            # a copy: a view would keep the mapping from being closed
            return np.frombuffer(self.data, dtype=dtype, count=1,
                                 offset=int(offsets[0] + pos)).copy()
        runs = self._runs
        if runs is not None and runs[0] is offsets:
            bounds, strides = runs[1], runs[2]
        else:
            steps = np.diff(offsets)
            # run starts: where the spacing changes
            cuts = np.flatnonzero(np.diff(steps) != 0) + 1
            if len(cuts) > n // 64 or np.any(steps <= 0):
                bounds = strides = None
            else:
                # records lo..hi-1 of each run are evenly spaced, steps[lo] apart
                bounds = np.concatenate(([0], cuts, [n])).tolist()
                strides = [int(steps[lo]) if lo < len(steps) else 8 for lo in bounds[:-1]]
            # the fields of one set of records are read one after another
            self._runs = (offsets, bounds, strides)
        if bounds is None:
            return self._gather(offsets, pos, size)
        out = np.empty(n, dtype=dtype)
        for lo, hi, stride in zip(bounds[:-1], bounds[1:], strides):
            out[lo:hi] = np.ndarray((hi - lo,), dtype=dtype, buffer=self.data,
                                    offset=int(offsets[lo] + pos), strides=(stride,))
        return out

    def _gather(self, offsets, pos, size):
        buf = np.frombuffer(self.data, dtype=np.uint8)
        idx = (offsets + pos)[:, None] + np.arange(size)
        return buf[idx].copy().view("<u%d" % size).ravel()
