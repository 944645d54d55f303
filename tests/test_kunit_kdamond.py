"""core-kunit.h's damon_test_merge_regions_of() vector (newest mainline: nine
regions, threshold 9, size limit 9999, ages counted) run through the kdamond
itself rather than by calling damon_merge_regions_of(): kdamond_fn() takes
the threshold from the highest access count (max_nr_accesses / 10) and the
size limit from damon_apply_min_nr_regions() (the regions' total size /
min_nr_regions), so the test sets both up to be the kunit's 9 and 9999.

The kunit addresses are in pages here (the simulated kdamond's regions are
page aligned); the regions lie in memory the process never touches, so their
access counts stay as given for the first aggregation (the harness of
test_kdamond_rules.py, with room for the 117 MiB these regions span).
"""
from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim
from damo_engine.machines import make_machine

PAGE = 4096
SAMPLE_US, AGGR_US = 5000, 500000


def first_snapshot(spec, **attrs):
    """One aggregation of an fvaddr kdamond over regions (offset, size,
    nr_accesses, last_nr_accesses, age) of an area the process never
    touches: [(offset, size, nr_accesses, age)] as the kdamond reports it."""
    idle_size = 256 << 20
    w = MasimWorkload(masim.parse(
        "busy, 8192\nidle, %d\n\nrun\n3600000\nbusy, 0, 4096, 1\n" % idle_size, "idle.cfg"))
    sim = Simulation(make_machine(None, fits=w.config.total_size), seed=5)
    pid = sim.add_workload(w)
    _, base, end = w.region_addresses()[1]
    assert max(o + sz for o, sz, *_ in spec) <= end - base
    ctx = Context(make_ops("fvaddr"), sample_us=SAMPLE_US, aggr_us=AGGR_US,
                  update_us=AGGR_US, **attrs)
    t = ctx.add_target(Target(pid))
    for offset, size, nr, last, age in spec:
        t.append_region(base + offset, base + offset + size, nr_accesses=nr,
                        last_nr_accesses=last, age=age)
    snaps = []
    sim.add_kdamond([ctx])
    sim.on_snapshot = snaps.append
    sim.run(AGGR_US * 1000)
    assert len(snaps) == 1
    ts = snaps[0].targets[0]
    return [(int(a) - base, int(b) - int(a), int(n), int(g))
            for a, b, n, g in zip(ts.starts, ts.ends, ts.nr_accesses, ts.ages)]

# mm/damon/tests/core-kunit.h damon_test_merge_regions_of()
KUNIT_SA = [0, 100, 114, 122, 130, 156, 170, 184, 230]
KUNIT_EA = [100, 112, 122, 130, 156, 170, 184, 230, 10170]
KUNIT_NRS = [0, 0, 10, 10, 20, 30, 1, 2, 5]
KUNIT_MERGED = [(0, 112), (114, 130), (130, 156), (156, 170), (170, 230), (230, 10170)]

# a far region (never adjacent to the kunit ones) whose count, 95, makes the
# kdamond's threshold 95 / 10 = 9; its size makes the total 10170 + 19827 =
# 29997 pages, so that with min_nr_regions 3 the size limit is 9999 pages
FAR_START, FAR_PAGES, FAR_NR = 20000, 19827, 95


def test_merge_regions_of_vector_through_the_kdamond():
    spec = [(s * PAGE, (e - s) * PAGE, nr, nr, 0)
            for s, e, nr in zip(KUNIT_SA, KUNIT_EA, KUNIT_NRS)]
    spec.append((FAR_START * PAGE, FAR_PAGES * PAGE, FAR_NR, FAR_NR, 0))
    snap = first_snapshot(spec, min_nr_regions=3)
    # damon_apply_min_nr_regions() before the loop split the far region at
    # the limit (9999 + 9828 pages); they do not merge back (over the limit)
    regions = [(o // PAGE, (o + sz) // PAGE) for o, sz, _, _ in snap]
    assert regions == KUNIT_MERGED + [(FAR_START, FAR_START + 9999),
                                      (FAR_START + 9999, FAR_START + FAR_PAGES)]
    # merged counts, size-weighted by hand: (0*100 + 0*12) / 112 = 0,
    # (10*8 + 10*8) / 16 = 10, 20, 30, (1*14 + 2*46) / 60 = 1, 5; the far
    # pieces keep 95.  Every count is unchanged from the last window, so
    # every region aged once: 1.
    assert [nr for *_, nr, _ in snap] == [0, 10, 20, 30, 1, 5, 95, 95]
    assert [age for *_, age in snap] == [1] * 8


def test_merge_regions_of_vector_with_a_higher_threshold_merges_more():
    """The same regions with a far count of 110: threshold 11.  Walking
    left to right: 0-100 and 100-112 merge (0, 0); 112-114 is a hole;
    114-122 and 122-130 merge (10, 10), then 130-156 joins them (20 is 10
    away): (10*16 + 20*26) / 42 = 680 / 42 = 16; 156-170 (30) is 14 away
    from 16: apart; 170-184 (1) is apart from 30, 184-230 (2) joins it:
    (1*14 + 2*46) / 60 = 1; 230-10170 (5) is 4 away but the pair would be
    10000 pages, over the limit of 9999."""
    spec = [(s * PAGE, (e - s) * PAGE, nr, nr, 0)
            for s, e, nr in zip(KUNIT_SA, KUNIT_EA, KUNIT_NRS)]
    spec.append((FAR_START * PAGE, FAR_PAGES * PAGE, 110, 110, 0))
    snap = first_snapshot(spec, min_nr_regions=3)
    regions = [(o // PAGE, (o + sz) // PAGE) for o, sz, _, _ in snap]
    assert regions[:5] == [(0, 112), (114, 156), (156, 170), (170, 230), (230, 10170)]
    assert [nr for *_, nr, _ in snap][:5] == [0, 16, 30, 1, 5]
    assert [age for *_, age in snap] == [1] * len(snap)
