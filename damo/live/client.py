"""Talking to live kdamond daemons: one JSON request per connection to the
daemon's Unix socket, one JSON reply; and the list of kdamonds as status
commands see them."""
import json
import socket

from damo.errors import DamoError
from damo.live import rundir as rundir_mod

MAX_REPLY = 256 << 20
# --debug_damon: print each request and its reply on stderr
DEBUG = False


def _debug(what, obj):
    import sys
    text = json.dumps(obj, separators=(",", ":"))
    if len(text) > 2000:
        text = text[:2000] + "... (%d bytes)" % len(text)
    sys.stderr.write("damo-sim: %s %s\n" % (what, text))


class DaemonUnreachable(DamoError):
    pass


def request(slot, req, timeout=10.0):
    """Send ``req`` (a dict) to the slot's daemon; returns its reply (a
    dict).  A reply {"error": msg} becomes DamoError(msg)."""
    if DEBUG:
        _debug("request to kdamond %d (%s):" % (slot.idx, slot.sock_path), req)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(slot.sock_path)
        except OSError as e:
            raise DaemonUnreachable("kdamond %d does not answer (%s)" % (
                slot.idx, e.strerror or e))
        try:
            sock.sendall(json.dumps(req).encode() + b"\n")
            chunks, size = [], 0
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if chunk.endswith(b"\n") or size > MAX_REPLY:
                    break
        except socket.timeout:
            raise DaemonUnreachable("kdamond %d did not answer within %g s" % (
                slot.idx, timeout))
        except OSError as e:
            raise DaemonUnreachable("kdamond %d: connection failed (%s)" % (
                slot.idx, e.strerror or e))
    finally:
        sock.close()
    try:
        reply = json.loads(b"".join(chunks))
    except ValueError:
        raise DaemonUnreachable("kdamond %d closed the connection without an answer"
                                % slot.idx)
    if not isinstance(reply, dict):
        raise DaemonUnreachable("kdamond %d answered nonsense" % slot.idx)
    if DEBUG:
        _debug("reply of kdamond %d:" % slot.idx, reply)
    if "error" in reply:
        raise DamoError(reply["error"], exit_code=reply.get("exit_code", 1))
    return reply


class Kdamond:
    """A kdamond as the status commands see it: its slot, the daemon's
    liveness and state (None for a dead daemon that never wrote one), and
    its own part of that state (``kstate``)."""

    def __init__(self, slot, idx, liveness, state):
        self.slot = slot
        self.idx = idx
        self.liveness = liveness
        self.state = state
        self.kstate = None
        for kd in (state or {}).get("kdamonds", []):
            if kd.get("idx") == idx:
                self.kstate = kd
        if self.liveness == "on" and (self.kstate or {}).get("state") == "off":
            self.liveness = "off"           # stopped; its daemon runs others

    @property
    def running(self):
        return self.liveness == "on" and self.kstate is not None and \
            self.kstate.get("state") == "on"

    @property
    def reason(self):
        return (self.kstate or {}).get("reason") or (self.state or {}).get("reason")


def kdamonds():
    """Every kdamond of this user, in index order."""
    out = []
    for slot in rundir_mod.slots(rundir_mod.runtime_dir()):
        liveness, state = slot.liveness(), slot.state()
        if DEBUG:
            import sys
            sys.stderr.write("damo-sim: read %s: %s\n" % (
                slot.file("state.json"), "daemon %s, %s" % (
                    liveness, "no state" if state is None else "kdamonds %s" % (
                        ", ".join(str(i) for i in slot.kdamond_idxs())))))
        out += [Kdamond(slot, idx, liveness, state) for idx in slot.kdamond_idxs()]
    return sorted(out, key=lambda k: k.idx)


def running_kdamonds(indices=None, what="kdamond"):
    """Running kdamonds (those of ``indices`` if given); errors if none."""
    all_kds = kdamonds()
    if indices:
        by_idx = {k.idx: k for k in all_kds}
        chosen = []
        for idx in indices:
            k = by_idx.get(idx)
            if k is None:
                raise DamoError("--kdamond_idx: no kdamond %d (running: %s)" % (
                    idx, _list([k.idx for k in all_kds if k.running])))
            if not k.running:
                raise DamoError("kdamond %d is not running (%s)" % (idx, describe_liveness(k)))
            chosen.append(k)
        return chosen
    running = [k for k in all_kds if k.running]
    if not running:
        raise DamoError("no kdamond is running%s" % (
            "" if not all_kds else " (%s)" % "; ".join(
                "kdamond %d: %s" % (k.idx, describe_liveness(k)) for k in all_kds)))
    return running


def describe_liveness(k):
    if k.liveness == "dead":
        return "dead: its daemon exited abnormally; `damo start` cleans it up"
    if k.liveness == "off":
        return "off" + (" (%s)" % k.reason if k.reason else "")
    return k.liveness


def _list(indices):
    return ", ".join(str(i) for i in indices) if indices else "none"
