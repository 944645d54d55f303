"""DAMOS schemes in damo's layout: parameters, damo's ``--damos_*`` options,
checks with the kernel's rules, and translation into engine Schemes.

``SchemeParams`` holds one scheme as damo 3.4.3 describes it (its
``to_kvpairs``/``from_kvpairs`` follow damo's kdamonds JSON/YAML layout:
access pattern in percent and microseconds, quotas in ms/bytes/permil,
watermarks in permil).  ``build()`` turns it into an engine ``Scheme`` in the
kernel's units (samples, aggregation intervals, raw weights), given the
context's intervals and the machine.

Commands get damo's options with the ``damos_options`` decorator and turn
what was given into schemes with ``schemes_from_options``; ``damo tune``
lays given options over running schemes with ``overlay_options``.  Every
value or combination the kernel (or damo) would refuse ends the command with
one ``damo: error:`` line naming the option or field.
"""
import dataclasses
from typing import List, Optional

import click

from damo import units
from damo.cliutil import VALUE_SEP, looks_like_option
from damo.errors import DamoError

ULONG_MAX = units.ULONG_MAX
UINT_MAX = 2**32 - 1
INT_MAX = 2**31 - 1
PAGE_SIZE = 4096
# msecs_to_jiffies() never goes beyond MAX_JIFFY_OFFSET; a 'max' reset
# interval means "never reset"
MAX_RESET_INTERVAL_MS = (2**63 >> 1) - 1

# damo's order (the kernel's enum damos_action has collapse after nohugepage)
ACTIONS = ("willneed", "cold", "pageout", "hugepage", "collapse", "nohugepage", "lru_prio",
           "lru_deprio", "migrate_hot", "migrate_cold", "stat")
MIGRATE_ACTIONS = ("migrate_hot", "migrate_cold")
# what each operation set implements (the others are accepted by the kernel
# and silently do nothing; we refuse them so that a typo does not go unseen)
OPS_ACTIONS = {
    "vaddr": ("willneed", "cold", "pageout", "hugepage", "collapse", "nohugepage",
              "migrate_hot", "migrate_cold", "stat"),
    "fvaddr": ("willneed", "cold", "pageout", "hugepage", "collapse", "nohugepage",
               "migrate_hot", "migrate_cold", "stat"),
    "paddr": ("pageout", "lru_prio", "lru_deprio", "migrate_hot", "migrate_cold", "stat"),
}
# known to damo but not to the emulated kernel (mainline)
UNSUPPORTED_ACTIONS = ()

GOAL_METRICS = ("user_input", "some_mem_psi_us", "node_mem_used_bp", "node_mem_free_bp",
                "node_memcg_used_bp", "node_memcg_free_bp", "active_mem_bp",
                "inactive_mem_bp", "node_eligible_mem_bp")
UNSUPPORTED_GOAL_METRICS = ()
BP_METRICS = ("node_mem_used_bp", "node_mem_free_bp", "node_memcg_used_bp",
              "node_memcg_free_bp", "active_mem_bp", "inactive_mem_bp")
NID_METRICS = ("node_mem_used_bp", "node_mem_free_bp", "node_memcg_used_bp",
               "node_memcg_free_bp")
MEMCG_METRICS = ("node_memcg_used_bp", "node_memcg_free_bp")
GOAL_TUNERS = ("consist", "temporal")

FILTER_TYPES = ("anon", "active", "memcg", "young", "hugepage_size", "unmapped", "addr",
                "target")
UNSUPPORTED_FILTER_TYPES = ("probe_hits_wsum",)
CORE_FILTER_TYPES = ("addr", "target")
WMARK_METRICS = ("none", "free_mem_rate")

# the memory cgroups of the simulated machine: every process is in the root
MEMCGS = {"/": 0}

STAT_FIELDS = ("nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed",
               "qt_exceeds", "nr_snapshots", "max_nr_snapshots")


def _fail(where, message):
    raise DamoError("%s: %s" % (where, message) if where else message, exit_code=2)


# ------------------------------------------------------------------ values

def _parse(text, where, what, parse, maximum=ULONG_MAX):
    """A number from a file or an option: finite, 0 to ``maximum``
    (NaN, infinities and values past the kernel's field never get further)."""
    try:
        value = parse(text) if isinstance(text, str) else text
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError()
        if not value >= 0:          # negative, or NaN
            raise ValueError()
    except (ValueError, TypeError, AttributeError, OverflowError):
        _fail(where, "%r is not a valid %s" % (text, what))
    if value > maximum:             # infinities too
        _fail(where, "%r is out of range (at most %d)" % (text, maximum))
    return value


def to_bytes(text, where):
    return int(_parse(text, where, "size", units.to_bytes))


def to_us(text, where):
    return int(_parse(text, where, "time (us, or with a unit: 5ms, 1s)", units.to_us))


def to_ms(text, where):
    def parse(t):
        number = units._common(t)
        return number if number is not None else units.to_us(t) / 1000
    return int(_parse(text, where, "time (ms, or with a unit: 1s)", parse))


def to_percent(text, where):
    return _parse(text, where, "percentage", units.to_percent)


def to_permil(text, where):
    def parse(t):
        number = units._common(t, 0)
        return number if number is not None else units.to_ratio(t) * 1000
    return int(round(_parse(text, where, "permil value (e.g. 500 or 50%)", parse)))


def to_bp(text, where):
    return int(round(_parse(text, where, "basis points value (e.g. 9970 or 99.7%)",
                            units.to_bp)))


def to_nr(text, where, maximum=ULONG_MAX):
    return int(_parse(text, where, "number", units.to_number, maximum))


def to_bool(value, where):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("y", "yes", "true"):
        return True
    if isinstance(value, str) and value.lower() in ("n", "no", "false"):
        return False
    _fail(where, "%r is not a boolean (true or false)" % (value,))


def fmt_sz(sz):
    """damo's size text when it is exact, else the plain number."""
    text = units.format_sz(sz, False)
    try:
        if units.to_bytes(text) == sz:
            return text
    except ValueError:
        pass
    return "%d" % sz


def fmt_us(us):
    return units.format_time_us_exact(us, False)


def fmt_ms(ms):
    if ms >= ULONG_MAX:
        return "max"
    return units.format_time_ns_exact(ms * 1000000, False)


def fmt_permil(permil):
    return units.format_ratio(float(permil) / 1000, False)


def fmt_bp(bp):
    return units.format_ratio(float(bp) / 10000, False)


def fmt_percent(percent):
    if percent >= ULONG_MAX:
        return "max"
    return units.format_percent(percent, False)


# ------------------------------------------------------------------ params

@dataclasses.dataclass
class QuotaGoalParams:
    metric: str = "user_input"
    target_value: int = 0
    current_value: int = 0
    nid: Optional[int] = None
    memcg_path: Optional[str] = None
    complement: bool = False

    def to_kvpairs(self):
        return {"metric": self.metric, "complement": self.complement,
                "nid": None if self.nid is None else "%d" % self.nid,
                "memcg_path": self.memcg_path,
                "target_value": "%d" % self.target_value,
                "current_value": "%d" % self.current_value}

    @classmethod
    def from_kvpairs(cls, kv, where="goal"):
        if "target_value_bp" in kv:          # damo's old naming
            return cls("user_input", to_nr(kv["target_value_bp"], where),
                       to_nr(kv.get("current_value_bp", 0), where))
        metric = kv.get("metric", "user_input")
        target = kv.get("target_value", 0)
        if metric == "some_mem_psi_us":
            target = to_us(target, where + ".target_value")
        elif metric in BP_METRICS:
            target = to_bp(target, where + ".target_value")
        else:
            target = to_nr(target, where + ".target_value")
        nid = kv.get("nid")
        return cls(metric, target, to_nr(kv.get("current_value", 0), where + ".current_value"),
                   None if nid is None else to_nr(nid, where + ".nid", INT_MAX),
                   kv.get("memcg_path"), to_bool(kv.get("complement", False),
                                                 where + ".complement"))

    def validate(self, where):
        if self.metric in UNSUPPORTED_GOAL_METRICS:
            _fail(where, "quota goal metric %s is not supported by the simulated kernel"
                  % self.metric)
        if self.metric not in GOAL_METRICS:
            _fail(where, "unknown quota goal metric %r (one of: %s)"
                  % (self.metric, ", ".join(GOAL_METRICS)))
        if not self.target_value:
            _fail(where, "quota goal %s needs a positive target value" % self.metric)
        if self.complement:
            _fail(where, "complement quota goals are not supported by the simulated kernel")
        if self.metric in NID_METRICS and self.nid is None:
            _fail(where, "quota goal %s needs a node id" % self.metric)
        if self.metric in MEMCG_METRICS:
            if not self.memcg_path:
                _fail(where, "quota goal %s needs a memory cgroup path" % self.metric)
            if self.memcg_path not in MEMCGS:
                _fail(where, "memory cgroup %r does not exist in the simulated machine "
                      "(every process is in %s)" % (self.memcg_path, ", ".join(MEMCGS)))

    def build(self):
        from damo_engine.core import QuotaGoal
        return QuotaGoal(self.metric, self.target_value, self.current_value,
                         nid=self.nid if self.nid is not None else 0,
                         memcg=MEMCGS.get(self.memcg_path) if self.memcg_path else None)


@dataclasses.dataclass
class FilterParams:
    filter_type: str
    matching: bool = True
    allow: bool = False
    memcg_path: Optional[str] = None
    address_range: Optional[tuple] = None
    damon_target_idx: Optional[int] = None
    hugepage_size: Optional[tuple] = None

    def to_kvpairs(self):
        return {"filter_type": self.filter_type, "matching": self.matching,
                "allow": self.allow, "memcg_path": self.memcg_path,
                "address_range": None if self.address_range is None else
                {"start": units.format_nr(self.address_range[0], False),
                 "end": units.format_nr(self.address_range[1], False)},
                "damon_target_idx": None if self.damon_target_idx is None
                else "%d" % self.damon_target_idx,
                "hugepage_size": None if self.hugepage_size is None
                else [fmt_sz(x) for x in self.hugepage_size],
                "probe_hits_wsum_range": None}

    @classmethod
    def from_kvpairs(cls, kv, where="filter"):
        ftype = kv.get("filter_type")
        if ftype is None:
            _fail(where, "a filter needs a filter_type")
        allow = kv.get("allow", kv.get("filter_pass", False))
        f = cls(ftype, to_bool(kv.get("matching", True), where + ".matching"),
                to_bool(allow, where + ".allow"))
        if ftype == "memcg":
            f.memcg_path = kv.get("memcg_path")
        elif ftype == "addr":
            ar = kv.get("address_range")
            if not ar:
                _fail(where, "an addr filter needs an address_range")
            f.address_range = (to_bytes(ar["start"], where + ".address_range.start"),
                                to_bytes(ar["end"], where + ".address_range.end"))
        elif ftype == "target":
            if kv.get("damon_target_idx") is None:
                _fail(where, "a target filter needs a damon_target_idx")
            f.damon_target_idx = to_nr(kv["damon_target_idx"], where + ".damon_target_idx")
        elif ftype == "hugepage_size":
            hs = kv.get("hugepage_size")
            if not hs or len(hs) != 2:
                _fail(where, "a hugepage_size filter needs [min, max] sizes")
            f.hugepage_size = (to_bytes(hs[0], where + ".hugepage_size"),
                               to_bytes(hs[1], where + ".hugepage_size"))
        return f

    def describe(self):
        words = ["allow" if self.allow else "reject"]
        if not self.matching:
            words.append("none")
        words.append(self.filter_type)
        if self.filter_type == "memcg":
            words.append(str(self.memcg_path))
        elif self.filter_type == "addr":
            words.append("%d-%d" % self.address_range)
        elif self.filter_type == "target":
            words.append("%d" % self.damon_target_idx)
        elif self.filter_type == "hugepage_size":
            words.append("[%s, %s]" % tuple(fmt_sz(x) for x in self.hugepage_size))
        return " ".join(words)

    def validate(self, where, nr_targets=None):
        if self.filter_type in UNSUPPORTED_FILTER_TYPES:
            _fail(where, "%s filters are not supported by the simulated kernel"
                  % self.filter_type)
        if self.filter_type not in FILTER_TYPES:
            _fail(where, "unknown filter type %r (one of: %s)"
                  % (self.filter_type, ", ".join(FILTER_TYPES)))
        if self.filter_type == "memcg":
            if not self.memcg_path:
                _fail(where, "a memcg filter needs a memory cgroup path")
            if self.memcg_path not in MEMCGS:
                _fail(where, "memory cgroup %r does not exist in the simulated machine "
                      "(every process is in %s)" % (self.memcg_path, ", ".join(MEMCGS)))
        elif self.filter_type == "addr":
            start, end = self.address_range
            if start >= end:
                _fail(where, "addr filter range %d-%d is empty or inverted" % (start, end))
        elif self.filter_type == "target":
            if nr_targets is not None and self.damon_target_idx >= nr_targets:
                _fail(where, "target filter index %d, but the context has %d target(s)"
                      % (self.damon_target_idx, nr_targets))
        elif self.filter_type == "hugepage_size":
            lo, hi = self.hugepage_size
            if lo > hi:
                _fail(where, "hugepage_size min (%s) is larger than max (%s)"
                      % (fmt_sz(lo), fmt_sz(hi)))

    def build(self):
        from damo_engine.core import Filter
        return Filter(self.filter_type, self.matching, self.allow,
                      addr_range=self.address_range,
                      target_idx=self.damon_target_idx or 0,
                      memcg=MEMCGS.get(self.memcg_path) if self.memcg_path else None,
                      hugepage_size=self.hugepage_size)


@dataclasses.dataclass
class QuotaParams:
    time_ms: int = 0
    sz_bytes: int = 0
    reset_interval_ms: int = ULONG_MAX
    weight_sz_permil: int = 0
    weight_nr_accesses_permil: int = 0
    weight_age_permil: int = 0
    goals: List[QuotaGoalParams] = dataclasses.field(default_factory=list)
    goal_tuner: str = "consist"
    fail_charge_num: int = 0
    fail_charge_denom: int = 0
    effective_sz_bytes: int = 0         # status: the effective size quota now

    def to_kvpairs(self):
        return {"time_ms": fmt_ms(self.time_ms), "sz_bytes": fmt_sz(self.sz_bytes),
                "reset_interval_ms": fmt_ms(self.reset_interval_ms),
                "fail_charge_num": "%d" % self.fail_charge_num,
                "fail_charge_denom": "%d" % self.fail_charge_denom,
                "goals": [g.to_kvpairs() for g in self.goals],
                "goal_tuner": self.goal_tuner,
                "effective_sz_bytes": fmt_sz(self.effective_sz_bytes),
                "weights": {"sz_permil": fmt_permil(self.weight_sz_permil),
                            "nr_accesses_permil": fmt_permil(self.weight_nr_accesses_permil),
                            "age_permil": fmt_permil(self.weight_age_permil)}}

    @classmethod
    def from_kvpairs(cls, kv, where="quotas"):
        weights = kv.get("weights") or {}
        return cls(to_ms(kv.get("time_ms", 0), where + ".time_ms"),
                   to_bytes(kv.get("sz_bytes", 0), where + ".sz_bytes"),
                   to_ms(kv.get("reset_interval_ms", "max"), where + ".reset_interval_ms"),
                   to_permil(weights.get("sz_permil", 0), where + ".weights.sz_permil"),
                   to_permil(weights.get("nr_accesses_permil", 0),
                             where + ".weights.nr_accesses_permil"),
                   to_permil(weights.get("age_permil", 0), where + ".weights.age_permil"),
                   [QuotaGoalParams.from_kvpairs(g, "%s.goals[%d]" % (where, i))
                    for i, g in enumerate(kv.get("goals") or [])],
                   kv.get("goal_tuner") or "consist",
                   to_nr(kv.get("fail_charge_num", 0), where + ".fail_charge_num", UINT_MAX),
                   to_nr(kv.get("fail_charge_denom", 0), where + ".fail_charge_denom",
                         UINT_MAX),
                   to_bytes(kv.get("effective_sz_bytes", 0), where + ".effective_sz_bytes"))

    def validate(self, where):
        if self.goal_tuner not in GOAL_TUNERS:
            _fail(where, "unknown quota goal tuner %r (consist or temporal)" % self.goal_tuner)
        for i, g in enumerate(self.goals):
            g.validate("%s goal %d" % (where, i))

    @property
    def enabled(self):
        return bool(self.time_ms or self.sz_bytes or self.goals)


@dataclasses.dataclass
class WatermarksParams:
    metric: str = "none"
    interval_us: int = 0
    high_permil: int = 0
    mid_permil: int = 0
    low_permil: int = 0

    def to_kvpairs(self):
        return {"metric": self.metric, "interval_us": fmt_us(self.interval_us),
                "high_permil": fmt_permil(self.high_permil),
                "mid_permil": fmt_permil(self.mid_permil),
                "low_permil": fmt_permil(self.low_permil)}

    @classmethod
    def from_kvpairs(cls, kv, where="watermarks"):
        return cls(kv.get("metric", "none"),
                   to_us(kv.get("interval_us", 0), where + ".interval_us"),
                   to_permil(kv.get("high_permil", 0), where + ".high_permil"),
                   to_permil(kv.get("mid_permil", 0), where + ".mid_permil"),
                   to_permil(kv.get("low_permil", 0), where + ".low_permil"))

    def validate(self, where):
        if self.metric not in WMARK_METRICS:
            _fail(where, "unknown watermarks metric %r (none or free_mem_rate)" % self.metric)
        if self.metric == "none":
            return
        if not self.high_permil >= self.mid_permil >= self.low_permil:
            _fail(where, "watermarks must be high >= mid >= low, not %d, %d, %d permil"
                  % (self.high_permil, self.mid_permil, self.low_permil))
        if self.high_permil > 1000:
            _fail(where, "the high watermark (%d permil) is above 1000 permil"
                  % self.high_permil)
        if not self.interval_us:
            _fail(where, "watermarks need a positive check interval")


@dataclasses.dataclass
class AccessPattern:
    sz_bytes: tuple = (0, ULONG_MAX)
    nr_accesses: tuple = (0, ULONG_MAX)     # in nr_accesses_unit
    nr_accesses_unit: str = "percent"       # percent | samples
    age: tuple = (0, ULONG_MAX)             # in age_unit
    age_unit: str = "usec"                  # usec | aggr_intervals

    def to_kvpairs(self):
        if self.nr_accesses_unit == "percent":
            nr = [fmt_percent(v) for v in self.nr_accesses]
        else:
            nr = ["%d samples" % v for v in self.nr_accesses]
        if self.age_unit == "usec":
            age = [fmt_us(v) for v in self.age]
        else:
            age = ["%d aggr_intervals" % v for v in self.age]
        return {"sz_bytes": {"min": fmt_sz(self.sz_bytes[0]), "max": fmt_sz(self.sz_bytes[1])},
                "nr_accesses": {"min": nr[0], "max": nr[1]},
                "age": {"min": age[0], "max": age[1]}}

    @classmethod
    def from_kvpairs(cls, kv, where="access_pattern"):
        p = cls()
        sz = kv.get("sz_bytes") or {}
        p.sz_bytes = (to_bytes(sz.get("min", 0), where + ".sz_bytes.min"),
                      to_bytes(sz.get("max", "max"), where + ".sz_bytes.max"))
        p.nr_accesses, p.nr_accesses_unit = _with_unit(
            kv.get("nr_accesses") or {}, "samples", "percent", to_percent,
            where + ".nr_accesses")
        p.age, p.age_unit = _with_unit(kv.get("age") or {}, "aggr_intervals", "usec", to_us,
                                       where + ".age")
        return p

    def in_kernel_units(self, sample_us, aggr_us):
        """((sz min, max), (nr min, max) samples, (age min, max) aggregation
        intervals), converted as damo does and clamped to the kernel's
        unsigned int fields."""
        max_nr = aggr_us / sample_us if sample_us else 1
        if self.nr_accesses_unit == "percent":
            nr = tuple(min(UINT_MAX, int(v * max_nr / 100)) for v in self.nr_accesses)
        else:
            nr = tuple(min(UINT_MAX, int(v)) for v in self.nr_accesses)
        if self.age_unit == "usec":
            age = tuple(min(UINT_MAX, int(v / aggr_us)) if aggr_us else 0 for v in self.age)
        else:
            age = tuple(min(UINT_MAX, int(v)) for v in self.age)
        return tuple(min(ULONG_MAX, int(v)) for v in self.sz_bytes), nr, age

    def validate(self, where_of):
        """where_of(field): where to say a problem of "sz", "nr" or "age" is."""
        for field, (lo, hi), show in (
                ("sz", self.sz_bytes, fmt_sz),
                ("nr", self.nr_accesses,
                 fmt_percent if self.nr_accesses_unit == "percent" else str),
                ("age", self.age, fmt_us if self.age_unit == "usec" else str)):
            if lo > hi:
                _fail(where_of(field), "min (%s) is larger than max (%s)" % (show(lo), show(hi)))


def _with_unit(kv, raw_unit, human_unit, parse, where):
    """(min, max) and unit of a damo "N <unit>" / human-value pair."""
    lo, hi = kv.get("min", "min"), kv.get("max", "max")
    values, unit = [], None
    for text, bound in ((lo, "min"), (hi, "max")):
        if isinstance(text, str) and text.strip().endswith(" " + raw_unit):
            values.append(to_nr(text.strip()[:-len(raw_unit)].strip(), where + "." + bound))
            this = raw_unit
        else:
            values.append(parse(text, where + "." + bound))
            this = human_unit
        if unit is not None and unit != this:
            _fail(where, "min and max must be in the same unit")
        unit = this
    return tuple(values), unit


@dataclasses.dataclass
class SchemeParams:
    action: str = "stat"
    access_pattern: AccessPattern = dataclasses.field(default_factory=AccessPattern)
    target_nid: Optional[int] = None
    dests: List[tuple] = dataclasses.field(default_factory=list)   # [(node id, weight)]
    apply_interval_us: int = 0
    quotas: QuotaParams = dataclasses.field(default_factory=QuotaParams)
    watermarks: WatermarksParams = dataclasses.field(default_factory=WatermarksParams)
    filters: List[FilterParams] = dataclasses.field(default_factory=list)
    max_nr_snapshots: int = 0
    stats: Optional[dict] = None            # status only (damo's 'stats')
    origin: str = dataclasses.field(default="scheme", compare=False)

    # ---- damo's layout ----
    def to_kvpairs(self):
        kv = {"action": self.action,
              "dests": [{"id": i, "weight": w} for i, w in self.dests]}
        if self.action in MIGRATE_ACTIONS:
            kv["target_nid"] = self.target_nid
        kv["access_pattern"] = self.access_pattern.to_kvpairs()
        kv["apply_interval_us"] = units.format_time_us_exact(self.apply_interval_us, False)
        kv["quotas"] = self.quotas.to_kvpairs()
        kv["watermarks"] = self.watermarks.to_kvpairs()
        kv["filters"] = [f.to_kvpairs() for f in self.filters]
        stats = dict(self.stats or {})
        if self.max_nr_snapshots or stats:
            stats.setdefault("max_nr_snapshots", self.max_nr_snapshots)
            kv["stats"] = {k: ("%d" % v if isinstance(v, int) else v) for k, v in stats.items()}
        return kv

    @classmethod
    def from_kvpairs(cls, kv, where="scheme"):
        if not isinstance(kv, dict):
            _fail(where, "a scheme is a mapping of its fields")
        try:
            s = cls(origin=where)
            s.action = kv.get("action", "stat")
            if kv.get("access_pattern"):
                s.access_pattern = AccessPattern.from_kvpairs(kv["access_pattern"],
                                                              where + ".access_pattern")
            nid = kv.get("target_nid")
            s.target_nid = None if nid is None else to_nr(nid, where + ".target_nid", INT_MAX)
            s.dests = [(to_nr(d["id"], where + ".dests.id", INT_MAX),
                        to_nr(d["weight"], where + ".dests.weight", UINT_MAX))
                       for d in kv.get("dests") or []]
            if kv.get("apply_interval_us") is not None:
                s.apply_interval_us = to_us(kv["apply_interval_us"],
                                            where + ".apply_interval_us")
            if kv.get("quotas"):
                s.quotas = QuotaParams.from_kvpairs(kv["quotas"], where + ".quotas")
            if kv.get("watermarks"):
                s.watermarks = WatermarksParams.from_kvpairs(kv["watermarks"],
                                                             where + ".watermarks")
            s.filters = [FilterParams.from_kvpairs(f, "%s.filters[%d]" % (where, i))
                         for i, f in enumerate(kv.get("filters") or [])]
            stats = kv.get("stats")
            if stats:
                s.max_nr_snapshots = to_nr(stats.get("max_nr_snapshots", 0),
                                           where + ".stats.max_nr_snapshots")
        except (KeyError, TypeError, AttributeError) as e:
            _fail(where, "malformed scheme (missing or bad field %s)" % e)
        return s

    # ---- checks ----
    _CLI_NAMES = {"action": "--damos_action", "sz": "--damos_sz_region",
                  "nr": "--damos_access_rate", "age": "--damos_age", "quotas": "--damos_quotas",
                  "goal": "--damos_quota_goal", "wmarks": "--damos_wmarks",
                  "filter": "--damos_filter"}
    _FILE_NAMES = {"action": "action", "sz": "access_pattern.sz_bytes",
                   "nr": "access_pattern.nr_accesses", "age": "access_pattern.age",
                   "quotas": "quotas", "goal": "quotas.goals", "wmarks": "watermarks",
                   "filter": "filters"}

    def _where(self, field, idx=None):
        if self.origin.startswith("--"):
            name = self._CLI_NAMES[field]
            scheme = self.origin[len("--damos_* "):] if self.origin.startswith(
                "--damos_* ") else None
            return name + (" (%s)" % scheme if scheme else "")
        return "%s %s" % (self.origin, self._FILE_NAMES[field] +
                          ("[%d]" % idx if idx is not None else ""))

    def validate(self, ops=None, nr_targets=None, nr_nodes=None):
        """Refuse what the kernel (or damo) would: with one line naming the
        scheme and the field."""
        where = self._where("action")
        if self.action in UNSUPPORTED_ACTIONS:
            _fail(where, "action %s is not supported by the simulated kernel" % self.action)
        if self.action not in ACTIONS:
            _fail(where, "unknown action %r (one of: %s)" % (self.action, ", ".join(ACTIONS)))
        if ops is not None and self.action not in OPS_ACTIONS.get(ops, ACTIONS):
            _fail(where, "action %s is not supported by the %s operation set (it supports %s)"
                  % (self.action, ops, ", ".join(OPS_ACTIONS[ops])))
        if self.action in MIGRATE_ACTIONS:
            if self.target_nid is None and not self.dests:
                _fail(where, "%s needs a target node id (e.g. --damos_action %s 1) or "
                      "destination nodes and weights" % (self.action, self.action))
            nodes = [n for n, _ in self.dests] if self.dests else [self.target_nid]
            for n in nodes:
                if n < 0 or (nr_nodes is not None and n >= nr_nodes):
                    _fail(where, "%s to node %d, but the machine has node%s 0%s" % (
                        self.action, n, "s" if nr_nodes and nr_nodes > 1 else "",
                        "-%d" % (nr_nodes - 1) if nr_nodes and nr_nodes > 1 else ""))
            if self.dests and ops == "paddr":
                _fail(where, "paddr migrates to target_nid only: give one node, not "
                      "destinations with weights")
        elif self.dests:
            _fail(where, "destination nodes are only for migrate_hot and migrate_cold")
        self.access_pattern.validate(self._where)
        q = self.quotas
        if q.goal_tuner not in GOAL_TUNERS:
            _fail(self._where("quotas"), "unknown quota goal tuner %r (consist or temporal)"
                  % q.goal_tuner)
        for i, g in enumerate(q.goals):
            g.validate(self._where("goal", i))
            if g.metric == "node_eligible_mem_bp" and ops is not None and ops != "paddr":
                # damon_commit_ctx() (and so damon_start()): -EINVAL
                _fail(self._where("goal", i), "quota goal node_eligible_mem_bp needs the paddr "
                      "operation set (%s does not measure it)" % ops)
            if g.nid is not None and nr_nodes is not None and g.nid >= nr_nodes:
                _fail(self._where("goal", i), "node %d does not exist (the machine has %d "
                      "node%s)" % (g.nid, nr_nodes, "s" if nr_nodes > 1 else ""))
        self.watermarks.validate(self._where("wmarks"))
        for i, f in enumerate(self.filters):
            f.validate(self._where("filter", i), nr_targets)

    def warnings(self, ops):
        """What the kernel accepts but ignores, to tell the user about."""
        out = []
        for i, f in enumerate(self.filters):
            if f.filter_type not in CORE_FILTER_TYPES and ops in ("vaddr", "fvaddr") and \
                    self.action not in MIGRATE_ACTIONS + ("stat",):
                out.append("%s filter %d: %s filters work per page only on paddr, and on "
                           "vaddr for migrate and stat: %s ignores it"
                           % (self.origin, i, f.filter_type, self.action))
        return out

    # ---- engine ----
    def build(self, machine=None, ctx=None, sample_us=None, aggr_us=None):
        """The engine Scheme.  Units of the access pattern follow the
        context's intervals (ctx: a params.ContextParams)."""
        from damo_engine.core import Scheme

        ops = ctx.ops if ctx is not None else None
        nr_targets = len(ctx.targets) if ctx is not None else None
        self.validate(ops, nr_targets, machine.nr_nodes if machine is not None else None)
        if sample_us is None:
            sample_us = ctx.sample_us if ctx is not None else 5000
        if aggr_us is None:
            aggr_us = ctx.aggr_us if ctx is not None else 100000
        sz, nr, age = self.access_pattern.in_kernel_units(sample_us, aggr_us)
        q, w = self.quotas, self.watermarks
        wmarks = None
        if w.metric != "none":
            wmarks = (w.metric, w.interval_us, w.high_permil, w.mid_permil, w.low_permil)
        return Scheme(
            self.action, sz_region=sz, nr_accesses=nr, age=age,
            apply_interval_us=self.apply_interval_us,
            target_nid=-1 if self.target_nid is None else self.target_nid,
            migrate_dests=list(self.dests),
            quota_ms=min(q.time_ms, ULONG_MAX), quota_sz=min(q.sz_bytes, ULONG_MAX),
            quota_reset_interval_ms=min(q.reset_interval_ms, MAX_RESET_INTERVAL_MS),
            weights=(min(q.weight_sz_permil, UINT_MAX),
                     min(q.weight_nr_accesses_permil, UINT_MAX),
                     min(q.weight_age_permil, UINT_MAX)),
            goals=[g.build() for g in q.goals], goal_tuner=q.goal_tuner,
            fail_charge=(q.fail_charge_num, q.fail_charge_denom),
            wmarks=wmarks, filters=[f.build() for f in self.filters],
            max_nr_snapshots=self.max_nr_snapshots)

    def describe(self):
        """One line: the scheme as damo's options would say it."""
        p = self.access_pattern
        words = [self.action]
        if self.action in MIGRATE_ACTIONS:
            words.append(" ".join("%d:%d" % d for d in self.dests) if self.dests
                         else "to node %s" % self.target_nid)
        nr_fmt = fmt_percent if p.nr_accesses_unit == "percent" else (
            lambda v: "max" if v >= UINT_MAX else "%d samples" % v)
        age_fmt = fmt_us if p.age_unit == "usec" else (
            lambda v: "max" if v >= UINT_MAX else "%d aggr intervals" % v)
        words.append("sz [%s, %s]" % (fmt_sz(p.sz_bytes[0]), fmt_sz(p.sz_bytes[1])))
        words.append("access [%s, %s]" % (nr_fmt(p.nr_accesses[0]),
                                          nr_fmt(min(p.nr_accesses[1], ULONG_MAX))))
        words.append("age [%s, %s]" % (age_fmt(p.age[0]), age_fmt(p.age[1])))
        if self.apply_interval_us:
            words.append("per %s" % fmt_us(self.apply_interval_us))
        q = self.quotas
        if q.enabled:
            quota = []
            if q.time_ms:
                quota.append("%d ms" % q.time_ms)
            if q.sz_bytes:
                quota.append(fmt_sz(q.sz_bytes))
            if q.goals:
                quota.append("goals " + ", ".join("%s %d" % (g.metric, g.target_value)
                                                  for g in q.goals))
            words.append("quota %s / %s" % (" ".join(quota), fmt_ms(q.reset_interval_ms)))
        if self.watermarks.metric != "none":
            w = self.watermarks
            words.append("wmarks %d/%d/%d permil" % (w.high_permil, w.mid_permil,
                                                    w.low_permil))
        for f in self.filters:
            words.append("filter (%s)" % f.describe())
        return ", ".join(words)


# ------------------------------------------------------- damo's options

_ORDER_KEY = "damo.damos_option_order"


class _DamosOption(click.Option):
    """A damo (argparse nargs='+') option: takes every following argument up
    to the next option; each use reaches the command as one string (values
    joined by VALUE_SEP).  Uses are also logged in order, so that schemes
    can be told apart by --damos_scheme markers."""

    def __init__(self, *args, flag=False, **kwargs):
        self.damos_flag = flag
        if flag:
            kwargs.setdefault("count", True)
        else:
            kwargs.setdefault("multiple", True)
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            opt = parser._long_opt.get(name)
            if opt is None:
                continue
            orig = opt.process
            opt.process = self._wrap(orig, ctx)

    def _wrap(self, orig, ctx):
        option = self

        def process(value, state):
            if not option.damos_flag:
                values = [value]
                while state.rargs and not looks_like_option(state.rargs[0]):
                    values.append(state.rargs.pop(0))
                value = VALUE_SEP.join(values)
            ctx.meta.setdefault(_ORDER_KEY, []).append(option.name)
            orig(value, state)
        return process


def _damos_option(name, metavar, help, flag=False):
    return click.option("--" + name, name, cls=_DamosOption, flag=flag, metavar=metavar,
                        help=help)


OPTION_NAMES = ("damos_scheme", "damos_action", "damos_sz_region", "damos_access_rate",
                "damos_age", "damos_apply_interval", "damos_quotas", "damos_quota_interval",
                "damos_quota_time", "damos_quota_space", "damos_quota_weights",
                "damos_quota_fail_charge_ratio", "damos_quota_goal", "damos_quota_goal_tuner",
                "damos_nr_quota_goals", "damos_filter", "damos_nr_filters", "damos_wmarks",
                "damos_max_nr_snapshots")


def damos_options(f):
    """damo's DAMOS options (damo record/start/tune): one scheme per
    --damos_action; the other options apply to the schemes in order."""
    opts = [
        _damos_option("damos_scheme", None, "mark the start of a scheme's options (quota "
                      "goals and filters that follow belong to it)", flag=True),
        _damos_option("damos_action", "<action> [<nid> | <nid> <weight>...]",
                      "scheme action: %s (migrate_{hot,cold} take a target node, or node "
                      "and weight pairs)" % ", ".join(ACTIONS)),
        _damos_option("damos_sz_region", "<min> <max>", "size range of target regions"),
        _damos_option("damos_access_rate", "<min> <max>",
                      "access rate range of target regions (percent)"),
        _damos_option("damos_age", "<min> <max>", "age range of target regions "
                      "(us, or with units: 5s max)"),
        _damos_option("damos_apply_interval", "<us>", "how often the scheme is applied "
                      "(0: every aggregation interval)"),
        _damos_option("damos_quotas",
                      "<time ms> [<size> [<reset ms> [<sz> <nr_accesses> <age> permil]]]",
                      "time quota, size quota, reset interval and priority weights"),
        _damos_option("damos_quota_interval", "<ms>", "quota reset interval"),
        _damos_option("damos_quota_time", "<ms>", "time quota"),
        _damos_option("damos_quota_space", "<size>", "size quota"),
        _damos_option("damos_quota_weights", "<sz> <nr_accesses> <age>",
                      "quota prioritization weights (permil)"),
        _damos_option("damos_quota_fail_charge_ratio", "<num> <denom>",
                      "quota charge ratio of failed regions (not supported)"),
        _damos_option("damos_quota_goal", "<metric> <target> [<nid|current>] [<memcg>]",
                      "quota auto-tuning goal; metric: %s" % ", ".join(GOAL_METRICS)),
        _damos_option("damos_quota_goal_tuner", "<consist|temporal>",
                      "how the goals tune the quota"),
        _damos_option("damos_nr_quota_goals", "<n>...", "quota goals of each scheme"),
        _damos_option("damos_filter", "<allow|reject> [none] <type> [<arg>...]",
                      "filter; type: %s" % ", ".join(FILTER_TYPES)),
        _damos_option("damos_nr_filters", "<n>...", "filters of each scheme"),
        _damos_option("damos_wmarks", "<none|free_mem_rate> <interval us> <high> <mid> <low>",
                      "activation watermarks (free memory in permil)"),
        _damos_option("damos_max_nr_snapshots", "<n>",
                      "stop applying the scheme after this many apply intervals"),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _uses(opts, name):
    """The values of each use of a damo option, as lists of words."""
    uses = opts.get(name) or ()
    return [u.split(VALUE_SEP) if u else [] for u in uses]


def _words(use, name, counts, what):
    if len(use) not in counts:
        _fail("--" + name, "takes %s, not %r" % (what, " ".join(use)))
    return use


def option_order():
    ctx = click.get_current_context(silent=True)
    return list(ctx.meta.get(_ORDER_KEY, [])) if ctx is not None else []


def given_options(opts):
    """Names of the --damos_* options given."""
    return [n for n in OPTION_NAMES if opts.get(n)]


def _group_counts(opts, name, nr_name, nr_schemes, order):
    """How many of option `name` each scheme takes: from --damos_scheme
    markers, --damos_nr_<name>s, or all to the single scheme."""
    uses = _uses(opts, name)
    explicit = []
    for use in _uses(opts, nr_name):
        explicit += [to_nr(w, "--" + nr_name) for w in use]
    if opts.get("damos_scheme"):
        if explicit:
            _fail("--" + nr_name, "cannot be used with --damos_scheme markers")
        counts, idx = [], -1
        for opt in order:
            if opt == "damos_scheme":
                idx += 1
                counts.append(0)
            elif opt == name:
                if idx < 0:
                    _fail("--" + name, "comes before the first --damos_scheme")
                counts[idx] += 1
        counts += [0] * (nr_schemes - len(counts))
        if len(counts) > nr_schemes:
            _fail("--damos_scheme", "%d markers for %d scheme(s) (--damos_action)"
                  % (len(counts), nr_schemes))
        return counts
    if explicit:
        if len(explicit) > nr_schemes or sum(explicit) != len(uses):
            _fail("--" + nr_name, "the numbers must add up to the %d --%s given, one number "
                  "per scheme" % (len(uses), name))
        return explicit + [0] * (nr_schemes - len(explicit))
    if uses and nr_schemes > 1:
        _fail("--" + name, "with several schemes, say which scheme each belongs to with "
              "--damos_scheme markers or --" + nr_name)
    return [len(uses)] + [0] * (nr_schemes - 1) if nr_schemes else []


def parse_goal(words, where="--damos_quota_goal"):
    """damo's <metric> <target value> [complement] [<nid> [<memcg path>] | <current>]."""
    if len(words) not in (2, 3, 4, 5):
        _fail(where, "takes <metric> <target value> [optional values], not %r" % " ".join(words))
    metric, target, rest = words[0], words[1], list(words[2:])
    g = QuotaGoalParams(metric)
    if rest and rest[0] == "complement":
        g.complement = True
        rest = rest[1:]
    if metric in UNSUPPORTED_GOAL_METRICS:
        _fail(where, "quota goal metric %s is not supported by the simulated kernel" % metric)
    if metric not in GOAL_METRICS:
        _fail(where, "unknown quota goal metric %r (one of: %s)"
              % (metric, ", ".join(GOAL_METRICS)))
    if metric == "some_mem_psi_us":
        g.target_value = to_us(target, where)
    elif metric in BP_METRICS:
        g.target_value = to_bp(target, where)
    else:
        g.target_value = to_nr(target, where)
    if metric in ("node_mem_used_bp", "node_mem_free_bp"):
        if len(rest) != 1:
            _fail(where, "%s needs a node id: %s <target> <nid>" % (metric, metric))
        g.nid = to_nr(rest[0], where, INT_MAX)
    elif metric in MEMCG_METRICS:
        if len(rest) != 2:
            _fail(where, "%s needs a node id and a memcg path" % metric)
        g.nid = to_nr(rest[0], where, INT_MAX)
        g.memcg_path = rest[1]
    elif metric == "user_input":
        if len(rest) != 1:
            _fail(where, "user_input needs the current value: user_input <target> <current>")
        g.current_value = to_nr(rest[0], where)
    elif metric == "node_eligible_mem_bp" and len(rest) == 1:
        # damo 3.4.3 takes but does not pass a node id for this metric: the
        # kernel's goal stays on node 0
        if to_nr(rest[0], where, INT_MAX) != 0:
            _fail(where, "node_eligible_mem_bp: damo does not pass a node id for this "
                  "metric, so the kernel measures node 0 (give 0 or none)")
    elif rest:
        _fail(where, "%s takes no more values than the target" % metric)
    return g


def parse_filter(words, where="--damos_filter"):
    """damo's <allow|reject> [none] <type> [<args>] (or the older
    <type> <matching|nomatching> [<args>] [allow|reject])."""
    try:
        return _parse_filter_v2(words, where)
    except DamoError as v2_error:
        if len(words) >= 2 and words[1] in ("matching", "nomatching"):
            rest = list(words[2:])
            decision = "reject"
            if rest and rest[-1] in ("allow", "pass", "reject", "deny", "block"):
                decision = "allow" if rest[-1] in ("allow", "pass") else "reject"
                rest = rest[:-1]
            v2 = [decision] + ([] if words[1] == "matching" else ["none"]) + [words[0]] + rest
            return _parse_filter_v2(v2, where)
        raise v2_error


def _parse_filter_v2(words, where):
    if len(words) < 2:
        _fail(where, "takes <allow|reject> [none] <type> [<args>], not %r" % " ".join(words))
    if words[0] not in ("allow", "reject", "deny", "block"):
        _fail(where, "starts with allow or reject, not %r" % words[0])
    i = 1
    matching = True
    if words[i] in ("none", "non"):
        matching = False
        i += 1
    if i >= len(words):
        _fail(where, "no filter type in %r" % " ".join(words))
    f = FilterParams(words[i], matching, words[0] == "allow")
    args = list(words[i + 1:])
    need = {"memcg": 1, "addr": 2, "target": 1, "hugepage_size": 2}.get(f.filter_type, 0)
    if f.filter_type in UNSUPPORTED_FILTER_TYPES:
        _fail(where, "%s filters are not supported by the simulated kernel" % f.filter_type)
    if f.filter_type not in FILTER_TYPES:
        _fail(where, "unknown filter type %r (one of: %s)"
              % (f.filter_type, ", ".join(FILTER_TYPES)))
    if len(args) != need:
        _fail(where, "a %s filter takes %s" % (f.filter_type, {
            0: "no arguments", 1: "one argument", 2: "two arguments"}[need]))
    if f.filter_type == "memcg":
        f.memcg_path = args[0]
    elif f.filter_type == "addr":
        f.address_range = (_address(args[0], where), _address(args[1], where))
    elif f.filter_type == "target":
        f.damon_target_idx = to_nr(args[0], where)
    elif f.filter_type == "hugepage_size":
        f.hugepage_size = (to_bytes(args[0], where), to_bytes(args[1], where))
    return f


def _address(text, where):
    if text.lower().startswith("0x"):
        try:
            value = int(text, 16)
        except ValueError:
            pass
        else:
            if value > ULONG_MAX:
                _fail(where, "%r is out of range (at most 0x%x)" % (text, ULONG_MAX))
            return value
    return to_bytes(text, where)


def parse_action(words, where="--damos_action"):
    """(action, target_nid, dests) of damo's --damos_action words."""
    if not words:
        _fail(where, "needs an action (one of: %s)" % ", ".join(ACTIONS))
    action, rest = words[0], words[1:]
    if action in UNSUPPORTED_ACTIONS:
        _fail(where, "action %s is not supported by the simulated kernel" % action)
    if action not in ACTIONS:
        _fail(where, "unknown action %r (one of: %s)" % (action, ", ".join(ACTIONS)))
    if action in MIGRATE_ACTIONS:
        # the kernel's node ids are ints and its weights unsigned ints
        if len(rest) == 1:
            return action, to_nr(rest[0], where, INT_MAX), []
        if len(rest) >= 2 and len(rest) % 2 == 0:
            return action, None, [(to_nr(rest[i], where, INT_MAX),
                                   to_nr(rest[i + 1], where, UINT_MAX))
                                  for i in range(0, len(rest), 2)]
        _fail(where, "%s takes a target node id, or pairs of node id and weight" % action)
    if rest:
        _fail(where, "%s takes no arguments" % action)
    return action, None, []


def _quotas_from_words(words, where="--damos_quotas"):
    if not 1 <= len(words) <= 6:
        _fail(where, "takes 1 to 6 values (<time ms> [<size> [<reset interval ms> "
              "[<weights>...]]]), not %r" % " ".join(words))
    words = list(words) + [None] * (6 - len(words))
    q = QuotaParams()
    q.time_ms = to_ms(words[0], where)
    if words[1] is not None:
        q.sz_bytes = to_bytes(words[1], where)
    if words[2] is not None:
        q.reset_interval_ms = to_ms(words[2], where)
    for attr, w in zip(("weight_sz_permil", "weight_nr_accesses_permil", "weight_age_permil"),
                       words[3:]):
        if w is not None:
            setattr(q, attr, to_permil(w, where))
    return q


def _check_uses(uses, name, counts, what):
    for use in uses:
        if use is not None:
            _words(use, name, counts, what)


def _sections(opts, order):
    """With --damos_scheme markers: {option: [[uses of scheme 0], ...]},
    each use belonging to the scheme whose marker comes before it."""
    uses = {n: _uses(opts, n) for n in OPTION_NAMES if n != "damos_scheme"}
    seen = {n: 0 for n in uses}
    nr = order.count("damos_scheme")
    out = {n: [[] for _ in range(nr)] for n in uses}
    idx = -1
    for name in order:
        if name == "damos_scheme":
            idx += 1
            continue
        if name not in uses:
            continue
        if idx < 0:
            _fail("--" + name, "comes before the first --damos_scheme")
        if name in ("damos_nr_quota_goals", "damos_nr_filters"):
            _fail("--" + name, "cannot be used with --damos_scheme markers")
        out[name][idx].append(uses[name][seen[name]])
        seen[name] += 1
    return out


def _single(sections, name, i, counts, what):
    """The one use of a per-scheme option in scheme i's section, or None."""
    uses = sections[name][i]
    if len(uses) > 1:
        _fail("--" + name, "given %d times for scheme %d" % (len(uses), i))
    _check_uses(uses, name, counts, what)
    return uses[0] if uses else None


def _per_scheme(opts, name, nr_schemes, counts, what):
    uses = _uses(opts, name)
    _check_uses(uses, name, counts, what)
    if len(uses) > nr_schemes:
        _fail("--" + name, "given %d times for %d scheme(s) (--damos_action)"
              % (len(uses), nr_schemes))
    return uses + [None] * (nr_schemes - len(uses))


def _composite_quotas(intervals, times, spaces, weights):
    """--damos_quota_interval/time/space/weights of one scheme as
    --damos_quotas values (damo uses them only with --damos_quota_interval)."""
    if intervals is None:
        return None
    return [times[0] if times else "0", spaces[0] if spaces else "0", intervals[0]] + \
        (weights if weights else ["0", "0", "0"])


_SINGLE = (("damos_sz_region", (2,), "two values (<min> <max>)"),
           ("damos_access_rate", (2,), "two values (<min> <max>)"),
           ("damos_age", (2,), "two values (<min> <max>)"),
           ("damos_apply_interval", (1,), "one value"),
           ("damos_quotas", range(1, 7), "1 to 6 values"),
           ("damos_quota_interval", (1,), "one value"),
           ("damos_quota_time", (1,), "one value"),
           ("damos_quota_space", (1,), "one value"),
           ("damos_quota_weights", (3,), "three values"),
           ("damos_quota_fail_charge_ratio", (2,), "two values (<numerator> <denominator>)"),
           ("damos_quota_goal_tuner", (1,), "one value"),
           ("damos_wmarks", (5,), "five values (<metric> <interval us> <high> <mid> <low>)"),
           ("damos_max_nr_snapshots", (1,), "one value"))


def schemes_from_options(opts, order=None):
    """The SchemeParams of damo's --damos_* options (a dict of the option
    values as click gives them); [] if none was given.

    One scheme per --damos_action.  With --damos_scheme markers, every
    option belongs to the scheme whose marker it follows; without them, the
    n-th use of an option goes to the n-th scheme (damo's rule), and quota
    goals and filters go to the only scheme, or are shared out by
    --damos_nr_quota_goals and --damos_nr_filters."""
    if order is None:
        order = option_order()
    actions = _uses(opts, "damos_action")
    nr = len(actions)
    if not nr:
        others = [n for n in given_options(opts) if n != "damos_scheme"]
        if others:
            _fail("--" + others[0], "needs a scheme: give --damos_action first")
        return []
    per = {}
    goals_of, filters_of = [], []
    if opts.get("damos_scheme"):
        sections = _sections(opts, order)
        if len(sections["damos_action"]) != nr or \
                any(len(a) != 1 for a in sections["damos_action"]):
            _fail("--damos_scheme", "each --damos_scheme needs exactly one --damos_action")
        for name, counts, what in _SINGLE:
            per[name] = [_single(sections, name, i, counts, what) for i in range(nr)]
        goals_of = [[parse_goal(w) for w in sections["damos_quota_goal"][i]] for i in range(nr)]
        filters_of = [[parse_filter(w) for w in sections["damos_filter"][i]]
                      for i in range(nr)]
    else:
        for name, counts, what in _SINGLE:
            per[name] = _per_scheme(opts, name, nr, counts, what)
        goal_counts = _group_counts(opts, "damos_quota_goal", "damos_nr_quota_goals", nr,
                                    order)
        filter_counts = _group_counts(opts, "damos_filter", "damos_nr_filters", nr, order)
        goals = [parse_goal(w) for w in _uses(opts, "damos_quota_goal")]
        filters = [parse_filter(w) for w in _uses(opts, "damos_filter")]
        gi = fi = 0
        for i in range(nr):
            goals_of.append(goals[gi:gi + goal_counts[i]])
            filters_of.append(filters[fi:fi + filter_counts[i]])
            gi += goal_counts[i]
            fi += filter_counts[i]
    schemes = []
    for i in range(nr):
        s = SchemeParams(origin="--damos_* scheme %d" % i if nr > 1 else "--damos_action")
        s.action, s.target_nid, s.dests = parse_action(actions[i])
        sz, rate, age = per["damos_sz_region"][i], per["damos_access_rate"][i], \
            per["damos_age"][i]
        s.access_pattern = AccessPattern(
            (to_bytes(sz[0], "--damos_sz_region"), to_bytes(sz[1], "--damos_sz_region"))
            if sz else (0, ULONG_MAX),
            (to_percent(rate[0], "--damos_access_rate"),
             to_percent(rate[1], "--damos_access_rate")) if rate else (0, ULONG_MAX),
            "percent",
            (to_us(age[0], "--damos_age"), to_us(age[1], "--damos_age"))
            if age else (0, ULONG_MAX), "usec")
        if per["damos_apply_interval"][i]:
            s.apply_interval_us = to_us(per["damos_apply_interval"][i][0],
                                        "--damos_apply_interval")
        quotas = per["damos_quotas"][i]
        if per["damos_quota_interval"][i] is not None:
            if quotas is not None:
                _fail("--damos_quota_interval", "cannot be used with --damos_quotas")
            quotas = _composite_quotas(per["damos_quota_interval"][i],
                                       per["damos_quota_time"][i],
                                       per["damos_quota_space"][i],
                                       per["damos_quota_weights"][i])
        if quotas:
            s.quotas = _quotas_from_words(quotas)
        ratio = per["damos_quota_fail_charge_ratio"][i]
        if ratio:
            s.quotas.fail_charge_num = to_nr(ratio[0], "--damos_quota_fail_charge_ratio",
                                             UINT_MAX)
            s.quotas.fail_charge_denom = to_nr(ratio[1], "--damos_quota_fail_charge_ratio",
                                               UINT_MAX)
        s.quotas.goals = goals_of[i]
        if per["damos_quota_goal_tuner"][i]:
            s.quotas.goal_tuner = per["damos_quota_goal_tuner"][i][0]
        w = per["damos_wmarks"][i]
        if w:
            s.watermarks = WatermarksParams(
                w[0], to_us(w[1], "--damos_wmarks"), to_permil(w[2], "--damos_wmarks"),
                to_permil(w[3], "--damos_wmarks"), to_permil(w[4], "--damos_wmarks"))
        s.filters = filters_of[i]
        if per["damos_max_nr_snapshots"][i]:
            s.max_nr_snapshots = to_nr(per["damos_max_nr_snapshots"][i][0],
                                       "--damos_max_nr_snapshots")
        s.validate()
        schemes.append(s)
    return schemes


def overlay_options(schemes, opts, given, goals_only=False, order=None):
    """Lay the --damos_* options given over existing schemes (damo tune):
    with --damos_action the schemes are those of the options, each keeping
    the fields the options do not set from the scheme at its index; without
    it, each option changes the scheme at the index of its use.  With
    goals_only, only quota goals change."""
    import copy

    if order is None:
        order = option_order()
    schemes = [copy.deepcopy(s) for s in schemes]
    given = set(given)
    if goals_only:
        uses = _uses(opts, "damos_quota_goal")
        counts = _group_counts(opts, "damos_quota_goal", "damos_nr_quota_goals",
                               max(1, len(schemes)), order) if len(schemes) > 1 else \
            [len(uses)]
        goals = [parse_goal(w) for w in uses]
        gi = 0
        for i, s in enumerate(schemes):
            if i < len(counts) and counts[i]:
                s.quotas.goals = goals[gi:gi + counts[i]]
                gi += counts[i]
        return schemes
    if "damos_action" in given:
        new = schemes_from_options(opts, order)
        for i, s in enumerate(new):
            if i >= len(schemes):
                continue
            old = schemes[i]
            if "damos_sz_region" not in given and "damos_access_rate" not in given and \
                    "damos_age" not in given:
                s.access_pattern = old.access_pattern
            if "damos_apply_interval" not in given:
                s.apply_interval_us = old.apply_interval_us
            if not given & {"damos_quotas", "damos_quota_interval", "damos_quota_goal",
                            "damos_quota_goal_tuner"}:
                s.quotas = old.quotas
            if "damos_wmarks" not in given:
                s.watermarks = old.watermarks
            if "damos_filter" not in given:
                s.filters = old.filters
            if "damos_max_nr_snapshots" not in given:
                s.max_nr_snapshots = old.max_nr_snapshots
        return new
    if not schemes:
        _fail("--" + sorted(given)[0], "there is no scheme to change: give --damos_action")
    # per-index overlay of the options given
    fake = dict(opts)
    fake["damos_action"] = tuple(VALUE_SEP.join(_action_words(s)) for s in schemes)
    fresh = schemes_from_options(fake, order)
    for s, f in zip(schemes, fresh):
        if "damos_sz_region" in given or "damos_access_rate" in given or \
                "damos_age" in given:
            for name, attr in (("damos_sz_region", "sz_bytes"),
                               ("damos_access_rate", "nr_accesses"), ("damos_age", "age")):
                if name in given:
                    setattr(s.access_pattern, attr, getattr(f.access_pattern, attr))
                    if attr == "nr_accesses":
                        s.access_pattern.nr_accesses_unit = "percent"
                    if attr == "age":
                        s.access_pattern.age_unit = "usec"
        if "damos_apply_interval" in given:
            s.apply_interval_us = f.apply_interval_us
        if given & {"damos_quotas", "damos_quota_interval"}:
            goals, tuner = s.quotas.goals, s.quotas.goal_tuner
            s.quotas = f.quotas
            s.quotas.goals, s.quotas.goal_tuner = goals, tuner
        if "damos_quota_goal" in given:
            s.quotas.goals = f.quotas.goals
        if "damos_quota_goal_tuner" in given:
            s.quotas.goal_tuner = f.quotas.goal_tuner
        if "damos_wmarks" in given:
            s.watermarks = f.watermarks
        if "damos_filter" in given:
            s.filters = f.filters
        if "damos_max_nr_snapshots" in given:
            s.max_nr_snapshots = f.max_nr_snapshots
    return schemes


def _action_words(s):
    if s.action not in MIGRATE_ACTIONS:
        return [s.action]
    if s.dests:
        return [s.action] + ["%d" % x for d in s.dests for x in d]
    return [s.action, "%d" % (s.target_nid if s.target_nid is not None else 0)]
