"""The kernel's own DAMON core unit tests (mm/damon/tests/core-kunit.h),
ported: damon-semantics.md §5.1.  kunit builds use DAMON_MIN_REGION = 1,
hence min_region 1 wherever sizes are tiny.  Vectors of DAMOS quotas, filters
and scores live in the DAMOS tests; online commits in the live-tuning tests.
"""
import pytest

from damo_engine import core
from damo_engine.core import Context, Filter, Target
from damo_engine import ops


def target_with(regions, **fields):
    t = Target()
    for r in regions:
        t.append_region(*r, **fields)
    return t


def ranges(t):
    return t.ranges()


# 1
def test_regions_new_add_destroy():
    t = Target()
    t.append_region(1, 2)
    (start, end, nr, bp, last, age), = t.regions()
    assert (start, end, nr) == (1, 2, 0)
    assert len(t) == 1
    core.kunit_destroy_region(t, 0)
    assert len(t) == 0


# 2
def test_target_add_destroy():
    ctx = Context()
    t = ctx.add_target(Target())
    assert len(ctx.targets) == 1
    ctx.targets.remove(t)
    assert len(ctx.targets) == 0


# 3
def test_aggregate_resets_every_region():
    ctx = Context()
    for nrs in ([42, 95, 84], [10, 20, 30], [0, 1, 2]):
        t = ctx.add_target(Target())
        for i, nr in enumerate(nrs):
            t.append_region(i * 100, (i + 1) * 100, nr_accesses=nr)
    core.kunit_reset_aggregated(ctx)
    assert len(ctx.targets) == 3
    for t, nrs in zip(ctx.targets, ([42, 95, 84], [10, 20, 30], [0, 1, 2])):
        regions = t.regions()
        assert len(regions) == 3
        assert [r[2] for r in regions] == [0, 0, 0]
        assert [r[4] for r in regions] == nrs     # became last_nr_accesses


# 4
def test_split_at_copies_counters():
    t = Target()
    t.append_region(0, 100, nr_accesses=42, nr_accesses_bp=420000, last_nr_accesses=15,
                    age=10)
    t.split_at(0, 25)
    assert t.regions() == [(0, 25, 42, 420000, 15, 10), (25, 100, 42, 420000, 15, 10)]


# 5
def test_merge_two_size_weighted():
    t = Target()
    t.append_region(0, 100, nr_accesses=10, age=9)
    t.append_region(100, 300, nr_accesses=20, age=21)
    t.merge_pair(0)
    assert len(t) == 1
    (start, end, nr, bp, last, age), = t.regions()
    assert (start, end, nr, age) == (0, 300, 16, 17)
    assert bp == 160000


# 6
def test_merge_regions_of():
    spec = [(0, 100, 0), (100, 112, 0), (114, 122, 10), (122, 130, 10), (130, 156, 20),
            (156, 170, 30), (170, 184, 1), (184, 230, 2), (230, 10170, 5)]
    t = Target()
    for s, e, nr in spec:
        t.append_region(s, e, nr_accesses=nr)
    t.merge(9, 9999)
    assert ranges(t) == [(0, 112), (114, 130), (130, 156), (156, 170), (170, 230),
                         (230, 10170)]


def test_merge_regions_of_without_last_region():
    t = Target()
    for s, e, nr in [(0, 100, 0), (100, 112, 0), (114, 122, 10), (122, 130, 10),
                     (130, 156, 20), (156, 170, 30), (170, 184, 1), (184, 230, 2)]:
        t.append_region(s, e, nr_accesses=nr)
    t.merge(9, 9999)
    assert ranges(t) == [(0, 112), (114, 130), (130, 156), (156, 170), (170, 230)]


# 7
@pytest.mark.parametrize("end, nr_subs", [(22, 2), (220, 4)])
def test_split_regions_of_bounds(end, nr_subs):
    for seed in range(20):
        t = target_with([(0, end)])
        t.split(nr_subs, min_region=1, seed=seed)
        assert 1 <= len(t) <= nr_subs
        assert ranges(t)[0][0] == 0 and ranges(t)[-1][1] == end


# 8
def test_ops_registration():
    with pytest.raises(ValueError):
        ops.register_ops("vaddr", ops.VaddrOps)        # double registration
    with pytest.raises(ValueError):
        ops.make_ops("no_such_ops")                    # unknown id
    ops.register_ops("test_ops", ops.VaddrOps)
    try:
        assert ops.make_ops("test_ops").name == "vaddr"
        ops.unregister_ops("test_ops")
        ops.register_ops("test_ops", ops.VaddrOps)     # again after unregister
    finally:
        ops.unregister_ops("test_ops")


# 9
@pytest.mark.parametrize("existing, new, expected", [
    ([], [(5, 15), (15, 25)], [(5, 15), (15, 25)]),
    ([(4, 16), (24, 32)], [(18, 23)], [(18, 23)]),
    ([(4, 16), (24, 32)], [(8, 28)], [(8, 16), (16, 24), (24, 28)]),
    ([(0, 4), (4, 17)], [(0, 15), (25, 40)], [(0, 4), (4, 15), (25, 40)]),
    ([(0, 4), (42, 52)], [(0, 15), (25, 40), (44, 50)], [(0, 15), (25, 40), (44, 50)]),
])
def test_set_regions(existing, new, expected):
    t = target_with(existing)
    t.set_ranges(new, min_region=1)
    assert ranges(t) == expected


# 10
def test_nr_accesses_to_accesses_bp_huge_aggregation():
    assert core.kunit_nr_accesses_to_accesses_bp(123, 10, ((1 << 32)) * 10) == 0


# 11
def test_update_monitoring_result():
    # one region updated three times, each from the same old attributes
    old = (10, 1000)
    nr, _, _, age = core.kunit_update_monitoring_result(15, 0, 20, old, (100, 10000))
    assert (nr, age) == (15, 2)
    nr, _, _, age = core.kunit_update_monitoring_result(nr, 0, age, old, (1, 1000))
    assert (nr, age) == (150, 2)
    nr, _, _, age = core.kunit_update_monitoring_result(nr, 0, age, old, (1, 100))
    assert (nr, age) == (150, 20)


def test_update_monitoring_result_mid_window():
    # mid-aggregation: as if a reset just happened (nr 0, bp = last * 10000)
    nr, last, bp, age = core.kunit_update_monitoring_result(7, 15, 20, (10, 1000),
                                                            (1, 1000), aggregating=True)
    assert (nr, last, bp, age) == (0, 150, 1500000, 20)


# 12
def test_set_attrs_validation():
    ctx = Context()
    ctx.set_attrs(5000, 100000, 60000000, 10, 1000)
    with pytest.raises(ValueError, match="at least 3"):
        ctx.set_attrs(5000, 100000, 60000000, 1, 1000)
    with pytest.raises(ValueError, match="larger than max"):
        ctx.set_attrs(5000, 100000, 60000000, 10, 9)
    with pytest.raises(ValueError, match="longer than aggregation"):
        ctx.set_attrs(5000, 4999, 60000000, 10, 1000)
    # intervals goal: sampling interval outside [min, max]
    with pytest.raises(ValueError, match="goal"):
        ctx.set_attrs(5000, 100000, 60000000, 10, 1000, intervals_goal=(400, 3, 6000, 10000))
    ctx.set_attrs(5000, 100000, 60000000, 10, 1000, intervals_goal=(400, 3, 5000, 10000))


# 13 (6.16: no split once regions are more than half of the maximum)
def test_split_regions_above_half_does_nothing():
    ctx = Context(max_nr_regions=1500, min_region_sz=1)
    t = ctx.add_target(Target())
    for i in range(760):
        t.append_region(i * 100, (i + 1) * 100, nr_accesses=100 if i % 2 else 0, age=5)
    core.kunit_split_regions(ctx)
    assert len(t) == 760


def test_split_regions_below_half_splits_within_max():
    ctx = Context(max_nr_regions=1500, min_region_sz=1)
    t = ctx.add_target(Target())
    for i in range(700):
        t.append_region(i * 100, (i + 1) * 100)
    core.kunit_split_regions(ctx)
    assert 700 < len(t) <= 1500


# 14
def test_moving_sum():
    mvsum, nomvsum, window = 50000, 50000, 10
    expected = [55000, 50000, 55000, 50000, 45000, 40000, 45000, 40000, 35000, 30000]
    got = []
    for value in (10000, 0, 10000, 0, 0, 0, 10000, 0, 0, 0):
        mvsum = core.kunit_moving_sum(mvsum, nomvsum, window, value)
        got.append(mvsum)
    assert got == expected


# 15 (newer kernels' on-demand moving sum)
@pytest.mark.parametrize("cur, last, left_bp, expected", [
    (0, 49, 10000, 49), (3, 10, 7000, 10), (3, 10, 5000, 8), (32, 100, 1000, 42),
    (42, 49, 0, 42)])
def test_mvsum(cur, last, left_bp, expected):
    assert core.mvsum(cur, last, left_bp) == expected


@pytest.mark.parametrize("passed, next_aggr, nr, last, expected", [
    (0, 10, 5, 3, 3), (0, 10, 0, 7, 7), (5, 10, 3, 10, 8), (8, 10, 3, 10, 5),
    (10, 10, 42, 49, 42)])
def test_nr_accesses_mvsum(passed, next_aggr, nr, last, expected):
    # sample 1, aggr 10: windows of 10 samples
    assert core.nr_accesses_mvsum(passed, next_aggr, nr, last, 10) == expected


# 16
def test_new_filter():
    f = Filter("anon", matching=True, allow=False)
    assert (f.type_name, f.matching, f.allow) == ("anon", True, False)
    assert f.for_ops


# 17
@pytest.mark.parametrize("region, matched, after", [
    ((3, 5), True, [(3, 5)]),
    ((1, 2), False, [(1, 2)]),
    ((6, 8), False, [(6, 8)]),
    ((1, 4), False, [(1, 2), (2, 4)]),
    ((2, 8), True, [(2, 6), (6, 8)]),
])
def test_addr_filter_match(region, matched, after):
    ctx = Context(min_region_sz=1)
    t = ctx.add_target(target_with([region]))
    f = Filter("addr", matching=True, allow=True, addr_range=(2, 6))
    assert core.kunit_filter_match(ctx, t, 0, f) == matched
    assert ranges(t) == after


# 18
def test_feed_loop_next_input():
    assert core.kunit_feed_loop_next_input(900000, 200) > 900000
    assert core.kunit_feed_loop_next_input(900000, 250000000) < 900000
    assert core.kunit_feed_loop_next_input(900000, 200) > \
        core.kunit_feed_loop_next_input(900000, 2000)
    assert core.kunit_feed_loop_next_input(900000, 200) == 1782000
    assert core.kunit_feed_loop_next_input(900000, 250000000) == 10000
    assert core.kunit_feed_loop_next_input(900000, 2000) == 1620000
    assert core.kunit_feed_loop_next_input(900000, 10000) == 900000


# 19
@pytest.mark.parametrize("filters, core_reject, ops_reject", [
    ([], False, False),
    ([Filter("addr", True, True, addr_range=(1, 2))], True, False),
    ([Filter("addr", True, False, addr_range=(1, 2))], False, False),
    ([Filter("addr", True, False, addr_range=(1, 2)), Filter("anon", True, True)], False, True),
    ([Filter("addr", True, True, addr_range=(1, 2)), Filter("anon", True, True)], False, True),
])
def test_set_filters_default_reject(filters, core_reject, ops_reject):
    s = core.Scheme("stat", filters=filters)
    assert (s.core_filters_default_reject, s.ops_filters_default_reject) == \
        (core_reject, ops_reject)


# 20 (the part about contexts; scheme/target commits are tested with online tuning)
def test_min_region_sz_must_be_power_of_two():
    Context(min_region_sz=4096)
    with pytest.raises(ValueError, match="power of two"):
        Context(min_region_sz=4095)


# 21 (newer kernels' apply_min_nr_regions)
@pytest.mark.parametrize("min_sz, min_nr, max_sz, count", [
    (1, 10, 1, 10), (1, 15, 1, 10), (2, 2, 6, 2), (2, 10, 2, 5)])
def test_apply_min_nr_regions(min_sz, min_nr, max_sz, count):
    t = target_with([(0, 10)])
    assert core.apply_min_nr_regions(t, min_sz, min_nr) == max_sz
    assert len(t) == count
    assert ranges(t)[0][0] == 0 and ranges(t)[-1][1] == 10


# 22
def test_damon_rand_range():
    values = core.kunit_damon_rand(0, 10, 10000, seed=3)
    assert min(values) >= 0 and max(values) <= 9
    assert set(values) == set(range(10))


def test_damon_rand_truncates_to_32_bits():
    # the kernel's quirk: get_random_u32_below(r - l) truncates r - l
    values = core.kunit_damon_rand(0, (1 << 32) + 4096, 2000, seed=1)
    assert max(values) < 4096


def test_is_last_region():
    t = target_with([(0, 10), (10, 20), (20, 30)])
    assert ranges(t)[-1] == (20, 30)
