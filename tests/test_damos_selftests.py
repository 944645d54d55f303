"""The kernel's DAMON selftests (tools/testing/selftests/damon) at full
strength, on the simulated machine, driven the way the selftests drive sysfs:
tried bytes through damos_walk() (update_schemes_tried_bytes), goals through
commits (commit_schemes_quota_goals), parameters through damon_commit_ctx()
and read back as a whole-state dump (drgn_dump_damon_status).  damos_quota.py,
damos_apply_interval.py, damos_quota_goal.py, damos_tried_regions.py,
sysfs_update_schemes_tried_regions_wss_estimation.py,
sysfs_update_schemes_tried_regions_hang.py, sysfs.py and
sysfs_no_op_commit_break.py."""
import copy
import statistics

import pytest

from damo_engine import (Context, Filter, MasimWorkload, QuotaGoal, Scheme, Simulation,
                         Target, commit, masim)
from damo_engine.machines import make_machine
from damo_engine.ops import make_ops

ECANCELED = 125

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
    def __init__(self, config, schemes, memory="dram:2G", seed=1, stop_with_workloads=True):
        self.stop_with_workloads = stop_with_workloads
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
        self.sim.run(seconds * 1e9, stop_with_workloads=self.stop_with_workloads)

    @property
    def alive(self):
        return not self.workload.finished

    def walk(self, limit_s=1.0):
        """damos_walk() as update_schemes_tried_bytes does: the tried bytes
        of each scheme over one apply interval of every scheme; (rc,
        canceled, [bytes per scheme], simulated seconds it took)."""
        got = [0] * len(self.ctx.schemes)
        done = []
        schemes = list(self.ctx.schemes)

        def walk_fn(ctx, t, region, s, sz_filter_passed):
            got[schemes.index(s)] += region[1] - region[0]
        rc = self.ctx.damos_walk(walk_fn, done.append)
        if rc:
            return rc, None, got, 0
        t0 = self.sim.now_ns
        while not done and self.sim.now_ns - t0 < limit_s * 1e9:
            self.run(0.005)
            if not self.ctx.running and not done:
                break
        return 0, (done[0] if done else None), got, (self.sim.now_ns - t0) / 1e9


def test_damos_quota():
    """damos_quota.py: two 10 MiB regions accessed 2 s each; a scheme for
    nr [5, 20], age >= 2 with a 1 MiB / 100 ms quota.  Every tried-bytes
    sample (a walk, then 100 ms) is within the quota, and the quota was
    exceeded at least once per sample."""
    s = Scheme("stat", nr_accesses=(5, 20), age=(2, UINT_MAX), quota_sz=MiB,
               quota_reset_interval_ms=100)
    run = Run(access_memory(2, 10 * MiB, 2000, 1), [s])
    wss_collected = []
    while run.alive:
        run.run(0.1)
        rc, canceled, got, _ = run.walk()
        if rc or canceled is None:
            break
        wss_collected.append(got[0])
    assert len(wss_collected) >= 15
    assert max(wss_collected) <= MiB and max(wss_collected) == MiB
    assert s.stats()["qt_exceeds"] >= len(wss_collected)


def test_damos_apply_interval():
    """damos_apply_interval.py: the same access pattern scheme (nr [5, 20],
    age >= 2) every aggregation (0 = 100 ms) and every 10 ms, over the run
    of two 10 MiB regions accessed 2 s each: both tried, the second at least
    nine times as often."""
    pattern = dict(nr_accesses=(5, 20), age=(2, UINT_MAX))
    every_aggr = Scheme("stat", apply_interval_us=0, **pattern)
    every_10ms = Scheme("stat", apply_interval_us=10000, **pattern)
    run = Run(access_memory(2, 10 * MiB, 2000, 1), [every_aggr, every_10ms])
    while run.alive:
        run.run(0.1)
    stats = [every_aggr.stats(), every_10ms.stats()]
    # 4 s of workload: 40 aggregations of 100 ms, 400 apply intervals of 10 ms
    assert [st["nr_snapshots"] for st in stats] == [40, 400]
    tried = [st["nr_tried"] for st in stats]
    assert tried[1] / tried[0] >= 9, tried
    # the same bytes, ten times as often
    sz = [st["sz_tried"] for st in stats]
    assert 9 <= sz[1] / sz[0] <= 11, sz
    # only the 10 MiB being accessed has nr_accesses >= 5; it is old enough
    # (age >= 2 aggregations) in all but the first 3 aggregations of each of
    # its two 2 s phases, and DAMON's regions at its edges may leave some out
    for st in stats:
        n = st["nr_snapshots"]
        assert 0.75 * n * 10 * MiB <= st["sz_tried"] <= n * 10 * MiB, st


def test_damos_quota_goal():
    """damos_quota_goal.py: a stat scheme whose quota has only a user_input
    goal (target 10000, reset 100 ms).  The current value 0, 15000, 5000,
    18000 is committed (commit_schemes_quota_goals); 0.5 s later the
    effective quota has grown when below target, shrunk when above (or
    stayed at the 1-byte minimum)."""
    goal = QuotaGoal("user_input", 10000)
    s = Scheme("stat", goals=[goal], quota_reset_interval_ms=100)
    run = Run(access_memory(2, 10 * MiB, 2000, 1), [s])
    pid = run.ctx.targets[0].pid
    checked = 0
    for current in (0, 15000, 5000, 18000):
        src = Context(make_ops("vaddr"))
        src.add_target(Target(pid))
        src.add_scheme(Scheme("stat", goals=[QuotaGoal("user_input", 10000, current)],
                              quota_reset_interval_ms=100))
        run.ctx.call(lambda c, src=src: commit.commit_schemes_quota_goals(c, src))
        run.run(0.005)                          # the commit runs in the loop
        assert s.goals[0].current_value == current
        last = s.quota_state()["esz"]
        run.run(0.5)
        now = s.quota_state()["esz"]
        expect_increase = current < 10000
        if now == last:
            assert not expect_increase and last == 1
            continue
        assert (now > last) == expect_increase, (current, last, now)
        checked += 1
    assert checked >= 3


def test_damos_tried_regions():
    """damos_tried_regions.py: 14 x 10 MiB, even ones hot: a stat scheme
    over everything tries at least 14 regions (median over snapshots)."""
    s = Scheme("stat")
    run = Run(access_memory_even(14, 10 * MiB, 5000), [s])
    run.run(3)
    counts = [n for n, _ in run.tried[0][10:]]
    assert statistics.median(counts) >= 14


@pytest.mark.parametrize("sz_mib", [10, 40])
def test_tried_regions_wss_estimation(sz_mib):
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


def test_tried_regions_update_does_not_hang():
    """sysfs_update_schemes_tried_regions_hang.py: a scheme no region can
    match (nr_accesses 200 with 20 samples an aggregation) on a process
    that ends after 2 s.  Every walk while it runs completes within an
    apply interval with nothing tried; once the target is gone the kdamond
    exits, a pending walk is canceled and a new one refused, never left
    waiting."""
    s = Scheme("stat", nr_accesses=(200, 200))
    cfg = "r0, %d\n\nsleep\n2000\nr0, 0, 4096, 1\n" % MiB
    run = Run(cfg, [s], stop_with_workloads=False)
    walks = 0
    last = None
    while run.alive:
        rc, canceled, got, took = run.walk()
        last = (rc, canceled)
        if canceled is not False:
            break
        assert got == [0] and took <= 0.11
        walks += 1
    assert walks >= 15
    # the kdamond exits with its target: walks end canceled or refused
    run.run(0.2)
    assert not run.ctx.running
    rc, canceled, _, _ = run.walk()
    assert rc == -ECANCELED
    assert last is None or last[1] in (False, True) or last[0] == -ECANCELED


def _params(ops, pid, variant):
    """A context with every kind of parameter, in three variants (start and
    two online commits), and the dump the kernel should then hold."""
    nid = variant % 2
    ctx = Context(make_ops(ops), sample_us=5000 + 1000 * variant,
                  aggr_us=100000 + 10000 * variant, update_us=1000000 * (variant + 1),
                  min_nr_regions=10 + variant, max_nr_regions=1000 - variant,
                  intervals_goal=(4000 + variant, 3, 1000, 20000) if variant else None,
                  pause=False)
    ctx.add_target(Target(pid, [(1 << 30, (1 << 30) + (variant + 1) * MiB)]))
    goals = [QuotaGoal("user_input", 10000 + variant, current_value=123 + variant),
             QuotaGoal("node_mem_free_bp", 5000 + variant, nid=nid)]
    filters = [Filter("addr", True, bool(variant & 1), addr_range=(1 << 30, (1 << 30) + MiB)),
               Filter("anon", bool(variant != 1), True)]
    ctx.add_scheme(Scheme(
        ("stat", "pageout", "cold")[variant], sz_region=(4096 * (variant + 1), 1 << 40),
        nr_accesses=(variant, 20), age=(variant + 2, 2**32 - 1),
        apply_interval_us=10000 * variant, quota_ms=10 + variant,
        quota_sz=MiB * (variant + 1), quota_reset_interval_ms=100 + variant,
        weights=(variant, 1, 2), goals=goals,
        goal_tuner=("consist", "temporal")[variant % 2], fail_charge=(variant, 4),
        # (high above the idle machine's free memory rate: kept active)
        wmarks=("free_mem_rate", 100000, 1000 - variant, 500, 100) if variant else None,
        filters=filters, max_nr_snapshots=variant * 7))
    if variant == 2:
        ctx.add_scheme(Scheme("stat", target_nid=1, migrate_dests=[(0, 1), (1, 2)]))
    expect = {
        "attrs": {"sample_us": 5000 + 1000 * variant, "aggr_us": 100000 + 10000 * variant,
                  "ops_update_us": 1000000 * (variant + 1),
                  "min_nr_regions": 10 + variant, "max_nr_regions": 1000 - variant},
        "intervals_goal": {"access_bp": 4000 + variant, "aggrs": 3, "min_sample_us": 1000,
                           "max_sample_us": 20000} if variant else
        {"access_bp": 0, "aggrs": 0, "min_sample_us": 0, "max_sample_us": 0},
        "pause": False, "nr_schemes": 2 if variant == 2 else 1,
        "scheme": {
            "pattern": {"sz": [4096 * (variant + 1), 1 << 40], "nr_accesses": [variant, 20],
                        "age": [variant + 2, 2**32 - 1]},
            "action": ("stat", "pageout", "cold")[variant],
            "apply_interval_us": 10000 * variant,
            "quota": {"reset_interval": 100 + variant, "ms": 10 + variant,
                      "sz": MiB * (variant + 1),
                      "goals": [{"metric": "user_input", "target_value": 10000 + variant,
                                 "current_value": 123 + variant},
                                {"metric": "node_mem_free_bp", "target_value": 5000 + variant,
                                 "nid": nid}],
                      "goal_tuner": ("consist", "temporal")[variant % 2],
                      "fail_charge_num": variant, "fail_charge_denom": 4,
                      "weight_sz": variant, "weight_nr_accesses": 1, "weight_age": 2},
            "wmarks": {"metric": 1 if variant else 0,
                       "interval": 100000 if variant else 0,
                       "high": 1000 - variant if variant else 0, "mid": 500 if variant else 0,
                       "low": 100 if variant else 0},
            "core_filters": [{"type": "addr", "matching": True, "allow": bool(variant & 1),
                              "addr_range": [1 << 30, (1 << 30) + MiB]}],
            "ops_filters": [{"type": "anon", "matching": variant != 1, "allow": True}],
            "core_filters_default_reject": False, "ops_filters_default_reject": True,
            "max_nr_snapshots": variant * 7,
        },
    }
    return ctx, expect


def _params_of(dump):
    """The parameter part of a context dump (what sysfs.py compares)."""
    s = dump["schemes"][0]
    q = s["quota"]
    goals = []
    for g in q["goals"]:
        g = dict(g)
        if g["metric"] != "user_input":
            g.pop("current_value")              # the kernel measures it
        goals.append(g)
    wm = dict(s["wmarks"])
    wm.pop("activated")
    return {
        "attrs": {k: dump["attrs"][k] for k in ("sample_us", "aggr_us", "ops_update_us",
                                                "min_nr_regions", "max_nr_regions")},
        "intervals_goal": dump["attrs"]["intervals_goal"], "pause": dump["pause"],
        "nr_schemes": len(dump["schemes"]),
        "scheme": {
            "pattern": s["pattern"], "action": s["action"],
            "apply_interval_us": s["apply_interval_us"],
            "quota": {"reset_interval": q["reset_interval"], "ms": q["ms"], "sz": q["sz"],
                      "goals": goals, "goal_tuner": q["goal_tuner"],
                      "fail_charge_num": q["fail_charge_num"],
                      "fail_charge_denom": q["fail_charge_denom"],
                      "weight_sz": q["weight_sz"],
                      "weight_nr_accesses": q["weight_nr_accesses"],
                      "weight_age": q["weight_age"]},
            "wmarks": wm, "core_filters": s["core_filters"], "ops_filters": s["ops_filters"],
            "core_filters_default_reject": s["core_filters_default_reject"],
            "ops_filters_default_reject": s["ops_filters_default_reject"],
            "max_nr_snapshots": s["max_nr_snapshots"],
        },
    }


def test_sysfs_parameters_after_start_and_two_commits():
    """sysfs.py: the kernel's state after a start and after each of two
    online commits holds every parameter as given (dumped whole and
    compared field by field), and a commit keeps the scheme's stats."""
    sim = Simulation(make_machine("dram:1G,cxl:1G"), seed=5)
    pid = sim.add_workload(MasimWorkload(masim.builtin("stairs")))
    ctx, expect = _params("vaddr", pid, 0)
    sim.add_kdamond([ctx])
    sim.run(0.3e9)
    assert _params_of(ctx.dump()) == expect
    for variant in (1, 2):
        tried = ctx.schemes[0].nr_tried
        src, expect = _params("vaddr", pid, variant)
        dumps = []
        ctx.call(lambda c, src=src: (commit.commit_ctx(c, src), dumps.append(c.dump())))
        sim.run(0.3e9)
        assert dumps and _params_of(dumps[0]) == expect
        assert dumps[0]["schemes"][0]["stat"]["nr_tried"] >= tried
        assert dumps[0]["targets"][0]["pid"] == pid


def test_sysfs_no_op_commit_break():
    """sysfs_no_op_commit_break.py: committing the parameters a kdamond
    already runs with (a scheme with one allow-anon ops filter) changes
    nothing of its state."""
    sim = Simulation(make_machine("dram:1G"), seed=6)
    pid = sim.add_workload(MasimWorkload(masim.builtin("stairs")))

    def params():
        c = Context(make_ops("vaddr"))
        c.add_target(Target(pid))
        c.add_scheme(Scheme("stat", filters=[Filter("anon", True, True)]))
        return c
    ctx = params()
    sim.add_kdamond([ctx])
    sim.run(0.5e9)
    before, after = [], []
    ctx.call(lambda c: (before.append(copy.deepcopy(c.dump())),
                        commit.commit_ctx(c, params()), after.append(c.dump())))
    sim.run(0.01e9)
    assert before and after
    assert before == after
    assert after[0]["schemes"][0]["ops_filters_default_reject"] is True
