"""DAMOS core against the kernel's rules and test vectors (damon-semantics.md
§3.4-3.6 and §5.1 #16-#19, #23): effective quotas and their goal tuners
(the feedback loop), the priority-score histogram, core and ops filters with
their default-reject decisions, and the hot/cold scores."""
import pytest

from damo_engine import core, ops
from damo_engine.core import Context, Filter, QuotaGoal, Scheme, Target

MiB = 1 << 20
ULONG_MAX = 2**64 - 1


def ctx_with_regions(regions, ops_name="vaddr", **kwargs):
    """A context with one target holding (start, end, nr_accesses, age) regions."""
    ctx = Context(ops.make_ops(ops_name) if ops_name else None, **kwargs)
    t = ctx.add_target(Target(None))
    for start, end, nr, age in regions:
        t.append_region(start, end, nr_accesses=nr, last_nr_accesses=nr, age=age)
    return ctx, t


# ------------------------------------------------------- effective quotas

def test_size_quota_only_is_the_effective_quota():
    ctx, _ = ctx_with_regions([])
    s = Scheme("pageout", quota_sz=128 * MiB, quota_reset_interval_ms=1000)
    assert core.kunit_set_effective_quota(ctx, s) == 128 * MiB


def test_time_quota_starts_at_4_mib_per_ms_then_follows_the_throughput():
    ctx, t = ctx_with_regions([(0, 64 * MiB, 0, 0)])
    s = Scheme("stat", quota_ms=10, quota_reset_interval_ms=1000)
    # nothing charged yet: PAGE_SIZE * 1024 bytes per ms
    assert core.kunit_set_effective_quota(ctx, s) == 4 * MiB * 10
    s2 = Scheme("stat", quota_ms=10, quota_sz=8 * MiB, quota_reset_interval_ms=1000)
    assert core.kunit_set_effective_quota(ctx, s2) == 8 * MiB       # the smaller one


def test_time_quota_throughput_from_what_was_charged():
    # charge 8 MiB in 2 ms of (simulated) action time: 4 MiB/ms... then a
    # slower action halves it
    ctx, t = ctx_with_regions([(0, 16 * MiB, 0, 0)])
    s = Scheme("stat", quota_ms=1, quota_reset_interval_ms=1000)
    ctx.add_scheme(s)
    core.kunit_adjust_quota(ctx, s, clock_ns=0)
    assert s.quota_state()["esz"] == 4 * MiB
    core.kunit_apply_scheme(ctx, t, 0, s)         # stat costs no time: tried 4 MiB
    assert s.stats()["sz_tried"] == 4 * MiB
    assert s.quota_state()["charged_sz"] == 4 * MiB
    # a new window: no time charged still -> the initial throughput again
    core.kunit_adjust_quota(ctx, s, clock_ns=1_000_000_000)
    assert s.quota_state()["esz"] == 4 * MiB
    assert s.stats()["qt_exceeds"] == 1


def test_consist_tuner_is_the_feedback_loop():
    """esz_bp = feed_loop(max(esz_bp, 10000), score) at each reset; the
    effective quota is esz_bp / 10000 bytes (the loop's kunit #18 numbers
    follow the same formula)."""
    ctx, _ = ctx_with_regions([])
    g = QuotaGoal("user_input", 10000, current_value=200)
    s = Scheme("stat", goals=[g], quota_reset_interval_ms=100)
    expected_bp = 10000
    sizes = []
    for _ in range(5):
        expected_bp = core.kunit_feed_loop_next_input(max(expected_bp, 10000), 200)
        sizes.append(core.kunit_set_effective_quota(ctx, s))
        assert s.quota_state()["esz_bp"] == expected_bp
    assert sizes == [1, 3, 7, 15, 30]           # grows ~x1.98 per reset: below target
    g.current_value = 25000                     # far above target: the minimum input
    assert core.kunit_set_effective_quota(ctx, s) == 1
    assert s.quota_state()["esz_bp"] == 10000
    # kunit #18 itself
    assert core.kunit_feed_loop_next_input(900000, 200) == 1782000
    assert core.kunit_feed_loop_next_input(900000, 250000000) == 10000
    assert core.kunit_feed_loop_next_input(900000, 2000) == 1620000


def test_goal_scores_take_the_highest_goal():
    ctx, _ = ctx_with_regions([])
    s = Scheme("stat", goals=[QuotaGoal("user_input", 10000, 5000),
                              QuotaGoal("user_input", 100, 150)])
    assert core.kunit_quota_score(ctx, s) == 15000     # 150/100 beats 5000/10000


def test_temporal_tuner_stops_once_the_goal_is_met():
    """damos_goal_tune_esz_bp_temporal(): below the goal, the size quota (or
    no limit); met, an effective quota of 0, which damos_quota_is_full()
    takes as full: nothing is applied."""
    ctx, _ = ctx_with_regions([])
    g = QuotaGoal("user_input", 10000, current_value=5000)
    s = Scheme("stat", goals=[g], goal_tuner="temporal", quota_sz=MiB)
    assert core.kunit_set_effective_quota(ctx, s) == MiB       # below target: full size
    g.current_value = 10000
    assert core.kunit_set_effective_quota(ctx, s) == 0
    assert s.quota_state()["esz_bp"] == 0 and core.kunit_quota_is_full(ctx, s)
    g.current_value = 9999
    assert core.kunit_set_effective_quota(ctx, s) == MiB
    assert not core.kunit_quota_is_full(ctx, s)
    nolimit = Scheme("stat", goals=[QuotaGoal("user_input", 10, 1)], goal_tuner="temporal")
    assert core.kunit_set_effective_quota(ctx, nolimit) == ULONG_MAX // 10000


def test_temporal_tuner_with_a_time_quota_still_applies_one_region():
    """With a time quota the met goal's 0 is raised to min_region_sz: one
    region's worth a window is still applied."""
    ctx, _ = ctx_with_regions([])
    s = Scheme("stat", goals=[QuotaGoal("user_input", 100, 100)], goal_tuner="temporal",
               quota_ms=10)
    assert core.kunit_set_effective_quota(ctx, s) == 4096
    assert not core.kunit_quota_is_full(ctx, s)


def test_time_quota_and_goal_take_the_smaller():
    ctx, _ = ctx_with_regions([])
    g = QuotaGoal("user_input", 10000, current_value=0)
    s = Scheme("stat", quota_ms=10, goals=[g])
    # the goal's 2 bytes are smaller than 40 MiB, but with a time quota the
    # newer kernels never go below one region (0 would mean no limit)
    assert core.kunit_set_effective_quota(ctx, s) == 4096
    s = Scheme("stat", quota_ms=10, quota_sz=MiB, goals=[QuotaGoal("user_input", 100, 50)])
    for _ in range(40):                         # x1.5 a reset from 1 byte
        esz = core.kunit_set_effective_quota(ctx, s)
    assert esz == MiB                           # the size quota caps the tuned one


@pytest.mark.parametrize("esz, expected", [
    # regions: 10 MiB scoring high (nr 18), 20 MiB medium (nr 9), 30 MiB idle
    (5 * MiB, "hot"), (25 * MiB, "medium"), (100 * MiB, "all")])
def test_score_histogram_sets_the_min_score_for_the_quota(esz, expected):
    """damos_adjust_quota(): walk the histogram of hot scores from the top
    until the quota is covered."""
    ctx, t = ctx_with_regions([(0, 10 * MiB, 18, 5), (10 * MiB, 30 * MiB, 9, 5),
                               (30 * MiB, 60 * MiB, 0, 5)], ops_name="paddr")
    s = Scheme("lru_prio", quota_sz=esz, quota_reset_interval_ms=1000, weights=(0, 1, 0))
    ctx.add_scheme(s)
    _, min_score = core.kunit_adjust_quota(ctx, s, clock_ns=0)
    scores = [ops.kunit_hot_score(ctx, nr, 5, s) for nr in (18, 9, 0)]
    assert scores == [89, 44, 0]                # 90 %, 45 %, 0 % access frequency
    assert min_score == {"hot": scores[0], "medium": scores[1], "all": 0}[expected]


# ------------------------------------------------------------ scores (#23)

def test_hot_and_cold_scores_derived_vectors():
    ctx, _ = ctx_with_regions([])            # 5 ms / 100 ms: max nr_accesses 20
    s = Scheme("pageout", weights=(0, 1, 1))
    assert ops.kunit_hot_score(ctx, 10, 50, s) == 51
    assert 99 - ops.kunit_hot_score(ctx, 10, 50, s) == 48
    reclaim = Scheme("pageout", weights=(0, 0, 1))
    assert ops.kunit_hot_score(ctx, 0, 1200, reclaim) == 38
    assert 99 - ops.kunit_hot_score(ctx, 0, 1200, reclaim) == 61


def test_no_weights_score_zero():
    ctx, _ = ctx_with_regions([])
    assert ops.kunit_hot_score(ctx, 20, 1000, Scheme("pageout")) == 0


# ------------------------------------------------------------- filters

def test_new_filter_fields_16():
    f = Filter("anon", True, False)
    assert (f.type_name, f.matching, f.allow, f.for_ops) == ("anon", True, False, True)
    assert not Filter("addr", True, True, addr_range=(1, 2)).for_ops


@pytest.mark.parametrize("filters, expected", [
    ([], (False, False)),
    ([Filter("addr", True, True, addr_range=(0, 10))], (True, False)),
    ([Filter("addr", True, False, addr_range=(0, 10))], (False, False)),
    ([Filter("addr", True, False, addr_range=(0, 10)), Filter("anon", True, True)],
     (False, True)),
    ([Filter("addr", True, True, addr_range=(0, 10)), Filter("anon", True, True)],
     (False, True)),
])
def test_filters_default_reject_19(filters, expected):
    assert core.kunit_filters_default_reject(Scheme("stat", filters=filters)) == expected


@pytest.mark.parametrize("region, out, after", [
    ((3, 5), False, [(3, 5)]),            # inside an allowed range: passes
    ((1, 2), True, [(1, 2)]),             # outside: default-reject (last filter allows)
    ((6, 8), True, [(6, 8)]),
    ((1, 4), True, [(1, 2), (2, 4)]),     # split at the range start, left part rejected
    ((2, 8), False, [(2, 6), (6, 8)]),    # split at the range end, left part passes
])
def test_addr_filter_with_default_reject_17(region, out, after):
    ctx, t = ctx_with_regions([(region[0], region[1], 0, 0)], min_region_sz=1)
    s = Scheme("stat", filters=[Filter("addr", True, True, addr_range=(2, 6))])
    assert core.kunit_filter_out(ctx, t, 0, s) == out
    assert t.ranges() == after


def test_reject_filter_first_match_decides():
    ctx, t = ctx_with_regions([(3, 5, 0, 0)], min_region_sz=1)
    s = Scheme("stat", filters=[Filter("addr", True, False, addr_range=(2, 6)),
                                Filter("addr", True, True, addr_range=(0, 10))])
    assert core.kunit_filter_out(ctx, t, 0, s) is True


def test_target_filter():
    ctx = Context(ops.make_ops("vaddr"))
    t0 = ctx.add_target(Target(None))
    t1 = ctx.add_target(Target(None))
    t0.append_region(0, 4096)
    t1.append_region(0, 4096)
    s = Scheme("stat", filters=[Filter("target", True, False, target_idx=1)])
    assert core.kunit_filter_out(ctx, t0, 0, s) is False
    assert core.kunit_filter_out(ctx, t1, 0, s) is True


def test_core_filtered_regions_are_not_tried():
    ctx, t = ctx_with_regions([(0, 4096, 0, 0)])
    s = Scheme("stat", filters=[Filter("addr", True, False, addr_range=(0, 8192))])
    core.kunit_apply_scheme(ctx, t, 0, s)
    assert s.stats()["nr_tried"] == 0


def test_quota_split_then_full_with_less_than_a_region_left():
    """A region bigger than what is left of the quota is split to fit; with
    less than min_region_sz left the quota is full (damos_quota_is_full()):
    no zero-byte try, the walk resumes after the last region charged at the
    next window, and the window counts as exceeded."""
    # no operation set (no target_valid(), no scores): the core alone
    ctx, t = ctx_with_regions([(0, 3 * 4096, 0, 7), (3 * 4096, 6 * 4096, 0, 7)],
                              ops_name=None)
    s = Scheme("pageout", quota_sz=2 * 4096 + 100, quota_reset_interval_ms=1000)
    ctx.add_scheme(s)
    core.kunit_apply_schemes(ctx, 20)           # due at 20 samples (one aggregation)
    st = s.stats()
    assert (st["nr_tried"], st["sz_tried"]) == (1, 8192)
    assert t.ranges()[0] == (0, 8192) and t.regions()[0][4] == 0     # age reset
    assert core.kunit_quota_is_full(ctx, s)     # 100 bytes left < 4096
    assert s.quota_state()["charged_sz"] == 8192
    # the next window: counted as exceeded, resumes at the end of the charged region
    ctx.kstate.clock_ns = 1_000_000_000
    core.kunit_apply_schemes(ctx, 40)
    st = s.stats()
    assert st["qt_exceeds"] == 1
    assert st["sz_tried"] == 2 * 8192           # 8192 more, from 8192 on
    assert t.regions()[0][4] == 0 and t.regions()[1][4] == 0


def test_quota_is_full_vectors():
    ctx, _ = ctx_with_regions([])
    s = Scheme("stat")
    assert not core.kunit_quota_is_full(ctx, s)             # no quota at all
    s = Scheme("stat", quota_sz=10000, quota_reset_interval_ms=1000)
    core.kunit_set_effective_quota(ctx, s)
    for charged, full in ((0, False), (5904, False), (5905, True), (10000, True),
                          (20000, True)):
        s2 = Scheme("stat", quota_sz=10000, quota_reset_interval_ms=1000)
        core.kunit_set_effective_quota(ctx, s2)
        core.kunit_charge_quota(s2, charged, charged)
        assert core.kunit_quota_is_full(ctx, s2) == full, charged


@pytest.mark.parametrize("num, denom, sz, applied, charged", [
    (0, 0, 8192, 0, 8192),          # no ratio: the whole region
    (1, 4, 8192, 0, 2048),          # nothing applied: a quarter
    (1, 4, 8192, 4096, 4096 + 1024),
    (0, 1, 8192, 4096, 4096),       # failures free
    (1, 4, 8192, 12288, 8192),      # applied more than the region: the region
    (3, 2, 8192, 0, 12288),         # a ratio above one
])
def test_fail_charge_ratio(num, denom, sz, applied, charged):
    """damos_charge_quota(): applied bytes plus fail_charge_num /
    fail_charge_denom of the rest (mult_frac())."""
    s = Scheme("pageout", quota_sz=MiB, fail_charge=(num, denom))
    assert core.kunit_charge_quota(s, sz, applied) == charged


def test_msecs_to_jiffies_truncates_to_unsigned_int():
    """reset_interval is an unsigned long, msecs_to_jiffies() takes an
    unsigned int: 'negative' ones (>= 2^31 ms) mean never; larger values
    wrap."""
    assert core.kunit_msecs_to_jiffies(1000) == 1000
    never = (2**63 >> 1) - 2
    assert core.kunit_msecs_to_jiffies(2**31) == never
    assert core.kunit_msecs_to_jiffies(ULONG_MAX) == never
    assert core.kunit_msecs_to_jiffies(2**32 + 1000) == 1000


def test_first_charge_window_opens_at_once_even_with_a_max_reset_interval():
    """damo's default reset interval is 'max': the first window must still
    get its quota (the ~6.17 fix), and it never resets."""
    ctx, t = ctx_with_regions([(0, 4 * MiB, 0, 5), (4 * MiB, 8 * MiB, 0, 5)])
    s = Scheme("pageout", quota_sz=MiB, quota_reset_interval_ms=(2**63 >> 1) - 1)
    ctx.add_scheme(s)
    for clock in (0, 10**9, 10**12):
        assert core.kunit_adjust_quota(ctx, s, clock_ns=clock)[0] == MiB
        core.kunit_apply_scheme(ctx, t, 0, s)
    assert s.stats()["sz_tried"] == MiB             # one window, 1 MiB in all


@pytest.mark.parametrize("metric, memcg, expected", [
    ("node_mem_used_bp", None, 2500), ("node_mem_free_bp", None, 7500),
    ("node_memcg_used_bp", 0, 2500), ("node_memcg_free_bp", 0, 7500),
    ("node_memcg_used_bp", 7, 0), ("node_memcg_free_bp", 7, 10000),
    ("active_mem_bp", None, 0), ("inactive_mem_bp", None, 10000)])
def test_goal_metrics_read_the_machine(metric, memcg, expected):
    """Node goals read the node's memory in use; the root memory cgroup
    (id 0) holds every process, an unknown one nothing; new pages start on
    the inactive LRU list."""
    from damo_engine.machines import make_machine
    machine = make_machine("dram:64M")
    mm = machine.new_address_space()
    mm.map(1 << 30, 16 * MiB)
    mm.access(1 << 30, 16 * MiB, write=True)
    ctx = Context(ops.make_ops("vaddr"), kstate=core.KernelState(machine))
    g = QuotaGoal(metric, 10000, nid=0, memcg=memcg)
    assert core.kunit_quota_score(ctx, Scheme("stat", goals=[g])) == expected
    assert g.current_value == expected


def test_psi_goal_reads_the_stall_time_since_the_last_evaluation():
    """some_mem_psi_us: the 'some' memory stall accrued since the previous
    evaluation (per reset interval), against the target."""
    ctx, _ = ctx_with_regions([])
    g = QuotaGoal("some_mem_psi_us", 1000)
    s = Scheme("pageout", goals=[g], quota_reset_interval_ms=1000)
    ctx.kstate.psi_some_us = 400
    assert core.kunit_quota_score(ctx, s) == 4000
    ctx.kstate.psi_some_us = 2900
    assert core.kunit_quota_score(ctx, s) == 25000      # 2500 us more stall
    assert g.last_psi_total == 2900
    ctx.kstate.psi_some_us = 2900
    assert core.kunit_quota_score(ctx, s) == 0
