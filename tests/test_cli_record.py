"""``damo record`` from the command line: what it writes, that damo 3.4.3
reads it and reports it exactly as we do, and what bad input and
interruptions leave behind."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import run_ours
from damo import records

from damo.workloads.masim import CONFIGS_DIR as MASIM_DIR  # masim's configs, shipped in the package
STAIRS = os.path.join(MASIM_DIR, "stairs_30secs.cfg")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_default_record_is_the_builtin_stairs(in_tmp):
    code, out, err = run_ours("record")
    assert code == 0, err
    rec = records.load("damon.data")
    r, = rec.records
    # 30 s of 100 ms aggregations, a little fewer: each access check costs
    # the kdamond 200 ns, which delays its loop as the kernel's work does
    assert 290 <= len(r.start_ns) <= 300
    assert r.intervals.sample_us == 5000 and r.intervals.aggr_us == 100000
    assert "wrote %d snapshots" % len(r.start_ns) in err


@pytest.mark.parametrize("output_type", ["json_compressed", "json", "perf_script", "native"])
def test_output_types_read_back(in_tmp, output_type):
    code, _, err = run_ours("record", STAIRS, "--timeout", "2", "--output_type", output_type,
                            "-o", "out.data")
    assert code == 0, err
    rec = records.load("out.data")
    assert 19 <= sum(len(r.start_ns) for r in rec.records) <= 20
    assert rec.format == output_type


def test_existing_output_is_kept_as_old(in_tmp):
    (in_tmp / "damon.data").write_bytes(b"previous")
    code, _, _ = run_ours("record", STAIRS, "--timeout", "1")
    assert code == 0
    assert (in_tmp / "damon.data.old").read_bytes() == b"previous"
    records.load("damon.data")


def test_same_seed_same_file_different_seed_different_file(in_tmp):
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert run_ours("record", STAIRS, "--timeout", "3", "--seed", seed, "-o", name)[0] == 0
    assert (in_tmp / "a").read_bytes() == (in_tmp / "b").read_bytes()
    assert (in_tmp / "a").read_bytes() != (in_tmp / "c").read_bytes()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Recordings made by damo record: vaddr stairs, paddr zigzag, fvaddr."""
    root = tmp_path_factory.mktemp("recorded")
    paths = {}
    for name, args in {
        "vaddr": [STAIRS, "--timeout", "12"],
        "paddr": [os.path.join(MASIM_DIR, "zigzag_30secs.cfg"), "--ops", "paddr",
                  "--memory", "dram:2G", "--timeout", "8"],
        "autotune": [STAIRS, "--monitoring_intervals_autotune", "--timeout", "8"],
    }.items():
        paths[name] = str(root / (name + ".data"))
        code, _, err = run_ours("record", *args, "-o", paths[name])
        assert code == 0, err
    return paths


DIFFERENTIAL = [
    ("heatmap", "--stdout_skip_colorset_example"),
    ("heatmap", "--guide"),
    ("wss", "--raw_number"),
    ("wss", "-r", "1", "101", "1", "--raw_number"),
    ("nr_regions", "-r", "1", "101", "1"),
    ("access", "--raw_form"),
]


@pytest.mark.parametrize("kind", ["vaddr", "paddr", "autotune"])
def test_damo_reports_our_recordings_as_we_do(recorded, damo, kind):
    path = recorded[kind]
    damo.prefetch([[args[0], "--input", path] + list(args[1:]) for args in DIFFERENTIAL])
    for args in DIFFERENTIAL:
        ref_code, ref_out = damo.report(args[0], "--input", path, *args[1:])
        assert ref_code == 0, damo.why(args[0], "--input", path, *args[1:])
        extra = ("--color", "always") if args[0] == "heatmap" else ()
        code, out, err = run_ours("report", args[0], "--input", path, *args[1:], *extra)
        assert code == 0, err
        assert out == ref_out, (kind, args)


def test_malformed_config_is_one_error_line_and_no_output(in_tmp):
    (in_tmp / "bad.cfg").write_text("a, 1000000\n\nphase\n1000\nb, 0, 4096, 1\n")
    code, out, err = run_ours("record", "bad.cfg")
    assert code != 0
    assert err.strip().splitlines() == [
        "damo: error: bad.cfg:5: unknown region 'b'"]
    assert not (in_tmp / "damon.data").exists()


@pytest.mark.parametrize("args, message", [
    (["--monitoring_nr_regions_range", "1", "100"], "min_nr_regions (1) must be at least 3"),
    (["--monitoring_nr_regions_range", "50", "20"], "larger than max_nr_regions"),
    (["--monitoring_intervals", "200ms", "100ms", "1s"], "longer than aggregation"),
    (["--monitoring_intervals", "5ms", "soon", "1s"], "--monitoring_intervals"),
    (["--ops", "fvaddr"], "fvaddr monitors fixed regions"),
    (["--regions", "100-50"], "empty or inverted"),
    (["--memory", "dram:lots"], "--memory"),
    (["no_such_workload"], "no such workload"),
    (["--output_permission", "rwx"], "--output_permission"),
])
def test_bad_options_are_one_error_line(in_tmp, args, message):
    code, out, err = run_ours("record", *args)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("damo: error: ") and message in lines[0], err
    assert not (in_tmp / "damon.data").exists()


LONG_RUNNING = "a, 100000000\nb, 100000000\n\nforever\n1000000000\na, 0, 4096, 1\nb, 1, 64, 1\n"


def _default_sigint():
    # as a foreground command gets it from a shell: pytest itself may run with SIGINT
    # ignored (a background job of a non-interactive shell), which its children inherit
    # and keep (as they should: Python then installs no KeyboardInterrupt handler)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_until_recording(proc, cpu_s, timeout_s=120):
    """Until the child has spent cpu_s of CPU time since it caught SIGTERM.  The
    command catches it from its start (cli.handle_termination), before the
    recording is set up, so this is not proof of a first aggregation: a ^C
    that comes earlier writes nothing and says so (the caller retries).
    CPU time, not wall time, since a loaded machine may give a child almost none."""
    tick = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open("/proc/%d/stat" % proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    def catches_sigterm():
        with open("/proc/%d/status" % proc.pid) as f:
            mask = [l for l in f if l.startswith("SigCgt:")][0].split()[1]
        return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))

    deadline = time.monotonic() + timeout_s
    while not catches_sigterm():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)
    start = cpu()
    while cpu() - start < cpu_s:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)


# a ^C while the command is still setting up, and one in the run before its first aggregation
INTERRUPTED_EARLY = ("damo: interrupted",
                     "damo: error: interrupted before the first aggregation; nothing recorded")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_record_leaves_a_complete_recording(in_tmp, sig):
    (in_tmp / "long.cfg").write_text(LONG_RUNNING)
    # (a slow or loaded machine may still be setting up after 0.3 CPU s: seen in CI)
    for cpu_s in (0.0, 0.0, 1.0, 3.0, 8.0):
        proc = subprocess.Popen([sys.executable, "-m", "damo.cli", "record", "long.cfg"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_default_sigint)
        try:
            _wait_until_recording(proc, cpu_s)
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()         # never leave it running (it records forever)
            proc.wait()
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        if err.strip() not in INTERRUPTED_EARLY:
            break
        # interrupted that early, it writes nothing, not even a sidecar
        assert sorted(os.listdir(in_tmp)) == ["long.cfg"]
    rec = records.load(str(in_tmp / "damon.data"))
    nr = len(rec.records[0].start_ns)
    # every snapshot it says it wrote, each one aggregation (100 ms) long, back to back
    assert "interrupted; wrote %d snapshots" % nr in err and nr > 0
    lengths = rec.records[0].end_ns - rec.records[0].start_ns
    assert np.all((lengths >= 100_000_000) & (lengths < 101_000_000))
    assert np.all(rec.records[0].start_ns[1:] == rec.records[0].end_ns[:-1])
    # no temp files; the machine metrics sidecars are there
    assert sorted(os.listdir(in_tmp)) == ["damon.data", "damon.data.mem_footprint",
                                          "damon.data.sim_metrics", "long.cfg"]


def test_a_signal_inside_add_snapshot_leaves_count_and_columns_agreeing(tmp_path):
    """The 'interrupted; wrote N snapshots' line said one more than the file
    held (1752 against 1751 in a CI-like run): a ^C landed between the
    writer's count and its columns.  A snapshot is now added as one unit and
    the interruption acts right after it."""
    import os
    from damo.records import RecordingWriter

    class SignalsOnLen(list):
        """sz_filter_passed values whose len() sends this process a SIGINT
        (the writer calls it midway through adding the snapshot)."""
        def __len__(self):
            os.kill(os.getpid(), signal.SIGINT)
            return super().__len__()

    writer = RecordingWriter(str(tmp_path / "r.data"), "json_compressed", 0o600)
    intervals = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}
    writer.add_snapshot(0, 0, 1, 0, 100, [4096], [8192], [1], [0], intervals=intervals)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            writer.add_snapshot(0, 0, 1, 100, 200, [4096], [8192], [2], [1],
                                intervals=intervals, sz_filter_passed=SignalsOnLen([4096]))
    finally:
        signal.signal(signal.SIGINT, previous)
    [record] = writer.recording().records
    assert writer.nr_snapshots == len(record.end_ns) == 2
    assert record.end_ns.tolist() == [100, 200] and record.sz_filter_passed.tolist() == [0, 4096]
    writer.commit()
    [record] = records.load(str(tmp_path / "r.data")).records
    assert len(record.end_ns) == 2
