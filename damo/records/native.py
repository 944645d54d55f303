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

from damo.records.json_format import FormatError
from damo.records.model import Intervals, Record

MAGIC = b"\x89DAMOREC"
VERSION = 1
_ALIGN = 64
_COLUMNS = ("start_ns", "end_ns", "region_offsets", "starts", "ends", "nr_accesses", "ages",
            "sample_interval_us", "total_bytes", "sz_filter_passed")
_ARRAY_KEY = "__ndarray__"


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


def _array(buf, ref, data_start):
    offset, dtype, shape = ref
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
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
    try:
        header = json.loads(bytes(buf[len(MAGIC) + 8:head_len]))
        if header.get("version") != VERSION:
            raise FormatError("unsupported native format version %r" % header.get("version"))
        data_start = -(-head_len // _ALIGN) * _ALIGN
        records = []
        for kv in header["records"]:
            columns = {name: _array(buf, ref, data_start)
                       for name, ref in kv["columns"].items()}
            intervals = kv["intervals"]
            records.append(Record(
                kv["target_id"], columns.pop("start_ns"), columns.pop("end_ns"),
                columns.pop("region_offsets"), columns.pop("starts"), columns.pop("ends"),
                columns.pop("nr_accesses"), columns.pop("ages"),
                kdamond_idx=kv["kdamond_idx"], context_idx=kv["context_idx"],
                scheme_idx=kv["scheme_idx"],
                intervals=None if intervals is None else Intervals(**intervals),
                scheme_filters=kv["scheme_filters"], data_source=kv["data_source"],
                damos_stats=kv["damos_stats"], **columns))
        metadata = _decode_metadata(header["metadata"], buf, data_start)
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError("corrupt header (%s)" % e) from None
    return records, metadata
