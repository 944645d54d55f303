"""``damo record -- CMD``: real programs traced by valgrind's lackey, end to
end: a C program built here (its two phases land in the right address
ranges of the heatmap, its saved binary trace records the same again, the
code that touches its hot memory is its main loop), a Python program, and
the errors (no valgrind, too short a program)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import run_ours
from damo import records
from damo.reports import code_attribution
from damo.reports.heatmap import HeatMap

pytestmark = pytest.mark.skipif(shutil.which("valgrind") is None,
                                reason="valgrind is not installed")

# Sweeps buffer A (64 B stride writes, many passes), then reads buffer B at
# random; writes where A and B are to the file given.
PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    size_t n = (size_t)atoi(argv[1]) << 10;
    int passes = atoi(argv[2]);
    long reads = atol(argv[3]);
    char *a = malloc(n), *b = malloc(n);
    FILE *f = fopen(argv[4], "w");
    fprintf(f, "%lu %lu %lu\n", (unsigned long)a, (unsigned long)b, (unsigned long)n);
    fclose(f);
    for (int p = 0; p < passes; p++)
        for (size_t i = 0; i < n; i += 64)
            a[i] = (char)p;
    unsigned long x = 88172645463325252UL, s = 0;
    for (long i = 0; i < reads; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        s += b[x % n];
    }
    printf("%lu\n", s);
    return 0;
}
"""
INTERVALS = ("20us", "200us", "200us")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    d = tmp_path_factory.mktemp("prog")
    (d / "sweep_random.c").write_text(PROGRAM)
    subprocess.run(["gcc", "-O1", "-o", str(d / "sweep_random"), str(d / "sweep_random.c")],
                   check=True)
    return d / "sweep_random"


@pytest.fixture(scope="module")
def traced(program, tmp_path_factory):
    """The program recorded live once: (dir, addresses file content)."""
    d = tmp_path_factory.mktemp("traced")
    cwd = os.getcwd()
    os.chdir(d)
    try:
        code, out, err = run_ours(
            "record", "--monitoring_intervals", *INTERVALS, "--save-trace", "prog.trace",
            "-o", "live.data", "--", str(program), "256", "200", "300000", "addr.txt")
    finally:
        os.chdir(cwd)
    assert code == 0, err
    a, b, n = (int(x) for x in (d / "addr.txt").read_text().split())
    return d, (a, b, n), err


def test_live_record_writes_recording_code_and_trace(traced):
    d, _, err = traced
    rec = records.load(str(d / "live.data"))
    r, = rec.records
    assert r.nr_snapshots >= 8
    assert r.intervals.sample_us == 20 and r.intervals.aggr_us == 200
    assert os.path.getsize(d / "prog.trace") > 0
    assert (d / "live.data.code").exists()
    assert "wrote %d snapshots" % r.nr_snapshots in err and "instructions" in err


def test_heatmap_shows_the_sweep_then_the_random_reads_in_their_buffers(traced):
    d, (a, b, n), _ = traced
    r, = records.load(str(d / "live.data")).records
    lo = min(a, b) // 4096 * 4096 - (64 << 10)
    hi = (max(a, b) + n + 4095) // 4096 * 4096 + (64 << 10)
    cols = 64
    hm = HeatMap.build([r], (int(r.start_ns[0]), int(r.end_ns[-1])), (lo, hi), (12, cols))
    heat = np.nan_to_num(hm.heats.reshape(12, cols))
    unit = (hi - lo) // cols

    def columns(start, size):
        first = (start - lo) // unit
        return slice(first + 1, (start + size - lo) // unit)       # inside only
    in_a, in_b = columns(a, n), columns(b, n)
    sweep, random_reads = heat[2:4], heat[-4:-1]
    # first the sweep: A hot, B cold; then the reads: B hot, A cold
    assert sweep[:, in_a].mean() > 5 * max(sweep[:, in_b].mean(), 1)
    assert random_reads[:, in_b].mean() > 5 * max(random_reads[:, in_a].mean(), 1)
    assert sweep[:, in_a].min() > 0 and random_reads[:, in_b].min() > 0


def test_saved_trace_records_the_same_again(traced, tmp_path, monkeypatch):
    d, _, _ = traced
    monkeypatch.chdir(tmp_path)
    code, _, err = run_ours("record", "--trace", str(d / "prog.trace"),
                            "--monitoring_intervals", *INTERVALS, "-o", "again.data")
    assert code == 0, err
    live, = records.load(str(d / "live.data")).records
    again, = records.load("again.data").records
    for col in ("start_ns", "end_ns", "region_offsets", "starts", "ends", "nr_accesses",
                "ages"):
        assert np.array_equal(getattr(live, col), getattr(again, col)), col
    assert (d / "live.data.code").read_bytes() == (tmp_path / "again.data.code").read_bytes()


def test_main_is_the_code_touching_the_hottest_memory(traced, program):
    d, (a, b, n), _ = traced
    r, = records.load(str(d / "live.data")).records
    code = code_attribution.load(str(d / "live.data.code"))
    result = code_attribution.attribute(r, code, code_attribution.AccessPattern(hottest=10))
    name, obj, count = result.rows[0]
    assert (name, obj) == ("main", program.name)
    assert count > 0.9 * result.matched
    # main's accesses to B's pages happen in the reads, after the sweep
    lines = code_attribution.report_lines(result)
    assert lines[0] == "# functions accessing the hottest 10% of memory"
    assert "main (%s)" % program.name in lines[3]
    everything = code_attribution.attribute(r, code, code_attribution.AccessPattern())
    assert everything.matched >= result.matched
    # libc and the loader did the start-up
    assert {"libc.so.6", "ld-linux-x86-64.so.2"} <= {o for _, o, _ in everything.rows}


def test_python_program_end_to_end(tmp_path, monkeypatch):
    """The real interpreter (python3 may be a shim valgrind cannot follow)."""
    monkeypatch.chdir(tmp_path)
    script = "b = bytearray(1 << 16)\nfor i in range(0, len(b), 64): b[i] = 1\n"
    code, _, err = run_ours("record", "--", sys.executable, "-S", "-c", script)
    assert code == 0, err
    r, = records.load("damon.data").records
    assert r.nr_snapshots >= 10 and r.nr_accesses.max() > 0
    code_file = code_attribution.load("damon.data.code")
    objects = set(code_file.objects)
    assert any(o.startswith(("libpython", "python")) for o in objects), objects
    assert "_PyEval_EvalFrameDefault" in code_file.names


def test_scripts_run_their_interpreter(tmp_path, monkeypatch):
    from damo.workloads import tracing
    script = tmp_path / "s.py"
    script.write_text("#!/usr/bin/env %s\nprint(1)\n" % os.path.basename(sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep
                       + os.environ["PATH"])
    argv, children = tracing.resolve_command([str(script), "x"])
    assert argv == [os.path.join(os.path.dirname(sys.executable),
                                 os.path.basename(sys.executable)), str(script), "x"]
    assert not children


def test_without_valgrind_one_error_with_the_install_hint(program, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    code, out, err = run_ours("record", "--", str(program), "1", "1", "1", "a.txt",
                              env={"PATH": str(empty)})
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "damo: error: valgrind not found: `damo record -- CMD` runs CMD under valgrind's "
        "lackey; install valgrind (Debian/Ubuntu: apt-get install valgrind; "
        "Fedora: dnf install valgrind)")
    assert not os.path.exists("damon.data")


def test_too_short_a_program_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_ours("record", "--monitoring_intervals", "5ms", "100ms", "1s",
                            "--", "/bin/true")
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("damo: error: nothing was recorded: /bin/true ran ")
    assert "shorten --monitoring_intervals or raise --time_per_instruction" in last
    assert not os.path.exists("damon.data") and not os.path.exists("damon.data.code")


def test_report_profile_lists_the_functions_touching_hot_memory(traced, program):
    d, _, _ = traced
    code, out, err = run_ours("report", "profile", "-i", str(d / "live.data"), "--hottest",
                              "10", "--sections", "functions", "--nr_functions", "3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Functions accessing the hottest 10% of memory")
    first = [c.strip() for c in lines[3].split("\u2502")]         # table columns
    assert first[:2] == ["main", program.name] and first[-1].endswith("%")
    assert float(first[-1][:-1]) > 90
    assert lines[-2].startswith("(") and lines[-1].endswith(" snapshots")
    # the whole profile has the section too, after the memory events
    code, out, err = run_ours("report", "profile", "-i", str(d / "live.data"))
    assert code == 0, err
    assert out.index("Memory events") < out.index("Functions accessing all memory")


def test_traced_programs_run_under_damos_schemes(traced, tmp_path, monkeypatch):
    """The swept buffer, cold during the random reads, is paged out."""
    d, (a, b, n), _ = traced
    monkeypatch.chdir(tmp_path)
    code, _, err = run_ours("record", "--trace", str(d / "prog.trace"),
                            "--monitoring_intervals", *INTERVALS,
                            "--memory", "dram:1G,swap:zswap:1G", "--damos_action", "pageout",
                            "--damos_access_rate", "0", "0", "--damos_age", "1ms", "max")
    assert code == 0, err
    import json
    metrics = json.load(open("damon.data.sim_metrics"))
    scheme, = metrics["final"]["schemes"]
    assert scheme["stats"]["sz_applied"] >= n // 2
    assert metrics["final"]["vmstat"]["zswpout"] * 4096 >= n // 2


def test_elf_symbols_agree_with_nm(program):
    from damo.workloads.symbols import ElfSymbols
    if shutil.which("nm") is None:
        pytest.skip("nm is not installed")
    done = subprocess.run(["nm", "--defined-only", str(program)], capture_output=True,
                          text=True, check=True)
    funcs = {name: int(addr, 16) for addr, kind, name in
             (line.split() for line in done.stdout.splitlines() if len(line.split()) == 3)
             if kind in "Tt"}
    elf = ElfSymbols(str(program))
    for name in ("main", "_start"):
        i = int(elf.lookup([funcs[name]])[0])
        assert elf.names[i] == name
        # by file offset, as a mapping of the program gives it
        (p_offset, _, p_vaddr), = [s for s in elf.segments
                                   if s[2] <= funcs[name] < s[2] + s[1]]
        assert elf.name_at(funcs[name] - p_vaddr + p_offset + 1) == name


def _in_a_terminal(args, cwd, timeout=120):
    """Run damo with stdout and stderr on a pseudo-terminal; everything it
    and its children wrote there, as bytes."""
    import pty
    import select
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "damo.cli"] + args, cwd=str(cwd),
                            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env={k: v for k, v in os.environ.items() if k != "NO_COLOR"})
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        assert ready, "no output for %d s" % timeout
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
    os.close(master)
    assert proc.wait(timeout) == 0, out[-2000:]
    return out


def test_the_traced_programs_output_stays_off_the_spinner_line(tmp_path):
    """On a terminal the program's lines are printed above the spinner, each
    on a cleared line of its own (they used to land after the spinner's
    text: '... 1 sline1'); a prompt without a newline is shown too."""
    out = _in_a_terminal(["record", "-o", "t.data", "--monitoring_intervals", "1us", "10us",
                          "100us", "--", "sh", "-c",
                          "for i in 1 2 3; do echo line$i; sleep 0.4; done; "
                          "printf 'prompt: '; sleep 1; echo answer"], tmp_path)
    assert os.path.exists(tmp_path / "t.data")
    for word in (b"line1", b"line2", b"line3", b"prompt: "):
        assert out.count(word) == 1, out[-2000:]
        i = out.index(word)
        # the spinner's line was erased (ESC[2K) right before the program's
        assert out[:i].endswith(b"\x1b[2K"), out[max(0, i - 80):i + 20]
    assert b"answer" in out


def test_a_short_trace_says_how_long_it_ran_in_ms(tmp_path):
    """A trace of 0.44 simulated ms printed '... of 0.000 simulated seconds'."""
    trace = os.path.join(os.path.dirname(__file__), "data", "traces",
                         "lackey_touch_1MiB.data_only.txt.gz")
    code, _, err = run_ours("record", "--trace", trace, "--time_scale", "1000",
                            "-o", str(tmp_path / "t.data"))
    assert code == 0, err
    import re
    m = re.search(r"wrote (\d+) snapshots of ([\d.]+) simulated ms to ", err)
    assert m, err
    [record] = records.load(str(tmp_path / "t.data")).records
    # the run covers its snapshots (each 100 ms / 1000 long) and is below 1 s
    assert int(m.group(1)) == len(record.end_ns)
    assert record.end_ns[-1] - record.start_ns[0] <= float(m.group(2)) * 1e6 < 1e9
