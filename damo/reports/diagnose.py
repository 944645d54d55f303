"""Why a DAMOS scheme applied nothing, or less than it tried: one line per
scheme, from the engine's own state (``damo diagnose``; ``damo status`` and
``damo report profile`` print the same hints).

The reasons, in the order they are looked for:

- its target is gone (the workload ended before the scheme did anything);
- watermarks keep it inactive (with the metric's value against them);
- its apply interval was never reached: intervals auto-tuning calls
  damon_set_attrs(), which re-arms every scheme's apply interval, at every
  tuning step; a longer apply interval never comes (why ``--preset mtier``
  moves nothing in a typical run);
- no region matched its access pattern (with the nearest regions' values);
- filters rejected everything (or, for core filters, every matching region);
- regions with an unmapped gap inside them (vaddr's madvise()-based actions):
  madvise() acts on the mapped parts, then fails with ENOMEM, and DAMON counts
  none of such a region applied, as in the kernel;
- pageout without swap (anonymous memory cannot be paged out);
- the quota or its goal held it at its floor.

A SchemeView carries what is known of one scheme: its parameters in kernel
units, its statistics, the effective quota, whether its watermarks are
active, and from the context the intervals, the latest regions and the
machine's free memory.
"""
from damo import units

PAGE = 4096


class SchemeView:
    """What diagnose needs of a scheme (live or recorded)."""

    def __init__(self, where, action, pattern, stats, *, apply_interval_us=0, esz=None,
                 quota=None, goals=(), wmarks=None, wmarks_active=True, ever_active=None,
                 free_rate=None, filters=(), apply_postponed=None, sample_us=5000,
                 aggr_us=100000, intervals_goal=None, regions=(), target_gone=None,
                 swap=True, elapsed_us=None, ops="vaddr", madvise_holes=None):
        self.where = where                  # "kdamond 0 context 0 scheme 0"
        self.action = action
        self.pattern = pattern              # ((sz lo, hi), (nr lo, hi), (age lo, hi))
        self.stats = stats                  # nr_tried, sz_tried, ... (ints)
        self.apply_interval_us = apply_interval_us
        self.esz = esz
        self.quota = quota or {}            # ms, sz, reset_interval_ms
        self.goals = list(goals)            # [{"metric", "target_value", "current_value"}]
        self.wmarks = wmarks                # None, or {metric, high, mid, low} (permil)
        self.wmarks_active = wmarks_active
        self.ever_active = ever_active      # recordings: active at any sample
        self.free_rate = free_rate          # permil of free memory now (or at the end)
        self.filters = list(filters)        # [{"type", "allow", "matching", "core"}]
        self.apply_postponed = apply_postponed   # in a row, by damon_set_attrs()
        self.madvise_holes = madvise_holes  # (regions, bytes) whose madvise() met a gap
        self.sample_us = sample_us
        self.aggr_us = aggr_us
        self.intervals_goal = intervals_goal   # (bp, aggrs, min, max) or None
        self.regions = list(regions)        # [(start, end, nr_accesses, age)]
        self.target_gone = target_gone      # why, or None
        self.swap = swap
        self.elapsed_us = elapsed_us
        self.ops = ops


def _pct(permil):
    return "%.1f%%" % (permil / 10.0)


def _wmarks_reason(v):
    w = v.wmarks
    rate = v.free_rate
    marks = "high %s, mid %s, low %s" % (_pct(w["high"]), _pct(w["mid"]), _pct(w["low"]))
    if rate is None:
        return "watermarks keep it inactive (%s)" % marks
    value = "free memory %s" % _pct(rate)
    if rate > w["high"]:
        why = "above the high watermark: it acts below the middle one"
    elif rate < w["low"]:
        why = "below the low watermark: it stops there, leaving memory to the kernel's " \
              "reclaim"
    else:
        why = "not below the middle watermark since it was deactivated"
    return "watermarks keep it inactive: %s is %s (%s)" % (value, why, marks)


def _tuning_period_us(v):
    if not v.intervals_goal or not v.intervals_goal[1]:
        return None
    return v.intervals_goal[1] * v.aggr_us


def _apply_reason(v):
    apply_us = v.apply_interval_us or v.aggr_us
    period = _tuning_period_us(v)
    words = "apply interval %s never reached" % units.format_time_us(apply_us, False)
    if period is not None and (v.apply_postponed or apply_us > period):
        how = " %d times in a row" % v.apply_postponed if v.apply_postponed else ""
        return "%s: intervals auto-tuning re-armed it%s, at each tuning step (every %d " \
            "aggregations of %s), as the kernel's damon_set_attrs() does; make the apply " \
            "interval shorter than that, or turn the auto-tuning off" % (
                words, how, v.intervals_goal[1], units.format_time_us(v.aggr_us, False))
    if v.elapsed_us is not None and v.elapsed_us < apply_us:
        return "%s yet: the kdamond ran %s" % (words, units.format_time_us(v.elapsed_us,
                                                                         False))
    return words


def _distance(v, r):
    """(violated fields, normalized distance, words) of a region against the
    access pattern."""
    (szl, szh), (nrl, nrh), (agel, ageh) = v.pattern
    sz, nr, age = r[1] - r[0], r[2], r[3]
    bad, dist, words = 0, 0.0, []
    if not szl <= sz <= szh:
        bad += 1
        need = szl if sz < szl else szh
        dist += abs(sz - need) / max(need, 1)
        words.append("size %s (needs %s)" % (units.format_sz(sz, False), "%s..%s" % (
            units.format_sz(szl, False), units.format_sz(szh, False))))
    if not nrl <= nr <= nrh:
        bad += 1
        need = nrl if nr < nrl else nrh
        dist += abs(nr - need) / max(need, 1)
        words.append("nr_accesses %d (needs %s)" % (nr, _range(nrl, nrh)))
    if not agel <= age <= ageh:
        bad += 1
        need = agel if age < agel else ageh
        dist += abs(age - need) / max(need, 1)
        words.append("age %d (needs %s)" % (age, _range(agel, ageh)))
    return bad, dist, words


def _range(lo, hi):
    if hi >= 2**32 - 1:
        return ">= %d" % lo
    if lo == hi:
        return "%d" % lo
    return "%d..%d" % (lo, hi)


def _nearest(v, n=2):
    scored = sorted((_distance(v, r) + (r,) for r in v.regions), key=lambda x: (x[0], x[1]))
    out = []
    for bad, _, words, r in scored[:n]:
        if not bad:
            continue
        out.append("[%#x, %#x) %s" % (r[0], r[1], ", ".join(words)))
    return out


def _filters_text(v):
    return ", ".join("%s %s%s%s" % ("allow" if f["allow"] else "reject",
                                    "" if f["matching"] else "none ", f["type"],
                                    " %s" % f["memcg"] if isinstance(f.get("memcg"), str)
                                    else "")
                     for f in v.filters)


def _quota_reason(v):
    if v.goals:
        g = v.goals[0]
        if v.esz is not None and v.esz <= PAGE:
            current = "" if g.get("current_value") is None else ", current %s" % \
                units.format_nr(g["current_value"], False)
            return "its quota goal holds it at its floor: effective size quota %s (goal %s, " \
                "target %s%s; the feedback loop starts from one byte, grows while the goal " \
                "is unmet and shrinks while it is met)" % (
                    units.format_sz(v.esz, False), g["metric"],
                    units.format_nr(g["target_value"], False), current)
    if v.stats.get("qt_exceeds"):
        limits = []
        if v.quota.get("ms"):
            limits.append("%d ms" % v.quota["ms"])
        if v.esz:
            limits.append(units.format_sz(v.esz, False))
        return "its quota held it: exceeded %d times (%s per %s)" % (
            v.stats["qt_exceeds"], " / ".join(limits) or "the effective quota",
            units.format_time_us(v.quota.get("reset_interval_ms", 0) * 1000, False))
    return None


def diagnose(v):
    """(verdict, reason or None) of a scheme."""
    st = v.stats
    tried, applied = st.get("sz_tried", 0), st.get("sz_applied", 0)
    ops_filters = [f for f in v.filters if not f.get("core")]
    passed = st.get("sz_ops_filter_passed", 0)
    if v.action == "pageout" and not v.swap and st.get("nr_tried", 0):
        # madvise() and reclaim succeed on anonymous pages without swap: the
        # stats count them applied, but nothing leaves memory
        return "applied %s of %s tried" % (units.format_sz(applied, False),
                                           units.format_sz(tried, False)), \
            "the machine has no swap: pageout cannot reclaim anonymous memory (give it " \
            "some, e.g. --memory dram:8G,swap:zswap)"
    if v.action == "stat" and st.get("nr_tried", 0) and tried and (
            not ops_filters or passed):
        # stat applies nothing: it counts
        return "tried %s (stat counts what it tries%s)" % (
            units.format_sz(tried, False), ", %s passed its filters" %
            units.format_sz(passed, False) if ops_filters else ""), None
    if st.get("nr_tried", 0) and tried and applied >= tried:
        return "applied %s to all it tried" % units.format_sz(applied, False), None
    verdict = "applied nothing" if not applied else "applied %s of %s tried" % (
        units.format_sz(applied, False), units.format_sz(tried, False))
    nothing = not st.get("nr_tried", 0)
    if st.get("nr_tried", 0) and not tried:
        # regions were tried, but each was cut to the quota left: nothing
        reason = _quota_reason(v)
        if reason:
            return verdict, reason
        return verdict, "its quota left nothing: %d regions tried, 0 B each" % st["nr_tried"]
    if nothing and v.target_gone and not st.get("nr_snapshots"):
        return verdict, "its target is gone (%s)" % v.target_gone
    if nothing and v.wmarks is not None and (
            not v.wmarks_active if v.ever_active is None else not v.ever_active):
        return verdict, _wmarks_reason(v)
    if nothing and not st.get("nr_snapshots"):
        # an apply interval that came with the quota full counts no snapshot
        reason = _quota_reason(v) if st.get("qt_exceeds") else None
        return verdict, reason or _apply_reason(v)
    if nothing:
        core = [f for f in v.filters if f.get("core")]
        near = _nearest(v)
        if not near and v.regions and core:
            return verdict, "core filters (%s) rejected every region that matched its " \
                "access pattern" % _filters_text(v)
        if not v.regions:
            return verdict, "no region matched its access pattern (no snapshot to compare)"
        return verdict, "no region matched its access pattern; the nearest: %s" % \
            "; ".join(near)
    if ops_filters and passed < tried and applied <= passed:
        return verdict, "filters (%s) rejected %s: %s of %s tried passed" % (
            _filters_text(v), "everything" if not passed else "the rest",
            units.format_sz(passed, False), units.format_sz(tried, False))
    if v.madvise_holes and v.madvise_holes[1] and applied < tried:
        nr, sz = v.madvise_holes
        return verdict, "%d region%s (%s) had an unmapped gap inside: madvise() acts on " \
            "the mapped parts, then fails with ENOMEM, and DAMON counts none of such a " \
            "region applied (the kernel does the same)" % (
                nr, "" if nr == 1 else "s", units.format_sz(sz, False))
    reason = _quota_reason(v)
    if reason:
        return verdict, reason
    return verdict, "the operation set could not act on the rest (pages already there, " \
        "unmovable or shared)"


def lines(views):
    """One line per scheme."""
    out = []
    for v in views:
        verdict, reason = diagnose(v)
        out.append("%s (%s): %s%s" % (v.where, v.action, verdict,
                                      ": " + reason if reason else ""))
    return out


# ------------------------------------------------------------ live views

def _core(ftype):
    from damo.params import schemes
    return ftype in schemes.CORE_FILTER_TYPES


def _holes(apply_state):
    """(regions, bytes) whose madvise() met an unmapped gap, from a scheme's
    apply state (the engine's; recordings made before it kept them: None)."""
    st = apply_state or {}
    if "sz_madvise_holes" not in st:
        return None
    return st.get("nr_madvise_holes", 0), st["sz_madvise_holes"]


def live_views(k):
    """SchemeViews of a live kdamond (client.Kdamond, fresh state)."""
    state, kstate = k.state or {}, k.kstate or {}
    views = []
    gone = None
    reason = kstate.get("reason") or ""
    if kstate.get("state") == "off" and "targets" in reason:
        gone = reason
    machine = state.get("machine") or {}
    for ci, c in enumerate(kstate.get("contexts", [])):
        snap = c.get("snapshot") or {}
        regions = []
        for t in snap.get("targets", []):
            regions += list(zip(t["starts"], t["ends"], t["nr_accesses"], t["ages"]))
        elapsed = c.get("passed_sample_intervals")
        for si, s in enumerate(c.get("schemes", [])):
            p = s["access_pattern"]
            w = s["wmarks"]
            q = s["quota"]
            views.append(SchemeView(
                "kdamond %d context %d scheme %d" % (k.idx, ci, si), s["action"],
                (tuple(p["sz"]), tuple(p["nr_accesses"]), tuple(p["age"])),
                s["stats"], apply_interval_us=s["apply_interval_us"],
                esz=s.get("quota_state", {}).get("esz"),
                quota={"ms": q["ms"], "sz": q["sz"],
                       "reset_interval_ms": q["reset_interval_ms"]},
                goals=q.get("goals", []),
                wmarks=None if w["metric"] == "none" else w,
                wmarks_active=w.get("activated", True),
                free_rate=machine.get("free_mem_rate"),
                filters=[dict(f, core=_core(f["type"])) for f in s.get("filters", [])],
                apply_postponed=(s.get("apply_state") or {}).get("apply_postponed_in_row"),
                madvise_holes=_holes(s.get("apply_state")),
                sample_us=c["sample_us"], aggr_us=c["aggr_us"],
                intervals_goal=tuple(c["intervals_goal"]) if c.get("intervals_goal")
                else None,
                regions=regions, target_gone=gone, swap=bool(machine.get("swap", True)),
                elapsed_us=elapsed * c["sample_us"] if elapsed is not None else None,
                ops=c.get("ops", "vaddr")))
    return views


# ------------------------------------------------------- recorded views

def recording_views(path):
    """SchemeViews of a recording, from its machine metrics (sim_metrics:
    the schemes' statistics over time, the machine) and its snapshots."""
    from damo import metrics as metrics_mod
    from damo import records
    from damo.errors import DamoError
    from damo.params import damon as params_mod

    rec = records.load(path)
    m = metrics_mod.load(path, rec)
    if m is None:
        raise DamoError("%s: no machine metrics (.sim_metrics) beside it: diagnose needs a "
                        "recording of damo-sim's (damo record)" % path)
    kvs = m.get("kdamonds_params")
    if not kvs:
        raise DamoError("%s: its machine metrics do not keep the kdamonds' parameters "
                        "(recorded by an older damo-sim); record it again" % path)
    kdamonds = params_mod.kdamonds_from_kvpairs(kvs, path)
    machine = m["machine"]
    total = sum(n["capacity"] for n in machine["nodes"])
    used = m["node_used"][-1] if m["node_used"] else [0]
    free_rate = (total - sum(used)) * 1000 // total if total else None
    procs = m["final"]["processes"]
    finished = [p["name"] for p in procs if p["finished"]]
    views = []
    last = {}
    for r in rec.records:
        if r.nr_snapshots:
            i = r.nr_snapshots - 1
            sl = slice(r.region_offsets[i], r.region_offsets[i + 1])
            last.setdefault((r.kdamond_idx, r.context_idx), []).extend(zip(
                r.starts[sl].tolist(), r.ends[sl].tolist(), r.nr_accesses[sl].tolist(),
                r.ages[sl].tolist()))
    for f in m["final"]["schemes"]:
        kd, ci, si = f["kdamond_idx"], f["context_idx"], f["scheme_idx"]
        ctxp = kdamonds[kd].contexts[ci]
        sp = ctxp.schemes[si]
        pattern = sp.access_pattern.in_kernel_units(ctxp.sample_us, ctxp.aggr_us)
        w = sp.watermarks
        q = f.get("quota", {})
        views.append(SchemeView(
            "kdamond %d context %d scheme %d" % (kd, ci, si), f["action"], pattern,
            f["stats"], apply_interval_us=sp.apply_interval_us, esz=q.get("esz"),
            quota={"ms": sp.quotas.time_ms, "sz": sp.quotas.sz_bytes,
                   "reset_interval_ms": sp.quotas.reset_interval_ms},
            goals=[{"metric": g.metric, "target_value": g.target_value,
                    "current_value": g.current_value if g.metric == "user_input" else None}
                   for g in sp.quotas.goals],
            wmarks=None if w.metric == "none" else {
                "metric": w.metric, "high": w.high_permil, "mid": w.mid_permil,
                "low": w.low_permil},
            wmarks_active=f.get("active", True),
            free_rate=free_rate,
            filters=[{"type": x.filter_type, "allow": x.allow, "matching": x.matching,
                      "memcg": x.memcg_path, "core": _core(x.filter_type)}
                     for x in sp.filters],
            apply_postponed=(f.get("apply_state") or {}).get("apply_postponed_in_row"),
            madvise_holes=_holes(f.get("apply_state")),
            sample_us=ctxp.sample_us, aggr_us=ctxp.aggr_us,
            intervals_goal=ctxp.intervals_goal.as_tuple() if ctxp.intervals_goal else None,
            regions=last.get((kd, ci), []),
            target_gone="its workload %s ended" % finished[0] if finished and
            ctxp.ops != "paddr" else None,
            swap=machine.get("swap") is not None,
            elapsed_us=m["final"]["time_ns"] // 1000, ops=ctxp.ops))
    return views


def hint_lines_of_recording(path):
    """The lines of a recording's schemes that need a hint; none if the
    recording cannot say (no parameters kept, no schemes)."""
    from damo.errors import DamoError
    try:
        views = recording_views(path)
    except DamoError:
        return []
    out = []
    for v in views:
        verdict, reason = diagnose(v)
        if reason:
            out.append("%s (%s): %s: %s" % (v.where, v.action, verdict, reason))
    return out
