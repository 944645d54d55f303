"""Loading and saving recordings in any of the formats, chosen by content."""
import contextlib
import os
import zlib

from damo import fileutil
from damo.errors import DamoError
from damo.records import json_format
from damo.records.model import FormatError
from damo.records.model import Recording

# native and perf_script are imported where they are read or written: a report
# of a json recording does not pay for them (nor for zlib-ng below, on a small
# file), which kept a 100 x 100 report in more memory than damo 3.4.3 takes.

# Our native format's first bytes (damo.records.native.MAGIC, tested equal).
NATIVE_MAGIC = b"\x89DAMOREC"

OUTPUT_TYPES = ("json_compressed", "json", "perf_script", "native")
# what a writer can also write: perf_data (DAMON's tracepoints as perf record writes
# them; read back through perf script, as damo reads it)
WRITE_TYPES = OUTPUT_TYPES + ("perf_data",)

# Blocks of the file and of the text read at a time: what reading holds
# (a few MB) whatever the size of the recording.
_READ_SIZE = 1 << 18
_CHUNK_SIZE = 1 << 20
# Decompress in a second thread (zlib releases the GIL) above this size.
_THREADED_ABOVE = 4 << 20
# Text blocks of files up to that size: a small report's peak memory is mostly
# the interpreter's and numpy's, and 1 MB blocks added 1.5 MB to it (a 100 x 100
# recording: 32.1 -> 30.5 MB), where big files gain nothing from small blocks;
# 32 KiB rather than 64 KiB blocks took another 40-130 KiB off a 100 x 100
# heatmap's peak (median of 9 runs, four rounds side by side).
_SMALL_CHUNK_SIZE = 1 << 15


def _chunk_size(path):
    return _CHUNK_SIZE if os.path.getsize(path) > _THREADED_ABOVE else _SMALL_CHUNK_SIZE


def sniff(head):
    """The format of a recording whose first bytes are ``head``, or None.

    Like damo's ``file -b`` check, but on content: zlib magic, JSON's first
    character, plain text; plus our native format's magic.
    """
    if head.startswith(NATIVE_MAGIC):
        return "native"
    if head.startswith(b"PERFILE2"):
        return "perf_data"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return "json_compressed"
    stripped = head.lstrip()
    if stripped[:1] in (b"[", b"{"):
        return "json"
    if stripped and b"\0" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            # a multi-byte character cut at the end of the sniffed bytes
            if e.start < len(head) - 4:
                return None
        return "perf_script"
    return None


def _file_chunks(path):
    size = _chunk_size(path)
    with open(path, "rb") as f:
        while True:
            chunk = f.read(size)
            if not chunk:
                return
            yield chunk


def _inflate(path, put):
    """Decompress ``path`` (a raw zlib stream), passing chunks to ``put``."""
    for chunk in _inflated(path):
        if put(chunk) is False:
            return


def _inflater(path):
    """zlib-ng for big files: it inflates damo's streams 2.5 times as fast as
    zlib (README: dependencies); zlib, already loaded, for small ones, where
    importing zlib-ng costs more memory (0.4 MB) than its speed saves time."""
    if os.path.getsize(path) > _THREADED_ABOVE:
        try:
            from zlib_ng import zlib_ng
            return zlib_ng
        except ImportError:     # a venv installed before it was a dependency
            pass
    return zlib


def _inflated(path):
    """Decompressed chunks of ``path``, inflated as they are taken."""
    inflater = _inflater(path)
    decompressor = inflater.decompressobj()
    size = _chunk_size(path)
    with open(path, "rb") as f:
        while not decompressor.eof:
            data = decompressor.unconsumed_tail or f.read(_READ_SIZE)
            if not data:
                raise FormatError("truncated (the zlib stream ends early)")
            try:
                chunk = decompressor.decompress(data, size)
            except inflater.error as e:
                # as zlib's, whichever inflates: _errors() names the file
                raise zlib.error(str(e)) from None
            if chunk:
                yield chunk


def _zlib_chunks(path):
    """Decompressed chunks of ``path``; big files inflate in a second thread."""
    if os.path.getsize(path) <= _THREADED_ABOVE:
        yield from _inflated(path)
        return
    import queue
    import threading

    pipe = queue.Queue(maxsize=8)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                pipe.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            _inflate(path, put)
            put(None)
        except (FormatError, OSError, zlib.error) as e:
            put(e)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        while True:
            item = pipe.get()
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _read(path, fmt):
    if fmt == "native":
        from damo.records import native
        with open(path, "rb") as f:
            return native.read(f)
    if fmt == "json_compressed":
        return json_format.read(lambda: _zlib_chunks(path)), {}
    if fmt == "json":
        return json_format.read(lambda: _file_chunks(path)), {}
    if fmt == "perf_data":
        # as damo does: perf script's text of it (damo.records.perf_data)
        from damo.records import perf_data
        text = perf_data.script_text(path)
    else:
        with open(path, "rb") as f:
            text = f.read()
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("not a text file") from None
    from damo.records import perf_script
    records = perf_script.read(text)
    if not records:
        raise FormatError("no DAMON access records in it")
    return records, {}


def _format_of(path):
    """The format of the file at ``path``, by its first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise DamoError("%s: %s" % (path, e.strerror or e)) from None
    if not head:
        raise DamoError("%s: empty file, not a recording" % path)
    fmt = sniff(head)
    if fmt is None:
        kind = "an old perf.data file (run 'perf script' on it first)" \
            if head.startswith(b"PERFILE") else "an unknown format"
        raise DamoError("%s: not a recording: %s" % (path, kind))
    return fmt


@contextlib.contextmanager
def _errors(path, fmt):
    """Reading errors as one DamoError naming the file."""
    try:
        yield
    except FormatError as e:
        raise DamoError("%s: bad %s recording: %s" % (path, fmt, e)) from None
    except zlib.error as e:
        raise DamoError("%s: bad %s recording: corrupt zlib stream (%s)"
                        % (path, fmt, e)) from None
    except OSError as e:
        raise DamoError("%s: %s" % (path, e.strerror or e)) from None
    except MemoryError:
        raise DamoError("%s: too big to load" % path) from None


def load(path):
    """The Recording in ``path``, whatever its format.

    Raises DamoError, naming the file, if it is missing, empty, truncated,
    corrupt or not a recording.
    """
    path = os.fspath(path)
    fmt = _format_of(path)
    with _errors(path, fmt):
        records, metadata = _read(path, fmt)
    return Recording(records, metadata, path=path, format=fmt)


def _snapshots_of(record):
    """(starts, ends, nr_accesses, ages) of each snapshot of an in-memory record."""
    offsets = record.region_offsets.tolist()
    for lo, hi in zip(offsets, offsets[1:]):
        yield (record.starts[lo:hi], record.ends[lo:hi], record.nr_accesses[lo:hi],
               record.ages[lo:hi])


def _identity(path):
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _stream(path):
    path = os.fspath(path)
    fmt = _format_of(path)
    heads = None
    if fmt in ("json_compressed", "json"):
        chunks = (lambda: _zlib_chunks(path)) if fmt == "json_compressed" \
            else (lambda: _file_chunks(path))
        with _errors(path, fmt):
            identity = _identity(path)
            heads = json_format.read_heads(chunks)
    if heads is None:
        return [(r, _snapshots_of(r)) for r in load(path).records]
    regions = None

    def snapshots(head):
        nonlocal regions
        for _ in range(head.nr_snapshots):
            with _errors(path, fmt):
                if regions is None:
                    if _identity(path) != identity:
                        raise FormatError("changed while being read")
                    regions = json_format.iter_regions(chunks, heads)
                try:
                    item = next(regions)
                except StopIteration:
                    raise FormatError("changed while being read") from None
            yield item

    return [(head, snapshots(head)) for head in heads]


def stream_all(paths):
    """Recordings to be read snapshot by snapshot, concatenated as load_all
    does: a list of (record, snapshots), where ``snapshots`` iterates the
    (starts, ends, nr_accesses, ages) of each snapshot of the record in turn.

    Every file is read through and checked before this returns (a bad one
    raises DamoError before a report prints anything).  A json recording's
    record is then a RecordHead (no region columns), and its snapshots are read
    again from the file as they are taken, never held whole; other formats are
    loaded.  Take the records' snapshots in order, each once.
    """
    streams = []
    for path in paths:
        streams.extend(_stream(path))
    return streams


def load_all(paths):
    """Records of several files, concatenated, as damo's ``--input A B``."""
    records = []
    for path in paths:
        records.extend(load(path).records)
    return Recording(records, path=", ".join(os.fspath(p) for p in paths))


def _iter_bytes(recording, output_type):
    if output_type == "perf_data":
        from damo.records import perf_data
        yield perf_data.build(recording.records)
        return
    if output_type == "native":
        from damo.records import native
        yield from native.iter_chunks(recording)
        return
    if output_type == "perf_script":
        from damo.records import perf_script
        pieces = perf_script.iter_text(recording.records)
    else:
        pieces = json_format.iter_text(recording.records)
    if output_type == "json_compressed":
        compressor = zlib.compressobj()
        for piece in pieces:
            yield compressor.compress(piece.encode())
        yield compressor.flush()
    else:
        for piece in pieces:
            yield piece.encode()


def write(recording, output_set, path, output_type="json_compressed"):
    """Write ``recording`` into an OutputSet (role "recording"); nothing is
    visible before the set's commit()."""
    if output_type not in WRITE_TYPES:
        raise DamoError("unsupported output type '%s' (choose from %s)"
                        % (output_type, ", ".join(WRITE_TYPES)))
    if output_type in ("perf_script", "perf_data") and \
            not any(r.nr_snapshots for r in recording.records):
        # the trace would be empty, and an empty file is no recording
        raise DamoError("%s: --output_type %s cannot hold a recording without "
                        "snapshots; nothing written (json_compressed or native can)"
                        % (path, output_type))
    f = output_set.add(path, "recording")
    for piece in _iter_bytes(recording, output_type):
        f.write(piece)
    return f


def save(recording, path, output_type="json_compressed", permission=0o600, sidecars=None):
    """Write ``recording`` atomically; an existing ``path`` becomes ``path.old``.

    ``sidecars(output_set, (sha256, size))`` may add files that go with it
    (they are committed with it, as one unit).  A failure (a full disk)
    leaves every previous file as it was."""
    path = os.fspath(path)
    out = fileutil.OutputSet(permission)
    try:
        with fileutil.signals_deferred():
            write(recording, out, path, output_type)
            if sidecars is not None:
                sidecars(out, out.digest("recording"))
            out.commit()
    except OSError as e:
        out.abort()
        raise DamoError("%s: cannot write (%s); the previous output, if any, is intact"
                        % (path, e.strerror or e)) from None
    except BaseException:
        out.abort()
        raise
