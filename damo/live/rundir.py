"""The per-user runtime directory of live kdamonds.

Layout (``$DAMO_SIM_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/damo-sim``, else
``/tmp/damo-sim-<uid>``; mode 0700, owned by the user)::

    .lock                 global lock: creating and removing slots
    kdamond.<idx>/        one slot per kdamond started by `damo start`
        lock              held (flock) by the daemon for its whole life
        spec.json         what `damo start` asked for
        state.json        the daemon's latest state (atomically replaced)
        control.sock      the daemon's Unix socket
        log               the daemon's stderr

One `damo start` runs one daemon (one simulated machine) in one slot; the
slot is named after its first kdamond, and its ``idxs`` file lists the
indices of every kdamond it runs (a preset or kdamonds file may give several).

A slot whose lock nobody holds belongs to a daemon that has exited: cleanly
("off": its kdamonds stopped by themselves, e.g. their workload ended) or not
("dead": killed or crashed).  `damo start` removes such slots; `damo stop`
removes the slots of the kdamonds it stops.
"""
import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import time

from damo.errors import DamoError

ENV = "DAMO_SIM_RUNTIME_DIR"
SLOT_PREFIX = "kdamond."
STATE_FORMAT = "damo-sim live state 1"
# the longest path a Unix socket address can hold (sun_path less its NUL)
MAX_SOCKET_PATH = 107


def default_dir():
    path = os.environ.get(ENV)
    if path:
        return os.path.abspath(path)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return os.path.join(xdg, "damo-sim")
    return "/tmp/damo-sim-%d" % os.geteuid()


def _check_private(path):
    """Refuse a runtime directory another user could reach or replace."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise DamoError("runtime directory %s is not a directory (a symlink?); refusing "
                        "to use it" % path)
    if st.st_uid != os.geteuid():
        raise DamoError("runtime directory %s belongs to another user (uid %d); refusing "
                        "to use it (set %s to a directory of yours)" % (path, st.st_uid, ENV))
    if st.st_mode & 0o077:
        raise DamoError("runtime directory %s is accessible by group or others (mode %o); "
                        "refusing to use it (chmod 700 it)" % (path, st.st_mode & 0o777))
    return True


def runtime_dir(create=False):
    """The checked runtime directory; None if it does not exist and
    ``create`` is not set."""
    path = default_dir()
    if _check_private(path):
        return path
    if not create:
        return None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise DamoError("cannot create runtime directory %s: %s" % (path, e.strerror))
    _check_private(path)
    return path


@contextlib.contextmanager
def global_lock(rundir, timeout=10.0):
    """Serialise slot creation and removal."""
    fd = os.open(os.path.join(rundir, ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DamoError("runtime directory %s is busy (another damo holds its "
                                    "lock)" % rundir)
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)


def write_json(path, data):
    """Replace ``path`` atomically (readers see the old or the new file);
    the file is the user's alone (0600), whatever the umask."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    os.replace(tmp, path)


def open_private(path, flags=os.O_WRONLY | os.O_CREAT | os.O_APPEND):
    """A file only the user can read (0600, whatever the umask), as binary."""
    return os.fdopen(os.open(path, flags | os.O_CLOEXEC, 0o600), "ab")


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Slot:
    """The runtime files of one kdamond."""

    def __init__(self, rundir, idx):
        self.rundir = rundir
        self.idx = idx
        self.path = os.path.join(rundir, "%s%d" % (SLOT_PREFIX, idx))

    def file(self, name):
        return os.path.join(self.path, name)

    def kdamond_idxs(self):
        """Indices of the kdamonds this slot's daemon runs."""
        idxs = read_json(self.file("idxs"))
        if isinstance(idxs, list) and idxs and all(isinstance(i, int) for i in idxs):
            return idxs
        return [self.idx]

    @property
    def sock_path(self):
        return self.file("control.sock")

    @property
    def log_path(self):
        return self.file("log")

    def held(self):
        """True while a process holds the slot's lock (the daemon, or the
        `damo start` that is creating it)."""
        try:
            fd = os.open(self.file("lock"), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def state(self):
        """The daemon's latest state (a dict), or None."""
        state = read_json(self.file("state.json"))
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            return None
        return state

    def liveness(self):
        """'on' (daemon running), 'starting', 'off' (its kdamond stopped
        and the daemon exited cleanly) or 'dead'."""
        state = self.state()
        if self.held():
            return "on" if state is not None else "starting"
        if state is not None and state.get("exited"):
            return "off"
        return "dead"

    def last_log_line(self):
        """The daemon's last words, if they say more than that it started
        (a daemon killed by a signal says nothing)."""
        try:
            with open(self.log_path, errors="replace") as f:
                lines = [line.strip() for line in f if line.strip()]
        except OSError:
            return None
        if not lines or " started (pid " in lines[-1]:
            return None
        return lines[-1]

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def slots(rundir):
    """Slots in index order."""
    if rundir is None:
        return []
    out = []
    try:
        names = os.listdir(rundir)
    except OSError:
        return []
    for name in names:
        if name.startswith(SLOT_PREFIX) and name[len(SLOT_PREFIX):].isdigit():
            out.append(Slot(rundir, int(name[len(SLOT_PREFIX):])))
    return sorted(out, key=lambda s: s.idx)


def cleanup_exited(rundir):
    """Remove the slots of daemons that exited; returns [(kdamond indices,
    liveness, last log line)] of what was removed.  Call under global_lock()."""
    removed = []
    for slot in slots(rundir):
        liveness = slot.liveness()
        if liveness in ("off", "dead"):
            removed.append((slot.kdamond_idxs(), liveness, slot.last_log_line()))
            slot.remove()
    return removed


def new_slot(rundir, nr_kdamonds=1):
    """Create a slot for ``nr_kdamonds`` kdamonds, with the lowest free
    indices, and lock it; returns (slot, lock fd).  Call under global_lock()."""
    taken = set()
    for s in slots(rundir):
        taken.update(s.kdamond_idxs())
    idxs, idx = [], 0
    while len(idxs) < nr_kdamonds:
        if idx not in taken:
            idxs.append(idx)
        idx += 1
    slot = Slot(rundir, idxs[0])
    if len(slot.sock_path) > MAX_SOCKET_PATH:
        raise DamoError("runtime directory path %s is too long for a Unix socket; set %s "
                        "to a shorter directory" % (rundir, ENV))
    tmp = os.path.join(rundir, ".new-%d" % os.getpid())
    shutil.rmtree(tmp, ignore_errors=True)
    os.mkdir(tmp, 0o700)
    fd = os.open(os.path.join(tmp, "lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    write_json(os.path.join(tmp, "idxs"), idxs)
    try:
        os.rename(tmp, slot.path)
    except OSError as e:
        os.close(fd)
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise DamoError("kdamond slot %s appeared meanwhile; try again" % slot.path)
        raise
    return slot, fd


def wait_released(slot, timeout):
    """Wait until nobody holds the slot's lock; True if released."""
    deadline = time.monotonic() + timeout
    while slot.held():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
