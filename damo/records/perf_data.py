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

    def data(self):
        self.items.sort(key=lambda x: (x[0], x[1]))
        return b"".join(item[2] for item in self.items)


def _entry(event, pid, **values):
    return event.struct.pack(event.id, 0, 0, pid, *(values[f[0]] for f in event.fields))


def _u32(value):
    """An unsigned int field (negative values, which DAMON never makes, as 0)."""
    return min(max(int(value), 0), 0xffffffff)


def build(records):
    """The bytes of a perf.data file of ``records``."""
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
    data = samples.data()
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
