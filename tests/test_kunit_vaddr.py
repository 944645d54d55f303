"""The kernel's vaddr unit tests (mm/damon/tests/vaddr-kunit.h), ported:
damon-semantics.md §5.2 (DAMON_MIN_REGION = 1)."""
import pytest

from damo_engine import ops
from damo_engine.core import Target


def target_with(regions):
    t = Target()
    for s, e in regions:
        t.append_region(s, e)
    return t


def test_three_regions_from_vmas():
    vmas = [(10, 20), (20, 25), (200, 210), (210, 220), (300, 305), (307, 330)]
    assert ops.kunit_three_regions(vmas) == [(10, 25), (200, 220), (300, 330)]


def test_three_regions_needs_two_gaps():
    assert ops.kunit_three_regions([(10, 20), (20, 30)]) is None
    assert ops.kunit_three_regions([(10, 20), (30, 40)]) is None


EXISTING = [(10, 20), (20, 30), (50, 55), (55, 57), (57, 59), (70, 80), (80, 90), (90, 100)]


@pytest.mark.parametrize("three, expected", [
    ([(5, 27), (45, 55), (73, 104)],
     [(5, 20), (20, 27), (45, 55), (73, 80), (80, 90), (90, 104)]),
    ([(5, 27), (56, 57), (65, 104)],
     [(5, 20), (20, 27), (56, 57), (65, 80), (80, 90), (90, 104)]),
    ([(5, 27), (61, 63), (65, 104)],
     [(5, 20), (20, 27), (61, 63), (65, 80), (80, 90), (90, 104)]),
    ([(5, 7), (30, 32), (65, 68)],
     [(5, 7), (30, 32), (65, 68)]),
])
def test_apply_three_regions(three, expected):
    t = target_with(EXISTING)
    t.set_ranges(three, min_region=1)
    assert t.ranges() == expected


@pytest.mark.parametrize("start, end, nr_pieces, expected", [
    (0, 100, 10, [(i * 10, (i + 1) * 10) for i in range(10)]),
    (5, 59, 5, [(5, 15), (15, 25), (25, 35), (35, 45), (45, 59)]),
    (4, 6, 1, [(4, 6)]),
    (0, 3, 2, [(0, 1), (1, 3)]),
])
def test_evenly_split(start, end, nr_pieces, expected):
    t = target_with([(start, end)])
    assert ops.kunit_evenly_split(t, 0, nr_pieces) == 0
    assert t.ranges() == expected


@pytest.mark.parametrize("start, end, nr_pieces", [(0, 100, 0), (5, 6, 2)])
def test_evenly_split_invalid(start, end, nr_pieces):
    t = target_with([(start, end)])
    assert ops.kunit_evenly_split(t, 0, nr_pieces) == -22       # -EINVAL
    assert t.ranges() == [(start, end)]


def test_evenly_split_no_region():
    with pytest.raises(IndexError):
        ops.kunit_evenly_split(Target(), 0, 2)
