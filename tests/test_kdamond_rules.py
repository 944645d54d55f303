"""The kdamond's own merge, aging and split steps, on a running kdamond.

The kunit ports call damon_merge_regions_of() and damon_split_regions_of()
directly; these tests go through the kdamond loop instead (mm/damon/core.c
kdamond_fn(): kdamond_merge_regions() with max_nr_accesses / 10 as the
threshold, kdamond_apply_schemes(), kdamond_reset_aggregated(),
kdamond_split_regions()).  The target's
regions lie in memory its process never touches, so a region keeps the access
count the test gives it for the first aggregation and counts nothing after:
every expected region, count and age below is computed by hand from the
kernel's rules.
"""
from damo_engine import Context, MasimWorkload, Scheme, Simulation, Target, make_ops, masim
from damo_engine.machines import make_machine

PAGE = 4096
S = 1000 * PAGE             # a region; its pieces of 10..90% are whole pages
SAMPLE_US, AGGR_US = 5000, 500000
MAX_NR = AGGR_US // SAMPLE_US   # 100 samples per aggregation


def idle_kdamond(spec, nr_aggregations, *, on_split=None, schemes=(), **attrs):
    """Run an fvaddr kdamond whose target has the regions of spec, a list of
    (offset, size, nr_accesses, last_nr_accesses, age), in an area of a
    process that only ever touches another area.  Returns the snapshots as
    lists of (offset, size, nr_accesses, age).  on_split(ranges) gets the
    regions as each kdamond_split_regions() left them (the split after the
    last aggregation is not seen)."""
    idle_size = 64 << 20
    w = MasimWorkload(masim.parse(
        "busy, 8192\nidle, %d\n\nrun\n3600000\nbusy, 0, 4096, 1\n" % idle_size, "idle.cfg"))
    sim = Simulation(make_machine(None, fits=w.config.total_size), seed=5)
    pid = sim.add_workload(w)
    _, base, end = w.region_addresses()[1]
    assert max(o + sz for o, sz, *_ in spec) <= end - base
    ctx = Context(make_ops("fvaddr"), sample_us=SAMPLE_US, aggr_us=AGGR_US,
                  update_us=AGGR_US, **attrs)
    t = ctx.add_target(Target(pid))
    for scheme in schemes:
        ctx.add_scheme(scheme)
    for offset, size, nr, last, age in spec:
        t.append_region(base + offset, base + offset + size, nr_accesses=nr,
                        last_nr_accesses=last, age=age)
    snaps = []

    def sink(snap):
        snaps.append([(int(a) - base, int(b) - a, int(n), int(g)) for a, b, n, g in zip(
            snap.targets[0].starts, snap.targets[0].ends, snap.targets[0].nr_accesses,
            snap.targets[0].ages)])
        if on_split is not None:
            # runs after the next sample, before any merge: the split's result
            ctx.call(lambda c: on_split([(a - base, b - a) for a, b in c.targets[0].ranges()]))
    sim.add_kdamond([ctx])
    sim.on_snapshot = sink
    sim.run(nr_aggregations * AGGR_US * 1000)
    assert len(snaps) == nr_aggregations
    return snaps


def spaced(entries):
    """Regions of size S, one page apart (never adjacent, so never merged):
    entries are (nr_accesses, last_nr_accesses, age)."""
    return [(i * (S + PAGE), S, nr, last, age) for i, (nr, last, age) in enumerate(entries)]


def test_ages_follow_the_kernel_rules():
    # threshold: the highest count (100) / 10 = 10
    entries = [(100, 100, 5),   # unchanged: one aggregation older
               (90, 100, 5),    # changed by exactly the threshold: still older
               (89, 100, 5),    # by more than the threshold: young again
               (50, 80, 5),     # by far more: young again
               (0, 5, 5),       # within the threshold, but turned idle: young
               (5, 0, 5),       # within the threshold, but turned accessed: young
               (3, 8, 5)]       # within, accessed both times: older
    snaps = idle_kdamond(spaced(entries), 5, min_nr_regions=len(entries))
    offsets = [(o, S) for o, *_ in spaced(entries)]
    for snap in snaps:          # split pieces merged back into the same regions
        assert [(o, sz) for o, sz, _, _ in snap] == offsets
    assert [nr for *_, nr, _ in snaps[0]] == [nr for nr, _, _ in entries]
    assert [age for *_, age in snaps[0]] == [6, 6, 0, 0, 0, 0, 6]
    # then nothing is accessed: the threshold is 0, so every region that had
    # accesses changes (young) and the one idle before (0, 5 -> 0, 0) ages
    assert [nr for *_, nr, _ in snaps[1]] == [0] * 7
    assert [age for *_, age in snaps[1]] == [0, 0, 0, 0, 1, 0, 0]
    for i, snap in enumerate(snaps[2:], start=2):   # unchanged: one older each time
        assert [age for *_, age in snap] == [i - 1, i - 1, i - 1, i - 1, i, i - 1, i - 1]


def test_split_into_three_after_an_unchanged_count():
    counts = []
    idle_kdamond(spaced([(0, 0, 0)] * 5), 5, min_nr_regions=5,
                 on_split=lambda ranges: counts.append(len(ranges)))
    # The first split halves each region (the count was 0 before); the merge
    # puts the pieces back together (same count 0, within the size limit S),
    # and from then on the count (5) is unchanged and below 1000 / 3: three
    # pieces each.  Pieces of 10..90% of S are whole pages, so every split
    # takes place.
    assert counts == [10, 15, 15, 15]


def test_split_into_two_when_three_would_pass_a_third_of_the_maximum():
    counts = []
    # 5 regions <= 14 / 2 are split, but 5 is not below 14 / 3: two pieces
    idle_kdamond(spaced([(0, 0, 0)] * 5), 4, min_nr_regions=5, max_nr_regions=14,
                 on_split=lambda ranges: counts.append(len(ranges)))
    assert counts == [10, 10, 10]


def test_merge_threshold_is_a_tenth_of_the_highest_count():
    spec = [(0, S, 100, 100, 0), (S, S, 90, 90, 0),                # 10 apart: merged
            (3 * S, S, 100, 100, 0), (4 * S, S, 89, 89, 0),        # 11 apart: kept
            (6 * S, 2 * S, 0, 0, 0)]
    # min_nr_regions 3: the size limit is 6 S / 3 = 2 S, room for one pair
    snap = idle_kdamond(spec, 1, min_nr_regions=3)[0]
    assert snap == [(0, 2 * S, 95, 1), (3 * S, S, 100, 1), (4 * S, S, 89, 1),
                    (6 * S, 2 * S, 0, 1)]


def test_merge_doubles_the_threshold_while_above_max_nr_regions():
    spec = [(0, S, 100, 100, 0), (S, S, 80, 80, 0), (2 * S, S, 60, 60, 0),
            (3 * S, S, 40, 40, 0), (5 * S, 2 * S, 0, 0, 0)]
    # 5 regions > 3: no pair is within 10, so the kdamond merges again with
    # 20: (100, 80) -> 90 and (60, 40) -> 50, and 3 regions are left.  Only
    # the first pass ages the (unchanged) regions: one aggregation, age 1.
    snap = idle_kdamond(spec, 1, min_nr_regions=3, max_nr_regions=3)[0]
    assert snap == [(0, 2 * S, 90, 1), (2 * S, 2 * S, 50, 1), (5 * S, 2 * S, 0, 1)]


def test_damos_age_bounds_are_inclusive():
    # three unchanged regions of age 5 are 6 when the schemes are applied,
    # right after the first aggregation's merge
    schemes = {(0, 6): 3, (6, 6): 3, (6, 100): 3, (0, 5): 0, (7, 100): 0}
    made = {ages: Scheme("stat", age=ages) for ages in schemes}
    snap = idle_kdamond(spaced([(0, 0, 5)] * 3), 1, min_nr_regions=3,
                        schemes=made.values())[0]
    assert [age for *_, age in snap] == [6, 6, 6]
    for ages, nr_tried in schemes.items():
        stats = made[ages].stats()
        assert (stats["nr_tried"], stats["sz_tried"]) == (nr_tried, nr_tried * S), ages
