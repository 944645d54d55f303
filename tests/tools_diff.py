"""A differential harness for damo's offline commands (tests/test_diff_tools*.py).

A ``Case`` is one command line, run by our damo (in-process) and by the
reference damo 3.4.3 (tests/reference_damo.py's sandbox, only on record
files), each in an empty directory of its own, so that relative output
paths and the messages naming them are the same.  Recordings are named
``{name}`` in the arguments and resolved to absolute paths.

Expectations:
- ``same``: exit code, stdout (colour stripped) and every listed output
  file (bytes and mode) are identical;
- ``error``: damo fails (it prints its message on stdout, exit 1 or 2);
  ours exits with the same code, prints nothing on stdout and one
  ``damo: error:`` line naming ``names`` on stderr, and writes no output;
- a function ``expect(ours, theirs, reference)``: for damo's bugs; the test
  that uses it names the bug (``same_after``, ``SameAsCase``).
"""
import concurrent.futures
import os
import re
import stat
import subprocess
import tempfile

from click.testing import CliRunner

import reference_damo
from damo.cli import main

ANSI = re.compile("\x1b\\[[0-9;]*m")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.]+)\}")


class Result:
    def __init__(self, code, stdout, stderr, files):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.files = files      # name -> (bytes, mode) or None

    def __repr__(self):
        return "Result(code=%r, stdout=%r, stderr=%r)" % (self.code, self.stdout[:300],
                                                          self.stderr[:300])


class Case:
    def __init__(self, id, argv, outputs=(), expect="same", names=(), env=None,
                 damo_env=None, setup=None, damo_without_perf=False):
        self.id = id
        self.argv = tuple(argv)
        self.outputs = tuple(outputs)
        self.expect = expect
        self.names = tuple(names)
        self.env = env or {}
        self.damo_env = damo_env or {}
        # setup(directory, recordings): files to put in the run directory first
        self.setup = setup
        # run damo with a PATH that has no perf (damo's code then takes its
        # no-perf branches)
        self.damo_without_perf = damo_without_perf

    def resolve(self, recordings):
        return [_PLACEHOLDER.sub(lambda m: recordings[m.group(1)], a) for a in self.argv]


def _collect(directory, outputs):
    files = {}
    for name in outputs:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                files[name] = (f.read(), stat.S_IMODE(os.stat(path).st_mode))
        else:
            files[name] = None
    return files


def run_reference(executable, case, recordings, root):
    directory = tempfile.mkdtemp(prefix="ref-", dir=root)
    if case.setup:
        case.setup(directory, recordings)
    home = tempfile.mkdtemp(prefix="home-", dir=root)
    env = dict(os.environ, HOME=home, **case.damo_env)
    env.pop("DAMO_SIM_RUNTIME_DIR", None)
    env.pop("PYTHONPATH", None)     # ours there would shadow damo's own package
    if case.damo_without_perf:
        env["PATH"] = path_without_perf(root)
    done = subprocess.run(reference_damo.command(executable, case.resolve(recordings)),
                          env=env, cwd=directory, capture_output=True, timeout=600)
    return Result(done.returncode, ANSI.sub("", done.stdout.decode(errors="replace")),
                  done.stderr.decode(errors="replace"), _collect(directory, case.outputs))


# what the sandbox and damo run, besides python (damo's script names its interpreter)
_TOOLS = ("sh", "bash", "unshare", "mount", "ls", "true", "file", "which", "uname", "env",
          "cat", "less", "git")


def path_without_perf(root):
    """A PATH directory with the tools damo and its sandbox use, but no perf."""
    import shutil
    directory = os.path.join(root, "bin-without-perf")
    if not os.path.isdir(directory):
        tmp = tempfile.mkdtemp(dir=root)
        for tool in _TOOLS:
            found = shutil.which(tool)
            if found:
                os.symlink(os.path.realpath(found), os.path.join(tmp, tool))
        try:
            os.rename(tmp, directory)
        except OSError:
            pass    # another thread made it
    return directory


def run_ours(case, recordings, root):
    directory = tempfile.mkdtemp(prefix="ours-", dir=root)
    if case.setup:
        case.setup(directory, recordings)
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        env = dict(case.env)
        result = CliRunner().invoke(main, case.resolve(recordings), env=env,
                                    catch_exceptions=False)
    finally:
        os.chdir(cwd)
    return Result(result.exit_code, ANSI.sub("", result.stdout), result.stderr,
                  _collect(directory, case.outputs))


class Reference:
    """damo 3.4.3's results for many cases, run in parallel and kept."""

    def __init__(self, damo_fixture, recordings, root):
        self.executable = damo_fixture.executable
        self.recordings = recordings
        self.root = root
        self.results = {}

    def prefetch(self, cases):
        todo = [c for c in cases if c.id not in self.results]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for case, result in zip(todo, pool.map(
                    lambda c: run_reference(self.executable, c, self.recordings, self.root),
                    todo)):
                self.results[case.id] = result

    def get(self, case):
        if case.id not in self.results:
            self.prefetch([case])
        return self.results[case.id]


def check(case, ours, theirs, reference=None):
    # hostile input or not, ours never ends in a traceback
    assert "Traceback" not in ours.stderr, ours.stderr
    if case.expect == "same":
        assert ours.code == theirs.code, (ours, theirs)
        assert ours.stdout == theirs.stdout
        for name in case.outputs:
            assert ours.files[name] == theirs.files[name], name
        if ours.code == 0:
            assert ours.stderr == "" or case.env.get("DAMO_ALLOW_STDERR")
    elif case.expect == "error":
        assert theirs.code != 0, theirs
        assert ours.code == theirs.code, (ours, theirs)
        assert ours.stdout == ""
        lines = ours.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("damo: error: "), ours.stderr
        for name in case.names:
            assert name in lines[0], (name, lines[0])
        for name in case.outputs:
            assert ours.files[name] is None, name
    else:
        case.expect(ours, theirs, reference)


def same_after(fix_theirs, files=True):
    """An expectation: the same as damo once ``fix_theirs(bytes) -> bytes``
    has undone one damo bug in its stdout (and written files)."""
    def expect(ours, theirs, reference=None):
        assert ours.code == theirs.code == 0, (ours, theirs)
        assert ours.stdout == fix_theirs(theirs.stdout.encode()).decode()
        if files:
            for name, value in theirs.files.items():
                assert value is not None and ours.files[name] is not None, name
                fixed = fix_theirs(value[0])
                assert fixed != value[0], "damo's bug is not in %s any more" % name
                assert ours.files[name] == (fixed, value[1]), name
    return expect


def ns_sample_intervals_fixed(data):
    """damo writes snapshots' sample_interval_us in ns (raw 'exact' time)."""
    import zlib
    compressed = data[:1] == b"x"
    text = zlib.decompress(data) if compressed else data
    text = re.sub(rb'("sample_interval_us": ")([0-9]+)000"', rb'\1\2"', text)
    return zlib.compress(text) if compressed else text


def none_ages_fixed(data):
    """damo writes unknown ages into perf_script text as ' None'."""
    return data.replace(b" None\n", b"\n")


class SameAsCase:
    """An expectation: damo cannot run this case (``why`` is in its stdout);
    ours gives what damo gives for ``other`` (the same data in a form damo
    reads)."""

    def __init__(self, other, why):
        self.other, self.why = other, why

    def __call__(self, ours, theirs, reference):
        assert self.why in theirs.stdout, theirs
        expected = reference.get(self.other)
        assert ours.code == expected.code == 0, (ours, expected)
        assert ours.stdout == expected.stdout
        for name, value in expected.files.items():
            assert ours.files[name] == value, name


def tuned_intervals_dropped(ours, theirs, reference=None):
    """damo reads damon_monitor_intervals_tune lines of a trace but drops the
    value: parse_damon_trace() re-assigns it from every following line, so
    each snapshot's sample_interval_us ends up None.  Ours keeps it; nulling
    ours gives damo's bytes."""
    assert ours.code == theirs.code == 0, (ours, theirs)
    assert ours.stdout == theirs.stdout
    for name, value in theirs.files.items():
        assert b'"sample_interval_us": "' not in value[0]
        mine = ours.files[name][0]
        assert mine.count(b'"sample_interval_us": "') > 0
        nulled = re.sub(rb'"sample_interval_us": "[0-9]+"', b'"sample_interval_us": null', mine)
        assert (nulled, ours.files[name][1]) == value, name
