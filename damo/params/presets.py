"""Ready-made DAMON setups: the kernel's special-purpose modules and samples
with their default parameters (damon-semantics.md §4), and the damon-tests
scheme variants, as damo kdamonds parameters.

    damo record --preset reclaim --memory dram:1G,swap:zswap hotcold
    damo record --preset lru_sort --preset_param hot_thres_access_freq=300
    damo record --preset mtier --memory dram:1G,cxl:4G hotcold

Each preset takes the module's parameters by their kernel names
(``--preset_param name=value``); values take damo's units (5s, 128M, 50%).
"""
import dataclasses

from damo.params import damon as params_mod
from damo.params import schemes as s_mod
from damo.errors import DamoError

ULONG_MAX = s_mod.ULONG_MAX
UINT_MAX = s_mod.UINT_MAX
PAGE = s_mod.PAGE_SIZE
MiB = 1 << 20


@dataclasses.dataclass
class Param:
    default: object
    kind: str          # us, ms, bytes, permil, bp, nr, bool
    help: str


def _parse(kind, text, where):
    if kind == "us":
        return s_mod.to_us(text, where)
    if kind == "ms":
        return s_mod.to_ms(text, where)
    if kind == "bytes":
        return s_mod.to_bytes(text, where)
    if kind == "permil":
        return s_mod.to_permil(text, where)
    if kind == "bp":
        return s_mod.to_bp(text, where)
    if kind == "bool":
        return s_mod.to_bool(text, where)
    return s_mod.to_nr(text, where)


def _monitoring_params():
    return {
        "sample_interval": Param(5000, "us", "sampling interval"),
        "aggr_interval": Param(100000, "us", "aggregation interval"),
        "min_nr_regions": Param(10, "nr", "minimum number of regions"),
        "max_nr_regions": Param(1000, "nr", "maximum number of regions"),
        "monitor_region_start": Param(0, "bytes", "start of the monitored physical range "
                                      "(0: all memory)"),
        "monitor_region_end": Param(0, "bytes", "end of the monitored physical range"),
    }


def _wmark_params(high, mid, low):
    return {
        "wmarks_interval": Param(5000000, "us", "watermarks check interval"),
        "wmarks_high": Param(high, "permil", "high watermark (free memory)"),
        "wmarks_mid": Param(mid, "permil", "middle watermark"),
        "wmarks_low": Param(low, "permil", "low watermark"),
    }


# autotune_monitoring_intervals=Y: the modules' goal (0.4% of events, 3
# aggregations, 5 ms..10 s), from 5 ms / 100 ms
MODULE_AUTOTUNE_GOAL = (40, 3, 5000, 10000000)


def _attrs(p):
    """(sample_us, aggr_us, intervals goal) the modules' damon_set_attrs() gets."""
    if p.get("autotune_monitoring_intervals"):
        return 5000, 100000, params_mod.IntervalsGoal(*MODULE_AUTOTUNE_GOAL)
    return p["sample_interval"], p["aggr_interval"], None


def _paddr_ctx(p, machine, regions=None):
    ctx = params_mod.ContextParams(ops="paddr")
    ctx.sample_us, ctx.aggr_us, ctx.intervals_goal = _attrs(p)
    ctx.update_us = 0                       # the modules' ops_update_interval
    ctx.min_nr_regions, ctx.max_nr_regions = p["min_nr_regions"], p["max_nr_regions"]
    ctx.addr_unit = p.get("addr_unit", 1)
    if regions is None:
        start, end = p.get("monitor_region_start", 0), p.get("monitor_region_end", 0)
        if start or end:
            if start >= end:
                raise DamoError("--preset_param: monitor_region_start must be below "
                                "monitor_region_end", exit_code=2)
            regions = [(start, end)]
        else:
            lo, hi = machine.phys_range
            regions = [(lo // ctx.addr_unit, hi // ctx.addr_unit)]
    ctx.targets = [params_mod.TargetParams(None, list(regions))]
    return ctx


def _wmarks(p):
    return s_mod.WatermarksParams("free_mem_rate", p["wmarks_interval"], p["wmarks_high"],
                                  p["wmarks_mid"], p["wmarks_low"])


def _aggr_intervals(us, p):
    return us // _attrs(p)[1]


# ------------------------------------------------------------- DAMON_RECLAIM

RECLAIM_PARAMS = dict(
    _monitoring_params(),
    min_age=Param(120000000, "us", "regions not accessed this long are reclaimed"),
    quota_ms=Param(10, "ms", "time quota per reset interval"),
    quota_sz=Param(128 * MiB, "bytes", "size quota per reset interval"),
    quota_reset_interval_ms=Param(1000, "ms", "quota reset interval"),
    quota_mem_pressure_us=Param(0, "us", "some_mem_psi_us goal (0: off)"),
    quota_autotune_feedback=Param(0, "nr", "user_input goal's current value (0: off)"),
    autotune_monitoring_intervals=Param(False, "bool", "auto-tune the intervals (0.4% of "
                                        "events, 3 aggregations, 5 ms..10 s)"),
    addr_unit=Param(1, "nr", "bytes per monitored address (paddr address unit)"),
    skip_anon=Param(False, "bool", "do not reclaim anonymous pages"),
    **_wmark_params(500, 400, 200))


def reclaim(p, machine):
    """DAMON_RECLAIM: page out memory regions not accessed for min_age, oldest
    first, within a 10 ms / 128 MiB per second quota, while free memory is
    between the watermarks (active below 40%, off above 50% or below 20%)."""
    quotas = s_mod.QuotaParams(p["quota_ms"], p["quota_sz"], p["quota_reset_interval_ms"],
                               0, 0, 1)
    if p["quota_mem_pressure_us"]:
        quotas.goals.append(s_mod.QuotaGoalParams("some_mem_psi_us",
                                                  p["quota_mem_pressure_us"]))
    if p["quota_autotune_feedback"]:
        quotas.goals.append(s_mod.QuotaGoalParams("user_input", 10000,
                                                  p["quota_autotune_feedback"]))
    scheme = s_mod.SchemeParams(
        "pageout", s_mod.AccessPattern(
            (PAGE, ULONG_MAX), (0, 0), "samples",
            (_aggr_intervals(p["min_age"], p), UINT_MAX), "aggr_intervals"),
        quotas=quotas, watermarks=_wmarks(p), origin="preset reclaim scheme")
    if p["skip_anon"]:
        scheme.filters.append(s_mod.FilterParams("anon", True, False))
    ctx = _paddr_ctx(p, machine)
    ctx.schemes = [scheme]
    return [params_mod.KdamondParams([ctx])]


# ------------------------------------------------------------ DAMON_LRU_SORT

LRU_SORT_PARAMS = dict(
    _monitoring_params(),
    hot_thres_access_freq=Param(500, "permil", "access frequency of hot regions"),
    cold_min_age=Param(120000000, "us", "regions not accessed this long are cold"),
    quota_ms=Param(10, "ms", "time quota per reset interval (half for each scheme)"),
    quota_reset_interval_ms=Param(1000, "ms", "quota reset interval"),
    active_mem_bp=Param(0, "bp", "target active memory ratio (0: off)"),
    filter_young_pages=Param(False, "bool", "check page-level access before acting"),
    autotune_monitoring_intervals=Param(False, "bool", "auto-tune the intervals (0.4% of "
                                        "events, 3 aggregations, 5 ms..10 s)"),
    addr_unit=Param(1, "nr", "bytes per monitored address (paddr address unit)"),
    **_wmark_params(200, 150, 50))


def lru_sort(p, machine):
    """DAMON_LRU_SORT: mark hot regions accessed (lru_prio) and cold ones
    not accessed (lru_deprio), each within half of a 10 ms per second
    quota, while free memory is between the watermarks (20%, 15%, 5%)."""
    sample_us, aggr_us, _ = _attrs(p)
    max_nr = aggr_us // sample_us if sample_us else 1
    hot_thres = max_nr * p["hot_thres_access_freq"] // 1000
    half = p["quota_ms"] // 2
    hot = s_mod.SchemeParams(
        "lru_prio", s_mod.AccessPattern((PAGE, ULONG_MAX), (hot_thres, UINT_MAX), "samples",
                                        (0, UINT_MAX), "aggr_intervals"),
        quotas=s_mod.QuotaParams(half, 0, p["quota_reset_interval_ms"], 0, 1, 1),
        watermarks=_wmarks(p), origin="preset lru_sort hot scheme")
    cold = s_mod.SchemeParams(
        "lru_deprio", s_mod.AccessPattern(
            (PAGE, ULONG_MAX), (0, 0), "samples",
            (_aggr_intervals(p["cold_min_age"], p), UINT_MAX), "aggr_intervals"),
        quotas=s_mod.QuotaParams(half, 0, p["quota_reset_interval_ms"], 0, 0, 1),
        watermarks=_wmarks(p), origin="preset lru_sort cold scheme")
    if p["active_mem_bp"]:
        hot.quotas.goals.append(s_mod.QuotaGoalParams("active_mem_bp", p["active_mem_bp"]))
        cold.quotas.goals.append(s_mod.QuotaGoalParams(
            "inactive_mem_bp", 10000 - p["active_mem_bp"] + 2))
    if p["filter_young_pages"]:
        hot.filters.append(s_mod.FilterParams("young", False, False))
        cold.filters.append(s_mod.FilterParams("young", True, False))
    ctx = _paddr_ctx(p, machine)
    ctx.schemes = [hot, cold]
    return [params_mod.KdamondParams([ctx])]


# -------------------------------------------------------------------- mtier

MTIER_PARAMS = dict(
    node0=Param(0, "nr", "the fast node (promotion target)"),
    node1=Param(1, "nr", "the slow node (demotion target)"),
    sample_interval=Param(5000, "us", "initial sampling interval"),
    aggr_interval=Param(100000, "us", "initial aggregation interval"),
    intervals_autotune=Param(True, "bool", "auto-tune the intervals (4% of events, 3 "
                             "aggregations, 5 ms..10 s)"),
    apply_interval=Param(1000000, "us", "apply interval of both schemes"),
    quota_sz=Param(200 * MiB, "bytes", "size quota of each direction per reset interval"),
    quota_reset_interval_ms=Param(1000, "ms", "quota reset interval"),
    promote_target_bp=Param(9970, "bp", "used-memory goal of the fast node"),
    demote_target_bp=Param(50, "bp", "free-memory goal of the fast node"),
)


def mtier(p, machine):
    """samples/damon/mtier.c: two paddr kdamonds, one promoting the hot
    pages of the slow node to the fast one (goal: fast node 99.7% used), one
    demoting the cold pages of the fast node (goal: 0.5% of it free); both
    check page-level access (young filters)."""
    n0, n1 = p["node0"], p["node1"]
    nodes = machine.nodes
    if len(nodes) < 2:
        raise DamoError("--preset mtier needs a machine with two memory tiers, e.g. "
                        "--memory dram:1G,cxl:4G", exit_code=2)
    for n in (n0, n1):
        if n >= len(nodes):
            raise DamoError("--preset_param: node %d does not exist (the machine has %d "
                            "nodes)" % (n, len(nodes)), exit_code=2)
    if n0 == n1:
        raise DamoError("--preset_param: node0 and node1 must differ", exit_code=2)
    kdamonds = []
    for promote in (True, False):
        node = nodes[n1 if promote else n0]
        ctx = params_mod.ContextParams(ops="paddr")
        ctx.sample_us, ctx.aggr_us, ctx.update_us = \
            p["sample_interval"], p["aggr_interval"], 60000000
        if p["intervals_autotune"]:
            ctx.intervals_goal = params_mod.IntervalsGoal(400, 3, 5000, 10000000)
        ctx.targets = [params_mod.TargetParams(None, [(node["phys_start"], node["phys_end"])])]
        goal = s_mod.QuotaGoalParams("node_mem_used_bp" if promote else "node_mem_free_bp",
                                     p["promote_target_bp"] if promote
                                     else p["demote_target_bp"], nid=n0)
        scheme = s_mod.SchemeParams(
            "migrate_hot" if promote else "migrate_cold",
            s_mod.AccessPattern((PAGE, ULONG_MAX), (1, UINT_MAX) if promote else (0, 0),
                                "samples", (0, UINT_MAX), "aggr_intervals"),
            target_nid=n0 if promote else n1, apply_interval_us=p["apply_interval"],
            quotas=s_mod.QuotaParams(0, p["quota_sz"], p["quota_reset_interval_ms"],
                                     0, 100, 100, [goal]),
            filters=[s_mod.FilterParams("young", True, promote)],
            origin="preset mtier %s scheme" % ("promote" if promote else "demote"))
        ctx.schemes = [scheme]
        kdamonds.append(params_mod.KdamondParams([ctx]))
    return kdamonds


# --------------------------------------------------- damon-tests variants

def _vaddr_scheme_preset(build):
    def make(p, machine):
        ctx = params_mod.ContextParams(ops="vaddr")
        ctx.targets = [params_mod.TargetParams()]
        ctx.schemes = build(p)
        return [params_mod.KdamondParams([ctx])]
    make.__doc__ = build.__doc__
    return make


PRCL_PARAMS = dict(min_age=Param(5000000, "us", "regions idle this long are paged out"))


@_vaddr_scheme_preset
def prcl(p):
    """damon-tests prcl: page out regions >= 4 KiB not accessed for >= 5 s
    (4K max 0 0 5s max pageout)."""
    return [s_mod.SchemeParams("pageout", s_mod.AccessPattern(
        (PAGE, ULONG_MAX), (0, 0), "percent", (p["min_age"], ULONG_MAX), "usec"),
        origin="preset prcl scheme")]


ETHP_PARAMS = dict(hot_rate=Param(5, "nr", "access rate (%) of regions to back with THP"),
                   cold_age=Param(7000000, "us", "idle age of regions to take THP from"))


@_vaddr_scheme_preset
def ethp(p):
    """damon-tests ethp: MADV_HUGEPAGE on regions accessed >= 5%, and
    MADV_NOHUGEPAGE on >= 2 MiB regions idle >= 7 s."""
    return [s_mod.SchemeParams("hugepage", s_mod.AccessPattern(
                (0, ULONG_MAX), (p["hot_rate"], ULONG_MAX), "percent", (0, ULONG_MAX), "usec"),
                origin="preset ethp hugepage scheme"),
            s_mod.SchemeParams("nohugepage", s_mod.AccessPattern(
                (2 * MiB, ULONG_MAX), (0, 0), "percent", (p["cold_age"], ULONG_MAX), "usec"),
                origin="preset ethp nohugepage scheme")]


PRESETS = {
    "reclaim": (reclaim, RECLAIM_PARAMS),
    "lru_sort": (lru_sort, LRU_SORT_PARAMS),
    "mtier": (mtier, MTIER_PARAMS),
    "prcl": (prcl, PRCL_PARAMS),
    "ethp": (ethp, ETHP_PARAMS),
}


def describe():
    """One line per preset, for help texts."""
    return "\n".join("  %-9s %s" % (name, " ".join(fn.__doc__.split())[:100])
                     for name, (fn, _) in PRESETS.items())


def parse_params(name, texts):
    """{param: value} of a preset: its defaults overridden by name=value texts."""
    if name not in PRESETS:
        raise DamoError("--preset: unknown preset %r (one of: %s)"
                        % (name, ", ".join(PRESETS)), exit_code=2)
    spec = PRESETS[name][1]
    values = {k: v.default for k, v in spec.items()}
    for text in texts or ():
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep:
            raise DamoError("--preset_param: %r is not name=value" % text, exit_code=2)
        if key not in spec:
            raise DamoError("--preset_param: %s has no parameter %r (it has: %s)"
                            % (name, key, ", ".join(spec)), exit_code=2)
        values[key] = _parse(spec[key].kind, value.strip(), "--preset_param %s" % key)
    return values


def kdamonds(name, param_texts, machine):
    """The KdamondParams of a preset on a machine."""
    p = parse_params(name, param_texts)
    out = PRESETS[name][0](p, machine)
    for kd in out:
        for ctx in kd.contexts:
            ctx.validate()
            for s in ctx.schemes:
                s.validate(ctx.ops, len(ctx.targets), len(machine.nodes))
    return out


# ------------------------------------------------- command-line options

def preset_options(f):
    """--preset, --preset_param and --kdamonds: where a command's kdamonds
    come from when not from the monitoring and --damos_* options."""
    import click

    opts = [
        click.option("--preset", type=click.Choice(sorted(PRESETS)), metavar="<name>",
                     help="run a ready-made DAMON setup with the kernel's defaults: %s "
                          "(see --preset_param)" % ", ".join(PRESETS)),
        click.option("--preset_param", multiple=True, metavar="<name>=<value>",
                     help="set a preset parameter, by the module parameter's name "
                          "(e.g. min_age=30s, quota_sz=64M, wmarks_high=600)"),
        click.option("--kdamonds", "kdamonds_file", metavar="<json/yaml file>",
                     help="the kdamonds to run, in damo's kdamonds JSON/YAML layout"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def probe_machine(memory, workloads):
    """The machine a run with these options would get (for presets that need
    its node ranges before the run exists)."""
    from damo_engine import machines

    from damo.runner import footprint
    try:
        return machines.make_machine(memory, fits=footprint(workloads))
    except machines.MachineSpecError as e:
        raise DamoError("--memory: %s" % e, exit_code=2)


def kdamonds_from_options(opts, monitoring_ctx, workloads, explicit=()):
    """The kdamonds of a command: --kdamonds FILE, --preset NAME, or one
    context from the monitoring options with the --damos_* schemes.
    ``explicit`` names the monitoring options given on the command line
    (they conflict with a file or a preset)."""
    from damo.params import schemes as schemes_mod

    damos_given = [n for n in schemes_mod.given_options(opts) if n != "damos_scheme"]
    source = "--kdamonds" if opts.get("kdamonds_file") else (
        "--preset" if opts.get("preset") else None)
    if opts.get("kdamonds_file") and opts.get("preset"):
        raise DamoError("--preset: cannot be used with --kdamonds", exit_code=2)
    if opts.get("preset_param") and not opts.get("preset"):
        raise DamoError("--preset_param: needs --preset", exit_code=2)
    if source:
        if damos_given:
            raise DamoError("--%s: %s gives the schemes; drop the --damos_* options"
                            % (damos_given[0], source), exit_code=2)
        if explicit:
            raise DamoError("--%s: %s gives the monitoring parameters; drop the option"
                            % (sorted(explicit)[0], source), exit_code=2)
    if opts.get("kdamonds_file"):
        kds = params_mod.load_kdamonds(opts["kdamonds_file"])
        machine = probe_machine(opts.get("memory"), workloads)
        lo, hi = machine.phys_range
        for kd in kds:
            for ctx in kd.contexts:
                for t in ctx.targets:
                    for start, end in t.regions if ctx.ops == "paddr" else ():
                        if start < lo or end > hi:
                            raise DamoError(
                                "%s: paddr region %#x-%#x is outside the simulated "
                                "machine's memory (%#x-%#x); leave the regions out to "
                                "monitor all of it" % (opts["kdamonds_file"], start, end,
                                                       lo, hi), exit_code=2)
                for s in ctx.schemes:
                    try:
                        s.validate(ctx.ops, len(ctx.targets), len(machine.nodes))
                    except DamoError as e:
                        raise DamoError("%s: %s" % (opts["kdamonds_file"], e),
                                        exit_code=e.exit_code)
        return kds
    if opts.get("preset"):
        return kdamonds(opts["preset"], opts.get("preset_param"),
                        probe_machine(opts.get("memory"), workloads))
    from damo.params import damon_args
    machine = probe_machine(opts.get("memory"), workloads)
    kds = damon_args.kdamonds_from_options(opts, machine, nr_workloads=len(workloads))
    for kd in kds:
        for ctx in kd.contexts:
            ctx.validate()
            for s in ctx.schemes:
                s.validate(ctx.ops, len(ctx.targets), len(machine.nodes))
    return kds
