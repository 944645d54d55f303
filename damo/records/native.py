"""Our own columnar recording format, for recordings too big for JSON.

    offset 0   MAGIC (8 bytes), then the header length (little-endian uint64)
    offset 16  header: UTF-8 JSON with the records' scalar fields, the
               metadata, and for every array its [offset, dtype, shape]
    ...        the arrays' raw bytes, each aligned to 64 bytes, offsets
               counted from the start of the file

Loading maps the file and wraps each column with ``np.frombuffer``: no
parsing, no copy, no Python object per region, and only the pages a report
touches are read.  Loaded columns are read-only.

Metadata may hold numpy arrays (stored like the columns) inside any JSON
value; everything else in it must be JSON-serialisable.
"""
import json
import mmap
import struct

import numpy as np

from damo.records import json_format
from damo.records.model import FormatError, Intervals, Record

MAGIC = b"\x89DAMOREC"
VERSION = 1
_ALIGN = 64
_COLUMNS = ("start_ns", "end_ns", "region_offsets", "starts", "ends", "nr_accesses", "ages",
            "sample_interval_us", "total_bytes", "sz_filter_passed")
_ARRAY_KEY = "__ndarray__"
# what each column may be stored as (what iter_chunks writes)
_COLUMN_DTYPES = {"start_ns": ("<i8", "<f8"), "end_ns": ("<i8",), "region_offsets": ("<i8",),
                  "starts": ("<u8",), "ends": ("<u8",), "nr_accesses": ("<i8",),
                  "ages": ("<i8",), "sample_interval_us": ("<f8",), "total_bytes": ("<i8",),
                  "sz_filter_passed": ("<i8",)}
_REQUIRED = ("start_ns", "end_ns", "region_offsets", "starts", "ends", "nr_accesses", "ages")
_RECORD_KEYS = ("kdamond_idx", "context_idx", "scheme_idx", "target_id", "intervals",
                "scheme_filters", "data_source", "damos_stats", "columns")
_INTERVALS_KEYS = {"sample_us", "aggr_us", "ops_update_us", "goal"}


class _ArrayTable:
    """Collects arrays to be written after the header."""

    def __init__(self):
        self.arrays = []
        self.size = 0

    def add(self, array):
        array = np.ascontiguousarray(array)
        self.size = -(-self.size // _ALIGN) * _ALIGN
        ref = [self.size, array.dtype.str, list(array.shape)]
        self.arrays.append((self.size, array))
        self.size += array.nbytes
        return ref


def _encode_metadata(value, table):
    if isinstance(value, np.ndarray):
        return {_ARRAY_KEY: table.add(value)}
    if isinstance(value, dict):
        return {str(k): _encode_metadata(v, table) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_metadata(v, table) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def iter_chunks(recording):
    """The bytes of ``recording`` in the native format, in pieces."""
    table = _ArrayTable()
    records = []
    for r in recording.records:
        kv = {"kdamond_idx": r.kdamond_idx, "context_idx": r.context_idx,
              "scheme_idx": r.scheme_idx, "target_id": r.target_id,
              "intervals": None if r.intervals is None else vars(r.intervals),
              "scheme_filters": r.scheme_filters, "data_source": r.data_source,
              "damos_stats": r.damos_stats, "columns": {}}
        for name in _COLUMNS:
            column = getattr(r, name)
            if column is not None:
                kv["columns"][name] = table.add(column)
        records.append(kv)
    header = {"version": VERSION, "records": records,
              "metadata": _encode_metadata(recording.metadata, table)}
    try:
        header = json.dumps(header).encode()
    except TypeError as e:
        raise ValueError("recording metadata is not JSON-serialisable (%s)" % e) from None
    head_len = len(MAGIC) + 8 + len(header)
    data_start = -(-head_len // _ALIGN) * _ALIGN
    yield MAGIC + struct.pack("<Q", len(header)) + header + b"\0" * (data_start - head_len)
    written = 0
    for offset, array in table.arrays:
        yield b"\0" * (offset - written)
        yield memoryview(array).cast("B")
        written = offset + array.nbytes


def _array(buf, ref, data_start, dtypes=None):
    """The array ``ref`` ([offset, dtype, shape]) points at, checked."""
    if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[1], str) and
            isinstance(ref[2], list)):
        raise FormatError("corrupt header (an array reference is not [offset, dtype, shape])")
    offset, dtype, shape = ref
    if type(offset) is not int or offset < 0 or \
            any(type(d) is not int or d < 0 for d in shape) or len(shape) > 8:
        raise FormatError("corrupt header (an array's offset or shape is not valid)")
    if dtypes is not None and dtype not in dtypes:
        raise FormatError("corrupt header (an array of %s, not %s)" % (dtype, " or ".join(dtypes)))
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise FormatError("corrupt header (unknown array type %r)" % dtype) from None
    if dtype.kind not in "biuf" or dtype.itemsize == 0:
        raise FormatError("corrupt header (array type %s is not numeric)" % dtype)
    count = 1
    for d in shape:
        count *= d
    start = data_start + offset
    if start + count * dtype.itemsize > len(buf):
        raise FormatError("truncated (an array runs past the end of the file)")
    return np.frombuffer(buf, dtype=dtype, count=count, offset=start).reshape(shape)


def _decode_metadata(value, buf, data_start):
    if isinstance(value, dict):
        if set(value) == {_ARRAY_KEY}:
            return _array(buf, value[_ARRAY_KEY], data_start)
        return {k: _decode_metadata(v, buf, data_start) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode_metadata(v, buf, data_start) for v in value]
    return value


def _record(kv, buf, data_start):
    if not isinstance(kv, dict):
        raise FormatError("not an object")
    missing = [k for k in _RECORD_KEYS if k not in kv]
    if missing:
        raise FormatError("lacks %s" % missing[0])
    if not isinstance(kv["columns"], dict):
        raise FormatError("'columns' is not an object")
    unknown = set(kv["columns"]) - set(_COLUMN_DTYPES)
    if unknown:
        raise FormatError("unknown column %s" % sorted(unknown)[0])
    missing = [name for name in _REQUIRED if name not in kv["columns"]]
    if missing:
        raise FormatError("lacks column %s" % missing[0])
    columns = {name: _array(buf, ref, data_start, _COLUMN_DTYPES[name])
               for name, ref in kv["columns"].items()}
    if any(c.ndim != 1 for c in columns.values()):
        raise FormatError("a column is not one-dimensional")
    intervals = kv["intervals"]
    if intervals is not None:
        if not isinstance(intervals, dict) or set(intervals) != _INTERVALS_KEYS:
            raise FormatError("intervals are not {%s}" % ", ".join(sorted(_INTERVALS_KEYS)))
        intervals = Intervals(**intervals)
    if kv["scheme_filters"] is not None and not isinstance(kv["scheme_filters"], list):
        raise FormatError("'scheme_filters' is not a list")
    stats = kv["damos_stats"]
    if stats is not None and not isinstance(stats, list):
        raise FormatError("'damos_stats' is not a list")
    return Record(
        kv["target_id"], columns.pop("start_ns"), columns.pop("end_ns"),
        columns.pop("region_offsets"), columns.pop("starts"), columns.pop("ends"),
        columns.pop("nr_accesses"), columns.pop("ages"),
        kdamond_idx=kv["kdamond_idx"], context_idx=kv["context_idx"],
        scheme_idx=kv["scheme_idx"], intervals=intervals,
        scheme_filters=kv["scheme_filters"], data_source=kv["data_source"],
        damos_stats=stats, **columns)


def read(fileobj):
    """(records, metadata) of a native recording file opened in binary mode."""
    try:
        buf = mmap.mmap(fileobj.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:
        raise FormatError("truncated (empty file)") from None
    if buf[:len(MAGIC)] != MAGIC or len(buf) < len(MAGIC) + 8:
        raise FormatError("not a native recording")
    (header_len,) = struct.unpack_from("<Q", buf, len(MAGIC))
    head_len = len(MAGIC) + 8 + header_len
    if head_len > len(buf):
        raise FormatError("truncated (header runs past the end of the file)")
    header = json_format._loads(bytes(buf[len(MAGIC) + 8:head_len]))
    if not isinstance(header, dict):
        raise FormatError("corrupt header (not a JSON object)")
    json_format._check_depth(header)
    if header.get("version") != VERSION:
        raise FormatError("unsupported native format version %r" % (header.get("version"),))
    if not isinstance(header.get("records"), list) or "metadata" not in header:
        raise FormatError("corrupt header (no records list or no metadata)")
    data_start = -(-head_len // _ALIGN) * _ALIGN
    records = []
    for i, kv in enumerate(header["records"]):
        try:
            records.append(_record(kv, buf, data_start))
        except FormatError as e:
            raise FormatError("record %d: %s" % (i, e)) from None
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError("record %d: corrupt header (%s)" % (i, e)) from None
    try:
        metadata = _decode_metadata(header["metadata"], buf, data_start)
    except FormatError as e:
        raise FormatError("metadata: %s" % e) from None
    if not isinstance(metadata, dict):
        raise FormatError("corrupt header (metadata is not an object)")
    return records, metadata
