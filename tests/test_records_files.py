"""damo.records.files: which inflater reads a json_compressed file, the
native format's magic it sniffs without importing that reader; the model's
hand-written field classes."""
import zlib

import pytest

from damo.records import files, native


def test_native_magic_is_the_readers():
    assert files.NATIVE_MAGIC == native.MAGIC
    assert files.sniff(native.MAGIC + b"\0" * 8) == "native"


def test_small_files_inflate_with_zlib_and_big_ones_with_zlib_ng(tmp_path):
    zlib_ng = pytest.importorskip("zlib_ng.zlib_ng")
    small = tmp_path / "small"
    small.write_bytes(zlib.compress(b"[]"))
    big = tmp_path / "big"
    with open(big, "wb") as f:
        f.truncate(files._THREADED_ABOVE + 1)
    assert files._inflater(str(small)) is zlib
    assert files._inflater(str(big)) is zlib_ng


@pytest.mark.parametrize("size", ["small", "big"])
def test_a_corrupt_stream_reads_as_zlibs_error_whichever_inflates(tmp_path, size):
    """zlib-ng's error is a class of its own: it must reach the one-line error
    as zlib's does, naming the file."""
    from damo.errors import DamoError
    from damo import records
    text = b'[{"kdamond_idx": 0, "snapshots": []}]' * 200000
    data = bytearray(zlib.compress(text))
    data[40] ^= 0xff
    path = tmp_path / ("%s.data" % size)
    path.write_bytes(bytes(data) + (b"\0" * (files._THREADED_ABOVE + 1)
                                    if size == "big" else b""))
    with pytest.raises(DamoError) as e:
        records.load(str(path))
    assert str(e.value).startswith("%s: bad json_compressed recording: corrupt zlib stream "
                                   "(Error -3 while decompressing data" % path)


def test_intervals_and_recording_behave_as_the_dataclasses_they_were():
    from damo.records.model import Intervals, Recording
    a = Intervals(5000, 100000, 1000000)
    assert a == Intervals(5000, 100000, ops_update_us=1000000, goal=None)
    assert a != Intervals(5000, 100000, 1000000, {"aggrs": 4})
    assert a != (5000, 100000, 1000000, None)
    assert repr(a) == "Intervals(sample_us=5000, aggr_us=100000, ops_update_us=1000000, goal=None)"
    with pytest.raises(TypeError):
        hash(a)
    for bad in ((1, 2), (1, 2, 3, None, 5)):
        with pytest.raises(TypeError):
            Intervals(*bad)
    with pytest.raises(TypeError):
        Intervals(1, 2, 3, sample_us=4)
    r, s = Recording([]), Recording([])
    assert r.metadata == {} and r.metadata is not s.metadata
    assert (r.path, r.format) == (None, None) and r == s
