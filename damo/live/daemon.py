"""The background process of the live kdamonds of one ``damo start``.

``python -m damo.live.daemon SLOT_DIR LOCK_FD READY_FD`` (started by
``damo start``): builds the simulated machine, workload and kdamonds that
SLOT_DIR/spec.json describes, tells ``damo start`` on READY_FD whether that
worked, then advances the simulation at real-time pace times the speed,
serving requests on SLOT_DIR/control.sock between slices and refreshing
SLOT_DIR/state.json a few times a second.  It holds the slot's lock (on
LOCK_FD, inherited from ``damo start``) until it exits.

Requests (one JSON object per connection, ended by a newline; replies are
JSON objects, with "error" on failure).  Every request is answered or
refused, and no client can stop or stall the daemon: clients are served side
by side without blocking, a request must arrive whole within
REQUEST_TIMEOUT_S and MAX_REQUEST bytes, its numbers must be finite and its
fields of the right types, and a reply the client does not read within
REPLY_TIMEOUT_S is dropped.
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
import math
import os
import select
import signal
import socket
import struct
import sys
import time
import traceback

from damo.errors import DamoError
from damo.live import rundir as rundir_mod

STATE_EVERY_S = 0.2         # state.json refresh period (wall time)
TICK_S = 0.01               # longest sleep between simulation slices
SLICE_S = 0.05              # wall-time worth of simulation per slice at most
RING_SIZE = 8192            # snapshots kept for `damo record ongoing`
REQUEST_TIMEOUT_S = 5.0    # a client must send its whole request within this
REPLY_TIMEOUT_S = 60.0     # ... and read its reply within this
MAX_REQUEST = 1 << 20      # bytes of one request (a tune's parameters are a few KiB)
MAX_CLIENTS = 32           # connections at once; the oldest unfinished one gives way
MAX_DEPTH = 32             # nesting of a request's JSON (damo's layout needs 8)
WAIT_WALL_S = 20.0         # longest wall time a tune or stop waits for its kdamond
MAX_SPEED = 1e6            # --speed: simulated seconds per real second, at most
COMMANDS = ("state", "tune", "snapshots", "stop", "module")
MAX_MODULE_WRITES = 64      # parameter writes in one module request


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
        # (sim) how often damon_set_attrs() pushed its apply back, if the engine says
        "apply_state": s.apply_state() if hasattr(s, "apply_state") else None,
    }


def _snapshot_state(snap):
    return {"start_ns": snap.start_ns, "end_ns": snap.end_ns, "sample_us": snap.sample_us,
            "aggr_us": snap.aggr_us,
            "targets": [{"target_id": t.target_idx, "pid": t.pid,
                         "starts": t.starts.tolist(), "ends": t.ends.tolist(),
                         "nr_accesses": t.nr_accesses.tolist(), "ages": t.ages.tolist()}
                        for t in snap.targets]}


class Refused(DamoError):
    """A request the daemon refuses (answered with its message)."""


def _refuse_constant(name):
    raise Refused("malformed request: %s is not a JSON number" % name)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise Refused("malformed request: %s does not fit a double" % text)
    return value


def _check_depth(obj):
    """Refuse JSON nested deeper than MAX_DEPTH (iteratively: no recursion)."""
    stack = [(obj, 1)]
    while stack:
        o, depth = stack.pop()
        if isinstance(o, dict):
            o = o.values()
        elif not isinstance(o, list):
            continue
        if depth > MAX_DEPTH:
            raise Refused("malformed request: nested deeper than %d levels" % MAX_DEPTH)
        stack.extend((v, depth + 1) for v in o)


def parse_request(data):
    """The request object of one message (bytes up to the newline)."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("malformed request: not UTF-8")
    try:
        req = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise Refused("malformed request: nested too deeply")
    except ValueError as e:
        if isinstance(e, Refused):
            raise
        raise Refused("malformed request: not JSON (%s)" % e)
    if not isinstance(req, dict):
        raise Refused("malformed request: not a JSON object")
    _check_depth(req)
    cmd = req.get("cmd")
    if cmd not in COMMANDS:
        raise Refused("unknown request %s (known: %s)" % (
            json.dumps(cmd)[:40] if isinstance(cmd, (str, int, float, type(None)))
            else "of type %s" % type(cmd).__name__, ", ".join(COMMANDS)))
    return req


def _int_field(req, name, default=None, allow_none=False):
    value = req.get(name, default)
    if value is None and allow_none:
        return None
    if type(value) is not int or not 0 <= value < 1 << 63:
        raise Refused("%s: must be an integer from 0 to 2^63-1, not %s" % (
            name, json.dumps(value)[:40]))
    return value


def check_speed(value, what="speed"):
    """A pace factor: finite, positive, at most MAX_SPEED."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused("%s: must be a number, not %s" % (what, json.dumps(value)[:40]),
                      exit_code=2)
    value = float(value)
    if not (math.isfinite(value) and 0 < value <= MAX_SPEED):
        raise Refused("%s: must be above 0 and at most %g, not %g" % (what, MAX_SPEED, value),
                      exit_code=2)
    return value


class _Client:
    """One connection: its request being received, then its reply being sent."""

    def __init__(self, sock, now):
        self.sock = sock
        self.inbuf = bytearray()
        self.out = None             # the reply, once there is one
        self.sent = 0
        self.deadline = now + REQUEST_TIMEOUT_S

    @property
    def replying(self):
        return self.out is not None

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class LiveKdamond:
    """One kdamond of the daemon: its global index, parameters (damo
    layout, as last committed) and engine contexts."""

    def __init__(self, idx, params, contexts, pos=None, module=None):
        self.idx = idx
        self.params = params
        self.contexts = contexts
        self.reason = None          # why it stopped
        self.pos = pos              # the simulation's kdamond index (snapshots)
        self.module = module        # the module whose kdamond this is, if any

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
        self.clients = []
        self.internal_errors = 0            # requests that hit a bug (fuzzing counts them)
        self.max_step_ns = SLICE_S * 1e9    # simulated time one slice may advance

    # ---- setup ----
    def setup(self):
        from damo import runner
        from damo.params import damon as params_mod
        from damo.workloads import masim as workload_mod

        spec = rundir_mod.read_json(self.slot.file("spec.json"))
        if not isinstance(spec, dict):
            raise DamoError("%s is missing or unreadable" % self.slot.file("spec.json"))
        self.spec = spec
        params = params_mod.kdamonds_from_kvpairs({"kdamonds": spec["kdamonds"]}, "spec.json") \
            if spec.get("kdamonds") or not spec.get("modules_host") else []
        idxs = self.slot.kdamond_idxs()
        # a machine for the special-purpose modules: its one kdamond index is
        # the kdamond of the module that is on, if any
        self.modules_host = bool(spec.get("modules_host"))
        if len(idxs) != len(params) + (1 if self.modules_host else 0):
            raise DamoError("spec.json has %d kdamonds for %d indices" % (len(params),
                                                                         len(idxs)))
        w = workload_mod.resolve(spec.get("workload"), access_rate=spec.get("access_rate"),
                                 random_access_rate=spec.get("random_access_rate"),
                                 exact_accesses=bool(spec.get("exact_accesses")))
        self.workload_name = w.name
        self.run = runner.Run(params, [w], memory=spec.get("memory"),
                              seed=spec.get("seed", 0))
        self.sim = self.run.sim
        from damo import metrics as metrics_mod
        self.machine_description = metrics_mod.describe_machine(self.run.machine,
                                                                spec.get("memory"))
        self.kdamonds = [LiveKdamond(idx, p, ctxs, pos)
                         for pos, (idx, p, ctxs) in enumerate(zip(idxs, params,
                                                                  self.run.contexts))]
        self.by_pos = list(self.kdamonds)
        from damo.live.modules import MODULES
        self.modules = {name: cls() for name, cls in MODULES.items()}
        if self.modules_host:
            placeholder = LiveKdamond(idxs[-1], params_mod.KdamondParams([]), [])
            placeholder.reason = "no module is enabled"
            self.kdamonds.append(placeholder)
            for name, values in (spec.get("module_params") or {}).items():
                if name in self.modules:
                    for pname, text in values:
                        self.modules[name].write(pname, text, self)
        self.sim.on_snapshot = self._on_snapshot
        self.speed = check_speed(spec.get("speed", 1.0), "spec.json: speed")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.slot.sock_path):
            os.unlink(self.slot.sock_path)
        self.sock.bind(self.slot.sock_path)
        os.chmod(self.slot.sock_path, 0o600)
        self.sock.listen(64)
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
            snap = self.latest.get((kd.pos, ci))
            contexts.append({
                "state": c.state_name, "ops": c.ops.name,
                "sample_us": c.sample_us, "aggr_us": c.aggr_us, "update_us": c.update_us,
                "nr_regions_range": list(c.nr_regions_range),
                "intervals_goal": list(c.intervals_goal) if c.intervals_goal else None,
                "targets": [{"pid": t.pid, "nr_regions": len(t)} for t in c.targets],
                "schemes": [scheme_state(s) for s in c.schemes],
                "nr_aggregations": c.nr_aggregations,
                "passed_sample_intervals": c.passed_sample_intervals,
                "snapshot": _snapshot_state(snap) if snap is not None else None,
            })
        on = kd.running and self.stopping is None
        return {"idx": kd.idx, "state": "on" if on else "off",
                "reason": None if on else (kd.reason or self.stopping),
                "module": self.modules[kd.module].title if kd.module else None,
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
            "modules_host": self.modules_host,
            "machine": {"free_mem_rate": self.run.machine.free_mem_rate(),
                        "swap": self.run.machine.swap_kind},
            # what report sysinfo / pa_layout describe
            "machine_description": getattr(self, "machine_description", None),
            "modules": {name: m.running() for name, m in self.modules.items()},
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
        step = max(int(min(behind, SLICE_S * self.speed * 1e9, self.max_step_ns)), 1)
        t0 = time.monotonic()
        self.sim.run(step, stop_with_workloads=False)
        took = time.monotonic() - t0
        # a slice takes about SLICE_S of wall time at most, whatever the speed
        # asks, so that clients are served between slices
        if took > SLICE_S:
            self.max_step_ns = max(1000.0, step * SLICE_S / took)
        elif step >= int(self.max_step_ns):
            self.max_step_ns = min(self.max_step_ns * 2, SLICE_S * MAX_SPEED * 1e9)
        return 0 if behind > step else TICK_S

    def note_stopped(self):
        """Give kdamonds that stopped by themselves their reason."""
        for kd in self.kdamonds:
            if not kd.running and kd.reason is None:
                kd.reason = self._why_stopped()

    def state_period(self):
        """How often state.json is refreshed: --refresh_stat of the running
        kdamonds (the shortest), else STATE_EVERY_S."""
        periods = [kd.params.refresh_ms / 1000.0 for kd in self.kdamonds
                   if kd.running and kd.params.refresh_ms]
        return min(periods) if periods else STATE_EVERY_S

    def loop(self):
        self.last_state_write = 0.0
        while self.stopping is None:
            self.note_stopped()
            if not self.running and not self.modules_host:
                self.stopping = self._why_stopped()
                break
            self.module_calls()
            wait = self.pace()
            if time.monotonic() - self.last_state_write >= self.state_period():
                self.write_state()
            self.serve(wait)

    def _why_stopped(self):
        for w in self.run.workloads:
            if getattr(w, "finished", False):
                return "its monitoring targets exited (workload %s ended)" % self.workload_name
        return "its monitoring targets are gone"

    # ---- clients ----
    def serve(self, wait):
        """Serve clients for up to ``wait`` seconds: accept, receive, answer
        and send, never blocking on one of them."""
        now = time.monotonic()
        deadline = min([c.deadline for c in self.clients] + [now + wait])
        reading = [c for c in self.clients if not c.replying]
        writing = [c for c in self.clients if c.replying]
        try:
            readable, writable, _ = select.select([self.sock] + reading, writing, [],
                                                  max(0.0, deadline - now))
        except InterruptedError:
            return
        if self.sock in readable:
            self._accept()
        for c in readable:
            if c is not self.sock and c in self.clients:
                self._receive(c)
        for c in writable:
            if c in self.clients:
                self._send(c)
        now = time.monotonic()
        for c in list(self.clients):
            if c.deadline <= now and c in self.clients:
                if c.replying:
                    self._drop(c)       # it does not read its reply
                else:
                    self._answer(c, Refused("request not complete within %g s"
                                            % REQUEST_TIMEOUT_S), last=True)

    def _accept(self):
        for _ in range(MAX_CLIENTS):
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                log("accept failed: %s" % e)
                return
            try:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
                _, uid, _ = struct.unpack("3i", creds)
            except OSError:
                conn.close()
                continue
            if uid != os.geteuid():
                log("refused a request from uid %d" % uid)
                conn.close()
                continue
            conn.setblocking(False)
            if len(self.clients) >= MAX_CLIENTS:
                # the oldest connection still sending (or silent) gives way
                waiting = [c for c in self.clients if not c.replying]
                victim = waiting[0] if waiting else self.clients[0]
                self._drop(victim)
            self.clients.append(_Client(conn, time.monotonic()))

    def _drop(self, c):
        if c in self.clients:
            self.clients.remove(c)
        c.close()

    def _receive(self, c):
        try:
            chunk = c.sock.recv(1 << 16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(c)
            return
        if not chunk:                   # the client shut its side
            if c.inbuf:
                self._answer(c, bytes(c.inbuf))
            else:
                self._drop(c)
            return
        end = chunk.find(b"\n")
        if end >= 0:
            c.inbuf += chunk[:end]
        else:
            c.inbuf += chunk
        if len(c.inbuf) > MAX_REQUEST:
            self._answer(c, Refused("request larger than %d bytes" % MAX_REQUEST), last=True)
        elif end >= 0:
            self._answer(c, bytes(c.inbuf))

    def reply_to(self, request):
        """(reply, fatal) for one request (its bytes, or a Refused): the reply
        is a dict, with "error" for a refusal; ``fatal`` is the simulation's
        error that ends the daemon (after the reply), else None."""
        from damo_engine.memory import SimulationError

        try:
            if isinstance(request, Refused):
                raise request
            return self.handle(parse_request(request)), None
        except DamoError as e:
            return {"error": str(e), "exit_code": e.exit_code}, None
        except SimulationError as e:
            return {"error": "simulation error: %s" % e}, e
        except Exception as e:
            # a bug, not the client's fault: say so, keep serving the others
            self.internal_errors += 1
            log("internal error serving a request:\n%s" % traceback.format_exc())
            return {"error": "internal error: %s: %s" % (e.__class__.__name__, e)}, None

    def _answer(self, c, request, last=False):
        """Handle one request (bytes) or refuse it (a Refused); queue the reply."""
        c.inbuf = None
        reply, fatal = self.reply_to(request)
        try:
            text = json.dumps(reply, separators=(",", ":"))
        except (TypeError, ValueError) as e:
            text = json.dumps({"error": "internal error: unserialisable reply (%s)" % e})
        c.out = memoryview(text.encode() + b"\n")
        c.deadline = time.monotonic() + REPLY_TIMEOUT_S
        if last:
            try:
                c.sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        self._send(c)
        if fatal is not None:
            raise fatal

    def _send(self, c):
        try:
            c.sent += c.sock.send(c.out[c.sent:])
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(c)
            return
        if c.sent >= len(c.out):
            self._drop(c)

    def handle(self, req):
        """The reply to a request that parse_request() accepted."""
        cmd = req["cmd"]
        if cmd == "state":
            return {"state": self.state()}
        if cmd == "stop":
            return self.stop(_int_field(req, "kdamond_idx", allow_none=True))
        if cmd == "tune":
            return self.tune(req)
        if cmd == "module":
            return self.module_request(req)
        return self.snapshots(_int_field(req, "since", default=0))

    def stop(self, idx):
        """Stop one kdamond (the daemon goes on for the others), or all."""
        if idx is not None:
            kd = self.kdamond(idx)
            self._not_a_module(kd, "stop it with: damo %s disable" % (kd.module or ""))
            if not kd.running:
                raise DamoError("kdamond %d is not running" % idx)
            for c in kd.contexts:
                c.request_stop()
            kd.reason = "stopped by damo stop"
            # the contexts leave their loops at their next wake-up
            self._run_while(lambda: kd.running)
            if kd.running:
                raise DamoError("kdamond %d did not stop within %g s (it stops at its next "
                                "wake-up)" % (idx, WAIT_WALL_S))
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

        speed = req.get("speed")
        if speed is not None:
            speed = check_speed(speed, "--speed")
        if req.get("kdamond") is None:
            self._set_speed(speed)
            self.write_state()
            return {"ok": True}
        if not isinstance(req["kdamond"], dict):
            raise Refused("kdamond: must be an object (damo's kdamond layout)")
        kd = self.kdamond(_int_field(req, "kdamond_idx"))
        self._not_a_module(kd, "change its module parameters with: damo module %s"
                           % (kd.module or ""))
        new = params_mod.kdamonds_from_kvpairs({"kdamonds": [req["kdamond"]]},
                                               "new parameters")[0]
        goals_only = req.get("quota_goals_only", False)
        if not isinstance(goals_only, bool):
            raise Refused("quota_goals_only: must be true or false")
        self._commit(kd, new, goals_only)
        self._set_speed(req.get("speed"))
        log("kdamond %d: committed new %s" % (
            kd.idx, "quota goals" if goals_only else "parameters"))
        self.write_state()
        return {"ok": True}

    def _not_a_module(self, kd, hint):
        if kd.module:
            raise DamoError("kdamond %d is %s's: %s" % (kd.idx, self.modules[kd.module].title,
                                                        hint))

    def _commit(self, kd, new, goals_only=False):
        """Commit KdamondParams to a running kdamond inside its loop, with
        damon_commit_ctx() semantics; obsolete targets are dropped."""
        from damo.params import damon as params_mod
        from damo_engine import commit

        if len(new.contexts) != len(kd.contexts):
            raise DamoError("kdamond %d runs %d context(s); the new parameters have %d"
                            % (kd.idx, len(kd.contexts), len(new.contexts)))
        sources, obsoletes = [], []
        for cp in new.contexts:
            sources.append(params_mod.build_context(cp, pids=self.run.pids,
                                                    machine=self.run.machine))
            obsoletes.append([i for i, t in enumerate(cp.targets) if t.obsolete])
        try:
            for dst, src, obs in zip(kd.contexts, sources, obsoletes):
                if not goals_only:
                    commit.check_commit_ctx(dst, src, obs)
        except ValueError as e:
            raise DamoError("the kernel would refuse these parameters: %s" % e)
        if not kd.running:
            raise DamoError("kdamond %d is not running" % kd.idx)
        results = [None] * len(sources)
        cancelled = []

        def committer(i, src, obs):
            def fn(ctx):
                if cancelled:           # the requester was told it failed
                    return
                try:
                    if goals_only:
                        commit.commit_schemes_quota_goals(ctx, src)
                    else:
                        commit.commit_ctx(ctx, src, obs)
                    results[i] = True
                except Exception as e:      # reported to the requester
                    results[i] = e
            return fn

        for i, (dst, src, obs) in enumerate(zip(kd.contexts, sources, obsoletes)):
            dst.call(committer(i, src, obs))
        # damon_call() waits for the kdamond to run the request: at most a
        # sampling (or watermarks wait) interval of simulated time, and here at
        # most WAIT_WALL_S of wall time, so that the daemon stays responsive
        self._run_while(lambda: any(r is None for r in results) and kd.running)
        if kd.running and any(r is None for r in results):
            cancelled.append(True)
            raise DamoError("kdamond %d did not take the new parameters within %g s (%s)"
                            % (kd.idx, WAIT_WALL_S, "nothing changed" if all(
                                r is None for r in results) else "only some contexts did"))
        errors = [r for r in results if r is not True]
        if errors:
            what = errors[0] if errors[0] is not None else "the kdamond stopped first"
            log("kdamond %d: commit refused: %s" % (kd.idx, what))
            raise DamoError("commit failed: %s" % what)
        for cp in new.contexts:
            # the kernel destroyed them (damo stages the rest again)
            cp.targets = [t for t in cp.targets if not t.obsolete]
        kd.params = new

    # ---- special-purpose modules ----
    def module_request(self, req):
        from damo.live.modules import MODULES

        name = req.get("module")
        if name not in MODULES:
            raise Refused("module: must be one of %s" % ", ".join(MODULES))
        mod = self.modules[name]
        writes = req.get("write") or []
        if not isinstance(writes, list) or len(writes) > MAX_MODULE_WRITES or not all(
                isinstance(w, list) and len(w) == 2 and all(
                    isinstance(x, str) and len(x) <= 4096 for x in w) for w in writes):
            raise Refused("write: must be at most %d [parameter, value] string pairs"
                          % MAX_MODULE_WRITES)
        if writes and not self.modules_host:
            raise DamoError("this machine runs kdamonds started by damo start; its modules "
                            "cannot be turned on while they run (the kernel's damon_start() "
                            "of a module is exclusive: -EBUSY)")
        for pname, text in writes:
            mod.write(pname, text, self)
            log("damon_%s: %s <- %s" % (name, pname, text.strip()))
        mod.refresh(self)
        values = {}
        for pname in sorted(mod.params):
            try:
                values[pname] = mod.read(pname, self)
            except DamoError:
                continue
        self.write_state()
        return {"module": name, "values": values}

    def module_start(self, mod, params):
        """damon_start() of a module's context: exclusive."""
        from damo.live.modules import ParamError
        from damo.params import damon as params_mod
        import errno

        busy = [kd for kd in self.kdamonds if kd.running]
        if busy:
            raise ParamError(mod.name, "enabled", errno.EBUSY, "kdamond %d (%s) runs; a "
                             "module's kdamond runs alone" % (
                                 busy[0].idx, self.modules[busy[0].module].title
                                 if busy[0].module else "damo start"))
        ctxs = [params_mod.build_context(cp, pids=self.run.pids, machine=self.run.machine)
                for cp in params.contexts]
        pos = self.sim.add_kdamond(ctxs)
        idx = self.kdamonds[-1].idx
        kd = LiveKdamond(idx, params, ctxs, pos, module=mod.name)
        self.kdamonds[-1] = kd
        self.by_pos.append(kd)
        mod.kdamond, mod.ctx = kd, ctxs[0]
        mod.last_refresh_ns = self.sim.now_ns
        log("%s on: kdamond %d" % (mod.title, idx))
        return None

    def module_stop(self, mod):
        kd = mod.kdamond
        for c in kd.contexts:
            c.request_stop()
        kd.reason = "%s was disabled" % mod.title
        self._run_while(lambda: kd.running)
        if kd.running:
            raise DamoError("%s's kdamond did not stop within %g s" % (mod.title, WAIT_WALL_S))
        mod.refresh(self)
        log("%s off" % mod.title)
        return None

    def module_commit(self, mod, params):
        self._commit(mod.kdamond, params)
        log("%s: committed its inputs" % mod.title)
        return None

    def module_calls(self):
        """The modules' repeated damon_call()s (DAMON_STAT's refresh)."""
        stat = self.modules["stat"]
        if stat.running() and not getattr(stat, "call_pending", False) and \
                self.sim.now_ns - stat.last_refresh_ns > stat.REFRESH_NS:
            stat.call_pending = True

            def fn(ctx):
                stat.call_pending = False
                stat.on_call(ctx, ctx.kstate.clock_ns)
            stat.ctx.call(fn)

    def _run_while(self, busy):
        """Advance the simulation while ``busy()``, for WAIT_WALL_S at most."""
        deadline = time.monotonic() + WAIT_WALL_S
        step = 1_000_000
        while busy() and time.monotonic() < deadline:
            self.sim.run(step, stop_with_workloads=False)
            step = min(step * 2, 1_000_000_000)

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
                kd = self.by_pos[snap.kdamond_idx]
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
        for c in list(self.clients):
            if c.replying:
                self._send(c)       # a last try, without waiting
            self._drop(c)
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
