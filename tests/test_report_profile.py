"""damo report profile: where a recorded run's time and memory went, its
schemes' effects, and the damon-tests overheads against a baseline."""
import json
import os
import re

import pytest

from conftest import run_ours
from damo.reports import profile

MiB = 1 << 20


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profile")
    paths = {}
    for name, extra in (("base", []),
                        ("prcl", ["--damos_action", "pageout", "--damos_access_rate", "0", "0",
                                  "--damos_age", "5s", "max"])):
        paths[name] = str(tmp / (name + ".data"))
        code, _, err = run_ours("record", "hotcold", "--memory", "dram:512M,cxl:512M,swap:zswap",
                                *extra, "-o", paths[name])
        assert code == 0, err
    return paths


def test_profile_sections(recordings):
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"])
    assert code == 0, err
    for title in ("Runtime", "Memory over time, per tier", "Memory events", "DAMOS schemes",
                  "Monitoring work"):
        assert title in out
    assert "node 1 cxl0" in out and "swap   zswap" in out
    assert "stall on dram0" in out and "stall on cxl0" in out
    assert "pages swapped out" in out
    assert "0/0/0: pageout, sz [0 B, max], access [0 %, 0 %], age [5 s, max]" in out
    assert "Against the baseline" not in out


def test_runtime_split_adds_up(recordings):
    m = json.load(open(recordings["prcl"] + ".sim_metrics"))
    proc = m["final"]["processes"][0]
    parts, total = profile.runtime_parts(m, proc)
    assert [p for p, _ in parts][:3] == ["compute", "stall on dram0", "stall on cxl0"]
    # (the program's start-up, before its clock starts, is in the parts too)
    assert sum(v for _, v in parts) == pytest.approx(total, rel=1e-6)
    assert proc["finished"] and total > 30e9


def test_baseline_overheads_as_damon_tests(recordings):
    code, out, _ = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--baseline", recordings["base"], "--sections", "baseline")
    assert code == 0
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^(\S+)\s+│.*│\s*(\S+)$", out, re.M)}
    base = profile.summary(json.load(open(recordings["base"] + ".sim_metrics")))
    prcl = profile.summary(json.load(open(recordings["prcl"] + ".sim_metrics")))
    expected = (prcl["rss.avg"] / base["rss.avg"] - 1) * 100
    assert rows["rss.avg"] == "%+.2f%%" % expected
    assert expected < -50
    assert rows["runtime"] == "%+.2f%%" % ((prcl["runtime"] / base["runtime"] - 1) * 100)
    assert rows["pswpout"] == "n/a"             # divided by a zero baseline
    assert list(rows)[:8] == list(profile.COMPARED_METRICS)


def test_memory_over_time_rows(recordings):
    code, out, _ = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--sections", "memory", "--nr_rows", "4")
    assert code == 0
    lines = [l for l in out.splitlines() if re.match(r"^\s*\d+\.\d s │", l)]
    assert len(lines) == 4
    assert "rss avg" in out


def test_plot(recordings, tmp_path):
    png = str(tmp_path / "p.png")
    code, out, err = run_ours("report", "profile", "--input", recordings["prcl"],
                              "--plot", png)
    assert code == 0, err
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_bad_extension_is_one_line(recordings, tmp_path):
    code, _, err = run_ours("report", "profile", "--input", recordings["prcl"],
                            "--plot", str(tmp_path / "p.gif"))
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "p.gif")


def test_recording_without_metrics_is_one_line(tmp_path):
    import synth
    path = str(tmp_path / "old.data")
    synth.stairs(path, nr_snapshots=5)
    code, _, err = run_ours("report", "profile", "--input", path)
    assert code == 1
    assert err.strip().splitlines() == [
        "damo: error: %s: no machine metrics (the recording has none, and there is no "
        "%s.sim_metrics): record it with this damo record" % (path, path)]


def test_unknown_section_is_one_line(recordings):
    code, _, err = run_ours("report", "profile", "--input", recordings["base"],
                            "--sections", "runtime,flames")
    assert code == 2 and "--sections: no section 'flames'" in err


def test_sections_can_be_added():
    from rich.text import Text
    name = "test-extra"
    profile.register_section(name, lambda d: [Text("extra for %s" % d.path)])
    try:
        assert profile.sections()[-1] == name
        data = profile.ProfileData("x", {"final": {}})
        assert profile.render(data, only=[name]) == "extra for x"
    finally:
        profile._SECTIONS[:] = [s for s in profile._SECTIONS if s[0] != name]
