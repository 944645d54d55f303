"""Shared fixtures: synthetic recordings, our CLI in-process, and the
reference damo 3.4.3 (installed and sandboxed by tests/reference_damo.py) with its
outputs cached for the session.

Where the reference damo cannot run (no root for a private mount namespace, no
network to install it), the tests that need it skip with the reason; with
DAMO_SIM_REQUIRE_REFERENCE=1 (as CI sets it) they fail instead."""
import concurrent.futures
import os

import pytest
from click.testing import CliRunner

import reference_damo
import synth
from damo.cli import main

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UPSTREAM_RECORD = os.path.join(REPO, "tests", "data", "damo-upstream", "damon.data")

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


class ReferenceDamo:
    """damo 3.4.3, run only on record files; outputs cached per session."""

    def __init__(self):
        self.cache = {}
        self.stderr = {}        # args -> damo's stderr, for the failure messages
        reference_damo.check_sandbox()
        self.executable = reference_damo.ensure_installed()

    def _run(self, args):
        return self.command("report", *args)

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


@pytest.fixture(scope="session")
def damo():
    try:
        return ReferenceDamo()
    except reference_damo.Unavailable as e:
        if os.environ.get("DAMO_SIM_REQUIRE_REFERENCE") == "1":
            pytest.fail("reference damo required (DAMO_SIM_REQUIRE_REFERENCE=1): %s" % e)
        pytest.skip("reference damo %s unavailable: %s" % (reference_damo.VERSION, e))
