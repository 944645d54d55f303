"""damo's entry point loads numpy with one OpenBLAS thread (damo makes no
BLAS call, and OpenBLAS starting a thread per CPU was a third of numpy's
start-up CPU), unless the user chose a number, and gives the programs it
runs the environment the user gave it."""
import os
import subprocess

import pytest

from conftest import ENTRY_POINTS, entry_command

DATA = os.path.join(os.path.dirname(__file__), "data", "damo-upstream", "damon.data")

# At exit: the process's threads (OpenBLAS's stay until then), the variable
# as the process sees it, and whether numpy was loaded at all.
SITECUSTOMIZE = (
    "import atexit, os, sys\n"
    "def report():\n"
    "    sys.stderr.write('threads: %d\\n' % len(os.listdir('/proc/self/task')))\n"
    "    sys.stderr.write('blas: %s\\n' % os.environ.get('OPENBLAS_NUM_THREADS', 'unset'))\n"
    "    sys.stderr.write('numpy: %s\\n' % ('numpy' in sys.modules))\n"
    "atexit.register(report)\n")

needs_cpus = pytest.mark.skipif((os.cpu_count() or 1) < 2,
                                reason="OpenBLAS starts one thread per CPU: one CPU shows nothing")


def run_damo(entry, args, tmp_path, **env):
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    environ.update(env, PYTHONPATH=path)
    done = subprocess.run([*entry_command(entry), *args], capture_output=True, text=True, env=environ,
                          cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    seen = dict(line.split(": ", 1) for line in done.stderr.splitlines()
                if line.split(": ", 1)[0] in ("threads", "blas", "numpy"))
    return done, seen


@needs_cpus
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_report_loads_numpy_with_one_blas_thread_and_drops_the_variable(entry, tmp_path):
    done, seen = run_damo(entry, ["report", "wss", "-i", DATA], tmp_path)
    assert "percentile" in done.stdout or done.stdout.strip(), done.stdout
    assert seen["numpy"] == "True"
    assert seen["threads"] == "1", seen      # OpenBLAS's own would be one more per CPU
    assert seen["blas"] == "unset", seen     # set for numpy's load only


@needs_cpus
def test_the_users_blas_threads_are_kept(tmp_path):
    done, seen = run_damo("bin/damo", ["report", "wss", "-i", DATA], tmp_path,
                          OPENBLAS_NUM_THREADS="2")
    assert seen["numpy"] == "True"
    assert seen["blas"] == "2", seen
    assert seen["threads"] == "2", seen      # the user's two: OpenBLAS's one besides the main


@pytest.mark.skipif(subprocess.run(["sh", "-c", "command -v valgrind"],
                                   capture_output=True).returncode != 0,
                    reason="valgrind is not installed")
@pytest.mark.parametrize("users", [None, "3"])
def test_a_traced_program_gets_the_users_environment(users, tmp_path):
    """`damo record -- CMD`: CMD sees OPENBLAS_NUM_THREADS as the user set it
    (or not at all), not damo's one thread."""
    env = {"OPENBLAS_NUM_THREADS": users} if users else {}
    run_damo("bin/damo", ["record", "--monitoring_intervals", "20us", "200us", "200us",
                          "-o", "t.data", "--", "/bin/sh", "-c",
                          'echo "${OPENBLAS_NUM_THREADS-unset}" > seen.txt'],
             tmp_path, **env)
    assert (tmp_path / "seen.txt").read_text().strip() == (users or "unset")
