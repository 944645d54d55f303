"""Synthetic recordings of several shapes, written with RecordingWriter."""
import numpy as np

from damo.records import RecordingWriter

INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}


def stairs(path, nr_snapshots=60, nr_regions=24, nr_targets=1, intervals=INTERVALS,
           base_addr=0x7f0000000000, region_size=1 << 20, start_ns=5_000_000_000,
           gaps=False, output_type="json_compressed", seed=0, ages=True, tuned=False):
    """A "stairs" access pattern: a hot band climbing the address space.

    gaps: leave a hole after every 8th region (several contiguous ranges).
    ages: False writes no ages (like old perf traces).
    tuned: intervals auto-tuning on: every snapshot has its own sampling
    interval (and aggregation interval, 20 times as long).
    """
    rng = np.random.default_rng(seed)
    writer = RecordingWriter(path, output_type=output_type)
    aggr_ns = 100_000_000 if intervals is None else intervals["aggr_us"] * 1000
    max_samples = 20 if intervals is None else intervals["aggr_us"] // intervals["sample_us"]
    for target in range(nr_targets):
        idx = np.arange(nr_regions)
        starts = base_addr + target * (nr_regions + 4) * region_size + idx * region_size
        if gaps:
            starts = starts + (idx // 8) * region_size * 3
        # uneven region sizes, as DAMON's splits make them
        ends = starts + region_size - (rng.integers(0, 8, nr_regions) << 12)
        age = np.zeros(nr_regions, dtype=np.int64)
        for s in range(nr_snapshots):
            hot = (s * nr_regions // max(nr_snapshots, 1) + target) % nr_regions
            nr_accesses = rng.integers(0, 3, nr_regions)
            nr_accesses[max(0, hot - 2):hot + 2] = max_samples - rng.integers(0, 3)
            age = np.where(nr_accesses > 2, 0, age + 1)
            t0 = start_ns + s * aggr_ns + int(rng.integers(0, 1000))
            sample_us = None
            if tuned:
                sample_us = int(rng.choice([2500, 5000, 7000]))
            writer.add_snapshot(
                0, 0, target * 7 + 3, t0, t0 + aggr_ns, starts.astype(np.uint64),
                ends.astype(np.uint64), nr_accesses,
                age.copy() if ages else np.full(nr_regions, np.iinfo(np.int64).min),
                intervals=intervals, sample_interval_us=sample_us)
    return writer.commit()


def odd_regions(path, nr_snapshots=40, seed=1):
    """Hand-made JSON whose snapshots have empty, overlapping and unsorted
    regions, which DAMON never produces but a file may hold."""
    import json
    import random
    import zlib
    rng = random.Random(seed)
    snapshots = []
    for s in range(nr_snapshots):
        regions = []
        for _ in range(12):
            start = rng.randrange(0, 40) * 4096
            regions.append({"start": str(start), "end": str(start + rng.randrange(0, 6) * 4096),
                            "nr_accesses": {"samples": rng.randrange(0, 5), "percent": None},
                            "age": {"usec": None, "aggr_intervals": 1}})
        snapshots.append({"start_time": s * 10**8, "end_time": (s + 1) * 10**8,
                          "regions": regions})
    with open(path, "wb") as f:
        f.write(zlib.compress(json.dumps([{"target_id": 1, "snapshots": snapshots}]).encode()))


def snapshot_records(path, nr_snapshots=3, nr_regions=12, seed=2, compressed=True):
    """Records like damo's `record --snapshot` with --snapshot_damos_filter
    makes: one per kdamond/context/scheme (scheme_idx set, target_id null),
    with the schemes' DAMOS filters, stats in every snapshot, and per region
    the bytes that passed the filters.  Written as damo lays them out
    (human-readable numbers), by hand."""
    import json
    import zlib
    rng = np.random.default_rng(seed)
    filters = [
        [{"filter_type": "anon", "matching": True, "allow": True, "memcg_path": "",
          "address_range": None, "damon_target_idx": None, "hugepage_size": None,
          "probe_hits_wsum_range": None},
         {"filter_type": "addr", "matching": False, "allow": False, "memcg_path": "",
          "address_range": {"start": "4,294,967,296", "end": "8,589,934,592"},
          "damon_target_idx": None, "hugepage_size": None, "probe_hits_wsum_range": None}],
        [{"filter_type": "memcg", "matching": "yes", "filter_pass": "n",
          "memcg_path": "/workloads/a", "address_range": None, "damon_target_idx": None},
         {"filter_type": "target", "matching": True, "allow": True, "memcg_path": "",
          "damon_target_idx": "1"},
         {"filter_type": "hugepage_size", "matching": True, "allow": False,
          "memcg_path": "", "hugepage_size": ["2 MiB", "2 MiB"]}],
    ]
    records = []
    for scheme_idx, scheme_filters in enumerate(filters):
        snapshots = []
        t = 10**12 + scheme_idx * 777
        for s in range(nr_snapshots):
            starts = (1 << 32) + np.arange(nr_regions) * (3 << 20)
            sizes = (1 << 20) + (rng.integers(0, 256, nr_regions) << 12)
            regions = []
            for i in range(nr_regions):
                size = int(sizes[i])
                passed = int(rng.integers(0, size >> 12)) << 12
                regions.append({
                    "start": "{:,}".format(int(starts[i])),
                    "end": "{:,}".format(int(starts[i]) + size),
                    "nr_accesses": {"samples": int(rng.integers(0, 21)), "percent": None},
                    "age": {"usec": None, "aggr_intervals": "{:,}".format(
                        int(rng.integers(0, 3000)))},
                    "probe_hits": [],
                    "sz_filter_passed": "%d B" % passed if passed < 1024 else str(passed)})
            tried = sum(int(sizes[i]) for i in range(nr_regions))
            snapshots.append({
                "start_time": str(t), "end_time": str(t + 100_000_000),
                "regions": regions, "total_bytes": "{:,}".format(tried),
                "damos_stats": {"nr_tried": str(nr_regions * (s + 1)),
                                "sz_tried": "{:,}".format(tried * (s + 1)),
                                "nr_applied": "0", "sz_applied": "0 B",
                                "sz_ops_filter_passed": str(tried // 3), "qt_exceeds": "0",
                                "nr_snapshots": str(s + 1), "max_nr_snapshots": "0"},
                "sample_interval_us": None})
            t += 100_000_000 + int(rng.integers(0, 1000))
        records.append({"kdamond_idx": 0, "context_idx": 0,
                        "intervals": {"sample_us": "5 ms", "aggr_us": "100 ms",
                                      "ops_update_us": "1 s"},
                        "scheme_idx": scheme_idx, "target_id": None,
                        "scheme_filters": scheme_filters, "snapshots": snapshots,
                        "data_source": "unknown"})
    text = json.dumps(records, indent=4).encode()
    with open(path, "wb") as f:
        f.write(zlib.compress(text) if compressed else text)


# ------------------------------------------- records for damo's own writer

def damos_snapshot_spec(nr_snapshots=6, nr_regions=12, filters=(("anon", True, False, None),),
                        kdamonds=1, seed=2, data_source="unknown", intervals_goal=None,
                        base_addr=0x7f0000000000, region_size=1 << 20, with_stats=True):
    """A spec for tests/damo_writer.py: what `damo record --snapshot` writes
    (one record per snapshot and scheme, target id null, the snapshot
    scheme's filters, its stats and each region's df-passed size)."""
    rng = np.random.default_rng(seed)
    records = []
    t = 10_000_000_000
    for s in range(nr_snapshots):
        for kd in range(kdamonds):
            starts = base_addr + kd * (1 << 36) + np.arange(nr_regions) * region_size
            sizes = region_size - (rng.integers(0, 16, nr_regions) << 12)
            samples = rng.integers(0, 21, nr_regions)
            samples[(s + np.arange(nr_regions)) % 4 == 0] = 0
            ages = rng.integers(0, 30, nr_regions)
            passed = (sizes * rng.choice([0, 0.25, 1.0], nr_regions)).astype(np.int64) // 4096 \
                * 4096
            regions = [[int(a), int(a + z), int(n), int(g), int(p)]
                       for a, z, n, g, p in zip(starts, sizes, samples, ages, passed)]
            stats = None
            if with_stats:
                tried = int(sizes.sum())
                stats = [nr_regions * (s + 1), tried * (s + 1), nr_regions * s, tried * s,
                         int(passed.sum()), s % 3, s + 1, 0]
            records.append({
                "kdamond_idx": kd, "context_idx": 0, "scheme_idx": 0, "target_id": None,
                "data_source": data_source,
                "intervals": [5000, 100000, 1000000, intervals_goal],
                "scheme_filters": [list(f) for f in filters],
                "snapshots": [{"start_time": t - 100_000_000, "end_time": t,
                               "total_bytes": None, "damos_stats": stats,
                               "sample_interval_us": None, "regions": regions}]})
        t += 1_000_000_000 + int(rng.integers(0, 1000))
    return records


def tried_regions_spec(nr_snapshots=20, nr_regions=10, seed=3,
                       filters=(("young", False, True, None), ("addr", True, True,
                                                               [0x7f0000000000,
                                                                0x7f0000800000]))):
    """A spec for tests/damo_writer.py: one scheme's tried regions over time
    (one record of many snapshots, with a scheme_idx and filters)."""
    rng = np.random.default_rng(seed)
    snapshots = []
    t = 5_000_000_000
    starts = 0x7f0000000000 + np.arange(nr_regions) * (1 << 20)
    for s in range(nr_snapshots):
        samples = rng.integers(0, 21, nr_regions)
        ages = rng.integers(0, 8, nr_regions)
        passed = np.where(rng.random(nr_regions) < 0.5, 1 << 20, 0)
        snapshots.append({
            "start_time": t, "end_time": t + 100_000_000, "total_bytes": None,
            "sample_interval_us": None, "damos_stats": [s, s << 20, s // 2, s << 19, 0, 0, 0, 0],
            "regions": [[int(a), int(a) + (1 << 20), int(n), int(g), int(p)]
                        for a, n, g, p in zip(starts, samples, ages, passed)]})
        t += 100_000_000
    return [{"kdamond_idx": 0, "context_idx": 0, "scheme_idx": 1, "target_id": 0,
             "intervals": [5000, 100000, 1000000, None],
             "scheme_filters": [list(f) for f in filters], "snapshots": snapshots}]
