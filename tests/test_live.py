"""Live simulated kdamonds, end to end with real background processes:
start, status, tune (valid, invalid, one knob), report access, record
ongoing, stop; dead daemons (SIGKILL) and the runtime directory's safety."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from damo import records

# a workload that outlives every test: 20 simulated hours (at 30x, 10 simulated minutes
# lasted 20 s, which a loaded machine's test run outlived)
LONG_WORKLOAD = """\
a, 8m
b, 8m

hot a
36000000
a, 0, 4096, 1

hot b
36000000
b, 0, 4096, 1
"""
SPEED = "20"


class Live:
    """`damo` as real processes, on a private runtime directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="dsim", dir="/tmp")
        self.rundir = os.path.join(self.dir, "rt")
        self.env = dict(os.environ, DAMO_SIM_RUNTIME_DIR=self.rundir, NO_COLOR="1")
        self.workload = os.path.join(self.dir, "long.cfg")
        with open(self.workload, "w") as f:
            f.write(LONG_WORKLOAD)

    def damo(self, *args, timeout=60):
        done = subprocess.run([sys.executable, "-m", "damo.cli"] + list(args),
                              capture_output=True, text=True, env=self.env, timeout=timeout,
                              cwd=self.dir)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args, **kwargs):
        done = self.damo(*args, **kwargs)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def start(self, *args):
        out = self.ok("start", *args)
        m = re.match(r"kdamond (\d+) started \(daemon pid (\d+)\)", out)
        assert m, out
        return int(m.group(1)), int(m.group(2))

    def status_json(self):
        return json.loads(self.ok("status", "--format", "json"))

    def slots(self):
        if not os.path.isdir(self.rundir):
            return []
        return sorted(n for n in os.listdir(self.rundir) if n.startswith("kdamond."))

    def daemon_pids(self):
        """Pids of our daemons still alive (verified by their command line)."""
        pids = []
        for slot in self.slots():
            try:
                with open(os.path.join(self.rundir, slot, "state.json")) as f:
                    pid = json.load(f)["pid"]
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmdline = f.read()
            except (OSError, ValueError, KeyError):
                continue
            if b"damo.live.daemon" in cmdline and self.rundir.encode() in cmdline:
                pids.append(pid)
        return pids

    def cleanup(self):
        self.damo("stop")
        for pid in self.daemon_pids():
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def live():
    lv = Live()
    yield lv
    lv.cleanup()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def one_error_line(done, *words):
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("damo: error: "), \
        done.stderr
    for w in words:
        assert w in done.stderr, done.stderr


def test_start_status_tune_report_record_stop(live):
    idx, pid = live.start(live.workload, "--speed", SPEED)
    assert idx == 0 and pid_alive(pid)
    assert live.slots() == ["kdamond.0"]
    assert oct(os.stat(live.rundir).st_mode & 0o777) == "0o700"

    text = live.ok("status")
    assert text.startswith("kdamond 0\n    state: on, pid: %d\n" % pid)
    assert "intervals: sample 5 ms, aggr 100 ms, update 1 s" in text
    assert "nr_regions: [10, 1,000]" in text
    assert live.ok("report", "damon").startswith("kdamond 0\n    state: on, pid: %d\n" % pid)
    [kd] = live.status_json()
    assert kd["state"] == "on" and kd["pid"] == pid
    # damo's kdamonds layout: report damon reads it back offline
    kdamonds_file = os.path.join(live.dir, "kdamonds.json")
    with open(kdamonds_file, "w") as f:
        json.dump([kd], f)
    offline = live.ok("report", "damon", "--input_file", kdamonds_file)
    assert offline.startswith("kdamond 0\n    state: on, pid: %d\n    context 0\n" % pid)
    assert "nr_regions: [10, 1,000]" in offline

    # change one knob: only it changes
    live.ok("tune", "--monitoring_nr_regions_range", "5", "50")
    text = live.ok("status")
    assert "nr_regions: [5, 50]" in text
    assert "intervals: sample 5 ms, aggr 100 ms, update 1 s" in text
    live.ok("tune", "--monitoring_intervals", "10ms", "200ms", "2s")
    text = live.ok("status")
    assert "intervals: sample 10 ms, aggr 200 ms, update 2 s" in text
    assert "nr_regions: [5, 50]" in text

    # what the kernel refuses is refused; the kdamond keeps its parameters
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "2", "50"),
                   "min_nr_regions")
    one_error_line(live.damo("tune", "--monitoring_intervals", "300ms", "200ms", "2s"),
                   "sampling interval")
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "100", "50"),
                   "larger than max_nr_regions")
    one_error_line(live.damo("tune"), "nothing to tune")
    live.ok("tune", "--speed", "30")
    assert "simulated at 30x speed" in live.ok("status")
    text = live.ok("status")
    assert "state: on" in text and "nr_regions: [5, 50]" in text
    assert "intervals: sample 10 ms, aggr 200 ms, update 2 s" in text
    assert pid_alive(pid)

    # live snapshot: wait for an aggregation with the new intervals
    assert wait_for(lambda: "aggr 200 ms" in live.ok("report", "access"))
    out = live.ok("report", "access")
    assert "heatmap:" in out and "total size:" in out
    assert "intervals: sample 10 ms aggr 200 ms" in out
    raw = live.ok("report", "access", "--raw_form")
    assert raw.startswith("base_time_absolute: ")

    # record from the running kdamond
    path = os.path.join(live.dir, "ongoing.data")
    done = live.damo("record", "ongoing", "-o", path, "--timeout", "2")
    assert done.returncode == 0, done.stderr
    assert "snapshots of 2.0 simulated seconds" in done.stderr
    recording = records.load(path)
    [rec] = recording.records
    assert rec.kdamond_idx == 0 and rec.nr_snapshots >= 8
    assert rec.intervals.sample_us == 10000 and rec.intervals.aggr_us == 200000
    span = rec.end_ns[-1] - rec.start_ns[0]
    # snapshots that end within the 2 simulated seconds (the first may start before)
    assert 1.5e9 <= span <= 2.3e9
    one_error_line(live.damo("record", "ongoing", "--monitoring_intervals", "1", "2", "3"),
                   "--monitoring_intervals", "ongoing")

    # stop: clean exit, state removed
    live.ok("stop")
    assert wait_for(lambda: not pid_alive(pid))
    assert live.slots() == []
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "5", "50"),
                   "no kdamond is running")
    one_error_line(live.damo("report", "access"), "no kdamond is running")
    assert live.ok("status") == "no kdamond is running\n"
    one_error_line(live.damo("stop"), "no kdamond")


def test_sigkill_dead_kdamond(live):
    idx, pid = live.start("--ops", "paddr", "--speed", SPEED)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: "state: dead" in live.ok("status"))
    text = live.ok("status")
    assert text.startswith("kdamond 0\n    state: dead")
    assert "`damo start` cleans it up" in text
    assert live.status_json()[0]["state"] == "dead"
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "5", "50"),
                   "no kdamond is running", "dead")
    one_error_line(live.damo("report", "access"), "no kdamond is running")
    # start cleans up after it and reuses its index
    done = live.damo("start", "--ops", "paddr", "--speed", SPEED)
    assert done.returncode == 0, done.stderr
    assert "cleaned up kdamond 0 (its daemon had died" in done.stderr
    assert done.stdout.startswith("kdamond 0 started")
    assert live.slots() == ["kdamond.0"]
    live.ok("stop")
    assert live.slots() == []


def test_several_kdamonds(live):
    i0, p0 = live.start("--ops", "paddr", "--speed", SPEED)
    i1, p1 = live.start(live.workload, "--speed", SPEED)
    assert (i0, i1) == (0, 1)
    text = live.ok("status")
    assert "kdamond 0\n    state: on, pid: %d" % p0 in text
    assert "kdamond 1\n    state: on, pid: %d" % p1 in text
    assert live.ok("status", "--kdamonds_summary") == \
        "0\tstate: on, pid: %d\n1\tstate: on, pid: %d\n" % (p0, p1)
    one_error_line(live.damo("tune", "--monitoring_nr_regions_range", "5", "50"),
                   "several kdamonds", "--kdamond_idx")
    live.ok("tune", "--kdamond_idx", "1", "--monitoring_nr_regions_range", "5", "50")
    kds = live.status_json()
    assert kds[0]["contexts"][0]["nr_regions"] == {"min": "10", "max": "1,000"}
    assert kds[1]["contexts"][0]["nr_regions"] == {"min": "5", "max": "50"}
    path = os.path.join(live.dir, "both.data")
    live.ok("record", "ongoing", "-o", path, "--timeout", "1")
    assert sorted(r.kdamond_idx for r in records.load(path).records) == [0, 1]
    assert wait_for(lambda: len(json.loads(live.ok("report", "damon", "--format", "json")))
                    == 2)
    live.ok("stop", "--kdamond_idx", "0")
    assert live.slots() == ["kdamond.1"] and not pid_alive(p0) or wait_for(
        lambda: not pid_alive(p0))
    assert live.ok("status", "--kdamonds_summary") == "1\tstate: on, pid: %d\n" % p1
    live.ok("stop")
    assert live.slots() == []


def test_kdamond_turns_off_when_its_workload_ends(live):
    # stairs runs 30 simulated seconds: at 300x it ends in 0.1 s
    idx, pid = live.start("stairs", "--speed", "300")
    assert wait_for(lambda: "state: off" in live.ok("status"))
    text = live.ok("status")
    assert "stopped: its monitoring targets exited (workload builtin:stairs ended)" in text
    assert wait_for(lambda: not pid_alive(pid))
    done = live.damo("stop")
    assert done.returncode != 0 and "was not running" in done.stderr
    assert live.slots() == []


def test_start_refuses_bad_parameters_without_leaving_anything(live):
    one_error_line(live.damo("start", "--monitoring_nr_regions_range", "2", "10"),
                   "min_nr_regions")
    one_error_line(live.damo("start", "no-such-workload"), "no-such-workload")
    one_error_line(live.damo("start", "--ops", "fvaddr"), "--regions")
    one_error_line(live.damo("start", "--memory", "dram:1Q"), "--memory")
    assert live.slots() == []


def test_runtime_dir_must_be_private(live):
    os.makedirs(live.rundir)
    os.chmod(live.rundir, 0o755)
    one_error_line(live.damo("status"), live.rundir, "group or others")
    one_error_line(live.damo("start", "--ops", "paddr"), "group or others")
    os.chmod(live.rundir, 0o700)
    assert live.ok("status") == "no kdamond is running\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the directory away")
def test_runtime_dir_of_another_user_is_refused(live):
    os.makedirs(live.rundir, mode=0o700)
    os.chown(live.rundir, 65534, 65534)
    one_error_line(live.damo("status"), live.rundir, "belongs to another user")
    one_error_line(live.damo("start", "--ops", "paddr"), "belongs to another user")
    os.rmdir(live.rundir)
    os.symlink(live.dir, live.rundir)
    one_error_line(live.damo("status"), "not a directory")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as a second user")
def test_second_user_cannot_reach_the_kdamonds(live):
    try:
        probe = subprocess.run([sys.executable, "-c", "import damo.cli"], user=65534,
                               group=65534, cwd="/", capture_output=True, timeout=60)
    except PermissionError:
        pytest.skip("the other user cannot run this Python")
    if probe.returncode != 0:
        pytest.skip("the other user cannot import damo")
    live.start("--ops", "paddr", "--speed", SPEED)
    os.chmod(live.dir, 0o755)       # let the other user reach the runtime dir's parent
    done = subprocess.run([sys.executable, "-m", "damo.cli", "stop"], capture_output=True,
                          text=True, env=live.env, user=65534, group=65534, cwd="/",
                          timeout=60)
    assert done.returncode != 0 and "belongs to another user" in done.stderr
    assert "state: on" in live.ok("status")


SOCKET_CLIENT = r"""
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
/* connect to a kdamond's control socket, ask it to stop, print what comes back.
 * The daemon may refuse and close before the request is sent: the send then
 * fails with EPIPE (MSG_NOSIGNAL, and SIGPIPE ignored, so that it is not fatal)
 * and the read sees the close. */
int main(int argc, char **argv) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char buf[4096];
    signal(SIGPIPE, SIG_IGN);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    strncpy(a.sun_path, argv[1], sizeof(a.sun_path) - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
        printf("connect: %s\n", strerror(errno));
        return 2;
    }
    if (argc > 2)                           /* optional delay (ms) before sending */
        usleep(atoi(argv[2]) * 1000);
    const char *req = "{\"cmd\": \"stop\"}\n";
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
        printf("send: %s\n", strerror(errno));
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    printf("reply bytes: %zd\n", n < 0 ? 0 : n);
    return 0;
}
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("gcc") is None,
                    reason="needs root to act as a second user, and gcc")
def test_another_user_can_neither_read_nor_command_the_kdamonds(live):
    """As another user (uid 65534, with no Python needed): the runtime
    directory is closed to them, and even with every directory opened up
    the daemon answers only its own user."""
    live.start("--ops", "paddr", "--speed", SPEED)
    slot = os.path.join(live.rundir, live.slots()[0])
    sock = os.path.join(slot, "control.sock")
    src = os.path.join(live.dir, "client.c")
    client = os.path.join(live.dir, "client")
    with open(src, "w") as f:
        f.write(SOCKET_CLIENT)
    subprocess.run(["gcc", "-o", client, src], check=True)
    os.chmod(live.dir, 0o755)                 # everything up to our directory is open

    def as_other(*cmd):
        return subprocess.run(list(cmd), user=65534, group=65534, extra_groups=[],
                              capture_output=True, text=True, timeout=30, cwd="/")
    done = as_other("cat", os.path.join(slot, "state.json"))
    assert done.returncode != 0 and "Permission denied" in done.stderr
    done = as_other(client, sock)
    assert done.returncode == 2 and "Permission denied" in done.stdout
    # open the directories and the socket: the daemon still refuses the request
    os.chmod(live.rundir, 0o711)
    os.chmod(slot, 0o711)
    os.chmod(sock, 0o666)
    try:
        # at once, and late (the daemon has then already refused and closed: the
        # request meets a closed socket, which a client must survive)
        for delay in ("0", "300"):
            done = as_other(client, sock, delay)
            assert done.returncode == 0 and "reply bytes: 0" in done.stdout, \
                (delay, done.returncode, done.stdout, done.stderr)
    finally:
        os.chmod(sock, 0o600)
        os.chmod(slot, 0o700)
        os.chmod(live.rundir, 0o700)
    with open(os.path.join(slot, "log")) as f:
        assert "refused a request from uid 65534" in f.read()
    assert "state: on" in live.ok("status")


def test_start_from_a_kdamonds_file(live):
    path = os.path.join(live.dir, "kdamonds.json")
    ctx = {"ops": "paddr", "targets": [{"pid": None, "regions": []}],
           "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms", "ops_update_us": "1 s"},
           "nr_regions": {"min": "20", "max": "200"}, "schemes": []}
    with open(path, "w") as f:
        json.dump({"kdamonds": [{"contexts": [ctx]},
                                {"contexts": [dict(ctx, ops="vaddr", targets=[{"pid": 1}])]}]},
                  f)
    out = live.ok("start", "--kdamonds", path, "--speed", SPEED, live.workload)
    # the kdamonds of one start share one simulated machine: one daemon
    lines = out.splitlines()
    pid = int(re.search(r"daemon pid (\d+)", lines[0]).group(1))
    assert lines == ["kdamond %d started (daemon pid %d): workload %s, speed %sx" % (
        i, pid, live.workload, SPEED) for i in (0, 1)]
    kds = live.status_json()
    assert [k["contexts"][0]["ops"] for k in kds] == ["paddr", "vaddr"]
    assert [k["pid"] for k in kds] == [pid, pid]
    assert all(k["contexts"][0]["nr_regions"] == {"min": "20", "max": "200"} for k in kds)
    one_error_line(live.damo("start", "--kdamonds", path, "--ops", "vaddr"), "--ops")
    # one of them can be tuned and stopped alone
    live.ok("tune", "--kdamond_idx", "0", "--monitoring_nr_regions_range", "30", "300")
    live.ok("stop", "--kdamond_idx", "0")
    text = live.ok("status")
    assert "kdamond 0\n    state: off\n    stopped: stopped by damo stop\n" in text
    assert "kdamond 1\n    state: on, pid: %d\n" % pid in text
    assert "nr_regions: [30, 300]" in text and pid_alive(pid)
    one_error_line(live.damo("tune", "--kdamond_idx", "0", "--monitoring_nr_regions_range",
                             "5", "50"), "kdamond 0 is not running")
    path2 = os.path.join(live.dir, "one.data")
    live.ok("record", "ongoing", "-o", path2, "--timeout", "1")
    assert [r.kdamond_idx for r in records.load(path2).records] == [1]
    live.ok("stop")
    assert wait_for(lambda: not pid_alive(pid)) and live.slots() == []
    with open(path, "w") as f:
        f.write("{not json")
    one_error_line(live.damo("start", "--kdamonds", path), path)


def test_start_a_preset_of_two_kdamonds(live):
    pytest.importorskip("damo.params.presets")
    out = live.ok("start", "--preset", "mtier", "--memory", "dram:64M,cxl:256M",
                  "--speed", SPEED, live.workload)
    assert len(out.splitlines()) == 2
    kds = live.status_json()
    assert [k["contexts"][0]["schemes"][0]["action"] for k in kds] == \
        ["migrate_hot", "migrate_cold"]
    assert kds[0]["pid"] == kds[1]["pid"]
    one_error_line(live.damo("start", "--preset", "mtier", "--damos_action", "stat"),
                   "--damos_action")
    live.ok("stop")
    assert live.slots() == []


def _scheme(live, idx=0):
    return live.status_json()[0]["contexts"][0]["schemes"][idx]


def test_tune_schemes_and_feed_a_user_input_goal(live):
    pytest.importorskip("damo.params.schemes")
    live.start(live.workload, "--speed", SPEED, "--damos_action", "stat",
               "--damos_quotas", "0", "1G", "100",
               "--damos_quota_goal", "user_input", "10000", "5000")
    text = live.ok("status")
    assert "scheme 0\n            action: stat per aggr interval" in text
    assert "goal 0: metric user_input target 10,000 current 5,000" in text
    assert wait_for(lambda: int(_scheme(live)["stats"]["nr_tried"].replace(",", "")) > 0)

    # feed the user_input goal a new value: only the goals are committed
    live.ok("tune", "--quota_goals_only", "--damos_quota_goal", "user_input", "10000",
            "15000")
    s = _scheme(live)
    assert s["quotas"]["goals"][0]["current_value"] == "15000"
    assert s["quotas"]["sz_bytes"] == "1024.000 MiB"
    tried = int(s["stats"]["nr_tried"].replace(",", ""))
    # over-achieved (15000 > 10000): the effective quota shrinks far below 1 GiB
    assert wait_for(lambda: units_to_bytes(_scheme(live)["quotas"]["effective_sz_bytes"])
                    < 1 << 20)
    assert int(_scheme(live)["stats"]["nr_tried"].replace(",", "")) >= tried  # stats kept
    one_error_line(live.damo("tune", "--quota_goals_only", "--damos_access_rate", "10%",
                             "100%"), "--damos_access_rate", "--quota_goals_only")

    # one scheme knob: the rest of the scheme stays
    live.ok("tune", "--damos_access_rate", "10%", "100%")
    s = _scheme(live)
    assert s["access_pattern"]["nr_accesses"] == {"min": "10 %", "max": "100 %"}
    assert s["quotas"]["goals"][0]["current_value"] == "15000"
    assert "nr_accesses: [2 samples, 20 samples]" in live.ok("status")

    # refused: the kdamond keeps its scheme
    one_error_line(live.damo("tune", "--damos_quota_goal", "user_input", "0", "5"),
                   "--damos_quota_goal")
    one_error_line(live.damo("tune", "--damos_access_rate", "50%", "10%"),
                   "--damos_access_rate")
    assert _scheme(live)["access_pattern"]["nr_accesses"] == {"min": "10 %", "max": "100 %"}

    # a second scheme is appended; the first keeps its stats
    live.ok("tune", "--damos_action", "stat", "--damos_action", "cold")
    kd = live.status_json()[0]
    assert [s["action"] for s in kd["contexts"][0]["schemes"]] == ["stat", "cold"]
    assert int(kd["contexts"][0]["schemes"][0]["stats"]["nr_tried"].replace(",", "")) >= tried
    assert kd["contexts"][0]["schemes"][0]["quotas"]["goals"][0]["current_value"] == "15000"
    live.ok("stop")


def units_to_bytes(text):
    from damo import units
    return units.to_bytes(text)


def _pace(live, seconds=1.5):
    """Simulated seconds per wall second over a few seconds, from the daemon's
    own state file (its simulated time and the wall time it wrote it)."""
    path = os.path.join(live.rundir, live.slots()[0], "state.json")

    def sample():
        with open(path) as f:
            state = json.load(f)
        return state["updated"], state["sim_now_ns"] / 1e9
    first = sample()
    time.sleep(seconds)
    assert wait_for(lambda: sample()[0] > first[0] + seconds / 2)
    last = sample()
    return (last[1] - first[1]) / (last[0] - first[0])


def test_tune_speed_changes_the_pace(live):
    """--speed is simulated seconds per real second: after tune --speed the
    simulated clock runs that much faster (the status saying so is not enough)."""
    live.start("--ops", "paddr", "--speed", "1")
    time.sleep(0.5)
    slow = _pace(live)
    live.ok("tune", "--speed", "40")
    assert "simulated at 40x speed" in live.ok("status")
    time.sleep(0.5)
    fast = _pace(live)
    # paced: never ahead of the wall clock times the speed (a loaded machine may lag)
    assert slow <= 1.3, slow
    assert fast <= 40 * 1.3, fast
    assert fast >= 4 * max(slow, 0.25), (slow, fast)
    live.ok("stop")


def test_record_ongoing_says_what_it_has_recorded(live):
    """Off a terminal, `record ongoing` prints a progress line every
    $DAMO_SIM_PROGRESS_S seconds: snapshots so far and simulated time, both
    growing, never past --timeout."""
    live.start(live.workload, "--speed", "2")
    live.env["DAMO_SIM_PROGRESS_S"] = "0.2"
    path = os.path.join(live.dir, "ongoing.data")
    done = live.damo("record", "ongoing", "-o", path, "--timeout", "2")
    assert done.returncode == 0, done.stderr
    progress = [re.match(r"damo: recording ongoing kdamonds: (\d+) snapshots, ([\d.]+) "
                         r"simulated s, \d+ s elapsed$", line)
                for line in done.stderr.splitlines() if "recording ongoing" in line]
    # about 1 s of wall time at --speed 2: a line every 0.2 s
    assert len(progress) >= 3 and all(progress), done.stderr
    counts = [int(m.group(1)) for m in progress]
    sims = [float(m.group(2)) for m in progress]
    assert counts == sorted(counts) and sims == sorted(sims), done.stderr
    assert sims[-1] > sims[0] and sims[-1] <= 2.0 and counts[-1] > counts[0], done.stderr
    wrote = re.search(r"wrote (\d+) snapshots of 2.0 simulated seconds", done.stderr)
    assert wrote and int(wrote.group(1)) >= counts[-1], done.stderr
    live.ok("stop")
