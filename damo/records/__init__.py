"""damo recordings: a columnar in-memory model, readers and writers.

    from damo.records import load, RecordingWriter
    recording = load("damon.data")        # any format, sniffed from content

Formats: damo's json_compressed (default), json and perf_script, plus our
``native`` columnar format for big recordings.
"""
from damo.records.files import OUTPUT_TYPES, load, load_all, save, sniff, stream_all
from damo.records.model import AGE_UNKNOWN, Intervals, Record, RecordHead, Recording

__all__ = ["AGE_UNKNOWN", "Intervals", "OUTPUT_TYPES", "Record", "RecordHead", "Recording",
           "RecordingFull", "RecordingWriter", "load", "load_all", "save", "sniff",
           "stream_all"]


def __getattr__(name):
    # the writer, imported by the commands that write only: reports do not pay
    # for it (PEP 562)
    if name in ("RecordingFull", "RecordingWriter"):
        from damo.records import writer
        return getattr(writer, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
