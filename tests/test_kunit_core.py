"""Every KUNIT_CASE of the kernel's DAMON core unit tests
(mm/damon/tests/core-kunit.h at torvalds/linux 0250dbe08c73, the commit the
engine follows), with the kernel's own vectors and expected values, run on
the functions the kdamond itself calls.  kunit builds use a minimum region
size of 1, hence min_region_sz=1 wherever sizes are tiny.  tests/KUNIT_CASES.md
maps each kernel case to its test here."""
import pytest

from damo_engine import commit, core, ops
from damo_engine.core import Context, Filter, QuotaGoal, Scheme, Target

EINVAL = 22
ECANCELED = 125


def target_with(regions, **fields):
    t = Target()
    for r in regions:
        t.append_region(*r, **fields)
    return t


def ctx_with(targets=(), **kwargs):
    ctx = Context(**kwargs)
    for t in targets:
        ctx.add_target(t)
    return ctx


# damon_test_target
def test_target():
    c = Context()
    t = Target()
    assert len(c.targets) == 0
    c.add_target(t)
    assert len(c.targets) == 1
    c.destroy_target(t)
    assert len(c.targets) == 0


# damon_test_regions
def test_regions():
    t = Target()
    assert len(t) == 0
    t.append_region(1, 2)
    (start, end, nr, last, age), = t.regions()
    assert (start, end, nr) == (1, 2, 0)
    assert len(t) == 1
    core.kunit_destroy_region(t, 0)
    assert len(t) == 0


# damon_test_aggregate
def test_aggregate():
    saddr = [[10, 20, 30], [5, 42, 49], [13, 33, 55]]
    eaddr = [[15, 27, 40], [31, 45, 55], [23, 44, 66]]
    accesses = [[42, 95, 84], [10, 20, 30], [0, 1, 2]]
    ctx = Context()
    for it in range(3):
        t = ctx.add_target(Target())
        for ir in range(3):
            t.append_region(saddr[it][ir], eaddr[it][ir], nr_accesses=accesses[it][ir])
    core.kunit_reset_aggregated(ctx)
    assert len(ctx.targets) == 3
    for it, t in enumerate(ctx.targets):
        regions = t.regions()
        assert len(regions) == 3
        assert [r[2] for r in regions] == [0, 0, 0]
        assert [r[3] for r in regions] == accesses[it]     # now the last window's


# damon_test_split_at
def test_split_at():
    t = target_with([(0, 100)], nr_accesses=42, last_nr_accesses=15, age=10)
    t.split_at(0, 25)
    assert t.regions() == [(0, 25, 42, 15, 10), (25, 100, 42, 15, 10)]


# damon_test_merge_two
def test_merge_two():
    t = Target()
    t.append_region(0, 100, nr_accesses=10, age=9)
    t.append_region(100, 300, nr_accesses=20, age=21)
    t.merge_pair(0)
    (start, end, nr, last, age), = t.regions()
    assert (start, end, nr, age) == (0, 300, 16, 17)


# damon_test_merge_regions_of
def test_merge_regions_of():
    sa = [0, 100, 114, 122, 130, 156, 170, 184, 230]
    ea = [100, 112, 122, 130, 156, 170, 184, 230, 10170]
    nrs = [0, 0, 10, 10, 20, 30, 1, 2, 5]
    t = Target()
    for s, e, nr in zip(sa, ea, nrs):
        t.append_region(s, e, nr_accesses=nr)
    t.merge(9, 9999, count_age=True)
    assert t.ranges() == [(0, 112), (114, 130), (130, 156), (156, 170), (170, 230),
                          (230, 10170)]


# damon_test_split_regions_of
@pytest.mark.parametrize("seed", range(5))
def test_split_regions_of(seed):
    c = Context(seed=seed)
    t = target_with([(0, 22)])
    core.kunit_split_regions_of(c, t, 2, 1)
    assert len(t) <= 2 and t.ranges()[0][0] == 0 and t.ranges()[-1][1] == 22
    t = target_with([(0, 220)])
    core.kunit_split_regions_of(c, t, 4, 1)
    assert len(t) <= 4 and t.ranges()[0][0] == 0 and t.ranges()[-1][1] == 220
    t = target_with([(0, 220), (300, 400), (500, 700)])
    core.kunit_split_regions_of(c, t, 4, 5)
    assert len(t) <= 12
    # the kernel checks size % 5 >= 0 (always true); the pieces are in fact
    # multiples of the minimum region size, 5
    assert all((e - s) % 5 == 0 for s, e in t.ranges())


# damon_test_split_above_half_progresses
def test_split_above_half_progresses():
    c = Context(min_region_sz=1, min_nr_regions=10, max_nr_regions=1500)
    t = Target()
    for i in range(760):
        t.append_region(i * 100, (i + 1) * 100, nr_accesses=0 if i & 1 else 100, age=5)
    c.add_target(t)
    nr_before = len(t)
    assert nr_before > 1500 // 2
    core.kunit_split_regions(c)
    nr_after = len(t)
    assert nr_before < nr_after <= 1500
    # one in every 1500 / (1500 - 760) = 2 regions is split, from rotation
    # offset 0, and a 100-byte region always splits (10% to 90%)
    assert nr_after == 760 + 380


# damon_test_ops_registration
def test_ops_registration():
    assert ops.make_ops("vaddr").name == "vaddr"       # registered
    with pytest.raises(ValueError):
        ops.register_ops("vaddr", ops.VaddrOps)        # double registration
    with pytest.raises(ValueError):
        ops.make_ops("no_such_ops")                    # unknown id
    ops.register_ops("kunit_ops", ops.VaddrOps)
    try:
        ops.unregister_ops("kunit_ops")
        ops.register_ops("kunit_ops", ops.VaddrOps)    # again after unregister
        with pytest.raises(ValueError):
            ops.register_ops("kunit_ops", ops.VaddrOps)
    finally:
        ops.unregister_ops("kunit_ops")


# damon_test_set_regions
@pytest.mark.parametrize("old, new, expect", [
    ([], [(5, 15), (15, 25)], [(5, 15), (15, 25)]),
    ([(4, 16), (24, 32)], [(18, 23)], [(18, 23)]),
    ([(4, 16), (24, 32)], [(8, 28)], [(8, 16), (16, 24), (24, 28)]),
    ([(0, 4), (4, 17)], [(0, 15), (25, 40)], [(0, 4), (4, 15), (25, 40)]),
    ([(0, 4), (42, 52)], [(0, 15), (25, 40), (44, 50)], [(0, 15), (25, 40), (44, 50)]),
])
def test_set_regions(old, new, expect):
    t = target_with(old)
    t.set_ranges(new, min_region=1)
    assert t.ranges() == expect


# damon_test_update_monitoring_result
def test_update_monitoring_result():
    old = (10, 1000)
    t = target_with([(3, 7)], nr_accesses=15, age=20)
    core.kunit_update_monitoring_result(t, 0, old, (100, 10000))
    assert t.regions()[0][2] == 15 and t.regions()[0][4] == 2
    core.kunit_update_monitoring_result(t, 0, old, (1, 1000))
    assert t.regions()[0][2] == 150 and t.regions()[0][4] == 2
    core.kunit_update_monitoring_result(t, 0, old, (1, 100))
    assert t.regions()[0][2] == 150 and t.regions()[0][4] == 20


# damon_test_set_attrs
def test_set_attrs():
    c = Context()
    valid = dict(sample_us=5000, aggr_us=100000, update_us=60000000, min_nr_regions=10,
                 max_nr_regions=1000)
    c.set_attrs(**valid)
    for field, value in (("min_nr_regions", 1), ("max_nr_regions", 9), ("aggr_us", 4999)):
        with pytest.raises(ValueError):
            c.set_attrs(**dict(valid, **{field: value}))
    assert c.nr_regions_range == (10, 1000) and c.aggr_us == 100000   # unchanged


# damon_test_mvsum
@pytest.mark.parametrize("current, last, left_bp, expect", [
    (0, 49, 10000, 49), (3, 10, 7000, 10), (3, 10, 5000, 8), (32, 100, 1000, 42),
    (42, 49, 0, 42),
])
def test_mvsum(current, last, left_bp, expect):
    assert core.kunit_mvsum(current, last, left_bp) == expect


# damon_test_nr_accesses_mvsum
@pytest.mark.parametrize("passed, next_aggr, nr, last, expect", [
    (0, 10, 5, 3, 3), (0, 10, 0, 7, 7), (5, 10, 3, 10, 8), (8, 10, 3, 10, 5),
    (10, 10, 42, 49, 42),
])
def test_nr_accesses_mvsum(passed, next_aggr, nr, last, expect):
    c = Context(sample_us=1, aggr_us=10)
    t = c.add_target(target_with([(0, 4096)], nr_accesses=nr, last_nr_accesses=last))
    core.kunit_set_sis(c, passed, next_aggr)
    assert core.kunit_nr_accesses_mvsum(c, t, 0) == expect
    assert c.nr_accesses_mvsums(t) == [expect]


# damos_test_new_filter
def test_new_filter():
    f = Filter("anon", True, False)
    assert (f.type_name, f.matching, f.allow) == ("anon", True, False)
    s = Scheme("stat", filters=[f])
    assert s.ops_filters == [f] and s.core_filters == []


# damos_test_commit_quota_goal
def test_commit_quota_goal():
    dst = QuotaGoal("some_mem_psi_us", 1000, current_value=123)
    dst.last_psi_total = 456
    cases = [QuotaGoal("user_input", 789, current_value=12),
             QuotaGoal("node_mem_free_bp", 345, current_value=678, nid=9),
             QuotaGoal("node_mem_used_bp", 12, current_value=345, nid=6),
             QuotaGoal("node_memcg_used_bp", 456, current_value=567, nid=6, memcg=7),
             QuotaGoal("node_memcg_free_bp", 890, current_value=901, nid=10, memcg=1),
             QuotaGoal("some_mem_psi_us", 234, current_value=345)]
    cases[-1].last_psi_total = 567
    for src in cases:
        dst_last_psi = dst.last_psi_total if dst.metric_name == "some_mem_psi_us" else None
        commit.commit_quota_goal(dst, src)
        assert (dst.metric, dst.target_value) == (src.metric, src.target_value)
        if src.metric_name == "user_input":
            assert dst.current_value == src.current_value
        if dst_last_psi is not None and src.metric_name == "some_mem_psi_us":
            assert dst.last_psi_total == dst_last_psi
        if src.metric_name in ("node_mem_used_bp", "node_mem_free_bp"):
            assert dst.nid == src.nid
        if src.metric_name in ("node_memcg_used_bp", "node_memcg_free_bp"):
            assert (dst.nid, dst.memcg) == (src.nid, src.memcg)
    assert dst.last_psi_total == 456       # never copied from a source


# damos_test_commit_quota_goals
@pytest.mark.parametrize("dst_targets, src_targets", [([], [123]), ([234], [345]), ([456], [])])
def test_commit_quota_goals(dst_targets, src_targets):
    dst = Scheme("stat", goals=[QuotaGoal("user_input", v) for v in dst_targets])
    src = Scheme("stat", goals=[QuotaGoal("user_input", v) for v in src_targets])
    commit.commit_quota_goals(dst, src)
    assert [(g.metric_name, g.target_value) for g in dst.goals] == \
        [("user_input", v) for v in src_targets]


# damos_test_commit_quota
def test_commit_quota():
    dst = Scheme("stat", quota_reset_interval_ms=1, quota_ms=2, quota_sz=3,
                 goal_tuner="consist", fail_charge=(2, 3), weights=(4, 5, 6))
    src = Scheme("stat", quota_reset_interval_ms=7, quota_ms=8, quota_sz=9,
                 goal_tuner="temporal", fail_charge=(1, 1024), weights=(10, 11, 12))
    commit.commit_quota(dst, src)
    assert (dst.quota_reset_interval_ms, dst.quota_ms, dst.quota_sz) == (7, 8, 9)
    assert dst.goal_tuner_name == "temporal"
    assert (dst.fail_charge_num, dst.fail_charge_denom) == (1, 1024)
    assert (dst.weight_sz, dst.weight_nr_accesses, dst.weight_age) == (10, 11, 12)


# damos_test_commit_dests
@pytest.mark.parametrize("dst_dests, src_dests", [
    ([(1, 2), (2, 3), (3, 4)], [(4, 5), (5, 6), (6, 7)]),
    ([(1, 2), (2, 3)], [(4, 5), (5, 6), (6, 7)]),
    ([], [(4, 5), (5, 6), (6, 7)]),
    ([(1, 2), (2, 3), (3, 4)], [(4, 5), (5, 6)]),
    ([(1, 2), (2, 3), (3, 4)], []),
])
def test_commit_dests(dst_dests, src_dests):
    dst = Scheme("migrate_hot", migrate_dests=dst_dests)
    src = Scheme("migrate_hot", migrate_dests=src_dests)
    commit.commit_dests(dst, src)
    assert dst.migrate_dests == src_dests


# damos_test_commit_filter
def test_commit_filter():
    dst = Filter("active", False, False)
    for src in (Filter("anon", True, True),
                Filter("memcg", False, False, memcg=123),
                Filter("young", True, True),
                Filter("hugepage_size", False, False, hugepage_size=(234, 345)),
                Filter("unmapped", True, True),
                Filter("addr", False, False, addr_range=(456, 567)),
                Filter("target", True, True, target_idx=6)):
        commit.commit_filter(dst, src)
        assert (dst.type, dst.matching, dst.allow) == (src.type, src.matching, src.allow)
        name = src.type_name
        if name == "memcg":
            assert dst.memcg == 123
        elif name == "addr":
            assert (dst.addr_start, dst.addr_end) == (456, 567)
        elif name == "target":
            assert dst.target_idx == 6
        elif name == "hugepage_size":
            assert (dst.sz_min, dst.sz_max) == (234, 345)


def _pattern(s):
    return (s.min_sz_region, s.max_sz_region, s.min_nr_accesses, s.max_nr_accesses,
            s.min_age_region, s.max_age_region)


def _commit_for(dst, src):
    commit.commit_scheme(dst, src)
    assert _pattern(dst) == _pattern(src)
    assert (dst.action, dst.apply_interval_us) == (src.action, src.apply_interval_us)
    assert (dst.wmarks_metric, dst.wmarks_interval, dst.wmarks_high, dst.wmarks_mid,
            dst.wmarks_low) == (src.wmarks_metric, src.wmarks_interval, src.wmarks_high,
                                src.wmarks_mid, src.wmarks_low)
    if src.action_name in ("migrate_hot", "migrate_cold"):
        assert dst.target_nid == src.target_nid


# damos_test_commit_pageout
def test_commit_pageout():
    _commit_for(Scheme("pageout", sz_region=(1, 2), nr_accesses=(3, 4), age=(5, 6),
                       apply_interval_us=1000000, wmarks=("free_mem_rate", 900, 100, 50, 0)),
                Scheme("pageout", sz_region=(2, 3), nr_accesses=(4, 5), age=(6, 7),
                       apply_interval_us=2000000, wmarks=("free_mem_rate", 800, 50, 30, 0)))


# damos_test_commit_migrate_hot
def test_commit_migrate_hot():
    _commit_for(Scheme("pageout", sz_region=(1, 2), nr_accesses=(3, 4), age=(5, 6),
                       apply_interval_us=1000000, wmarks=("free_mem_rate", 900, 100, 50, 0)),
                Scheme("migrate_hot", sz_region=(2, 3), nr_accesses=(4, 5), age=(6, 7),
                       apply_interval_us=2000000, target_nid=5))


# damon_test_commit_target_regions
@pytest.mark.parametrize("dst, src, expect", [
    ([(3, 8), (8, 10)], [(4, 6)], [(4, 6)]),
    ([(3, 8), (8, 10)], [], [(3, 8), (8, 10)]),
])
def test_commit_target_regions(dst, src, expect):
    d, s = target_with(dst), target_with(src)
    commit.commit_target_regions(d, s, 1)
    assert d.ranges() == expect


# damon_test_commit_ctx
def test_commit_ctx():
    src, dst = Context(), Context()
    src.min_region_sz = 4096
    commit.commit_ctx(dst, src)
    src.min_region_sz = 4095
    with pytest.raises(ValueError):
        commit.commit_ctx(dst, src)
    src.min_region_sz = 4096
    src.pause = True
    commit.commit_ctx(dst, src)
    assert dst.pause


# damos_test_filter_out
def test_filter_out():
    f = Filter("addr", True, False, addr_range=(2, 6))
    c = Context(min_region_sz=1)
    t = c.add_target(target_with([(3, 5)]))
    assert core.kunit_filter_match(c, t, 0, f) and len(t) == 1       # in the range
    t.set_region(0, 1, 2)
    assert not core.kunit_filter_match(c, t, 0, f) and len(t) == 1   # before it
    t.set_region(0, 6, 8)
    assert not core.kunit_filter_match(c, t, 0, f) and len(t) == 1   # after it
    t.set_region(0, 1, 4)                                            # started before
    assert not core.kunit_filter_match(c, t, 0, f)
    assert t.ranges() == [(1, 2), (2, 4)]
    core.kunit_destroy_region(t, 1)
    t.set_region(0, 2, 8)                                            # started in it
    assert core.kunit_filter_match(c, t, 0, f)
    assert t.ranges() == [(2, 6), (6, 8)]


# damon_test_feed_loop_next_input
def test_feed_loop_next_input():
    last_input = 900000
    assert core.kunit_feed_loop_next_input(last_input, 200) > last_input
    assert core.kunit_feed_loop_next_input(last_input, 250000000) < last_input
    assert core.kunit_feed_loop_next_input(last_input, 200) > \
        core.kunit_feed_loop_next_input(last_input, 2000)
    # by hand: 900000 + 900000 * 9800 / 10000; the 10000 minimum; 900000 + 900000 * 8000 / 10000
    assert core.kunit_feed_loop_next_input(last_input, 200) == 1782000
    assert core.kunit_feed_loop_next_input(last_input, 250000000) == 10000
    assert core.kunit_feed_loop_next_input(last_input, 2000) == 1620000


# damon_test_set_filters_default_reject
def test_set_filters_default_reject():
    s = Scheme("stat")
    assert core.kunit_filters_default_reject(s) == (False, False)
    target = Filter("target", True, True)
    s.core_filters = [target]
    assert core.kunit_filters_default_reject(s) == (True, False)
    target.allow = False
    assert core.kunit_filters_default_reject(s) == (False, False)
    anon = Filter("anon", True, True)
    s.ops_filters = [anon]
    assert core.kunit_filters_default_reject(s) == (False, True)
    target.allow = True
    assert core.kunit_filters_default_reject(s) == (False, True)


# damon_test_apply_min_nr_regions
@pytest.mark.parametrize("sz, min_sz, min_nr, max_sz_expect, nr_expect", [
    (10, 1, 10, 1, 10),     # common, expected setup
    (10, 1, 15, 1, 10),     # no zero size limit
    (10, 2, 2, 6, 2),       # max size aligned by min_region_sz
    (10, 2, 10, 2, 5),      # min_region_sz wins over min_nr_regions
])
def test_apply_min_nr_regions(sz, min_sz, min_nr, max_sz_expect, nr_expect):
    c = Context()
    c.min_region_sz = min_sz
    core.kunit_set_min_nr_regions(c, min_nr)       # as the kunit case assigns it
    t = c.add_target(target_with([(0, sz)]))
    assert core.kunit_apply_min_nr_regions(c) == max_sz_expect
    assert len(t) == nr_expect
    assert t.ranges()[0][0] == 0 and t.ranges()[-1][1] == sz


# damon_test_is_last_region
def test_is_last_region():
    t = Target()
    for i in range(4):
        t.append_region(i * 2, (i + 1) * 2)
        assert t.is_last(i)
    assert [t.is_last(i) for i in range(4)] == [False, False, False, True]


# damon_test_walk_control_obsolete
def test_walk_control_obsolete():
    c = Context()
    core.kunit_set_walk_control_obsolete(c, True)
    assert c.damos_walk(lambda *a: None) == -ECANCELED
    assert c.walk_control is None


# damon_test_rand
def test_rand():
    c = Context(seed=7)
    values = core.kunit_damon_rand(c, 0, 10, 10000)
    assert min(values) >= 0 and max(values) <= 9
    assert set(values) == set(range(10))
