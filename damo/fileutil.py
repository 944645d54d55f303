"""Writing outputs so that a failure never leaves a half-written file, and a
kill at any moment never loses a recording.

An ``OutputSet`` writes the files of one output (a recording and its
sidecars) as one unit: each to a temporary file beside it; ``commit()``
makes every temporary file durable (flush, fsync), then keeps the existing
files as ``.old`` (a hard link, so that the file never goes missing), then
renames the new ones into place, then syncs the directory.  Until the
renames, nothing visible changes; SIGINT, SIGTERM and SIGHUP wait until the
commit is over.  A kill (SIGKILL, power loss) between two renames can leave
a new file beside an old one: the recording's sidecars carry its checksum
(``digest()``) so that readers refuse a stale one.

For tests only, ``DAMO_SIM_FAULT_AT=<step>`` makes the writer kill itself
(SIGKILL) when it reaches that step, ``DAMO_SIM_FAULT_AT=<step>:enospc``
makes the step fail as a full disk does, and ``<step>:stop`` stops the
process there (SIGSTOP) until it is continued.  Steps are named
``<action>:<role>``: ``write``, ``fsync``, ``backup``, ``install`` and
``dirsync`` (no role); ``DAMO_SIM_FAULT_STEPS=FILE`` appends each step
reached to FILE.
"""
import contextlib
import errno
import os
import signal
import threading

FAULT_ENV = "DAMO_SIM_FAULT_AT"
STEPS_ENV = "DAMO_SIM_FAULT_STEPS"
DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def fault_point(step):
    """A point between two system calls of a writer (see the module doc)."""
    log = os.environ.get(STEPS_ENV)
    if log:
        with open(log, "a") as f:
            f.write(step + "\n")
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    name, action = spec, "kill"
    for suffix in (":enospc", ":stop"):
        if spec.endswith(suffix):
            name, action = spec[:-len(suffix)], suffix[1:]
    if name != step:
        return
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)


@contextlib.contextmanager
def signals_deferred():
    """SIGINT, SIGTERM and SIGHUP wait until the block is over, then act as
    they would have (e.g. KeyboardInterrupt).  Python-level handlers, not a
    signal mask: a process-wide signal may land on any thread (numpy's
    OpenBLAS threads have every signal unblocked)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def note(signum, frame):
        received.append(signum)
    previous = {}
    try:
        for signum in DEFERRED_SIGNALS:
            # an ignored one (nohup's SIGHUP) stays ignored, even for a moment
            if signal.getsignal(signum) is not signal.SIG_IGN:
                previous[signum] = signal.signal(signum, note)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            signum = received[0]
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                os.kill(os.getpid(), signum)     # the default action, now


def check_output_path(path, option="-o/--out"):
    """Refuse, before any work, an output that cannot be written: a
    directory, or a file in a directory that does not exist or is not ours
    to write."""
    path = os.fspath(path)
    from damo.errors import DamoError
    if not path:
        raise DamoError("%s: empty file name" % option, exit_code=2)
    if os.path.isdir(path) or path.endswith(os.sep):
        raise DamoError("%s: %s is a directory; give a file name" % (option, path),
                        exit_code=2)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DamoError("%s: %s: directory %s does not exist" % (option, path, directory),
                        exit_code=2)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DamoError("%s: %s: cannot write in %s" % (option, path, directory),
                        exit_code=2)
    return path


class _HashingFile:
    """A binary file object that also hashes (sha256) what is written."""

    def __init__(self, f, role):
        self.f = f
        self.role = role
        import hashlib          # here: OpenSSL's libcrypto is 3.6 MB of a report's memory
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._first = True

    def write(self, data):
        if self._first:
            fault_point("write:" + self.role)
            self._first = False
        if isinstance(data, str):
            data = data.encode()
        self.sha256.update(data)
        self.size += len(data)
        return self.f.write(data)

    def flush(self):
        self.f.flush()

    def fileno(self):
        return self.f.fileno()


class OutputSet:
    """Files written as one unit (see the module doc).  Install order is the
    order of ``add()`` calls reversed: add the main file first, and it is
    renamed into place last, once its sidecars are."""

    def __init__(self, permission=0o600):
        self.permission = permission
        self.entries = []           # [path, role, tmp, file, remove]
        self.done = False

    def add(self, path, role, hashed=True):
        """A writable binary file that becomes ``path`` at commit; ``hashed``
        ones are written in sequence (their digest() is the file's), others
        may seek (a zip archive)."""
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        import tempfile         # only writers need it (and shutil, bz2, lzma with it)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp",
                                   dir=directory)
        f = _HashingFile(os.fdopen(fd, "wb"), role)
        self.entries.append([path, role, tmp, f, False])
        return f if hashed else f.f

    def remove(self, path, role):
        """``path`` goes away at commit (kept as .old): a stale sidecar."""
        self.entries.append([os.fspath(path), role, None, None, True])

    def digest(self, role):
        """(sha256 hex, bytes) of what was written to the file of ``role``."""
        for _, r, _, f, _ in self.entries:
            if r == role and f is not None:
                return f.sha256.hexdigest(), f.size
        raise KeyError(role)

    def commit(self):
        """Make the new files durable, keep the existing ones as .old, put the
        new ones in place; on failure nothing visible has changed."""
        with signals_deferred():
            try:
                for path, role, tmp, f, remove in self.entries:
                    if f is None:
                        continue
                    f.flush()
                    fault_point("fsync:" + role)
                    os.fsync(f.fileno())
                    f.f.close()
                    os.chmod(tmp, self.permission)
            except BaseException:
                self.abort()
                raise
            # from here on the new files are complete on disk
            for path, role, tmp, f, remove in self.entries:
                if os.path.lexists(path):
                    fault_point("backup:" + role)
                    backup_existing(path)
            for path, role, tmp, f, remove in reversed(self.entries):
                fault_point("install:" + role)
                if remove:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                else:
                    os.replace(tmp, path)
            self.done = True
            fault_point("dirsync")
            for directory in {os.path.dirname(os.path.abspath(e[0])) for e in self.entries}:
                _fsync_dir(directory)

    def abort(self):
        """Remove the temporary files; nothing visible changes."""
        for path, role, tmp, f, remove in self.entries:
            if f is not None:
                with contextlib.suppress(OSError):
                    f.f.close()
            if tmp is not None and not self.done:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        self.done = True


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path, mode="wb", permission=None):
    """Open a temporary file beside ``path``; rename it over ``path`` on success,
    once it is complete on disk (fsync).  On any exception the temporary file
    is removed and ``path`` is untouched.  (An output that keeps its previous
    version as .old, or that has sidecars, goes through OutputSet.)
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path),
                               suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if permission is not None:
            os.chmod(tmp, permission)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def backup_existing(path):
    """Keep an existing output as ``path.old``, as damo does, without a moment
    where ``path`` is missing: a hard link to it replaces ``path.old``
    (renaming where the file system has no hard links)."""
    if not os.path.lexists(path):
        return
    old = path + ".old"
    if os.path.isdir(old) and not os.path.islink(old):
        from damo.errors import DamoError
        raise DamoError("%s is a directory; cannot keep the previous %s there" % (old, path))
    # hidden, like the writers' temporary files: a kill may leave it behind
    link = os.path.join(os.path.dirname(old), ".%s.%d.tmp" % (os.path.basename(old),
                                                             os.getpid()))
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(link)
        os.link(path, link)
    except OSError:
        os.replace(path, old)
        return
    os.replace(link, old)
