"""DAMON probes (data attributes monitoring, Linux 7.2; probe weights 7.3) as
torvalds/linux 0250dbe08c73 runs them: struct damon_probe and damon_filter,
the per-region probe_hits/last_probe_hits counters (unsigned char), their
split, merge, reset and rescaling, damon_probe_hits_mvsum(),
damon_probe_hits_wsum(), damon_valid_probe_params(), damon_commit_probes(),
the weighted merge, and kdamond_fn()'s attributes-only mode, with paddr's
apply_probes().

core-kunit.h at that commit has no probe case, so the expected values here
are computed by hand from core.c's code (each test says how); the paddr side
(damon_pa_apply_probes() with set_samples and return_max_wsum) follows the
patches "mm/damon/paddr: support data attributes monitoring", "set samples
in apply_probes() if requested" and "respect return_max_wsum" (see
tests/KUNIT_CASES.md).
"""
import pytest

from damo_engine import Simulation, commit, core, ops
from damo_engine.core import Context, DamonFilter, KernelState, Probe, Target
from damo_engine.machines import make_machine

MiB = 1 << 20
PAGE = 4096
BASE = 1 << 32


def target_with(regions):
    t = Target()
    for r in regions:
        t.append_region(*r)
    return t


# ---- the region counters ----------------------------------------------------------

def test_new_region_has_no_hits():
    """damon_new_region(): every slot of probe_hits and last_probe_hits is 0."""
    t = target_with([(0, 4096)])
    assert t.probe_hits() == [(0, 0, 0, 0)] and t.probe_hits(last=True) == [(0, 0, 0, 0)]


def test_split_copies_both_hit_arrays():
    """damon_split_region_at(): the new region gets memcpy()s of both arrays."""
    t = Target()
    t.append_region(0, 100, probe_hits=(1, 2, 3, 4), last_probe_hits=(5, 6, 7, 8))
    t.split_at(0, 25)
    assert t.ranges() == [(0, 25), (25, 100)]
    assert t.probe_hits() == [(1, 2, 3, 4)] * 2
    assert t.probe_hits(last=True) == [(5, 6, 7, 8)] * 2


def test_merge_two_averages_this_windows_hits_by_size():
    """damon_merge_two_regions(): probe_hits[i] = (l * sz_l + r * sz_r) /
    (sz_l + sz_r) for every slot; last_probe_hits stay the left region's.
    (10*100 + 20*200) / 300 = 16, (4*100 + 1*200) / 300 = 2."""
    t = Target()
    t.append_region(0, 100, probe_hits=(10, 4, 0, 255), last_probe_hits=(1, 1, 1, 1))
    t.append_region(100, 300, probe_hits=(20, 1, 0, 255), last_probe_hits=(9, 9, 9, 9))
    t.merge_pair(0)
    assert t.ranges() == [(0, 300)]
    assert t.probe_hits() == [(16, 2, 0, 255)]
    assert t.probe_hits(last=True) == [(1, 1, 1, 1)]


def test_reset_aggregated_moves_every_slot():
    """kdamond_reset_aggregated(): for i < DAMON_MAX_PROBES, last = hits,
    hits = 0, whether a probe is installed in that slot or not."""
    ctx = Context()
    t = ctx.add_target(Target())
    t.append_region(0, 10, probe_hits=(3, 4, 5, 6), last_probe_hits=(9, 9, 9, 9))
    core.kunit_reset_aggregated(ctx)
    assert t.probe_hits() == [(0, 0, 0, 0)] and t.probe_hits(last=True) == [(3, 4, 5, 6)]


def test_update_monitoring_result_rescales_the_installed_probes_hits():
    """damon_update_probe_hits(), for the context's probes only (2 here):
    old (10, 1000) is 100 samples per aggregation, new (1, 1000) 1000.
    15 hits -> mult_frac(15, 10000, 100) = 1500 bp -> 1500 * 1000 / 10000 =
    150; 200 last hits -> 20000 bp -> 2000, stored in an unsigned char:
    2000 % 256 = 208.  Slots 2 and 3 are not probes: untouched."""
    t = Target()
    t.append_region(3, 7, probe_hits=(15, 15, 15, 15), last_probe_hits=(200, 10, 200, 10))
    core.kunit_update_monitoring_result(t, 0, (10, 1000), (1, 1000), nr_probes=2)
    assert t.probe_hits() == [(150, 150, 15, 15)]
    assert t.probe_hits(last=True) == [(208, 100, 200, 10)]
    # in the middle of an aggregation, this window's hits restart at 0
    core.kunit_update_monitoring_result(t, 0, (1, 1000), (1, 100), aggregating=True,
                                        nr_probes=2)
    assert t.probe_hits() == [(0, 0, 15, 15)]
    # 208 of 1000 samples = 2080 bp -> of 100 samples: 20; 100 -> 10
    assert t.probe_hits(last=True) == [(20, 10, 200, 10)]


@pytest.mark.parametrize("passed, next_aggr, hits, last, expect", [
    (0, 10, 5, 3, 3),           # a whole window left: the last window's
    (5, 10, 3, 10, 8),          # half: 3 + 10 * 0.5
    (8, 10, 3, 10, 5),          # 20%: 3 + 10 * 0.2
    (10, 10, 42, 49, 42),       # none left
    (5, 10, 250, 250, 119),     # 250 + 125 = 375, returned as unsigned char: 119
])
def test_probe_hits_mvsum(passed, next_aggr, hits, last, expect):
    """damon_probe_hits_mvsum(): damon_nr_accesses_mvsum()'s rule on one
    probe's hits (sample 1, aggr 10: a 10-sample window), as unsigned char."""
    ctx = Context(sample_us=1, aggr_us=10, min_nr_regions=3)
    t = ctx.add_target(Target())
    t.append_region(0, 4096, probe_hits=(0, hits), last_probe_hits=(0, last))
    core.kunit_set_sis(ctx, passed, next_aggr)
    assert core.kunit_probe_hits_mvsum(ctx, t, 0, 1) == expect


def test_probe_hits_wsum_and_has_probe_weights():
    """damon_probe_hits_wsum(): sum of hits[i] * probe i's weight in unsigned
    int, over the installed probes only; damon_has_probe_weights(): any
    weight non-zero."""
    ctx = Context()
    t = ctx.add_target(Target())
    t.append_region(0, 10, probe_hits=(10, 20, 99, 99), last_probe_hits=(1, 2, 99, 99))
    ctx.probes = [Probe(weight=0), Probe(weight=0)]
    assert not core.kunit_has_probe_weights(ctx)
    assert core.kunit_probe_hits_wsum(ctx, t, 0) == 0
    ctx.probes = [Probe(weight=3), Probe(weight=5)]
    assert core.kunit_has_probe_weights(ctx)
    assert core.kunit_probe_hits_wsum(ctx, t, 0) == 10 * 3 + 20 * 5
    assert core.kunit_probe_hits_wsum(ctx, t, 0, last=True) == 1 * 3 + 2 * 5
    # unsigned int arithmetic wraps (damon_valid_probe_params() keeps real
    # configurations away from it): 10 * 2^31 + 20 * 2^31 = 15 * 2^32 -> 0
    ctx.probes = [Probe(weight=1 << 31), Probe(weight=1 << 31)]
    assert core.kunit_probe_hits_wsum(ctx, t, 0) == 0


# ---- parameters -------------------------------------------------------------------

def ctx_probes(weights, sample_us=5000, aggr_us=100000):
    return Context(sample_us=sample_us, aggr_us=aggr_us,
                   probes=[Probe(weight=w) for w in weights])


def test_valid_probe_params():
    """damon_valid_probe_params(): only with weights; aggr / sample must fit
    an unsigned char; each weight at most UINT_MAX / samples, and their
    weighted sums of the maximum hits must fit an unsigned int.  5 ms / 100
    ms is 20 samples: UINT_MAX / 20 = 214748364."""
    err = core.probe_params_error
    assert err(ctx_probes([0, 0], aggr_us=2000000)) is None      # no weights: no limit
    assert "255" in err(ctx_probes([1], aggr_us=2000000))         # 400 samples
    assert err(ctx_probes([1], aggr_us=1275000)) is None           # 255 samples
    assert err(ctx_probes([214748364])) is None
    assert "overflow" in err(ctx_probes([214748365]))
    # 107374182 * 20 = 2147483640, twice: 4294967280 <= UINT_MAX
    assert err(ctx_probes([107374182, 107374182])) is None
    # 3 * 1.2e9 = 3.6e9; UINT_MAX - 3.6e9 = 694967295 < 1.2e9: the 4th overflows
    assert "overflow" in err(ctx_probes([60000000] * 4))
    assert err(ctx_probes([60000000] * 3)) is None
    # sysfs nr_probes takes 0..DAMON_MAX_PROBES (4)
    assert "at most 4" in err(ctx_probes([0] * 5))


def test_commit_probes_by_index():
    """damon_commit_probes(): the i-th probe is updated in place (weight and
    filters, damon_commit_filters() likewise by index: type, matching, allow
    and a memcg filter's id), destination extras destroyed, source extras
    added as new probes."""
    kept = Probe([DamonFilter("anon", True, True)], weight=1)
    dst = Context(probes=[kept, Probe(weight=9)])
    src = Context(probes=[Probe([DamonFilter("memcg", False, False, memcg=7),
                                 DamonFilter("anon", True, True)], weight=5)])
    commit.commit_ctx(dst, src)
    assert len(dst.probes) == 1 and dst.probes[0] is kept
    assert [f.dump() for f in kept.filters] == [
        {"type": "memcg", "matching": False, "allow": False, "memcg": 7},
        {"type": "anon", "matching": True, "allow": True}]
    assert kept.weight == 5
    src = Context(probes=[Probe(weight=5), Probe([DamonFilter("anon")], weight=2)])
    commit.commit_ctx(dst, src)
    assert dst.probes[0] is kept and kept.filters == [] and kept.weight == 5
    assert dst.probes[1].dump() == {"weight": 2, "filters": [
        {"type": "anon", "matching": True, "allow": False}]}
    assert dst.probes[1] is not src.probes[1]


def test_commit_refuses_invalid_probe_weights_and_changes_nothing():
    dst = Context(probes=[Probe(weight=1)])
    with pytest.raises(ValueError, match="overflow"):
        commit.commit_ctx(dst, ctx_probes([214748365]))
    assert [p.weight for p in dst.probes] == [1]


def test_commit_rescales_the_hits_of_the_probes_the_destination_had():
    """__damon_commit_ctx() runs damon_set_attrs() before
    damon_commit_probes(): a probe added by the same commit has its slot's
    hits left as they were.  Old 10 us / 1000 us, new 1 us / 1000 us, out of
    an aggregation: 15 -> 150 and 200 -> 2000 % 256 = 208 for slot 0 only."""
    dst = Context(sample_us=10, aggr_us=1000, probes=[Probe()])
    t = dst.add_target(Target())
    t.append_region(0, 4096, probe_hits=(15, 15), last_probe_hits=(200, 200))
    core.kunit_set_sis(dst, 100, 100)          # not in the middle of a window
    src = Context(sample_us=1, aggr_us=1000, probes=[Probe(), Probe()])
    src.add_target(Target(None, [(0, 4096)]))
    commit.commit_ctx(dst, src)
    assert len(dst.probes) == 2
    assert t.probe_hits()[0][:2] == (150, 15)
    assert t.probe_hits(last=True)[0][:2] == (208, 200)


# ---- the weighted merge -------------------------------------------------------------

def test_merge_uses_weighted_hits_when_weights_are_set():
    """kdamond_merge_regions() -> damon_merge_regions_of(): with weights the
    merge score is damon_probe_hits_wsum(); without, nr_accesses.  Two
    adjacent regions with the same nr_accesses but hits 20 and 0 (weight 1):
    a difference of 20 > threshold 2 keeps them apart; without weights they
    merge.  Ages follow the score too: region 0's wsum 20 vs last 20 ages
    (5); region 1's 0 vs last 5 differs by more than 2: young (0).  Without
    weights both compare nr_accesses 7 with last_nr_accesses 0: young."""
    def ctx_with(weights):
        ctx = Context(probes=[Probe([DamonFilter("anon", True, True)], weight=w)
                              for w in weights])
        t = ctx.add_target(Target())
        t.append_region(0, 100, nr_accesses=7, age=4, probe_hits=(20,), last_probe_hits=(20,))
        t.append_region(100, 200, nr_accesses=7, age=4, probe_hits=(0,), last_probe_hits=(5,))
        return ctx, t
    ctx, t = ctx_with([1])
    core.kunit_merge_regions(ctx, 2, 1000)
    assert t.ranges() == [(0, 100), (100, 200)]
    assert [r[4] for r in t.regions()] == [5, 0]
    ctx, t = ctx_with([0])                     # a probe, but no weight: accesses decide
    core.kunit_merge_regions(ctx, 2, 1000)
    assert t.ranges() == [(0, 200)]
    assert t.regions()[0][4] == 0              # 7 vs 0: both young, merged age 0


def test_merge_by_weighted_hits_ages_and_merges_by_the_kernels_rules():
    """Weights (2, 1) on hits (a, b): wsum = 2a + b.  Threshold 3.
      r0: hits (5, 0) last (5, 0): 10 vs 10 -> age + 1
      r1: hits (4, 1) last (0, 0):  9 vs 0 -> zero/non-zero flip: age 0
      r2: hits (0, 0) last (0, 2):  0 vs 2 -> within 3 but flips: age 0
      r3: hits (1, 0) last (1, 0):  2 vs 2 -> age + 1
    Merges: r1 (9) with r0 (10): |9 - 10| <= 3 -> merged, hits averaged
    (100 each: (5+4)/2 = 4, (0+1)/2 = 0) and age (5 + 0) / 2 = 2; r2 (0) vs
    the merged region's wsum 2*4 + 0 = 8: kept; r3 (2) vs r2 (0): merged."""
    ctx = Context(probes=[Probe(weight=2), Probe(weight=1)])
    t = ctx.add_target(Target())
    for i, (hits, last) in enumerate([((5, 0), (5, 0)), ((4, 1), (0, 0)),
                                      ((0, 0), (0, 2)), ((1, 0), (1, 0))]):
        t.append_region(i * 100, (i + 1) * 100, age=4, probe_hits=hits, last_probe_hits=last)
    t.merge(3, 10000, True, weights=[2, 1])
    assert t.ranges() == [(0, 200), (200, 400)]
    assert [r[4] for r in t.regions()] == [2, 2]          # (5 + 0) / 2, (0 + 5) / 2
    assert [h[:2] for h in t.probe_hits()] == [(4, 0), (0, 0)]


# ---- paddr's apply_probes() ----------------------------------------------------------

def paddr_pages():
    """A machine with an anonymous and a file-backed mapping written; the
    physical address of one page of each and of a free frame."""
    machine = make_machine("dram:256M")
    mm = machine.new_address_space()
    mm.map(BASE, 4 * MiB)
    mm.map(BASE + 8 * MiB, 4 * MiB, name="/data", anon=False)
    mm.access(BASE, 4 * MiB, write=True)
    mm.access(BASE + 8 * MiB, 4 * MiB, write=True)
    base = machine.phys_range[0]

    def paddr(addr):
        return base + mm.vma_at(addr).page_state(addr)["pfn"] * PAGE
    free = next(a for a in range(machine.phys_range[1] - PAGE, base, -PAGE)
                if machine.page_owner(a) is None)
    return machine, mm, {"anon": paddr(BASE + 5 * PAGE), "file": paddr(BASE + 8 * MiB),
                         "free": free}


PROBES = [
    [("anon", True, True)],             # allow anon
    [("anon", True, False)],            # reject anon
    [("anon", False, True)],            # allow non anon
    [("memcg", True, True)],            # allow memcg / (every folio here)
    [],                                 # no filter: every sample
    [("anon", True, False), ("memcg", True, True)],     # reject anon, then allow memcg
]
# damon_pa_filter_pass() by hand: the first filter that matches (matched ==
# filter->matching) decides allow; past a non-matching filter the default
# becomes !allow; no folio matches no type.
EXPECT = {"anon": (1, 0, 0, 1, 1, 0), "file": (0, 1, 1, 1, 1, 1), "free": (0, 1, 1, 0, 1, 0)}


@pytest.mark.parametrize("probe_set", [0, 1])
def test_paddr_apply_probes_filter_rules(probe_set):
    machine, mm, where = paddr_pages()
    probes = PROBES[:4] if probe_set == 0 else PROBES[4:]
    expect = {k: v[:4] if probe_set == 0 else v[4:] for k, v in EXPECT.items()}
    ctx = Context(ops.make_ops("paddr"), kstate=KernelState(machine),
                  probes=[Probe([DamonFilter(t, m, a, memcg=0 if t == "memcg" else None)
                                 for t, m, a in p]) for p in probes])
    t = ctx.add_target(Target(None))
    kinds = ["anon", "file", "free"]
    for k in kinds:                             # one-page regions: the sample is that page
        t.append_region(where[k], where[k] + PAGE)
    for rounds in range(1, 4):
        core.kunit_apply_probes(ctx, set_samples=True)
        for i, k in enumerate(kinds):
            assert t.probe_hits()[i][:len(probes)] == tuple(rounds * x for x in expect[k]), k


def test_paddr_apply_probes_returns_the_highest_weighted_sum():
    """return_max_wsum: max over regions of damon_probe_hits_wsum() after
    this sample's hits.  Weights 3 (allow anon) and 5 (allow memcg /): the
    anon page region has 3 + 5 = 8 per sample, the file page 5, free 0."""
    machine, mm, where = paddr_pages()
    ctx = Context(ops.make_ops("paddr"), kstate=KernelState(machine),
                  probes=[Probe([DamonFilter("anon", True, True)], weight=3),
                          Probe([DamonFilter("memcg", True, True, memcg=0)], weight=5)])
    t = ctx.add_target(Target(None))
    for k in ("free", "file", "anon"):
        t.append_region(where[k], where[k] + PAGE)
    assert core.kunit_apply_probes(ctx, True, True) == 8
    assert core.kunit_apply_probes(ctx, True, True) == 16
    assert core.kunit_apply_probes(ctx, True, False) == 0      # not asked: 0
    assert core.kunit_apply_probes(ctx, True, True) == 32
    assert ctx.nr_probe_checks == 4 * 3


def test_vaddr_has_no_apply_probes():
    """7.3's vaddr registers no apply_probes (vaddr probes are mm.git
    work after 7.3): its regions' hits stay 0."""
    assert core.kunit_apply_probes(Context(ops.make_ops("vaddr"))) is None
    assert core.kunit_apply_probes(Context(ops.make_ops("fvaddr"))) is None
    assert core.kunit_apply_probes(Context(ops.make_ops("paddr"))) == 0


# ---- the kdamond loop -----------------------------------------------------------------

def page_kinds(machine, mm, start, end):
    """The kind of every page of physical [start, end): anon, file or free."""
    kinds = set()
    for a in range(start, end, PAGE):
        owner = machine.page_owner(a)
        if owner is None:
            kinds.add("free")
        else:
            kinds.add("anon" if mm.vma_at(owner[1]).anon else "file")
    return kinds


def run_paddr(probes, sample_us, aggr_us, nr_aggregations):
    """A paddr kdamond over a machine whose memory is an anonymous and a
    file-backed mapping (written before the kdamond starts, never touched
    again) and free frames; returns its snapshots."""
    machine = make_machine("dram:64M")
    mm = machine.new_address_space()
    mm.map(BASE, 12 * MiB)
    mm.map(BASE + 16 * MiB, 12 * MiB, name="/data", anon=False)
    mm.access(BASE, 12 * MiB, write=True)
    mm.access(BASE + 16 * MiB, 12 * MiB, write=True)
    sim = Simulation(machine, seed=4)
    ctx = Context(ops.make_ops("paddr"), sample_us=sample_us, aggr_us=aggr_us,
                  update_us=aggr_us, min_nr_regions=100, max_nr_regions=1000, probes=probes)
    ctx.add_target(Target(None, [machine.phys_range]))
    snaps = []
    sim.on_snapshot = snaps.append
    sim.add_kdamond([ctx])
    sim.run(nr_aggregations * aggr_us * 1000)
    assert len(snaps) == nr_aggregations
    return machine, mm, ctx, snaps


def check_pure_regions(machine, mm, snap, samples, expect):
    """Every region whose pages are all of one kind counted expect[kind] of
    each sample (as an unsigned char); returns how many regions of each
    kind were seen (so that the check is not vacuous)."""
    t = snap.targets[0]
    seen = {"anon": 0, "file": 0, "free": 0}
    for start, end, hits in zip(t.starts, t.ends, t.probe_hits):
        kinds = page_kinds(machine, mm, int(start), int(end))
        if len(kinds) == 1:
            kind, = kinds
            seen[kind] += 1
            assert tuple(int(h) for h in hits) == tuple(
                (samples * x) % 256 for x in expect[kind]), (kind, start, end)
    return seen


def test_kdamond_counts_probe_hits_per_sample_and_they_wrap_at_256():
    """Without weights: access checks go on, and paddr applies the probes
    to the access check's sampling address at every sample.  5 ms / 2 s is
    400 samples: a region made only of anonymous pages counts 400 hits of
    'allow anon', which its unsigned char holds as 400 % 256 = 144 (the
    kernel validates the sample count only when weights are set)."""
    probes = [Probe([DamonFilter(*f, memcg=0 if f[0] == "memcg" else None) for f in p])
              for p in PROBES[:4]]
    machine, mm, ctx, snaps = run_paddr(probes, 5000, 2000000, 2)
    assert ctx.nr_access_checks > 0
    for snap in snaps:
        assert snap.targets[0].probe_hits.shape == (len(snap.targets[0].starts), 4)
        seen = check_pure_regions(machine, mm, snap, 400,
                                  {k: v[:4] for k, v in EXPECT.items()})
        assert all(seen.values()), seen


def test_kdamond_with_probe_weights_monitors_attributes_only():
    """kdamond_fn() with a probe weight: no prepare_access_checks() and no
    check_accesses() (the sampled pages' Accessed bits are never cleared,
    nr_accesses stays 0), apply_probes() picks the sampling addresses, and
    the regions are merged by their weighted hits (threshold: the highest
    wsum / 10)."""
    probes = [Probe([DamonFilter("anon", True, True)], weight=1),
              Probe([DamonFilter("anon", True, False)], weight=0)]
    machine, mm, ctx, snaps = run_paddr(probes, 5000, 100000, 20)
    assert ctx.nr_access_checks == 0 and ctx.nr_probe_checks > 0
    # every page written before the start is still young: DAMON made none old
    assert all(mm.vma_at(a).page_state(a)["young"] for a in range(BASE, BASE + 12 * MiB, PAGE))
    expect = {"anon": (1, 0), "file": (0, 1), "free": (0, 1)}
    for snap in snaps:
        assert not snap.targets[0].nr_accesses.any()
        seen = check_pure_regions(machine, mm, snap, 20, expect)
        assert seen["anon"] and seen["file"] + seen["free"], seen
    # kdamond_merge_regions() ran with the highest weighted sum / 10 as the
    # threshold (all-anonymous regions count 20, so 20 / 10 = 2) and the size
    # limit of damon_apply_min_nr_regions() (64 MiB / 100, page aligned):
    # right after it (the snapshot comes before the split), no two adjacent
    # regions are both within the threshold and within the size limit
    start, end = machine.phys_range
    sz_limit = -(-((end - start) // 100) // PAGE) * PAGE
    for snap in snaps:
        t = snap.targets[0]
        wsum = [int(h[0]) for h in t.probe_hits]
        assert max(wsum) == 20
        for i in range(len(wsum) - 1):
            if t.ends[i] != t.starts[i + 1]:
                continue
            size = int(t.ends[i + 1]) - int(t.starts[i])
            assert abs(wsum[i] - wsum[i + 1]) > 2 or size > sz_limit, (i, wsum[i:i + 2])


def test_kdamond_merge_threshold_is_the_highest_weighted_sum_over_10():
    """kdamond_fn(): at the aggregation's last sample apply_probes() returns
    the highest weighted sum of this window's hits (get_max_wsum), and
    kdamond_merge_regions() takes a tenth of it as the threshold.  Weights
    10 (allow anon) and 1 (allow memcg /), 20 samples: an anonymous page
    region sums 20 * 10 + 20 = 220, a file page 20, a free frame 0.  So the
    threshold is 22 and the file page's region merges with the free frame's
    next to it (|20 - 0| <= 22; 8 KiB is within the size limit), its hits
    averaged by size: (0, (20 + 0) / 2 = 10)."""
    machine = make_machine("dram:64M")
    mm = machine.new_address_space()
    mm.map(BASE, 4 * MiB)
    mm.map(BASE + 8 * MiB, 2 * MiB, name="/data", anon=False)
    mm.access(BASE, 4 * MiB, write=True)
    mm.access(BASE + 8 * MiB, 2 * MiB, write=True)
    base = machine.phys_range[0]
    anon = base + mm.vma_at(BASE).page_state(BASE)["pfn"] * PAGE
    last = BASE + 10 * MiB - PAGE
    file_page = base + mm.vma_at(last).page_state(last)["pfn"] * PAGE
    assert page_kinds(machine, mm, anon, anon + 2 * MiB) == {"anon"}
    assert page_kinds(machine, mm, file_page, file_page + PAGE) == {"file"}
    assert page_kinds(machine, mm, file_page + PAGE, file_page + 2 * PAGE) == {"free"}
    sim = Simulation(machine, seed=4)
    ctx = Context(ops.make_ops("paddr"), sample_us=5000, aggr_us=100000, update_us=100000,
                  min_nr_regions=3,
                  probes=[Probe([DamonFilter("anon", True, True)], weight=10),
                          Probe([DamonFilter("memcg", True, True, memcg=0)], weight=1)])
    ctx.add_target(Target(None, [(anon, anon + 2 * MiB), (file_page, file_page + PAGE),
                                 (file_page + PAGE, file_page + 2 * PAGE)]))
    snaps = []
    sim.on_snapshot = snaps.append
    sim.add_kdamond([ctx])
    sim.run(100000 * 1000)
    t = snaps[0].targets[0]
    regions = [(int(a), int(b), tuple(int(x) for x in h))
               for a, b, h in zip(t.starts, t.ends, t.probe_hits)]
    # the anonymous chunk (split for min_nr_regions: (2 MiB + 8 KiB) / 3) is
    # 220 everywhere; then the file page and the free frame, merged
    assert all(h == (20, 20) for a, b, h in regions[:-1])
    assert regions[-1] == (file_page, file_page + 2 * PAGE, (0, 10))


def test_kdamond_without_weights_clears_the_sampled_accessed_bits():
    """The same run without weights: access checks run, and their
    prepare_access_checks() makes the sampled pages old."""
    probes = [Probe([DamonFilter("anon", True, True)], weight=0)]
    machine, mm, ctx, snaps = run_paddr(probes, 5000, 100000, 20)
    assert ctx.nr_access_checks > 0
    assert not all(mm.vma_at(a).page_state(a)["young"]
                   for a in range(BASE, BASE + 12 * MiB, PAGE))


def test_tried_regions_carry_probe_hits_as_moving_sums():
    """DAMOS tried regions (sysfs-schemes' tried_regions/<r>/probes/<p>/hits)
    are damon_probe_hits_mvsum(): at kdamond_apply_schemes() right after an
    aggregation's last sample no window is left, so the value is this
    window's hits: 20 of 20 samples for a region of anonymous pages, 0 for
    one without."""
    from damo_engine.core import Scheme
    machine = make_machine("dram:64M")
    mm = machine.new_address_space()
    mm.map(BASE, 12 * MiB)
    mm.access(BASE, 12 * MiB, write=True)
    sim = Simulation(machine, seed=4)
    ctx = Context(ops.make_ops("paddr"), sample_us=5000, aggr_us=100000, update_us=100000,
                  min_nr_regions=100, probes=[Probe([DamonFilter("anon", True, True)])])
    ctx.add_target(Target(None, [machine.phys_range]))
    s = ctx.add_scheme(Scheme("stat"))
    tried = []
    s.tried_regions_sink = lambda scheme, regions: tried.append(regions)
    sim.add_kdamond([ctx])
    sim.run(5 * 100000 * 1000)
    assert len(tried) == 5
    seen = set()
    for regions in tried:
        for start, end, nr, age, passed, t, hits in regions:
            kinds = page_kinds(machine, mm, start, end)
            if kinds == {"anon"}:
                assert hits == (20,)
                seen.add("anon")
            elif "anon" not in kinds:
                assert hits == (0,)
                seen.add("other")
    assert seen == {"anon", "other"}
