"""Traces of real programs for the simulator.

- ``damo record -- CMD``: CMD runs under valgrind's lackey (``--trace-mem=yes``)
  and its trace streams through a pipe into the engine while it runs
  (``LackeyPipeSource``): no trace file, memory bounded by a small queue.
  The process's mappings come from its ``/proc/PID/maps`` (read only), looked
  up when an access hits an address the simulated process has not mapped.
- ``damo record --trace FILE``: a saved lackey trace, plain or gzip
  (``LackeyFileSource``; mappings are inferred from the accesses, 2 MiB at a
  time) or our binary format (``BinaryTraceSource``).
- ``--save-trace FILE`` writes the binary format while recording
  (``BinaryTraceWriter``): the accesses, the mapping changes at the access
  they happened before, and the code mappings for symbolising.

Binary format (little endian): the 8-byte magic ``DAMOTRC1``, then records of
a 20-byte header (type, flags, 2 reserved bytes, item count, raw length,
stored length, CRC-32 of the stored bytes) and a payload, zlib-compressed
when flags bit 0 is set.  Types: ``H`` header (JSON), ``V`` events (JSON list
of [access index, kind, args]), ``A`` access block (see
``damo_engine.traces.encode_accesses``), ``E`` end (JSON, last record).  An
access block with flags bit 1 is stored column by column: four (method,
raw length, stored length) headers, then the columns, each zlib-compressed
(method 1) only where that at least halves it.
"""
import bisect
import collections
import errno
import gzip
import json
import os
import queue
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

from damo import _entry
from damo.errors import DamoError

MAGIC = b"DAMOTRC1"
_REC = struct.Struct("<cBHIIII")
_ZLIB = 1                       # record flags: the payload is zlib-compressed
_COLUMNS = 2                    # an access block stored column by column
_COLUMN = struct.Struct("<BII")     # method (0 raw, 1 zlib), raw length, stored length
_WORTH = 0.5                    # a column is kept compressed below this ratio
FORMAT_VERSION = 2
GRANULE = 2 << 20               # mapping inferred around an unknown address
PAGE = 4096
ADDRESS_TOP = (1 << 64) - PAGE  # no mapping reaches 2^64 (start + size would wrap)
MAX_MAPPING = 16 << 40          # one traced mapping, at most (a process's, in practice)
VALGRIND_HINT = ("install valgrind (Debian/Ubuntu: apt-get install valgrind; "
                 "Fedora: dnf install valgrind)")
DEFAULT_NS_PER_INSTRUCTION = 1.0
_F_SETPIPE_SZ = 1031


# ---------------------------------------------------------------------------
# /proc/PID/maps

MapEntry = collections.namedtuple("MapEntry", "start end perms offset path")


def parse_maps(text):
    """[MapEntry] of /proc/PID/maps text."""
    out = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5:
            continue
        try:
            lo, hi = fields[0].split("-")
            out.append(MapEntry(int(lo, 16), int(hi, 16), fields[1], int(fields[2], 16),
                                fields[5].strip() if len(fields) > 5 else ""))
        except ValueError:
            continue
    return out


def read_proc_maps(pid):
    """The mappings of a live process, or None if it is gone."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return parse_maps(f.read())
    except (OSError, ValueError):
        return None


def _entry_name_anon(e):
    path = e.path
    if not path:
        return "[anon]", True
    if path.startswith("["):
        return path, True
    # private writable file mappings hold copied-on-write (anonymous) pages
    return path, ("w" in e.perms and "p" in e.perms)


# ---------------------------------------------------------------------------
# sources

class TraceSource:
    """What a TraceWorkload reads from: accesses, positional mapping events,
    and mappings for addresses the process has not mapped yet."""

    label = "trace"
    kind = "trace"

    def __init__(self):
        self.workload = None
        self.end_icount = 0
        self._events = collections.deque()      # (index, kind, args), by index
        self._log = []                          # events applied, for the saver
        self.known_maps = []                    # MapEntry, sorted by start
        self._map_starts = []
        self.code_maps = set()                  # (start, end, offset, path)
        self._code_list = []                    # the same, sorted
        self.saver = None
        self.progress = None                    # callable(source) or None
        self._last_tick = 0.0
        self.has_ip = True
        self.started = time.monotonic()

    # -- protocol used by damo_engine.traces.TraceWorkload --
    def attach(self, workload):
        self.workload = workload

    def next_event_index(self):
        return self._events[0][0] if self._events else -1

    def apply_events(self, workload, index):
        while self._events and self._events[0][0] <= index:
            self._apply(workload, self._events.popleft())

    def unmapped(self, workload, addr, index):
        found = self.find_mapping(addr)
        if found is None:
            start = addr // GRANULE * GRANULE
            # nothing maps past the top of the address space (2^64)
            found = (max(start, PAGE) if addr >= PAGE else 0,
                     min(start + GRANULE, ADDRESS_TOP), "[anon]", True)
        start, end, name, anon = found
        start, end = _free_gap(workload.mm, addr, start // PAGE * PAGE,
                               (end + PAGE - 1) // PAGE * PAGE)
        if start >= end:
            return False
        self._apply(workload, (index, "map", [start, end, name, anon]))
        return True

    def consumed(self, batch, base_index, upto):
        if self.saver is not None:
            if self._log:
                self.saver.write_events(self._log)
            self.saver.write_accesses(batch, upto)
        self._log = []

    def fill(self, batch):
        raise NotImplementedError

    # -- helpers --
    def push_event(self, index, kind, args):
        ev = (int(index), kind, args)
        out_of_order = bool(self._events) and self._events[-1][0] > ev[0]
        self._events.append(ev)
        if out_of_order:
            self._events = collections.deque(sorted(self._events, key=lambda e: e[0]))

    def _apply(self, workload, ev):
        index, kind, args = ev
        mm = workload.mm
        if kind == "map":
            start, end, name, anon = args
            start, end = _free_gap(mm, start, start, end)
            if start < end:
                mm.map(start, end - start, name, anon=bool(anon))
        elif kind == "unmap":
            start, end = args
            for vma in mm.vmas:
                if start <= vma.start and vma.end <= end:
                    mm.unmap(vma)
        elif kind == "exec":
            for vma in mm.vmas:
                mm.unmap(vma)
            self.code_maps.clear()
            self._code_list = []
            workload.forget_functions()
        elif kind == "code":
            key = tuple(args)
            if key not in self.code_maps:
                self.code_maps.add(key)
                bisect.insort(self._code_list, key)
        self._log.append(ev)

    def code_mapping(self, ip):
        """(start, end, offset, path) of the code mapping holding ip, from
        the code events applied so far, or None."""
        i = bisect.bisect_right(self._code_list, (ip, float("inf"))) - 1
        if i >= 0 and self._code_list[i][0] <= ip < self._code_list[i][1]:
            return self._code_list[i]
        return None

    def recycle(self, batch):
        pass

    def find_mapping(self, addr):
        """(start, end, name, anon) of the mapping holding addr, if known."""
        i = bisect.bisect_right(self._map_starts, addr) - 1
        if i >= 0 and self.known_maps[i].start <= addr < self.known_maps[i].end:
            e = self.known_maps[i]
            name, anon = _entry_name_anon(e)
            return e.start, e.end, name, anon
        return None

    def learn_maps(self, entries, index):
        """A maps snapshot: remember it for lookups; its code mappings
        become events (for symbols, and for the saved trace)."""
        self.known_maps = sorted(entries, key=lambda e: e.start)
        self._map_starts = [e.start for e in self.known_maps]
        for e in entries:
            if "x" in e.perms and e.path.startswith("/"):
                key = (e.start, e.end, e.offset, e.path)
                if key not in self.code_maps:
                    # code mappings change no memory: they apply at once
                    self._apply(self.workload, (index, "code", list(key)))

    def tick(self):
        """Call the progress callback at most 4 times a second."""
        if self.progress is None:
            return
        now = time.monotonic()
        if now - self._last_tick >= 0.25:
            self._last_tick = now
            self.progress(self)

    def close(self):
        pass

    def describe(self):
        return {"source": self.kind, "label": self.label}


def _free_gap(mm, addr, start, end):
    """The largest part of [start, end) around addr that no VMA of mm holds."""
    for vma in mm.vmas:
        if vma.end <= addr:
            start = max(start, vma.end)
        elif vma.start > addr:
            end = min(end, vma.start)
        else:
            return 0, 0
    return start, end


class _LackeySource(TraceSource):
    """Common part of lackey text sources: buffers and the parser."""

    kind = "lackey"
    CHUNK = 4 << 20
    MAX_LINE = 1 << 16

    def __init__(self, size_hint=None):
        super().__init__()
        from damo_engine.traces import LackeyParser
        self.parser = LackeyParser()
        # a small trace needs no 4 MiB buffer (zeroing it was most of the
        # cost of opening one); any size above MAX_LINE reads correctly
        chunk = self.CHUNK if size_hint is None else \
            max(min(self.CHUNK, size_hint + 1), self.MAX_LINE)
        self.buf = bytearray(chunk + self.MAX_LINE)
        self.pos = 0
        self.len = 0
        self.eof = False

    def _read_into(self, view):
        raise NotImplementedError

    @property
    def instructions(self):
        return self.parser.icount

    @property
    def accesses(self):
        return self.parser.data_lines

    def _bad_line(self):
        return "%s: %s" % (self.label, self.parser.error)

    def fill(self, batch):
        self.tick()
        batch.n = 0
        while True:
            if self.pos < self.len:
                p = self.parser.feed(self.buf, self.pos, self.len, batch)
                if p < 0:
                    raise DamoError(self._bad_line())
                self.pos = p
                if self.parser.exec_pending:
                    self.push_event(self.workload.base_index + batch.n, "exec",
                                    [self.parser.command])
                    self.on_exec()
                    return True
                if batch.n >= batch.capacity:
                    return True
            if self.eof:
                if self.pos < self.len:
                    raise DamoError("%s: truncated: its last line (%d) is incomplete"
                                    % (self.label, self.parser.lines + 1))
                self.end_icount = self.parser.icount
                return batch.n > 0
            rest = self.len - self.pos
            if rest >= self.MAX_LINE:
                raise DamoError("%s: line %d is too long for a lackey trace line"
                                % (self.label, self.parser.lines + 1))
            self.buf[0:rest] = self.buf[self.pos:self.len]
            self.pos, self.len = 0, rest
            k = self._read_into(memoryview(self.buf)[rest:])
            if k == 0:
                self.eof = True
            else:
                self.len += k
            self.tick()

    def on_exec(self):
        pass


class LackeyFileSource(_LackeySource):
    """A saved lackey trace, plain text or gzip."""

    def __init__(self, path):
        self.path = path
        try:
            with open(path, "rb") as f:
                head = f.read(2)
                size = os.fstat(f.fileno()).st_size
            gzipped = head == b"\x1f\x8b"
            self.f = gzip.open(path, "rb") if gzipped else open(path, "rb")
        except OSError as e:
            raise DamoError("%s: %s" % (path, e.strerror or e)) from None
        # gzip's trailer has the size only modulo 2^32: no hint then
        super().__init__(size_hint=None if gzipped else size)
        self.label = path
        self.has_ip = True

    def _read_into(self, view):
        try:
            return self.f.readinto(view)
        except (EOFError, zlib.error, gzip.BadGzipFile) as e:
            raise DamoError("%s: truncated or corrupt gzip data (%s)" % (self.path, e)) from None
        except OSError as e:
            raise DamoError("%s: %s" % (self.path, e.strerror or e)) from None

    def close(self):
        self.f.close()

    def describe(self):
        return {"source": "lackey", "path": os.path.abspath(self.path)}


class LackeyPipeSource(_LackeySource):
    """A command run under valgrind's lackey, its trace read from a pipe by
    a thread into a bounded queue while the simulation consumes it."""

    QUEUE_CHUNKS = 32           # at most 32 MiB of trace in flight
    READ_SIZE = 1 << 20
    REFRESH_S = 0.5

    def __init__(self, argv, *, trace_children=False):
        super().__init__()
        self.argv = list(argv)
        self.label = short_label(argv)
        self.trace_children = trace_children
        self.proc = None
        self.queue = queue.Queue(self.QUEUE_CHUNKS)
        self.thread = None
        self.bytes_read = 0
        self.exit_status = None
        self._pending = b""
        self._last_refresh = 0.0
        self._absent = {}
        self._last_code_read = 0.0
        self.stopped = False            # we ended it (timeout, interruption)
        self.relay = None               # the program's terminal output, see start()

    def start(self):
        valgrind = shutil.which("valgrind")
        if valgrind is None:
            raise DamoError("valgrind not found: `damo record -- CMD` traces CMD under "
                            "valgrind's lackey; " + VALGRIND_HINT)
        r, w = os.pipe()
        try:
            fcntl_setpipe(r, self.READ_SIZE)
            cmd = [valgrind, "--tool=lackey", "--trace-mem=yes", "--log-fd=%d" % w,
                   "--child-silent-after-fork=yes",
                   "--trace-children=%s" % ("yes" if self.trace_children else "no"),
                   "--"] + self.argv
            console = getattr(getattr(self.progress, "status", None), "console", None)
            self.relay = _TerminalRelay.open(console) if console is not None else None
            outs = self.relay.fds() if self.relay is not None else {}
            _entry.blas_threads_restore()   # the program gets the user's environment
            self.proc = subprocess.Popen(cmd, pass_fds=(w,), start_new_session=False, **outs)
        except OSError as e:
            os.close(r)
            os.close(w)
            if self.relay is not None:
                self.relay.close()
            raise DamoError("cannot run valgrind: %s" % (e.strerror or e)) from None
        os.close(w)
        if self.relay is not None:
            self.relay.start()
        self.fd = r
        self.thread = threading.Thread(target=self._reader, name="lackey-reader", daemon=True)
        self.thread.start()
        self.started = time.monotonic()

    def _reader(self):
        fd = self.fd
        try:
            while True:
                try:
                    data = os.read(fd, self.READ_SIZE)
                except OSError as e:
                    if e.errno == errno.EINTR:
                        continue
                    data = b""
                if not data:
                    break
                self.queue.put(data)
                if len(data) < self.READ_SIZE // 2:
                    # let the pipe fill: a writer that never wakes a reader
                    # is much faster (lackey writes one line per syscall)
                    time.sleep(0.004)
        finally:
            os.close(fd)
            self.queue.put(None)

    def _read_into(self, view):
        n = 0
        cap = len(view)
        if self._pending:
            take = self._pending[:cap]
            view[:len(take)] = take
            self._pending = self._pending[len(take):]
            n = len(take)
        block = n == 0
        while n < cap:
            try:
                chunk = self.queue.get(timeout=0.2) if block else self.queue.get_nowait()
            except queue.Empty:
                if block:
                    self.tick()
                    continue
                break
            if chunk is None:
                self.queue.put(None)        # stay at EOF
                if n == 0:
                    self._finish_process()
                break
            block = False
            take = chunk[:cap - n]
            view[n:n + len(take)] = take
            n += len(take)
            self.bytes_read += len(chunk)
            if len(take) < len(chunk):
                self._pending = chunk[len(take):]
                break
        self._refresh_maps()
        return n

    def _finish_process(self):
        if self.proc is not None and self.exit_status is None:
            self.exit_status = self.proc.wait()
        if self.relay is not None:
            self.relay.finish()

    def _refresh_maps(self, force=False):
        now = time.monotonic()
        if not force and now - self._last_refresh < self.REFRESH_S:
            return
        if self.proc is None or self.proc.poll() is not None or self.workload is None:
            return
        entries = read_proc_maps(self.proc.pid)
        if entries is None:
            return
        self._last_refresh = now
        index = self.workload.base_index + self.workload.pos
        self.learn_maps(entries, index)
        # mappings gone for two refreshes in a row are unmapped (the trace we
        # read lags the process a little, so not at the first sight)
        live = [(e.start, e.end) for e in entries]
        for vma in self.workload.mm.vmas:
            if any(s < vma.end and vma.start < e for s, e in live):
                self._absent.pop(vma.start, None)
                continue
            if self._absent.get(vma.start) is not None and now - self._absent[vma.start] >= 1:
                self.push_event(index, "unmap", [vma.start, vma.end])
                self._absent.pop(vma.start, None)
            else:
                self._absent.setdefault(vma.start, now)

    def learn_code(self, ip):
        """An instruction outside the known code: read the maps again (a
        library loaded since), at most 20 times a second."""
        now = time.monotonic()
        if now - self._last_code_read < 0.05:
            return
        self._last_code_read = now
        if self.proc is not None and self.proc.poll() is None and self.workload is not None:
            entries = read_proc_maps(self.proc.pid)
            if entries is not None:
                self.learn_maps(entries, self.workload.base_index + self.workload.pos)

    def find_mapping(self, addr):
        if self.proc is not None and self.proc.poll() is None and self.workload is not None:
            entries = read_proc_maps(self.proc.pid)
            if entries is not None:
                self.learn_maps(entries, self.workload.base_index + self.workload.pos)
        return super().find_mapping(addr)

    def _bad_line(self):
        # valgrind's own complaints (bad command, no tool...) come this way
        line = bytes(self.buf[self.pos:self.len]).split(b"\n", 1)[0]
        text = line.decode("utf-8", "replace").strip()
        if text.startswith("valgrind:"):
            return "%s (while starting %s)" % (text, self.label)
        return "%s: %s" % (self.label, self.parser.error)

    def close(self):
        """Stop the traced program if it still runs (it is our child)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.stopped = True
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.thread is not None:
            # unblock the reader if it waits on a full queue
            while self.thread.is_alive():
                try:
                    self.queue.get(timeout=0.05)
                except queue.Empty:
                    pass
        if self.relay is not None:
            self.relay.finish()
        if self.proc is not None and self.exit_status is None:
            self.exit_status = self.proc.returncode

    def describe(self):
        return {"source": "lackey", "command": self.argv}


def fcntl_setpipe(fd, size):
    try:
        import fcntl
        fcntl.fcntl(fd, _F_SETPIPE_SZ, size)
    except (OSError, ImportError):
        pass                    # a smaller pipe only costs speed


class _Records:
    """What the reader made of the records read so far; get() reads more
    until there is something.  (A reader thread measured no faster: the
    simulation holds the GIL that its Python steps need.)"""

    def __init__(self, reader):
        self.items = collections.deque()
        self.reader = reader

    def put(self, item):
        self.items.append(item)

    def get(self):
        while not self.items:
            self.reader()
        return self.items.popleft()


class BinaryTraceSource(TraceSource):
    """Our binary format."""

    kind = "binary"

    def __init__(self, path):
        super().__init__()
        self.path = self.label = path
        try:
            self.f = open(path, "rb")
        except OSError as e:
            raise DamoError("%s: %s" % (path, e.strerror or e)) from None
        if self.f.read(len(MAGIC)) != MAGIC:
            self.f.close()
            raise DamoError("%s: not a damo-sim binary trace" % path)
        self.offset = len(MAGIC)
        self.header = {}
        self.ended = False
        self.accesses = 0
        kind, _, payload = self._record()
        if kind != b"H":
            raise DamoError("%s: corrupt trace: it does not start with a header" % path)
        try:
            self.header = json.loads(payload, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):
            raise DamoError("%s: corrupt trace: bad header" % path) from None
        if not isinstance(self.header, dict):
            raise DamoError("%s: corrupt trace: bad header" % path)
        if self.header.get("version") != FORMAT_VERSION:
            raise DamoError("%s: unsupported trace format version %r"
                            % (path, self.header.get("version")))
        self.has_ip = bool(self.header.get("has_ip", True))
        from damo_engine.traces import AccessBatch
        self._last_icount = 0
        self.queue = _Records(self._reader)
        self.free = [AccessBatch(BinaryTraceWriter.MAX_BLOCK) for _ in range(2)]
        self.exit_status = None

    @property
    def instructions(self):
        return self.workload.icount if self.workload is not None else 0

    def _record(self):
        at = self.offset
        head = self.f.read(_REC.size)
        if len(head) == 0:
            raise DamoError("%s: truncated trace (it ends before its end record)" % self.path)
        if len(head) < _REC.size:
            raise DamoError("%s: truncated trace (record at byte %d)" % (self.path, at))
        kind, flags, _, n, raw_len, stored_len, crc = _REC.unpack(head)
        if raw_len > MAX_RECORD or stored_len > MAX_RECORD:
            raise DamoError("%s: corrupt trace (record at byte %d claims %d bytes)"
                            % (self.path, at, max(raw_len, stored_len)))
        payload = self.f.read(stored_len)
        if len(payload) < stored_len:
            raise DamoError("%s: truncated trace (record at byte %d)" % (self.path, at))
        if zlib.crc32(payload) != crc:
            raise DamoError("%s: corrupt trace (record at byte %d fails its checksum)"
                            % (self.path, at))
        try:
            if flags & _COLUMNS:
                payload = _join_columns(payload)
            elif flags & _ZLIB:
                payload = _inflate(payload, raw_len)
        except (zlib.error, struct.error, ValueError):
            raise DamoError("%s: corrupt trace (record at byte %d)" % (self.path, at)) \
                from None
        if len(payload) != raw_len:
            raise DamoError("%s: corrupt trace (record at byte %d)" % (self.path, at))
        self.offset = at + _REC.size + stored_len
        return kind, n, payload

    def fill(self, batch):
        self.tick()
        if self.ended:
            return False
        while True:
            kind, value = self.queue.get()
            if kind == "batch":
                self.accesses += value.n
                return value                    # batch comes back via recycle()
            if kind == "events":
                for index, ekind, args in value:
                    self.push_event(index, ekind, args)
            elif kind == "end":
                self.end_icount, self.exit_status = value
                self.ended = True
                return False
            elif kind == "error":
                self.ended = True
                raise value

    def recycle(self, batch):
        batch.n = 0
        self.free.append(batch)

    def _check_icount(self, icount, at):
        """Instruction counts never go back, nor jump by more than
        MAX_ICOUNT_GAP (a corrupt count would ask for hours of compute)."""
        from damo_engine.traces import MAX_ICOUNT_GAP
        if not 0 <= icount - self._last_icount <= MAX_ICOUNT_GAP:
            raise DamoError("%s: corrupt trace (record at byte %d: the instruction count "
                            "goes from %d to %d)" % (self.path, at, self._last_icount, icount))

    def _reader(self):
        """Read, check, decompress and decode the next record."""
        from damo_engine.traces import decode_accesses
        try:
            if not self.ended:
                at = self.offset
                kind, n, payload = self._record()
                if kind == b"A":
                    batch = self.free.pop()
                    try:
                        decode_accesses(payload, n, batch)
                    except ValueError as e:
                        raise DamoError("%s: corrupt trace (record at byte %d: %s)"
                                        % (self.path, at, e)) from None
                    first, last = batch.icount_range()
                    self._check_icount(first, at)
                    self._last_icount = last
                    self.queue.put(("batch", batch))
                elif kind == b"V":
                    events = _check_events(payload, self.path, at)
                    self.queue.put(("events", events))
                elif kind == b"E":
                    try:
                        end = json.loads(payload, parse_constant=_refuse_constant)
                        value = (int(end["end_icount"]), end.get("exit_status"))
                    except (ValueError, KeyError, TypeError, OverflowError, AttributeError):
                        raise DamoError("%s: corrupt trace (bad end record)" % self.path) \
                            from None
                    self._check_icount(value[0], at)
                    self.queue.put(("end", value))
                else:
                    raise DamoError("%s: corrupt trace (unknown record %r at byte %d)"
                                    % (self.path, kind, at))
        except DamoError as e:
            self.queue.put(("error", e))
        except OSError as e:
            self.queue.put(("error", DamoError("%s: %s" % (self.path, e.strerror or e))))

    def close(self):
        self.f.close()

    def describe(self):
        out = {"source": "binary", "path": os.path.abspath(self.path)}
        if "command" in self.header:
            out["command"] = self.header["command"]
        return out


def _refuse_constant(name):
    raise ValueError("%s is not a JSON number" % name)


_EVENT_ARGS = {"map": 4, "unmap": 2, "exec": None, "code": 4}


def _check_events(payload, path, at):
    """The mapping events of a V record, checked: known kinds, page-aligned
    addresses within the address space, start < end."""
    def bad(why):
        return DamoError("%s: corrupt trace (events at byte %d: %s)" % (path, at, why))
    try:
        raw = json.loads(payload, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise bad("not JSON") from None
    if not isinstance(raw, list):
        raise bad("not a list")
    events = []
    for ev in raw:
        if not (isinstance(ev, list) and len(ev) == 3 and type(ev[0]) is int and
                0 <= ev[0] < 1 << 63 and isinstance(ev[1], str) and ev[1] in _EVENT_ARGS and
                isinstance(ev[2], list)):
            raise bad("an event is not [index, kind, args]")
        index, kind, args = ev
        nargs = _EVENT_ARGS[kind]
        if nargs is not None:
            if len(args) != nargs or not all(type(a) is int for a in args[:2]) or \
                    not 0 <= args[0] < args[1] < 1 << 64:
                raise bad("%s event with bad addresses %r" % (kind, args[:2]))
            if kind == "map" and (not isinstance(args[2], str) or args[0] % PAGE or
                                  args[1] % PAGE):
                raise bad("map event %r" % (args,))
            if kind == "map" and (args[1] - args[0] > MAX_MAPPING or args[1] > ADDRESS_TOP):
                # its page tables alone would not fit the host (fuzzing found 2^63)
                raise bad("map event of %d bytes at %#x" % (args[1] - args[0], args[0]))
            if kind == "code" and not (type(args[2]) is int and 0 <= args[2] < 1 << 64 and
                                       isinstance(args[3], str)):
                raise bad("code event %r" % (args,))
        events.append((index, kind, list(args)))
    return events


def open_trace(path):
    """The source for a saved trace: our binary format, or lackey text
    (plain or gzip)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as e:
        raise DamoError("%s: %s" % (path, e.strerror or e)) from None
    if not head:
        raise DamoError("%s: empty file, not a trace" % path)
    if head.startswith(MAGIC):
        return BinaryTraceSource(path)
    if head.startswith(b"\x1f\x8b"):
        return LackeyFileSource(path)
    first = head.lstrip(b"\n")
    if first[:2] == b"==" or first[:3] == b"I  " or first[:3] in (b" L ", b" S ", b" M "):
        return LackeyFileSource(path)
    raise DamoError("%s: not a trace: neither lackey --trace-mem=yes text (plain or gzip) "
                    "nor a damo-sim binary trace" % path)


# ---------------------------------------------------------------------------
# writing the binary format

def _split_columns(raw):
    """An access block's payload, each of its four columns zlib-compressed
    only where that pays (addresses of random accesses hardly compress and
    would cost most of the decoding time)."""
    lens = struct.unpack_from("<4I", raw)
    heads, bodies = [], []
    at = 16
    for n in lens:
        col = raw[at:at + n]
        at += n
        packed = zlib.compress(col, 1) if n >= 64 else col
        if len(packed) < _WORTH * n:
            heads.append(_COLUMN.pack(1, n, len(packed)))
            bodies.append(packed)
        else:
            heads.append(_COLUMN.pack(0, n, n))
            bodies.append(col)
    return b"".join(heads + bodies)


MAX_RECORD = 64 << 20               # raw bytes of one record, at most


def _inflate(data, raw_len):
    """zlib-inflate ``data``, at most raw_len + 1 bytes of it."""
    d = zlib.decompressobj()
    out = d.decompress(data, raw_len + 1)
    return out


def _join_columns(stored):
    """The payload _split_columns stored."""
    heads = [_COLUMN.unpack_from(stored, i * _COLUMN.size) for i in range(4)]
    at = 4 * _COLUMN.size
    parts = [struct.pack("<4I", *(raw for _, raw, _ in heads))]
    for method, raw, size in heads:
        col = stored[at:at + size]
        if len(col) != size:
            raise ValueError("column overruns its block")
        at += size
        # never inflate past what the column says it holds (a zip bomb stops here)
        col = _inflate(col, raw) if method == 1 else col
        if len(col) != raw:
            raise ValueError("column length")
        parts.append(col)
    if at != len(stored):
        raise ValueError("block length")
    return b"".join(parts)


class BinaryTraceWriter:
    """Writes a trace to a temporary file beside ``path``; ``commit`` renames
    it into place, ``abort`` removes it."""

    MAX_BLOCK = 1 << 16

    def __init__(self, path, header):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path),
                                            suffix=".tmp", dir=directory)
        except OSError as e:
            raise DamoError("%s: %s" % (path, e.strerror or e)) from None
        self.f = os.fdopen(fd, "wb")
        self.f.write(MAGIC)
        header = dict(header, version=FORMAT_VERSION, format="damo-sim trace")
        self._record(b"H", 0, json.dumps(header).encode())
        self.accesses = 0

    def _record(self, kind, n, raw, compress=True, columns=False):
        if columns:
            stored, flags = _split_columns(raw), _COLUMNS
        elif compress:
            stored, flags = zlib.compress(raw, 1), _ZLIB
        else:
            stored, flags = raw, 0
        self.f.write(_REC.pack(kind, flags, 0, n, len(raw), len(stored), zlib.crc32(stored)))
        self.f.write(stored)

    def write_events(self, events):
        self._record(b"V", len(events), json.dumps(
            [[int(i), k, list(a)] for i, k, a in events]).encode())

    def write_accesses(self, batch, upto=None):
        from damo_engine.traces import encode_accesses
        n = batch.n if upto is None else upto
        for lo in range(0, n, self.MAX_BLOCK):
            hi = min(n, lo + self.MAX_BLOCK)
            self._record(b"A", hi - lo, encode_accesses(batch, lo, hi), columns=True)
        self.accesses += n

    def commit(self, end_icount, exit_status=None):
        self._record(b"E", 0, json.dumps({"end_icount": int(end_icount),
                                          "exit_status": exit_status}).encode())
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.tmp, self.path)

    def abort(self):
        try:
            self.f.close()
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


# ---------------------------------------------------------------------------
# commands to trace

def _shebang(path):
    try:
        with open(path, "rb") as f:
            line = f.readline(256)
    except OSError:
        return None
    if not line.startswith(b"#!"):
        return None
    words = line[2:].decode("utf-8", "replace").split()
    return words or None


def _pyenv_real(path):
    """The program a pyenv shim runs, or None."""
    parts = os.path.abspath(path).split(os.sep)
    if "shims" not in parts or not any(p.endswith("pyenv") for p in parts):
        return None
    pyenv = shutil.which("pyenv") or os.path.join(
        os.sep.join(parts[:parts.index("shims")]), "bin", "pyenv")
    try:
        done = subprocess.run([pyenv, "which", os.path.basename(path)], capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    real = done.stdout.strip()
    return real if done.returncode == 0 and os.path.isfile(real) else None


def resolve_command(argv):
    """(argv, trace_children) to run under valgrind so that the traced
    process is the program itself: scripts run their interpreter (valgrind
    does not follow exec), ``/usr/bin/env NAME`` and pyenv shims are
    resolved.  If that fails, the exec chain is traced with
    --trace-children=yes (slower)."""
    from damo.workloads.symbols import is_elf

    if not argv:
        raise DamoError("no command given after --", exit_code=2)
    prog = argv[0]
    path = prog if os.sep in prog else shutil.which(prog)
    if path is None or not os.path.exists(path):
        raise DamoError("%s: command not found" % prog, exit_code=2)
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise DamoError("%s: not an executable program" % prog, exit_code=2)
    argv = [path] + list(argv[1:])
    for _ in range(4):
        if is_elf(argv[0]):
            return argv, False
        real = _pyenv_real(argv[0])
        if real is not None:
            argv = [real] + argv[1:]
            continue
        words = _shebang(argv[0])
        if words is None:
            break
        interp = words[0]
        if os.path.basename(interp) == "env" and len(words) > 1:
            found = shutil.which(words[1])
            if found is None:
                break
            argv = [found] + words[2:] + argv
        else:
            argv = words + argv
    return argv, True


# ---------------------------------------------------------------------------
# progress

class _TerminalRelay:
    """The traced program's output kept off the spinner's line.

    Its stdout and stderr that are our terminal go to a pseudo-terminal
    instead (so it still sees a terminal and stays line-buffered); whole
    lines read from it are printed above the spinner, a partial one (a
    prompt) after 0.3 s of quiet.  Output redirected to a file or a pipe
    stays the program's own."""

    QUIET_S = 0.3

    def __init__(self, console, master, slave, targets):
        self.console = console
        self.master, self.slave = master, slave
        self.targets = targets          # the program's fds that go to the pty
        self.thread = None

    @classmethod
    def open(cls, console):
        targets = [fd for fd in (1, 2) if _isatty(fd)]
        if not targets:
            return None
        import pty
        master, slave = pty.openpty()
        try:
            import fcntl
            import termios
            size = fcntl.ioctl(targets[0], termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
        except OSError:
            pass
        return cls(console, master, slave, targets)

    def fds(self):
        return {("stdout" if fd == 1 else "stderr"): self.slave for fd in self.targets}

    def start(self):
        os.close(self.slave)            # the program holds it now
        self.slave = None
        self.thread = threading.Thread(target=self._pump, name="traced-output", daemon=True)
        self.thread.start()

    def _pump(self):
        import select
        pending = b""
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], self.QUIET_S)
                if not ready:
                    if pending:             # a prompt without its newline
                        self._print(pending)
                        pending = b""
                    continue
                try:
                    data = os.read(self.master, 65536)
                except OSError:             # EIO: every writer has closed it
                    break
                if not data:
                    break
                *lines, pending = (pending + data).split(b"\n")
                for line in lines:
                    self._print(line)
        finally:
            if pending:
                self._print(pending)

    def _print(self, raw):
        from rich.text import Text
        text = raw.decode("utf-8", "replace").rstrip("\r")
        try:
            self.console.print(Text.from_ansi(text), soft_wrap=True, highlight=False)
        except Exception:               # never let the program's output stop a recording
            pass

    def finish(self):
        """After the program exited: print what it left, then close."""
        if self.thread is not None:
            self.thread.join(2.0)
            self.thread = None
        self.close()

    def close(self):
        for fd in (self.slave, self.master):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.slave = self.master = None


def _isatty(fd):
    try:
        return os.isatty(fd)
    except OSError:
        return False


class Progress:
    """A one-line indicator that the traced program is alive: a spinner on
    a terminal, a line every 10 s otherwise."""

    def __init__(self, label, enabled=True, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.status = None
        self.last_line = time.monotonic()
        self.start = time.monotonic()

    def __enter__(self):
        if self.tty:
            from rich.console import Console
            self.status = Console(file=self.stream).status(self.label)
            self.status.__enter__()
        return self

    def __call__(self, source):
        if not self.enabled:
            return
        w = source.workload
        wall = time.monotonic() - self.start
        instr = getattr(source, "instructions", 0) or (w.icount if w is not None else 0)
        accesses = w.nr_accesses if w is not None else 0
        sim_ms = (w.clock_ns / 1e6) if w is not None else 0
        text = "%s: %s instructions, %s accesses, %.1f simulated ms, %.0f s" % (
            self.label, _si(instr), _si(accesses), sim_ms, wall)
        if self.status is not None:
            self.status.update(text)
        elif time.monotonic() - self.last_line >= 10:
            self.last_line = time.monotonic()
            print(text, file=self.stream, flush=True)

    def __exit__(self, *exc):
        if self.status is not None:
            self.status.__exit__(*exc)
        return False


def short_label(argv, width=60):
    """A one-line name for a command."""
    import shlex
    text = " ".join(shlex.quote(a) for a in argv).replace("\n", "\\n")
    return text if len(text) <= width else text[:width - 3] + "..."


def _si(n):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return "%.1f %s" % (n / div, unit)
    return "%d" % n
