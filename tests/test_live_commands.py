"""damo's live commands on the simulated kernel, with real daemon processes:
tune with a kdamonds file and --reset, several kdamonds from markers."""
import json
import os
import time

import pytest

from test_live import Live, SPEED, one_error_line, pid_alive, wait_for  # noqa: F401


@pytest.fixture
def live():
    lv = Live()
    yield lv
    lv.cleanup()


def _ctx(kd):
    return kd["contexts"][0]


def test_tune_reset_and_kdamonds_file_replace_every_parameter(live):
    idx, pid = live.start(live.workload, "--speed", SPEED,
                          "--monitoring_nr_regions_range", "20", "400",
                          "--damos_action", "stat", "--damos_age", "1s", "max")
    # the default: only what is given changes
    live.ok("tune", "--monitoring_intervals", "10ms", "200ms", "2s")
    c = _ctx(live.status_json()[0])
    assert c["nr_regions"] == {"min": "20", "max": "400"}
    assert [s["action"] for s in c["schemes"]] == ["stat"]
    # --reset: the command line is everything; what it leaves out is damo's default
    live.ok("tune", "--reset", "--monitoring_intervals", "10ms", "200ms", "2s")
    c = _ctx(live.status_json()[0])
    assert c["nr_regions"] == {"min": "10", "max": "1,000"}
    assert c["schemes"] == [] and c["intervals"]["aggr_us"] == "200 ms"
    assert pid_alive(pid)
    # a kdamonds file (damo's layout) replaces the parameters with its own
    path = os.path.join(live.dir, "k.json")
    kd = live.status_json()[0]
    _ctx(kd)["nr_regions"] = {"min": "30", "max": "300"}
    with open(path, "w") as f:
        json.dump({"kdamonds": [kd]}, f)
    live.ok("tune", path)
    c = _ctx(live.status_json()[0])
    assert c["nr_regions"] == {"min": "30", "max": "300"}
    # refused: the kdamond keeps its parameters
    _ctx(kd)["nr_regions"] = {"min": "2", "max": "300"}
    with open(path, "w") as f:
        json.dump({"kdamonds": [kd]}, f)
    one_error_line(live.damo("tune", path), "min_nr_regions")
    one_error_line(live.damo("tune", path, "--monitoring_nr_regions_range", "5", "50"),
                   "--monitoring_nr_regions_range", "kdamonds file")
    one_error_line(live.damo("tune", os.path.join(live.dir, "nope.json")), "nope.json")
    assert _ctx(live.status_json()[0])["nr_regions"] == {"min": "30", "max": "300"}
    live.ok("stop")


def test_start_several_kdamonds_with_markers_and_tune_each(live):
    out = live.ok("start", live.workload, "--speed", SPEED,
                  "--kdamond", "--ops", "vaddr", "--damos_action", "stat",
                  "--kdamond", "--ops", "paddr", "--monitoring_nr_regions_range", "20", "200")
    assert len(out.splitlines()) == 2
    kds = live.status_json()
    assert [_ctx(k)["ops"] for k in kds] == ["vaddr", "paddr"]
    assert [len(_ctx(k)["schemes"]) for k in kds] == [1, 0]
    assert _ctx(kds[1])["nr_regions"] == {"min": "20", "max": "200"}
    # a command line of two kdamonds tunes both, in order
    live.ok("tune", "--kdamond", "--monitoring_nr_regions_range", "11", "111",
            "--kdamond", "--monitoring_nr_regions_range", "22", "222")
    kds = live.status_json()
    assert [_ctx(k)["nr_regions"]["min"] for k in kds] == ["11", "22"]
    assert len(_ctx(kds[0])["schemes"]) == 1      # kept
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "5", "50"),
                   "several kdamonds", "--kdamond_idx")
    live.ok("stop")
    assert live.slots() == []


def test_obsolete_targets_are_dropped_by_tune(live):
    live.start(live.workload, "--speed", SPEED, "--ops", "fvaddr",
               "--damon_target", "-r", "0x400000-0x800000",
               "--damon_target", "-r", "0x900000-0xa00000")
    c = _ctx(live.status_json()[0])
    assert len(c["targets"]) == 2
    live.ok("tune", "--obsolete_targets", "0")
    c = _ctx(live.status_json()[0])
    # the kernel destroyed target 0; target 1 is now the only one
    assert [t["regions"] for t in c["targets"]] == [[{"start": "9,437,184",
                                                      "end": "10,485,760"}]]
    one_error_line(live.damo("tune", "--obsolete_targets", "3"), "there is no target 3")
    live.ok("stop")


def _state_updates(live, seconds):
    path = os.path.join(live.rundir, live.slots()[0], "state.json")
    seen = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                seen.add(json.load(f)["updated"])
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return len(seen)


def test_refresh_stat_sets_how_often_the_state_file_is_refreshed(live):
    live.start(live.workload, "--speed", SPEED, "--refresh_stat", "1000")
    assert live.status_json()[0]["refresh_ms"] == 1000
    assert "stats refresh per: 1 s" in live.ok("status")
    slow = _state_updates(live, 2.0)
    live.ok("tune", "--refresh_stat", "100")
    fast = _state_updates(live, 2.0)
    # every second for two seconds, then every 100 ms
    assert slow <= 4 and fast >= 10, (slow, fast)
    live.ok("stop")
