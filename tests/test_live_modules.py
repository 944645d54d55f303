"""The simulated kernel's DAMON_RECLAIM, DAMON_LRU_SORT and DAMON_STAT with
real daemon processes: each turned on, its parameters changed online, its
stats read, turned off; the kernel selftests' check (reclaim.sh,
lru_sort.sh: enabled=Y gives exactly one kdamond, N none); the kernel's
refusals; a killed machine."""
import json
import os
import signal

import pytest

from test_live import Live, one_error_line, pid_alive, wait_for  # noqa: F401

# both areas touched first (so that they take memory), then only a is hot
MODULE_WORKLOAD = """\
a, 8m
b, 8m

init
300
a, 0, 4096, 1
b, 0, 4096, 1

hot a
600000
a, 0, 4096, 1
"""
SPEED = "20"


@pytest.fixture
def live():
    lv = Live()
    with open(os.path.join(lv.dir, "mod.cfg"), "w") as f:
        f.write(MODULE_WORKLOAD)
    lv.mod_workload = os.path.join(lv.dir, "mod.cfg")
    yield lv
    lv.cleanup()


def params(live, module):
    args = ["module", "stat", "read"] if module == "stat" else [module, "status"]
    out = live.ok(*args)
    return dict(line.split(": ", 1) for line in out.splitlines())


def nr_running_kdamonds(live):
    """What `pgrep kdamond | wc -l` counts on a kernel."""
    text = live.ok("status", "--format", "json")
    return sum(1 for k in json.loads(text) if k["state"] == "on") if text.strip() != \
        "no kdamond is running" else 0


def test_reclaim_on_online_commit_stats_off(live):
    assert nr_running_kdamonds(live) == 0
    p = params(live, "reclaim")          # a fresh kernel's, no machine yet
    assert (p["enabled"], p["kdamond_pid"], p["min_age"], p["quota_sz"]) == \
        ("N", "-1", "120000000", "134217728")
    live.ok("reclaim", "enable", "--min_age", "1000000", "--wmarks", "100000", "500", "400",
            "200", "--speed", SPEED, "--memory", "dram:24M,swap:zswap",
            "--workload", live.mod_workload)
    # reclaim.sh: one kdamond once enabled
    assert nr_running_kdamonds(live) == 1
    p = params(live, "reclaim")
    [kd] = json.loads(live.ok("status", "--format", "json"))
    assert p["enabled"] == "Y" and p["kdamond_pid"] == "%d" % kd["pid"] and pid_alive(kd["pid"])
    assert kd["simulation"]["module"] == "DAMON_RECLAIM"
    # the kernel wrote the default region (all memory) back into the parameters
    start, end = int(p["monitor_region_start"]), int(p["monitor_region_end"])
    assert end - start == 24 << 20
    s = kd["contexts"][0]["schemes"][0]
    assert s["action"] == "pageout"
    # min_age 1 s / aggr 100 ms = 10 aggregations
    assert s["access_pattern"]["age"]["min"] == "10 aggr_intervals"
    # b idles: free memory is below the middle watermark (40%), so it is paged out
    assert wait_for(lambda: int(params(live, "reclaim")["nr_reclaimed_regions"]) > 0, 30)
    p = params(live, "reclaim")
    assert int(p["bytes_reclaimed_regions"]) <= int(p["bytes_reclaim_tried_regions"])
    assert int(p["bytes_reclaimed_regions"]) <= 8 << 20
    # online: commit_inputs applies new parameters to the running kdamond, stats kept
    tried = int(p["nr_reclaim_tried_regions"])
    live.ok("reclaim", "commit", "--min_age", "3000000", "--quota", "10", "1048576", "1000")
    p = params(live, "reclaim")
    assert (p["enabled"], p["min_age"], p["quota_sz"]) == ("Y", "3000000", "1048576")
    [kd2] = json.loads(live.ok("status", "--format", "json"))
    assert kd2["pid"] == kd["pid"]          # the same kdamond
    s = kd2["contexts"][0]["schemes"][0]
    assert s["access_pattern"]["age"]["min"] == "30 aggr_intervals"
    assert s["quotas"]["sz_bytes"] == "1024.000 KiB"
    assert int(p["nr_reclaim_tried_regions"]) >= tried
    # refused commit: the kdamond keeps its parameters (the value is stored, as
    # the kernel stores it)
    one_error_line(live.damo("reclaim", "commit", "--nr_regions", "2", "100"),
                   "damon_reclaim", "Invalid argument", "min_nr_regions")
    assert params(live, "reclaim")["enabled"] == "Y"
    [kd3] = json.loads(live.ok("status", "--format", "json"))
    assert kd3["contexts"][0]["nr_regions"]["min"] == "10"
    # off: no kdamond (reclaim.sh)
    live.ok("reclaim", "disable", "--nr_regions", "10", "1000")
    assert nr_running_kdamonds(live) == 0
    assert params(live, "reclaim")["kdamond_pid"] == "-1"
    one_error_line(live.damo("reclaim", "commit"), "DAMON_RECLAIM is not running")
    live.ok("stop")
    assert live.slots() == [] and wait_for(lambda: not pid_alive(kd["pid"]))


def test_lru_sort_on_stats_off_and_module_exclusivity(live):
    live.ok("lru_sort", "enable", "--hot_thres_access_freq", "200", "--speed", SPEED,
            "--memory", "dram:18M,swap:zswap", "--workload", live.mod_workload)
    assert nr_running_kdamonds(live) == 1            # lru_sort.sh
    [kd] = json.loads(live.ok("status", "--format", "json"))
    hot, cold = kd["contexts"][0]["schemes"]
    assert (hot["action"], cold["action"]) == ("lru_prio", "lru_deprio")
    # 20 samples per aggregation x 200 permil = 4 samples; quota 10 ms halved
    assert hot["access_pattern"]["nr_accesses"]["min"] == "4 samples"
    assert hot["quotas"]["time_ms"] == "5 ms"
    # free memory is below 15%: hot a is prioritized
    assert wait_for(lambda: int(params(live, "lru_sort")["nr_lru_sorted_hot_regions"]) > 0,
                    30)
    p = params(live, "lru_sort")
    assert int(p["bytes_lru_sorted_hot_regions"]) <= int(p["bytes_lru_sort_tried_hot_regions"])
    # the modules run their kdamond alone (damon_start() exclusive)
    one_error_line(live.damo("reclaim", "enable"), "damon_reclaim", "enabled",
                   "Device or resource busy")
    one_error_line(live.damo("module", "stat", "write", "enabled", "Y"),
                   "Device or resource busy")
    # a written parameter that apply_parameters() refuses leaves it off
    live.ok("lru_sort", "disable")
    assert nr_running_kdamonds(live) == 0
    one_error_line(live.damo("lru_sort", "enable", "--monitor_intervals", "0", "100000"),
                   "damon_lru_sort", "sample_interval", "Invalid argument")
    assert params(live, "lru_sort")["enabled"] == "N" and nr_running_kdamonds(live) == 0
    live.ok("stop")
    assert live.slots() == []


def test_stat_on_stats_off(live):
    live.ok("module", "stat", "write", "enabled", "Y", "--speed", SPEED,
            "--memory", "dram:64M", "--workload", live.mod_workload)
    assert nr_running_kdamonds(live) == 1
    [kd] = json.loads(live.ok("status", "--format", "json"))
    c = kd["contexts"][0]
    assert c["ops"] == "paddr" and c["intervals"]["intervals_goal"]["aggrs"] == "3"
    # published every 5 s (simulated) at least: percentiles, bandwidth, aggr interval
    assert wait_for(lambda: params(live, "stat")["aggr_interval_us"] != "0", 30)
    p = params(live, "stat")
    pct = [int(x) for x in p["memory_idle_ms_percentiles"].split(",")]
    assert len(pct) == 101 and pct == sorted(pct)
    # hot a (8 MiB) is accessed: negative idle times below; idle memory above
    assert pct[0] < 0 < pct[100]
    bw = int(p["estimated_memory_bandwidth"])
    # at most every byte of memory accessed at every 5 ms sample
    assert 0 < bw <= (64 << 20) * 1000 * 1000 // 5000
    out = live.ok("module", "stat", "read", "idle_time_percentiles")
    assert out.splitlines()[0].split()[0] == "0" and len(out.splitlines()) == 11
    live.ok("module", "stat", "write", "enabled", "N")
    assert nr_running_kdamonds(live) == 0
    assert params(live, "stat")["enabled"] == "N"
    live.ok("stop")


@pytest.mark.parametrize("args, words", [
    (["module", "stat", "write", "enabled", "maybe"], ["enabled", "Invalid argument"]),
    (["module", "stat", "write", "enabled"], ["wrong paramter_value"]),
    (["module", "stat", "write", "aggr_interval_us", "5"], ["read-only"]),
    (["module", "stat", "write", "no_such", "5"], ["no_such", "No such file"]),
    (["module", "stat", "read", "no_such"], ["Wrong parameter (no_such)"]),
])
def test_bad_module_input_is_refused_and_boots_nothing(live, args, words):
    done = live.damo(*args)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    for w in words:
        assert w in done.stderr
    assert live.slots() == []


def test_parameter_checks_of_the_kernel(live):
    live.ok("module", "stat", "write", "enabled", "N", "--speed", SPEED,
            "--workload", live.mod_workload)          # boots a machine, module off
    one_error_line(live.damo("module", "reclaim", "enable", "--min_age", "-5"),
                   "damon_reclaim: min_age: Invalid argument")
    # the minimum region size must stay a power of 2: 4096 / 3 is not
    assert params(live, "reclaim")["enabled"] == "N"
    live.ok("module", "stat", "write", "enabled", "N")
    live.ok("stop")


def test_a_killed_module_machine_shows_as_dead(live):
    live.ok("reclaim", "enable", "--speed", SPEED, "--workload", live.mod_workload)
    [kd] = json.loads(live.ok("status", "--format", "json"))
    os.kill(kd["pid"], signal.SIGKILL)
    assert wait_for(lambda: "state: dead" in live.ok("status"))
    done = live.damo("reclaim", "status")
    assert done.returncode == 0 and "enabled: N" in done.stdout
    assert "dead" in done.stderr
    live.damo("stop")
    assert live.slots() == []


def test_a_module_kdamond_is_the_modules_to_change(live):
    live.ok("module", "reclaim", "enable", "--speed", SPEED, "--workload", live.mod_workload)
    [kd] = json.loads(live.ok("status", "--format", "json"))
    assert "module: DAMON_RECLAIM (its parameters: damo module reclaim)" in live.ok("status")
    # the module owns its kdamond: damo tune does not reach it
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "5", "50"),
                   "kdamond 0 is DAMON_RECLAIM's", "damo module reclaim")
    assert params(live, "reclaim")["enabled"] == "Y"
    # damo stop --kdamond_idx ends the module's machine
    live.ok("stop", "--kdamond_idx", "0")
    assert live.slots() == [] and wait_for(lambda: not pid_alive(kd["pid"]))
