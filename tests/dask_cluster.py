"""A real dask.distributed cluster on loopback for tests: a `dask scheduler`
and `dask worker` processes (no nanny, one thread each), all stopped after."""
import contextlib
import json
import os
import subprocess
import sys
import time

import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))


def dask_command():
    path = os.path.join(os.path.dirname(sys.executable), "dask")
    if not os.path.exists(path):
        pytest.fail("the dask command is not installed beside %s (pip install -e '.[test]')"
                    % sys.executable)
    return path


@contextlib.contextmanager
def running(tmp_path, nr_workers=2):
    """(scheduler address, [worker Popen]) while the cluster runs."""
    dask = dask_command()
    sched_file = str(tmp_path / "scheduler.json")
    log_path = str(tmp_path / "dask.log")
    # the workers import the tests' measure functions too
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [TESTS] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    log = open(log_path, "w")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", sched_file],
                              stdout=log, stderr=subprocess.STDOUT, env=env)]
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(sched_file):
            assert time.monotonic() < deadline, open(log_path).read()
            assert procs[0].poll() is None, open(log_path).read()
            time.sleep(0.1)
        address = None
        while address is None:
            try:
                with open(sched_file) as f:
                    address = json.load(f)["address"]
            except ValueError:          # being written
                time.sleep(0.1)
        assert address.startswith("tcp://127.0.0.1:")
        workers = [subprocess.Popen([dask, "worker", address, "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
                                    stdout=log, stderr=subprocess.STDOUT, env=env)
                   for _ in range(nr_workers)]
        procs += workers
        import distributed
        with distributed.Client(address, timeout=30) as c:
            c.wait_for_workers(nr_workers, timeout=60)
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def kill_a_busy_worker(address, workers, timeout=60):
    """SIGKILL a worker while it runs a task; its pid."""
    import distributed
    with distributed.Client(address, timeout=30) as c:
        pids = c.run(os.getpid)
        deadline = time.monotonic() + timeout
        while True:
            assert time.monotonic() < deadline, "no worker ever got a task"
            busy = [a for a, keys in c.processing().items() if keys]
            if busy:
                break
            time.sleep(0.01)
    victim = next(w for w in workers if w.pid == pids[busy[0]])
    victim.kill()
    victim.wait(10)
    return victim.pid
