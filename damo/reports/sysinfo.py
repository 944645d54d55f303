"""``damo report sysinfo``: versions, the DAMON features of the simulated
kernel, the tracing tools, and (ours) the simulated machine, in damo 3.4.3's
layout.

What damo reads from the running system is here the simulation's: the
kernel version is the mainline release the engine follows, the DAMON
features are those the engine and the parameter layer accept
(damo.kernel_features), and there is no sysfs, tracefs or debugfs (so
their paths are None).  perf and trace-cmd are the real tools of this
machine (they read perf.data and trace-cmd files here too).  Features are
listed in damo's order: its sysfs features, then trace, interface and
module features.
"""
import shutil
import subprocess

from damo import units

PRINT_CHOICES = ("versions", "fs_info", "trace_cmd_info", "perf_info", "sysfs_features",
                 "debugfs_features", "trace_features", "stat_features", "lru_sort_features",
                 "reclaim_features", "interfaces", "unavailable_features", "machine", "all")
DEFAULT_PRINT = ("versions", "interfaces", "machine")

# damo's feature descriptions: name -> (upstream status, comments)
STATUS = {
    'debugfs/record': ('withdrawn', 'was in DAMON patchset, but not merged in mainline'),
    'debugfs/vaddr': ('merged in v5.15', ''),
    'trace/damon_aggregated': ('merged in v5.15 (2fcb93629ad8)', ''),
    'interface/damon_debugfs': ('merged in v5.15-rc1 (4bc05954d007)', ''),
    'debugfs/schemes': ('merged in v5.16', ''),
    'debugfs/init_regions': ('merged in v5.16 (90bebce9fcd6)', ''),
    'debugfs/paddr': ('merged in v5.16 (a28397beb55b)', ''),
    'debugfs/schemes_size_quota': ('merged in v5.16 (2b8a248d5873)', ''),
    'debugfs/schemes_time_quota': ('merged in v5.16 (1cd243030059)', ''),
    'debugfs/schemes_prioritization': ('merged in v5.16 (38683e003153)', ''),
    'debugfs/schemes_wmarks': ('merged in v5.16 (ee801b7dd782)', ''),
    'interface/damon_reclaim': ('merged in v5.16-rc1 (43b0536cb471)', ''),
    'debugfs/schemes_stat_succ': ('merged in v5.17 (0e92c2ee9f45)', ''),
    'debugfs/schemes_stat_qt_exceed': ('merged in v5.17 (0e92c2ee9f45)', ''),
    'reclaim/stats': ('merged in v5.17-rc1 (0e92c2ee9f45)', ''),
    'debugfs/init_regions_target_idx': ('merged in v5.18 (144760f8e0c3)', ''),
    'interface/damon_sysfs': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/vaddr': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_time_quota': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/paddr': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/init_regions': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_stat_succ': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_size_quota': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_stat_qt_exceed': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_wmarks': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/schemes_prioritization': ('merged in v5.18-rc1 (c951cd3b8901)', ''),
    'sysfs/avail_ops': ('merged in v5.19 (0f2cb5885771b)', ''),
    'sysfs/fvaddr': ('merged in v5.19 (b82434471cd2)', ''),
    'sysfs/online_params_commit': ('merged in v5.19 (adc286e6bdd3)', ''),
    'reclaim/commit_inputs': ('merged in v5.19 (81a84182c3430)', ''),
    'interface/damon_lru_sort': ('merged in v6.0-rc1 (40e983cca927)', ''),
    'sysfs/schemes_tried_regions': ('merged in v6.2-rc1', ''),
    'sysfs/schemes_filters': ('merged in v6.3-rc1', ''),
    'sysfs/schemes_filters_anon': ('merged in v6.3-rc1', ''),
    'sysfs/schemes_filters_memcg': ('merged in v6.3-rc1', ''),
    'reclaim/skip_anon': ('merged in v6.3-rc1 (d56fe24237c3d)', ''),
    'sysfs/schemes_tried_regions_sz': ('merged in v6.6-rc1', ''),
    'sysfs/schemes_filters_addr': ('merged in v6.6-rc1', ''),
    'sysfs/schemes_filters_target': ('merged in v6.6-rc1', ''),
    'sysfs/schemes_apply_interval': ('merged in v6.7-rc1', ''),
    'trace/damos_before_apply': ('merged in v6.7-rc1 (c603c630b509)', ''),
    'sysfs/schemes_quota_goals': ('merged in v6.8-rc1', ''),
    'sysfs/schemes_quota_effective_bytes': ('merged in v6.9-rc1', ''),
    'sysfs/schemes_quota_goal_metric': ('merged in v6.9-rc1', ''),
    'sysfs/schemes_quota_goal_some_psi': ('merged in v6.9-rc1', ''),
    'reclaim/quota_mem_pressure_us': ('merged in v6.9-rc1 (75c40c2509e79)', ''),
    'reclaim/quota_user_feedback': ('merged in v6.9-rc1 (75c40c2509e79)', ''),
    'sysfs/schemes_filters_young': ('merged in v6.10-rc1', ''),
    'sysfs/schemes_migrate': ('merged in v6.11-rc1', ''),
    'sysfs/sz_ops_filter_passed': ('merged in v6.14-rc1 (626ffabe67c2)', ''),
    'sysfs/allow_filter': ('merged in v6.14-rc1', ''),
    'sysfs/schemes_filters_hugepage_size': ('merged in v6.15-rc1 (0431c4262261)', ''),
    'sysfs/schemes_filters_unmapped': ('merged in v6.15-rc1', ''),
    'sysfs/intervals_goal': ('merged in v6.15-rc1 (1eb3471bf574)', ''),
    'sysfs/schemes_filters_core_ops_dirs': ('merged in v6.15-rc1', ''),
    'sysfs/schemes_filters_active': ('merged in v6.15-rc1 (3b23a44f1f19)', ''),
    'sysfs/schemes_quota_goal_node_mem_used_free': ('merged in v6.16-rc1 (0e1c773b501f)', ''),
    'sysfs/schemes_dests': ('merged in v6.17-rc1 (a2c24eae5a15)', ''),
    'sysfs/refresh_ms': ('merged in v6.17-rc1', ''),
    'trace/damon_monitor_intervals_tune': ('merged in v6.17-rc1 (214db7028727)', ''),
    'trace/damos_esz': ('merged in v6.17-rc1 (a86d695193bf)', ''),
    'interface/damon_stat': ('merged in v6.17-rc1 (369c415e6073)', ''),
    'sysfs/addr_unit': ('merged in v6.18-rc1 (09a616cbb371)', ''),
    'reclaim/addr_unit': ('merged in v6.18-rc1 (7db551fcfb2a)', ''),
    'lru_sort/addr_unit': ('merged in v6.18-rc1 (2e0fe9245d6b)', ''),
    'stat/aggr_interval': ('merged in v6.18-rc1 (cc7ceb1d14b0)', ''),
    'stat/negative_idle_time': ('merged in v6.18-rc1 (a983a26d5298)', ''),
    'sysfs/schemes_quota_goal_node_memcg_used_free': ('merged in v6.19-rc1 (6a18bbe48361)', ''),
    'sysfs/obsolete_target': ('merged in v6.19-rc1', ''),
    'sysfs/damos_stat_nr_snapshots': ('merged in v7.0-rc1 (4a6ceb7c9744)', ''),
    'sysfs/damos_max_nr_snapshots': ('merged in v7.0-rc1 (4a6ceb7c9744)', ''),
    'trace/damos_stat_after_apply_interval': ('merged in v7.0-rc1 (4a6ceb7c9744)', ''),
    'sysfs/damos_quota_goal_in_active_mem_bp': ('merged in v7.0-rc1 (4a6ceb7c9744)', ''),
    'lru_sort/young_page_filter': ('merged in v7.0-rc1 (4835e2871321f)', ''),
    'lru_sort/active_mem_bp': ('merged in v7.0-rc1 (4835e2871321f)', ''),
    'lru_sort/autotune_monitoring_intervals': ('merged in v7.0-rc1 (4835e2871321f)', ''),
    'sysfs/damos_quota_goal_tuner': ('merged in v7.1-rc1 (8719c59c4b928)', ''),
    'sysfs/damos_action_collapse': ('merged in v7.2-rc1 (58996503b631)', ''),
    'sysfs/damos_quota_goal_node_eligible_mem_bp': ('merged in v7.2-rc1 (9138e27a3bc3)', ''),
    'sysfs/ctx_pause': ('merged in v7.2-rc1 (3b9e3cc0405b4)', ''),
    'sysfs/damos_quota_fail_charge_ratio': ('merged in v7.2-rc1 (c7ec7d5f6b3d1)', ''),
    'sysfs/attrs_monitoring': ('merged in v7.2-rc1 (45c49d9fd6089)', ''),
    'sysfs/probe_type_anon': ('merged in v7.2-rc1 (8caba1448278)', ''),
    'sysfs/probe_type_memcg': ('merged in v7.2-rc1 (c71f8e13462d)', ''),
    'trace/damon_region_aggregated': ('merged in v7.2-rc1 (45c49d9fd6089)', ''),
    'sysfs/probe_weights': ('merged in v7.3-rc1 (37aae41c1056)', ''),
    'sysfs/probe_preps': ('merged into mm.git', ''),
    'sysfs/probe_prep_set_pgidle': ('merged into mm.git', ''),
    'sysfs/probe_type_pgidle_unset': ('merged into mm.git', ''),
    'sysfs/probe_type_pgidle_set': ('merged into mm.git', ''),
    'sysfs/damos_filter_probe_hits_wsum': ('merged into mm.git', ''),
    'sysfs/probe_type_hugepage_size': ('merged into mm.git', ''),
    'sysfs/damos_quota_goal_complement': ('hacking on damon/next', ''),
    'sysfs/damon_sample_control': ('hacking on damon/next', 'a replacement of ops_attrs; will be replaced by attrs_monitoring'),
    'sysfs/ops_attrs': ('hacking on damon/next', ''),
}

_TRACE_ORDER = ("trace/damon_aggregated", "trace/damos_before_apply",
                "trace/damon_monitor_intervals_tune", "trace/damos_esz",
                "trace/damos_stat_after_apply_interval", "trace/damon_region_aggregated")
_INTERFACE_ORDER = ("interface/damon_debugfs", "interface/damon_sysfs",
                    "interface/damon_reclaim", "interface/damon_lru_sort",
                    "interface/damon_stat")
_MODULE_ORDER = ("stat/aggr_interval", "stat/negative_idle_time", "lru_sort/addr_unit",
                 "lru_sort/young_page_filter", "lru_sort/active_mem_bp",
                 "lru_sort/autotune_monitoring_intervals", "reclaim/stats",
                 "reclaim/commit_inputs", "reclaim/skip_anon", "reclaim/quota_mem_pressure_us",
                 "reclaim/quota_user_feedback", "reclaim/addr_unit")

# damo's --print categories of feature name prefixes
_CATEGORY = {"interface/": "interfaces", "sysfs/": "sysfs_features",
             "debugfs/": "debugfs_features", "trace/": "trace_features",
             "stat/": "stat_features", "lru_sort/": "lru_sort_features",
             "reclaim/": "reclaim_features"}


def available_in_damo_order(supported):
    """Supported feature names, ordered as damo's sysinfo collects them."""
    from damo import kernel_features
    names = [n for n in kernel_features.NAMES if supported.get(n)]
    sysfs = [n for n in names if n.startswith("sysfs/")]
    debugfs = [n for n in names if n.startswith("debugfs/")]
    rest = [n for n in _TRACE_ORDER + _INTERFACE_ORDER + _MODULE_ORDER if supported.get(n)]
    return sysfs + debugfs + rest


def _wanted(prints, category):
    return "all" in prints or category in prints


def _perf():
    path = shutil.which("perf")
    version = None
    if path:
        try:
            version = subprocess.run([path, "--version"], capture_output=True, text=True,
                                     timeout=30).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            version = None
    return path, version


def _trace_cmd_version():
    path = shutil.which("trace-cmd")
    if path is None:
        return None
    try:
        done = subprocess.run([path], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("trace-cmd version "):
            return " ".join(line.split()[2:])
    return None


def _feature_lines(name):
    status, comments = STATUS.get(name, ("unknown", ""))
    lines = ["- %s (%s)" % (name, status)]
    if comments:
        lines.append("  - %s" % comments)
    return lines


def machine_lines(machine, source, raw=False):
    sz = units.format_sz
    lines = ["simulated machine: %s (%s)" % (machine.get("spec") or "default", source)]
    for n in machine["nodes"]:
        lines.append("- node %d: %s (%s), %s, %s ns, %s GB/s, physical [%s, %s)" % (
            n["id"], n["name"], n["kind"], sz(n["capacity"], raw),
            units.format_nr(n["latency_ns"], raw), "%g" % n["bandwidth_gbps"],
            units.format_nr(n["phys_start"], raw), units.format_nr(n["phys_end"], raw)))
    swap = machine.get("swap")
    if swap:
        lines.append("- swap: %s, %s, %s ns in, %s ns out" % (
            swap["kind"], sz(swap["capacity"], raw), units.format_nr(swap["fault_ns"], raw),
            units.format_nr(swap["out_ns"], raw)))
    else:
        lines.append("- swap: none")
    if machine.get("thp"):
        lines.append("- transparent hugepages: %s" % machine["thp"])
    return lines


def text(prints, machine=None, source=None, raw=False):
    from damo import __version__, kernel_features

    supported = kernel_features.supported()
    lines = []
    if _wanted(prints, "versions"):
        kversion, commit = kernel_features.kernel_version()
        lines.append("damo version: %s" % __version__)
        lines.append("kernel version: %s" % (
            "%s (simulated, mainline %s)" % (kversion, commit[:12]) if kversion and commit
            else kversion or "unknown (simulated)"))
        version = kernel_features.infer_damon_version(
            [n for n in kernel_features.NAMES if supported[n]])
        lines.append("DAMON version: %s" % (version if version is not None
                                            else "unknown (only non-upstreamed features)"))
    if _wanted(prints, "fs_info"):
        # the simulated kernel mounts none of them
        lines += ["sysfs: None", "tracefs: None", "debugfs: None"]
    if _wanted(prints, "trace_cmd_info"):
        lines.append("trace-cmd version: %s" % _trace_cmd_version())
    if _wanted(prints, "perf_info"):
        path, version = _perf()
        lines += ["perf path: %s" % path, "perf version: %s" % version]
    if _wanted(prints, "machine") and machine is not None:
        lines += machine_lines(machine, source, raw)
    shown = []
    for name in available_in_damo_order(supported):
        category = next(c for prefix, c in _CATEGORY.items() if name.startswith(prefix))
        if _wanted(prints, category):
            shown.append(name)
    if shown:
        lines.append("available DAMON features:")
        for name in shown:
            lines += _feature_lines(name)
    if _wanted(prints, "unavailable_features"):
        missing = [n for n in kernel_features.NAMES if not supported[n]]
        if missing:
            lines.append("unavailable DAMON features:")
            for name in missing:
                lines += _feature_lines(name)
    return "\n".join(lines)
