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
