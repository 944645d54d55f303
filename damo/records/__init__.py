"""damo recordings: a columnar in-memory model, readers and writers.

    from damo.records import load, RecordingWriter
    recording = load("damon.data")        # any format, sniffed from content

Formats: damo's json_compressed (default), json and perf_script, plus our
``native`` columnar format for big recordings.
"""
from damo.records.files import OUTPUT_TYPES, load, load_all, save, sniff, stream_all
from damo.records.model import AGE_UNKNOWN, Intervals, Record, RecordHead, Recording
from damo.records.writer import RecordingFull, RecordingWriter

__all__ = ["AGE_UNKNOWN", "Intervals", "OUTPUT_TYPES", "Record", "RecordHead", "Recording",
           "RecordingFull", "RecordingWriter", "load", "load_all", "save", "sniff",
           "stream_all"]
