"""DAMON monitoring on simulated workloads: what the engine shows for masim's
own configs, its determinism, its limits on region counts, the three
operation sets, several kdamonds at once, interval auto-tuning and the
ground truth beside DAMON's estimate."""
import os

import numpy as np
import pytest

from damo_engine import Context, MasimWorkload, Simulation, Target, make_ops, masim
from damo_engine.machines import make_machine

from damo.workloads.masim import CONFIGS_DIR as MASIM_DIR  # masim's configs, shipped in the package


def masim_config(name):
    return masim.load(os.path.join(MASIM_DIR, name))


def run(workloads, contexts_of, *, seed=1, duration_ns=None, memory=None,
        ground_truth=False):
    """Run workloads under kdamonds; contexts_of(pids, machine) gives the
    kdamonds' contexts (a list of lists).  Returns (sim, snapshots)."""
    fits = sum(w.config.total_size for w in workloads)
    sim = Simulation(make_machine(memory, fits=fits), seed=seed)
    pids = [sim.add_workload(w, track_ground_truth=ground_truth) for w in workloads]
    for contexts in contexts_of(pids, sim.machine):
        sim.add_kdamond(contexts)
    snaps = []
    sim.on_snapshot = snaps.append
    sim.run(duration_ns)
    return sim, snaps


def vaddr_ctx(pid, **attrs):
    ctx = Context(make_ops("vaddr"), **attrs)
    ctx.add_target(Target(pid))
    return ctx


def overlap(a0, a1, b0, b1):
    return max(0, min(int(a1), int(b1)) - max(int(a0), int(b0)))


@pytest.fixture(scope="module")
def stairs_run():
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))
    sim, snaps = run([w], lambda pids, m: [[vaddr_ctx(pids[0], update_us=1000000)]])
    return w, sim, snaps


def test_stairs_hot_region_moves_one_step_per_phase(stairs_run):
    w, sim, snaps = stairs_run
    regions = w.region_addresses()                  # s0..s9
    warmup_ns, phase_ns = 5e9, 2.5e9
    for phase in range(10):
        name, r0, r1 = regions[phase]
        mid = [s for s in snaps
               if warmup_ns + (phase + 0.2) * phase_ns < s.end_ns
               < warmup_ns + (phase + 0.8) * phase_ns]
        assert len(mid) >= 10
        for s in mid:
            t = s.targets[0]
            # the DAMON region covering most of the active masim region
            best = max(range(len(t.starts)),
                       key=lambda i: overlap(t.starts[i], t.ends[i], r0, r1))
            assert overlap(t.starts[best], t.ends[best], r0, r1) > 0.8 * (r1 - r0)
            assert t.nr_accesses[best] >= 18, (name, s.end_ns)    # max is 20
            # every other masim region is idle
            for other, o0, o1 in regions:
                if other == name:
                    continue
                for a, b, nr in zip(t.starts, t.ends, t.nr_accesses):
                    if a >= o0 and b <= o1:
                        assert nr <= 2, (other, hex(a), hex(b), nr)


def test_stairs_region_counts_within_limits(stairs_run):
    _, _, snaps = stairs_run
    counts = [len(s.targets[0].starts) for s in snaps]
    assert len(snaps) == 300                          # 30 s / 100 ms
    assert min(counts) >= 10 and max(counts) <= 1000


def test_stairs_region_boundaries_follow_the_mappings(stairs_run):
    """A mid-phase hot region is the masim region to within guard pages."""
    w, _, snaps = stairs_run
    name, r0, r1 = w.region_addresses()[4]
    s = min(snaps, key=lambda s: abs(s.end_ns - (5e9 + 4.5 * 2.5e9)))
    t = s.targets[0]
    hot = [(a, b) for a, b, nr in zip(t.starts, t.ends, t.nr_accesses) if nr >= 18
           and overlap(a, b, r0, r1)]
    lo, hi = min(int(a) for a, _ in hot), max(int(b) for _, b in hot)
    assert abs(lo - r0) <= 64 * 4096 and abs(hi - r1) <= 64 * 4096


def snapshot_arrays(snaps):
    return [(s.kdamond_idx, s.context_idx, s.start_ns, s.end_ns,
             [(t.starts.tolist(), t.ends.tolist(), t.nr_accesses.tolist(), t.ages.tolist())
              for t in s.targets]) for s in snaps]


def test_same_seed_same_result_different_seed_different_result():
    def once(seed):
        w = MasimWorkload(masim_config("stairs_30secs.cfg"))
        return snapshot_arrays(run([w], lambda p, m: [[vaddr_ctx(p[0])]], seed=seed,
                                   duration_ns=6e9)[1])
    a, b, c = once(7), once(7), once(8)
    assert a == b
    assert a != c


@pytest.mark.parametrize("min_nr, max_nr", [(20, 100), (3, 10)])
def test_region_counts_stay_in_user_range(min_nr, max_nr):
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))
    _, snaps = run([w], lambda p, m: [[vaddr_ctx(p[0], min_nr_regions=min_nr,
                                                 max_nr_regions=max_nr)]], duration_ns=10e9)
    counts = [len(s.targets[0].starts) for s in snaps]
    assert len(counts) >= 99
    assert min(counts) >= min_nr and max(counts) <= max_nr


def test_online_attrs_commit_shrinks_regions():
    """Like the selftest: committing max 7 regions online bounds the count."""
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))
    fits = w.config.total_size
    sim = Simulation(make_machine(None, fits=fits), seed=3)
    pid = sim.add_workload(w)
    ctx = vaddr_ctx(pid, min_nr_regions=20, max_nr_regions=100, update_us=100000)
    sim.add_kdamond([ctx])
    snaps = []
    sim.on_snapshot = snaps.append
    sim.run(5e9)
    assert len(snaps[-1].targets[0].starts) >= 20
    ctx.call(lambda c: c.set_attrs(5000, 100000, 100000, 3, 7))
    sim.run(0.3e9)
    assert len(snaps[-1].targets[0].starts) <= 7


def test_ground_truth_beside_damon_estimate():
    # 200k accesses per ms define the phases' work (masim's measured rate)
    w = MasimWorkload(masim_config("stairs_30secs.cfg"), access_rate=200000)
    _, snaps = run([w], lambda p, m: [[vaddr_ctx(p[0])]], duration_ns=9e9,
                   ground_truth=True)
    s = min(snaps, key=lambda s: abs(s.end_ns - 8.5e9))    # phase 1: s1 is hot

    def counts_of(addr):
        return next(c for start, c in s.targets[0].ground_truth
                    if start <= addr < start + 4096 * len(c))
    _, r0, r1 = w.region_addresses()[1]
    hot = counts_of(r0)
    # every page of it was touched, and as often as the others: s1 is swept
    # sequentially, page by page, so a page is at most one sweep behind
    assert hot.min() > 0 and hot.max() - hot.min() <= 1
    # one 100 ms aggregation at 200k accesses/ms, nearly all of them on s1
    assert 0.9 * 20e6 < hot.sum() < 1.1 * 20e6
    for _, o0, _ in w.region_addresses()[2:]:
        assert counts_of(o0).sum() == 0
    # DAMON's estimate agrees: the region over s1 was seen accessed every sample
    t = s.targets[0]
    best = max(range(len(t.starts)), key=lambda i: overlap(t.starts[i], t.ends[i], r0, r1))
    assert t.nr_accesses[best] >= 18


def test_ground_truth_is_off_by_default(stairs_run):
    _, _, snaps = stairs_run
    assert snaps[0].targets[0].ground_truth is None


def test_paddr_finds_the_hot_physical_memory():
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))

    def contexts(pids, machine):
        ctx = Context(make_ops("paddr"))
        ctx.add_target(Target(None, [machine.phys_range]))
        return [[ctx]]
    sim, snaps = run([w], contexts, duration_ns=11e9, memory="dram:1G")
    name, r0, r1 = w.region_addresses()[2]          # hot from 10 s
    s = snaps[-1]
    t = s.targets[0]
    hot = [(a, b) for a, b, nr in zip(t.starts, t.ends, t.nr_accesses) if nr >= 15]
    assert hot
    owned = 0
    for a, b in hot:
        for paddr in range(int(a), int(b), 4096 * 16):
            owner = sim.machine.page_owner(paddr)
            if owner is not None and r0 <= owner[1] < r1:
                owned += 1
    total = sum((b - a) // (4096 * 16) for a, b in hot)
    assert owned >= 0.7 * total


def test_fvaddr_monitors_only_the_given_ranges():
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))
    regions = {}

    def contexts(pids, machine):
        ctx = Context(make_ops("fvaddr"))
        ctx.add_target(Target(pids[0], [(0x7ffff7d80000 - 0x10000000, 0x7ffff7d80000)]))
        regions["r"] = (0x7ffff7d80000 - 0x10000000, 0x7ffff7d80000)
        return [[ctx]]
    _, snaps = run([w], contexts, duration_ns=3e9)
    lo, hi = regions["r"]
    for s in snaps:
        t = s.targets[0]
        assert t.starts.min() >= lo and t.ends.max() <= hi


def test_several_kdamonds_contexts_and_targets():
    a = MasimWorkload(masim_config("stairs_30secs.cfg"))
    b = MasimWorkload(masim_config("zigzag_30secs.cfg"))

    def contexts(pids, machine):
        two_targets = Context(make_ops("vaddr"))
        two_targets.add_target(Target(pids[0]))
        two_targets.add_target(Target(pids[1]))
        slow = Context(make_ops("vaddr"), sample_us=10000, aggr_us=200000)
        slow.add_target(Target(pids[1]))
        phys = Context(make_ops("paddr"))
        phys.add_target(Target(None, [machine.phys_range]))
        return [[two_targets, slow], [phys]]
    _, snaps = run([a, b], contexts, duration_ns=4e9)
    by_ctx = {}
    for s in snaps:
        by_ctx.setdefault((s.kdamond_idx, s.context_idx), []).append(s)
    assert sorted(by_ctx) == [(0, 0), (0, 1), (1, 0)]
    assert len(by_ctx[(0, 0)]) == 40 and len(by_ctx[(1, 0)]) == 40
    assert len(by_ctx[(0, 1)]) == 20                 # 200 ms aggregations
    assert all(len(s.targets) == 2 for s in by_ctx[(0, 0)])
    # the two targets are two address spaces: zigzag's 100 MB areas are busy
    late = by_ctx[(0, 0)][-1]
    assert max(late.targets[1].nr_accesses) >= 15


def test_intervals_autotuning_grows_intervals_on_a_quiet_workload():
    quiet = masim.parse("hot, 1000000\ncold, 400000000\n\n"
                        "touch\n500\ncold, 0, 4096, 1\nhot, 0, 4096, 1\n\n"
                        "quiet\n20000\nhot, 0, 4096, 1\n", "quiet.cfg")
    w = MasimWorkload(quiet)
    ctxs = {}

    def contexts(pids, machine):
        ctxs["c"] = vaddr_ctx(pids[0], intervals_goal=(400, 3, 5000, 10000000))
        return [[ctxs["c"]]]
    _, snaps = run([w], contexts, duration_ns=20e9)
    samples = [s.sample_us for s in snaps]
    assert samples[0] == 5000
    assert samples[-1] > 5000 * 4                     # grew: few accesses observed
    assert all(b >= a for a, b in zip(samples, samples[1:]))
    for s in snaps:                                   # aggr/sample ratio kept
        assert s.aggr_us == s.sample_us * 20


def test_intervals_autotuning_shrinks_to_minimum_on_a_busy_workload():
    w = MasimWorkload(masim_config("zigzag_30secs.cfg"))
    _, snaps = run([w], lambda p, m: [[vaddr_ctx(p[0], sample_us=20000, aggr_us=400000,
                                                 intervals_goal=(400, 3, 5000, 10000000))]],
                   duration_ns=8e9)
    assert snaps[0].sample_us == 20000
    assert snaps[-1].sample_us == 5000


def test_workload_runtime_is_its_phases_plus_faults():
    w = MasimWorkload(masim_config("stairs_30secs.cfg"))
    sim, _ = run([w], lambda p, m: [[vaddr_ctx(p[0])]])
    # 30 s of phases at the nominal rate, plus ~24k first-touch faults of 1.5 us
    assert 30.0e9 < w.clock_ns < 30.1e9
    assert w.finished and not w.mm.alive


ALL_CONFIGS = [n for n in sorted(os.listdir(MASIM_DIR)) if n != "README.md"]


@pytest.mark.parametrize("name", ALL_CONFIGS)
def test_every_masim_config_parses_and_runs_to_its_end(name):
    cfg = masim_config(name)
    w = MasimWorkload(cfg)
    # mem_perf's random phases over 10 GiB take seconds: stop after its
    # sequential ones (the 10 GiB sweep included)
    duration = 19e9 if name == "mem_perf.cfg" else None
    sim, snaps = run([w], lambda p, m: [[vaddr_ctx(p[0])]], duration_ns=duration)
    if duration is None:
        assert w.finished
        # phases at the nominal rate, plus first-touch faults
        assert cfg.total_ms * 1e6 <= w.clock_ns < cfg.total_ms * 1e6 * 1.5
    else:
        assert w.phase >= 8 and w.config.phases[7].name.strip() == "10 GiB seq perf"
    assert len(snaps) >= int(sim.now_ns // 100e6) - 1
    # every config sweeps some region continuously: seen accessed in every one
    # of an aggregation's 100 ms / 5 ms samples.  64.cfg's only such spot is
    # one heap page (its 64- and 128-byte regions) for one second: whether
    # DAMON's random splits give that page a region of its own in time is
    # chance (17 of 20 at seed 1, with exact accesses too)
    best = max(max(t.nr_accesses) for s in snaps for t in s.targets)
    if name == "64.cfg":
        assert best >= 15
    else:
        assert best == 100 // 5


def test_malformed_configs_name_file_and_line(tmp_path):
    cases = {
        "a, 100\n\nphase\n100\nb, 0, 4096, 1\n": ":5: unknown region 'b'",
        "a, lots\n\nphase\n100\na, 0, 4096, 1\n": ":1: region size must be an integer",
        "a, 100\n\nphase\nsoon\na, 0, 4096, 1\n": ":4: phase duration (ms) must be an integer",
        "a, 100\n\nphase\n100\na, 2, 4096, 1\n": ":5: randomness must be 0",
        "a, 100\n\nphase\n100\na, 0, 4096, 1, rx\n": ":5: access mode must be ro, wo or rw",
        "a, 100\n\nphase\n100\na, 0\n": ":5: an access pattern is",
        "a, 100\n": ": no phases",
        "": ": no regions",
    }
    for i, (text, message) in enumerate(cases.items()):
        p = tmp_path / ("bad%d.cfg" % i)
        p.write_text(text)
        with pytest.raises(masim.ConfigError) as e:
            masim.load(str(p))
        assert str(e.value).startswith(str(p)) and message in str(e.value), str(e.value)


def test_builtin_workloads_run():
    for name in masim.BUILTINS:
        w = MasimWorkload(name)
        _, snaps = run([w], lambda p, m: [[vaddr_ctx(p[0])]], duration_ns=2e9)
        assert len(snaps) == 20
        assert max(max(t.nr_accesses) for s in snaps for t in s.targets) == 100 // 5, name


def test_heap_regions_follow_the_heap_when_it_grows():
    """Regions under malloc's mmap threshold share the heap, and one that
    outgrows it maps the heap anew: the regions allocated before it must be
    in the new heap's page tables, not the freed ones of the heap it
    replaced (the slow fuzz run's masim config that crashed the engine)."""
    cfg = masim.parse("a, 100000\nc, 64k\n\nphase\n20\na, 1, 64, 1\nc, 0, 4096, 1\n")
    w = MasimWorkload(cfg)
    sim, snaps = run([w], lambda pids, m: [[vaddr_ctx(pids[0], sample_us=100, aggr_us=1000,
                                                      update_us=2000)]],
                     duration_ns=10_000_000, memory="dram:32M,swap:zswap")
    heap = [v for v in w.mm.vmas if v.name == "[heap]"]
    assert len(heap) == 1 and heap[0].alive
    regions = w.region_addresses()
    assert [r[0] for r in regions] == ["a", "c"]
    for name, start, end in regions:
        assert heap[0].start <= start and end <= heap[0].end, name
        assert w.mm.vma_at(start) is not None and w.mm.vma_at(start).start == heap[0].start
    # both were accessed, and DAMON saw it in the heap
    seen = 0
    for s in snaps:
        t = s.targets[0]
        inside = (t.starts >= heap[0].start) & (t.ends <= heap[0].end)
        seen += int(t.nr_accesses[inside].sum())
    assert seen > 0
    assert heap[0].present_bytes >= 100000 + 65536
