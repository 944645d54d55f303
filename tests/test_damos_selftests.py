"""The kernel's DAMOS selftests (tools/testing/selftests/damon, damon-semantics.md
§5.3), reproduced on the simulated machine: quotas bound what is tried in
each window, a 10 ms apply interval applies ~10x as often as the 100 ms
default, a user_input quota goal grows the quota below target and shrinks it
above, tried regions follow the real ones and estimate the working set."""
import statistics

import pytest

from damo_engine import Context, MasimWorkload, QuotaGoal, Scheme, Simulation, Target, masim
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops

MiB = 1 << 20
UINT_MAX = 2**32 - 1


def access_memory(nr_regions, sz, ms, repeat, regions=None):
    """masim config of the selftests' access_memory: N regions, each accessed
    alone for MS ms, one after another, REPEAT times."""
    lines = ["r%d, %d" % (i, sz) for i in range(nr_regions)]
    text = "\n".join(lines) + "\n"
    for _ in range(repeat):
        for i in (regions if regions is not None else range(nr_regions)):
            text += "\naccess r%d\n%d\nr%d, 0, 4096, 1\n" % (i, ms, i)
    return text


def access_memory_even(nr_regions, sz, ms):
    """access_memory_even: regions 0, 2, 4, ... written over and over."""
    text = "\n".join("r%d, %d" % (i, sz) for i in range(nr_regions)) + "\n"
    text += "\neven\n%d\n" % ms
    text += "".join("r%d, 0, 4096, 1\n" % i for i in range(0, nr_regions, 2))
    return text


class Run:
    def __init__(self, config, schemes, memory="dram:2G", seed=1):
        self.sim = Simulation(make_machine(memory), seed=seed)
        self.workload = MasimWorkload(masim.parse(config))
        pid = self.sim.add_workload(self.workload)
        self.ctx = Context(make_ops("vaddr"))
        self.ctx.add_target(Target(pid))
        self.tried = []
        for i, s in enumerate(schemes):
            self.ctx.add_scheme(s)
            self.tried.append([])
            s.tried_regions_sink = self._sink(i)
        self.sim.add_kdamond([self.ctx])

    def _sink(self, i):
        def sink(scheme, regions):
            self.tried[i].append((len(regions), sum(r[1] - r[0] for r in regions)))
        return sink

    def run(self, seconds):
        self.sim.run(seconds * 1e9)


def test_quota_bounds_the_tried_bytes_of_every_window():
    """damos_quota.py: 1 MiB per 100 ms: no window tries more, and the quota
    is exceeded in every window that has more to try."""
    s = Scheme("stat", sz_region=(4096, 2**64 - 1), nr_accesses=(5, 20), age=(2, UINT_MAX),
               quota_sz=MiB, quota_reset_interval_ms=100)
    run = Run(access_memory(2, 10 * MiB, 1000, 2), [s])
    run.run(4)
    sizes = [b for _, b in run.tried[0]]
    assert len(sizes) >= 30 and max(sizes) > 0
    assert all(b <= MiB for b in sizes), max(sizes)
    full = sum(1 for b in sizes if b == MiB)
    assert full >= len(sizes) // 2
    assert s.stats()["qt_exceeds"] >= full - 1


def test_apply_interval_10ms_applies_about_10x_more():
    """damos_apply_interval.py: the same scheme every 10 ms tries >= 9x as
    often as every aggregation interval (100 ms)."""
    every_aggr = Scheme("stat")
    every_10ms = Scheme("stat", apply_interval_us=10000)
    run = Run(access_memory(2, 10 * MiB, 1000, 2), [every_aggr, every_10ms])
    run.run(3)
    ratio = every_10ms.stats()["nr_tried"] / every_aggr.stats()["nr_tried"]
    # (more than 10x: between aggregations the regions are the split ones)
    assert ratio >= 9, ratio
    snapshots = every_10ms.stats()["nr_snapshots"] / every_aggr.stats()["nr_snapshots"]
    assert 9 <= snapshots <= 11, snapshots


def test_user_input_goal_grows_the_quota_below_target_and_shrinks_it_above():
    """damos_quota_goal.py: user_input goal, target 10000, reset 100 ms;
    the current value goes 0, 15000, 5000, 18000."""
    goal = QuotaGoal("user_input", 10000, current_value=0)
    s = Scheme("stat", goals=[goal], quota_reset_interval_ms=100)
    run = Run(access_memory(2, 10 * MiB, 1000, 3), [s])
    run.run(0.5)
    esz = [s.quota_state()["esz"]]
    for current in (0, 15000, 5000, 18000):
        goal.current_value = current
        run.run(1)
        esz.append(s.quota_state()["esz"])
    assert esz[1] > esz[0]                      # 0 < target: grows
    assert esz[2] < esz[1] or esz[2] == 1       # above target: shrinks
    assert esz[3] > esz[2]
    assert esz[4] < esz[3] or esz[4] == 1


def test_tried_regions_follow_the_real_ones():
    """damos_tried_regions.py: 14 x 10 MiB, even ones hot: a stat scheme
    over everything tries at least 14 regions (median over snapshots)."""
    s = Scheme("stat")
    run = Run(access_memory_even(14, 10 * MiB, 5000), [s])
    run.run(3)
    counts = [n for n, _ in run.tried[0][10:]]
    assert statistics.median(counts) >= 14


@pytest.mark.parametrize("sz_mib", [10, 40])
def test_tried_bytes_estimate_the_working_set(sz_mib):
    """sysfs_update_schemes_tried_regions_wss_estimation.py: two regions
    accessed 2 s each in turn; the regions a scheme for nr [5, 20] and
    age >= 2 tries are the working set: the 50th and 75th percentile of the
    tried bytes are within 20% of one region."""
    s = Scheme("stat", nr_accesses=(5, 20), age=(2, UINT_MAX))
    run = Run(access_memory(2, sz_mib * MiB, 2000, 2), [s])
    run.run(8)
    sizes = sorted(b for _, b in run.tried[0][20:])
    for pct in (50, 75):
        wss = sizes[int(len(sizes) * pct / 100)]
        assert abs(wss - sz_mib * MiB) <= 0.2 * sz_mib * MiB, (pct, wss)
