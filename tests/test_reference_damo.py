"""The reference damo's sandbox hides every way to a kernel DAMON before damo runs."""
import os
import subprocess

import pytest

import reference_damo


def _sandbox_or_skip():
    try:
        reference_damo.check_sandbox()
    except reference_damo.Unavailable as e:
        if os.environ.get("DAMO_SIM_REQUIRE_REFERENCE") == "1":
            pytest.fail(str(e))
        pytest.skip(str(e))


def test_sandbox_hides_damon_sysfs_debugfs_and_tracefs():
    _sandbox_or_skip()
    present = [d for d in reference_damo.HIDDEN if os.path.exists(d)]
    # in the sandbox each of them is empty and cannot be written
    script = ('for d in "$@"; do ls -A "$d"; touch "$d/x" 2>/dev/null && echo writable; '
              'done; echo done')
    done = subprocess.run(reference_damo.command("/bin/sh", ["-c", script, "sh"] + present),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    # ... and the host's own view is unchanged afterwards
    if os.path.isdir("/sys/kernel/mm/damon"):
        assert os.listdir("/sys/kernel/mm/damon") == os.listdir("/sys/kernel/mm/damon")


def test_sandbox_refuses_to_run_when_it_cannot_hide_a_path(tmp_path):
    _sandbox_or_skip()
    # a path that exists but cannot take a mount (a regular file): damo must not start
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    argv = reference_damo.command("/bin/echo", ["started"])
    argv[argv.index("--") - 1:argv.index("--")] = [argv[argv.index("--") - 1], str(blocker)]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 97
    assert "refusing to run" in done.stderr and "started" not in done.stdout


def test_reference_damo_reads_a_recording_in_the_sandbox(damo, recordings):
    code, out = damo.command("report", "nr_regions", "--input", recordings["upstream"])
    assert code == 0
    assert out.splitlines()[:3] == ["# <percentile> <# regions>",
                                    "# target_id\t18446623438842320000", "# avr:\t18"]
