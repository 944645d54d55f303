"""The search space of ``damo autotune``: which scheme (or preset) parameters
vary, over which ranges, and how a point of the space becomes an evaluation.

``--space`` is a comma-separated list of ``NAME=LO..HI`` (a range: times
and sizes spanning a decade or more are searched on a log scale),
``NAME=A|B|C`` (a choice) or ``NAME=V`` (fixed).  Values take damo's units
(5s, 4K, 2M, 5%).  Scheme parameters (``--damos_action``):

    min_age max_age          access pattern age (time)
    sz_min sz_max            region size (bytes)
    nr_min nr_max            access rate (percent)
    apply_interval           scheme apply interval (time)
    quota_ms quota_sz        time and size quota (a quota is set if either is)
    quota_reset              quota reset interval (ms; default 1 s)
    weight_sz weight_nr weight_age   quota prioritization weights (permil)
    goal_some_mem_psi_us goal_node_mem_used_bp goal_node_mem_free_bp
                             a quota goal's target (node goals on node 0)
    wmarks_high wmarks_mid wmarks_low   free memory watermarks (permil)
    sample aggr              monitoring intervals (time)
    min_nr_regions max_nr_regions

With ``--preset NAME`` the names are the preset's parameters (those of
``--preset_param``).
"""
import dataclasses
import math
from typing import Optional

from damo.errors import DamoError
from damo.params import schemes as s_mod

ULONG_MAX = s_mod.ULONG_MAX
PAGE = s_mod.PAGE_SIZE

# name -> (kind, what it sets)
SCHEME_PARAMS = {
    "min_age": ("us", "minimum age of the access pattern"),
    "max_age": ("us", "maximum age of the access pattern"),
    "sz_min": ("bytes", "minimum region size"),
    "sz_max": ("bytes", "maximum region size"),
    "nr_min": ("percent", "minimum access rate"),
    "nr_max": ("percent", "maximum access rate"),
    "apply_interval": ("us", "apply interval of the scheme"),
    "quota_ms": ("ms", "time quota"),
    "quota_sz": ("bytes", "size quota"),
    "quota_reset": ("ms", "quota reset interval"),
    "weight_sz": ("permil", "quota weight of the region size"),
    "weight_nr": ("permil", "quota weight of the access rate"),
    "weight_age": ("permil", "quota weight of the age"),
    "goal_some_mem_psi_us": ("us", "target of a some_mem_psi_us quota goal"),
    "goal_node_mem_used_bp": ("bp", "target of a node_mem_used_bp quota goal (node 0)"),
    "goal_node_mem_free_bp": ("bp", "target of a node_mem_free_bp quota goal (node 0)"),
    "wmarks_high": ("permil", "high free memory watermark"),
    "wmarks_mid": ("permil", "middle free memory watermark"),
    "wmarks_low": ("permil", "low free memory watermark"),
    "sample": ("us", "sampling interval"),
    "aggr": ("us", "aggregation interval"),
    "min_nr_regions": ("nr", "minimum number of regions"),
    "max_nr_regions": ("nr", "maximum number of regions"),
}

# actions that act on cold memory (access rate 0, age searched) and on hot
# memory (access rate searched)
COLD_ACTIONS = ("pageout", "cold", "lru_deprio", "migrate_cold", "nohugepage", "stat")
HOT_ACTIONS = ("willneed", "hugepage", "collapse", "lru_prio", "migrate_hot")

DEFAULT_SPACES = {
    "cold": "min_age=1s..60s,sz_min=4K..2M,quota_sz=16M..4G",
    "hot": "nr_min=1%..100%,sz_min=4K..2M,quota_sz=16M..4G",
    "reclaim": "min_age=1s..120s,quota_sz=16M..1G,wmarks_high=400..1000",
    "prcl": "min_age=1s..60s",
    "lru_sort": "hot_thres_access_freq=10..1000,cold_min_age=1s..120s,quota_ms=1..100",
    "mtier": "promote_target_bp=5000..9990,demote_target_bp=10..5000,quota_sz=16M..1G",
    "ethp": "hot_rate=1..50,cold_age=1s..60s",
}

_PARSERS = {"us": s_mod.to_us, "ms": s_mod.to_ms, "bytes": s_mod.to_bytes,
            "percent": s_mod.to_percent, "permil": s_mod.to_permil, "bp": s_mod.to_bp,
            "nr": s_mod.to_nr, "bool": s_mod.to_bool}


def _fmt(kind, value):
    """A value for people (rounded: damo's units)."""
    from damo import units
    if kind == "us":
        return "max" if value >= ULONG_MAX else units.format_time_us(value, False).replace(" ", "")
    if kind == "ms":
        return "max" if value >= ULONG_MAX else units.format_time_us(value * 1000, False
                                                                       ).replace(" ", "")
    if kind == "bytes":
        return "max" if value >= ULONG_MAX else units.format_sz(value, False).replace(" ", "")
    if kind == "percent":
        return "%.3g%%" % value
    return "%s" % value


@dataclasses.dataclass
class Dimension:
    name: str
    kind: str
    low: object = None
    high: object = None
    choices: Optional[tuple] = None     # a choice (or one fixed value)
    log: bool = False

    @property
    def fixed(self):
        return self.choices is not None and len(self.choices) == 1

    def distribution(self):
        import optuna
        if self.choices is not None:
            return optuna.distributions.CategoricalDistribution(list(self.choices))
        if self.kind == "percent":
            return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)
        return optuna.distributions.IntDistribution(self.low, self.high, log=self.log)

    def grid(self, points):
        """The values a grid search tries."""
        if self.choices is not None:
            return list(self.choices)
        if points < 2 or self.low == self.high:
            return [self.low]
        if self.log:
            values = [self.low * (self.high / self.low) ** (i / (points - 1))
                      for i in range(points)]
        else:
            values = [self.low + (self.high - self.low) * i / (points - 1)
                      for i in range(points)]
        if self.kind != "percent":
            values = [int(round(v)) for v in values]
        values[0], values[-1] = self.low, self.high
        return sorted(set(values))

    def describe(self):
        if self.choices is not None:
            return "%s=%s" % (self.name, "|".join(_fmt(self.kind, c) for c in self.choices))
        return "%s=%s..%s%s" % (self.name, _fmt(self.kind, self.low), _fmt(self.kind, self.high),
                                " (log)" if self.log else "")


def _value(kind, text, where):
    return _PARSERS[kind](text.strip(), where)


def parse(text, kinds):
    """[Dimension] of a --space text; kinds: name -> kind of the names it
    may use.  Errors are one line naming the item."""
    dims = []
    seen = set()
    items = [i.strip() for i in text.split(",")] if text else []
    for item in items:
        if not item:
            raise DamoError("--space: empty item in %r" % text, exit_code=2)
        name, sep, spec = item.partition("=")
        name, spec = name.strip(), spec.strip()
        if not sep or not name or not spec:
            raise DamoError("--space: %r is not NAME=LO..HI, NAME=A|B or NAME=VALUE" % item,
                            exit_code=2)
        if name not in kinds:
            raise DamoError("--space: unknown parameter %r (one of: %s)"
                            % (name, ", ".join(kinds)), exit_code=2)
        if name in seen:
            raise DamoError("--space: %s is given twice" % name, exit_code=2)
        seen.add(name)
        kind = kinds[name]
        where = "--space %s" % name
        if ".." in spec:
            lo_text, _, hi_text = spec.partition("..")
            if kind == "bool":
                raise DamoError("%s: a boolean takes true|false, not a range" % where,
                                exit_code=2)
            lo, hi = _value(kind, lo_text, where), _value(kind, hi_text, where)
            if lo > hi:
                raise DamoError("%s: the range %s..%s is inverted" % (where, lo_text.strip(),
                                                                    hi_text.strip()),
                                exit_code=2)
            if lo == hi:
                dims.append(Dimension(name, kind, choices=(lo,)))
                continue
            log = kind in ("us", "ms", "bytes") and lo > 0 and hi / lo >= 10
            dims.append(Dimension(name, kind, lo, hi, log=log))
        else:
            values = tuple(_value(kind, v, where) for v in spec.split("|"))
            if len(set(values)) != len(values):
                raise DamoError("%s: a choice is given twice" % where, exit_code=2)
            dims.append(Dimension(name, kind, choices=values))
    return dims


# ------------------------------------------------------------ the space

class Space:
    """Dimensions and the way a point of them becomes an Evaluation."""

    def __init__(self, dims, *, action=None, target_nid=None, ops=None, preset=None):
        self.dims = dims
        self.action = action
        self.target_nid = target_nid
        self.ops = ops
        self.preset = preset

    @classmethod
    def for_scheme(cls, action, target_nid, ops, text):
        if action not in s_mod.ACTIONS:
            raise DamoError("--damos_action: unknown action %r (one of: %s)"
                            % (action, ", ".join(s_mod.ACTIONS)), exit_code=2)
        if ops is None:
            ops = "vaddr" if action in s_mod.OPS_ACTIONS["vaddr"] else "paddr"
        if text is None:
            text = DEFAULT_SPACES["hot" if action in HOT_ACTIONS else "cold"]
        dims = parse(text, {n: k for n, (k, _) in SCHEME_PARAMS.items()})
        return cls(dims, action=action, target_nid=target_nid, ops=ops)

    @classmethod
    def for_preset(cls, preset, text):
        from damo.params import presets
        if preset not in presets.PRESETS:
            raise DamoError("--preset: unknown preset %r (one of: %s)"
                            % (preset, ", ".join(presets.PRESETS)), exit_code=2)
        spec = presets.PRESETS[preset][1]
        dims = parse(DEFAULT_SPACES[preset] if text is None else text,
                     {n: p.kind for n, p in spec.items()})
        return cls(dims, preset=preset)

    def describe(self):
        what = "preset %s" % self.preset if self.preset else "%s scheme%s" % (
            self.action, "" if self.target_nid is None else " to node %d" % self.target_nid)
        return "%s: %s" % (what, ", ".join(d.describe() for d in self.dims))

    def distributions(self):
        return {d.name: d.distribution() for d in self.dims}

    def grid(self, points):
        return {d.name: d.grid(points) for d in self.dims}

    def midpoint(self):
        """A point inside the space (to check the parameters before a search)."""
        out = {}
        for d in self.dims:
            if d.choices is not None:
                out[d.name] = d.choices[0]
            elif d.log:
                v = math.sqrt(d.low * d.high)
                out[d.name] = v if d.kind == "percent" else int(round(v))
            else:
                v = (d.low + d.high) / 2
                out[d.name] = v if d.kind == "percent" else int(round(v))
        return out

    def evaluation_fields(self, params):
        """What an Evaluation of this point takes: {kdamonds: ...} or
        {preset:, preset_params:}."""
        if self.preset:
            kinds = {d.name: d.kind for d in self.dims}
            return {"preset": self.preset, "preset_params": tuple(
                "%s=%s" % (k, _preset_value(kinds[k], v)) for k, v in sorted(params.items()))}
        return {"kdamonds": self.kdamonds(params)}

    def kdamonds(self, params):
        """The kdamonds (damo's layout) of a point of a scheme space."""
        from damo.params import damon as params_mod
        p = dict(params)
        hot = self.action in HOT_ACTIONS
        pattern = s_mod.AccessPattern(
            (p.get("sz_min", PAGE), p.get("sz_max", ULONG_MAX)),
            (p.get("nr_min", 0), p.get("nr_max", ULONG_MAX if hot else 0)), "percent",
            (p.get("min_age", 0), p.get("max_age", ULONG_MAX)), "usec")
        scheme = s_mod.SchemeParams(self.action, pattern, origin="autotune scheme")
        if self.action in s_mod.MIGRATE_ACTIONS:
            scheme.target_nid = self.target_nid
        scheme.apply_interval_us = p.get("apply_interval", 0)
        goals = [s_mod.QuotaGoalParams(name[len("goal_"):], p[name],
                                       nid=None if name == "goal_some_mem_psi_us" else 0)
                 for name in ("goal_some_mem_psi_us", "goal_node_mem_used_bp",
                              "goal_node_mem_free_bp") if name in p]
        if "quota_ms" in p or "quota_sz" in p or goals:
            # prioritize by age for cold memory (DAMON_RECLAIM's weights), by
            # access rate for hot memory, unless the weights are searched
            scheme.quotas = s_mod.QuotaParams(
                p.get("quota_ms", 0), p.get("quota_sz", 0), p.get("quota_reset", 1000),
                p.get("weight_sz", 0), p.get("weight_nr", 1 if hot else 0),
                p.get("weight_age", 0 if hot else 1), goals)
        if any(k.startswith("wmarks_") for k in p):
            scheme.watermarks = s_mod.WatermarksParams(
                "free_mem_rate", 1000000, p.get("wmarks_high", 500), p.get("wmarks_mid", 400),
                p.get("wmarks_low", 200))
        ctx = params_mod.ContextParams(ops=self.ops)
        ctx.targets = [params_mod.TargetParams()]
        ctx.sample_us = p.get("sample", ctx.sample_us)
        ctx.aggr_us = p.get("aggr", ctx.aggr_us)
        ctx.min_nr_regions = p.get("min_nr_regions", ctx.min_nr_regions)
        ctx.max_nr_regions = p.get("max_nr_regions", ctx.max_nr_regions)
        ctx.schemes = [scheme]
        return params_mod.kdamonds_to_kvpairs([params_mod.KdamondParams([ctx])])

    def describe_point(self, params):
        kinds = {d.name: d.kind for d in self.dims}
        return " ".join("%s=%s" % (k, _fmt(kinds[k], v)) for k, v in params.items()
                        if not next(d for d in self.dims if d.name == k).fixed)


def _preset_value(kind, value):
    if kind == "bool":
        return "true" if value else "false"
    if kind == "percent":
        return "%g%%" % value
    return "%d" % value
