"""The background process of the live kdamonds of one ``damo start``.

``python -m damo.live.daemon SLOT_DIR LOCK_FD READY_FD`` (started by
``damo start``): builds the simulated machine, workload and kdamonds that
SLOT_DIR/spec.json describes, tells ``damo start`` on READY_FD whether that
worked, then advances the simulation at real-time pace times the speed,
serving requests on SLOT_DIR/control.sock between slices and refreshing
SLOT_DIR/state.json a few times a second.  It holds the slot's lock (on
LOCK_FD, inherited from ``damo start``) until it exits.

Requests (one JSON object per connection; replies are JSON objects, with
"error" on failure):
- {"cmd": "state"}: the state (as in state.json, fresh).
- {"cmd": "tune", "kdamond_idx": <idx>, "kdamond": <damo kdamond kvpairs>,
  "quota_goals_only": bool, "speed": <float or null>}: validate, then commit
  inside the kdamond loop (damon_call()) with the kernel's online-commit
  semantics.
- {"cmd": "snapshots", "since": <seq>}: aggregated snapshots from seq on.
- {"cmd": "stop", "kdamond_idx": <idx or null>}: stop one kdamond, or all
  and exit.
"""
import collections
import json
import os
import select
import signal
import socket
import struct
import sys
import time

from damo.errors import DamoError
from damo.live import rundir as rundir_mod

STATE_EVERY_S = 0.2         # state.json refresh period (wall time)
TICK_S = 0.01               # longest sleep between simulation slices
SLICE_S = 0.05              # wall-time worth of simulation per slice at most
RING_SIZE = 8192            # snapshots kept for `damo record ongoing`
REQUEST_TIMEOUT_S = 5.0


def log(msg):
    sys.stderr.write("%s damo-sim kdamond: %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def _goal_state(g):
    return {"metric": g.metric_name, "target_value": g.target_value,
            "current_value": g.current_value, "nid": g.nid, "memcg": g.memcg}


def _filter_state(f):
    out = {"type": f.type_name, "matching": bool(f.matching), "allow": bool(f.allow)}
    if f.type_name == "addr":
        out["addr_range"] = [f.addr_start, f.addr_end]
    elif f.type_name == "target":
        out["target_idx"] = f.target_idx
    elif f.type_name == "memcg":
        out["memcg"] = f.memcg
    elif f.type_name == "hugepage_size":
        out["hugepage_size"] = [f.sz_min, f.sz_max]
    return out


def scheme_state(s):
    """A running scheme's parameters (engine units) and statistics."""
    return {
        "action": s.action_name, "apply_interval_us": s.apply_interval_us,
        "target_nid": s.target_nid, "migrate_dests": [list(d) for d in s.migrate_dests],
        "access_pattern": {"sz": [s.min_sz_region, s.max_sz_region],
                           "nr_accesses": [s.min_nr_accesses, s.max_nr_accesses],
                           "age": [s.min_age_region, s.max_age_region]},
        "quota": {"ms": s.quota_ms, "sz": s.quota_sz,
                  "reset_interval_ms": s.quota_reset_interval_ms,
                  "weights": [s.weight_sz, s.weight_nr_accesses, s.weight_age],
                  "goal_tuner": "temporal" if s.goal_tuner else "consist",
                  "goals": [_goal_state(g) for g in s.goals]},
        "quota_state": s.quota_state(),
        "wmarks": {"metric": "free_mem_rate" if s.wmarks_metric else "none",
                   "interval_us": s.wmarks_interval, "high": s.wmarks_high,
                   "mid": s.wmarks_mid, "low": s.wmarks_low,
                   "activated": bool(s.wmarks_activated)},
        "filters": [_filter_state(f) for f in s.filters],
        "stats": s.stats(),
    }


def _snapshot_state(snap):
    return {"start_ns": snap.start_ns, "end_ns": snap.end_ns, "sample_us": snap.sample_us,
            "aggr_us": snap.aggr_us,
            "targets": [{"target_id": t.target_idx, "pid": t.pid,
                         "starts": t.starts.tolist(), "ends": t.ends.tolist(),
                         "nr_accesses": t.nr_accesses.tolist(), "ages": t.ages.tolist()}
                        for t in snap.targets]}


class LiveKdamond:
    """One kdamond of the daemon: its global index, parameters (damo
    layout, as last committed) and engine contexts."""

    def __init__(self, idx, params, contexts):
        self.idx = idx
        self.params = params
        self.contexts = contexts
        self.reason = None          # why it stopped

    @property
    def running(self):
        return any(c.running for c in self.contexts)


class Daemon:
    def __init__(self, slot_path, lock_fd, ready_fd):
        self.slot = rundir_mod.Slot(os.path.dirname(slot_path),
                                    int(os.path.basename(slot_path).split(".")[-1]))
        self.lock_fd = lock_fd
        self.ready_fd = ready_fd
        self.stopping = None            # why the loop should end
        self.latest = {}                # (kdamond, context) position -> latest Snapshot
        self.ring = collections.deque(maxlen=RING_SIZE)
        self.next_seq = 0
        self.sock = None

    # ---- setup ----
    def setup(self):
        from damo import runner
        from damo.params import damon as params_mod
        from damo.workloads import masim as workload_mod

        spec = rundir_mod.read_json(self.slot.file("spec.json"))
        if not isinstance(spec, dict):
            raise DamoError("%s is missing or unreadable" % self.slot.file("spec.json"))
        self.spec = spec
        params = params_mod.kdamonds_from_kvpairs({"kdamonds": spec["kdamonds"]}, "spec.json")
        idxs = self.slot.kdamond_idxs()
        if len(idxs) != len(params):
            raise DamoError("spec.json has %d kdamonds for %d indices" % (len(params),
                                                                         len(idxs)))
        w = workload_mod.resolve(spec.get("workload"), access_rate=spec.get("access_rate"),
                                 random_access_rate=spec.get("random_access_rate"))
        self.workload_name = w.name
        self.run = runner.Run(params, [w], memory=spec.get("memory"),
                              seed=spec.get("seed", 0))
        self.sim = self.run.sim
        self.kdamonds = [LiveKdamond(idx, p, ctxs)
                         for idx, p, ctxs in zip(idxs, params, self.run.contexts)]
        self.sim.on_snapshot = self._on_snapshot
        self.speed = float(spec.get("speed", 1.0))
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.slot.sock_path):
            os.unlink(self.slot.sock_path)
        self.sock.bind(self.slot.sock_path)
        os.chmod(self.slot.sock_path, 0o600)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.started_wall = time.time()
        self._reset_pace()

    def _reset_pace(self):
        self.pace_wall0 = time.monotonic()
        self.pace_sim0 = self.sim.now_ns

    def _on_snapshot(self, snap):
        self.latest[(snap.kdamond_idx, snap.context_idx)] = snap
        self.ring.append((self.next_seq, snap))
        self.next_seq += 1

    def kdamond(self, idx):
        for kd in self.kdamonds:
            if kd.idx == idx:
                return kd
        raise DamoError("this daemon runs no kdamond %s" % (idx,))

    # ---- state ----
    @property
    def running(self):
        return any(kd.running for kd in self.kdamonds)

    def kdamond_state(self, pos, kd):
        contexts = []
        for ci, c in enumerate(kd.contexts):
            snap = self.latest.get((pos, ci))
            contexts.append({
                "state": c.state_name, "ops": c.ops.name,
                "sample_us": c.sample_us, "aggr_us": c.aggr_us, "update_us": c.update_us,
                "nr_regions_range": list(c.nr_regions_range),
                "intervals_goal": list(c.intervals_goal) if c.intervals_goal else None,
                "targets": [{"pid": t.pid, "nr_regions": len(t)} for t in c.targets],
                "schemes": [scheme_state(s) for s in c.schemes],
                "nr_aggregations": c.nr_aggregations,
                "snapshot": _snapshot_state(snap) if snap is not None else None,
            })
        on = kd.running and self.stopping is None
        return {"idx": kd.idx, "state": "on" if on else "off",
                "reason": None if on else (kd.reason or self.stopping),
                "kdamond": kd.params.to_kvpairs(), "contexts": contexts}

    def state(self):
        return {
            "format": rundir_mod.STATE_FORMAT,
            "pid": os.getpid(),
            "state": "on" if self.running and self.stopping is None else "off",
            "exited": False,
            "reason": self.stopping,
            "workload": self.workload_name,
            "workload_spec": self.spec.get("workload"),
            "memory": self.spec.get("memory"),
            "seed": self.spec.get("seed", 0),
            "speed": self.speed,
            "sim_now_ns": self.sim.now_ns,
            "started": self.started_wall,
            "updated": time.time(),
            "kdamonds": [self.kdamond_state(pos, kd) for pos, kd in enumerate(self.kdamonds)],
        }

    def write_state(self, **overrides):
        state = self.state()
        state.update(overrides)
        rundir_mod.write_json(self.slot.file("state.json"), state)
        self.last_state_write = time.monotonic()

    # ---- the loop ----
    def pace(self):
        """Advance the simulation toward real time x speed; returns how long
        the loop may sleep."""
        target = self.pace_sim0 + (time.monotonic() - self.pace_wall0) * self.speed * 1e9
        behind = target - self.sim.now_ns
        if behind <= 0:
            return min(TICK_S, -behind / self.speed / 1e9)
        step = min(behind, SLICE_S * self.speed * 1e9)
        self.sim.run(max(int(step), 1), stop_with_workloads=False)
        return 0 if behind > step else TICK_S

    def note_stopped(self):
        """Give kdamonds that stopped by themselves their reason."""
        for kd in self.kdamonds:
            if not kd.running and kd.reason is None:
                kd.reason = self._why_stopped()

    def loop(self):
        self.last_state_write = 0.0
        while self.stopping is None:
            self.note_stopped()
            if not self.running:
                self.stopping = self._why_stopped()
                break
            wait = self.pace()
            if time.monotonic() - self.last_state_write >= STATE_EVERY_S:
                self.write_state()
            try:
                readable, _, _ = select.select([self.sock], [], [], wait)
            except InterruptedError:
                continue
            if readable:
                self.serve()

    def _why_stopped(self):
        for w in self.run.workloads:
            if getattr(w, "finished", False):
                return "its monitoring targets exited (workload %s ended)" % self.workload_name
        return "its monitoring targets are gone"

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        with conn:
            conn.setblocking(True)
            conn.settimeout(REQUEST_TIMEOUT_S)
            try:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
                _, uid, _ = struct.unpack("3i", creds)
                if uid != os.geteuid():
                    log("refused a request from uid %d" % uid)
                    return
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
                try:
                    req = json.loads(data)
                    reply = self.handle(req)
                except ValueError:
                    reply = {"error": "malformed request"}
                except DamoError as e:
                    reply = {"error": str(e), "exit_code": e.exit_code}
                conn.sendall(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
            except OSError:
                pass

    def handle(self, req):
        cmd = req.get("cmd") if isinstance(req, dict) else None
        if cmd == "state":
            return {"state": self.state()}
        if cmd == "stop":
            return self.stop(req.get("kdamond_idx"))
        if cmd == "tune":
            return self.tune(req)
        if cmd == "snapshots":
            return self.snapshots(int(req.get("since", 0)))
        return {"error": "unknown request %r" % (cmd,)}

    def stop(self, idx):
        """Stop one kdamond (the daemon goes on for the others), or all."""
        if idx is not None:
            kd = self.kdamond(idx)
            if not kd.running:
                raise DamoError("kdamond %d is not running" % idx)
            for c in kd.contexts:
                c.request_stop()
            kd.reason = "stopped by damo stop"
            # the contexts leave their loops at their next wake-up
            step = 1_000_000
            while kd.running:
                self.sim.run(step, stop_with_workloads=False)
                step = min(step * 2, 1_000_000_000)
            log("kdamond %d stopped (damo stop)" % idx)
            if self.running:
                self.write_state()
                return {"ok": True, "daemon": "running"}
        for kd in self.kdamonds:
            if kd.running and kd.reason is None:
                kd.reason = "stopped by damo stop"
        self.stopping = "stopped by damo stop"
        log("stopping (damo stop)")
        return {"ok": True, "daemon": "exiting"}

    # ---- tune ----
    def tune(self, req):
        from damo.params import damon as params_mod
        from damo_engine import commit

        if req.get("speed") is not None:
            speed = float(req["speed"])
            if not speed > 0:
                raise DamoError("--speed: must be positive", exit_code=2)
        if req.get("kdamond") is None:
            self._set_speed(req.get("speed"))
            self.write_state()
            return {"ok": True}
        kd = self.kdamond(req.get("kdamond_idx"))
        new = params_mod.kdamonds_from_kvpairs({"kdamonds": [req["kdamond"]]},
                                               "new parameters")[0]
        if len(new.contexts) != len(kd.contexts):
            raise DamoError("kdamond %d runs %d context(s); the new parameters have %d"
                            % (kd.idx, len(kd.contexts), len(new.contexts)))
        goals_only = bool(req.get("quota_goals_only"))
        sources = []
        for cp in new.contexts:
            sources.append(params_mod.build_context(cp, pids=self.run.pids,
                                                    machine=self.run.machine))
        try:
            for dst, src in zip(kd.contexts, sources):
                if not goals_only:
                    commit.check_commit_ctx(dst, src)
        except ValueError as e:
            raise DamoError("the kernel would refuse these parameters: %s" % e)
        if not kd.running:
            raise DamoError("kdamond %d is not running" % kd.idx)
        results = [None] * len(sources)

        def committer(i, src):
            def fn(ctx):
                try:
                    if goals_only:
                        commit.commit_schemes_quota_goals(ctx, src)
                    else:
                        commit.commit_ctx(ctx, src)
                    results[i] = True
                except Exception as e:      # reported to the requester
                    results[i] = e
            return fn

        for i, (dst, src) in enumerate(zip(kd.contexts, sources)):
            dst.call(committer(i, src))
        # damon_call() waits for the kdamond to run the request: at most a
        # sampling (or watermarks wait) interval of simulated time
        step = 1_000_000
        while any(r is None for r in results) and kd.running:
            self.sim.run(step, stop_with_workloads=False)
            step = min(step * 2, 1_000_000_000)
        errors = [r for r in results if r is not True]
        if errors:
            what = errors[0] if errors[0] is not None else "the kdamond stopped first"
            log("kdamond %d: commit refused: %s" % (kd.idx, what))
            raise DamoError("commit failed: %s" % what)
        kd.params = new
        self._set_speed(req.get("speed"))
        log("kdamond %d: committed new %s" % (
            kd.idx, "quota goals" if goals_only else "parameters"))
        self.write_state()
        return {"ok": True}

    def _set_speed(self, speed):
        if speed is not None:
            self.speed = float(speed)
            self._reset_pace()

    # ---- record ongoing ----
    def snapshots(self, since):
        out = []
        oldest = self.ring[0][0] if self.ring else self.next_seq
        for seq, snap in self.ring:
            if seq >= since:
                kd = self.kdamonds[snap.kdamond_idx]
                c = kd.contexts[snap.context_idx]
                entry = _snapshot_state(snap)
                entry.update({"seq": seq, "kdamond_idx": kd.idx,
                              "context_idx": snap.context_idx,
                              "intervals": {"sample_us": snap.sample_us,
                                            "aggr_us": snap.aggr_us,
                                            "ops_update_us": c.update_us,
                                            "intervals_goal": list(c.intervals_goal)
                                            if c.intervals_goal else None}})
                out.append(entry)
        return {"snapshots": out, "next": self.next_seq, "lost": max(0, oldest - since),
                "state": "on" if self.running and self.stopping is None else "off",
                "sim_now_ns": self.sim.now_ns, "workload": self.workload_name,
                "kdamonds": {str(kd.idx): kd.params.to_kvpairs() for kd in self.kdamonds}}

    # ---- exit ----
    def finish(self):
        if self.running:
            self.sim.stop()
        self.note_stopped()
        if self.sock is not None:
            self.sock.close()
            try:
                os.unlink(self.slot.sock_path)
            except OSError:
                pass
        self.write_state(state="off", exited=True, reason=self.stopping)
        log("exited: %s" % self.stopping)


def _on_signal(daemon):
    def handler(signum, frame):
        # only flag it: the simulation may be mid-slice; finish() stops it
        if daemon.stopping is None:
            daemon.stopping = "terminated by %s" % signal.Signals(signum).name
    return handler


def _tell(ready_fd, text):
    """Answer `damo start` (which may have gone: then nobody listens)."""
    try:
        os.write(ready_fd, text.encode())
    except OSError:
        pass
    os.close(ready_fd)


def main(argv):
    slot_path, lock_fd, ready_fd = argv[1], int(argv[2]), int(argv[3])
    os.umask(0o077)
    daemon = Daemon(slot_path, lock_fd, ready_fd)
    try:
        daemon.setup()
        daemon.write_state()
    except (DamoError, OSError, ValueError, KeyError) as e:
        msg = str(e) or e.__class__.__name__
        log("failed to start: %s" % msg)
        _tell(ready_fd, "error: %s\n" % msg)
        return 1
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal(daemon))
    log("kdamond%s %s started (pid %d): workload %s, speed %gx" % (
        "s" if len(daemon.kdamonds) > 1 else "",
        ", ".join(str(kd.idx) for kd in daemon.kdamonds), os.getpid(),
        daemon.workload_name, daemon.speed))
    _tell(ready_fd, "ok\n")
    # nothing of ours is on the terminal any more
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    try:
        daemon.loop()
    except Exception as e:
        from damo_engine.memory import SimulationError
        if not isinstance(e, SimulationError):
            raise
        daemon.stopping = "simulation error: %s" % e
        log(daemon.stopping)
    daemon.finish()
    os.close(lock_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
