#!/usr/bin/env python3
"""`damo record --ground_truth` against a plain `damo record` of the same
workload (stairs_30secs), side by side in one run: the whole command in this
process (CPU time, min and median of --repeat runs made in turns), the
simulation alone with the truth collected, and the command as its own
process (target: at most 1.5x).
Moved here from bench_engine.py when that became the engine-speed bench."""
import argparse
import os
import resource
import time

from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim
from damo_engine.machines import make_machine

STAIRS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "damo", "workloads",
                      "masim_configs", "stairs_30secs.cfg")


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


def _paired(fn, plain_args, gt_args, repeat):
    """(plain, with truth) CPU seconds, each its min and median over repeat
    runs taken in turns (so that a busy spell weighs on both)."""
    plain, gt = [], []
    for _ in range(repeat):
        plain.append(fn(*plain_args))
        gt.append(fn(*gt_args))
    plain.sort()
    gt.sort()
    return (plain[0], gt[0]), (plain[len(plain) // 2], gt[len(gt) // 2])


def truth_rows(cfg, repeat):
    print("(d) record --ground_truth vs plain record, stairs_30secs (side by side, in turns)")
    record_command(["stairs_30secs"])        # imports and caches warm for both
    record_command(["stairs_30secs", "--ground_truth"])
    (plain, gt), (m_plain, m_gt) = _paired(record_command, (["stairs_30secs"],),
                                           (["stairs_30secs", "--ground_truth"],), repeat)
    print("    whole damo record: %.3f s CPU plain, %.3f s with --ground_truth: %.2fx "
          "(medians %.3f s, %.3f s: %.2fx; target <= 1.5x)"
          % (plain, gt, gt / plain, m_plain, m_gt, m_gt / m_plain))
    (plain, gt), (m_plain, m_gt) = _paired(truth_run, (cfg, False), (cfg, True), repeat)
    print("    simulation alone: %.4f s CPU plain, %.4f s with the truth collected: %.2fx "
          "(medians: %.2fx)" % (plain, gt, gt / plain, m_gt / m_plain))
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
        (plain, gt), (m_plain, m_gt) = _paired(process, (["stairs_30secs"],),
                                               (["stairs_30secs", "--ground_truth"],), repeat)
        print("    damo record as a process: %.3f s CPU plain, %.3f s with --ground_truth: "
              "%.2fx (medians: %.2fx)" % (plain, gt, gt / plain, m_gt / m_plain))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    truth_rows(masim.load(STAIRS), args.repeat)


if __name__ == "__main__":
    main()
