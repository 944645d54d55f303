"""Terminal behaviour of the reports: colours, input handling."""
import re

import pytest

import synth
from conftest import run_ours

ANSI = re.compile("\x1b\\[[0-9;]*m")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("cli") / "r.data")
    synth.stairs(path, nr_snapshots=30)
    return path


def test_color_only_when_asked_or_on_a_terminal(recording):
    _, plain, _ = run_ours("report", "heatmap", "--input", recording)
    _, never, _ = run_ours("report", "heatmap", "--input", recording, "--color", "never")
    _, always, _ = run_ours("report", "heatmap", "--input", recording, "--color", "always")
    assert "\x1b[" not in plain and plain == never     # CliRunner's stdout is no terminal
    assert "\x1b[48;5;232m" in always
    assert ANSI.sub("", always) == plain
    assert plain.splitlines()[40].startswith("# access_frequency: 0123456789 (")


def test_no_color_env_is_honoured_by_auto(recording, monkeypatch):
    monkeypatch.setattr("damo.commands._report_common.sys.stdout.isatty", lambda: True,
                        raising=False)
    from damo.commands import _report_common
    assert _report_common.use_color("auto") is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert _report_common.use_color("auto") is False
    assert _report_common.use_color("always") is True


def test_several_inputs_are_concatenated(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    first_start = synth.stairs(a, nr_snapshots=25).records[0].start_ns[0]
    last_end = synth.stairs(b, nr_snapshots=25, start_ns=10_000_000_000,
                            seed=1).records[0].end_ns[-1]
    code, both, _ = run_ours("report", "heatmap", "--guide", "--input", a, b)
    assert code == 0
    # one target seen from the first start (less its oldest age) to the last end
    assert both.splitlines()[3].startswith("time: [%d, %d)" % (first_start - 100_000_000,
                                                               last_end))


def test_default_input_is_damon_data(tmp_path, monkeypatch):
    synth.stairs(str(tmp_path / "damon.data"), nr_snapshots=25)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_ours("report", "record_info")
    assert code == 0 and out.startswith("kdamond_idx: 0\n")


@pytest.mark.parametrize("style", ["--raw_form", None])
def test_access_listing(recording, style):
    code, out, _ = run_ours("report", "access", *([style] if style else []), "--input",
                            recording)
    assert code == 0
    assert ("monitoring_start:" in out) == (style == "--raw_form")
    assert ("record DAMON intervals: sample 5 ms, aggr 100 ms" in out) == (style is None)


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_broken_pipe_is_exit_141_and_quiet(recordings, unbuffered):
    """`damo report heatmap --output raw | head -1` (250,000 lines): a real pipe
    whose reader goes away after one line; damo stops with 141 (128 + SIGPIPE)
    and says nothing, on a buffered stdout or an unbuffered one."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    proc = subprocess.Popen([sys.executable, "-m", "damo.cli", "report", "heatmap",
                             "--output", "raw", "--input", recordings["big"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 141, err
    finally:
        proc.kill()
        proc.wait()
    assert len(first.split()) == 3          # a pixel: time, address, heat
    assert err == b""


@pytest.mark.parametrize("args, message", [
    (["--time_range", "1x", "2"], "wrong --time_range value '1x'"),
    (["--time_range", "0", "1", "nowhere"], "wrong --time_range value 'nowhere'"),
    (["--time_range", "1"], "--time_range takes <start> <end> [guided|guided_end|<base>]"),
    (["--address_range", "0", "zz"], "wrong --address_range value 'zz'"),
    (["--address_range", "0", "4096", "q"], "wrong --address_range value 'q'"),
    (["--address_range", "1"], "--address_range takes <start> <end> [guided|<base>]"),
    # the hottest region is the one guided range: there is no second
    (["--address_range", "0", "4096", "guided", "--address_range", "0", "4096", "guided"],
     "no guided address range #1 to be the base"),
    (["--resol", "0", "5"], "--resol needs positive numbers"),
    (["--tid", "9"], "no record of kdamond 0 context 0 scheme None target 9"),
])
def test_heatmap_selection_errors_name_the_option(recording, args, message):
    code, out, err = run_ours("report", "heatmap", "--input", recording, *args)
    assert (code, out, err) == (1, "", "damo: error: %s\n" % message)


def test_heatmap_guided_bases(recording):
    """guided / guided_end / a number as the base of the time range, guided
    as the base of an address range: the map starts at base + start."""
    def first_pixel(*args):
        code, out, err = run_ours("report", "heatmap", "--input", recording, "--output", "raw",
                                  "--resol", "3", "3", "--abs_time", "--abs_addr", *args)
        assert (code, err) == (0, "")
        time, addr = out.split()[:2]
        return int(float(time)), int(float(addr))
    _, guide, _ = run_ours("report", "heatmap", "--input", recording, "--guide")
    g_start, g_end = (int(v) for v in re.search(r"time: \[(\d+), (\d+)\)", guide).groups())
    # by default: the guide's time span and its hottest region
    t0, a0 = first_pixel()
    assert t0 == g_start
    second = 1000000000
    assert first_pixel("--time_range", "0", str(second), "guided") == (t0, a0)
    assert first_pixel("--time_range", str(second), str(2 * second), str(t0)) == \
        (t0 + second, a0)
    assert first_pixel("--address_range", "4096", "8192", "guided") == (t0, a0 + 4096)
    assert first_pixel("--time_range", str(-second), "0", "guided_end") == \
        (g_end - second, a0)
