"""The newest mainline features the engine follows (torvalds/linux
0250dbe08c73): the collapse action (MADV_COLLAPSE) and its place in enum
damos_action, the quota's failed-bytes charge ratio, the node_eligible_mem_bp
goal metric, paddr's addr_unit and a context's pause."""
import pytest

from damo_engine import (MasimWorkload, Simulation, commit, core, masim, ops)
from damo_engine.core import Context, Filter, KernelState, QuotaGoal, Scheme, Target
from damo_engine.machines import make_machine

MiB = 1 << 20
K4 = 4096
BASE = 1 << 30


def vaddr_setup(memory="dram:256M,thp:never", size=8 * MiB, touch=True):
    machine = make_machine(memory)
    mm = machine.new_address_space()
    mm.map(BASE, size)
    if touch:
        mm.access(BASE, size, write=True)
    ks = KernelState(machine)
    ks.processes[mm.pid] = mm
    ctx = Context(ops.make_ops("vaddr"), kstate=ks)
    t = ctx.add_target(Target(mm.pid))
    t.obj = mm
    t.append_region(BASE, BASE + size)
    return machine, mm, ctx, t


def huge_chunks(mm, start, size):
    return [mm.vma_at(a).page_state(a)["huge"] for a in range(start, start + size, 2 * MiB)]


# ---- collapse -------------------------------------------------------------------

def test_action_numbering_puts_collapse_after_nohugepage():
    """enum damos_action: willneed, cold, pageout, hugepage, nohugepage,
    collapse, lru_prio, lru_deprio, migrate_hot, migrate_cold, stat."""
    names = ["willneed", "cold", "pageout", "hugepage", "nohugepage", "collapse",
             "lru_prio", "lru_deprio", "migrate_hot", "migrate_cold", "stat"]
    assert [Scheme(n).action for n in names] == list(range(11))
    assert [core.ACTION_NAMES[i] for i in range(11)] == names


def test_collapse_makes_thps_of_whole_chunks_at_once():
    """MADV_COLLAPSE: every 2 MiB chunk wholly in the range becomes a THP
    now, without khugepaged and whatever the THP policy; the call succeeds,
    so the whole length counts as applied; the copying is the kdamond's work."""
    machine, mm, ctx, t = vaddr_setup()
    t.set_ranges([(BASE, BASE + 8 * MiB)])
    s = Scheme("collapse")
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert huge_chunks(mm, BASE, 8 * MiB) == [True] * 4
    assert machine.vmstat()["thp_collapse_alloc"] == 4
    assert s.stats()["sz_applied"] == 8 * MiB
    assert ctx.apply_ns > 0
    assert all(mm.vma_at(a).page_state(a)["present"] for a in range(BASE, BASE + 8 * MiB, K4))


def test_collapse_of_a_partial_chunk_leaves_it_and_already_huge_counts():
    machine, mm, ctx, t = vaddr_setup()
    t.set_ranges([(BASE + K4, BASE + 6 * MiB)])     # chunk 0 partial, chunk 2 whole
    s = Scheme("collapse")
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert huge_chunks(mm, BASE, 8 * MiB) == [False, True, True, False]
    core.kunit_apply_scheme(ctx, t, 0, s)           # PMD-mapped already: done again
    assert machine.vmstat()["thp_collapse_alloc"] == 2
    assert s.stats()["nr_applied"] == 2


def test_collapse_fails_on_a_chunk_without_pages_but_collapses_the_others():
    """A chunk with no page table (SCAN_PMD_NULL) is skipped and makes the
    call fail: nothing counts as applied, though the other chunks were
    collapsed."""
    machine, mm, ctx, t = vaddr_setup(touch=False)
    mm.access(BASE, 4 * MiB, write=True)            # chunks 0-1 only
    s = Scheme("collapse")
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert huge_chunks(mm, BASE, 8 * MiB) == [True, True, False, False]
    assert s.stats()["sz_applied"] == 0 and s.stats()["nr_tried"] == 1


def test_collapse_refused_on_a_nohugepage_vma():
    machine, mm, ctx, t = vaddr_setup()
    mm.vma_at(BASE).nohugepage = True
    s = Scheme("collapse")
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert huge_chunks(mm, BASE, 8 * MiB) == [False] * 4
    assert s.stats()["sz_applied"] == 0


def test_collapse_is_not_a_paddr_action():
    machine = make_machine("dram:256M")
    mm = machine.new_address_space()
    mm.map(BASE, 4 * MiB)
    mm.access(BASE, 4 * MiB, write=True)
    ctx = Context(ops.make_ops("paddr"), kstate=KernelState(machine))
    t = ctx.add_target(Target(None))
    t.append_region(*machine.phys_range)
    s = Scheme("collapse")
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert s.stats()["sz_applied"] == 0 and machine.vmstat()["thp_collapse_alloc"] == 0


# ---- failed-bytes charge ratio ------------------------------------------------------

def quota_walk(esz, num, denom):
    """What one window tries of a big region when nothing applies, by the
    kernel's rules: slices of what is left of the quota (aligned down to a
    page), each charged num / denom of its size, until less than a page is
    left (damos_quota_is_full())."""
    charged = tried = 0
    while esz - charged >= K4:
        sz = (esz - charged) // K4 * K4
        tried += sz
        charged += sz * num // denom if denom else sz
    return tried, charged


@pytest.mark.parametrize("ratio", [(0, 0), (1, 4), (1, 1)])
def test_fail_charge_ratio_lets_more_failed_memory_be_tried(ratio):
    """paddr pageout of anonymous memory on a machine without swap reclaims
    nothing: with fail_charge 1/4 a 1 MiB quota then covers about 4 MiB a
    window."""
    per_window, charged = quota_walk(MiB, *ratio)
    machine = make_machine("dram:256M")
    mm = machine.new_address_space()
    mm.map(BASE, 32 * MiB)
    mm.access(BASE, 32 * MiB, write=True)
    ks = KernelState(machine)
    ks.processes[mm.pid] = mm
    ctx = Context(ops.make_ops("paddr"), kstate=ks)
    ctx.add_target(Target(None)).append_region(*machine.phys_range)
    s = ctx.add_scheme(Scheme("pageout", quota_sz=MiB, quota_reset_interval_ms=100,
                              fail_charge=ratio))
    core.kunit_apply_schemes(ctx, 20)
    assert s.stats()["sz_applied"] == 0
    assert s.stats()["sz_tried"] == per_window
    assert s.quota_state()["charged_sz"] == charged
    assert (per_window, charged) == ((MiB, MiB) if ratio != (1, 4) else (4182016, 1045504))


def test_fail_charge_is_committed():
    dst, src = Scheme("pageout"), Scheme("pageout", fail_charge=(3, 7))
    commit.commit_scheme(dst, src)
    assert (dst.fail_charge_num, dst.fail_charge_denom) == (3, 7)


# ---- node_eligible_mem_bp -------------------------------------------------------

def paddr_two_nodes():
    """32 MiB of a process on a machine whose first node has 16 MiB: the
    first touches fill node 0, the rest lands on node 1."""
    machine = make_machine("dram:16M,cxl:256M")
    mm = machine.new_address_space()
    mm.map(BASE, 32 * MiB)
    mm.access(BASE, 32 * MiB, write=True)
    ks = KernelState(machine)
    ks.processes[mm.pid] = mm           # keeps the process (and its memory) alive
    ctx = Context(ops.make_ops("paddr"), kstate=ks)
    t = ctx.add_target(Target(None))
    t.append_region(*machine.phys_range)
    return machine, ctx, t


def test_node_eligible_mem_bp_is_the_node_share_of_the_eligible_memory():
    machine, ctx, t = paddr_two_nodes()
    used = [machine.node(n)["used"] for n in (0, 1)]
    assert used[0] > 0 and used[1] > 0
    for nid in (0, 1):
        g = QuotaGoal("node_eligible_mem_bp", 10000, nid=nid)
        core.kunit_quota_score(ctx, Scheme("migrate_cold", target_nid=1, goals=[g]))
        assert g.current_value == used[nid] * 10000 // (used[0] + used[1])
    g = QuotaGoal("node_eligible_mem_bp", 10000, nid=5)    # no such node
    core.kunit_quota_score(ctx, Scheme("stat", goals=[g]))
    assert g.current_value == 0


def test_node_eligible_mem_bp_counts_only_regions_of_the_pattern():
    """Only regions the scheme's access pattern selects are eligible."""
    machine, ctx, _ = paddr_two_nodes()
    n0, n1 = machine.node(0), machine.node(1)
    # a region per node: node 0's accessed in every sample, node 1's in none
    ctx.destroy_target(ctx.targets[0])
    t = ctx.add_target(Target(None))
    t.append_region(n0["phys_start"], n0["phys_end"], nr_accesses=20, last_nr_accesses=20)
    t.append_region(n1["phys_start"], n1["phys_end"])
    core.kunit_set_sis(ctx, 20, 20)             # at the aggregation: counts are whole
    g = QuotaGoal("node_eligible_mem_bp", 10000, nid=0)
    s = Scheme("stat", nr_accesses=(0, 0), goals=[g])      # idle regions only
    core.kunit_quota_score(ctx, s)
    assert g.current_value == 0 and machine.node(0)["used"] > 0     # all on node 1
    g.nid = 1
    core.kunit_quota_score(ctx, s)
    assert g.current_value == 10000


def test_node_eligible_mem_bp_needs_paddr():
    dst = Context(ops.make_ops("vaddr"))
    src = Context(ops.make_ops("vaddr"))
    src.add_scheme(Scheme("stat", goals=[QuotaGoal("node_eligible_mem_bp", 5000)]))
    with pytest.raises(ValueError, match="paddr"):
        commit.commit_ctx(dst, src)
    assert dst.schemes == []
    ok = Context(ops.make_ops("paddr"))
    ok.add_scheme(Scheme("stat", goals=[QuotaGoal("node_eligible_mem_bp", 5000)]))
    commit.commit_ctx(Context(ops.make_ops("paddr")), ok)


# ---- addr_unit ------------------------------------------------------------------

def test_paddr_addr_unit_scales_addresses_and_sizes():
    """With addr_unit 4 a region [a, b) covers physical [4a, 4b); action
    sizes come back in those units (damon_pa_core_addr())."""
    machine = make_machine("dram:256M,swap:zswap")
    mm = machine.new_address_space()
    mm.map(BASE, 8 * MiB)
    mm.access(BASE, 8 * MiB, write=True)
    start, end = machine.phys_range
    ctx = Context(ops.make_ops("paddr"), kstate=KernelState(machine), addr_unit=4,
                  min_region_sz=1024)
    t = ctx.add_target(Target(None))
    t.append_region(start // 4, end // 4)
    s = Scheme("pageout", filters=[Filter("anon", True, True)])
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert s.stats()["sz_applied"] == 8 * MiB // 4
    assert s.stats()["sz_ops_filter_passed"] == 8 * MiB // 4
    assert s.stats()["sz_tried"] == (end - start) // 4
    assert mm.rss == 0


def test_paddr_addr_unit_monitoring_finds_memory_at_scaled_addresses():
    sim = Simulation(make_machine("dram:1G"), seed=3)
    w = MasimWorkload(masim.builtin("hotcold"))
    sim.add_workload(w)
    start, end = sim.machine.phys_range
    ctx = Context(ops.make_ops("paddr"), addr_unit=8, min_region_sz=512)
    ctx.add_target(Target(None, [(start // 8, end // 8)]))
    snaps = []
    sim.on_snapshot = snaps.append
    sim.add_kdamond([ctx])
    sim.run(3e9)
    t = snaps[-1].targets[0]
    assert int(t.starts[0]) >= start // 8 and int(t.ends[-1]) <= end // 8
    accessed = [(int(a), int(b)) for a, b, nr in zip(t.starts, t.ends, t.nr_accesses) if nr]
    assert accessed
    # every accessed region holds pages in use at 8x its addresses
    for a, b in accessed[:5]:
        assert any(sim.machine.page_owner(p) is not None
                   for p in range(a * 8, b * 8, 64 * K4))


# ---- pause ----------------------------------------------------------------------

def test_pause_stops_the_loop_after_kdamond_call_until_unpaused():
    """ctx->pause: the kdamond sleeps a sampling interval at a time in the
    pause loop, running only damon_call() requests: no sampling, no
    aggregation, no scheme; a commit unpauses it."""
    sim = Simulation(make_machine("dram:1G"), seed=2)
    pid = sim.add_workload(MasimWorkload(masim.builtin("stairs")))
    ctx = Context(ops.make_ops("vaddr"))
    ctx.add_target(Target(pid))
    s = ctx.add_scheme(Scheme("stat"))
    snaps = []
    sim.on_snapshot = snaps.append
    sim.add_kdamond([ctx])
    sim.run(0.5e9)

    def params(pause):
        c = Context(ops.make_ops("vaddr"), pause=pause)
        c.add_target(Target(pid))
        c.add_scheme(Scheme("stat"))
        return c
    ctx.call(lambda c: commit.commit_ctx(c, params(True)))
    sim.run(0.01e9)
    assert ctx.pause and ctx.state_name == "paused"
    frozen = (ctx.passed_sample_intervals, len(snaps), s.stats()["nr_tried"])
    sim.run(1e9)
    assert (ctx.passed_sample_intervals, len(snaps), s.stats()["nr_tried"]) == frozen
    # a walk asked for while paused is canceled at the next pause-loop turn
    done = []
    assert ctx.damos_walk(lambda *a: None, done.append) == 0
    sim.run(0.01e9)
    assert done == [True]
    ctx.call(lambda c: commit.commit_ctx(c, params(False)))
    sim.run(1e9)
    assert not ctx.pause and ctx.passed_sample_intervals > frozen[0] + 150
    assert len(snaps) > frozen[1] + 8 and s.stats()["nr_tried"] > frozen[2]
