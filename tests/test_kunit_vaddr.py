"""Every KUNIT_CASE of the kernel's vaddr unit tests (mm/damon/tests/vaddr-kunit.h
of the followed mainline, where vaddr no longer splits its initial regions: the
core does it for min_nr_regions), with the kernel's vectors, on the functions
the vaddr operation set runs (DAMON_MIN_REGION_SZ = 1 in kunit builds)."""
import pytest

from damo_engine import Context, MasimWorkload, Simulation, Target, ops
from damo_engine.machines import make_machine


def target_with(regions):
    t = Target()
    for s, e in regions:
        t.append_region(s, e)
    return t


# damon_test_three_regions_in_vmas
def test_three_regions_in_vmas():
    vmas = [(10, 20), (20, 25), (200, 210), (210, 220), (300, 305), (307, 330)]
    assert ops.kunit_three_regions(vmas) == [(10, 25), (200, 220), (300, 330)]


def test_three_regions_need_two_gaps():
    """__damon_va_three_regions() returns -EINVAL without two gaps."""
    assert ops.kunit_three_regions([(10, 20), (20, 30)]) is None
    assert ops.kunit_three_regions([(10, 20), (30, 40)]) is None


EXISTING = [(10, 20), (20, 30), (50, 55), (55, 57), (57, 59), (70, 80), (80, 90), (90, 100)]


# damon_test_apply_three_regions1 .. 4 (damon_set_regions() with the three regions)
@pytest.mark.parametrize("case, three, expected", [
    (1, [(5, 27), (45, 55), (73, 104)],
     [(5, 20), (20, 27), (45, 55), (73, 80), (80, 90), (90, 104)]),
    (2, [(5, 27), (56, 57), (65, 104)],
     [(5, 20), (20, 27), (56, 57), (65, 80), (80, 90), (90, 104)]),
    (3, [(5, 27), (61, 63), (65, 104)],
     [(5, 20), (20, 27), (61, 63), (65, 80), (80, 90), (90, 104)]),
    (4, [(5, 7), (30, 32), (65, 68)],
     [(5, 7), (30, 32), (65, 68)]),
])
def test_apply_three_regions(case, three, expected):
    t = target_with(EXISTING)
    t.set_ranges(three, min_region=1)
    assert t.ranges() == expected


def test_initial_regions_are_the_three_regions_then_split_for_min_nr_regions():
    """__damon_va_init_regions() sets the three regions as they are; the
    kdamond's damon_apply_min_nr_regions() then splits them into pieces of
    at most total / min_nr_regions (aligned up to the page size)."""
    sim = Simulation(make_machine("dram:1G"), seed=1)
    w = MasimWorkload("stairs")
    pid = sim.add_workload(w)
    ctx = Context(ops.make_ops("vaddr"), min_nr_regions=10)
    t = ctx.add_target(Target(pid))
    three = ctx.ops.three_regions(w.mm)
    sim.add_kdamond([ctx])
    sim.run(1)                  # the kdamond's start only
    total = sum(e - s for s, e in three)
    limit = -(-(total // 10) // 4096) * 4096
    rs = t.ranges()
    assert all(e - s <= limit for s, e in rs)
    assert all(any(s3 <= s and e <= e3 for s3, e3 in three) for s, e in rs)
    assert sum(e - s for s, e in rs) == total
    # each of the three is cut from its start into limit-sized pieces
    for s3, e3 in three:
        inside = [(s, e) for s, e in rs if s3 <= s and e <= e3]
        assert [e - s for s, e in inside[:-1]] == [limit] * (len(inside) - 1)
