"""`report access --raw_form` prints a recording as it reads it: the text is the
one the loaded recording gives, every file is checked before anything is
printed, and the memory held does not grow with the number of snapshots."""
import json
import os
import tracemalloc
import zlib

import pytest

import synth
from conftest import run_ours
from damo import records
from damo.records import Record, RecordHead
from damo.reports.access import RawFormReporter

SHAPES = [dict(), dict(nr_targets=3, gaps=True), dict(ages=False), dict(tuned=True),
          dict(nr_snapshots=1), dict(intervals=None)]


def _loaded_text(paths, raw):
    return RawFormReporter(records.load_all(paths).records).text(raw)


def _streamed_text(paths, raw):
    return "".join(RawFormReporter(records.stream_all(paths)).iter_text(raw))


@pytest.mark.parametrize("output_type", ["json_compressed", "json", "native", "perf_script"])
@pytest.mark.parametrize("shape", range(len(SHAPES)))
@pytest.mark.parametrize("raw", [False, True])
def test_streamed_text_is_the_loaded_text(tmp_path, output_type, shape, raw):
    path = str(tmp_path / "r")
    if output_type == "perf_script" and SHAPES[shape].get("intervals", 1) is None:
        pytest.skip("perf traces carry no intervals anyway")
    synth.stairs(path, output_type=output_type, **SHAPES[shape])
    assert _streamed_text([path], raw) == _loaded_text([path], raw)


def test_json_records_come_without_regions(tmp_path):
    """A json recording is read twice, never held: its records are heads."""
    path = str(tmp_path / "r")
    synth.stairs(path, nr_targets=2)
    streams = records.stream_all([path, path])
    assert len(streams) == 4
    assert all(isinstance(head, RecordHead) for head, _ in streams)
    assert not any(hasattr(head, "starts") for head, _ in streams)
    # other formats are loaded
    synth.stairs(path + ".n", output_type="native")
    assert all(isinstance(r, Record) for r, _ in records.stream_all([path + ".n"]))


def test_several_files_in_order(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    synth.stairs(a, nr_targets=2, seed=1)
    synth.stairs(b, nr_snapshots=7, output_type="native", seed=2)
    assert _streamed_text([a, b, a], False) == _loaded_text([a, b, a], False)


def test_odd_layouts_are_loaded_and_printed_the_same(tmp_path, recordings):
    # regions as damo writes them (human numbers, probe_hits, sz_filter_passed),
    # odd regions, and a file the fast path does not take (regions before times)
    paths = [recordings["upstream"], recordings["odd_regions"]]
    synth.snapshot_records(str(tmp_path / "snap"))
    paths.append(str(tmp_path / "snap"))
    odd = [{"target_id": 1, "data_source": "vaddr", "snapshots": [
        {"regions": [{"start": 4096 * i, "end": 4096 * (i + 1),
                      "nr_accesses": {"samples": i}, "age": {"usec": None,
                                                           "aggr_intervals": i}}
                     for i in range(3)],
         "start_time": 10 ** 9 * s, "end_time": 10 ** 9 * (s + 1)} for s in range(3)]}]
    with open(tmp_path / "odd.json", "w") as f:
        json.dump(odd, f)
    paths.append(str(tmp_path / "odd.json"))
    for path in paths:
        assert _streamed_text([path], False) == _loaded_text([path], False), path


@pytest.mark.parametrize("cut", [0.3, 0.9, 0.999])
def test_a_truncated_file_prints_nothing(tmp_path, cut):
    """The check comes first: no half report before the error."""
    good = str(tmp_path / "good")
    synth.stairs(good, nr_snapshots=200, nr_regions=50)
    data = open(good, "rb").read()
    bad = str(tmp_path / "bad")
    with open(bad, "wb") as f:
        f.write(data[:int(len(data) * cut)])
    code, out, err = run_ours("report", "access", "--raw_form", "--input", good, bad)
    assert code != 0 and out == ""
    assert err.startswith("damo: error: %s: " % bad) and err.count("\n") == 1


def test_a_file_changed_between_the_passes(tmp_path):
    path = str(tmp_path / "r")
    synth.stairs(path, nr_snapshots=30)
    streams = records.stream_all([path])
    synth.stairs(path, nr_snapshots=10, seed=5)
    with pytest.raises(records.files.DamoError, match="changed while being read"):
        "".join(RawFormReporter(streams).iter_text())


def test_command_output(tmp_path):
    """The CLI's output: the text, and the pager's newline rule (a final
    newline only when the text fits 50 lines)."""
    path = str(tmp_path / "r")
    for nr_snapshots, nr_regions in ((1, 2), (40, 24)):
        synth.stairs(path, nr_snapshots=nr_snapshots, nr_regions=nr_regions)
        text = _loaded_text([path], False)
        code, out, err = run_ours("report", "access", "--raw_form", "--input", path)
        assert (code, err) == (0, "")
        assert out == (text + "\n" if text.count("\n") <= 50 else text)


def _peak_while_printing(path):
    """Peak traced memory while the report of ``path`` is made, minus what
    was traced before."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        size = 0
        for piece in RawFormReporter(records.stream_all([path])).iter_text():
            size += len(piece)
        return tracemalloc.get_traced_memory()[1] - base, size
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_recording(tmp_path, monkeypatch):
    """Eight times the snapshots, about the same peak: per block of the file and
    of text read (small ones here, so that both files take many) and per
    snapshot, not per recording (loaded, the columns alone would take 32
    bytes a region)."""
    monkeypatch.setattr(records.files, "_CHUNK_SIZE", 1 << 18)
    monkeypatch.setattr(records.files, "_READ_SIZE", 1 << 16)
    small, big = str(tmp_path / "small"), str(tmp_path / "big")
    synth.stairs(small, nr_snapshots=40, nr_regions=500)
    synth.stairs(big, nr_snapshots=320, nr_regions=500)
    assert os.path.getsize(big) > 6 * os.path.getsize(small)
    small_peak, small_text = _peak_while_printing(small)
    big_peak, big_text = _peak_while_printing(big)
    assert big_text > 7 * small_text
    assert big_peak < 1.5 * small_peak
    # and well below the columns of the loaded recording
    assert big_peak < 320 * 500 * 32 / 2


def test_a_small_recording_is_read_in_small_blocks(tmp_path):
    """A small report's memory is mostly the interpreter's and numpy's: reading
    a 100 x 100 recording holds well under its text (in 1 MB blocks, twice
    the text was held at the peak)."""
    path = str(tmp_path / "small")
    synth.stairs(path, nr_snapshots=100, nr_regions=100)
    with open(path, "rb") as f:
        text_size = len(zlib.decompress(f.read()))
    assert text_size > 1 << 20
    records.load(path)          # imports done before measuring
    tracemalloc.start()
    try:
        recording = records.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sum(r.nr_regions for r in recording.records) == 100 * 100
    assert peak < text_size / 2


def test_records_without_snapshots(tmp_path):
    path = tmp_path / "r.json"
    path.write_bytes(zlib.compress(json.dumps(
        [{"target_id": 1, "snapshots": []}, {"target_id": 2, "snapshots": []}]).encode()))
    assert _streamed_text([str(path)], False) == _loaded_text([str(path)], False) == ""


def test_format_option_errors_as_without_streaming(tmp_path):
    """--raw_form with a malformed --format: the same error whether the raw
    form is streamed (no filter) or made from the filtered views."""
    path = str(tmp_path / "r")
    synth.stairs(path, nr_snapshots=3)
    streamed = run_ours("report", "access", "--raw_form", "--input", path,
                        "--format", "set", "region")
    viewed = run_ours("report", "access", "--raw_form", "--input", path,
                      "--format", "set", "region", "--sz_region", "1", "max")
    assert streamed[0] != 0 and streamed[1] == ""
    assert streamed == viewed
