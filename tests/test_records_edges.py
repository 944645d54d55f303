"""Record writers and readers at their edges, with values computed by hand:
timestamps far from zero, the writer's caps and its interrupted snapshots,
filter-passed sizes given to the writer (mutation testing found these
untested: tools/mutants/mutmut_score.py)."""
import numpy as np
import pytest

from damo import records
from damo.records import RecordingWriter, damo_exact, perf_script

INTERVALS = {"sample_us": 5000, "aggr_us": 100000, "ops_update_us": 1000000}
# 115 days and a bit: a time whose nanoseconds do not fit a double's 53 bits
# exactly but whose microseconds (what %f prints) do
START_NS, END_NS = 10 ** 16 + 23456000, 10 ** 16 + 123456000


def one_snapshot(path, output_type="json_compressed", **extra):
    w = RecordingWriter(str(path), output_type=output_type)
    w.add_snapshot(0, 0, 7, START_NS, END_NS, [4096, 8192], [8192, 16384], [3, 0], [2, 9],
                   intervals=INTERVALS, **extra)
    return w


@pytest.mark.parametrize("writer", ["ours", "damo_exact"])
def test_perf_script_times_are_exact_far_from_zero(tmp_path, writer):
    """Each line's time is the snapshot's end in seconds with 6 digits, and
    the fake trailer of a lone snapshot comes one snapshot's length later:
    10000000.123456 and 10000000.223456 (by hand: 2 * end - start)."""
    rec = one_snapshot(tmp_path / "x").recording().records
    text = "".join(perf_script.iter_text(rec) if writer == "ours"
                   else damo_exact.iter_perf_script(rec))
    lines = text.splitlines()
    assert len(lines) == 3
    assert [line.split()[3] for line in lines] == ["10000000.123456:"] * 2 + ["10000000.223456:"]
    assert lines[0].split()[4:] == ["damon:damon_aggregated:", "target_id=7", "nr_regions=2",
                                    "4096-8192:", "3", "2"]
    assert lines[2].split()[-3:] == ["0-0:", "-1", "-1"]


def test_the_writer_caps_regions_over_all_snapshots(monkeypatch, tmp_path):
    """MAX_REGIONS counts every snapshot's regions: with a cap of 10, two
    snapshots of 4 fit, a third is refused naming the 8 held."""
    monkeypatch.setattr(RecordingWriter, "MAX_REGIONS", 10)
    w = RecordingWriter(str(tmp_path / "x"))
    for i in range(2):
        w.add_snapshot(0, 0, 1, i * 100, (i + 1) * 100, [0, 10, 20, 30], [10, 20, 30, 40],
                       [1] * 4, [0] * 4, intervals=INTERVALS)
    with pytest.raises(records.RecordingFull, match=r"at 2 snapshots \(8 regions\)"):
        w.add_snapshot(0, 0, 1, 200, 300, [0, 10, 20, 30], [10, 20, 30, 40], [1] * 4,
                       [0] * 4, intervals=INTERVALS)
    rec, = w.recording().records
    assert rec.nr_snapshots == 2 and len(rec.starts) == 8


def test_the_writer_keeps_filter_passed_sizes(tmp_path):
    """sz_filter_passed given per snapshot: kept per region; a snapshot
    without them reads as 0 for its regions, as damo's missing field."""
    w = RecordingWriter(str(tmp_path / "x"), output_type="json")
    w.add_snapshot(0, 0, 1, 0, 100, [0, 4096], [4096, 8192], [1, 2], [0, 0],
                   intervals=INTERVALS, scheme_idx=0, sz_filter_passed=[4096, 1024])
    w.add_snapshot(0, 0, 1, 100, 200, [0], [8192], [1], [0], intervals=INTERVALS, scheme_idx=0)
    rec, = w.recording().records
    assert rec.sz_filter_passed.tolist() == [4096, 1024, 0]
    w.commit()
    back, = records.load(str(tmp_path / "x")).records
    assert back.sz_filter_passed.tolist() == [4096, 1024, 0]
    with pytest.raises(ValueError, match="one value per region"):
        w2 = RecordingWriter(str(tmp_path / "y"))
        w2.add_snapshot(0, 0, 1, 0, 100, [0], [4096], [1], [0], sz_filter_passed=[1, 2])


def test_a_snapshot_interrupted_while_added_is_left_out(tmp_path):
    """^C between the appends of add_snapshot() (its count goes last): the
    record builds without it, and a record that had only that snapshot
    builds empty, not as an error."""
    w = one_snapshot(tmp_path / "x")
    builder, = w._records.values()
    # what a KeyboardInterrupt after the first appends leaves
    builder.start_ns.append(END_NS)
    builder.end_ns.append(END_NS + 100)
    builder.columns[0].append(np.array([0], np.uint64))
    rec, = w.recording().records
    assert rec.nr_snapshots == 1 and rec.starts.tolist() == [4096, 8192]
    w2 = RecordingWriter(str(tmp_path / "y"))
    w2.add_snapshot(0, 0, 1, 0, 100, [0], [4096], [1], [0], intervals=INTERVALS)
    b2, = w2._records.values()
    del b2.counts[:]                      # interrupted before its count
    rec2, = w2.recording().records
    assert rec2.nr_snapshots == 0 and len(rec2.starts) == 0 and rec2.starts.dtype == np.uint64
