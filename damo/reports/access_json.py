"""``damo report access --json``: the (filtered) records as damo's
to_kvpairs() dumps them with json.dumps(indent=4).

Record and snapshot heads go through json.dumps; the regions, which are
many and all alike, are written from a per-region template with the same
bytes json.dumps would give them.
"""
import json

from damo import units
from damo.records import AGE_UNKNOWN
from damo.reports.access_format import _bool, damos_stats_values

_REGION = ('{\n'
           '%(i)s    "start": "%%s",\n'
           '%(i)s    "end": "%%s",\n'
           '%(i)s    "nr_accesses": {\n'
           '%(i)s        "samples": %%s,\n'
           '%(i)s        "percent": %%s\n'
           '%(i)s    },\n'
           '%(i)s    "age": {\n'
           '%(i)s        "usec": %%s,\n'
           '%(i)s        "aggr_intervals": %%s\n'
           '%(i)s    },\n'
           '%(i)s    "probe_hits": [],\n'
           '%(i)s    "sz_filter_passed": "%%s"\n'
           '%(i)s}') % {"i": " " * 20}
_REGION_SEP = ",\n" + " " * 20


def _intervals_kv(iv, raw):
    goal = iv.goal or {}
    return {
        "sample_us": units.format_time_us(iv.sample_us, raw),
        "aggr_us": units.format_time_us(iv.aggr_us, raw),
        "ops_update_us": units.format_time_us(iv.ops_update_us, raw),
        "intervals_goal": {
            "access_bp": ("%f" % goal.get("access_bp", 0)) if raw else units.format_ratio(
                float(goal.get("access_bp", 0)) / 10000, False),
            "aggrs": units.format_nr(goal.get("aggrs", 0), raw),
            "min_sample_us": units.format_time_us(goal.get("min_sample_us", 0), raw),
            "max_sample_us": units.format_time_us(goal.get("max_sample_us", 0), raw)}}


def filter_kv(kv, raw):
    """damo's DamosFilter.from_kvpairs() then to_kvpairs(raw)."""
    ftype = kv["filter_type"]
    allow = _bool(kv.get("allow", kv.get("filter_pass", False)))
    out = {"filter_type": ftype, "matching": _bool(kv["matching"]), "allow": allow,
           "memcg_path": kv["memcg_path"] if ftype == "memcg" else "",
           "address_range": None, "damon_target_idx": None, "hugepage_size": None,
           "probe_hits_wsum_range": None}
    if ftype == "addr":
        ar = kv["address_range"]
        out["address_range"] = {"start": units.format_nr(units.to_bytes(ar["start"]), raw),
                                "end": units.format_nr(units.to_bytes(ar["end"]), raw)}
    if ftype == "target":
        out["damon_target_idx"] = units.format_nr(units.to_number(kv["damon_target_idx"]), raw)
    if kv.get("hugepage_size") is not None:
        out["hugepage_size"] = [units.format_sz(units.to_bytes(x), raw)
                                for x in kv["hugepage_size"]]
    if kv.get("probe_hits_wsum_range") is not None:
        out["probe_hits_wsum_range"] = [units.format_nr(units.to_number(x), raw)
                                        for x in kv["probe_hits_wsum_range"]]
    return out


def _stats_kv(kv, raw):
    st = damos_stats_values(kv)
    out = {}
    for key in ("nr_tried", "sz_tried", "nr_applied", "sz_applied", "sz_ops_filter_passed",
                "qt_exceeds", "nr_snapshots", "max_nr_snapshots"):
        fmt = units.format_sz if key.startswith("sz_") else units.format_nr
        out[key] = fmt(st[key], raw)
    return out


def _indented(value, level):
    return json.dumps(value, indent=4).replace("\n", "\n" + " " * (4 * level))


class _Texts:
    """Per-value caches of the region fields' texts."""

    def __init__(self):
        self.caches = {}

    def __call__(self, name, values, fn):
        cache = self.caches.setdefault(name, {})
        vals = values.tolist()
        for v in set(vals) - cache.keys():
            cache[v] = fn(v)
        return list(map(cache.__getitem__, vals))


def _regions_text(s, texts):
    n = s.nr_regions
    starts = texts("nr", s.starts, lambda v: units.format_nr(v, False))
    ends = texts("nr", s.ends, lambda v: units.format_nr(v, False))
    samples = texts("samples", s.samples, lambda v: "%d" % v)
    if s.percent is None:
        percent = ["null"] * n
        usec = ["null"] * n
    else:
        percent = texts("percent", s.percent, json.dumps)
        usec = texts("usec", s.usec, lambda v: '"%s"' % units.format_time_us_exact(v, False))
    ages = texts("ages", s.ages, lambda v: "null" if v == AGE_UNKNOWN
                 else '"%s"' % units.format_nr(v, False))
    szfp = texts("sz", s.szfp, lambda v: units.format_sz(v, False))
    return _REGION_SEP.join(map(_REGION.__mod__, zip(starts, ends, samples, percent, usec,
                                                     ages, szfp)))


def iter_json(records, raw):
    """The text of json.dumps([r.to_kvpairs(raw) for r in records], indent=4)."""
    texts = _Texts()
    if not records:
        yield "[]"
        return
    yield "["
    for ridx, r in enumerate(records):
        head = {
            "kdamond_idx": r.kdamond_idx, "context_idx": r.context_idx,
            "intervals": None if r.intervals is None else _intervals_kv(r.intervals, raw),
            "scheme_idx": r.scheme_idx, "target_id": r.target_id,
            "scheme_filters": [filter_kv(f, raw) for f in r.scheme_filters],
        }
        yield "%s\n    {\n" % ("," if ridx else "")
        for key, value in head.items():
            yield '        "%s": %s,\n' % (key, _indented(value, 2))
        if not r.snapshots:
            yield '        "snapshots": [],\n'
        else:
            yield '        "snapshots": ['
            for sidx, s in enumerate(r.snapshots):
                yield "%s\n            {\n" % ("," if sidx else "")
                yield '                "start_time": %s,\n' % json.dumps(
                    units.format_time_ns_exact(s.start_time, raw))
                yield '                "end_time": %s,\n' % json.dumps(
                    units.format_time_ns_exact(s.end_time, raw))
                if s.nr_regions == 0:
                    yield '                "regions": [],\n'
                else:
                    yield '                "regions": [\n' + " " * 20
                    yield _regions_text(s, texts)
                    yield "\n                ],\n"
                yield '                "total_bytes": %s,\n' % json.dumps(
                    units.format_sz(s.total_bytes, raw))
                stats = None if s.damos_stats is None else _stats_kv(s.damos_stats, raw)
                yield '                "damos_stats": %s,\n' % _indented(stats, 4)
                sample_us = s.sample_interval_us
                yield '                "sample_interval_us": %s\n' % (
                    "null" if sample_us is None
                    else json.dumps(units.format_time_us_exact(sample_us, raw)))
                yield "            }"
            yield "\n        ],\n"
        yield '        "data_source": %s\n    }' % json.dumps(r.data_source)
    yield "\n]"


def json_text(records, raw):
    return "".join(iter_json(records, raw))

