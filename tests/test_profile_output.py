"""report profile's output (issue 13): values as JSON, short runs in ms,
80 columns, a replay's busy time beside its paced time, the baseline in the
plot; and one time scale for traced programs (record --time_scale), whose
kdamond work --baseline refuses to compare across scales."""
import json
import os
import sys

import numpy as np
import pytest

from conftest import run_ours

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_traces import synthetic_lackey  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 2 s stairs recording, and its replay on DRAM and on DRAM+CXL."""
    d = tmp_path_factory.mktemp("profile")
    paths = {k: str(d / (k + ".data")) for k in ("rec", "dram", "cxl")}
    code, _, err = run_ours("record", "stairs", "--timeout", "2", "-o", paths["rec"])
    assert code == 0, err
    for k, mem in (("dram", "dram:2G"), ("cxl", "dram:8M,cxl:2G")):
        code, _, err = run_ours("replay", paths["rec"], "--memory", mem, "-o", paths[k])
        assert code == 0, err
    return paths


def profile_json(*args):
    code, out, err = run_ours("report", "profile", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def test_json_has_the_numbers_the_text_prints(runs):
    d = profile_json("-i", runs["cxl"], "--baseline", runs["dram"])
    p, = d["processes"]
    # a replay idles between its slices: busy < paced, and --baseline compares busy
    assert 0 < p["busy_ns"] < p["runtime_ns"]
    assert d["summary"]["runtime"] == pytest.approx(p["busy_ns"])
    b = profile_json("-i", runs["dram"])["processes"][0]["busy_ns"]
    over = d["baseline"]["overheads"]["runtime"]
    assert over["baseline"] == pytest.approx(b) and over["variant"] == pytest.approx(p["busy_ns"])
    assert over["overhead"] == pytest.approx(p["busy_ns"] / b - 1)
    # CXL shows in the replay: its stall, and a slower busy time than all-DRAM
    assert p["parts_ns"]["stall on cxl0"] > 0 and over["overhead"] > 0
    assert sum(v for k, v in p["parts_ns"].items()) == pytest.approx(p["runtime_ns"])
    assert [n["name"] for n in d["machine"]["nodes"]] == ["dram0", "cxl0"]


def test_text_fits_80_columns_and_short_runs_print_ms(runs):
    code, out, err = run_ours("report", "profile", "-i", runs["cxl"], "--baseline",
                              runs["dram"], env={"COLUMNS": "80"})
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    # a 2 s run: the memory table's times in ms
    start = lines.index(next(line for line in lines if line.startswith("Memory over time")))
    times = [line.split("│")[0].strip() for line in lines[start + 3:start + 8]]
    assert all(t.endswith(" ms") for t in times), times
    assert any(line.split("│")[1].strip() == "busy (compute and memory)" for line in lines
               if line.count("│") >= 3)
    assert any("idle (paced)" in line for line in lines)


def test_plot_draws_the_baseline_too(runs, tmp_path):
    from PIL import Image
    for name, extra in (("alone.png", []), ("both.png", ["--baseline", runs["dram"]])):
        code, _, err = run_ours("report", "profile", "-i", runs["cxl"], "--plot",
                                str(tmp_path / name), "--size", "800", "600", *extra)
        assert code == 0 and err == "", err
    def bars(name):
        """Coloured runs down a column through the runtime panel (the bottom
        quarter, above its legend): one per bar."""
        img = np.asarray(Image.open(tmp_path / name).convert("RGB"), dtype=int)
        col = img[int(img.shape[0] * 0.7):int(img.shape[0] * 0.92), img.shape[1] // 3]
        coloured = (col.max(axis=1) - col.min(axis=1)) > 60      # not white, grey or black
        runs = np.diff(np.concatenate([[0], coloured.astype(int), [0]]))
        starts, ends = np.flatnonzero(runs == 1), np.flatnonzero(runs == -1)
        return int(((ends - starts) >= 5).sum())
    assert bars("alone.png") == 1 and bars("both.png") == 2


def trace(tmp_path, *args):
    out = str(tmp_path / ("t%d.data" % len(os.listdir(tmp_path))))
    code, _, err = run_ours("record", "--trace", str(tmp_path / "t.txt"),
                            "--time_per_instruction", "200", "--memory", "dram:2M",
                            "-o", out, *args)
    return code, err, out


@pytest.fixture
def lackey(tmp_path):
    synthetic_lackey(tmp_path / "t.txt")
    return tmp_path


def test_a_preset_on_a_traced_program_runs_at_the_same_time_scale(lackey):
    """--preset reclaim's 5 s watermarks check and 100 ms aggregations are
    divided by the scale too: with its watermarks active it records; without
    them the error names the watermarks, not the aggregation interval."""
    active = ["--preset", "reclaim", "--preset_param", "wmarks_high=1000",
              "--preset_param", "wmarks_mid=999", "--preset_param", "wmarks_low=0"]
    code, err, out = trace(lackey, *active)
    assert code == 0, err
    from damo import records
    rec = records.load(out).records[0]
    assert rec.nr_snapshots >= 50          # 98 ms of run, 1 ms aggregations
    code, err, _ = trace(lackey, "--preset", "reclaim")
    assert code == 1 and "watermarks kept the kdamond waiting" in err, err
    # unscaled, the 98 ms run is about one aggregation of 100 ms
    code, err, out = trace(lackey, *active, "--time_scale", "1")
    assert code == 0, err
    assert records.load(out).records[0].nr_snapshots <= 1


def test_kdamond_cpu_is_the_same_at_any_time_scale(lackey):
    """The same simulated intervals, reached by the default scale (damo's
    defaults / 100) or given as simulated times at scale 1: the same checks,
    each 1/100 the CPU time at scale 100, as if DAMON ran at damo's own
    intervals over a 100 times longer run."""
    code, err, scaled = trace(lackey)
    assert code == 0, err
    code, err, raw = trace(lackey, "--monitoring_intervals", "50us", "1ms", "10ms")
    assert code == 0, err
    a, b = (profile_json("-i", p)["kdamonds"][0] for p in (scaled, raw))
    # no DAMOS work: the CPU time is the checks', 200 ns each at scale 1
    assert b["cpu_ns"] == pytest.approx(200 * b["nr_access_checks"], rel=1e-6)
    assert a["cpu_ns"] == pytest.approx(2 * a["nr_access_checks"], rel=1e-6)
    assert a["cpu_util"] < b["cpu_util"] / 50
    code, out, err = run_ours("report", "profile", "-i", scaled, "--baseline", raw)
    assert code == 2 and "time scale 100" in err and "time scale" in err
    assert err.strip().startswith("damo: error: --baseline:")


def test_time_scale_is_for_traced_programs_only(tmp_path):
    code, _, err = run_ours("record", "stairs", "--time_scale", "10", "-o",
                            str(tmp_path / "x.data"))
    assert code == 2 and "--time_scale: for traced programs" in err
