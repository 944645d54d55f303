"""The reference damo (PyPI damo==3.4.3) for differential tests and benches, in a
sandbox of our own.

damo talks to the kernel's DAMON through sysfs (and, in older kernels, debugfs and
module parameters). These machines may run a live DAMON that belongs to their
operator, so the reference damo only ever runs inside a private mount namespace in
which every place it could reach DAMON is hidden behind an empty, read-only tmpfs;
if any of them cannot be hidden, it does not run. It is given record files or
``--help`` only, and a scratch HOME.

    python tests/reference_damo.py ARGS...      # as `damo ARGS...`, sandboxed

Environment:
  DAMO_SIM_REFERENCE_VENV   the venv holding damo 3.4.3 (default
                            ~/.cache/damo-sim/damo-3.4.3), created with pip on first use.
"""
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import venv as venv_mod

VERSION = "3.4.3"
DEFAULT_VENV = os.path.join(os.path.expanduser("~"), ".cache", "damo-sim", "damo-" + VERSION)

# Every path through which damo (any version) reaches a kernel DAMON.
HIDDEN = (
    "/sys/kernel/mm/damon",
    "/sys/kernel/debug",
    "/sys/kernel/tracing",
    "/sys/module/damon",
    "/sys/module/damon_reclaim",
    "/sys/module/damon_lru_sort",
    "/sys/module/damon_stat",
)

# damo 3.4.3 picks its record parser by `file -b`'s words; its `file` reads
# only this magic file (see there: the host's full database takes some zlib
# recordings for disk images and executables, and damo then fails on them).
MAGIC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_damo.magic")

# Run as root inside the new namespace: hide, check, then exec damo.
_SANDBOX_SCRIPT = r'''
set -e
for d in "$@"; do
    [ "$d" = -- ] && break
    if [ -e "$d" ]; then
        mount -t tmpfs -o ro,nosuid,nodev,noexec,size=4k none "$d" 2>/dev/null || {
            echo "reference damo sandbox: cannot hide $d; refusing to run" >&2; exit 97; }
        if [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
            echo "reference damo sandbox: $d still shows entries; refusing to run" >&2; exit 97
        fi
    fi
done
while [ "$1" != -- ]; do shift; done; shift
exec "$@"
'''


class Unavailable(Exception):
    """The reference damo cannot run here; the message names what is missing."""


def venv_dir():
    return os.environ.get("DAMO_SIM_REFERENCE_VENV") or DEFAULT_VENV


def ensure_installed():
    """Path of the reference damo executable, installing it on first use."""
    root = venv_dir()
    damo = os.path.join(root, "bin", "damo")
    if os.access(damo, os.X_OK):
        return damo
    os.makedirs(os.path.dirname(root), exist_ok=True)
    with open(root + ".lock", "w") as lock:
        # several pytest workers may get here at once: one installs, the others wait
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.access(damo, os.X_OK):
            return damo
        scratch = root + ".partial"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            venv_mod.EnvBuilder(with_pip=True).create(scratch)
        except Exception as e:      # ensurepip missing, disk full, ...
            raise Unavailable("cannot create a venv for damo %s: %s" % (VERSION, e))
        done = subprocess.run([os.path.join(scratch, "bin", "python"), "-m", "pip", "install",
                               "-q", "--disable-pip-version-check", "damo==" + VERSION],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            tail = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise Unavailable("cannot install damo %s from PyPI (no network?): %s"
                              % (VERSION, tail))
        # the venv's scripts name their interpreter by path: fix them for the final place
        for name in os.listdir(os.path.join(scratch, "bin")):
            path = os.path.join(scratch, "bin", name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    head = f.read(2)
                if head == b"#!":
                    text = open(path, encoding="utf-8", errors="surrogateescape").read()
                    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
                        f.write(text.replace(scratch, root))
        cfg = os.path.join(scratch, "pyvenv.cfg")
        text = open(cfg).read()
        with open(cfg, "w") as f:
            f.write(text.replace(scratch, root))
        os.rename(scratch, root)
    return damo


def check_sandbox():
    """Raise Unavailable unless a private mount namespace can be made here."""
    if not shutil.which("unshare"):
        raise Unavailable("unshare (util-linux) is not installed: no sandbox for damo")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise Unavailable("cannot make a private mount namespace (needs root or "
                          "CAP_SYS_ADMIN): %s" % done.stderr.strip())
    if not os.path.isfile(MAGIC_FILE):
        raise Unavailable("%s is missing: damo's `file` would mistype recordings" % MAGIC_FILE)


def command(damo, args):
    """The argv that runs `damo ARGS` inside the sandbox."""
    return (["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
             _SANDBOX_SCRIPT, "sandbox"] + list(HIDDEN) +
            ["--", "/usr/bin/env", "MAGIC=" + MAGIC_FILE, damo] + list(args))


def argv_or_none():
    """For benches: a function ARGS -> sandboxed argv, or None (with the reason
    printed) when the reference damo cannot run here."""
    try:
        check_sandbox()
        damo = ensure_installed()
    except Unavailable as e:
        print("(reference damo %s unavailable: %s)" % (VERSION, e), file=sys.stderr)
        return None
    return lambda args: command(damo, args)


def run(args, damo=None, timeout=300, scratch_home=None, **kwargs):
    """subprocess.run of `damo ARGS` in the sandbox, with a scratch HOME."""
    damo = damo or ensure_installed()
    own_home = scratch_home is None
    home = scratch_home or tempfile.mkdtemp(prefix="damo-ref-home-")
    env = dict(os.environ, HOME=home)
    env.pop("DAMO_SIM_RUNTIME_DIR", None)
    # ours on PYTHONPATH would shadow damo's own 'damo' package
    env.pop("PYTHONPATH", None)
    try:
        return subprocess.run(command(damo, args), env=env, timeout=timeout, **kwargs)
    finally:
        if own_home:
            shutil.rmtree(home, ignore_errors=True)


# Our own scripts that may run on the reference damo's Python (run_python):
# they import damo's modules to write record files with damo's own writer.
SCRIPTS_DIR = os.path.dirname(os.path.abspath(__file__))


def run_python(script, args=(), timeout=300, **kwargs):
    """subprocess.run of the reference venv's python on ``script`` (a file in
    tests/, never anything else) with ``args``, in the same sandbox as damo."""
    script = os.path.abspath(script)
    if os.path.dirname(script) != SCRIPTS_DIR or not os.path.isfile(script):
        raise ValueError("run_python runs only this directory's scripts, not %s" % script)
    damo = ensure_installed()
    python = os.path.join(os.path.dirname(damo), "python")
    home = tempfile.mkdtemp(prefix="damo-ref-home-")
    env = dict(os.environ, HOME=home)
    env.pop("DAMO_SIM_RUNTIME_DIR", None)
    env.pop("PYTHONPATH", None)
    try:
        return subprocess.run(command(python, [script] + list(args)), env=env,
                              timeout=timeout, **kwargs)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main(argv):
    try:
        check_sandbox()
        damo = ensure_installed()
    except Unavailable as e:
        print("reference damo: %s" % e, file=sys.stderr)
        return 2
    return run(argv, damo=damo, timeout=None).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
