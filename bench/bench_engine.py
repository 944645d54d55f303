#!/usr/bin/env python3
"""Engine speed, side by side in one run:

(a) simulated seconds per wall second for masim's stairs_30secs under DAMON
    with default intervals (target: at least 100x real time);
(c) DAMON's own per-sample loop: the same run with 500 to 1000 regions, where
    the monitor's work (access checks, merges, splits) outweighs the
    workload's, in wall ns per page-table access check;
(d) `damo record --ground_truth` against a plain `damo record` of the same
    workload, side by side: the whole command in this process (CPU time,
    best of --repeat), and the simulation alone with the truth collected
    (target: at most 1.5x);
(b) the same workload scaled from 100 MB to 1 TiB of memory: wall time of
    30 simulated seconds under DAMON (target: at most 1.5x), two ways:
    - as masim runs it: the 1 TiB run spends those 30 s first-touching its
      memory (400+ simulated seconds would populate it all);
    - populated: every page is written before the clock starts, so both runs
      go through the same 30 s of access phases over all of their memory.

Each figure is the best of --repeat runs (the machine may be busy).
"""
import argparse
import os
import resource
import time

from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim
from damo_engine.machines import make_machine

STAIRS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "damo", "workloads",
                      "masim_configs", "stairs_30secs.cfg")


def one_run(config, populate, nr_regions=(10, 1000)):
    machine = make_machine(None, fits=config.total_size)
    sim = Simulation(machine, seed=1)
    t0 = time.perf_counter()
    w = MasimWorkload(config)
    pid = sim.add_workload(w)
    if populate:
        for _, start, end in w.region_addresses():
            w.mm.access(start, end - start, write=True)     # before the clock starts
    t_setup = time.perf_counter() - t0
    ctx = Context(make_ops("vaddr"), sample_us=5000, aggr_us=100000, update_us=1000000,
                  min_nr_regions=nr_regions[0], max_nr_regions=nr_regions[1])
    ctx.add_target(Target(pid))
    sim.add_kdamond([ctx])
    snaps = []
    sim.on_snapshot = snaps.append
    start_ns = sim.now_ns
    t0 = time.perf_counter()
    sim.run(30e9)
    wall = time.perf_counter() - t0
    return {"wall": wall, "sim_s": (sim.now_ns - start_ns) / 1e9, "setup": t_setup,
            "snapshots": len(snaps), "checks": ctx.nr_access_checks,
            "regions": max(len(s.targets[0].starts) for s in snaps),
            "rss_gib": w.mm.rss / (1 << 30) if w.mm.alive else 0}


def best(config, populate, repeat, nr_regions=(10, 1000)):
    runs = [one_run(config, populate, nr_regions) for _ in range(repeat)]
    return min(runs, key=lambda r: r["wall"])


def record_command(args):
    """CPU seconds of one in-process `damo record` run."""
    import tempfile
    from click.testing import CliRunner
    from damo.cli import main as damo_main
    with tempfile.TemporaryDirectory() as d:
        t0 = time.process_time()
        result = CliRunner().invoke(damo_main, ["record"] + args + ["-o", d + "/r.data"])
        cpu = time.process_time() - t0
        if result.exit_code != 0:
            raise SystemExit("damo record failed: %s" % result.output)
    return cpu


def truth_run(config, ground_truth):
    """CPU time of the simulation alone, with the truth collected as damo
    record --ground_truth collects it."""
    from damo.records.truth import TruthCollector
    machine = make_machine(None, fits=config.total_size)
    sim = Simulation(machine, seed=1)
    w = MasimWorkload(config)
    pid = sim.add_workload(w, track_ground_truth=ground_truth)
    ctx = Context(make_ops("vaddr"), sample_us=5000, aggr_us=100000, update_us=1000000,
                  min_nr_regions=10, max_nr_regions=1000)
    ctx.add_target(Target(pid))
    sim.add_kdamond([ctx])
    if ground_truth:
        collector = TruthCollector(sim)
        sim.on_snapshot = lambda s: collector.snapshot(s, s.targets[0])
    else:
        sim.on_snapshot = lambda s: None
    t0 = time.process_time()
    sim.run(30e9)
    return time.process_time() - t0


def truth_rows(cfg, repeat):
    print("(d) record --ground_truth vs plain record, stairs_30secs (side by side)")
    record_command(["stairs_30secs"])        # imports and caches warm for both
    plain = min(record_command(["stairs_30secs"]) for _ in range(repeat))
    gt = min(record_command(["stairs_30secs", "--ground_truth"]) for _ in range(repeat))
    print("    whole damo record: %.3f s CPU plain, %.3f s with --ground_truth: %.2fx "
          "(target <= 1.5x)" % (plain, gt, gt / plain))
    plain = min(truth_run(cfg, False) for _ in range(repeat))
    gt = min(truth_run(cfg, True) for _ in range(repeat))
    print("    simulation alone: %.4f s CPU plain, %.4f s with the truth collected: %.2fx"
          % (plain, gt, gt / plain))
    import subprocess
    import sys
    exe = os.path.join(os.path.dirname(sys.executable), "damo")

    def process(args):
        """CPU seconds of `damo record` as its own process (what a user runs)."""
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run([exe, "record"] + args + ["-o", d + "/r.data"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if os.path.exists(exe):
        plain = min(process(["stairs_30secs"]) for _ in range(repeat))
        gt = min(process(["stairs_30secs", "--ground_truth"]) for _ in range(repeat))
        print("    damo record as a process: %.3f s CPU plain, %.3f s with --ground_truth: "
              "%.2fx" % (plain, gt, gt / plain))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="only (a) and (c)")
    args = ap.parse_args()
    cfg = masim.load(STAIRS)

    a = best(cfg, False, args.repeat)
    print("(a) stairs_30secs, default intervals (5 ms / 100 ms / 1 s)")
    print("    %.1f simulated s in %.4f s wall: %.0fx real time (target >= 100x); "
          "%d snapshots, %d access checks, <= %d regions"
          % (a["sim_s"], a["wall"], a["sim_s"] / a["wall"], a["snapshots"], a["checks"],
             a["regions"]))

    c = best(cfg, False, args.repeat, (500, 1000))
    print("(c) stairs_30secs with 500-1000 regions: DAMON's per-sample loop")
    print("    %.4f s wall, %d snapshots, <= %d regions, %d access checks: "
          "%.1f ns per access check" % (c["wall"], c["snapshots"], c["regions"], c["checks"],
                                        c["wall"] * 1e9 / c["checks"]))
    truth_rows(cfg, args.repeat)
    if args.quick:
        return

    small_cfg = cfg                                     # 10 x 10 MB = 100 MB
    big_cfg = cfg.scaled((1 << 40) / cfg.total_size)    # 10 x ~110 GB = 1 TiB
    print("(b) the same workload, 100 MB vs 1 TiB, 30 simulated seconds")
    print("    %-22s %10s %10s %10s %9s %8s" % ("", "wall (s)", "setup (s)", "snapshots",
                                               "regions", "RSS GiB"))
    for populate, label in ((False, "as masim runs it"), (True, "populated")):
        small = best(small_cfg, populate, args.repeat)
        big = best(big_cfg, populate, max(2, args.repeat // 2))
        for name, r in (("100 MB", small), ("1 TiB", big)):
            print("    %-22s %10.4f %10.3f %10d %9d %8.2f" % (
                "%s, %s" % (label, name), r["wall"], r["setup"], r["snapshots"], r["regions"],
                r["rss_gib"]))
        print("    %-22s 1 TiB / 100 MB wall time: %.2fx (target <= 1.5x)"
              % (label, big["wall"] / small["wall"]))
    print("    peak RSS of this benchmark: %.0f MiB"
          % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
