"""The simulated kernel's special-purpose DAMON modules: DAMON_RECLAIM,
DAMON_LRU_SORT and DAMON_STAT (mm/damon/reclaim.c, lru_sort.c, stat.c), as
parts of a live daemon's machine.

Each module has the kernel's module parameters (``/sys/module/damon_<name>/
parameters/``) with their defaults, types and checks: unsigned longs through
kstrtoul() (decimal, 0x hex, 0 octal), booleans through kstrtobool(),
read-only ones refused.  Writing ``enabled`` turns the module's kdamond on
(apply the parameters, then damon_start() exclusively: -EBUSY while another
kdamond of the machine runs) or off; ``commit_inputs`` applies the
parameters again, online, inside the kdamond (damon_call() of
damon_commit_ctx(); -EINVAL when it does not run).  Parameter errors are the
kernel's errno, named; the module keeps what it had.

The daemon owns the machine and its kdamonds; a Module gives it contexts to
start (``start_contexts``) and commits, and reads its statistics back.
"""
import errno
import os

from damo.errors import DamoError

PAGE_SIZE = 4096
DAMON_MIN_REGION_SZ = PAGE_SIZE
ULONG_MAX = 2**64 - 1
INT_MAX = 2**31 - 1


class ParamError(DamoError):
    """A module parameter write the kernel refuses, with its errno."""

    def __init__(self, module, param, err, why=""):
        self.errno = err
        super().__init__("damon_%s: %s: %s%s" % (
            module, param, os.strerror(err), " (%s)" % why if why else ""))


# ------------------------------------------------------------ kernel parsing

def kstrtoul(text):
    """kstrtoul(s, 0): decimal, 0x hex or 0 octal, an optional trailing
    newline; None if invalid or out of range."""
    s = text[:-1] if text.endswith("\n") else text
    if s.startswith("+"):
        s = s[1:]
    if not s:
        return None
    base = 10
    if s[:2].lower() == "0x":
        base, s = 16, s[2:]
    elif len(s) > 1 and s[0] == "0":
        base, s = 8, s[1:]
    digits = "0123456789abcdef"[:base]
    if not s or any(c not in digits for c in s.lower()):
        return None
    value = int(s, base)
    return value if value <= ULONG_MAX else None


def kstrtobool(text):
    """kstrtobool(): y/Y/1/n/N/0, on/off (first characters)."""
    s = text.lower()
    if not s:
        return None
    if s[0] in "y1":
        return True
    if s[0] in "n0":
        return False
    if s[:2] == "on":
        return True
    if s[:2] == "of":
        return False
    return None


class P:
    """A module parameter: kind ulong, bool, int or long array; mode rw/ro."""

    def __init__(self, kind, default=0, mode="rw"):
        self.kind = kind
        self.default = default
        self.mode = mode


def _stats_params(tried, applied, exceeds):
    return {"nr_" + tried: P("ulong", mode="ro"), "bytes_" + tried: P("ulong", mode="ro"),
            "nr_" + applied: P("ulong", mode="ro"), "bytes_" + applied: P("ulong", mode="ro"),
            "nr_" + exceeds: P("ulong", mode="ro")}


_MON_ATTRS = {"sample_interval": P("ulong", 5000), "aggr_interval": P("ulong", 100000),
              "min_nr_regions": P("ulong", 10), "max_nr_regions": P("ulong", 1000)}
_REGION = {"monitor_region_start": P("ulong", 0), "monitor_region_end": P("ulong", 0),
           "addr_unit": P("ulong", 1)}


def _wmarks(high, mid, low):
    return {"wmarks_interval": P("ulong", 5000000), "wmarks_high": P("ulong", high),
            "wmarks_mid": P("ulong", mid), "wmarks_low": P("ulong", low)}


# --------------------------------------------------------------- the modules

class Module:
    name = None
    title = None
    params = {}
    # damo's own status list (damo reclaim/lru_sort status), in its order
    status_order = ()

    def __init__(self):
        self.values = {n: p.default for n, p in self.params.items()}
        self.kdamond = None         # the daemon's LiveKdamond while it has one
        self.ctx = None             # its engine context

    # the daemon fills these in
    def running(self):
        return self.kdamond is not None and self.kdamond.running

    def read(self, name, daemon):
        if name == "enabled":
            return "Y" if self.running() else "N"
        if name == "kdamond_pid":
            return "%d" % (os.getpid() if self.running() else -1)
        value = self.values[name]
        kind = self.params[name].kind
        if kind == "bool":
            return "Y" if value else "N"
        if kind == "long_array":
            return ",".join("%d" % v for v in value)
        return "%d" % value

    def write(self, name, text, daemon):
        """One `echo TEXT > parameters/NAME`."""
        if name not in self.params:
            raise ParamError(self.name, name, errno.ENOENT, "no such parameter")
        p = self.params[name]
        if p.mode == "ro":
            raise ParamError(self.name, name, errno.EACCES, "read-only")
        if p.kind == "bool":
            value = kstrtobool(text.strip("\n")) if name != "commit_inputs" or text else True
            if value is None:
                raise ParamError(self.name, name, errno.EINVAL, "not a boolean: %r" % text)
        else:
            value = kstrtoul(text)
            if value is None:
                raise ParamError(self.name, name, errno.EINVAL,
                                 "not an unsigned long: %r" % text)
        if name == "enabled":
            return self._enable(value, daemon)
        if name == "commit_inputs":
            if not value:
                return None
            if not self.running():
                raise ParamError(self.name, name, errno.EINVAL,
                                 "%s is not running (damon_call() needs its kdamond)"
                                 % self.title)
            return daemon.module_commit(self, self.kdamond_params(daemon))
        if name == "addr_unit" and value == 0:
            raise ParamError(self.name, name, errno.EINVAL, "must not be 0")
        self.values[name] = value
        return None

    def _enable(self, on, daemon):
        if on == self.running():
            return None
        if not on:
            return daemon.module_stop(self)
        return daemon.module_start(self, self.kdamond_params(daemon))

    # what apply_parameters() builds (and refuses, with its errno)
    def check_common(self, zero_interval_param):
        v = self.values
        min_region_sz = max(DAMON_MIN_REGION_SZ // v["addr_unit"], 1)
        if min_region_sz & (min_region_sz - 1):
            raise ParamError(self.name, "addr_unit", errno.EINVAL,
                             "the minimum region size %d / %d is not a power of 2"
                             % (DAMON_MIN_REGION_SZ, v["addr_unit"]))
        if not v[zero_interval_param]:
            raise ParamError(self.name, zero_interval_param, errno.EINVAL, "must not be 0")
        if v["monitor_region_start"] > v["monitor_region_end"]:
            raise ParamError(self.name, "monitor_region_start", errno.EINVAL,
                             "above monitor_region_end")

    def preset_values(self, machine):
        """The parameters as damo.params.presets takes them, the monitoring
        region defaulting to all of the machine's memory (which the kernel
        writes back into the parameters)."""
        v = dict(self.values)
        if not v["monitor_region_start"] and not v["monitor_region_end"]:
            lo, hi = machine.phys_range
            v["monitor_region_start"] = lo // v["addr_unit"]
            v["monitor_region_end"] = hi // v["addr_unit"]
        return v

    def kdamond_params(self, daemon):
        """The KdamondParams of apply_parameters(); raises ParamError."""
        from damo.params import presets

        self.check()
        v = self.preset_values(daemon.run.machine)
        builder = presets.PRESETS[self.name][0]
        try:
            kds = builder(v, daemon.run.machine)
            for kd in kds:
                for ctx in kd.contexts:
                    ctx.validate()
                    for s in ctx.schemes:
                        s.validate(ctx.ops, len(ctx.targets), len(daemon.run.machine.nodes))
        except DamoError as e:
            raise ParamError(self.name, "parameters", errno.EINVAL, str(e))
        self.values["monitor_region_start"] = v["monitor_region_start"]
        self.values["monitor_region_end"] = v["monitor_region_end"]
        return kds[0]

    def refresh(self, daemon):
        """Copy the kdamond's statistics into the read-only parameters."""


class Reclaim(Module):
    name = "reclaim"
    title = "DAMON_RECLAIM"
    params = dict(
        enabled=P("bool", False), commit_inputs=P("bool", False),
        min_age=P("ulong", 120000000),
        quota_ms=P("ulong", 10), quota_reset_interval_ms=P("ulong", 1000),
        quota_sz=P("ulong", 128 << 20),
        quota_mem_pressure_us=P("ulong", 0), quota_autotune_feedback=P("ulong", 0),
        autotune_monitoring_intervals=P("bool", False),
        **_wmarks(500, 400, 200), **_MON_ATTRS, **_REGION,
        skip_anon=P("bool", False), kdamond_pid=P("int", -1, "ro"),
        **_stats_params("reclaim_tried_regions", "reclaimed_regions", "quota_exceeds"))
    status_order = (
        "kdamond_pid", "enabled", "min_age", "quota_ms", "quota_sz", "quota_reset_interval_ms",
        "wmarks_interval", "wmarks_high", "wmarks_mid", "wmarks_low", "sample_interval",
        "aggr_interval", "min_nr_regions", "max_nr_regions", "monitor_region_start",
        "monitor_region_end", "nr_reclaim_tried_regions", "nr_reclaimed_regions",
        "bytes_reclaim_tried_regions", "bytes_reclaimed_regions", "nr_quota_exceeds",
        "skip_anon", "quota_mem_pressure_us", "quota_autotune_feedback")

    def check(self):
        self.check_common("aggr_interval")

    def refresh(self, daemon):
        if self.ctx is None or not self.ctx.schemes:
            return
        st = self.ctx.schemes[0].stats()
        v = self.values
        v["nr_reclaim_tried_regions"], v["bytes_reclaim_tried_regions"] = \
            st["nr_tried"], st["sz_tried"]
        v["nr_reclaimed_regions"], v["bytes_reclaimed_regions"] = \
            st["nr_applied"], st["sz_applied"]
        v["nr_quota_exceeds"] = st["qt_exceeds"]


class LruSort(Module):
    name = "lru_sort"
    title = "DAMON_LRU_SORT"
    params = dict(
        enabled=P("bool", False), commit_inputs=P("bool", False),
        active_mem_bp=P("ulong", 0), autotune_monitoring_intervals=P("bool", False),
        filter_young_pages=P("bool", False),
        hot_thres_access_freq=P("ulong", 500), cold_min_age=P("ulong", 120000000),
        quota_ms=P("ulong", 10), quota_reset_interval_ms=P("ulong", 1000),
        **_wmarks(200, 150, 50), **_MON_ATTRS, **_REGION,
        kdamond_pid=P("int", -1, "ro"),
        **_stats_params("lru_sort_tried_hot_regions", "lru_sorted_hot_regions",
                        "hot_quota_exceeds"),
        **_stats_params("lru_sort_tried_cold_regions", "lru_sorted_cold_regions",
                        "cold_quota_exceeds"))
    status_order = (
        "kdamond_pid", "enabled", "hot_thres_access_freq", "cold_min_age", "quota_ms",
        "quota_reset_interval_ms", "wmarks_interval", "wmarks_high", "wmarks_mid",
        "wmarks_low", "sample_interval", "aggr_interval", "min_nr_regions", "max_nr_regions",
        "monitor_region_start", "monitor_region_end", "nr_lru_sort_tried_hot_regions",
        "nr_lru_sorted_hot_regions", "bytes_lru_sort_tried_hot_regions",
        "bytes_lru_sorted_hot_regions", "nr_lru_sort_tried_cold_regions",
        "nr_lru_sorted_cold_regions", "bytes_lru_sort_tried_cold_regions",
        "bytes_lru_sorted_cold_regions")

    def check(self):
        self.check_common("sample_interval")

    def refresh(self, daemon):
        if self.ctx is None:
            return
        v = self.values
        for s in self.ctx.schemes:
            which = {"lru_prio": "hot", "lru_deprio": "cold"}.get(s.action_name)
            if which is None:
                continue
            st = s.stats()
            v["nr_lru_sort_tried_%s_regions" % which] = st["nr_tried"]
            v["bytes_lru_sort_tried_%s_regions" % which] = st["sz_tried"]
            v["nr_lru_sorted_%s_regions" % which] = st["nr_applied"]
            v["bytes_lru_sorted_%s_regions" % which] = st["sz_applied"]
            v["nr_%s_quota_exceeds" % which] = st["qt_exceeds"]


class Stat(Module):
    """DAMON_STAT: whole-memory paddr monitoring with intervals auto-tuning
    (4% of events, 3 aggregations, 5 ms..10 s), publishing every 5 s (at
    least) the estimated memory bandwidth and the per-byte idle time
    percentiles, from the regions as the kdamond has them then."""
    name = "stat"
    title = "DAMON_STAT"
    params = dict(enabled=P("bool", False),
                  estimated_memory_bandwidth=P("ulong", 0, "ro"),
                  memory_idle_ms_percentiles=P("long_array", [0] * 101, "ro"),
                  aggr_interval_us=P("ulong", 0, "ro"))
    REFRESH_NS = 5 * 10**9

    def __init__(self):
        super().__init__()
        self.values["memory_idle_ms_percentiles"] = [0] * 101
        self.last_refresh_ns = 0

    def check(self):
        pass

    def kdamond_params(self, daemon):
        from damo.params import damon as params_mod
        ctx = params_mod.ContextParams(ops="paddr")
        ctx.sample_us, ctx.aggr_us, ctx.update_us = 5000, 100000, 60000000
        ctx.min_nr_regions, ctx.max_nr_regions = 10, 1000
        ctx.intervals_goal = params_mod.IntervalsGoal(400, 3, 5000, 10000000)
        ctx.targets = [params_mod.TargetParams(None, [daemon.run.machine.phys_range])]
        return params_mod.KdamondParams([ctx])

    def read(self, name, daemon):
        if name == "kdamond_pid":
            raise ParamError(self.name, name, errno.ENOENT, "no such parameter")
        return super().read(name, daemon)

    def on_call(self, ctx, now_ns):
        """damon_stat_damon_call_fn(): at most every 5 s, in the kdamond."""
        if now_ns - self.last_refresh_ns <= self.REFRESH_NS:
            return
        self.last_refresh_ns = now_ns
        aggr = ctx.aggr_us
        self.values["aggr_interval_us"] = aggr
        regions = [r for t in ctx.targets for r in t.regions()]
        access_bytes = sum((r[1] - r[0]) * r[2] for r in regions)
        # unsigned long arithmetic: the product wraps before the division
        self.values["estimated_memory_bandwidth"] = \
            ((access_bytes * 1000 * 1000) & ULONG_MAX) // aggr if aggr else 0
        self.values["memory_idle_ms_percentiles"] = idle_percentiles(regions, aggr)


def idletime(r):
    """damon_stat_idletime(): age + 1 aggregations idle, negative if accessed."""
    return -(r[4] + 1) if r[2] else r[4] + 1


def idle_percentiles(regions, aggr_us):
    """damon_stat_set_idletime_percentiles(): regions sorted by idle time,
    each percentile the idle time (ms) of the region its byte falls in."""
    out = [0] * 101
    total = sum(r[1] - r[0] for r in regions)
    if not total:
        return out
    nxt = accounted = 0
    for r in sorted(regions, key=idletime):
        accounted += r[1] - r[0]
        while nxt <= 100 and nxt <= accounted * 100 // total:
            # C: int idle time times (long) aggr_interval / USEC_PER_MSEC,
            # truncated toward zero
            ms = idletime(r) * aggr_us
            out[nxt] = ms // 1000 if ms >= 0 else -(-ms // 1000)
            nxt += 1
    return out


MODULES = {"reclaim": Reclaim, "lru_sort": LruSort, "stat": Stat}
