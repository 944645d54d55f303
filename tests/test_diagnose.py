"""damo diagnose: one test per reason a scheme applies nothing or less
than it tried, each on a run built to have that reason (recordings, and
live kdamonds with real daemons); damo status and report profile print the
same hints."""
import json
import os
import re

import pytest

from conftest import run_ours
from test_live import Live, one_error_line, wait_for  # noqa: F401


def record(tmp_path, name, *args):
    out = str(tmp_path / (name + ".data"))
    code, _, err = run_ours("record", *args, "-o", out)
    assert code == 0, err
    return out


def diagnose(path):
    code, out, err = run_ours("diagnose", "-i", path)
    assert code == 0, err
    return out.splitlines()


def test_apply_interval_re_armed_by_intervals_auto_tuning(tmp_path):
    # mtier: apply interval 1 s, auto-tuning every 3 aggregations of 100 ms
    path = record(tmp_path, "mtier", "hotcold", "--memory", "dram:64M,cxl:256M",
                  "--preset", "mtier", "--timeout", "10")
    promote = diagnose(path)[0]
    assert promote.startswith("kdamond 0 context 0 scheme 0 (migrate_hot): applied nothing: "
                              "apply interval 1 s never reached: intervals auto-tuning re-armed")
    assert "every 3 aggregations of 100 ms" in promote
    # without auto-tuning the apply interval comes, and the goal's feedback loop,
    # starting from one byte, holds the quota at its floor for a while
    path = record(tmp_path, "fixed", "hotcold", "--memory", "dram:64M,cxl:256M", "--preset",
                  "mtier", "--preset_param", "intervals_autotune=N", "--timeout", "10")
    line = diagnose(path)[0]
    assert "never reached" not in line
    assert "its quota goal holds it at its floor" in line and "node_mem_used_bp" in line


def test_watermarks_inactive_with_the_metrics_value(tmp_path):
    path = record(tmp_path, "w", "hotcold", "--timeout", "5", "--damos_action", "pageout",
                  "--damos_wmarks", "free_mem_rate", "1s", "500", "400", "200")
    [line] = diagnose(path)
    m = re.search(r"watermarks keep it inactive: free memory ([0-9.]+)% is above the high "
                  r"watermark.*\(high 50\.0%, mid 40\.0%, low 20\.0%\)", line)
    assert m, line
    with open(path + ".sim_metrics") as f:
        metrics = json.load(f)
    total = sum(n["capacity"] for n in metrics["machine"]["nodes"])
    free = (total - sum(metrics["node_used"][-1])) * 1000 // total
    assert m.group(1) == "%.1f" % (free / 10)


def test_quota_goal_at_its_floor(tmp_path):
    # user_input 30000 for a target of 10000: over-achieved, so the feedback
    # loop gives its minimum input, 10000 bp: an effective quota of 1 byte
    path = record(tmp_path, "q", "hotcold", "--memory", "dram:256M,swap:zswap", "--timeout",
                  "5", "--damos_action", "pageout", "--damos_quotas", "0", "1G", "1s",
                  "--damos_quota_goal", "user_input", "10000", "30000")
    [line] = diagnose(path)
    assert "applied nothing: its quota goal holds it at its floor: effective size quota 1 B " \
           "(goal user_input, target 10,000, current 30,000" in line


def test_no_region_matched_with_the_nearest(tmp_path):
    # 1000 s is 10,000 aggregations of 100 ms: no region of a 3 s run is that old
    path = record(tmp_path, "a", "stairs", "--timeout", "3", "--damos_action", "pageout",
                  "--damos_age", "1000s", "max")
    [line] = diagnose(path)
    assert "applied nothing: no region matched its access pattern; the nearest: [0x" in line
    ages = [int(a) for a in re.findall(r"age (\d+) \(needs >= 10000\)", line)]
    assert ages and all(a <= 30 for a in ages)     # at most 30 aggregations in 3 s


def test_filters_rejected_everything(tmp_path):
    path = record(tmp_path, "f", "hotcold", "--ops", "paddr", "--memory",
                  "dram:1G,swap:zswap", "--timeout", "3", "--damos_action", "pageout",
                  "--damos_filter", "reject", "memcg", "/")
    [line] = diagnose(path)
    assert re.search(r"applied nothing: filters \(reject memcg /\) rejected everything: 0 B "
                     r"of [0-9.]+ [KMG]iB tried passed", line), line


def test_pageout_without_swap(tmp_path):
    path = record(tmp_path, "s", "hotcold", "--timeout", "5", "--damos_action", "pageout",
                  "--damos_age", "1s", "max")
    [line] = diagnose(path)
    assert "the machine has no swap: pageout cannot reclaim anonymous memory" in line
    # with swap, no hint
    path = record(tmp_path, "s2", "hotcold", "--memory", "dram:16G,swap:zswap", "--timeout",
                  "5", "--damos_action", "pageout", "--damos_age", "1s", "max")
    assert "no swap" not in diagnose(path)[0]


def test_regions_over_unmapped_gaps_count_nothing_applied(tmp_path):
    # random_phases' four areas are mmaps with a guard page between them: the
    # DAMON regions that take one in cannot be paged out by madvise() without
    # ENOMEM, so none of them counts applied (damos_madvise()), though their
    # mapped pages go; every other region the pageout tried counts whole
    path = record(tmp_path, "g", "random_phases", "--memory", "dram:224M,swap:zswap",
                  "--timeout", "20", "--damos_action", "pageout", "--damos_access_rate",
                  "0", "0", "--damos_age", "3s", "max")
    [line] = diagnose(path)
    m = re.search(r"applied ([0-9.]+ [KMG]iB) of ([0-9.]+ [KMG]iB) tried: (\d+) regions? "
                  r"\(([0-9.]+ [KMG]iB)\) had an unmapped gap inside: madvise\(\) acts on the "
                  r"mapped parts, then fails with ENOMEM", line)
    assert m, line
    with open(path + ".sim_metrics") as f:
        final = json.load(f)["final"]
    [scheme] = final["schemes"]
    st, holes = scheme["stats"], scheme["apply_state"]
    assert 0 < holes["nr_madvise_holes"] == int(m.group(3)) <= st["nr_tried"] - st["nr_applied"]
    assert 0 < st["sz_applied"] < st["sz_tried"]
    assert st["sz_applied"] + holes["sz_madvise_holes"] == st["sz_tried"]
    # the line's figures are those counters
    from damo import units
    assert [m.group(1), m.group(2), m.group(4)] == [
        units.format_sz(x, False) for x in (st["sz_applied"], st["sz_tried"],
                                             holes["sz_madvise_holes"])]
    # the pages of those regions were paged out all the same
    assert final["vmstat"]["zswpout"] > 0


def test_report_profile_prints_the_same_hints(tmp_path):
    path = record(tmp_path, "s", "hotcold", "--timeout", "3", "--damos_action", "pageout",
                  "--damos_age", "1s", "max")
    code, out, err = run_ours("report", "profile", "-i", path)
    assert code == 0, err
    hints = []
    for line in out.split("\nhints\n")[1].splitlines():
        if line.startswith("    ") and hints:
            hints[-1] += " " + line.strip()     # a hint wrapped to the terminal's width
        else:
            hints.append(line.strip())
    assert hints == diagnose(path)


def test_bad_input_is_one_error(tmp_path):
    bad = tmp_path / "x.data"
    bad.write_text("not a recording")
    code, out, err = run_ours("diagnose", "-i", str(bad))
    assert code != 0 and out == "" and err.startswith("damo: error: ") and \
        err.count("\n") == 1


@pytest.fixture
def live():
    lv = Live()
    yield lv
    lv.cleanup()


def test_target_gone_live(live):
    # stairs ends after 30 simulated seconds, before an apply interval of 60 s
    live.start("stairs", "--speed", "300", "--damos_action", "pageout",
               "--damos_apply_interval", "60s")
    assert wait_for(lambda: "state: off" in live.ok("status"))
    [line] = live.ok("diagnose").splitlines()
    assert line == ("kdamond 0 context 0 scheme 0 (pageout): applied nothing: its target is "
                    "gone (its monitoring targets exited (workload builtin:stairs ended))")
    live.damo("stop")
    assert live.slots() == []


def test_status_and_diagnose_of_a_live_kdamond(live):
    live.start(live.workload, "--speed", "20", "--damos_action", "pageout",
               "--damos_wmarks", "free_mem_rate", "100ms", "500", "400", "200")
    assert wait_for(lambda: "watermarks keep it inactive" in live.ok("diagnose"), 20)
    [line] = live.ok("diagnose").splitlines()
    status = live.ok("status")
    assert "hint: " + line in status.splitlines()
    one_error_line(live.damo("diagnose", "--verbose", "-i", "nope.data"), "nope.data")
    report = json.loads(live.ok("diagnose", "--verbose").split("\n", 1)[1])
    assert [k["state"] for k in report["sysfs"]["kdamonds"]] == ["on"]
    assert report["damon_reclaim_status"]["enabled"] == "N"
    live.ok("stop")
    one_error_line(live.damo("diagnose"), "no kdamond is running", "--input")
