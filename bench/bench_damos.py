"""Time DAMOS against monitoring only, on the same workload.

    python bench/bench_damos.py [--config damo/workloads/masim_configs/stairs_30secs.cfg]
                                [--repeat 5]

Runs masim's stairs_30secs (ten 10 MB areas, each hot in turn) on a machine
with zswap, monitored by a vaddr kdamond, and again with DAMOS schemes:
a stat scheme over everything, a prcl-style pageout (4K max 0 0 5s max
pageout) and the same with a 10 ms / 128 MiB per second quota.  Prints the
wall time of each (the best of --repeat runs) and its ratio to monitoring
only (the target is within 2x), for the engine alone and for the whole
``damo record`` (recording, machine metrics, sidecars).
"""
import argparse
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from damo_engine import Context, MasimWorkload, Scheme, Simulation, Target, masim  # noqa
from damo_engine.machines import make_machine  # noqa: E402
from damo_engine.ops import make_ops  # noqa: E402

DEFAULT_CONFIG = os.path.join(REPO, "damo", "workloads", "masim_configs", "stairs_30secs.cfg")
MEMORY = "dram:2G,swap:zswap"
UINT_MAX = 2**32 - 1
ULONG_MAX = 2**64 - 1

VARIANTS = {
    "monitoring only": lambda: [],
    "stat (everything)": lambda: [Scheme("stat")],
    "prcl pageout": lambda: [Scheme("pageout", sz_region=(4096, ULONG_MAX),
                                    nr_accesses=(0, 0), age=(50, UINT_MAX))],
    "prcl + quota": lambda: [Scheme("pageout", sz_region=(4096, ULONG_MAX),
                                    nr_accesses=(0, 0), age=(50, UINT_MAX), quota_ms=10,
                                    quota_sz=128 << 20, quota_reset_interval_ms=1000,
                                    weights=(0, 0, 1))],
}
CLI_VARIANTS = {
    "monitoring only": [],
    "stat (everything)": ["--damos_action", "stat"],
    "prcl pageout": ["--damos_action", "pageout", "--damos_sz_region", "4K", "max",
                     "--damos_access_rate", "0", "0", "--damos_age", "5s", "max"],
    "prcl + quota": ["--damos_action", "pageout", "--damos_sz_region", "4K", "max",
                     "--damos_access_rate", "0", "0", "--damos_age", "5s", "max",
                     "--damos_quotas", "10ms", "128M", "1s", "0", "0", "1"],
}


def engine_run(cfg, schemes):
    sim = Simulation(make_machine(MEMORY), seed=1)
    pid = sim.add_workload(MasimWorkload(cfg))
    ctx = Context(make_ops("vaddr"))
    ctx.add_target(Target(pid))
    for s in schemes:
        ctx.add_scheme(s)
    sim.add_kdamond([ctx])
    t0 = time.perf_counter()
    end = sim.run()
    wall = time.perf_counter() - t0
    tried = sum(s.stats()["nr_tried"] for s in schemes)
    return wall, end / 1e9, tried, sim.machine.vmstat()["pswpout"]


def cli_run(config, args, out):
    from click.testing import CliRunner
    from damo.cli import main

    t0 = time.perf_counter()
    result = CliRunner().invoke(main, ["record", config, "--memory", MEMORY, "-o", out] + args,
                                catch_exceptions=False)
    wall = time.perf_counter() - t0
    if result.exit_code != 0:
        raise SystemExit("damo record failed: %s" % result.stderr)
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="masim config to run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (best kept)")
    args = parser.parse_args()
    cfg = masim.load(args.config)
    print("workload: %s on %s, vaddr monitoring (5 ms / 100 ms)" % (args.config, MEMORY))
    print()
    print("engine only (Simulation.run):")
    print("  %-18s %10s %10s %9s %10s %9s" % ("variant", "wall", "simulated", "ratio",
                                              "tried", "swapped"))
    base = None
    for name, make in VARIANTS.items():
        best = min((engine_run(cfg, make()) for _ in range(args.repeat)), key=lambda r: r[0])
        wall, simulated, tried, swapped = best
        base = base or wall
        print("  %-18s %8.4f s %8.1f s %8.2fx %10d %9d" % (name, wall, simulated,
                                                           wall / base, tried, swapped))
    print()
    print("damo record (recording, machine metrics and sidecars):")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench.data")
        base = None
        for name, extra in CLI_VARIANTS.items():
            cli_run(args.config, extra, out)            # warm-up (imports)
            wall = min(cli_run(args.config, extra, out) for _ in range(args.repeat))
            base = base or wall
            print("  %-18s %8.4f s %8.2fx" % (name, wall, wall / base))


if __name__ == "__main__":
    main()
