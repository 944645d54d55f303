# Online parameter commits, after the kernel's damon_commit_ctx() and its
# helpers in mm/damon/core.c (torvalds/linux 0250dbe08c73, see
# damo_engine.KERNEL_VERSION).
#
# A commit copies the user-set parameters of a freshly built "source" context
# into a running "destination" context, keeping the destination's internal
# state (regions and their counters, quota charge state, stats, timers) where
# the kernel keeps it.  Schemes, quota goals, filters and targets are matched
# BY INDEX: the i-th destination object is updated in place from the i-th
# source object, destination extras are destroyed, source extras are
# appended as new objects.
#
# Run commits inside the kdamond loop, from Context.call() (damon_call()).
#
# The kernel first commits to a scratch copy of the destination
# (damon_new_test_ctx()) and commits for real only if that worked;
# commit_ctx() likewise checks everything the kernel would reject BEFORE
# changing anything: a refused commit leaves the destination as it was.
from libc.stdint cimport uint64_t
from damo_engine.core cimport (
    Attrs, Context, Filter, QuotaGoal, Scheme, Target, Probe, DamonFilter, DAMON_FILTER_MEMCG,
    USER_INPUT, NODE_MEM_USED_BP, NODE_MEM_FREE_BP, NODE_MEMCG_USED_BP, NODE_MEMCG_FREE_BP,
    NODE_ELIGIBLE_MEM_BP, FILTER_MEMCG, FILTER_ADDR, FILTER_TARGET, FILTER_HUGEPAGE_SIZE)
from damo_engine.core import ranges_error, probe_params_error


cdef bint attrs_equal(const Attrs *a, const Attrs *b) noexcept:
    """damon_attrs_equals() (6.17+): the user-set attributes only."""
    return (a.sample_interval == b.sample_interval and
            a.aggr_interval == b.aggr_interval and
            a.ops_update_interval == b.ops_update_interval and
            a.min_nr_regions == b.min_nr_regions and
            a.max_nr_regions == b.max_nr_regions and
            a.goal_access_bp == b.goal_access_bp and
            a.goal_aggrs == b.goal_aggrs and
            a.goal_min_sample_us == b.goal_min_sample_us and
            a.goal_max_sample_us == b.goal_max_sample_us)


cdef list src_ranges(Target src):
    """The ranges damon_commit_target_regions() gives damon_set_regions():
    the source target's regions (or, for a source context that never ran,
    the ranges it was built with), adjacent ones coalesced into one range."""
    regions = [(s, e) for s, e in src.ranges()] if src.nr_regions else \
        [tuple(r) for r in src.init_ranges]
    out = []
    for s, e in regions:
        if out and out[len(out) - 1][1] == s:
            out[len(out) - 1] = (out[len(out) - 1][0], e)
        else:
            out.append((s, e))
    return out


cdef bint is_power_of_2(uint64_t x) noexcept:
    return x != 0 and (x & (x - 1)) == 0


# ---------------------------------------------------------------------------
# Quota goals

def commit_quota_goal(QuotaGoal dst, QuotaGoal src):
    """damos_commit_quota_goal(): metric, target, the current value of a
    user_input goal, and the metric's node/memcg; last_psi_total is kept."""
    if src.target_value == 0:
        # newer trees refuse a zero target (it would divide by zero)
        raise ValueError("quota goal target value must not be zero")
    dst.metric = src.metric
    dst.target_value = src.target_value
    if dst.metric == USER_INPUT:
        dst.current_value = src.current_value
    # damos_commit_quota_goal_union()
    # (node_eligible_mem_bp has no case there: its nid is not committed; a
    # goal made by a commit has the kernel's uninitialized nid, 0 here)
    if dst.metric in (NODE_MEM_USED_BP, NODE_MEM_FREE_BP):
        dst.nid = src.nid
    elif dst.metric in (NODE_MEMCG_USED_BP, NODE_MEMCG_FREE_BP):
        dst.nid = src.nid
        dst.memcg = src.memcg


def commit_quota_goals(Scheme dst, Scheme src):
    """damos_commit_quota_goals(): goals matched by index."""
    cdef QuotaGoal g, sg
    cdef int i
    _check_goals(src)
    goals = []
    for i in range(len(dst.goals)):
        if i < len(src.goals):
            g = dst.goals[i]
            commit_quota_goal(g, src.goals[i])
            goals.append(g)
        # else: damos_destroy_quota_goal()
    for sg in src.goals[len(dst.goals):]:
        g = QuotaGoal(sg.metric, sg.target_value)
        commit_quota_goal(g, sg)
        goals.append(g)
    dst.goals = goals


def commit_quota(Scheme dst, Scheme src):
    """damos_commit_quota(): the user knobs (intervals, sizes, goals, goal
    tuner, failed-bytes charge ratio, weights); charge state and esz are kept."""
    dst.quota_reset_interval_ms = src.quota_reset_interval_ms
    dst.quota_ms = src.quota_ms
    dst.quota_sz = src.quota_sz
    commit_quota_goals(dst, src)
    dst.goal_tuner = src.goal_tuner
    dst.fail_charge_num = src.fail_charge_num
    dst.fail_charge_denom = src.fail_charge_denom
    dst.weight_sz = src.weight_sz
    dst.weight_nr_accesses = src.weight_nr_accesses
    dst.weight_age = src.weight_age


def commit_dests(Scheme dst, Scheme src):
    """damos_commit_dests(): the migration destination arrays are copied."""
    dst.migrate_dests = [(int(n), int(w)) for n, w in src.migrate_dests]


# ---------------------------------------------------------------------------
# Filters

cdef void commit_filter_arg(Filter dst, Filter src) noexcept:
    """damos_commit_filter_arg(): the argument of the (new) filter type."""
    if dst.type == FILTER_MEMCG:
        dst.memcg = src.memcg
    elif dst.type == FILTER_ADDR:
        dst.addr_start = src.addr_start
        dst.addr_end = src.addr_end
    elif dst.type == FILTER_TARGET:
        dst.target_idx = src.target_idx
    elif dst.type == FILTER_HUGEPAGE_SIZE:
        dst.sz_min = src.sz_min
        dst.sz_max = src.sz_max


def commit_filter(Filter dst, Filter src):
    """damos_commit_filter(): type, matching, allow and the type's argument."""
    dst.type = src.type
    dst.matching = src.matching
    dst.allow = src.allow
    commit_filter_arg(dst, src)


cdef list commit_filter_list(list dsts, list srcs):
    cdef Filter f, sf
    cdef int i
    out = []
    for i in range(len(dsts)):
        if i < len(srcs):
            f = dsts[i]
            commit_filter(f, srcs[i])
            out.append(f)
    for sf in srcs[len(dsts):]:
        f = Filter(sf.type, sf.matching, sf.allow,
                   addr_range=(sf.addr_start, sf.addr_end) if sf.type == FILTER_ADDR
                   else None)
        commit_filter_arg(f, sf)
        out.append(f)
    return out


def commit_filters(Scheme dst, Scheme src):
    """damos_commit_core_filters() and damos_commit_ops_filters(), each list
    matched by index, then damos_set_filters_default_reject()."""
    dst.core_filters = commit_filter_list(dst.core_filters, src.core_filters)
    dst.ops_filters = commit_filter_list(dst.ops_filters, src.ops_filters)
    dst.update_filters_default_reject()


# ---------------------------------------------------------------------------
# Schemes

def commit_scheme(Scheme dst, Scheme src):
    """damos_commit(): pattern, action, apply interval, quota, watermarks,
    target node, destinations and filters.  Stats and quota charge state are
    kept; next_apply_sis is not re-armed (set_attrs() does that)."""
    _check_goals(src)
    dst.min_sz_region = src.min_sz_region
    dst.max_sz_region = src.max_sz_region
    dst.min_nr_accesses = src.min_nr_accesses
    dst.max_nr_accesses = src.max_nr_accesses
    dst.min_age_region = src.min_age_region
    dst.max_age_region = src.max_age_region
    dst.action = src.action
    dst.apply_interval_us = src.apply_interval_us
    commit_quota(dst, src)
    # dst->wmarks = src->wmarks copies the 'activated' state too
    dst.wmarks_metric = src.wmarks_metric
    dst.wmarks_interval = src.wmarks_interval
    dst.wmarks_high = src.wmarks_high
    dst.wmarks_mid = src.wmarks_mid
    dst.wmarks_low = src.wmarks_low
    dst.wmarks_activated = src.wmarks_activated
    dst.target_nid = src.target_nid
    commit_dests(dst, src)
    commit_filters(dst, src)
    # [newer] the snapshots cap is a parameter; the count (a stat) is kept
    dst.max_nr_snapshots = src.max_nr_snapshots


def commit_schemes(Context dst, Context src):
    """damon_commit_schemes(): schemes matched by index; new schemes start
    with fresh quota state and are added with damon_add_scheme()."""
    cdef Scheme s, ss, ns
    cdef int i
    for ss in src.schemes:
        _check_goals(ss)
    kept = []
    for i in range(len(dst.schemes)):
        if i < len(src.schemes):
            s = dst.schemes[i]
            commit_scheme(s, src.schemes[i])
            kept.append(s)
        # else: damon_destroy_scheme()
    nr_kept = len(dst.schemes)
    dst.schemes = kept
    for ss in src.schemes[nr_kept:]:
        ns = Scheme(ss.action)
        commit_scheme(ns, ss)
        dst.add_scheme(ns)


def commit_schemes_quota_goals(Context dst, Context src):
    """The sysfs 'commit_schemes_quota_goals' command: the quota goals of
    each running scheme from the same-index source scheme, nothing else."""
    cdef int i
    for ss in src.schemes:
        _check_goals(ss)
    for i in range(min(len(dst.schemes), len(src.schemes))):
        commit_quota_goals(dst.schemes[i], src.schemes[i])


# ---------------------------------------------------------------------------
# Targets

def commit_target_regions(Target dst, Target src, uint64_t min_region_sz):
    """damon_commit_target_regions(): set_regions() with the source's
    regions if it has any; otherwise the destination keeps its regions."""
    ranges = src_ranges(src)
    if not ranges:
        return
    _check_ranges(ranges, min_region_sz)
    dst.set_regions(ranges, min_region_sz)


cdef void commit_target(Context dst_ctx, Target dst, Target src,
                        uint64_t min_region_sz) except *:
    """damon_commit_target(): regions, then the pid reference."""
    commit_target_regions(dst, src, min_region_sz)
    if dst.pid != src.pid or dst.obj is None:
        dst.pid = src.pid
        # get_pid(): what the operation set will find the process by
        dst.obj = dst_ctx.kstate.processes.get(src.pid) if src.pid is not None else None


def commit_targets(Context dst, Context src, obsolete_targets=()):
    """damon_commit_targets(): targets matched by index.  A destination
    target whose source target is missing or marked obsolete is destroyed
    (damon_destroy_target(), and it stops being any scheme's quota charge
    resume point)."""
    cdef Target t, st, nt
    cdef Scheme s
    cdef int i
    obsolete = set(obsolete_targets)
    _check_targets(dst, src, obsolete)
    old = list(dst.targets)
    for i in range(len(old)):
        t = old[i]
        if i < len(src.targets) and i not in obsolete:
            commit_target(dst, t, src.targets[i], src.min_region_sz)
        else:
            dst.destroy_target(t)
            for s in dst.schemes:
                if s.charge_target_from is t:
                    s.charge_target_from = None
                    s.charge_addr_from = 0
    for st in src.targets[len(old):]:
        nt = Target(st.pid)
        commit_target(dst, nt, st, src.min_region_sz)
        dst.targets.append(nt)


# ---------------------------------------------------------------------------
# Data attributes probes

cdef void commit_damon_filter(DamonFilter dst, DamonFilter src) noexcept:
    """damon_commit_filter(): type, matching, allow, and a memcg filter's id."""
    dst.type = src.type
    dst.matching = src.matching
    dst.allow = src.allow
    if dst.type == DAMON_FILTER_MEMCG:
        dst.memcg = src.memcg


cdef void commit_damon_filters(Probe dst, Probe src) except *:
    """damon_commit_filters(): a probe's filters matched by index."""
    cdef DamonFilter sf, nf
    cdef int i
    kept = []
    for i in range(len(dst.filters)):
        if i < len(src.filters):
            commit_damon_filter(dst.filters[i], src.filters[i])
            kept.append(dst.filters[i])
    nr_kept = len(dst.filters)
    dst.filters = kept
    for sf in src.filters[nr_kept:]:
        # damon_new_filter(type, matching, allow), then only a memcg id
        nf = DamonFilter(sf.type, sf.matching, sf.allow,
                         sf.memcg if sf.type == DAMON_FILTER_MEMCG else None)
        dst.filters.append(nf)


def commit_probes(Context dst, Context src):
    """damon_commit_probes(): probes matched by index, each keeping its
    place (the probe hit counters of the regions stay where they are)."""
    cdef Probe p, sp, np_
    cdef int i
    kept = []
    for i in range(len(dst.probes)):
        if i < len(src.probes):
            p = dst.probes[i]
            sp = src.probes[i]
            p.weight = sp.weight
            commit_damon_filters(p, sp)
            kept.append(p)
    nr_kept = len(dst.probes)
    dst.probes = kept
    for sp in src.probes[nr_kept:]:
        np_ = Probe(weight=sp.weight)
        commit_damon_filters(np_, sp)
        dst.probes.append(np_)


# ---------------------------------------------------------------------------
# The context

def commit_ctx(Context dst, Context src, obsolete_targets=()):
    """damon_commit_ctx(): schemes, then targets, then the attributes (via
    damon_set_attrs(), so counters are rescaled, only if they changed: the
    probe hits of the probes the destination had before this commit),
    pause, the operation set, the probes, addr_unit and the minimum region
    size.

    Raises ValueError, leaving ``dst`` untouched, where the kernel returns
    -EINVAL.  ``obsolete_targets``: indices of source targets marked obsolete.
    """
    cdef Attrs a = src.attrs
    cdef int rc
    check_commit_ctx(dst, src, obsolete_targets)
    commit_schemes(dst, src)
    commit_targets(dst, src, obsolete_targets)
    if not attrs_equal(&dst.attrs, &a):
        rc = dst.set_attrs_struct(&a)
        if rc:
            raise ValueError("invalid monitoring attributes")
    dst.pause = src.pause
    if dst.ops.name != src.ops.name:
        dst.ops = src.ops
    commit_probes(dst, src)
    dst.addr_unit = src.addr_unit
    dst.min_region_sz = src.min_region_sz


def check_commit_ctx(Context dst, Context src, obsolete_targets=()):
    """Raise ValueError if commit_ctx(dst, src) would be refused."""
    cdef Attrs a = src.attrs
    if not is_power_of_2(src.min_region_sz):
        raise ValueError("min_region_sz (%d) is not a power of two" % src.min_region_sz)
    from damo_engine.core import _attrs_error
    err = _attrs_error(a)
    if err:
        raise ValueError(err)
    for ss in src.schemes:
        _check_goals(ss)
        if not src.ops.is_paddr():
            for g in (<Scheme>ss).goals:
                if (<QuotaGoal>g).metric == NODE_ELIGIBLE_MEM_BP:
                    raise ValueError("the node_eligible_mem_bp quota goal needs the paddr "
                                     "operation set")
    err = probe_params_error(src)
    if err:
        raise ValueError(err)
    _check_targets(dst, src, set(obsolete_targets))


cdef void _check_goals(Scheme s) except *:
    cdef QuotaGoal g
    for g in s.goals:
        if g.target_value == 0:
            raise ValueError("quota goal target value must not be zero")


cdef void _check_ranges(list ranges, uint64_t min_region_sz) except *:
    """damon_set_regions() refuses empty or overlapping aligned ranges."""
    err = ranges_error(ranges, min_region_sz)
    if err is not None:
        raise ValueError(err)


cdef void _check_targets(Context dst, Context src, set obsolete) except *:
    cdef Target st
    cdef int i
    for i, st in enumerate(src.targets):
        if i >= len(dst.targets) and i in obsolete:
            # a new target cannot be obsolete (newer trees: -EINVAL)
            raise ValueError("target %d is marked obsolete but is not running" % i)
        ranges = src_ranges(st)
        if ranges:
            _check_ranges(ranges, src.min_region_sz)
