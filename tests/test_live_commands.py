"""damo's live commands on the simulated kernel, with real daemon processes:
tune with a kdamonds file and --reset, several kdamonds from markers."""
import json
import os
import re
import shutil
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


def _tmux(sock, *args):
    import subprocess
    return subprocess.run(["tmux", "-L", sock] + list(args), capture_output=True, text=True,
                          timeout=30)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_monitor_redraws_in_a_terminal_and_ends_cleanly_on_ctrl_c(live):
    import shlex
    import sys
    sock = "damo-sim-test-%d" % os.getpid()
    env = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in (
        ("DAMO_SIM_RUNTIME_DIR", live.rundir), ("TERM", "xterm-256color"),
        ("PYTHONPATH", os.pathsep.join(sys.path))))
    cmd = "cd %s && env %s %s -m damo.cli monitor %s --speed 20 --delay 0.4 2>&1; " \
          "echo EXIT=$?; sleep 60" % (shlex.quote(live.dir), env, shlex.quote(sys.executable),
                                      shlex.quote(live.workload))
    assert _tmux(sock, "new-session", "-d", "-x", "100", "-y", "30", cmd).returncode == 0
    try:
        def screen():
            return _tmux(sock, "capture-pane", "-p").stdout

        def updates():
            m = re.search(r"update (\d+),", screen())
            return int(m.group(1)) if m else 0

        # at least the second update (a loaded machine may show a later one
        # by the time the pane is read)
        assert wait_for(lambda: updates() >= 2, 30), screen()
        first = screen()
        assert wait_for(lambda: screen() != first and "update" in screen(), 10)
        second = screen()
        # redrawn in place: one header on the screen, its update count moved on
        assert first.count("damo monitor") == second.count("damo monitor") == 1
        assert first != second
        # the heatmap rows (digits) are on the screen
        assert any(len(line) >= 80 and set(line.strip()) <= set("0123456789")
                   for line in second.splitlines()), second
        pids = live.daemon_pids()
        assert len(pids) == 1
        _tmux(sock, "send-keys", "C-c")
        assert wait_for(lambda: "EXIT=0" in screen(), 30), screen()
        out = screen()
        assert "Traceback" not in out and "stopped kdamond 0" in out
        assert wait_for(lambda: not pid_alive(pids[0]), 10)
        assert live.slots() == []
    finally:
        _tmux(sock, "kill-server")


def test_monitor_without_a_terminal_prints_each_report_and_stops_what_it_started(live):
    done = live.damo("monitor", live.workload, "--speed", SPEED, "--delay", "0.3",
                     "--count", "2", "--report_type", "wss")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("# <percentile> <wss>") == 2
    assert "stopped kdamond 0" in done.stderr
    assert live.slots() == []
    # ongoing: reports the running kdamond, leaves it running
    live.start(live.workload, "--speed", SPEED)
    done = live.damo("monitor", "ongoing", "--delay", "0.3", "--count", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 10 and all(len(x) == 80 for x in lines)
    assert "state: on" in live.ok("status")
    one_error_line(live.damo("monitor", "1234"), "damo record -- CMD")
    live.ok("stop")


def test_monitor_ends_when_the_kdamond_does(live):
    # stairs runs 30 simulated seconds: 0.1 s at 300x
    done = live.damo("monitor", "stairs", "--speed", "300", "--delay", "0.3")
    assert done.returncode == 0, done.stderr
    assert "the kdamonds turned off" in done.stderr and "workload builtin:stairs ended" in \
        done.stderr
    assert live.slots() == []


def test_schemes_applies_until_the_workload_ends_or_ctrl_c(live):
    import signal
    import subprocess
    import sys
    done = live.damo("schemes", "stairs", "--speed", "300", "--damos_action", "stat")
    assert done.returncode == 0, done.stderr
    assert "Press Ctrl+C to stop" in done.stdout
    assert "workload builtin:stairs ended" in done.stderr and live.slots() == []
    proc = subprocess.Popen([sys.executable, "-m", "damo.cli", "schemes", live.workload,
                             "--speed", SPEED, "--damos_action", "stat"], env=live.env,
                            cwd=live.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert wait_for(lambda: "state: on" in live.ok("status"), 30)
        [kd] = live.status_json()
        assert kd["contexts"][0]["schemes"][0]["action"] == "stat"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err
    assert "interrupted; stopped kdamond 0" in err
    assert live.slots() == [] and wait_for(lambda: not pid_alive(kd["pid"]))


def test_pause_ctx_starts_a_paused_context_and_a_reset_tune_resumes_it(live):
    live.start(live.workload, "--speed", SPEED, "--pause_ctx", "0")
    c = live.status_json()[0]["contexts"][0]
    assert c["pause"] is True
    # paused: the kdamond sleeps in its pause loop, no aggregation happens
    time.sleep(1.0)
    assert "no snapshot" in live.damo("report", "access").stderr
    # damo's tune replaces everything: without --pause_ctx the context resumes
    live.ok("tune", "--reset")
    assert live.status_json()[0]["contexts"][0]["pause"] is False
    assert wait_for(lambda: live.damo("report", "access").returncode == 0, 20)
    live.ok("stop")
