#!/usr/bin/env python3
"""damo sweep's speed, side by side in one run: a 3x3 sweep of masim's
stairs_30secs (sampling 1/5/20 ms x max_nr_regions 20/100/1000, each run
with the exact truth and scored as damo report accuracy scores it) on 2
local workers and on 2 dask workers (a real scheduler and workers on
loopback, started before the timing as a running cluster is), against the
same 9 evaluations run one after the other in this process (target: at
most 0.6x).

Wall time is what a user waits; on a busy machine two workers get less than
two cores, so the CPU time of the busiest worker (the critical path on two
free cores) is shown too, against the serial run's CPU time.  The local
figure includes starting the workers; the dask one connecting to the
cluster (its first sweep also has the workers' imports).

Each figure is the best of --repeat runs (the machine may be busy).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from damo.commands import sweep as sweep_mod
from damo.evaluation import Evaluator, evaluate

PARAMS = [("sample", ["1ms", "5ms", "20ms"]), ("max_nr_regions", ["20", "100", "1000"])]


def evaluations():
    return sweep_mod.evaluations("stairs_30secs", PARAMS, None, 0, None)


def _cpu_of(pid):
    """CPU seconds (user + system) of a process so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_cpu():
    t = os.times()
    return t.user + t.system


def serial():
    t0, c0 = time.perf_counter(), time.process_time()
    results = [evaluate(ev) for ev in evaluations()]
    cpu = time.process_time() - c0
    return time.perf_counter() - t0, cpu, cpu, results


def local(jobs, forkserver=False):
    stop = None
    if forkserver:
        # another thread running here: the workers come from a forkserver
        import threading
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
    try:
        return _local(jobs)
    finally:
        if stop is not None:
            stop.set()


def _local(jobs):
    t0 = time.perf_counter()
    with Evaluator(jobs=jobs) as pool:
        pids = pool.worker_pids()
        before = {p: _cpu_of(p) for p in pids}
        results = pool.map(evaluations())
        used = [_cpu_of(p) - before[p] for p in pids]
    return time.perf_counter() - t0, max(used), sum(used), results


def on_dask(address):
    import distributed
    with distributed.Client(address, timeout=30, set_as_default=False) as c:
        before = c.run(_worker_cpu)
        t0 = time.perf_counter()
        with Evaluator(scheduler=address) as pool:
            results = pool.map(evaluations())
        wall = time.perf_counter() - t0
        after = c.run(_worker_cpu)
    used = [after[w] - before[w] for w in after]
    return wall, max(used), sum(used), results


class Cluster:
    """`dask scheduler` and `dask worker` processes on loopback."""

    def __init__(self, nr_workers):
        self.dir = tempfile.mkdtemp(prefix="bench-sweep-")
        dask = os.path.join(os.path.dirname(sys.executable), "dask")
        sched_file = os.path.join(self.dir, "scheduler.json")
        self.log = open(os.path.join(self.dir, "dask.log"), "w")
        self.procs = [subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", sched_file], stdout=self.log, stderr=subprocess.STDOUT)]
        deadline = time.monotonic() + 60
        self.address = None
        while self.address is None:
            if time.monotonic() > deadline or self.procs[0].poll() is not None:
                self.close()
                raise SystemExit("the dask scheduler did not start (see %s)" % self.dir)
            try:
                with open(sched_file) as f:
                    self.address = json.load(f)["address"]
            except (OSError, ValueError):
                time.sleep(0.1)
        self.procs += [subprocess.Popen(
            [dask, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
             "--host", "127.0.0.1"], stdout=self.log, stderr=subprocess.STDOUT)
            for _ in range(nr_workers)]
        import distributed
        with distributed.Client(self.address, timeout=30, set_as_default=False) as c:
            c.wait_for_workers(nr_workers, timeout=60)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.log.close()
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true", help="local workers only")
    args = ap.parse_args()
    cluster = None if args.no_dask else Cluster(args.jobs)
    best = {}

    def keep(name, wall, cpu, total, results):
        w, c, t, _ = best.get(name, (None, None, None, None))
        best[name] = (wall if w is None else min(w, wall), cpu if c is None else min(c, cpu),
                      total if t is None else min(t, total), results)
    try:
        if cluster is not None:
            keep("dask, first sweep", *on_dask(cluster.address))
        for _ in range(args.repeat):
            keep("serial", *serial())
            keep("local", *local(args.jobs))
            keep("forkserver", *local(args.jobs, forkserver=True))
            if cluster is not None:
                keep("dask", *on_dask(cluster.address))
    finally:
        if cluster is not None:
            cluster.close()
    s_wall, s_cpu, _, s_results = best["serial"]
    print("3x3 sweep of stairs_30secs (sampling 1/5/20 ms x max_nr_regions 20/100/1000), "
          "with the exact truth; load average %s" % " ".join(
              open("/proc/loadavg").read().split()[:3]))
    print("    %-34s wall %5.2f s            CPU %5.2f s" % ("serial, in this process:",
                                                           s_wall, s_cpu))
    for name, label in (("local", "%d local workers (started here):" % args.jobs),
                        ("forkserver", "%d local (from a forkserver):" % args.jobs),
                        ("dask", "%d dask workers (warm):" % args.jobs),
                        ("dask, first sweep", "%d dask workers (first sweep):" % args.jobs)):
        if name not in best:
            continue
        wall, cpu, total, results = best[name]
        same = all(a.same_as(b) for a, b in zip(s_results, results))
        print("    %-34s wall %5.2f s = %.2fx   busiest worker's CPU %5.2f s = %.2fx "
              "(all workers' %.2f s)   same results: %s"
              % (label, wall, wall / s_wall, cpu, cpu / s_cpu, total, same))
    print("    (target: at most 0.6x)")
    print(sweep_mod.text(sweep_mod.rows_of(best["local"][3]), [n for n, _ in PARAMS]))


if __name__ == "__main__":
    main()
