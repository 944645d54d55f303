"""damo 3.4.3's kdamonds, as its objects hold them: built from a kdamonds file's
key-value pairs with damo's defaults and parsers, shown with its ``to_str``
layout (``damo report damon``, ``damo args damon --format report``) and
dumped with its ``to_kvpairs`` layout (``--format json``/``yaml``).

Kdamond -> contexts -> (targets, intervals, nr_regions, probes, sample
control, schemes -> (access pattern, quotas -> goals, watermarks, filters,
stats, tried regions)).  Numbers are kept as damo keeps them (ints or
floats from its text parsers), so that printing gives its text.

Two things differ from damo: a file's scheme ``stats`` (which damo writes)
are read back, where damo drops them and shows zeros; and raw (``--raw``)
times of ``*_us``/``*_ms`` keys are in those units, where damo's "exact"
formatter prints nanoseconds under them.
"""
import collections

from damo import units
from damo.errors import DamoError

ULONG_MAX = units.ULONG_MAX
NS_PER_MS = 1000000


# ----------------------------------------------------- damo's text parsers

def _common(txt, min_val=0):
    if txt == "min":
        return True, min_val
    if txt == "max":
        return True, ULONG_MAX
    if isinstance(txt, bool):
        return True, int(txt)
    if isinstance(txt, (int, float)):
        return True, txt
    try:
        plain = txt.replace(",", "")
        try:
            return True, int(plain)
        except ValueError:
            return True, float(plain)
    except (ValueError, AttributeError):
        return False, None


def to_nr(txt):
    ok, value = _common(txt)
    if not ok:
        raise ValueError("not a number: %r" % (txt,))
    return value


def to_bytes(txt):
    ok, value = _common(txt)
    return value if ok else units.to_bytes(txt)


def to_us(txt):
    ok, value = _common(txt)
    return value if ok else units.to_ns(txt) / 1000


def to_ms(txt):
    ok, value = _common(txt)
    return value if ok else to_us(txt) / 1000


def _ratio(txt):
    ok, value = _common(txt, 0.0)
    if ok:
        return value
    if txt.endswith("%"):
        return to_nr(txt[:-1].strip()) / 100.0
    return to_nr(txt)


def to_permil(txt):
    ok, value = _common(txt)
    return value if ok else _ratio(txt) * 1000


def to_bp(txt):
    ok, value = _common(txt)
    return value if ok else _ratio(txt) * 10000


def to_percent(txt):
    ok, value = _common(txt)
    return value if ok else _ratio(txt) * 100


def to_bool(txt):
    if isinstance(txt, bool):
        return txt
    text = str(txt).lower()
    if text in ("y", "yes", "true"):
        return True
    if text in ("n", "no", "false"):
        return False
    raise ValueError("not a boolean: %r" % (txt,))


# -------------------------------------------------------- damo's printers

nr = units.format_nr
sz = units.format_sz
sz_accurate = units.format_sz_accurate
time_ns = units.format_time_ns
time_ns_exact = units.format_time_ns_exact


def time_us(us, raw):
    return "%d" % us if raw else time_ns(us * 1000, False)


def time_ms(ms, raw):
    return "%d" % ms if raw else time_ns(ms * NS_PER_MS, False)


# damo's raw "exact" times are in nanoseconds whatever the key's unit (so
# that "time_ms": "10000000" reads back as 10000 s); raw numbers here are in
# the key's unit
def time_us_exact(us, raw):
    return "%d" % us if raw else time_ns_exact(us * 1000, False)


def time_ms_exact(ms, raw):
    return "%d" % ms if raw else time_ns_exact(ms * NS_PER_MS, False)


def ratio(value, raw):
    return units.format_ratio(value, raw)


def permil(value, raw):
    return "%f" % value if raw else ratio(float(value) / 1000, False)


def bp(value, raw):
    return "%f" % value if raw else ratio(float(value) / 10000, False)


def indent(text, width=4):
    return "\n".join(" " * width + line for line in text.split("\n"))


def _od(*pairs):
    return collections.OrderedDict(pairs)


# -------------------------------------------------------------- objects

class Region:
    """An address range (targets' monitoring regions, tried regions, addr filters)."""

    def __init__(self, start, end, nr_accesses=None, age=None, sz_filter_passed=0):
        self.start = to_bytes(start)
        self.end = to_bytes(end)
        self.nr_accesses = nr_accesses      # samples or None
        self.age = age                      # aggregation intervals or None
        self.sz_filter_passed = sz_filter_passed

    @classmethod
    def from_kvpairs(cls, kv):
        region = cls(kv["start"], kv["end"])
        if "nr_accesses" in kv:
            acc = kv["nr_accesses"]
            region.nr_accesses = to_nr(acc["samples"]) if acc.get("samples") is not None \
                else None
            age = kv["age"]
            region.age = to_nr(age["aggr_intervals"]) \
                if age.get("aggr_intervals") is not None else None
            region.sz_filter_passed = to_bytes(kv.get("sz_filter_passed", 0))
        return region

    def addr_range(self, raw):
        return "[%s, %s) (%s)" % (nr(self.start, raw), nr(self.end, raw),
                                  sz(self.end - self.start, raw))

    def to_str(self, raw):
        if self.nr_accesses is None:
            return self.addr_range(raw)
        age = "unkown aggr_intervals" if self.age is None else \
            "%s aggr_intervals" % nr(self.age, raw)
        text = "%s: nr_accesses: %s samples, age: %s" % (
            self.addr_range(raw), nr(self.nr_accesses, raw), age)
        if self.sz_filter_passed is not None:
            text += ", filter_passed: %s" % sz(self.sz_filter_passed, raw)
        return text

    def to_kvpairs(self, raw):
        return _od(("start", nr(self.start, raw)), ("end", nr(self.end, raw)))


class Target:
    def __init__(self, pid, regions, obsolete=False):
        self.pid = pid
        self.regions = regions
        self.obsolete = to_bool(obsolete)

    @classmethod
    def from_kvpairs(cls, kv):
        return cls(kv["pid"], [Region.from_kvpairs(r) for r in kv["regions"]],
                   kv.get("obsolete", False))

    def to_str(self, raw):
        lines = []
        if self.pid is not None:
            lines.append("pid: %s" % self.pid)
        if self.obsolete is True:
            lines.append("(obsolete)")
        lines += ["region %s" % r.to_str(raw) for r in self.regions]
        return "\n".join(lines)

    def to_kvpairs(self, raw):
        return _od(("pid", self.pid), ("obsolete", self.obsolete),
                   ("regions", [r.to_kvpairs(raw) for r in self.regions]))


class IntervalsGoal:
    def __init__(self, access_bp="0%", aggrs=0, min_sample_us=0, max_sample_us=0):
        self.access_bp = to_bp(access_bp)
        self.aggrs = to_nr(aggrs)
        self.min_sample_us = to_us(min_sample_us)
        self.max_sample_us = to_us(max_sample_us)

    def to_str(self, raw):
        return "target %s accesses per %s aggrs, [%s, %s] sampling interval" % (
            bp(self.access_bp, raw), nr(self.aggrs, raw), time_us(self.min_sample_us, raw),
            time_us(self.max_sample_us, raw))

    def enabled(self):
        return self.aggrs != 0

    def to_kvpairs(self, raw):
        return _od(("access_bp", bp(self.access_bp, raw)), ("aggrs", nr(self.aggrs, raw)),
                   ("min_sample_us", time_us(self.min_sample_us, raw)),
                   ("max_sample_us", time_us(self.max_sample_us, raw)))


class Intervals:
    def __init__(self, sample="5ms", aggr="100ms", ops_update="1s", goal=None):
        self.sample = to_us(sample)
        self.aggr = to_us(aggr)
        self.ops_update = to_us(ops_update)
        self.goal = goal if goal is not None else IntervalsGoal()

    @classmethod
    def from_kvpairs(cls, kv):
        goal = None
        if "intervals_goal" in kv:
            g = kv["intervals_goal"]
            goal = IntervalsGoal(g["access_bp"], g["aggrs"], g["min_sample_us"],
                                 g["max_sample_us"])
        return cls(kv["sample_us"], kv["aggr_us"], kv["ops_update_us"], goal)

    def to_str(self, raw):
        lines = ["sample %s, aggr %s, update %s" % (
            time_us(self.sample, raw), time_us(self.aggr, raw), time_us(self.ops_update, raw))]
        if self.goal.enabled():
            lines.append(self.goal.to_str(raw))
        return "\n".join(lines)

    def is_default(self):
        return self.to_str(False) == Intervals().to_str(False)

    def to_kvpairs(self, raw, omit_defaults=False):
        kv = _od(("sample_us", time_us(self.sample, raw)), ("aggr_us", time_us(self.aggr, raw)),
                 ("ops_update_us", time_us(self.ops_update, raw)))
        if not omit_defaults or self.goal.to_str(False) != IntervalsGoal().to_str(False):
            kv["intervals_goal"] = self.goal.to_kvpairs(raw)
        return kv


class NrRegions:
    def __init__(self, minimum=10, maximum=1000):
        self.minimum = to_nr(minimum)
        self.maximum = to_nr(maximum)

    def to_str(self, raw):
        return "[%s, %s]" % (nr(self.minimum, raw), nr(self.maximum, raw))

    def to_kvpairs(self, raw):
        return _od(("min", nr(self.minimum, raw)), ("max", nr(self.maximum, raw)))


class SampleFilter:
    def __init__(self, kv):
        self.filter_type = kv["filter_type"]
        self.matching = kv["matching"]
        self.allow = kv["allow"]
        self.cpumask = kv["cpumask"]
        self.tid_arr = kv["tid_arr"]

    def to_str(self, raw):
        words = ["allow" if self.allow else "reject"]
        if self.matching is False:
            words.append("none")
        words.append(self.filter_type)
        if self.filter_type == "cpumask":
            words.append(self.cpumask)
        elif self.filter_type == "threads":
            words.append(self.tid_arr)
        return " ".join(words)

    def to_kvpairs(self, raw):
        return _od(("filter_type", self.filter_type), ("matching", self.matching),
                   ("allow", self.allow), ("cpumask", self.cpumask),
                   ("tid_arr", self.tid_arr))


class SampleControl:
    def __init__(self, page_table=True, page_fault=False, filters=()):
        self.page_table = to_bool(page_table)
        self.page_fault = to_bool(page_fault)
        self.filters = list(filters)

    @classmethod
    def from_kvpairs(cls, kv):
        p = kv["primitives_enabled"]
        return cls(p["page_table"], p["page_fault"],
                   [SampleFilter(f) for f in kv["sample_filters"]])

    def to_str(self, raw):
        primitives = [name for name, on in (("page_table", self.page_table),
                                            ("page_fault", self.page_fault)) if on is True]
        lines = ["enabled primitives: %s" % ", ".join(primitives)]
        if self.filters:
            lines.append("Filters")
            lines += ["- %s" % f.to_str(raw) for f in self.filters]
        return "\n".join(lines)

    def to_kvpairs(self, raw):
        return _od(("primitives_enabled", _od(("page_table", self.page_table),
                                              ("page_fault", self.page_fault))),
                   ("sample_filters", [f.to_kvpairs(raw) for f in self.filters]))


class ProbeFilter:
    TYPES = ("anon", "memcg", "pgidle_unset", "pgidle_set", "hugepage_size")

    def __init__(self, kv):
        if kv["filter_type"] not in self.TYPES:
            raise ValueError("wrong damon filter type (%s)" % kv["filter_type"])
        self.filter_type = kv["filter_type"]
        self.matching = to_bool(kv["matching"])
        self.allow = to_bool(kv["allow"])
        self.path = kv["path"]
        self.range_min = None if kv.get("range_min") is None else to_bytes(kv["range_min"])
        self.range_max = None if kv.get("range_max") is None else to_bytes(kv["range_max"])

    def to_str(self, raw):
        words = ["allow" if self.allow else "reject"]
        if self.matching is False:
            words.append("non")
        words.append(self.filter_type)
        if self.filter_type == "memcg":
            words.append(self.path)
        elif self.filter_type == "hugepage_size":
            words.append("[%s, %s]" % (sz(self.range_min, raw), sz(self.range_max, raw)))
        return " ".join(words)

    def to_kvpairs(self, raw):
        def accurate(v):
            return None if v is None else sz_accurate(v, raw)
        return _od(("filter_type", self.filter_type), ("matching", self.matching),
                   ("allow", self.allow), ("path", self.path),
                   ("range_min", accurate(self.range_min)),
                   ("range_max", accurate(self.range_max)))


class Probe:
    def __init__(self, kv):
        self.preps = [p["prep_action"] for p in kv.get("preps", [])]
        self.filters = [ProbeFilter(f) for f in kv["filters"]]
        weight = kv.get("weight")
        self.weight = 0 if weight is None else weight

    def to_str(self, raw):
        words = []
        if self.preps:
            words.append("prep: %s" % ", ".join(self.preps))
            words.append(", filter: ")
        words.append(", ".join(f.to_str(raw) for f in self.filters))
        words.append(" (weight: %s)" % self.weight)
        return "".join(words)

    def to_kvpairs(self, raw):
        return _od(("preps", [_od(("prep_action", p)) for p in self.preps]),
                   ("filters", [f.to_kvpairs(raw) for f in self.filters]),
                   ("weight", self.weight))


class AccessPattern:
    def __init__(self, sz_bytes=("min", "max"), nr_accesses=("min", "max"),
                 nr_accesses_unit="percent", age=("min", "max"), age_unit="usec"):
        self.sz_bytes = [to_bytes(sz_bytes[0]), to_bytes(sz_bytes[1])]
        parse = to_percent if nr_accesses_unit == "percent" else to_nr
        self.nr_accesses = [parse(v) for v in nr_accesses]
        self.nr_accesses_unit = nr_accesses_unit
        parse = to_us if age_unit == "usec" else to_nr
        self.age = [parse(v) for v in age]
        self.age_unit = age_unit

    @classmethod
    def from_kvpairs(cls, kv):
        sizes = [kv["sz_bytes"]["min"], kv["sz_bytes"]["max"]]
        acc, unit = cls._with_unit(kv["nr_accesses"], to_percent, "percent")
        age, age_unit = cls._with_unit(kv["age"], to_us, "usec")
        return cls(sizes, acc, unit, age, age_unit)

    @staticmethod
    def _with_unit(kv, parse, default_unit):
        try:
            return [parse(kv["min"]), parse(kv["max"])], default_unit
        except (ValueError, TypeError, AttributeError):
            pass
        values, units_ = [], []
        for key in ("min", "max"):
            fields = str(kv[key]).split()
            if len(fields) != 2:
                raise ValueError("%r is not a <number> <unit>" % kv[key])
            values.append(to_nr(fields[0]))
            units_.append(fields[1])
        if units_[0] != units_[1]:
            raise ValueError("units of min and max differ")
        return values, units_[0]

    def _acc_str(self, value, raw):
        if self.nr_accesses_unit == "percent":
            return "%s %%" % nr(value, raw)
        return "%s %s" % (nr(value, raw), self.nr_accesses_unit)

    def _age_str(self, value, raw):
        if self.age_unit == "usec":
            return time_us_exact(value, raw)
        return "%s %s" % (nr(value, raw), self.age_unit)

    def to_str(self, raw):
        return "\n".join([
            "sz: [%s, %s]" % (sz(self.sz_bytes[0], raw), sz(self.sz_bytes[1], raw)),
            "nr_accesses: [%s, %s]" % tuple(self._acc_str(v, raw) for v in self.nr_accesses),
            "age: [%s, %s]" % tuple(self._age_str(v, raw) for v in self.age)])

    def is_default(self):
        return (self.sz_bytes == AccessPattern().sz_bytes and
                self.to_str(True) == AccessPattern().to_str(True))

    def to_kvpairs(self, raw):
        return _od(("sz_bytes", _od(("min", sz(self.sz_bytes[0], raw)),
                                    ("max", sz(self.sz_bytes[1], raw)))),
                   ("nr_accesses", _od(("min", self._acc_str(self.nr_accesses[0], raw)),
                                       ("max", self._acc_str(self.nr_accesses[1], raw)))),
                   ("age", _od(("min", self._age_str(self.age[0], raw)),
                               ("max", self._age_str(self.age[1], raw)))))


GOAL_METRICS = ("user_input", "some_mem_psi_us", "node_mem_used_bp", "node_mem_free_bp",
                "node_memcg_used_bp", "node_memcg_free_bp", "active_mem_bp",
                "inactive_mem_bp", "node_eligible_mem_bp")
_BP_METRICS = ("node_mem_used_bp", "node_mem_free_bp", "node_memcg_used_bp",
               "node_memcg_free_bp", "active_mem_bp", "inactive_mem_bp")


class QuotaGoal:
    def __init__(self, metric="user_input", complement=False, target_value="0",
                 current_value="0", nid=None, memcg_path=None):
        if metric not in GOAL_METRICS:
            raise ValueError("unsupported DAMOS quota goal metric %r" % (metric,))
        self.metric = metric
        self.complement = to_bool(complement)
        if metric == "some_mem_psi_us":
            self.target_value = to_us(target_value)
        elif metric in _BP_METRICS:
            self.target_value = to_bp(target_value)
        else:
            self.target_value = to_nr(target_value)
        self.current_value = to_nr(current_value)
        self.nid = None if nid is None else to_nr(nid)
        self.memcg_path = memcg_path

    @classmethod
    def from_kvpairs(cls, kv):
        if "target_value_bp" in kv:
            return cls(target_value=kv["target_value_bp"], current_value=kv["current_value_bp"])
        return cls(kv["metric"], kv.get("complement", False), kv["target_value"],
                   kv["current_value"], kv.get("nid"), kv.get("memcg_path"))

    def to_str(self, raw):
        metric = self.metric
        if self.complement is True:
            metric += " (complement)"
        extra = []
        if self.metric in ("node_mem_used_bp", "node_mem_free_bp", "node_memcg_used_bp",
                           "node_memcg_free_bp"):
            extra.append("nid %s" % nr(self.nid, raw))
        if self.metric in ("node_memcg_used_bp", "node_memcg_free_bp"):
            extra.append("memcg %s" % self.memcg_path)
        if extra:
            metric = "%s (%s)" % (metric, ", ".join(extra))
        return "metric %s target %s current %s" % (metric, nr(self.target_value, raw),
                                                   nr(self.current_value, raw))

    def to_kvpairs(self, raw):
        return _od(("metric", self.metric), ("complement", self.complement),
                   ("nid", None if self.nid is None else nr(self.nid, raw)),
                   ("memcg_path", self.memcg_path),
                   ("target_value", nr(self.target_value, raw)),
                   ("current_value", nr(self.current_value, raw)))


class Quotas:
    def __init__(self, time_ms=0, sz_bytes=0, reset_interval_ms="max",
                 weights=("0 %", "0 %", "0 %"), goals=(), goal_tuner=None,
                 effective_sz_bytes=0, fail_charge_num=0, fail_charge_denom=0):
        self.time_ms = to_ms(time_ms)
        self.sz_bytes = to_bytes(sz_bytes)
        self.reset_interval_ms = to_ms(reset_interval_ms)
        self.weights = [to_permil(w) for w in weights]
        self.fail_charge_num = to_nr(fail_charge_num)
        self.fail_charge_denom = to_nr(fail_charge_denom)
        self.goals = list(goals)
        self.goal_tuner = goal_tuner or "consist"
        self.effective_sz_bytes = to_bytes(effective_sz_bytes)

    @classmethod
    def from_kvpairs(cls, kv):
        w = kv["weights"]
        return cls(kv["time_ms"], kv["sz_bytes"], kv["reset_interval_ms"],
                   [w["sz_permil"], w["nr_accesses_permil"], w["age_permil"]],
                   [QuotaGoal.from_kvpairs(g) for g in kv.get("goals", [])],
                   kv.get("goal_tuner", "consist"), kv.get("effective_sz_bytes", 0),
                   kv.get("fail_charge_num", 0), kv.get("fail_charge_denom", 0))

    def _key(self):
        return (self.time_ms, self.sz_bytes, self.reset_interval_ms, self.weights,
                self.fail_charge_num, self.fail_charge_denom,
                [g.to_kvpairs(True) for g in self.goals], self.goal_tuner)

    def is_default(self):
        return self._key() == Quotas()._key()

    def to_str(self, raw, params_only=False):
        head = [time_ns(self.time_ms * NS_PER_MS, raw), sz(self.sz_bytes, raw)]
        if not params_only:
            head.append(sz(self.effective_sz_bytes, raw))
        lines = ["%s per %s" % (" / ".join(head), time_ms(self.reset_interval_ms, raw))]
        if self.fail_charge_denom != 0:
            lines.append("fail charge ratio: %d/%d/" % (self.fail_charge_num,
                                                         self.fail_charge_denom))
        lines += ["goal %d: %s" % (i, g.to_str(raw)) for i, g in enumerate(self.goals)]
        if self.goals:
            lines.append("goal tuner: %s" % self.goal_tuner)
        lines.append("priority: sz %s, nr_accesses %s, age %s" % tuple(
            permil(w, raw) for w in self.weights))
        return "\n".join(lines)

    def to_kvpairs(self, raw):
        return _od(("time_ms", time_ms_exact(self.time_ms, raw)),
                   ("sz_bytes", sz(self.sz_bytes, raw)),
                   ("reset_interval_ms", time_ms_exact(self.reset_interval_ms, raw)),
                   ("fail_charge_num", nr(self.fail_charge_num, raw)),
                   ("fail_charge_denom", nr(self.fail_charge_denom, raw)),
                   ("goals", [g.to_kvpairs(raw) for g in self.goals]),
                   ("goal_tuner", self.goal_tuner),
                   ("effective_sz_bytes", sz(self.effective_sz_bytes, raw)),
                   ("weights", _od(("sz_permil", permil(self.weights[0], raw)),
                                   ("nr_accesses_permil", permil(self.weights[1], raw)),
                                   ("age_permil", permil(self.weights[2], raw)))))


class Watermarks:
    def __init__(self, metric="none", interval_us=0, high="0 %", mid="0 %", low="0 %"):
        if metric not in ("none", "free_mem_rate"):
            raise ValueError("wrong watermark metric (%s)" % metric)
        self.metric = metric
        self.interval_us = to_us(interval_us)
        self.marks = [to_permil(high), to_permil(mid), to_permil(low)]

    @classmethod
    def from_kvpairs(cls, kv):
        return cls(*[kv[k] for k in ("metric", "interval_us", "high_permil", "mid_permil",
                                     "low_permil")])

    def is_default(self):
        w = Watermarks()
        return (self.metric, self.interval_us, self.marks) == (w.metric, w.interval_us,
                                                               w.marks)

    def to_str(self, raw):
        return "metric %s, interval %s\n%s" % (
            self.metric, time_us(self.interval_us, raw),
            ", ".join(permil(m, raw) for m in self.marks))

    def to_kvpairs(self, raw):
        return _od(("metric", self.metric),
                   ("interval_us", time_us_exact(self.interval_us, raw)),
                   ("high_permil", permil(self.marks[0], raw)),
                   ("mid_permil", permil(self.marks[1], raw)),
                   ("low_permil", permil(self.marks[2], raw)))


class Filter:
    def __init__(self, kv):
        self.filter_type = kv["filter_type"]
        self.matching = to_bool(kv["matching"])
        self.allow = to_bool(kv.get("allow", kv.get("filter_pass", False)))
        self.memcg_path = kv["memcg_path"] if self.filter_type == "memcg" else ""
        self.address_range = Region.from_kvpairs(kv["address_range"]) \
            if self.filter_type == "addr" else None
        self.damon_target_idx = to_nr(kv["damon_target_idx"]) \
            if self.filter_type == "target" else None
        hp = kv.get("hugepage_size")
        self.hugepage_size = None if hp is None else [to_bytes(x) for x in hp]
        wsum = kv.get("probe_hits_wsum_range")
        self.wsum = None if wsum is None else [to_nr(x) for x in wsum]

    def to_str(self, raw):
        words = ["allow" if self.allow else "reject"]
        if self.matching is False:
            words.append("none")
        words.append(self.filter_type)
        t = self.filter_type
        if t == "memcg":
            words.append(self.memcg_path)
        elif t == "addr":
            words.append(self.address_range.to_str(raw))
        elif t == "target":
            words.append(nr(self.damon_target_idx, raw))
        elif t == "hugepage_size" and self.hugepage_size is not None:
            words.append("[%s, %s]" % (sz(self.hugepage_size[0], raw),
                                       sz(self.hugepage_size[1], raw)))
        elif t == "probe_hits_wsum":
            words.append("[%s, %s]" % (nr(self.wsum[0], raw), nr(self.wsum[1], raw)))
        return " ".join(words)

    def to_kvpairs(self, raw):
        return _od(("filter_type", self.filter_type), ("matching", self.matching),
                   ("allow", self.allow), ("memcg_path", self.memcg_path),
                   ("address_range", None if self.address_range is None
                    else self.address_range.to_kvpairs(raw)),
                   ("damon_target_idx", None if self.damon_target_idx is None
                    else nr(self.damon_target_idx, raw)),
                   ("hugepage_size", None if self.hugepage_size is None
                    else [sz(x, raw) for x in self.hugepage_size]),
                   ("probe_hits_wsum_range", None if self.wsum is None
                    else [nr(x, raw) for x in self.wsum]))


STAT_FIELDS = ("nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed",
               "qt_exceeds", "nr_snapshots", "max_nr_snapshots")


class Stats:
    def __init__(self, kv=None):
        kv = kv or {}
        self.values = {}
        for name in STAT_FIELDS:
            value = kv.get(name, 0)
            self.values[name] = to_bytes(value) if name.startswith("sz_") else to_nr(value)

    def to_str(self, raw):
        v = self.values
        return "\n".join([
            "tried %s times (%s)" % (nr(v["nr_tried"], raw), sz(v["sz_tried"], raw)),
            "applied %s times (%s)" % (nr(v["nr_applied"], raw), sz(v["sz_applied"], raw)),
            "%s passed filters" % sz(v["sz_ops_filter_passed"], raw),
            "quota exceeded %s times" % nr(v["qt_exceeds"], raw),
            # damo prints the filters-passed size twice
            sz(v["sz_ops_filter_passed"], raw),
            "tried %s snapshots (max %s)" % (nr(v["nr_snapshots"], raw),
                                             nr(v["max_nr_snapshots"], raw))])

    def to_kvpairs(self, raw):
        return _od(*((name, sz(self.values[name], raw) if name.startswith("sz_")
                      else nr(self.values[name], raw)) for name in STAT_FIELDS))


ACTIONS = ("willneed", "cold", "pageout", "hugepage", "collapse", "nohugepage", "lru_prio",
           "lru_deprio", "migrate_hot", "migrate_cold", "stat")


class Scheme:
    def __init__(self, kv):
        self.access_pattern = AccessPattern.from_kvpairs(kv["access_pattern"]) \
            if "access_pattern" in kv else AccessPattern()
        self.action = kv.get("action", "stat")
        if self.action not in ACTIONS:
            raise ValueError("wrong damos action: %s" % self.action)
        self.target_nid = kv.get("target_nid")
        interval = kv.get("apply_interval_us")
        self.apply_interval_us = 0 if interval is None else to_us(interval)
        self.quotas = Quotas.from_kvpairs(kv["quotas"]) if "quotas" in kv else Quotas()
        self.watermarks = Watermarks.from_kvpairs(kv["watermarks"]) \
            if "watermarks" in kv else Watermarks()
        self.filters = [Filter(f) for f in kv.get("filters", [])]
        self.dests = [(to_nr(d["id"]), to_nr(d["weight"])) for d in kv.get("dests", [])]
        self.stats = Stats(kv.get("stats"))
        self.tried_regions = []
        self.tried_bytes = 0

    def action_line(self, raw):
        words = ["action: %s" % self.action]
        if self.action in ("migrate_hot", "migrate_cold"):
            words.append("to node %s" % self.target_nid)
        words.append("per %s" % time_us(self.apply_interval_us, raw)
                     if self.apply_interval_us != 0 else "per aggr interval")
        return " ".join(words)

    def to_str(self, raw, params_only=False, omit_tried_regions=False):
        lines = [self.action_line(raw)]
        if self.access_pattern is not None:
            lines += ["target access pattern", indent(self.access_pattern.to_str(raw))]
        lines += ["dest %d weight %d" % d for d in self.dests]
        if self.quotas is not None:
            lines += ["quotas", indent(self.quotas.to_str(raw, params_only))]
        if self.watermarks is not None:
            lines += ["watermarks", indent(self.watermarks.to_str(raw))]
        for idx, f in enumerate(self.filters):
            lines += ["filter %d" % idx, indent(f.to_str(raw))]
        if not params_only and self.stats is not None:
            lines += ["statistics", indent(self.stats.to_str(raw))]
        if not params_only and not omit_tried_regions and self.tried_regions is not None:
            lines.append("tried regions (%s)" % sz(self.tried_bytes, raw))
            lines += [indent(r.to_str(raw)) for r in self.tried_regions]
        return "\n".join(lines)

    def to_kvpairs(self, raw, omit_defaults=False, params_only=False):
        kv = _od(("action", self.action),
                 ("dests", [_od(("id", i), ("weight", w)) for i, w in self.dests]))
        if self.action in ("migrate_hot", "migrate_cold"):
            kv["target_nid"] = self.target_nid
        if not omit_defaults or not self.access_pattern.is_default():
            kv["access_pattern"] = self.access_pattern.to_kvpairs(raw)
        kv["apply_interval_us"] = time_us(self.apply_interval_us, raw)
        if not omit_defaults or not self.quotas.is_default():
            kv["quotas"] = self.quotas.to_kvpairs(raw)
        if not omit_defaults or not self.watermarks.is_default():
            kv["watermarks"] = self.watermarks.to_kvpairs(raw)
        if not omit_defaults or self.filters:
            kv["filters"] = [f.to_kvpairs(raw) for f in self.filters]
        if not params_only and self.stats is not None:
            kv["stats"] = self.stats.to_kvpairs(raw)
        return kv


class Context:
    def __init__(self, kv):
        self.ops = kv["ops"]
        self.addr_unit = to_bytes(kv.get("addr_unit", 1))
        self.targets = [Target.from_kvpairs(t) for t in kv["targets"]]
        self.intervals = Intervals.from_kvpairs(kv["intervals"]) if "intervals" in kv \
            else Intervals()
        self.nr_regions = NrRegions(kv["nr_regions"]["min"], kv["nr_regions"]["max"]) \
            if "nr_regions" in kv else NrRegions()
        self.probes = [Probe(p) for p in kv.get("probes", [])]
        self.sample_control = SampleControl.from_kvpairs(kv["sample_control"]) \
            if "sample_control" in kv else SampleControl()
        self.pause = to_bool(kv.get("pause", False))
        self.schemes = [Scheme(s) for s in kv.get("schemes", [])]

    def to_str(self, raw, params_only=False, omit_tried_regions=False):
        words = ["ops: %s" % self.ops]
        if self.addr_unit != 1:
            words.append("addr_unit %s" % sz_accurate(self.addr_unit, raw))
        lines = [" ".join(words)]
        if len(self.probes) == 1:
            lines.append("probe %s" % self.probes[0].to_str(raw))
        elif self.probes:
            lines.append("probes")
            lines += ["- %s" % p.to_str(raw) for p in self.probes]
        if self.pause is True:
            lines.append("pause: True")
        for idx, target in enumerate(self.targets):
            lines += ["target %d" % idx, indent(target.to_str(raw))]
        intervals = self.intervals.to_str(raw)
        if "\n" not in intervals:
            lines.append("intervals: %s" % intervals)
        else:
            lines += ["intervals", indent(intervals)]
        lines.append("nr_regions: %s" % self.nr_regions.to_str(raw))
        for idx, scheme in enumerate(self.schemes):
            lines += ["scheme %d" % idx,
                      indent(scheme.to_str(raw, params_only, omit_tried_regions))]
        lines += ["access sample control", self.sample_control.to_str(raw)]
        return "\n".join(lines)

    def to_kvpairs(self, raw, omit_defaults=False, params_only=False):
        kv = _od(("ops", self.ops), ("addr_unit", sz_accurate(self.addr_unit, raw)),
                 ("targets", [t.to_kvpairs(raw) for t in self.targets]))
        if not omit_defaults or not self.intervals.is_default():
            kv["intervals"] = self.intervals.to_kvpairs(raw)
        if not omit_defaults or self.nr_regions.to_str(True) != NrRegions().to_str(True):
            kv["nr_regions"] = self.nr_regions.to_kvpairs(raw)
        kv["probes"] = [p.to_kvpairs(raw) for p in self.probes]
        kv["sample_control"] = self.sample_control.to_kvpairs(raw)
        kv["pause"] = self.pause
        kv["schemes"] = [s.to_kvpairs(raw, omit_defaults, params_only) for s in self.schemes]
        return kv


class Kdamond:
    def __init__(self, kv):
        self.state = kv.get("state", "off")
        self.pid = kv.get("pid")
        self.refresh_ms = to_ms(kv.get("refresh_ms", 0))
        self.contexts = [Context(c) for c in kv["contexts"]]

    def cpu_usage(self):
        """damo's: 0.0 when off, else ps's %cpu of the pid ('error' if none)."""
        import subprocess
        if self.state == "off":
            return "0.0"
        try:
            out = subprocess.run(["ps", "-p", str(self.pid), "-o", "%cpu"], capture_output=True,
                                 text=True, check=True).stdout
            return out.split("\n")[1].strip()
        except (OSError, subprocess.CalledProcessError, IndexError):
            return "error"

    def summary_str(self, show_cpu=False, params_only=False, raw=False):
        words = []
        if not params_only and self.state is not None:
            words.append("state: %s" % self.state)
        if not params_only and self.pid is not None:
            words.append("pid: %s" % self.pid)
        if self.refresh_ms != 0:
            words.append("stats refresh per: %s" % time_ms(self.refresh_ms, raw))
        if show_cpu:
            words.append("cpu usage: %s" % self.cpu_usage())
        return ", ".join(words)

    def to_str(self, raw, show_cpu=False, params_only=False, omit_tried_regions=False):
        lines = []
        summary = self.summary_str(show_cpu, params_only, raw)
        if summary != "":
            lines.append(summary)
        for idx, ctx in enumerate(self.contexts):
            lines += ["context %d" % idx,
                      indent(ctx.to_str(raw, params_only, omit_tried_regions))]
        return "\n".join(lines)

    def to_kvpairs(self, raw=False, omit_defaults=False, params_only=False):
        kv = collections.OrderedDict()
        if not params_only:
            kv["state"] = self.state
            kv["pid"] = self.pid
        kv["refresh_ms"] = self.refresh_ms
        kv["contexts"] = [c.to_kvpairs(raw, omit_defaults, params_only) for c in self.contexts]
        return kv


def from_kvpairs(kdamonds_kv, source):
    """Kdamonds of a list of kdamond key-value pairs; errors name ``source``."""
    try:
        return [Kdamond(kv) for kv in kdamonds_kv]
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        what = "lacks %s" % e if isinstance(e, KeyError) else "is malformed (%s)" % e
        raise DamoError("%s: a kdamond %s" % (source, what)) from None


def read_json_file(path, option="--input_file"):
    """damo's kdamonds_from_json_arg: a JSON object whose 'kdamonds' holds them
    (``damo args damon``'s output); also the bare list that ``damo report
    damon --format json`` prints, which damo itself does not read back."""
    import json
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise DamoError("%s: %s: %s" % (option, path, e.strerror or e)) from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise DamoError("%s: %s is not JSON (%s)" % (option, path, e)) from None
    if isinstance(data, list):
        data = {"kdamonds": data}
    if not isinstance(data, dict) or not isinstance(data.get("kdamonds"), list):
        raise DamoError("%s: %s has no 'kdamonds' list" % (option, path))
    return from_kvpairs(data["kdamonds"], "%s: %s" % (option, path))


def dump_yaml(kvpairs):
    """damo's YAML dump: ordered mappings as plain ones, block style."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(collections.OrderedDict,
                           lambda d, data: d.represent_dict(data.items()))
    return yaml.dump(kvpairs, Dumper=Dumper, default_flow_style=False, sort_keys=False)
