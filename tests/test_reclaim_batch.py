"""Reclaim's CLOCK passes the frames it has nothing to do with a word of a
page-granular chunk's rmap bitmaps at a time (frames without a process page,
e.g. the zswap pool's; active pages while the inactive list is not low), and
take_frame() finds a chunk's first free frame in its bitmap.  The machine
must not notice: the same seed gives the same recording, vmstat counters and
costs as the frame-by-frame walk (Machine.reclaim_frame_walk, kept as the
reference), and the bitmaps agree with the reverse map all along."""
import pytest

from damo_engine import Context, MasimWorkload, Scheme, Simulation, Target
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops
from test_memory_reclaim import MiB, config


def run(memory, cfg, schemes, secs, frame_walk, seed=3, ops="vaddr", khugepaged_s=None,
        reclaim_midway=0):
    sim = Simulation(make_machine(memory), seed=seed)
    m = sim.machine
    m.reclaim_frame_walk = frame_walk
    if khugepaged_s:
        m.khugepaged_sleep_ns = khugepaged_s * 1e9
    w = MasimWorkload(cfg)
    pid = sim.add_workload(w)
    ctx = Context(make_ops(ops), sample_us=5000, aggr_us=100000, update_us=1000000,
                  min_nr_regions=10, max_nr_regions=1000)
    ctx.add_target(Target(None, [m.phys_range]) if ops == "paddr" else Target(pid))
    for s in schemes():
        ctx.add_scheme(s)
    sim.add_kdamond([ctx])
    snaps, bad = [], []

    def snap(s):
        t = s.targets[0]
        snaps.append((list(t.starts), list(t.ends), list(t.nr_accesses), list(t.ages)))
        if len(snaps) % 5 == 0:
            bad.extend(m.check_rmap_bits())
            counted, kept = m.check_lru_counts()   # each node's lruvec counters
            if counted != kept:
                bad.append((counted, kept))
    sim.on_snapshot = snap
    got = None
    if reclaim_midway:
        # reclaim asked for more than 3 laps of the CLOCK can give: the
        # walk stops at max_scan, and the hand stays where it stopped
        sim.run(secs / 2 * 1e9)
        bad.extend(m.check_rmap_bits())
        got = m.reclaim(reclaim_midway)
    sim.run(secs * 1e9)
    bad.extend(m.check_rmap_bits())
    counted, kept = m.check_lru_counts()
    if counted != kept:
        bad.append((counted, kept))
    rb = w.mm.runtime_breakdown() if w.mm.alive else None
    return {"snaps": snaps, "vmstat": m.vmstat(), "breakdown": rb, "kswapd_ns": m.kswapd_ns,
            "lru": m.lru_sizes(), "now": sim.now_ns, "bad": bad,
            # each node's nonresident_age, workingset counters and snapshot
            "workingset": [m.node_workingset(n) for n in range(m.nr_nodes)],
            "schemes": [(s.stats()["sz_tried"], s.stats()["sz_applied"]) for s in ctx.schemes],
            "batched": m.clock_batched_frames, "reclaimed_midway": got}


RAND = "%s, 1, 64, 1"
SEQ = "%s, 0, 4096, 1"

SCENARIOS = {
    # mem_perf's 10 GiB random phase in small: a random working set twice the
    # memory thrashes through zswap, whose pool fills the fast node
    "zswap thrash": ("dram:32M,cxl:64M,swap:zswap",
                     config([("hot", 8), ("huge", 192)],
                            [("fill", 200, [SEQ % "huge"]),
                             ("rand", 6000, [RAND % "huge", RAND % "hot"])]),
                     lambda: [], 6, "vaddr"),
    # swap to a device (no pool), one node
    "ssd thrash": ("dram:48M,swap:ssd",
                   config([("a", 80)], [("rand", 4000, [RAND % "a"])]), lambda: [], 4, "vaddr"),
    # DAMOS moving pages between nodes and lists, and paging out, under pressure
    "damos": ("dram:32M,cxl:64M,swap:zswap",
              config([("a", 40), ("b", 72)],
                     [("both", 3000, [RAND % "a", SEQ % "b"]), ("a", 3000, [RAND % "a"])]),
              lambda: [Scheme("migrate_cold", target_nid=1, nr_accesses=(0, 0), age=(5, 2**32 - 1)),
                       Scheme("migrate_hot", target_nid=0, nr_accesses=(3, 2**32 - 1)),
                       Scheme("lru_prio", nr_accesses=(5, 2**32 - 1)),
                       Scheme("lru_deprio", nr_accesses=(0, 1)),
                       Scheme("pageout", nr_accesses=(0, 0), age=(20, 2**32 - 1))], 6, "paddr"),
    # THPs faulted in, and collapsed by khugepaged, then split and scattered
    # by the pressure
    "thp": ("dram:48M,swap:zswap,thp:always",
            config([("a", 32), ("b", 48)],
                   [("a", 3000, [SEQ % "a"]), ("both", 3000, [RAND % "a", RAND % "b"])]),
            lambda: [Scheme("hugepage", nr_accesses=(1, 2**32 - 1))], 6, "vaddr"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_batched_clock_is_the_frame_walk(name):
    memory, cfg, schemes, secs, ops = SCENARIOS[name]
    kw = {"khugepaged_s": 1} if name == "thp" else {}
    fast = run(memory, cfg, schemes, secs, False, ops=ops, **kw)
    ref = run(memory, cfg, schemes, secs, True, ops=ops, **kw)
    vm = ref["vmstat"]
    # the scenario thrashes: the walk scanned, swapped out and in
    assert vm["pgscan_kswapd"] + vm["pgscan_direct"] > 10 * (secs * 1e9 / 1e9)
    assert vm["pswpout"] + vm["zswpout"] > 1000 and vm["pswpin"] + vm["zswpin"] > 1000
    # every swap-in is a refault; some were recent enough to be activated
    assert vm["workingset_refault_anon"] == vm["pswpin"] + vm["zswpin"]
    assert 0 < vm["workingset_activate_anon"] < vm["workingset_refault_anon"]
    assert ref["batched"] == 0 and fast["batched"] > 0      # the batches did happen
    assert fast["bad"] == [] and ref["bad"] == []
    for key in ("vmstat", "breakdown", "kswapd_ns", "lru", "now", "schemes", "reclaimed_midway",
                "workingset"):
        assert fast[key] == ref[key], key
    assert len(fast["snaps"]) == len(ref["snaps"]) > 10
    for i, (a, b) in enumerate(zip(fast["snaps"], ref["snaps"])):
        assert a == b, "snapshot %d" % i


@pytest.mark.parametrize("name", ["zswap thrash", "ssd thrash"])
def test_a_clock_walk_stopped_by_max_scan_ends_where_the_frame_walk_does(name):
    """Also where the walk swaps out a chunk's last page (the chunk is freed
    under the hand): such a reclaim() empties chunks."""
    memory, cfg, schemes, secs, ops = SCENARIOS[name]
    ask = 1 << 30                       # more pages than the machine has
    fast = run(memory, cfg, schemes, secs, False, reclaim_midway=ask)
    ref = run(memory, cfg, schemes, secs, True, reclaim_midway=ask)
    assert 0 < ref["reclaimed_midway"] < (96 * MiB) // 4096     # stopped by max_scan
    assert fast["bad"] == [] and ref["bad"] == [] and fast["batched"] > 0
    for key in ("vmstat", "breakdown", "kswapd_ns", "lru", "now", "reclaimed_midway", "snaps",
                "workingset"):
        assert fast[key] == ref[key], key


def test_a_frame_of_a_page_granular_chunk_is_its_lowest_free_one():
    """take_frame() hands out a partial chunk's first free frame (found in
    its bitmap now, as the linear search over the reverse map did)."""
    m = make_machine("dram:4M")                     # two 2 MiB chunks
    mm = m.new_address_space()
    a, b, c, d = (mm.map(base, 2 * MiB, n) for base, n in
                  ((0x10000000, "a"), (0x20000000, "b"), (0x30000000, "c"), (0x40000000, "d")))

    def pfns(vma, n):
        return [vma.page_state(vma.start + i * 4096)["pfn"] for i in range(n)]
    mm.access(a.start, 4096, write=True)            # chunk 0, mapped whole to a
    mm.access(b.start, 4096, write=True)            # chunk 1, mapped whole to b
    for i in range(3):                              # no free chunk: a's becomes
        mm.access(c.start + i * 4096, 4096, write=True)     # page-granular and c, d
        mm.access(d.start + i * 4096, 4096, write=True)     # take its frames in turn
    assert (pfns(a, 1), pfns(c, 3), pfns(d, 3)) == ([0], [1, 3, 5], [2, 4, 6])
    mm.unmap(a)
    mm.unmap(c)                                     # frames 0, 1, 3, 5 free again
    e = mm.map(0x50000000, 2 * MiB, "e")
    for i in range(5):
        mm.access(e.start + i * 4096, 4096, write=True)
    assert pfns(e, 5) == [0, 1, 3, 5, 7]
    assert m.check_rmap_bits() == []
