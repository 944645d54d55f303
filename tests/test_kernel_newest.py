"""Regression tests for the places where the engine used to differ from the
mainline DAMON it follows (torvalds/linux 0250dbe08c73, mm/damon/core.c,
vaddr.c, paddr.c): each test fails on the old behaviour and states the
kernel's.  Expected values are worked out by hand from the kernel code."""
import pytest

from damo_engine import MasimWorkload, Simulation, commit, core, masim, ops
from damo_engine.core import Context, Filter, KernelState, QuotaGoal, Scheme, Target
from damo_engine.machines import make_machine

MiB = 1 << 20
K4 = 4096


def plain_ctx(regions_per_target, **kwargs):
    """A context with no operation set (no target_valid(), no scores): the
    core alone.  regions: (start, end, nr_accesses, age)."""
    ctx = Context(**kwargs)
    for regions in regions_per_target:
        t = ctx.add_target(Target(None))
        for s, e, nr, age in regions:
            t.append_region(s, e, nr_accesses=nr, last_nr_accesses=nr, age=age)
    return ctx


# ---- monitoring -------------------------------------------------------------------

def test_ages_are_counted_once_per_aggregation_even_with_repeated_merge_passes():
    """kdamond_merge_regions() ages regions only in its first pass
    (count_age); later passes, made while regions exceed max_nr_regions,
    only merge."""
    ctx = Context(min_nr_regions=3, max_nr_regions=4, min_region_sz=1)
    t = ctx.add_target(Target())
    for i in range(16):       # alternating 0/20: the first pass (threshold 2) merges none
        nr = 20 if i & 1 else 0
        t.append_region(i * 10, (i + 1) * 10, nr_accesses=nr, last_nr_accesses=nr, age=3)
    core.kunit_merge_regions(ctx, 2, 1 << 40)
    assert len(t) <= 4                                  # later passes merged
    assert {r[4] for r in t.regions()} == {4}           # aged by one, once


def test_min_nr_regions_is_applied_after_every_merge():
    """damon_apply_min_nr_regions() runs after each aggregation's merge: a
    commit raising min_nr_regions splits the regions at the next
    aggregation, not only at the next ops update."""
    sim = Simulation(make_machine("dram:1G"), seed=2)
    pid = sim.add_workload(MasimWorkload(masim.builtin("hotcold")))
    ctx = Context(ops.make_ops("vaddr"), update_us=60_000_000, min_nr_regions=10,
                  max_nr_regions=1000)
    t = ctx.add_target(Target(pid))
    snaps = []
    sim.on_snapshot = snaps.append
    sim.add_kdamond([ctx])
    sim.run(1e9)
    src = Context(ops.make_ops("vaddr"), update_us=60_000_000, min_nr_regions=200,
                  max_nr_regions=1000)
    src.add_target(Target(pid))
    ctx.call(lambda c: commit.commit_ctx(c, src))
    n = len(snaps)
    sim.run(0.25e9)
    total = sum(e - s for s, e in t.ranges())
    limit = -(-(total // 200) // K4) * K4
    # the second snapshot after the commit: merged, then split for min_nr_regions
    after = snaps[n + 1].targets[0]
    assert all(e - s <= limit for s, e in zip(after.starts, after.ends))
    assert len(after.starts) >= 200


def test_regions_above_half_of_the_maximum_keep_being_split():
    """kdamond_split_regions() above max_nr_regions / 2 splits one in every
    max / (max - nr) regions from an offset that rotates at each call, up to
    the maximum; the old rule stopped splitting there."""
    ctx = Context(min_region_sz=1, min_nr_regions=10, max_nr_regions=100)
    t = ctx.add_target(Target())
    for i in range(60):
        t.append_region(i * 1000, (i + 1) * 1000)
    counts = []
    for _ in range(4):
        core.kunit_split_regions(ctx)
        counts.append(len(t))
    # step 100 / 40 = 2 from offset 0: 30 more; step 100 / 10 = 10 from
    # offset 1: 9 more; step 100 from offset 2: 1 more; at the maximum: none
    assert counts == [90, 99, 100, 100]
    assert ctx.kstate.last_nr_regions == 100 and ctx.kstate.split_rotation == 3


def test_paddr_without_targets_keeps_running_vaddr_stops():
    """kdamond_need_stop(): an operation set without target_valid() (paddr)
    never stops on its own, even with no target."""
    sim = Simulation(make_machine("dram:256M"), seed=1)
    sim.add_workload(MasimWorkload(masim.builtin("stairs")))
    pa = Context(ops.make_ops("paddr"))
    va = Context(ops.make_ops("vaddr"))
    sim.add_kdamond([pa])
    sim.add_kdamond([va])
    sim.run(0.5e9, stop_with_workloads=False)
    assert pa.running and pa.state_name != "stopped"
    assert not va.running


# ---- DAMOS ------------------------------------------------------------------------

def test_split_remainders_are_visited_in_the_same_walk():
    """damos_apply_target() walks regions with damon_for_each_region(), not
    the _safe variant: the piece an addr filter splits off is the next
    region visited, in the same apply interval."""
    ctx = plain_ctx([[(0, 4 * K4, 0, 0)]])
    s = ctx.add_scheme(Scheme("stat", filters=[
        Filter("addr", True, True, addr_range=(K4, 2 * K4))]))   # allow; default reject
    core.kunit_apply_schemes(ctx, 20)
    st = s.stats()
    # kernel quirk kept: damos_apply_scheme() takes the size before the core
    # filter splits the region, so the try counts 12 KiB for the 4 KiB piece
    assert (st["nr_tried"], st["sz_tried"]) == (1, 3 * K4)
    assert ctx.targets[0].ranges() == [(0, K4), (K4, 2 * K4), (2 * K4, 4 * K4)]


def test_quota_slices_merge_back():
    """A region split for the quota is merged back into the previous one
    when they are alike (stat leaves ages alone) and within the size limit;
    the resume point stays where the quota filled."""
    # size limit: 64 KiB / 3 regions, so a 16 KiB region may be rebuilt
    ctx = plain_ctx([[(0, 4 * K4, 3, 5), (4 * K4, 16 * K4, 9, 5)]], min_nr_regions=3)
    s = ctx.add_scheme(Scheme("stat", quota_sz=K4, quota_reset_interval_ms=1000))
    core.kunit_apply_schemes(ctx, 20)
    t = ctx.targets[0]
    assert t.ranges() == [(0, 4 * K4), (4 * K4, 16 * K4)]
    assert s.stats()["sz_tried"] == K4 and s.quota_state()["charged_sz"] == K4
    ctx.kstate.clock_ns = 2e9                   # next window: resumes at 4096
    core.kunit_apply_schemes(ctx, 40)
    assert s.stats()["sz_tried"] == 2 * K4
    assert t.ranges() == [(0, 4 * K4), (4 * K4, 16 * K4)]


def test_quota_slices_with_a_reset_age_are_kept():
    ctx = plain_ctx([[(0, 4 * K4, 3, 5)]], min_nr_regions=3)
    ctx.add_scheme(Scheme("pageout", quota_sz=K4, quota_reset_interval_ms=1000))
    core.kunit_apply_schemes(ctx, 20)
    assert ctx.targets[0].regions() == [(0, K4, 3, 3, 0), (K4, 4 * K4, 3, 3, 5)]


def test_resume_address_is_the_end_of_the_last_charged_region():
    ctx = plain_ctx([[(0, 4 * K4, 0, 0), (4 * K4, 8 * K4, 0, 0), (8 * K4, 12 * K4, 0, 0)]])
    s = ctx.add_scheme(Scheme("pageout", quota_sz=4 * K4 + 100, quota_reset_interval_ms=1))
    core.kunit_apply_schemes(ctx, 20)
    st = s.stats()
    assert (st["nr_tried"], st["sz_tried"]) == (1, 4 * K4)     # < 4096 left: full
    ctx.kstate.clock_ns = 1e9
    core.kunit_apply_schemes(ctx, 40)
    # resumed at 16384, not 16385 (which would have split off and skipped
    # the second region's first page): that region is tried whole
    assert s.stats()["sz_tried"] == 8 * K4 and s.stats()["nr_tried"] == 2
    assert ctx.targets[0].ranges()[1] == (4 * K4, 8 * K4)
    assert s.stats()["qt_exceeds"] == 1


def test_resuming_skips_the_targets_last_region_kernel_quirk():
    """damos_skip_charged_region(): reaching the last region of the resume
    target ends the skipping, but skips that region too."""
    ctx = plain_ctx([[(0, 4 * K4, 0, 0), (4 * K4, 8 * K4, 0, 0)]])
    s = ctx.add_scheme(Scheme("pageout", quota_sz=4 * K4 + 100, quota_reset_interval_ms=1))
    core.kunit_apply_schemes(ctx, 20)
    ctx.kstate.clock_ns = 1e9
    core.kunit_apply_schemes(ctx, 40)
    assert s.stats()["sz_tried"] == 4 * K4 and s.stats()["nr_tried"] == 1
    ctx.kstate.clock_ns = 2e9
    core.kunit_apply_schemes(ctx, 60)           # from the start again
    assert s.stats()["sz_tried"] == 8 * K4


def test_nr_snapshots_counts_each_target_walked_to_its_end():
    ctx = plain_ctx([[(0, K4, 0, 0)], [(0, K4, 0, 0)]])
    free = ctx.add_scheme(Scheme("stat"))
    full = ctx.add_scheme(Scheme("stat", quota_sz=100, quota_reset_interval_ms=1000))
    core.kunit_apply_schemes(ctx, 20)
    assert free.stats()["nr_snapshots"] == 2        # once per target
    assert full.stats()["nr_snapshots"] == 0        # its quota was full from the start
    assert full.stats()["nr_tried"] == 0


def test_max_nr_snapshots_still_adjusts_the_quota():
    """A scheme past max_nr_snapshots is skipped region by region, but its
    quota windows keep turning (kdamond_apply_schemes() has no such check)."""
    ctx = plain_ctx([[(0, K4, 0, 0)]])
    s = ctx.add_scheme(Scheme("stat", quota_sz=MiB, quota_reset_interval_ms=1,
                              max_nr_snapshots=1))
    core.kunit_apply_schemes(ctx, 20)
    assert s.stats()["nr_snapshots"] == 1 and s.stats()["nr_tried"] == 1
    before = s.quota_state()["charged_from"]
    ctx.kstate.clock_ns = 5e6
    core.kunit_apply_schemes(ctx, 40)
    assert s.stats()["nr_tried"] == 1 and s.quota_state()["charged_from"] == before + 5


def test_invalid_targets_are_skipped_while_applying():
    machine = make_machine("dram:256M")
    ks = KernelState(machine)
    ctx = Context(ops.make_ops("vaddr"), kstate=ks)
    live, gone = machine.new_address_space(), machine.new_address_space()
    for mm in (live, gone):
        mm.map(1 << 30, MiB)
        ks.processes[mm.pid] = mm
        t = ctx.add_target(Target(mm.pid))
        t.obj = mm                  # what the operation set's init resolves
        t.append_region(1 << 30, (1 << 30) + MiB)
    gone.exit()
    s = ctx.add_scheme(Scheme("stat"))
    core.kunit_apply_schemes(ctx, 20)
    assert s.stats()["nr_tried"] == 1 and s.stats()["nr_snapshots"] == 1


def test_score_histogram_leaves_out_core_filtered_regions():
    """damos_adjust_quota() fills the histogram only with regions that pass
    the core filters, so rejected hot memory does not raise min_score."""
    machine = make_machine("dram:256M")
    ctx = Context(ops.make_ops("paddr"), kstate=KernelState(machine))
    t = ctx.add_target(Target(None))
    t.append_region(0, 10 * MiB, nr_accesses=18, last_nr_accesses=18, age=5)
    t.append_region(10 * MiB, 30 * MiB, nr_accesses=9, last_nr_accesses=9, age=5)
    s = ctx.add_scheme(Scheme("lru_prio", quota_sz=5 * MiB, quota_reset_interval_ms=1000,
                              weights=(0, 1, 0),
                              filters=[Filter("addr", True, False, addr_range=(0, 10 * MiB))]))
    _, min_score = core.kunit_adjust_quota(ctx, s, clock_ns=0)
    assert min_score == ops.kunit_hot_score(ctx, 9, 5, s) == 44


# ---- the quota-goal bug -----------------------------------------------------------

def _goal_run(tuner, **quota):
    sim = Simulation(make_machine("dram:1G"), seed=4)
    pid = sim.add_workload(MasimWorkload(masim.builtin("stairs")))
    ctx = Context(ops.make_ops("vaddr"))
    ctx.add_target(Target(pid))
    s = ctx.add_scheme(Scheme("stat", goals=[QuotaGoal("user_input", 100, 200)],
                              goal_tuner=tuner, quota_reset_interval_ms=100, **quota))
    sim.add_kdamond([ctx])
    return sim, ctx, s


def _commit_without_goals(sim, ctx, pid_target, **quota):
    src = Context(ops.make_ops("vaddr"))
    src.add_target(Target(pid_target))
    src.add_scheme(Scheme("stat", quota_reset_interval_ms=100, **quota))
    ctx.call(lambda c: commit.commit_ctx(c, src))


def test_removing_a_met_temporal_goal_lets_the_scheme_apply_again():
    """The goal is met (200 / 100): the temporal tuner's effective quota is
    0 and nothing is tried.  A commit that removes the goal must free the
    scheme: no quota is set any more (the old engine's 'blocked' flag stayed
    set forever)."""
    sim, ctx, s = _goal_run("temporal")
    sim.run(2e9)
    assert s.stats()["nr_tried"] == 0
    assert s.stats()["qt_exceeds"] >= 15        # every 100 ms window: full
    _commit_without_goals(sim, ctx, ctx.targets[0].pid)
    sim.run(1e9)
    assert s.stats()["nr_tried"] > 0 and s.stats()["sz_tried"] > 0


def test_removing_a_temporal_goal_with_a_size_quota_applies_the_size_quota():
    sim, ctx, s = _goal_run("temporal", quota_sz=MiB)
    sim.run(1e9)
    assert s.stats()["nr_tried"] == 0
    _commit_without_goals(sim, ctx, ctx.targets[0].pid, quota_sz=MiB)
    tried = []
    s.tried_regions_sink = lambda sch, regions: tried.append(sum(r[1] - r[0] for r in regions))
    sim.run(1e9)
    assert max(tried) <= MiB and sum(tried) >= 5 * MiB     # 1 MiB a window again


def test_removing_a_consist_goal_keeps_its_last_quota_kernel_quirk():
    """Kernel behaviour kept: without ms, sz or goals damos_adjust_quota()
    returns at once, so the consist tuner's last effective quota stays set
    and is never reset: the scheme applies that much more, then nothing."""
    sim, ctx, s = _goal_run("consist", quota_ms=1)
    sim.run(1e9)
    esz = s.quota_state()["esz"]
    assert esz > 0
    _commit_without_goals(sim, ctx, ctx.targets[0].pid)
    sim.run(0.5e9)
    charged = s.quota_state()["charged_sz"]
    tried = s.stats()["sz_tried"]
    sim.run(2e9)
    assert s.quota_state()["esz"] == esz                    # never re-set
    assert s.stats()["sz_tried"] == tried                   # quota full for good
    assert esz - charged < 4096


# ---- goal metrics -----------------------------------------------------------------

@pytest.mark.parametrize("metric, nid, memcg, expected", [
    # one page in use of 16384: used 1 * 10000 / 16384 = 0, free 16383 * 10000 / 16384
    ("node_mem_used_bp", 0, None, 0), ("node_mem_free_bp", 0, None, 9999),
    ("node_memcg_used_bp", 0, 0, 0), ("node_memcg_free_bp", 0, 0, 9999),
    # invalid nodes (invalid_mem_node()): nothing used, everything free
    ("node_mem_used_bp", 5, None, 0), ("node_mem_free_bp", 5, None, 10000),
    ("node_memcg_used_bp", 5, 0, 0), ("node_memcg_free_bp", 5, 0, 10000),
    ("node_memcg_free_bp", -1, 0, 10000),
    # a memory cgroup that does not exist
    ("node_memcg_used_bp", 0, 3, 0), ("node_memcg_free_bp", 0, 3, 10000),
])
def test_node_goal_metrics(metric, nid, memcg, expected):
    machine = make_machine("dram:64M")
    mm = machine.new_address_space()
    mm.map(1 << 30, K4)
    mm.access(1 << 30, K4, write=True)
    ctx = Context(ops.make_ops("vaddr"), kstate=KernelState(machine))
    g = QuotaGoal(metric, 10000, nid=nid, memcg=memcg)
    core.kunit_quota_score(ctx, Scheme("stat", goals=[g]))
    assert g.current_value == expected


# ---- commits ----------------------------------------------------------------------

def test_committed_regions_are_coalesced_before_set_regions():
    """damon_commit_target_regions() gives damon_set_regions() one range per
    run of adjacent source regions, so a destination region spanning their
    boundary keeps its counters whole."""
    dst = Target()
    dst.append_region(K4, 7 * K4, nr_accesses=5, last_nr_accesses=4, age=9)
    src = Target()
    src.append_region(0, 4 * K4)
    src.append_region(4 * K4, 8 * K4)
    commit.commit_target_regions(dst, src, K4)
    assert dst.regions() == [(0, 8 * K4, 5, 4, 9)]


def test_commit_keeps_a_node_eligible_goals_nid_kernel_quirk():
    """damos_commit_quota_goal_union() has no node_eligible_mem_bp case: an
    online commit leaves the goal's node as it was."""
    dst = QuotaGoal("node_eligible_mem_bp", 1000, nid=1)
    commit.commit_quota_goal(dst, QuotaGoal("node_eligible_mem_bp", 2000, nid=0))
    assert (dst.target_value, dst.nid) == (2000, 1)


def test_merge_ages_by_the_kernels_rules():
    """damon_merge_regions_of() with count_age: a count that moved by more
    than the threshold, or between zero and non-zero, makes the region young
    again; otherwise it ages by one.  (Gaps keep the regions apart.)"""
    t = Target()
    t.append_region(0, 10, nr_accesses=10, last_nr_accesses=5, age=7)    # moved by 5 > 2
    t.append_region(20, 30, nr_accesses=0, last_nr_accesses=1, age=7)    # turned idle
    t.append_region(40, 50, nr_accesses=1, last_nr_accesses=0, age=7)    # turned accessed
    t.append_region(60, 70, nr_accesses=6, last_nr_accesses=5, age=7)    # kept its pattern
    t.merge(2, 1 << 40, count_age=True)
    assert [r[4] for r in t.regions()] == [0, 0, 0, 8]
    t.merge(2, 1 << 40, count_age=False)                # later passes: ages untouched
    assert [r[4] for r in t.regions()] == [0, 0, 0, 8]
