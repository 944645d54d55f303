#!/usr/bin/env python3
"""Engine speed, side by side in one run (CPU time of this process, so that
other work on a shared machine counts less; each figure the best of
--repeat runs):

(a) every masim config and built-in workload under DAMON with default
    intervals (5 ms / 100 ms / 1 s, 10-1000 regions), simulated seconds per
    CPU second (target: at least 1,000x real time), and with --access_rate
    and --random_access_rate ten and a hundred times masim's;
(b) the fast path (random accesses drawn a window at a time) against
    exact_accesses (every access made), on configs with random patterns;
(c) DAMON's per-sample cost with 100 and with 1,000 regions (min = max),
    in CPU microseconds per sample (target: at most 3x); also with paddr
    over the whole machine (access checks through the reverse map, and each
    sample the paddr apply_probes() step), with ns per access check;
(d) the same workload scaled from 100 MB to 1 TiB of memory: CPU time of 30
    simulated seconds (target: at most 1.5x), as masim runs it (the 1 TiB
    run first-touches its memory) and populated first;
(e) memory pressure: mem_perf.cfg on dram:1G,cxl:4G,swap:zswap:16G, where the
    10 GiB phases thrash through zswap (target: at least 100x real time),
    with the kernel's reclaim counters (the swap device is given 16 GiB: the
    default, RHEL's size for 5 GiB of RAM, cannot hold mem_perf's 12.6 GiB);
    --pressure_cap 1500 runs it whole: 42,938.7 simulated s in 318.07 CPU s,
    135.0x (nice 19, load 1-5 on 2 vCPUs; the engine before the fault and
    reclaim path was made cheaper, beside it: 446.21 CPU s, 96.2x).
"""
import argparse
import os
import resource
import time

# one OpenBLAS thread, as `damo record` runs the engine (damo/_entry.py): the
# thread OpenBLAS starts at numpy's load is work that damo record does not do
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim  # noqa: E402
from damo_engine.machines import make_machine  # noqa: E402

from damo.workloads.masim import CONFIGS_DIR as CONFIGS  # noqa: E402  (masim's configs)


def config(name):
    if name in masim.BUILTINS:
        return masim.builtin(name)
    return masim.load(os.path.join(CONFIGS, name))


def all_configs():
    names = sorted(n for n in os.listdir(CONFIGS) if n != "README.md" and not n.startswith("."))
    return names + list(masim.BUILTINS)


def one_run(cfg, *, secs=None, populate=False, nr_regions=(10, 1000), memory=None,
            exact=False, rate=1.0, cap_s=None, ops="vaddr"):
    machine = make_machine(memory, fits=cfg.total_size if memory is None else None)
    sim = Simulation(machine, seed=1)
    kw = {}
    if rate != 1.0:
        kw = {"access_rate": 200000.0 * rate, "random_access_rate": 66000.0 * rate}
    t0 = time.process_time()
    w = MasimWorkload(cfg, exact_accesses=exact, **kw)
    pid = sim.add_workload(w)
    if populate:
        for _, start, end in w.region_addresses():
            w.mm.access(start, end - start, write=True)     # before the clock starts
    setup = time.process_time() - t0
    ctx = Context(make_ops(ops), sample_us=5000, aggr_us=100000, update_us=1000000,
                  min_nr_regions=nr_regions[0], max_nr_regions=nr_regions[1])
    ctx.add_target(Target(pid) if ops != "paddr" else Target(None, [machine.phys_range]))
    sim.add_kdamond([ctx])
    snaps = []
    sim.on_snapshot = snaps.append
    start_ns = sim.now_ns
    t0 = time.process_time()
    if cap_s is None:
        sim.run(None if secs is None else secs * 1e9)
    else:
        # in steps, to stop a slow run after cap_s of CPU time
        end_ns = None if secs is None else start_ns + secs * 1e9
        while sim.running and time.process_time() - t0 < cap_s and \
                (end_ns is None or sim.now_ns < end_ns):
            sim.run(0.5e9)
    cpu = time.process_time() - t0
    sim_s = (sim.now_ns - start_ns) / 1e9
    return {"cpu": cpu, "sim_s": sim_s, "setup": setup, "snapshots": len(snaps),
            "samples": max(1, int(sim_s * 1e6 / 5000)), "checks": ctx.nr_access_checks,
            "regions": max((len(s.targets[0].starts) for s in snaps), default=0),
            "rss_gib": w.mm.rss / (1 << 30) if w.mm.alive else 0,
            "finished": w.finished, "vmstat": machine.vmstat(), "work_done": w.work_done,
            "phase": w.phase_name}


def best(repeat, **kw):
    runs = [one_run(**kw) for _ in range(repeat)]
    return min(runs, key=lambda r: r["cpu"] / max(r["sim_s"], 1e-9))


def x(r):
    return r["sim_s"] / max(r["cpu"], 1e-9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="(a) and (c) only")
    ap.add_argument("--regions", action="store_true", help="(c) only")
    ap.add_argument("--pressure", action="store_true", help="(e) only")
    ap.add_argument("--scaling", action="store_true", help="(d) only")
    ap.add_argument("--pressure_cap", type=float, default=120,
                    help="CPU seconds after which (e) stops (default 120)")
    args = ap.parse_args()
    if args.pressure:
        pressure(args.pressure_cap)
        return
    if args.scaling:
        scaling(args)
        return

    if not args.regions:
        every_config(args)
    regions_row(args)
    if args.quick or args.regions:
        return
    rest(args)


def every_config(args):
    print("(a) every masim config, default intervals, up to 40 simulated s each "
          "(target >= 1000x)")
    print("    %-18s %8s %9s %10s %12s %12s" % ("config", "sim s", "CPU s", "x real",
                                                "x10 rates", "x100 rates"))
    worst = None
    for name in all_configs():
        cfg = config(name)
        r = best(args.repeat, cfg=cfg, secs=40)
        r10 = best(args.repeat, cfg=cfg, secs=40, rate=10)
        r100 = best(args.repeat, cfg=cfg, secs=40, rate=100)
        print("    %-18s %8.1f %9.4f %9.0fx %11.0fx %11.0fx"
              % (name, r["sim_s"], r["cpu"], x(r), x(r10), x(r100)))
        for rr in (r, r10, r100):
            worst = x(rr) if worst is None else min(worst, x(rr))
    print("    slowest of them: %.0fx real time" % worst)


def regions_row(args):
    print("(c) DAMON's per-sample cost, 100 vs 1000 regions (min = max), 30 simulated s "
          "(target <= 3x)")
    for name, ops in (("stairs_30secs.cfg", "vaddr"), ("200mb.cfg", "vaddr"),
                      ("stairs_30secs.cfg", "paddr")):
        cfg = config(name)
        a = best(args.repeat, cfg=cfg, secs=30, nr_regions=(100, 100), ops=ops)
        b = best(args.repeat, cfg=cfg, secs=30, nr_regions=(1000, 1000), ops=ops)
        pa, pb = a["cpu"] * 1e6 / a["samples"], b["cpu"] * 1e6 / b["samples"]
        print("    %-18s %s 100 regions: %6.2f us/sample   1000 regions (<= %d): %6.2f us/sample"
              "   ratio %.2fx   (%.1f ns per access check at 1000)"
              % (name, ops, pa, b["regions"], pb, pb / pa, b["cpu"] * 1e9 / max(b["checks"], 1)))


def rest(args):
    print("(b) fast path vs exact_accesses (every access made), same simulated time")
    for name, secs in (("200mb.cfg", 5), ("random_phases", 10), ("mem_perf.cfg", 33),
                       ("stairs_30secs.cfg", 30)):
        cfg = config(name)
        f = best(args.repeat, cfg=cfg, secs=secs)
        e = best(1, cfg=cfg, secs=secs, exact=True)
        print("    %-18s %5.1f sim s: fast %8.4f CPU s (%6.0fx real), exact %8.3f CPU s "
              "(%5.1fx real): fast/exact %.0fx" % (name, f["sim_s"], f["cpu"], x(f), e["cpu"],
                                                   x(e), e["cpu"] / max(f["cpu"], 1e-9)))

    scaling(args)
    pressure(args.pressure_cap)


def scaling(args):
    print("(d) the same workload, 100 MB vs 1 TiB, 30 simulated seconds (target <= 1.5x)")
    stairs = config("stairs_30secs.cfg")
    big = stairs.scaled((1 << 40) / stairs.total_size)       # 10 x ~110 GB = 1 TiB
    rnd = config("200mb.cfg")
    rnd_big = rnd.scaled((1 << 40) / rnd.total_size)
    print("    %-34s %10s %9s %10s %9s %8s" % ("", "CPU s", "x real", "setup s", "regions",
                                             "RSS GiB"))
    for cfg_s, cfg_b, label in ((stairs, big, "stairs"), (rnd, rnd_big, "200mb (random)")):
        for populate, how in ((False, "as masim runs it"), (True, "populated")):
            if populate and cfg_s is rnd:
                continue
            small = best(args.repeat, cfg=cfg_s, secs=30, populate=populate)
            large = best(max(1, args.repeat // 2), cfg=cfg_b, secs=30, populate=populate,
                         cap_s=120)
            for size, r in (("100 MB" if cfg_s is stairs else "200 MB", small),
                            ("1 TiB", large)):
                print("    %-34s %10.4f %8.1fx %10.3f %9d %8.2f%s" % (
                    "%s, %s, %s" % (label, how, size), r["cpu"], x(r), r["setup"], r["regions"],
                    r["rss_gib"], "" if r["sim_s"] >= 29.9 else
                    "  (stopped at %.1f simulated s)" % r["sim_s"]))
            print("    %-34s 1 TiB / small CPU time per simulated s: %.2fx"
                  % ("%s, %s" % (label, how), (large["cpu"] / large["sim_s"])
                     / (small["cpu"] / small["sim_s"])))


def pressure(cap_s):
    print("(e) memory pressure: mem_perf.cfg on dram:1G,cxl:4G,swap:zswap:16G "
          "(target >= 100x)")
    r = one_run(cfg=config("mem_perf.cfg"), memory="dram:1G,cxl:4G,swap:zswap:16G",
                cap_s=cap_s)
    v = r["vmstat"]
    print("    %.1f simulated s in %.2f CPU s: %.1fx real time%s" % (
        r["sim_s"], r["cpu"], x(r), "" if r["finished"] else
        " (stopped after %.0f CPU s, not finished: %.1f%% of the workload's accesses done "
        "(its phases at their nominal speed), in %r, which thrashes and so takes most of "
        "the simulated time: the whole run is 42,939 simulated s, --pressure_cap 1000 runs it)"
        % (cap_s, 100 * r["work_done"], r["phase"])))
    print("    pgscan %d, pgsteal %d, pswpout %d, pswpin %d, zswpout %d, zswpin %d, "
          "pgactivate %d, pgdeactivate %d"
          % (v["pgscan_kswapd"] + v["pgscan_direct"], v["pgsteal_kswapd"] + v["pgsteal_direct"],
             v["pswpout"], v["pswpin"], v["zswpout"], v["zswpin"], v["pgactivate"],
             v["pgdeactivate"]))
    if "workingset_refault_anon" in v:
        print("    workingset_refault_anon %d, workingset_activate_anon %d, "
              "workingset_restore_anon %d" % (v["workingset_refault_anon"],
                                              v["workingset_activate_anon"],
                                              v["workingset_restore_anon"]))
    print("    peak RSS of this benchmark: %.0f MiB"
          % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
