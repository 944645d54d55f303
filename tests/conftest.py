"""Shared fixtures: synthetic recordings, our CLI in-process, and the
reference damo 3.4.3 (installed and sandboxed by tests/reference_damo.py) with its
outputs cached for the session.

Where the reference damo cannot run (no root for a private mount namespace, no
network to install it), the tests that need it skip with the reason; with
DAMO_SIM_REQUIRE_REFERENCE=1 (as CI sets it) they fail instead."""
import concurrent.futures
import hashlib
import json
import os
import signal
import sys
import tempfile

import pytest
from click.testing import CliRunner

import reference_damo
import synth
from damo.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# runs print a progress line every 10 s without a terminal; on a loaded machine
# that would add lines to the stderr tests compare (test_progress sets its own)
os.environ.setdefault("DAMO_SIM_PROGRESS_S", "0")
UPSTREAM_RECORD = os.path.join(REPO, "tests", "data", "damo-upstream", "damon.data")


def _caught_not_ignored():
    """A suite started under nohup, or as a background job of a script,
    inherits SIGHUP or SIGINT ignored, and so would every damo it runs: damo
    honours an ignored signal (nohup's point), so the tests that send one
    would wait for a run that never stops.  A handler that does nothing keeps
    this process as it was, and is reset to the default by exec."""
    for signum in (signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_IGN:
            signal.signal(signum, lambda *_: None)


_caught_not_ignored()

# name -> keyword arguments of synth.stairs
SHAPES = {
    "basic": {},
    "multi_targets_gaps": {"nr_targets": 2, "gaps": True},
    "intervals_null": {"intervals": None},
    "one_snapshot": {"nr_snapshots": 1},
    "address_zero": {"base_addr": 0},
    "big": {"nr_snapshots": 300, "nr_regions": 200, "gaps": True},
    "small": {"nr_snapshots": 3, "nr_regions": 2},
    "no_ages": {"intervals": None, "ages": False},
    "tuned_intervals": {"nr_snapshots": 40, "tuned": True, "intervals": dict(
        synth.INTERVALS, intervals_goal={"access_bp": 400, "aggrs": 3,
                                         "min_sample_us": 1000, "max_sample_us": 10000000})},
}


@pytest.fixture(scope="session")
def recordings(tmp_path_factory):
    """name -> path of a recording: the upstream one and synthetic shapes,
    as json_compressed and, for some, perf_script."""
    root = tmp_path_factory.mktemp("recordings")
    paths = {"upstream": UPSTREAM_RECORD}
    for name, kwargs in SHAPES.items():
        paths[name] = str(root / (name + ".data"))
        synth.stairs(paths[name], **kwargs)
    paths["odd_regions"] = str(root / "odd_regions.data")
    synth.odd_regions(paths["odd_regions"])
    for name in ("one_snapshot", "multi_targets_gaps"):
        paths[name + ".perf_script"] = str(root / (name + ".perf_script"))
        synth.stairs(paths[name + ".perf_script"], output_type="perf_script",
                     **SHAPES[name])
    return paths


def run_ours(*args, env=None):
    """Our CLI, in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


# The two ways a user starts damo; both go through damo._entry.
ENTRY_POINTS = ["python -m damo.cli", "bin/damo"]


def entry_command(entry):
    """argv prefix of one of ENTRY_POINTS (skips if this environment has no
    damo command)."""
    if entry == "bin/damo":
        exe = os.path.join(os.path.dirname(sys.executable), "damo")
        if not os.path.exists(exe):
            pytest.skip("no damo command in this environment")
        return [exe]
    return [sys.executable, "-m", "damo.cli"]


class ReferenceDamo:
    """damo 3.4.3, run only on record files; outputs cached per session."""

    def __init__(self):
        self.cache = {}
        self.stderr = {}        # args -> damo's stderr, for the failure messages
        reference_damo.check_sandbox()
        self.executable = reference_damo.ensure_installed()
        # Mutation runs (tools/mutants/mutmut_score.py) start the session over
        # for every mutant: they keep damo's reports on disk, keyed by damo's
        # version, the arguments and the bytes of every file named in them.
        self.disk_cache = os.environ.get("DAMO_SIM_REFERENCE_CACHE")

    def _run(self, args):
        if self.disk_cache:
            return self._run_disk_cached(args)
        return self.command("report", *args)

    def _run_disk_cached(self, args):
        files = [a for a in args if os.path.isfile(a)]
        key = hashlib.sha256(reference_damo.VERSION.encode())
        for a in args:
            if a in files:
                with open(a, "rb") as f:
                    key.update(b"\0file\0" + hashlib.sha256(f.read()).digest())
            else:
                key.update(b"\0arg\0" + a.encode())
        path = os.path.join(self.disk_cache, key.hexdigest() + ".json")

        def swap(text, pairs):
            for a, b in pairs:
                text = text.replace(a, b)
            return text
        # the files' paths differ from session to session: kept as placeholders
        placeholders = [(f, "\0file%d\0" % i) for i, f in enumerate(files)]
        try:
            with open(path) as f:
                code, out, err = json.load(f)
        except FileNotFoundError:
            code, out = self.command("report", *args)
            err = self.stderr[("report",) + tuple(args)]
            os.makedirs(self.disk_cache, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.disk_cache)
            with os.fdopen(fd, "w") as f:
                json.dump([code, swap(out, placeholders), swap(err, placeholders)], f)
            os.replace(tmp, path)
            return code, out
        restore = [(b, a) for a, b in placeholders]
        self.stderr[("report",) + tuple(args)] = swap(err, restore)
        return code, swap(out, restore)

    def command(self, *args):
        """(exit code, stdout) of ``damo ARGS`` (record files only!), uncached."""
        done = reference_damo.run(args, damo=self.executable, capture_output=True,
                                  text=True)
        self.stderr[tuple(args)] = done.stderr
        return done.returncode, done.stdout

    def prefetch(self, many_args):
        """Run damo on many argument lists at once (damo takes ~0.4 s a run)."""
        todo = [tuple(a) for a in many_args if tuple(a) not in self.cache]
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for args, out in zip(todo, pool.map(self._run, todo)):
                self.cache[args] = out

    def why(self, *args):
        """damo's stdout and stderr of its last ``damo report ARGS``, for failure messages."""
        code, out = self.cache.get(args, (None, ""))
        return "damo report %s exited %s\n%s\n%s" % (
            " ".join(args), code, out[-2000:], self.stderr.get(("report",) + args, "")[-4000:])

    def report(self, *args):
        """(exit code, stdout) of ``damo report ARGS``."""
        if args not in self.cache:
            self.cache[args] = self._run(args)
        return self.cache[args]


def _keep_tools_reference_results(directory):
    """Mutation runs: the tools' harness (tools_diff.run_reference) keeps
    damo's results on disk too, keyed by damo's version, the case, its
    resolved arguments (files by their bytes), its environment and outputs."""
    import base64
    import tools_diff

    run_reference = tools_diff.run_reference

    def cached(executable, case, recordings, root):
        argv = case.resolve(recordings)
        files = sorted({a for a in argv if os.path.isfile(a)})
        key = hashlib.sha256(repr((reference_damo.VERSION, case.id, case.outputs,
                                   sorted(case.damo_env.items()))).encode())
        marks = [(f, "\0file%d\0" % i) for i, f in enumerate(files)]

        def swap(text, pairs):
            for a, b in pairs:
                text = text.replace(a, b)
            return text
        for f in files:
            with open(f, "rb") as fobj:
                key.update(hashlib.sha256(fobj.read()).digest())
        for a in argv:              # the files' paths differ from session to session
            key.update(b"\0arg\0" + swap(a, marks).encode())
        path = os.path.join(directory, "tools-" + key.hexdigest() + ".json")
        try:
            with open(path) as f:
                code, out, err, outputs = json.load(f)
        except FileNotFoundError:
            result = run_reference(executable, case, recordings, root)
            outputs = {name: None if v is None else [base64.b64encode(v[0]).decode(), v[1]]
                       for name, v in result.files.items()}
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory)
            with os.fdopen(fd, "w") as f:
                json.dump([result.code, swap(result.stdout, marks), swap(result.stderr, marks),
                           outputs], f)
            os.replace(tmp, path)
            return result
        back = [(b, a) for a, b in marks]
        files_out = {name: None if v is None else (base64.b64decode(v[0]), v[1])
                     for name, v in outputs.items()}
        return tools_diff.Result(code, swap(out, back), swap(err, back), files_out)

    tools_diff.run_reference = cached


if os.environ.get("DAMO_SIM_REFERENCE_CACHE"):
    _keep_tools_reference_results(os.environ["DAMO_SIM_REFERENCE_CACHE"])

def pytest_configure(config):
    # A pytest started in the background by a non-interactive shell (land
    # runs, soak loops, `cmd &` in scripts) has SIGINT ignored, and so would
    # every damo it starts: Python keeps an ignored SIGINT, and a test's ^C
    # would be lost (the command runs on and the test times out).  Tests
    # send ^C as a terminal sends it to a foreground job.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Mutation runs stop at a mutant's first failing test: the quick tests that
# check one thing first (the record formats, then the reports), the ones that
# record or draw last.
MUTATION_ORDER = ["test_mut_records.py", "test_mut_reports.py", "test_records_formats.py", "test_records_errors.py",
                  "test_records_damo_reads.py", "test_report_profile.py",
                  "test_code_attribution.py", "test_module_stat.py",
                  "test_report_differential.py",
                  "test_diff_tools.py", "test_tools_writers.py", "test_report_cli.py",
                  "test_report_images.py"]


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DAMO_SIM_MUTATION_RUN") != "1":
        return
    rank = {name: i for i, name in enumerate(MUTATION_ORDER)}
    items.sort(key=lambda item: rank.get(os.path.basename(str(item.fspath)), len(rank)))


@pytest.fixture(scope="session")
def damo():
    try:
        return ReferenceDamo()
    except reference_damo.Unavailable as e:
        if os.environ.get("DAMO_SIM_REQUIRE_REFERENCE") == "1":
            pytest.fail("reference damo required (DAMO_SIM_REQUIRE_REFERENCE=1): %s" % e)
        pytest.skip("reference damo %s unavailable: %s" % (reference_damo.VERSION, e))
