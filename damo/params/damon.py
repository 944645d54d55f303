"""DAMON parameters in damo's layout: kdamonds -> contexts -> targets (and
schemes), as damo's kdamonds JSON/YAML files and its command-line options
describe them, and their translation into engine objects.

The layout (keys, human-readable values) follows damo 3.4.3's ``to_kvpairs``
so that a kdamonds file written by damo loads here and vice versa.
"""
import dataclasses
from typing import List, Optional

from damo import units
from damo.errors import DamoError

OPS = ("vaddr", "fvaddr", "paddr")

# damo's defaults (``damo args damon``); the kernel's ops update is 60 s
DEFAULT_SAMPLE_US = 5000
DEFAULT_AGGR_US = 100000
DEFAULT_UPDATE_US = 1000000
DEFAULT_MIN_NR_REGIONS = 10
DEFAULT_MAX_NR_REGIONS = 1000
# --monitoring_intervals_autotune: 4% of events, every 3 aggregations, 5 ms..10 s
AUTOTUNE_GOAL = (400, 3, 5000, 10000000)
# what the live kdamonds do with the parameters beyond monitoring (damo
# features asks)
KDAMOND_FEATURES = ("refresh_ms", "obsolete_target")


def _number(text, what, parse=units.to_number, maximum=units.ULONG_MAX):
    """A number from a file or an option: finite, 0 to ``maximum`` (the
    kernel's unsigned long by default); NaN and infinities never get further."""
    try:
        value = parse(text) if isinstance(text, str) else text
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError()
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise DamoError("%s: %r is not a valid value" % (what, text), exit_code=2)
    if not value >= 0:              # negative, or NaN
        raise DamoError("%s: %r is not a valid value" % (what, text), exit_code=2)
    if value > maximum:             # infinities too
        raise DamoError("%s: %r is out of range (at most %d)" % (what, text, maximum),
                        exit_code=2)
    return int(value)


def _bool(value, what):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "y", "yes", "1",
                                                            "false", "n", "no", "0"):
        return value.strip().lower() in ("true", "y", "yes", "1")
    raise DamoError("%s: %r is not true or false" % (what, value), exit_code=2)


def parse_us(text, what):
    """A time in microseconds: '5000', '5ms', '1 s', '1.5s'."""
    return _number(text, what, units.to_us)


def parse_ms(text, what):
    """A time in milliseconds: '100', '100ms', '1s'."""
    def parse(t):
        number = units._common(t)
        return number if number is not None else units.to_us(t) / 1000
    return _number(text, what, parse)


def parse_bytes(text, what):
    """A size in bytes: '4096', '4K', '4 KiB', 'max'."""
    return _number(text, what, units.to_bytes)


def parse_address(text, what):
    text = text.strip()
    try:
        if text.lower().startswith("0x"):
            value = int(text, 16)
            if value > units.ULONG_MAX:
                raise DamoError("%s: %r is out of range (at most 0x%x)"
                                % (what, text, units.ULONG_MAX), exit_code=2)
            return value
    except ValueError:
        pass
    return parse_bytes(text, what)


def parse_regions(text, what="--regions"):
    """'<start>-<end> ...' -> [(start, end)], sorted and checked."""
    ranges = []
    for word in text.replace(",", " ").split():
        if "-" not in word:
            raise DamoError("%s: %r is not <start>-<end>" % (what, word), exit_code=2)
        s, e = word.split("-", 1)
        start, end = parse_address(s, what), parse_address(e, what)
        if start >= end:
            raise DamoError("%s: region %s is empty or inverted" % (what, word), exit_code=2)
        ranges.append((start, end))
    ranges.sort()
    for (_, e1), (s2, _) in zip(ranges, ranges[1:]):
        if s2 < e1:
            raise DamoError("%s: regions overlap" % what, exit_code=2)
    return ranges


@dataclasses.dataclass
class IntervalsGoal:
    access_bp: int
    aggrs: int
    min_sample_us: int
    max_sample_us: int

    def as_tuple(self):
        return (self.access_bp, self.aggrs, self.min_sample_us, self.max_sample_us)

    def to_kvpairs(self):
        return {"access_bp": units.format_ratio(self.access_bp / 10000, False),
                "aggrs": str(self.aggrs),
                "min_sample_us": units.format_time_us_exact(self.min_sample_us, False),
                "max_sample_us": units.format_time_us_exact(self.max_sample_us, False)}

    @classmethod
    def from_kvpairs(cls, kv):
        return cls(_number(kv["access_bp"], "intervals_goal.access_bp", units.to_bp),
                   _number(kv["aggrs"], "intervals_goal.aggrs"),
                   parse_us(kv["min_sample_us"], "intervals_goal.min_sample_us"),
                   parse_us(kv["max_sample_us"], "intervals_goal.max_sample_us"))


# data attributes monitoring (DAMON probes, Linux 7.2; weights 7.3)
MAX_PROBES = 4                      # DAMON_MAX_PROBES: sysfs nr_probes takes 0..4
PROBE_FILTER_TYPES = ("anon", "memcg")          # enum damon_filter_type of 7.3
# damo 3.4.3 knows these too; they are in mm.git only, not in a released kernel
PROBE_FILTER_TYPES_NEWER = ("pgidle_unset", "pgidle_set", "hugepage_size")


@dataclasses.dataclass
class ProbeFilterParams:
    """A filter of a probe (damo's DamonFilter)."""
    filter_type: str
    matching: bool = True
    allow: bool = False
    memcg_path: Optional[str] = None

    def to_kvpairs(self):
        return {"filter_type": self.filter_type, "matching": self.matching,
                "allow": self.allow, "path": self.memcg_path,
                "range_min": None, "range_max": None}

    @classmethod
    def from_kvpairs(cls, kv, where="probe filter"):
        if not isinstance(kv, dict) or "filter_type" not in kv:
            raise DamoError("%s: not a probe filter (no filter_type)" % where, exit_code=2)
        return cls(str(kv["filter_type"]), _bool(kv.get("matching", True), where + " matching"),
                   _bool(kv.get("allow", False), where + " allow"), kv.get("path"))

    def to_str(self):
        words = ["allow" if self.allow else "reject"]
        if not self.matching:
            words.append("non")
        words.append(self.filter_type)
        if self.filter_type == "memcg":
            words.append(str(self.memcg_path))
        return " ".join(words)

    def validate(self, where):
        if self.filter_type in PROBE_FILTER_TYPES_NEWER:
            raise DamoError("%s: %s: the simulated kernel (Linux 7.3) has no such probe filter "
                            "type (it is in mm.git only; 7.3 has %s)"
                            % (where, self.filter_type, ", ".join(PROBE_FILTER_TYPES)),
                            exit_code=2)
        if self.filter_type not in PROBE_FILTER_TYPES:
            raise DamoError("%s: unknown probe filter type %r (%s)"
                            % (where, self.filter_type, ", ".join(PROBE_FILTER_TYPES)),
                            exit_code=2)
        if self.filter_type == "memcg":
            from damo.params.schemes import MEMCGS
            if not self.memcg_path:
                raise DamoError("%s: a memcg filter needs a memory cgroup path" % where,
                                exit_code=2)
            if self.memcg_path not in MEMCGS:
                raise DamoError("%s: no memory cgroup %r in the simulation (every process is "
                                "in %s)" % (where, self.memcg_path, ", ".join(MEMCGS)),
                                exit_code=2)

    def build(self):
        from damo_engine.core import DamonFilter
        from damo.params.schemes import MEMCGS
        return DamonFilter(self.filter_type, self.matching, self.allow,
                           MEMCGS.get(self.memcg_path) if self.filter_type == "memcg"
                           else None)


@dataclasses.dataclass
class ProbeParams:
    """A data attributes probe (damo's DamonProbe): its filters, its
    weight (non-zero on any probe: attributes-only monitoring, 7.3)."""
    filters: List[ProbeFilterParams] = dataclasses.field(default_factory=list)
    weight: int = 0
    preps: list = dataclasses.field(default_factory=list)     # mm.git only: refused

    def to_kvpairs(self):
        return {"preps": list(self.preps), "filters": [f.to_kvpairs() for f in self.filters],
                "weight": self.weight}

    @classmethod
    def from_kvpairs(cls, kv, where="probe"):
        if not isinstance(kv, dict):
            raise DamoError("%s: not a probe" % where, exit_code=2)
        filters = kv.get("filters") or []
        if not isinstance(filters, list):
            raise DamoError("%s: filters is not a list" % where, exit_code=2)
        weight = kv.get("weight")
        return cls([ProbeFilterParams.from_kvpairs(f, "%s filter %d" % (where, i))
                    for i, f in enumerate(filters)],
                   0 if weight is None else _number(weight, where + " weight",
                                                    maximum=0xFFFFFFFF),
                   list(kv.get("preps") or []))

    def validate(self, where):
        if self.preps:
            raise DamoError("%s: probe preps are in mm.git only; the simulated kernel "
                            "(Linux 7.3) has none" % where, exit_code=2)
        for i, f in enumerate(self.filters):
            f.validate("%s filter %d" % (where, i))

    def build(self):
        from damo_engine.core import Probe
        return Probe([f.build() for f in self.filters], self.weight)


@dataclasses.dataclass
class TargetParams:
    pid: Optional[int] = None
    regions: List[tuple] = dataclasses.field(default_factory=list)
    # damo tune --obsolete_targets: the running kdamond drops this target
    obsolete: bool = False

    def to_kvpairs(self):
        return {"pid": self.pid, "obsolete": self.obsolete,
                "regions": [{"start": units.format_nr(s, False),
                             "end": units.format_nr(e, False)} for s, e in self.regions]}

    @classmethod
    def from_kvpairs(cls, kv):
        regions = [(_number(r["start"], "target region start"),
                    _number(r["end"], "target region end")) for r in kv.get("regions", [])]
        pid = kv.get("pid")
        return cls(None if pid is None else _number(pid, "target pid", maximum=2 ** 31 - 1),
                   regions,
                   _bool(kv.get("obsolete", False), "target obsolete"))


@dataclasses.dataclass
class ContextParams:
    ops: str = "vaddr"
    targets: List[TargetParams] = dataclasses.field(default_factory=list)
    sample_us: int = DEFAULT_SAMPLE_US
    aggr_us: int = DEFAULT_AGGR_US
    update_us: int = DEFAULT_UPDATE_US
    intervals_goal: Optional[IntervalsGoal] = None
    min_nr_regions: int = DEFAULT_MIN_NR_REGIONS
    max_nr_regions: int = DEFAULT_MAX_NR_REGIONS
    schemes: list = dataclasses.field(default_factory=list)
    addr_unit: int = 1
    pause: bool = False
    probes: List[ProbeParams] = dataclasses.field(default_factory=list)

    def to_kvpairs(self):
        # exact, so that parameters survive a round trip (damo tune, kdamonds files)
        intervals = {"sample_us": units.format_time_us_exact(self.sample_us, False),
                     "aggr_us": units.format_time_us_exact(self.aggr_us, False),
                     "ops_update_us": units.format_time_us_exact(self.update_us, False)}
        if self.intervals_goal is not None:
            intervals["intervals_goal"] = self.intervals_goal.to_kvpairs()
        kv = {"ops": self.ops, "addr_unit": "%d" % self.addr_unit,
              "targets": [t.to_kvpairs() for t in self.targets],
              "intervals": intervals,
              "nr_regions": {"min": units.format_nr(self.min_nr_regions, False),
                             "max": units.format_nr(self.max_nr_regions, False)}}
        if self.probes:
            kv["probes"] = [p.to_kvpairs() for p in self.probes]
        kv["pause"] = self.pause
        kv["schemes"] = [s.to_kvpairs() for s in self.schemes]
        return kv

    @classmethod
    def from_kvpairs(cls, kv):
        ctx = cls(ops=kv.get("ops", "vaddr"),
                  targets=[TargetParams.from_kvpairs(t) for t in kv.get("targets", [])])
        if ctx.ops not in OPS:
            raise DamoError("unknown operation set %r (vaddr, fvaddr or paddr)" % ctx.ops)
        ctx.addr_unit = _number(kv.get("addr_unit", 1), "addr_unit", units.to_bytes)
        ctx.pause = _bool(kv.get("pause", False), "pause")
        iv = kv.get("intervals") or {}
        if iv:
            ctx.sample_us = parse_us(iv.get("sample_us", DEFAULT_SAMPLE_US), "sample_us")
            ctx.aggr_us = parse_us(iv.get("aggr_us", DEFAULT_AGGR_US), "aggr_us")
            ctx.update_us = parse_us(iv.get("ops_update_us", DEFAULT_UPDATE_US),
                                     "ops_update_us")
            goal = iv.get("intervals_goal")
            if goal and _number(goal.get("aggrs", 0), "intervals_goal.aggrs"):
                ctx.intervals_goal = IntervalsGoal.from_kvpairs(goal)
        nr = kv.get("nr_regions") or {}
        if nr:
            ctx.min_nr_regions = _number(nr.get("min", DEFAULT_MIN_NR_REGIONS), "nr_regions.min")
            ctx.max_nr_regions = _number(nr.get("max", DEFAULT_MAX_NR_REGIONS), "nr_regions.max")
        probes = kv.get("probes") or []
        if not isinstance(probes, list):
            raise DamoError("probes: not a list", exit_code=2)
        ctx.probes = [ProbeParams.from_kvpairs(p, "probe %d" % i) for i, p in enumerate(probes)]
        if kv.get("schemes"):
            from damo.params import schemes as schemes_mod
            ctx.schemes = [schemes_mod.SchemeParams.from_kvpairs(s, "scheme %d" % i)
                           for i, s in enumerate(kv["schemes"])]
        return ctx

    def validate(self):
        """Refuse what the kernel's damon_set_attrs() would (-EINVAL)."""
        from damo_engine.core import Context
        try:
            Context(sample_us=self.sample_us, aggr_us=self.aggr_us, update_us=self.update_us,
                    min_nr_regions=self.min_nr_regions, max_nr_regions=self.max_nr_regions,
                    intervals_goal=self.intervals_goal.as_tuple() if self.intervals_goal
                    else None)
        except ValueError as e:
            raise DamoError("invalid monitoring attributes: %s" % e, exit_code=2)
        if self.addr_unit < 1:
            raise DamoError("addr_unit: must not be 0 (the kernel refuses it)", exit_code=2)
        if self.addr_unit != 1:
            if self.ops != "paddr":
                raise DamoError("--damon_addr_unit: only paddr takes an address unit other "
                                "than 1 (%s does not)" % self.ops, exit_code=2)
            sz = max(4096 // self.addr_unit, 1)
            if sz & (sz - 1):
                # damon_commit_ctx(): min_region_sz (PAGE_SIZE / addr_unit) must be a
                # power of two
                raise DamoError("--damon_addr_unit: %d makes the minimum region size "
                                "4096 / %d = %d units, not a power of two (the kernel "
                                "refuses it)" % (self.addr_unit, self.addr_unit, sz),
                                exit_code=2)
        if self.pause:
            from damo_engine.core import Context as _C
            if not hasattr(_C, "pause"):
                raise DamoError("--pause_ctx: the simulated kernel cannot pause a context "
                                "(its engine has no pause yet)", exit_code=2)
        if len(self.probes) > MAX_PROBES:
            # sysfs nr_probes_store(): -EINVAL above DAMON_MAX_PROBES
            raise DamoError("%d probes: the kernel takes at most %d" % (len(self.probes),
                                                                      MAX_PROBES),
                            exit_code=2)
        for i, p in enumerate(self.probes):
            p.validate("probe %d" % i)
        if any(p.weight for p in self.probes):
            # damon_start() -> damon_valid_probe_params(): -EINVAL
            from damo_engine.core import Context as _C, probe_params_error
            err = probe_params_error(_C(sample_us=self.sample_us, aggr_us=self.aggr_us,
                                        update_us=self.update_us,
                                        min_nr_regions=self.min_nr_regions,
                                        max_nr_regions=self.max_nr_regions,
                                        probes=[p.build() for p in self.probes]))
            if err:
                raise DamoError("--probe_weight: %s (the kernel refuses it)" % err,
                                exit_code=2)
        if self.ops == "fvaddr":
            for t in self.targets:
                if not t.regions:
                    raise DamoError("fvaddr monitors fixed regions: give them with --regions",
                                    exit_code=2)
        for s in self.schemes:
            s.validate(self.ops, len(self.targets))


@dataclasses.dataclass
class KdamondParams:
    contexts: List[ContextParams] = dataclasses.field(default_factory=list)
    # --refresh_stat: how often (wall ms) the daemon publishes this kdamond's
    # stats in its state file; 0: its default
    refresh_ms: int = 0

    def to_kvpairs(self):
        return {"state": None, "pid": None, "refresh_ms": self.refresh_ms,
                "contexts": [c.to_kvpairs() for c in self.contexts]}

    @classmethod
    def from_kvpairs(cls, kv):
        return cls([ContextParams.from_kvpairs(c) for c in kv.get("contexts", [])],
                   parse_ms(kv.get("refresh_ms", 0) or 0, "refresh_ms"))


def kdamonds_to_kvpairs(kdamonds):
    return {"kdamonds": [k.to_kvpairs() for k in kdamonds]}


def kdamonds_from_kvpairs(kv, source="kdamonds"):
    """Kdamonds from damo's JSON/YAML layout; errors name the source."""
    try:
        kdamonds = [KdamondParams.from_kvpairs(k) for k in kv["kdamonds"]]
    except DamoError as e:
        raise DamoError("%s: %s" % (source, e), exit_code=e.exit_code)
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError) as e:
        raise DamoError("%s: not a damo kdamonds layout (missing or bad field %s)"
                        % (source, e))
    if not kdamonds or not any(k.contexts for k in kdamonds):
        raise DamoError("%s: no kdamond context" % source)
    return kdamonds


def _refuse_json_constant(name):
    raise DamoError("%s is not a JSON number" % name)


def _check_depth(data, where, limit=32, max_nodes=1 << 20):
    """Refuse a layout nested deeper than damo's ever is, or with more
    values than a file could sensibly hold (YAML aliases can make a small
    file a huge tree); iteratively."""
    stack = [(data, 1)]
    nodes = 0
    while stack:
        o, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise DamoError("%s: more than %d values (YAML aliases?)" % (where, max_nodes),
                            exit_code=2)
        if isinstance(o, dict):
            o = list(o.values())
        elif not isinstance(o, list):
            continue
        if depth > limit:
            raise DamoError("%s: nested deeper than %d levels" % (where, limit), exit_code=2)
        stack.extend((v, depth + 1) for v in o)


def read_kdamonds_file(path, option):
    """A damo kdamonds JSON or YAML file: (its raw data, its KdamondParams).
    Errors name the option that gave the file."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DamoError("%s: %s is not UTF-8 text (byte %d)" % (option, path, e.start),
                        exit_code=2)
    except OSError as e:
        raise DamoError("%s: cannot read %s: %s" % (option, path, e.strerror), exit_code=2)
    try:
        data = json.loads(text, parse_constant=_refuse_json_constant)
    except RecursionError:
        raise DamoError("%s: %s: nested too deeply" % (option, path), exit_code=2)
    except DamoError as e:
        raise DamoError("%s: %s: %s" % (option, path, e), exit_code=2)
    except ValueError:
        try:
            import yaml
            data = yaml.load(text, Loader=_yaml_loader(yaml))
        except RecursionError:
            raise DamoError("%s: %s: nested too deeply" % (option, path), exit_code=2)
        except Exception as e:
            mark = getattr(e, "problem_mark", None)
            raise DamoError("%s: %s is neither JSON nor YAML%s" % (
                option, path, "" if mark is None else " (YAML error at line %d, column %d)"
                % (mark.line + 1, mark.column + 1)), exit_code=2)
    _check_depth(data, "%s: %s" % (option, path))
    if isinstance(data, list):
        data = {"kdamonds": data}
    return data, kdamonds_from_kvpairs(data, path)


def load_kdamonds(path, option="--kdamonds"):
    """The kdamonds of a damo kdamonds file, checked, with their targets
    monitoring the workloads we run (the file's pids are not ours)."""
    _, kdamonds = read_kdamonds_file(path, option)
    for kdamond in kdamonds:
        for ctx in kdamond.contexts:
            for t in ctx.targets:
                t.pid = None
            try:
                ctx.validate()
            except DamoError as e:
                raise DamoError("%s: %s" % (path, e), exit_code=e.exit_code)
    return kdamonds


def monitoring_from_options(ops="vaddr", regions=None, intervals=None, intervals_goal=None,
                            autotune=False, nr_regions=None):
    """A ContextParams from damo's monitoring options (values as given)."""
    ctx = ContextParams(ops=ops)
    if ops not in OPS:
        raise DamoError("--ops: unknown operation set %r" % ops, exit_code=2)
    if intervals is not None:
        ctx.sample_us, ctx.aggr_us, ctx.update_us = (
            parse_us(v, "--monitoring_intervals") for v in intervals)
    if autotune:
        ctx.intervals_goal = IntervalsGoal(*AUTOTUNE_GOAL)
    if intervals_goal is not None:
        bp, aggrs, lo, hi = intervals_goal
        ctx.intervals_goal = IntervalsGoal(
            _number(bp, "--monitoring_intervals_goal", units.to_bp),
            _number(aggrs, "--monitoring_intervals_goal"),
            parse_us(lo, "--monitoring_intervals_goal"),
            parse_us(hi, "--monitoring_intervals_goal"))
    if nr_regions is not None:
        ctx.min_nr_regions, ctx.max_nr_regions = (
            _number(v, "--monitoring_nr_regions_range") for v in nr_regions)
    ctx.targets = [TargetParams(None, parse_regions(regions) if regions else [])]
    return ctx


def build_context(ctx, *, pids, machine, seed=0):
    """The engine Context for these parameters.  ``pids`` gives the pid of
    each target that has none (the workloads started for it)."""
    from damo_engine.core import Context, Target
    from damo_engine.ops import make_ops

    ctx.validate()
    # sysfs: paddr's min_region_sz is PAGE_SIZE / addr_unit (at least 1)
    min_region_sz = max(4096 // ctx.addr_unit, 1) if ctx.ops == "paddr" else 4096
    engine_ctx = Context(make_ops(ctx.ops), sample_us=ctx.sample_us, aggr_us=ctx.aggr_us,
                         update_us=ctx.update_us, min_nr_regions=ctx.min_nr_regions,
                         max_nr_regions=ctx.max_nr_regions,
                         intervals_goal=ctx.intervals_goal.as_tuple()
                         if ctx.intervals_goal else None, seed=seed,
                         min_region_sz=min_region_sz, addr_unit=ctx.addr_unit,
                         pause=ctx.pause, probes=[p.build() for p in ctx.probes])
    for i, t in enumerate(ctx.targets):
        regions = list(t.regions)
        if ctx.ops == "paddr":
            pid = None
            if not regions:
                # all of "System RAM", in address units (damon_res_to_core_addr())
                start, end = machine.phys_range
                regions = [(start // ctx.addr_unit, end // ctx.addr_unit)]
        else:
            pid = t.pid if t.pid is not None else pids[min(i, len(pids) - 1)]
        engine_ctx.add_target(Target(pid, regions))
    for s in ctx.schemes:
        engine_ctx.add_scheme(s.build(machine, ctx))
    return engine_ctx


def _yaml_loader(yaml):
    """libyaml's safe loader where PyYAML was built with it: about 10x the
    pure-Python one, and it refuses deep nesting by its own depth limit
    where the pure-Python one recurses into a RecursionError."""
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)
