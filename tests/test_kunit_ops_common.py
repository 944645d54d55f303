"""damon_max_nr_accesses() / damon_nr_samples_per_aggr() and damon_hot_score()
at their extremes, as the hotfix "mm/damon/ops-common: handle extreme
intervals in damon_hot_score()" (mm-hotfixes-stable, July 2026, before the
rename to damon_nr_samples_per_aggr() that core.c at 0250dbe08c73 uses) left
them:

    sample_interval = attrs->sample_interval ? : 1;
    max_nr_accesses = min(attrs->aggr_interval / sample_interval, UINT_MAX);
    return max_nr_accesses ? : 1;

and damon_hot_score() clamps its result into [0, DAMOS_MAX_SCORE].  The
expected values are computed by hand in each test, in the kernel's C types
(unsigned int weights and products, an int hotness that wraps: the kernel
builds with -fno-strict-overflow).
"""
import pytest

from damo_engine import Context, Scheme, Simulation, Target, core, ops
from damo_engine.machines import make_machine

MiB = 1 << 20
UINT_MAX = (1 << 32) - 1


@pytest.mark.parametrize("sample_us, aggr_us, expect", [
    (5000, 100000, 20),            # the usual 20 samples per aggregation
    (5000, 5000, 1),
    (0, 100000, 100000),           # a zero sampling interval counts as 1 us
    (0, 0, 1),                     # a zero aggregation interval: still one sample
    (1, 1 << 40, UINT_MAX),        # more than an unsigned int: capped
])
def test_nr_samples_per_aggr_is_at_least_one(sample_us, aggr_us, expect):
    ctx = Context(sample_us=sample_us, aggr_us=aggr_us)
    assert ctx.max_nr_accesses == expect


def test_hot_score_with_a_zero_aggregation_interval():
    """aggr 0: the maximum is 1, so a region seen accessed once is at 100%
    frequency: freq_subscore = 1 * 100 / 1 = 100; age 0: age_in_log 0 + 32
    -> age_subscore = 32 * 100 / 32 / 2 = 50; weights (freq 1, age 1):
    (100 + 50) / 2 = 75 -> 75 * 99 / 100 = 74.  Idle: freq 0, age_subscore
    50, (0 + 50) / 2 = 25 -> 24."""
    ctx = Context(sample_us=0, aggr_us=0)
    s = Scheme("lru_prio", weights=(0, 1, 1))
    assert ops.kunit_hot_score(ctx, 1, 0, s) == 74
    assert ops.kunit_hot_score(ctx, 0, 0, s) == 24


def test_hot_score_is_clamped_to_the_score_range():
    """Weights are unsigned ints and nothing bounds them in the kernel.
    5 ms / 100 ms: 20 samples.
    - weights (3, 2^32 - 1), 20 of 20 accesses, age 0: freq 100, age 50;
      3 * 100 + (2^32 - 1) * 50 = 300 - 50 = 250 (mod 2^32), over the
      weights' sum 3 + 2^32 - 1 = 2 (mod 2^32): 125 -> 125 * 99 / 100 = 123,
      clamped to 99.
    - weights (2, 2^32 - 1), idle, age 0: freq 0, age 50; 0 - 50 = 2^32 - 50
      over a sum of 1: 2^32 - 50, an int of -50 -> -50 * 99 / 100 = -49
      (C division truncates), clamped to 0."""
    ctx = Context(sample_us=5000, aggr_us=100000)
    assert ops.kunit_hot_score(ctx, 20, 0, Scheme("lru_prio", weights=(0, 3, UINT_MAX))) == 99
    assert ops.kunit_hot_score(ctx, 0, 0, Scheme("lru_prio", weights=(0, 2, UINT_MAX))) == 0
    # and the cold score of pageout is DAMOS_MAX_SCORE minus the clamped one
    assert ops.kunit_hot_score(ctx, 20, 0, Scheme("pageout", weights=(0, 3, UINT_MAX))) == 99


def test_hot_score_unsigned_products_wrap():
    """freq_subscore = r->nr_accesses * 100 / max in unsigned int: with 2^30
    samples per aggregation (1 us / 2^30 us) and 2^30 accesses, 2^30 * 100 =
    2^32 * 25 = 0 (mod 2^32): frequency 0, so the region counts as idle and
    its age makes it colder: age 0 -> age_subscore 50, weights (1, 0):
    0 / 1 = 0.  One access fewer: (2^30 - 1) * 100 mod 2^32 = 2^32 - 100,
    over 2^30: 3 (integer division), -> 3 * 99 / 100 = 2."""
    ctx = Context(sample_us=1, aggr_us=1 << 30)
    assert ctx.max_nr_accesses == 1 << 30
    s = Scheme("lru_prio", weights=(0, 1, 0))
    assert ops.kunit_hot_score(ctx, 1 << 30, 0, s) == 0
    assert ops.kunit_hot_score(ctx, (1 << 30) - 1, 0, s) == 2


def test_a_quota_with_zero_intervals_runs_through_the_kdamond(capfd):
    """The hotfix's reproducer in the simulation: a quota'd lru_prio scheme
    (it scores regions with damon_hot_score()) on a context whose sampling
    and aggregation intervals are 0.  Every sample is a whole aggregation;
    the kdamond keeps scoring and applying without an error."""
    machine = make_machine("dram:64M")
    sim = Simulation(machine, seed=3)
    ctx = Context(ops.make_ops("paddr"), sample_us=0, aggr_us=0, update_us=0)
    ctx.add_target(Target(None, [machine.phys_range]))
    s = Scheme("lru_prio", quota_sz=4 * MiB, quota_reset_interval_ms=1, weights=(0, 1, 1))
    ctx.add_scheme(s)
    sim.add_kdamond([ctx])
    sim.run(5 * 1000 * 1000)                    # 5 ms of simulated time
    assert ctx.nr_aggregations > 100
    assert s.stats()["nr_tried"] > 0
    assert "Exception" not in capfd.readouterr().err
