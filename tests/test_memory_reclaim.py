"""The simulated machine DAMOS acts on (placement and costs are in
test_memory_model.py): reclaim when memory is full (kswapd, direct reclaim, second chance on the
LRU lists), swap, LRU active/inactive state, THP and khugepaged, migrations,
memory pressure (PSI), and the costs each of them adds to a program's time."""
import pytest

from damo_engine import Context, Filter, MasimWorkload, Scheme, Simulation, Target, masim
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops

MiB = 1 << 20


def config(regions, phases):
    """masim config text: regions [(name, MiB)], phases [(name, ms, [pattern])]."""
    text = "\n".join("%s, %d" % (n, mib * MiB) for n, mib in regions) + "\n"
    for name, ms, patterns in phases:
        text += "\n%s\n%d\n%s\n" % (name, ms, "\n".join(patterns))
    return masim.parse(text)


def start(memory, cfg, schemes=(), ops="vaddr", monitor=True, **ctx_kwargs):
    sim = Simulation(make_machine(memory), seed=1)
    w = MasimWorkload(cfg)
    pid = sim.add_workload(w)
    ctx = None
    if monitor:
        ctx = Context(make_ops(ops), **ctx_kwargs)
        m = sim.machine
        ctx.add_target(Target(None, [m.phys_range]) if ops == "paddr" else Target(pid))
        for s in schemes:
            ctx.add_scheme(s)
        sim.add_kdamond([ctx])
    return sim, w, ctx


SEQ = "%s, 0, 4096, 1"


def test_kswapd_swaps_out_the_least_recently_used_pages():
    """A 64 MiB machine with swap runs a 72 MiB program: kswapd keeps free
    memory near its watermarks by swapping out pages that were not
    referenced since its last look; the hot region stays resident."""
    cfg = config([("cold", 56), ("hot", 16)],
                 [("populate", 30, [SEQ % "cold"]), ("hot only", 3000, [SEQ % "hot"])])
    sim, w, _ = start("dram:64M,swap:zswap", cfg)
    sim.run(1.5e9)
    vm = sim.machine.vmstat()
    # zswap: the stores count as zswpout (pswpout only for the device)
    assert vm["pgsteal_kswapd"] == vm["zswpout"] + vm["pswpout"]
    assert vm["pgscan_kswapd"] >= vm["pgsteal_kswapd"]
    node = sim.machine.nodes[0]
    # every page swapped now went out once (pages swapped in again went out
    # before too): at least what exceeds the node above its min watermark
    assert (vm["zswpout"] + vm["pswpout"]) * 4096 >= w.mm.swapped >= \
        72 * MiB - (node["capacity"] - node["wmark_min"])
    assert node["free"] >= node["wmark_min"]
    hot = w.region_addresses()[1]
    resident = [w.mm.vma_at(a).page_state(a)["present"] for a in range(hot[1], hot[2], 64 * 4096)]
    assert all(resident)                        # the working set stays in memory
    # the cold pages made room: all 72 MiB were touched, and at most the
    # node's memory above its min watermark holds them
    assert w.mm.swapped >= 72 * MiB - (node["capacity"] - node["wmark_min"])
    assert w.mm.runtime_breakdown()["reclaim_ns"] == 0      # kswapd kept up


def test_swap_ins_are_major_faults_and_memory_pressure():
    cfg = config([("a", 20)], [("random", 20, ["a, 1, 64, 1"])])
    sim, w, _ = start("dram:16M,swap:ssd", cfg)
    sim.run()
    vm = sim.machine.vmstat()
    rb = w.mm.runtime_breakdown()
    assert vm["pgmajfault"] == vm["pswpin"] > 0
    assert rb["swapin_ns"] == pytest.approx(vm["pswpin"] * sim.machine.swap_fault_ns)
    assert sim.kstate.psi_some_us >= rb["swapin_ns"] // 1000 - 1


def test_lru_prio_deprio_and_the_active_filter():
    cfg = config([("a", 16), ("b", 16)],
                 [("run", 3000, [SEQ % "a"])])
    prio = Scheme("lru_prio", nr_accesses=(5, 2**32 - 1))
    sim, w, ctx = start("dram:1G", cfg, [prio], ops="paddr")
    sim.run(1.5e9)
    active, inactive = sim.machine.lru_sizes()
    assert active >= 15 * MiB                   # the hot region went active
    assert prio.stats()["sz_applied"] > 0
    deprio = Scheme("lru_deprio", filters=[Filter("active", True, True)])
    ctx.add_scheme(deprio)
    sim.run(1e9)
    assert sim.machine.lru_sizes()[0] < active
    assert deprio.stats()["sz_ops_filter_passed"] > 0


def test_hugepage_action_and_khugepaged_collapse():
    """MADV_HUGEPAGE (the hugepage action) lets khugepaged collapse the
    hinted chunks (4096 pages a wake-up, by default every 10 s): the 2 MiB
    chunks wholly inside a region the scheme was applied to, and only those.
    (Which chunks those are depends on where the regions' bounds settle;
    with damon_apply_min_nr_regions() after every merge they settle on a
    grid, so not every chunk of the area is hinted.)"""
    cfg = config([("a", 32)], [("run", 25000, [SEQ % "a"])])
    s = Scheme("hugepage", nr_accesses=(1, 2**32 - 1))
    sim, w, _ = start("dram:1G,thp:madvise", cfg, [s])
    hinted = set()

    def sink(scheme, regions):
        for r in regions:
            hinted.update(range((r[0] + 2 * MiB - 1) // (2 * MiB), r[1] // (2 * MiB)))
    s.tried_regions_sink = sink
    sim.machine.khugepaged_sleep_ns = 1e9            # faster than the kernel's 10 s
    sim.run(12e9)
    vm = sim.machine.vmstat()
    assert s.stats()["sz_applied"] > 0
    a = w.region_addresses()[0]
    chunks = range((a[1] + 2 * MiB - 1) // (2 * MiB), a[2] // (2 * MiB))
    huge = {c for c in chunks if w.mm.vma_at(c * 2 * MiB).page_state(c * 2 * MiB)["huge"]}
    assert len(huge) >= 5 and vm["thp_collapse_alloc"] == len(huge)
    assert huge == hinted & set(chunks)              # every hinted chunk, nothing else


def test_no_khugepaged_collapse_without_a_hint():
    cfg = config([("a", 32)], [("run", 4000, [SEQ % "a"])])
    sim, w, _ = start("dram:1G,thp:madvise", cfg)
    sim.machine.khugepaged_sleep_ns = 1e9
    sim.run()
    assert sim.machine.vmstat()["thp_collapse_alloc"] == 0


def test_migrations_are_counted_and_cost_the_process():
    cfg = config([("a", 32)], [("run", 3000, ["a, 1, 64, 1"])])
    s = Scheme("migrate_hot", target_nid=0, nr_accesses=(1, 2**32 - 1))
    sim, w, _ = start("cxl:1G,dram:1G", cfg, [s])      # node 0 is CXL: first touch on DRAM
    s.target_nid = 0
    sim.run()
    vm = sim.machine.vmstat()
    # every page of the 32 MiB is accessed (64-byte random strides at full
    # speed), so every one of them moves; the scheme applied what moved
    assert vm["pgmigrate_success"] >= 32 * MiB // 4096
    assert s.stats()["sz_applied"] == vm["pgmigrate_success"] * 4096
    assert vm["pgdemote"] == vm["pgmigrate_success"] and vm["pgpromote_success"] == 0
    rb = w.mm.runtime_breakdown()
    assert rb["migrate_ns"] > 0
    assert rb["stall_ns"][0] > rb["stall_ns"][1]     # most time then on the slow node


def test_monitor_work_is_counted():
    cfg = config([("a", 16)], [("run", 1000, [SEQ % "a"])])
    sim, w, ctx = start("dram:1G", cfg)
    sim.run()
    checks_per_s = ctx.nr_access_checks / (sim.now_ns / 1e9)
    # every region checked every 5 ms (fewer when a check is reused)
    assert 10 * 200 * 0.5 <= checks_per_s <= 1000 * 200
    m = sim.metrics()
    assert m["kdamonds"][0]["nr_access_checks"] == ctx.nr_access_checks


def test_metrics_ticks_sample_the_tiers_over_time():
    cfg = config([("a", 48), ("b", 32)], [("touch", 1000, [SEQ % "a", SEQ % "b"])])
    sim, w, _ = start("dram:64M,cxl:256M", cfg)
    samples = []
    sim.tick_interval_ns = 100_000_000
    sim.on_tick = lambda s, now: samples.append((now, s.metrics()["node_used"]))
    sim.run()
    assert len(samples) >= 9
    times = [t for t, _ in samples]
    assert times == sorted(times) and times[1] - times[0] == 100_000_000
    assert samples[-1][1][0] > 60 * MiB and samples[-1][1][1] > 10 * MiB


def test_khugepaged_is_set_from_the_machine_spec():
    from damo_engine.machines import MachineSpecError
    m = make_machine("dram:1G,thp:madvise,khugepaged:8192:500")
    assert (m.khugepaged_pages_to_scan, m.khugepaged_sleep_ns) == (8192, 500e6)
    with pytest.raises(MachineSpecError, match="khugepaged takes pages to scan"):
        make_machine("dram:1G,khugepaged")
