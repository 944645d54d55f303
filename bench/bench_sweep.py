#!/usr/bin/env python3
"""damo sweep's speed, side by side in one run: a 3x3 sweep of masim's
stairs_30secs (sampling 1/5/20 ms x max_nr_regions 20/100/1000, each run
with the exact truth and scored as damo report accuracy scores it) on 2
local workers, against the same 9 evaluations run one after the other in
this process (target: at most 0.6x).

Each figure is the best of --repeat runs (the machine may be busy).
"""
import argparse
import time

from damo.commands import sweep as sweep_mod
from damo.evaluation import Evaluator, evaluate

PARAMS = [("sample", ["1ms", "5ms", "20ms"]), ("max_nr_regions", ["20", "100", "1000"])]


def evaluations():
    return sweep_mod.evaluations("stairs_30secs", PARAMS, None, 0, None)


def serial():
    t0 = time.perf_counter()
    results = [evaluate(ev) for ev in evaluations()]
    return time.perf_counter() - t0, results


def parallel(jobs):
    t0 = time.perf_counter()
    with Evaluator(jobs=jobs) as pool:
        results = pool.map(evaluations())
    return time.perf_counter() - t0, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    s_best = p_best = None
    for _ in range(args.repeat):
        s, s_results = serial()
        p, p_results = parallel(args.jobs)
        s_best = s if s_best is None else min(s_best, s)
        p_best = p if p_best is None else min(p_best, p)
    same = all(a.extra == b.extra for a, b in zip(s_results, p_results))
    print("3x3 sweep of stairs_30secs (sampling 1/5/20 ms x max_nr_regions 20/100/1000), "
          "with the exact truth")
    print("    serial, in this process: %.2f s; %d local workers: %.2f s: %.2fx "
          "(target <= 0.6x); same results: %s"
          % (s_best, args.jobs, p_best, p_best / s_best, same))
    rows = sweep_mod.rows_of(p_results)
    print(sweep_mod.text(rows, [n for n, _ in PARAMS]))


if __name__ == "__main__":
    main()
