"""Online commits (damon_commit_ctx and helpers): the kernel's core kunit
commit vectors (damon-semantics.md §5.1 #20) and the §3.8 semantics."""
import pytest

from damo_engine import commit
from damo_engine.core import Context, Filter, QuotaGoal, Scheme, Target
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops
from damo_engine.sim import Simulation
from damo_engine.workloads import MasimWorkload
from damo_engine import masim


# ---- damos_test_commit_quota_goal -------------------------------------------

def _commit_goal_and_check(dst, src):
    dst_last_psi = dst.last_psi_total if dst.metric_name == "some_mem_psi_us" else 0
    commit.commit_quota_goal(dst, src)
    assert dst.metric == src.metric
    assert dst.target_value == src.target_value
    if src.metric_name == "user_input":
        assert dst.current_value == src.current_value
    if dst_last_psi and src.metric_name == "some_mem_psi_us":
        assert dst.last_psi_total == dst_last_psi
    if dst.metric_name in ("node_mem_used_bp", "node_mem_free_bp"):
        assert dst.nid == src.nid
    if dst.metric_name in ("node_memcg_used_bp", "node_memcg_free_bp"):
        assert (dst.nid, dst.memcg) == (src.nid, src.memcg)


def _goal(metric, target, current=0, nid=0, memcg=None, last_psi_total=0):
    g = QuotaGoal(metric, target, current, nid=nid, memcg=memcg)
    g.last_psi_total = last_psi_total
    return g


def test_commit_quota_goal():
    dst = _goal("some_mem_psi_us", 1000, 123, last_psi_total=456)
    for src in [_goal("user_input", 789, 12),
                _goal("node_mem_free_bp", 345, 678, nid=9),
                _goal("node_mem_used_bp", 12, 345, nid=6),
                _goal("node_memcg_used_bp", 456, 567, nid=6, memcg="/7"),
                _goal("node_memcg_free_bp", 890, 901, nid=10, memcg="/1"),
                _goal("some_mem_psi_us", 234, 345, last_psi_total=567)]:
        _commit_goal_and_check(dst, src)


def test_commit_quota_goal_keeps_last_psi_total():
    dst = _goal("some_mem_psi_us", 1000, 123, last_psi_total=456)
    commit.commit_quota_goal(dst, _goal("some_mem_psi_us", 234, 345, last_psi_total=567))
    assert (dst.target_value, dst.last_psi_total) == (234, 456)
    # a non-user_input goal's current value is measured, not committed
    assert dst.current_value == 123


# ---- damos_test_commit_quota_goals -------------------------------------------

@pytest.mark.parametrize("dst_targets,src_targets", [([], [123]), ([234], [345]), ([456], [])])
def test_commit_quota_goals(dst_targets, src_targets):
    dst = Scheme(goals=[QuotaGoal("user_input", t) for t in dst_targets])
    src = Scheme(goals=[QuotaGoal("user_input", t) for t in src_targets])
    commit.commit_quota_goals(dst, src)
    assert [(g.metric, g.target_value) for g in dst.goals] == \
        [(g.metric, g.target_value) for g in src.goals]


def test_commit_quota_goals_updates_in_place_and_copies_user_input():
    kept = QuotaGoal("user_input", 10000, 5000)
    dst = Scheme(goals=[kept, QuotaGoal("some_mem_psi_us", 100)])
    src = Scheme(goals=[QuotaGoal("user_input", 20000, 7000)])
    commit.commit_quota_goals(dst, src)
    assert dst.goals == [kept]
    assert (kept.target_value, kept.current_value) == (20000, 7000)
    src = Scheme(goals=[QuotaGoal("user_input", 20000, 8000),
                        QuotaGoal("user_input", 300, 42)])
    commit.commit_quota_goals(dst, src)
    assert dst.goals[0] is kept and kept.current_value == 8000
    assert (dst.goals[1].target_value, dst.goals[1].current_value) == (300, 42)


# ---- damos_test_commit_quota ------------------------------------------------------

def test_commit_quota():
    dst = Scheme(quota_reset_interval_ms=1, quota_ms=2, quota_sz=3, weights=(4, 5, 6))
    src = Scheme(quota_reset_interval_ms=7, quota_ms=8, quota_sz=9, weights=(10, 11, 12))
    commit.commit_quota(dst, src)
    assert (dst.quota_reset_interval_ms, dst.quota_ms, dst.quota_sz) == (7, 8, 9)
    assert (dst.weight_sz, dst.weight_nr_accesses, dst.weight_age) == (10, 11, 12)


# ---- damos_test_commit_dests ------------------------------------------------------

@pytest.mark.parametrize("dst_dests,src_dests", [
    (([1, 2, 3], [2, 3, 4]), ([4, 5, 6], [5, 6, 7])),
    (([1, 2], [2, 3]), ([4, 5, 6], [5, 6, 7])),
    (([], []), ([4, 5, 6], [5, 6, 7])),
    (([1, 2, 3], [2, 3, 4]), ([4, 5], [5, 6])),
    (([1, 2, 3], [2, 3, 4]), ([], [])),
])
def test_commit_dests(dst_dests, src_dests):
    dst = Scheme("migrate_hot", migrate_dests=list(zip(*dst_dests)))
    src = Scheme("migrate_hot", migrate_dests=list(zip(*src_dests)))
    commit.commit_dests(dst, src)
    assert dst.migrate_dests == list(zip(*src_dests))


# ---- damos_test_commit_filter -----------------------------------------------------

def test_commit_filter():
    dst = Filter("active", matching=False, allow=False)
    for src in [Filter("anon", True, True),
                Filter("memcg", False, False, memcg="/123"),
                Filter("young", True, True),
                Filter("hugepage_size", False, False, hugepage_size=(234, 345)),
                Filter("unmapped", True, True),
                Filter("addr", False, False, addr_range=(456, 567)),
                Filter("target", True, True, target_idx=6)]:
        commit.commit_filter(dst, src)
        assert (dst.type, dst.matching, dst.allow) == (src.type, src.matching, src.allow)
        if src.type_name == "memcg":
            assert dst.memcg == src.memcg
        elif src.type_name == "addr":
            assert (dst.addr_start, dst.addr_end) == (456, 567)
        elif src.type_name == "target":
            assert dst.target_idx == 6
        elif src.type_name == "hugepage_size":
            assert (dst.sz_min, dst.sz_max) == (234, 345)


def test_commit_filters_by_index_per_group_and_default_reject():
    dst = Scheme(filters=[Filter("addr", True, True, addr_range=(0, 4096)),
                          Filter("target", True, False, target_idx=1)])
    assert dst.core_filters_default_reject is False      # last core filter rejects
    src = Scheme(filters=[Filter("addr", True, True, addr_range=(8192, 16384))])
    first = dst.core_filters[0]
    commit.commit_filters(dst, src)
    assert dst.core_filters == [first] and (first.addr_start, first.addr_end) == (8192, 16384)
    assert dst.core_filters_default_reject is True       # last (only) one allows now
    src = Scheme(filters=[Filter("anon", True, False)])
    commit.commit_filters(dst, src)
    assert dst.core_filters == [] and [f.type_name for f in dst.ops_filters] == ["anon"]


# ---- damos_test_commit (pageout, migrate_hot) -------------------------------------

def _pattern(s):
    return (s.min_sz_region, s.max_sz_region, s.min_nr_accesses, s.max_nr_accesses,
            s.min_age_region, s.max_age_region)


def _wmarks(s):
    return (s.wmarks_metric, s.wmarks_interval, s.wmarks_high, s.wmarks_mid, s.wmarks_low)


@pytest.mark.parametrize("src_action,src_wmarks,src_nid", [
    ("pageout", ("free_mem_rate", 800, 50, 30, 0), -1),
    ("migrate_hot", None, 5),
])
def test_commit_scheme(src_action, src_wmarks, src_nid):
    dst = Scheme("pageout", sz_region=(1, 2), nr_accesses=(3, 4), age=(5, 6),
                 apply_interval_us=1000000, wmarks=("free_mem_rate", 900, 100, 50, 0))
    src = Scheme(src_action, sz_region=(2, 3), nr_accesses=(4, 5), age=(6, 7),
                 apply_interval_us=2000000, wmarks=src_wmarks, target_nid=src_nid)
    commit.commit_scheme(dst, src)
    assert _pattern(dst) == (2, 3, 4, 5, 6, 7)
    assert (dst.action, dst.apply_interval_us) == (src.action, 2000000)
    assert _wmarks(dst) == _wmarks(src)
    if src_action.startswith("migrate"):
        assert dst.target_nid == src_nid


# ---- damon_test_commit_target_regions ---------------------------------------------

def _target(ranges):
    t = Target()
    for s, e in ranges:
        t.append_region(s, e)
    return t


@pytest.mark.parametrize("dst,src,expect", [
    ([(3, 8), (8, 10)], [(4, 6)], [(4, 6)]),
    ([(3, 8), (8, 10)], [], [(3, 8), (8, 10)]),
])
def test_commit_target_regions(dst, src, expect):
    t = _target(dst)
    commit.commit_target_regions(t, _target(src), 1)
    assert t.ranges() == expect and len(t) == len(expect)


def test_commit_target_regions_from_user_ranges_keep_counters():
    t = _target([(0, 4096), (4096, 8192)])
    t.append_region(8192, 12288, nr_accesses=7, age=3)
    commit.commit_target_regions(t, Target(None, [(4096, 12288)]), 4096)
    assert t.ranges() == [(4096, 8192), (8192, 12288)]
    assert t.regions()[1][2] == 7 and t.regions()[1][4] == 3


# ---- damon_commit_ctx ------------------------------------------------------------

def test_commit_ctx_min_region_sz():
    dst, src = Context(), Context()
    commit.commit_ctx(dst, src)
    assert dst.min_region_sz == 4096
    src.min_region_sz = 4095
    with pytest.raises(ValueError):
        commit.commit_ctx(dst, src)


def test_commit_ctx_invalid_attrs_leave_dst_untouched():
    dst = Context(sample_us=5000, aggr_us=100000)
    dst.add_scheme(Scheme("stat"))
    dst.add_target(_target([(0, 4096)]))
    src = Context(sample_us=5000, aggr_us=100000)
    src.add_scheme(Scheme("pageout"))
    src.add_scheme(Scheme("stat"))
    src.add_target(_target([(8192, 16384)]))
    # what the kernel's damon_set_attrs() would refuse: min_nr_regions < 3
    with pytest.raises(ValueError):
        src.set_attrs(5000, 100000, 1000000, 2, 1000)
    from damo_engine.commit import check_commit_ctx
    check_commit_ctx(dst, src)            # valid as it is
    src.schemes[0].goals = [QuotaGoal("user_input", 1)]
    src.schemes[0].goals[0].target_value = 0
    with pytest.raises(ValueError):
        commit.commit_ctx(dst, src)
    assert [s.action_name for s in dst.schemes] == ["stat"]
    assert dst.targets[0].ranges() == [(0, 4096)]


def test_commit_ctx_by_index_keeps_state():
    dst = Context(sample_us=5000, aggr_us=100000)
    kept = dst.add_scheme(Scheme("stat"))
    kept.nr_tried = 42
    dst.add_scheme(Scheme("pageout"))
    t0 = dst.add_target(_target([(0, 4096)]))
    t0.append_region(4096, 8192, nr_accesses=5, age=9)
    dropped = dst.add_target(_target([(1 << 20, 2 << 20)]))
    src = Context(sample_us=5000, aggr_us=100000)
    src.add_scheme(Scheme("cold", age=(3, 10)))
    src.add_target(Target())                      # no regions: dst keeps its own
    commit.commit_ctx(dst, src)
    assert dst.schemes == [kept] and kept.action_name == "cold" and kept.nr_tried == 42
    assert (kept.min_age_region, kept.max_age_region) == (3, 10)
    assert dst.targets == [t0] and t0.regions()[1][2] == 5
    assert dropped not in dst.targets
    # append new ones
    src.add_scheme(Scheme("stat"))
    src.add_target(Target(None, [(0, 8192)]))
    commit.commit_ctx(dst, src)
    assert dst.schemes[0] is kept and len(dst.schemes) == 2
    assert dst.schemes[1].nr_tried == 0 and dst.targets[1].ranges() == [(0, 8192)]


def test_commit_ctx_obsolete_target():
    dst = Context()
    a = dst.add_target(_target([(0, 4096)]))
    b = dst.add_target(_target([(8192, 12288)]))
    src = Context()
    src.add_target(Target())
    src.add_target(Target())
    commit.commit_ctx(dst, src, obsolete_targets=[0])
    assert dst.targets == [b] and a not in dst.targets
    src.add_target(Target())
    with pytest.raises(ValueError):           # a new target cannot be obsolete
        commit.commit_ctx(dst, src, obsolete_targets=[2])


def test_commit_ctx_rescales_only_changed_attrs():
    dst = Context(sample_us=10, aggr_us=1000)
    t = dst.add_target(Target())
    t.append_region(0, 4096, nr_accesses=15, age=20)
    same = Context(sample_us=10, aggr_us=1000)
    same.add_target(Target())
    commit.commit_ctx(dst, same)
    assert t.regions()[0][2] == 15 and t.regions()[0][4] == 20
    # §5.1 #11: (10, 1000) -> (100, 10000): nr 15, age 2 (not aggregating)
    changed = Context(sample_us=100, aggr_us=10000)
    changed.add_target(Target())
    commit.commit_ctx(dst, changed)
    assert (dst.sample_us, dst.aggr_us) == (100, 10000)
    assert t.regions()[0][4] == 2


# ---- in a running kdamond ---------------------------------------------------------

def _running(ops="vaddr"):
    sim = Simulation(make_machine("dram:1G"), seed=3)
    pid = sim.add_workload(MasimWorkload(masim.builtin("stairs")))
    ctx = Context(make_ops(ops), sample_us=5000, aggr_us=100000, update_us=1000000)
    ctx.add_target(Target(pid))
    s = ctx.add_scheme(Scheme("stat"))
    sim.add_kdamond([ctx])
    sim.run(2e9)
    return sim, ctx, pid, s


def test_commit_inside_the_kdamond_loop():
    sim, ctx, pid, s = _running()
    before_tried = s.nr_tried
    assert before_tried > 0 and ctx.running
    src = Context(make_ops("vaddr"), sample_us=5000, aggr_us=100000, update_us=1000000,
                  min_nr_regions=3, max_nr_regions=7)
    src.add_target(Target(pid))
    src.add_scheme(Scheme("stat", nr_accesses=(1, 100)))
    done = []
    ctx.call(lambda c: done.append(commit.commit_ctx(c, src)))
    sim.run(10_000_000)
    assert done == [None]
    assert ctx.nr_regions_range == (3, 7) and ctx.schemes == [s]
    assert s.nr_tried >= before_tried and s.min_nr_accesses == 1
    sim.run(1_500_000_000)
    assert ctx.running
    # §5.3: with max 7 regions, regions shrink to at most 7 once the size
    # limit is recomputed (at the next ops update)
    assert sum(len(t) for t in ctx.targets) <= 7


def test_commit_clears_charge_resume_point_of_removed_target():
    sim = Simulation(make_machine("dram:1G"), seed=1)
    pids = [sim.add_workload(MasimWorkload(masim.builtin("stairs"))) for _ in range(2)]
    ctx = Context(make_ops("vaddr"))
    for pid in pids:
        ctx.add_target(Target(pid))
    s = ctx.add_scheme(Scheme("stat", quota_sz=8192, quota_reset_interval_ms=1000))
    sim.add_kdamond([ctx])
    sim.run(1e9)
    src = Context(make_ops("vaddr"))
    src.add_target(Target(pids[0]))
    src.add_scheme(Scheme("stat", quota_sz=8192, quota_reset_interval_ms=1000))
    ctx.call(lambda c: commit.commit_ctx(c, src))
    sim.run(1e9)
    assert len(ctx.targets) == 1 and ctx.running and s.nr_tried > 0


def test_commit_scheme_max_nr_snapshots_keeps_the_count():
    dst = Scheme("stat", max_nr_snapshots=3)
    dst.nr_snapshots = 2
    commit.commit_scheme(dst, Scheme("stat", max_nr_snapshots=10))
    assert (dst.max_nr_snapshots, dst.nr_snapshots) == (10, 2)
