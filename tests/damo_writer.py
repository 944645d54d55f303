"""Write a record file with damo 3.4.3's own writer (run by the reference venv's
python, in its sandbox, through reference_damo.run_python; never by ours).

    python damo_writer.py SPEC.json OUT FILE_TYPE

SPEC is a JSON list of records:
  {"kdamond_idx", "context_idx", "scheme_idx", "target_id", "data_source",
   "intervals": null or [sample_us, aggr_us, ops_update_us, goal or null]
                 (goal: [access_bp, aggrs, min_sample_us, max_sample_us]),
   "scheme_filters": [[filter_type, matching, allow, arg or null], ...]
                 (arg: memcg path, [start, end], target index or [min, max]),
   "snapshots": [{"start_time", "end_time", "total_bytes" (or null),
                  "sample_interval_us" (or null), "damos_stats" (or null:
                  [nr_tried, sz_tried, nr_applied, sz_applied,
                   sz_ops_filter_passed, qt_exceeds, nr_snapshots, max_nr_snapshots]),
                  "regions": [[start, end, samples, age, sz_filter_passed], ...]}]}
Objects are built with damo's constructors, then written by damo's
write_damon_records(), so the file is what damo itself writes.
"""
import json
import os
import sys

import damo

sys.path.insert(0, os.path.dirname(damo.__file__))

import _damo_records  # noqa: E402
import _damon  # noqa: E402


def _filter(spec):
    ftype, matching, allow, arg = spec
    kwargs = {}
    if ftype == "memcg":
        kwargs["memcg_path"] = arg
    elif ftype == "addr":
        kwargs["address_range"] = _damon.DamonRegion(arg[0], arg[1])
    elif ftype == "target":
        kwargs["damon_target_idx"] = arg
    elif ftype == "hugepage_size":
        kwargs["hugepage_size"] = arg
    return _damon.DamosFilter(ftype, matching, allow=allow, **kwargs)


def _intervals(spec):
    if spec is None:
        return None
    sample, aggr, update, goal = spec
    if goal is None:
        return _damon.DamonIntervals(sample, aggr, update)
    return _damon.DamonIntervals(sample, aggr, update, _damon.DamonIntervalsGoal(*goal))


def _snapshot(spec):
    regions = [_damon.DamonRegion(s, e, n, _damon.unit_samples, a,
                                  _damon.unit_aggr_intervals, sz_filter_passed=p)
               for s, e, n, a, p in spec["regions"]]
    stats = spec.get("damos_stats")
    return _damo_records.DamonSnapshot(
        spec["start_time"], spec["end_time"], regions, spec.get("total_bytes"),
        damos_stats=None if stats is None else _damon.DamosStats(*stats),
        sample_interval_us=spec.get("sample_interval_us"))


def main(spec_path, out, file_type):
    with open(spec_path) as f:
        spec = json.load(f)
    records = []
    for r in spec:
        record = _damo_records.DamonRecord(
            r.get("kdamond_idx"), r.get("context_idx"), _intervals(r.get("intervals")),
            r.get("scheme_idx"), r.get("target_id"),
            [_filter(f) for f in r.get("scheme_filters", [])],
            data_source=r.get("data_source", "unknown"))
        record.snapshots = [_snapshot(s) for s in r["snapshots"]]
        records.append(record)
    err = _damo_records.write_damon_records(records, out, file_type, 0o644)
    if err is not None:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
