"""Time damo autotune: trials per minute with 1 and 2 local workers, and a
100-trial search of hotcold (the target: within 5 minutes on 2 cores).

    python bench/bench_autotune.py [--trials 40] [--search_trials 100]

Each measurement is a whole `damo autotune` command (a fresh SQLite study
in a scratch directory; its start-up, the baseline and the comparison runs
included), run one after the other in this process's machine, so that the
ratios are side by side.  The machine may be shared: quote the ratios.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMORY = "dram:1G,swap:zswap"


def autotune(workdir, *args):
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "damo.cli", "autotune", *args,
                           "--storage", "sqlite:///%s" % os.path.join(workdir, "s.db"),
                           "-o", os.path.join(workdir, "best.json")], cwd=workdir,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        sys.exit("damo autotune failed: %s" % done.stderr)
    return wall, done.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30, help="trials of the per-minute rows")
    ap.add_argument("--search_trials", type=int, default=100,
                    help="trials of the hotcold search row")
    args = ap.parse_args()
    rows = []
    ratios = []
    # hotcold's runs take ~35 ms each: the study's own work (optuna's ask and
    # tell on SQLite) is most of a trial; random_phases' ~0.4 s runs show the
    # workers' share
    for workload in ("hotcold", "random_phases"):
        per_min = {}
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory(prefix="bench-autotune-") as d:
                wall, _ = autotune(d, workload, "--memory", MEMORY, "--trials",
                                   str(args.trials), "--jobs", str(jobs), "--batch", "2",
                                   "--sampler", "random", "--compare", "none")
            per_min[jobs] = args.trials / wall * 60
            rows.append(("%d random trials of %s, %d local worker%s" % (
                args.trials, workload, jobs, "" if jobs == 1 else "s"), "%.1f s" % wall,
                "%.0f trials/min" % per_min[jobs]))
        ratios.append((workload, per_min[2] / per_min[1]))
    with tempfile.TemporaryDirectory(prefix="bench-autotune-") as d:
        wall, out = autotune(d, "hotcold", "--memory", MEMORY, "--trials",
                             str(args.search_trials), "--jobs", "2")
    best = re.search(r"^best: trial (\d+), score ([-\d.]+)", out, re.M)
    prcl = re.search(r"^\s+prcl\s+([-\d.]+)", out, re.M)
    reclaim = re.search(r"^\s+reclaim\s+([-\d.]+)", out, re.M)
    rows.append(("%d-trial TPE search of hotcold (damoos), 2 workers" % args.search_trials,
                 "%.1f s" % wall, "%s 5 min target" % ("within" if wall < 300 else "OVER")))
    width = max(len(r[0]) for r in rows)
    for r in rows:
        print("%-*s  %10s  %s" % (width, r[0], r[1], r[2]))
    for workload, ratio in ratios:
        print("%s: 2 workers / 1 worker: %.2fx trials per minute" % (workload, ratio))
    if best:
        print("hotcold search: best score %s (trial %s); prcl %s, DAMON_RECLAIM defaults %s"
              % (best.group(2), best.group(1), prcl.group(1) if prcl else "?",
                 reclaim.group(1) if reclaim else "?"))


if __name__ == "__main__":
    main()
