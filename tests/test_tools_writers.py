"""Our writers of damo's formats, beyond what damo itself can check: perf.data
needs perf to be read back, outputs are never half-written, and where damo
writes what it cannot mean (named below) we write what it means."""
import os
import shutil
import stat
import subprocess
import zlib

import numpy as np
import pytest

import synth
from conftest import run_ours
from damo.records import load, perf_data


def test_perf_data_needs_perf_to_be_written(tmp_path, monkeypatch):
    src = str(tmp_path / "src.data")
    synth.stairs(src, nr_snapshots=4)
    empty = tmp_path / "bin"
    empty.mkdir()
    code, out, err = run_ours("convert_record_format", "--record_file", src, "--output_file",
                              str(tmp_path / "out"), "--format", "perf_data",
                              env={"PATH": str(empty)})
    assert code == 1 and out == ""
    assert err.startswith("damo: error: --output_type perf_data: perf is not installed")
    assert not os.path.exists(tmp_path / "out")


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
def test_perf_data_is_what_perf_record_writes(tmp_path):
    """perf script prints our samples as it prints a recorded DAMON trace:
    comm, pid, cpu, time, event, fields; and the recording reads back."""
    src = str(tmp_path / "src.data")
    rec = synth.stairs(src, nr_snapshots=3, nr_regions=4, nr_targets=2)
    out = str(tmp_path / "out.perf")
    assert run_ours("convert_record_format", "--record_file", src, "--output_file", out,
                    "--format", "perf_data")[0] == 0
    assert open(out, "rb").read(8) == b"PERFILE2"
    text = subprocess.run(["perf", "script", "--force", "-i", out], capture_output=True,
                          text=True, check=True).stdout
    lines = text.splitlines()
    assert len(lines) == 2 * 3 * 4
    # samples are in time order: the targets' snapshots interleave
    first = [line for line in lines if "target_id=3 " in line][0].split()
    r0 = rec.records[0]
    assert first[:3] == ["kdamond.0", "4000", "[000]"]
    assert first[3] == "%d.%06d:" % (r0.end_ns[0] // 10**9, r0.end_ns[0] % 10**9 // 1000)
    assert first[4:] == ["damon:damon_aggregated:", "target_id=3", "nr_regions=4",
                         "%d-%d:" % (r0.starts[0], r0.ends[0]), str(r0.nr_accesses[0]),
                         str(r0.ages[0])]
    back = load(out)
    assert back.format == "perf_data"
    # records come in the order of their first sample
    by_target = {r.target_id: r for r in back.records}
    for a in rec.records:
        b = by_target[a.target_id]
        for name in ("starts", "ends", "nr_accesses", "ages", "region_offsets"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        # perf script prints microseconds
        assert np.all(np.abs(a.end_ns - b.end_ns) < 1000)


def test_output_is_never_half_written(tmp_path, monkeypatch):
    """A failure while writing leaves the old output as it was and no
    temporary file behind."""
    from damo.records import damo_exact
    src = str(tmp_path / "src.data")
    synth.stairs(src, nr_snapshots=30)
    out = tmp_path / "out"
    out.write_bytes(b"old")

    def broken(records, output_type):
        yield b"partial"
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(damo_exact, "iter_bytes", broken)
    code, _, err = run_ours("adjust", "-i", src, "-o", str(out))
    assert code == 1 and err.startswith("damo: error: %s: cannot write" % out)
    assert out.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["out", "src.data"]


def test_json_compressed_is_zlib_of_the_json(tmp_path):
    """json_compressed is the json text through zlib's default level, as
    damo's zlib.compress(): streaming it in pieces gives the same bytes."""
    src = str(tmp_path / "src.data")
    synth.stairs(src, nr_snapshots=50, nr_targets=2)
    for fmt in ("json", "json_compressed"):
        assert run_ours("convert_record_format", "--record_file", src, "--output_file",
                        str(tmp_path / fmt), "--format", fmt)[0] == 0
    text = (tmp_path / "json").read_bytes()
    assert (tmp_path / "json_compressed").read_bytes() == zlib.compress(text)


def test_convert_keeps_the_mode_damo_leaves(tmp_path):
    """damo's plain open() keeps an existing file's mode, else umask's."""
    src = tmp_path / "rec"
    synth.stairs(str(src), nr_snapshots=3)
    os.chmod(src, 0o640)
    assert run_ours("convert_record_format", "--record_file", str(src), "--format",
                    "json")[0] == 0
    assert stat.S_IMODE(os.stat(src).st_mode) == 0o640
    assert src.read_bytes().startswith(b"[\n    {")


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
@pytest.mark.parametrize("time_sorted", [True, False])
def test_report_trace_decodes_perf_data_as_perf_script(tmp_path, time_sorted):
    """report trace decodes perf.data itself (no perf script); its lines are
    those of the perf script path, also when samples are out of time order."""
    from damo.reports import trace
    rec = synth.stairs(str(tmp_path / "src"), nr_snapshots=5, nr_regions=7, nr_targets=2,
                       tuned=True)
    path = tmp_path / "t.perf"
    path.write_bytes(perf_data.build(rec.records, time_sorted=time_sorted))
    events = list(trace.EVENTS)
    decoded = trace.decoded_lines(str(path), events, 60)
    assert decoded is not None
    decoded = b"".join(decoded).decode()
    assert decoded.endswith("\n")
    decoded = decoded[:-1].split("\n")
    assert decoded == trace.report_lines(str(path), events, False, 60)
    assert len(decoded) > 2 * 5 * 7


@pytest.mark.parametrize("window", [700, 4096, 1 << 20])
def test_perf_data_windows_end_at_a_timestamp_change(tmp_path, monkeypatch, window):
    """The decoder reads the data section a window at a time and ends a
    window before the samples of its last timestamp (a snapshot's regions
    come whole): windows of a few records, of a page and of the whole file
    give the same lines, each sample once, in file order; no window but the
    last ends inside a snapshot, unless the snapshot is longer than it."""
    from damo.reports import trace
    rec = synth.stairs(str(tmp_path / "src"), nr_snapshots=9, nr_regions=13, nr_targets=2,
                       tuned=True)
    path = tmp_path / "t.perf"
    path.write_bytes(perf_data.build(rec.records))
    events = list(trace.EVENTS)
    whole = b"".join(trace.decoded_lines(str(path), events, 100))
    # 2 targets x 9 snapshots x 13 regions, and a tune event per snapshot
    assert whole.count(b"damon:damon_aggregated") == 2 * 9 * 13
    monkeypatch.setattr(perf_data.Trace, "WINDOW", window)
    assert b"".join(trace.decoded_lines(str(path), events, 100)) == whole
    t = perf_data.Trace(str(path))
    batches = [b[0] for b in t.batches()]
    t.close()
    assert sum(map(len, batches)) == 2 * 9 * 13 + len(
        [1 for r in rec.records for _ in range(r.nr_snapshots)])
    for before, after in zip(batches[:-1], batches[1:]):
        if len(set(before.tolist())) > 1:
            assert before[-1] != after[0]
    if window == 700:       # a few records: a snapshot takes several windows
        assert len(batches) >= 2 * 9 * 2
    if window == 4096:      # a snapshot or two
        assert len(batches) >= 9 and all(len(set(b.tolist())) < 3 for b in batches)


@pytest.mark.parametrize("env", [{"PYTHONUNBUFFERED": "1"}, {"PYTHONIOENCODING": "utf-16"},
                                 {"PYTHONIOENCODING": "latin-1"}])
def test_report_trace_bytes_on_any_stdout(tmp_path, env):
    """report trace writes its lines as UTF-8 bytes straight to stdout; an
    unbuffered stdout gets them whole, and a stdout of another encoding gets
    them through the text layer, as print() would give them."""
    import sys
    rec = synth.stairs(str(tmp_path / "src"), nr_snapshots=4, nr_regions=5)
    path = tmp_path / "t.perf"
    path.write_bytes(perf_data.build(rec.records))
    argv = [sys.executable, "-m", "damo.cli", "report", "trace", "-i", str(path)]
    plain = subprocess.run(argv, capture_output=True, check=True).stdout
    assert plain.count(b"\n") == 4 * 5 and plain.startswith(b"5.1")
    got = subprocess.run(argv, capture_output=True, check=True,
                         env=dict(os.environ, **env)).stdout
    encoding = env.get("PYTHONIOENCODING", "utf-8")
    assert got.decode(encoding) == plain.decode()


def test_report_trace_falls_back_to_perf_script(tmp_path, monkeypatch):
    """A layout the decoder does not take (here: no tracing data) goes
    through perf script, as damo does."""
    from damo.reports import trace
    rec = synth.stairs(str(tmp_path / "src"), nr_snapshots=2, nr_regions=3)
    data = bytearray(perf_data.build(rec.records))
    data[72] = 0                        # no HEADER_TRACING_DATA feature bit
    path = tmp_path / "t.perf"
    path.write_bytes(bytes(data))
    assert trace.decoded_lines(str(path), list(trace.EVENTS), 100) is None


@pytest.mark.parametrize("max_cols", [60, 100, 1000])
def test_report_trace_c_lines_are_the_python_lines(tmp_path, monkeypatch, max_cols):
    """damo.reports._ctrace joins the lines of decoded perf.data in C; the
    Python path gives the same text, on sizes whose six decimals end in a
    tie (1024 * 3 + 8 B = 3.0078125 KiB), at units' edges (exactly 1 MiB is
    still 1024 KiB), addresses near 2^64, and snapshots of different region
    counts (the running index)."""
    import numpy as np
    from damo import records
    from damo.reports import trace
    if trace._ctrace is None:
        pytest.skip("damo.reports._ctrace is not built")
    kib, mib = 1 << 10, 1 << 20
    sizes = [1, 1023, kib, kib + 1, 3 * kib + 8, mib, mib + 1, 5 * mib + 64, 1 << 40,
             (1 << 50) + (1 << 39)]
    path = str(tmp_path / "r.data")
    w = records.RecordingWriter(path)
    iv = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}
    for s, (base, count) in enumerate([(0x1000, 10), (0x7f0000000000, 4),
                                       ((1 << 64) - (1 << 52), 3), (1 << 63, 7)]):
        starts = np.cumsum([base] + sizes[:count - 1]).astype(np.uint64)
        ends = starts + np.array(sizes[:count], dtype=np.uint64)
        w.add_snapshot(0, 0, 0, 10**9 + s * 10**8 + 123456, 10**9 + (s + 1) * 10**8,
                       starts, ends, np.arange(count) * 7, np.arange(count)[::-1] * 3,
                       intervals=iv)
    w.commit()
    rec = records.load(path)
    perf = tmp_path / "t.perf"
    perf.write_bytes(perf_data.build(rec.records))
    events = list(trace.EVENTS)
    in_c = b"".join(trace.decoded_lines(str(perf), events, max_cols)).decode()
    monkeypatch.setattr(trace, "_ctrace", None)
    in_python = b"".join(trace.decoded_lines(str(perf), events, max_cols)).decode()
    assert in_c == in_python
    in_c = in_c[:-1]
    assert in_c.count("\n") + 1 >= 24
    assert "3.007812 KiB" in in_c and "(1024.000000 KiB)" in in_c     # ties to even; edges
    if shutil.which("perf"):
        assert in_c.split("\n") == trace.report_lines(str(perf), events, False, max_cols)


def test_c_join_lines_checks_its_input():
    import numpy as np
    from damo.reports import trace
    if trace._ctrace is None:
        pytest.skip("damo.reports._ctrace is not built")
    join = trace._ctrace.join_lines
    column = ([b"a", "\u00e9".encode()], [1, 1], np.array([1, 0, 1], dtype=np.int64))
    # characters, not bytes, for the longest line
    assert join([b"<", b">"], [column], 3) == ("<\u00e9>\n<a>\n<\u00e9>\n".encode(), 3)
    assert join([b"x"], [], 2) == (b"x\nx\n", 1)
    assert join([b"", b""], [([b"a"], [1], np.zeros(0, dtype=np.int64))], 0) == (b"", 0)
    # pieces longer than the fixed-size copy, beside short ones
    first = ([b"L" * 70, b"s", "\u00e9".encode() * 40], [70, 1, 40],
             np.array([0, 1, 2, 1, 0], dtype=np.int64))
    second = (column[0], column[1], np.array([0, 1, 0, 0, 1], dtype=np.int64))
    lines = ["[%s|%s]" % pair for pair in zip(["L" * 70, "s", "\u00e9" * 40, "s", "L" * 70],
                                              ["a", "\u00e9", "a", "a", "\u00e9"])]
    assert join([b"[", b"|", b"]"], [first, second], 5) == (
        ("\n".join(lines) + "\n").encode(), 74)
    with pytest.raises(ValueError):
        join([b""], [column], 3)
    with pytest.raises(ValueError):
        join([b"", b""], [column], 4)
    with pytest.raises(IndexError):
        join([b"", b""], [([b"a"], [1], np.array([0, 1], dtype=np.int64))], 2)
