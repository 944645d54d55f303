"""The heatmap guide's address extent over snapshots with and without gaps,
by hand (mutation testing found the walk after a gapped first snapshot
untested)."""
from damo.records import RecordingWriter
from damo.reports import guide as guide_mod

INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}


def test_later_snapshots_after_a_gapped_first_one_widen_the_extent(tmp_path):
    """Snapshot 0 has a gap (8K-12K) and takes damo's walk; snapshots 1 and 2
    have none and reach lower (1 MiB) and higher (3 MiB): the guide spans
    1 MiB .. 3 MiB.  The first snapshot's gap stays: in damo's walk only
    snapshots that have gaps narrow the gaps found before."""
    K = 1024
    w = RecordingWriter(str(tmp_path / "g"))
    snapshots = [[(2048 * K, 2052 * K), (2056 * K, 2060 * K)],      # gap 2052K-2056K
                 [(1024 * K, 2200 * K)],
                 [(2000 * K, 3072 * K)]]
    for i, regions in enumerate(snapshots):
        w.add_snapshot(0, 0, 1, i * 100000000, (i + 1) * 100000000,
                       [s for s, _ in regions], [e for _, e in regions], [1] * len(regions),
                       [0] * len(regions), intervals=INTERVALS)
    guide, = guide_mod.guides_of(w.recording().records)
    assert (guide.lowest, guide.highest) == (1024 * K, 3072 * K)
    assert guide.gaps == [[2052 * K, 2056 * K]]
    assert [(r.start, r.end) for r in guide.regions] == [(1024 * K, 2052 * K),
                                                         (2056 * K, 3072 * K)]
