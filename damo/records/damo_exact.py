"""Recordings written exactly as damo 3.4.3 writes them (``damo adjust``,
``damo convert_record_format``): the same bytes for the same records.

damo's JSON is ``json.dumps([record.to_kvpairs(raw=True)], indent=4)`` of its
objects, so every value is normalised as its classes do: intervals get a
default intervals goal, DAMOS filters and stats all their fields, regions
``probe_hits`` and ``sz_filter_passed`` (0 when the source had none), and
the per-region ``percent``/``usec`` that its access filters fill in.  Its
compressed JSON is that text through zlib at the default level, its
perf_script text one ``damon_aggregated`` line per region (and a fake
trailing snapshot for records of one snapshot).

Where damo writes what it cannot mean, we write what it means:

- damo writes a snapshot's ``sample_interval_us`` in nanoseconds: its raw
  "exact" time formatter takes microseconds and prints nanoseconds.  We
  write microseconds.  (Regions are written with the human-readable
  formatters, as damo does: "94,827,419,009,024", "1 s 200 ms", "0 B".)
- damo writes an unknown age into perf_script text as ``None``, which it
  cannot read back; we leave the age field out, as old kernels' traces do.

The text is produced a snapshot at a time, so a big recording is never held
as one string.
"""
import json
import zlib

import numpy as np

from damo import units
from damo.records.model import AGE_UNKNOWN

OUTPUT_TYPES = ("json_compressed", "json", "perf_script")

# damo's access filters' "unset" marker (see damo.params.access_filter)
UNSET = np.iinfo(np.int64).min


def _to_bool(value):
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("y", "yes", "true"):
        return True
    if text in ("n", "no", "false"):
        return False
    raise ValueError("not a boolean: %r" % (value,))


def _raw_nr(value):
    return "%d" % units.to_number(value)


def _raw_sz(value):
    return "%d" % min(units.ULONG_MAX, units.to_bytes(value))


def filter_kvpairs(kv):
    """A DAMOS filter of a record as damo rewrites it (DamosFilter
    from_kvpairs, then to_kvpairs(raw=True))."""
    ftype = kv["filter_type"]
    allow = kv.get("allow", kv.get("filter_pass", False))
    address_range = None
    if ftype == "addr":
        ar = kv["address_range"]
        address_range = {"start": _raw_nr(units.to_bytes(ar["start"])),
                         "end": _raw_nr(units.to_bytes(ar["end"]))}
    hugepage_size = kv.get("hugepage_size")
    wsum = kv.get("probe_hits_wsum_range")
    return {
        "filter_type": ftype,
        "matching": _to_bool(kv["matching"]),
        "allow": _to_bool(allow),
        "memcg_path": kv["memcg_path"] if ftype == "memcg" else "",
        "address_range": address_range,
        "damon_target_idx": _raw_nr(kv["damon_target_idx"]) if ftype == "target" else None,
        "hugepage_size": None if hugepage_size is None else [_raw_sz(x)
                                                             for x in hugepage_size],
        "probe_hits_wsum_range": None if wsum is None else [_raw_nr(x) for x in wsum],
    }


_STATS = (("nr_tried", _raw_nr), ("sz_tried", _raw_sz), ("nr_applied", _raw_nr),
          ("sz_applied", _raw_sz), ("sz_ops_filter_passed", _raw_sz),
          ("qt_exceeds", _raw_nr), ("nr_snapshots", _raw_nr), ("max_nr_snapshots", _raw_nr))


def stats_kvpairs(kv):
    """DAMOS stats of a snapshot as damo rewrites them (all eight fields)."""
    if kv is None:
        return None
    return {name: fmt(kv.get(name, 0) if name in ("nr_snapshots", "max_nr_snapshots")
                      else kv[name]) for name, fmt in _STATS}


def intervals_kvpairs(intervals):
    if intervals is None:
        return None
    goal = intervals.goal or {"access_bp": 0, "aggrs": 0, "min_sample_us": 0,
                              "max_sample_us": 0}
    return {"sample_us": "%d" % intervals.sample_us, "aggr_us": "%d" % intervals.aggr_us,
            "ops_update_us": "%d" % intervals.ops_update_us,
            "intervals_goal": {"access_bp": "%f" % goal["access_bp"],
                               "aggrs": "%d" % goal["aggrs"],
                               "min_sample_us": "%d" % goal["min_sample_us"],
                               "max_sample_us": "%d" % goal["max_sample_us"]}}


def _indented(value, level):
    """``value`` as json.dumps(indent=4) writes it ``level`` levels deep."""
    return json.dumps(value, indent=4).replace("\n", "\n" + " " * (4 * level))


_REGION = """{
                        "start": "%s",
                        "end": "%s",
                        "nr_accesses": {
                            "samples": %d,
                            "percent": %s
                        },
                        "age": {
                            "usec": %s,
                            "aggr_intervals": %s
                        },
                        "probe_hits": [],
                        "sz_filter_passed": "%s"
                    }"""
_REGION_SEP = ",\n" + " " * 20


def _column(record, name, sl):
    column = getattr(record, name, None)
    return None if column is None else column[sl].tolist()


def _regions_text(record, sl):
    starts, ends = record.starts[sl].tolist(), record.ends[sl].tolist()
    samples, ages = record.nr_accesses[sl].tolist(), record.ages[sl].tolist()
    n = len(starts)
    percent = _column(record, "percent", sl) or [UNSET] * n
    usec = _column(record, "age_usec", sl) or [UNSET] * n
    szfp = _column(record, "sz_filter_passed", sl) or [0] * n
    # damo writes regions with its human-readable formatters (to_kvpairs()
    # without raw): "94,827,419,009,024", "1 s 200 ms", "4.000 KiB"
    fmt_nr, fmt_us, fmt_sz = units.format_nr, units.format_time_us_exact, units.format_sz
    return _REGION_SEP.join(
        _REGION % (fmt_nr(s, False), fmt_nr(e, False), nr, "null" if p == UNSET else "%d" % p,
                   "null" if u == UNSET else '"%s"' % fmt_us(u, False),
                   "null" if a == AGE_UNKNOWN else '"%s"' % fmt_nr(a, False),
                   fmt_sz(f, False))
        for s, e, nr, p, u, a, f in zip(starts, ends, samples, percent, usec, ages, szfp))


def iter_json(records):
    """damo's JSON text of ``records``, in pieces."""
    yield "["
    for ridx, record in enumerate(records):
        head = [("kdamond_idx", record.kdamond_idx), ("context_idx", record.context_idx),
                ("intervals", intervals_kvpairs(record.intervals)),
                ("scheme_idx", record.scheme_idx), ("target_id", record.target_id),
                ("scheme_filters", [filter_kvpairs(f) for f in record.scheme_filters])]
        yield "%s\n    {\n" % ("," if ridx else "")
        for key, value in head:
            yield '        "%s": %s,\n' % (key, _indented(value, 2))
        yield '        "snapshots": ['
        totals = record.snapshot_total_bytes()
        for sidx in range(record.nr_snapshots):
            sl = record.snapshot_slice(sidx)
            yield "%s\n            {\n" % ("," if sidx else "")
            yield '                "start_time": "%d",\n' % record.start_ns[sidx]
            yield '                "end_time": "%d",\n' % record.end_ns[sidx]
            if sl.start == sl.stop:
                yield '                "regions": [],\n'
            else:
                yield '                "regions": [\n' + " " * 20
                yield _regions_text(record, sl)
                yield "\n                ],\n"
            yield '                "total_bytes": "%d",\n' % totals[sidx]
            stats = None if record.damos_stats is None else record.damos_stats[sidx]
            yield '                "damos_stats": %s,\n' % _indented(stats_kvpairs(stats), 4)
            sample_us = (None if record.sample_interval_us is None
                         else record.sample_interval_us[sidx])
            yield '                "sample_interval_us": %s\n' % (
                "null" if sample_us is None or np.isnan(sample_us) else '"%d"' % sample_us)
            yield "            }"
        yield "%s],\n" % ("\n        " if record.nr_snapshots else "")
        yield '        "data_source": %s\n    }' % json.dumps(record.data_source)
    yield "\n]" if records else "]"


def iter_perf_script(records):
    """damo's perf_script text of ``records``, a snapshot at a time."""
    for record in records:
        head = "kdamond.x xxxx xxxx %s: damon:damon_aggregated: target_id=%s nr_regions=%d "
        for sidx in range(record.nr_snapshots):
            sl = record.snapshot_slice(sidx)
            n = sl.stop - sl.start
            prefix = head % ("%f" % (record.end_ns[sidx] / 1000000000.0), record.target_id, n)
            yield "".join(
                "%s%d-%d: %d%s\n" % (prefix, s, e, nr, "" if a == AGE_UNKNOWN else " %d" % a)
                for s, e, nr, a in zip(record.starts[sl].tolist(), record.ends[sl].tolist(),
                                       record.nr_accesses[sl].tolist(),
                                       record.ages[sl].tolist()))
        if record.nr_snapshots == 1:
            # the fake snapshot that keeps the only snapshot's length
            end = 2 * record.end_ns[0] - record.start_ns[0]
            yield head % ("%f" % (end / 1000000000.0), record.target_id, 1) + "0-0: -1 -1\n"


def iter_bytes(records, output_type):
    """The bytes of ``records`` in damo's ``output_type`` layout."""
    if output_type == "perf_script":
        for piece in iter_perf_script(records):
            yield piece.encode()
        return
    if output_type == "json":
        for piece in iter_json(records):
            yield piece.encode()
        return
    if output_type != "json_compressed":
        raise ValueError("damo writes no %r" % output_type)
    # zlib.compress(text) at the default level; streaming gives the same bytes
    compressor = zlib.compressobj()
    for piece in iter_json(records):
        yield compressor.compress(piece.encode())
    yield compressor.flush()


def default_mode(path):
    """The mode damo's plain open(path, 'w') leaves: an existing file's, else
    0666 less the umask."""
    import os
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def save(records, path, output_type, permission=None):
    """Write ``records`` to ``path`` in damo's layout of ``output_type``, through
    a temporary file renamed over ``path`` (nothing half-written on failure).
    ``permission`` None keeps the mode damo's writer would leave."""
    import os

    from damo import fileutil
    from damo.errors import DamoError

    path = os.fspath(path)
    mode = default_mode(path) if permission is None else permission
    try:
        with fileutil.atomic_output(path, "wb", permission=mode) as f:
            for piece in iter_bytes(records, output_type):
                f.write(piece)
    except OSError as e:
        raise DamoError("%s: cannot write (%s)" % (path, e.strerror or e)) from None
