"""The DAMON features of the simulated kernel, by damo 3.4.3's feature names.

damo finds a kernel's features by probing its sysfs files; here each feature
is answered from what the engine and the parameter layer actually accept
(an action, goal metric or filter type the parameter layer refuses is not
supported), so that the list follows the engine as it grows.  ``damo
features`` and ``damo report sysinfo`` print it.

FEATURES lists damo's features in damo's order (by upstream release) with
the release damo gives for each; damo infers a kernel's DAMON version from
the newest release among the supported features.
"""

# (name, upstreamed version as damo gives it)
FEATURES = (
    ("debugfs/record", "none"), ("debugfs/vaddr", "5.15"), ("trace/damon_aggregated", "5.15"),
    ("interface/damon_debugfs", "5.15"),
    ("debugfs/schemes", "5.16"), ("debugfs/init_regions", "5.16"), ("debugfs/paddr", "5.16"),
    ("debugfs/schemes_size_quota", "5.16"), ("debugfs/schemes_time_quota", "5.16"),
    ("debugfs/schemes_prioritization", "5.16"), ("debugfs/schemes_wmarks", "5.16"),
    ("interface/damon_reclaim", "5.16"),
    ("debugfs/schemes_stat_succ", "5.17"), ("debugfs/schemes_stat_qt_exceed", "5.17"),
    ("reclaim/stats", "5.17"),
    ("debugfs/init_regions_target_idx", "5.18"), ("interface/damon_sysfs", "5.18"),
    ("sysfs/vaddr", "5.18"), ("sysfs/schemes_time_quota", "5.18"), ("sysfs/paddr", "5.18"),
    ("sysfs/init_regions", "5.18"), ("sysfs/schemes", "5.18"),
    ("sysfs/schemes_stat_succ", "5.18"), ("sysfs/schemes_size_quota", "5.18"),
    ("sysfs/schemes_stat_qt_exceed", "5.18"), ("sysfs/schemes_wmarks", "5.18"),
    ("sysfs/schemes_prioritization", "5.18"),
    ("sysfs/avail_ops", "5.19"), ("sysfs/fvaddr", "5.19"),
    ("sysfs/online_params_commit", "5.19"), ("reclaim/commit_inputs", "5.19"),
    ("interface/damon_lru_sort", "6.0"),
    ("sysfs/schemes_tried_regions", "6.2"),
    ("sysfs/schemes_filters", "6.3"), ("sysfs/schemes_filters_anon", "6.3"),
    ("sysfs/schemes_filters_memcg", "6.3"), ("reclaim/skip_anon", "6.3"),
    ("sysfs/schemes_tried_regions_sz", "6.6"), ("sysfs/schemes_filters_addr", "6.6"),
    ("sysfs/schemes_filters_target", "6.6"),
    ("sysfs/schemes_apply_interval", "6.7"), ("trace/damos_before_apply", "6.7"),
    ("sysfs/schemes_quota_goals", "6.8"),
    ("sysfs/schemes_quota_effective_bytes", "6.9"), ("sysfs/schemes_quota_goal_metric", "6.9"),
    ("sysfs/schemes_quota_goal_some_psi", "6.9"), ("reclaim/quota_mem_pressure_us", "6.9"),
    ("reclaim/quota_user_feedback", "6.9"),
    ("sysfs/schemes_filters_young", "6.10"),
    ("sysfs/schemes_migrate", "6.11"),
    ("sysfs/sz_ops_filter_passed", "6.14"), ("sysfs/allow_filter", "6.14"),
    ("sysfs/schemes_filters_hugepage_size", "6.15"), ("sysfs/schemes_filters_unmapped", "6.15"),
    ("sysfs/intervals_goal", "6.15"), ("sysfs/schemes_filters_core_ops_dirs", "6.15"),
    ("sysfs/schemes_filters_active", "6.15"),
    ("sysfs/schemes_quota_goal_node_mem_used_free", "6.16"),
    ("sysfs/schemes_dests", "6.17"), ("sysfs/refresh_ms", "6.17"),
    ("trace/damon_monitor_intervals_tune", "6.17"), ("trace/damos_esz", "6.17"),
    ("interface/damon_stat", "6.17"),
    ("sysfs/addr_unit", "6.18"), ("reclaim/addr_unit", "6.18"), ("lru_sort/addr_unit", "6.18"),
    ("stat/aggr_interval", "6.18"), ("stat/negative_idle_time", "6.18"),
    ("sysfs/schemes_quota_goal_node_memcg_used_free", "6.19"),
    ("sysfs/obsolete_target", "6.19"),
    ("sysfs/damos_stat_nr_snapshots", "7.0"), ("sysfs/damos_max_nr_snapshots", "7.0"),
    ("trace/damos_stat_after_apply_interval", "7.0"),
    ("sysfs/damos_quota_goal_in_active_mem_bp", "7.0"), ("lru_sort/young_page_filter", "7.0"),
    ("lru_sort/active_mem_bp", "7.0"), ("lru_sort/autotune_monitoring_intervals", "7.0"),
    ("sysfs/damos_quota_goal_tuner", "7.1"),
    ("sysfs/damos_action_collapse", "7.2"),
    ("sysfs/damos_quota_goal_node_eligible_mem_bp", "7.2"), ("sysfs/ctx_pause", "7.2"),
    ("sysfs/damos_quota_fail_charge_ratio", "7.2"), ("sysfs/attrs_monitoring", "7.2"),
    ("sysfs/probe_type_anon", "7.2"), ("sysfs/probe_type_memcg", "7.2"),
    ("trace/damon_region_aggregated", "7.2"),
    ("sysfs/probe_weights", "7.3"),
    ("sysfs/probe_preps", "none"), ("sysfs/probe_prep_set_pgidle", "none"),
    ("sysfs/probe_type_pgidle_unset", "none"), ("sysfs/probe_type_pgidle_set", "none"),
    ("sysfs/damos_filter_probe_hits_wsum", "none"), ("sysfs/probe_type_hugepage_size", "none"),
    ("sysfs/damos_quota_goal_complement", "none"),
    ("sysfs/damon_sample_control", "none"),
    ("sysfs/ops_attrs", "will be replaced by attrs_monitoring"),
)
NAMES = tuple(name for name, _ in FEATURES)

# Always there: what the simulated kernel's DAMON sysfs interface (damo
# start/tune/status through the daemons) and its monitoring core do.
_CORE = {
    "interface/damon_sysfs", "sysfs/vaddr", "sysfs/paddr", "sysfs/fvaddr", "sysfs/avail_ops",
    "sysfs/init_regions", "sysfs/online_params_commit", "sysfs/intervals_goal",
    "sysfs/schemes", "sysfs/schemes_time_quota", "sysfs/schemes_size_quota",
    "sysfs/schemes_prioritization", "sysfs/schemes_wmarks", "sysfs/schemes_stat_succ",
    "sysfs/schemes_stat_qt_exceed", "sysfs/schemes_tried_regions",
    "sysfs/schemes_tried_regions_sz", "sysfs/schemes_apply_interval",
    "sysfs/schemes_quota_goals", "sysfs/schemes_quota_effective_bytes",
    "sysfs/schemes_migrate", "sysfs/schemes_dests", "sysfs/sz_ops_filter_passed",
    "sysfs/allow_filter", "sysfs/schemes_filters", "sysfs/schemes_filters_core_ops_dirs",
    "sysfs/damos_stat_nr_snapshots", "sysfs/damos_max_nr_snapshots",
}
# The special-purpose modules (damo module, damo reclaim, damo lru_sort).
_MODULES = {
    "interface/damon_reclaim", "reclaim/stats", "reclaim/commit_inputs", "reclaim/skip_anon",
    "reclaim/quota_mem_pressure_us", "reclaim/quota_user_feedback",
    "interface/damon_lru_sort", "lru_sort/young_page_filter", "lru_sort/active_mem_bp",
    "lru_sort/autotune_monitoring_intervals",
    "interface/damon_stat", "stat/aggr_interval", "stat/negative_idle_time",
}


def _refused(fn):
    from damo.errors import DamoError
    try:
        fn()
    except (DamoError, ValueError, TypeError):
        return True
    return False


def _filter_ok(ftype):
    from damo.params import schemes
    return ftype in schemes.FILTER_TYPES and ftype not in schemes.UNSUPPORTED_FILTER_TYPES


def _goal_ok(metric):
    from damo.params import schemes
    return metric in schemes.GOAL_METRICS and metric not in schemes.UNSUPPORTED_GOAL_METRICS


def _engine_context_has(name):
    try:
        from damo_engine.core import Context
    except ImportError:
        return False
    return hasattr(Context, name)


def _probe_filter_ok(ftype):
    from damo.params import damon
    try:
        from damo_engine.core import Probe  # noqa: F401 (the engine runs probes)
    except ImportError:
        return False
    return not _refused(lambda: damon.ProbeFilterParams(
        ftype, memcg_path="/" if ftype == "memcg" else None).validate("probe filter"))


def _engine_probe_has(name):
    try:
        from damo_engine.core import Probe
    except ImportError:
        return False
    return hasattr(Probe(), name)


def _probes():
    """Feature name -> supported, from what the layers below accept."""
    from damo.params import schemes

    s = {name: False for name in NAMES}
    for name in _CORE:
        s[name] = True
    import importlib.util
    if importlib.util.find_spec("damo.live.modules") is not None:
        for name in _MODULES:
            s[name] = True
    for ftype in ("anon", "memcg", "addr", "target", "young", "hugepage_size", "unmapped",
                  "active"):
        s["sysfs/schemes_filters_%s" % ftype] = _filter_ok(ftype)
    s["sysfs/damos_filter_probe_hits_wsum"] = _filter_ok("probe_hits_wsum")
    s["sysfs/schemes_quota_goal_metric"] = _goal_ok("some_mem_psi_us")
    s["sysfs/schemes_quota_goal_some_psi"] = _goal_ok("some_mem_psi_us")
    s["sysfs/schemes_quota_goal_node_mem_used_free"] = \
        _goal_ok("node_mem_used_bp") and _goal_ok("node_mem_free_bp")
    s["sysfs/schemes_quota_goal_node_memcg_used_free"] = \
        _goal_ok("node_memcg_used_bp") and _goal_ok("node_memcg_free_bp")
    s["sysfs/damos_quota_goal_in_active_mem_bp"] = \
        _goal_ok("active_mem_bp") and _goal_ok("inactive_mem_bp")
    s["sysfs/damos_quota_goal_node_eligible_mem_bp"] = _goal_ok("node_eligible_mem_bp")
    s["sysfs/damos_quota_goal_tuner"] = "temporal" in schemes.GOAL_TUNERS
    s["sysfs/damos_action_collapse"] = "collapse" in schemes.ACTIONS and \
        "collapse" not in schemes.UNSUPPORTED_ACTIONS
    s["sysfs/damos_quota_fail_charge_ratio"] = not _refused(
        lambda: schemes.QuotaParams(fail_charge_num=1, fail_charge_denom=2).validate("q"))
    s["sysfs/damos_quota_goal_complement"] = not _refused(
        lambda: schemes.QuotaGoalParams("user_input", 10000, complement=True).validate("g"))
    s["sysfs/addr_unit"] = _engine_context_has("addr_unit")
    s["reclaim/addr_unit"] = s["lru_sort/addr_unit"] = s["sysfs/addr_unit"]
    s["sysfs/ctx_pause"] = _engine_context_has("pause")
    from damo.params import damon
    # data attributes monitoring: the probe filter types the parameter layer
    # takes, and weights when the engine's probes have them
    s["sysfs/probe_type_anon"] = _probe_filter_ok("anon")
    s["sysfs/probe_type_memcg"] = _probe_filter_ok("memcg")
    s["sysfs/attrs_monitoring"] = s["sysfs/probe_type_anon"] or s["sysfs/probe_type_memcg"]
    for ftype in damon.PROBE_FILTER_TYPES_NEWER:
        s["sysfs/probe_type_%s" % ftype] = _probe_filter_ok(ftype)
    s["sysfs/probe_weights"] = s["sysfs/attrs_monitoring"] and _engine_probe_has("weight")
    s["sysfs/probe_preps"] = s["sysfs/probe_prep_set_pgidle"] = not _refused(
        lambda: damon.ProbeParams(preps=["set_pgidle"]).validate("probe"))
    s["sysfs/refresh_ms"] = "refresh_ms" in damon.KDAMOND_FEATURES
    s["sysfs/obsolete_target"] = "obsolete_target" in damon.KDAMOND_FEATURES
    return s


def supported():
    """{feature name: bool} for every damo feature."""
    return _probes()


def supported_names():
    s = supported()
    return [name for name in NAMES if s[name]]


def infer_damon_version(names=None):
    """damo's inference: the newest upstream release among the supported
    features ('5.17', ...), with '+' when a newer unreleased one is there."""
    avail = set(supported_names() if names is None else names)
    if not avail:
        return "<5.15"
    plus = False
    for name, version in reversed(FEATURES):
        if name in avail:
            if version in ("none", "unknown"):
                plus = True
            else:
                return version + ("+" if plus else "")
    return None


def kernel_version():
    """(version, commit) of the mainline kernel the engine emulates, or
    (None, None) when the engine does not say."""
    try:
        import damo_engine
    except ImportError:
        return None, None
    return (getattr(damo_engine, "KERNEL_VERSION", None),
            getattr(damo_engine, "KERNEL_COMMIT", None))
